//! Render phase: the GitOps objects that apply `out/<env>/` (SPEC §10, §6.4).
//!
//! In: the project, one env, the namespaces of that env's rendered objects and the fields its
//! pipelines leave to run-time controllers ([`runtime_fields`], gathered batch by batch). Out: the Argo CD Application
//! (`out/argocd/<env>.yaml`) or Flux Kustomization (`out/flux/<env>.yaml`), with the
//! ignore rules that keep Argo CD / Flux from resetting fields an HPA, KEDA or a scaling CronJob
//! changes at run time; and, for Flux, a Namespace object per namespace the env uses.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::{Resource, env_labels, metadata};
use crate::model::{DeliveryTool, Env, Pipeline, Project, ScalingMode};

/// A field changed at run time by something other than git: (group, kind, name, namespace, pointers).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RuntimeField {
    pub group: &'static str,
    pub kind: &'static str,
    pub name: String,
    pub namespace: String,
    pub pointers: Vec<&'static str>,
}

/// The run-time-managed fields of some of the env's pipelines (SPEC §6.4), sorted.
pub fn runtime_fields(pipelines: &[Pipeline]) -> Vec<RuntimeField> {
    let mut out = vec![];
    for p in pipelines {
        let mode = p.autoscaling.mode;
        if mode.count_managed_elsewhere() {
            out.push(RuntimeField {
                group: "flink.apache.org",
                kind: "FlinkDeployment",
                name: p.name.clone(),
                namespace: p.namespace.clone(),
                pointers: vec!["/spec/taskManager/replicas"],
            });
        }
        if mode == ScalingMode::ScheduledHpa {
            out.push(RuntimeField {
                group: "autoscaling",
                kind: "HorizontalPodAutoscaler",
                name: p.name.clone(),
                namespace: p.namespace.clone(),
                pointers: vec!["/spec/minReplicas", "/spec/maxReplicas"],
            });
        }
    }
    out.sort();
    out
}

/// The namespace Argo CD's destination and Flux's targetNamespace use for the env.
pub fn env_namespace(project: &Project, env: &Env, namespaces: &BTreeSet<String>) -> String {
    if namespaces.len() == 1 {
        return namespaces.iter().next().unwrap().clone();
    }
    env.namespace.clone().unwrap_or_else(|| project.defaults.namespace.clone())
}

fn app_name(project: &Project, env: &Env) -> String {
    format!("{}-{}", project.name, env.name)
}

fn sources(project_file: &str, env: &Env) -> Vec<String> {
    let mut s = vec![project_file.to_string()];
    s.extend(env.file.clone());
    s.sort();
    s
}

/// The Argo CD Application for one env.
/// `namespaces`: every namespace the env's objects live in.
/// `fields`: the run-time-managed fields of all the env's pipelines, sorted.
pub fn argocd(project: &Project, env: &Env, namespaces: &BTreeSet<String>, fields: &[RuntimeField], project_file: &str) -> Resource {
    let d = &project.delivery;
    let mut sync_options = vec!["CreateNamespace=true", "ServerSideApply=true"];
    if !fields.is_empty() {
        sync_options.push("RespectIgnoreDifferences=true");
    }
    let mut spec = Map::new();
    spec.insert("project".into(), json!(d.argocd_project));
    spec.insert(
        "source".into(),
        json!({ "repoURL": project.repo_url, "targetRevision": project.revision, "path": format!("out/{}", env.name) }),
    );
    spec.insert("destination".into(), json!({ "server": d.argocd_server, "namespace": env_namespace(project, env, namespaces) }));
    spec.insert("syncPolicy".into(), json!({ "automated": { "prune": d.prune, "selfHeal": d.self_heal }, "syncOptions": sync_options }));
    if !fields.is_empty() {
        let diffs: Vec<Value> = fields
            .iter()
            .map(|f| json!({ "group": f.group, "kind": f.kind, "name": f.name, "namespace": f.namespace, "jsonPointers": f.pointers }))
            .collect();
        spec.insert("ignoreDifferences".into(), Value::Array(diffs));
    }
    let name = app_name(project, env);
    Resource {
        api_version: "argoproj.io/v1alpha1".into(),
        kind: "Application".into(),
        name: name.clone(),
        namespace: Some(d.argocd_namespace.clone()),
        pipeline: None,
        body: json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": metadata(&name, Some(&d.argocd_namespace), env_labels(project, env), Map::new()),
            "spec": Value::Object(spec),
        }),
        sources: sources(project_file, env),
    }
}

/// The Flux Kustomization for one env.
/// `namespaces`: every namespace the env's objects live in.
/// `fields`: the run-time-managed fields of all the env's pipelines, sorted.
pub fn flux(project: &Project, env: &Env, namespaces: &BTreeSet<String>, fields: &[RuntimeField], project_file: &str) -> Resource {
    let d = &project.delivery;
    let mut spec = Map::new();
    spec.insert("interval".into(), json!(d.flux_interval));
    spec.insert("path".into(), json!(format!("./out/{}", env.name)));
    spec.insert("prune".into(), json!(d.prune));
    spec.insert("sourceRef".into(), json!({ "kind": "GitRepository", "name": d.flux_source }));
    if namespaces.len() == 1 {
        // Only safe when every object lives in that one namespace: it would move the others.
        spec.insert("targetNamespace".into(), json!(namespaces.iter().next().unwrap()));
    }
    if !fields.is_empty() {
        let rules: Vec<Value> = fields
            .iter()
            .map(|f| {
                json!({
                    "paths": f.pointers,
                    "target": { "group": f.group, "kind": f.kind, "name": f.name, "namespace": f.namespace },
                })
            })
            .collect();
        spec.insert("ignore".into(), Value::Array(rules));
    }
    let name = app_name(project, env);
    Resource {
        api_version: "kustomize.toolkit.fluxcd.io/v1".into(),
        kind: "Kustomization".into(),
        name: name.clone(),
        namespace: Some(d.flux_namespace.clone()),
        pipeline: None,
        body: json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": metadata(&name, Some(&d.flux_namespace), env_labels(project, env), Map::new()),
            "spec": Value::Object(spec),
        }),
        sources: sources(project_file, env),
    }
}

/// Namespace objects for Flux, which has no CreateNamespace.
pub fn namespaces(project: &Project, env: &Env, namespaces: &BTreeSet<String>, project_file: &str) -> Vec<Resource> {
    if project.delivery.tool != DeliveryTool::Flux {
        return vec![];
    }
    namespaces
        .iter()
        .map(String::as_str)
        .map(|ns| Resource {
            api_version: "v1".into(),
            kind: "Namespace".into(),
            name: ns.to_string(),
            namespace: None,
            pipeline: None,
            body: json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": metadata(ns, None, env_labels(project, env), Map::new()),
            }),
            sources: sources(project_file, env),
        })
        .collect()
}
