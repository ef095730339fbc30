//! Render phase: the GitOps objects that apply `out/<env>/`, one delivery unit per pipeline
//! (SPEC §14, §10, §6.4), and the `_namespaces` unit they depend on (SPEC §13.2).
//!
//! In: the project, one env, a pipeline with the fields it leaves to run-time controllers
//! ([`runtime_fields`]), or the env's namespaces with their Flink service accounts. Out: per
//! env a root Argo CD Application (app of apps) or Flux Kustomization (Kustomization of
//! Kustomizations); per unit an Application / Kustomization carrying exactly that unit's ignore
//! rules, which keep Argo CD / Flux from resetting fields an HPA, KEDA or a scaling CronJob
//! changes at run time; and the Namespace, ServiceAccount, Role and RoleBinding objects of the
//! `_namespaces` unit.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::scaler::shorten;
use super::{Resource, env_labels, metadata, pipeline_labels};
use crate::layout::{self, ARGOCD_DIR, FLUX_DIR, NAMESPACES_UNIT};
use crate::model::{Env, Pipeline, Project, ScalingMode};

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

/// Longest Application / Kustomization name: Argo CD copies the Application name into the
/// `app.kubernetes.io/instance` label of every object it tracks, and label values stop at 63.
pub const MAX_UNIT_NAME: usize = 63;

/// The root object's name: `<project>-<env>`.
pub fn root_name(project: &Project, env: &Env) -> String {
    shorten(&format!("{}-{}", project.name, env.name), MAX_UNIT_NAME)
}

/// A unit's Application / Kustomization name: `<project>-<env>-<pipeline>`, or
/// `<project>-<env>-namespaces` for [`NAMESPACES_UNIT`]; over 63 characters, §10's hash rule.
pub fn unit_name(project: &Project, env: &Env, unit: &str) -> String {
    let unit = if unit == NAMESPACES_UNIT { "namespaces" } else { unit };
    shorten(&format!("{}-{}-{unit}", project.name, env.name), MAX_UNIT_NAME)
}

/// The shard of a pipeline's Flux Kustomization (SPEC §14): the first 4 bytes of
/// sha256(pipeline name), big-endian, mod `shards`. Stable across runs and machines, so a
/// pipeline never moves between controllers unless `flux_shards` changes.
pub fn flux_shard(pipeline: &str, shards: u32) -> u32 {
    let h = Sha256::digest(pipeline.as_bytes());
    u32::from_be_bytes([h[0], h[1], h[2], h[3]]) % shards
}

fn sources(project_file: &str, env: &Env) -> Vec<String> {
    let mut s = vec![project_file.to_string()];
    s.extend(env.file.clone());
    s.sort();
    s
}

/// A pipeline's own sources plus flinkops.toml (where the delivery settings come from).
fn pipeline_sources(project_file: &str, p: &Pipeline) -> Vec<String> {
    let mut s: BTreeSet<String> = p.sources.iter().cloned().collect();
    s.insert(project_file.to_string());
    s.into_iter().collect()
}

fn gitops_object(
    api_version: &str,
    kind: &str,
    name: String,
    namespace: &str,
    labels: Map<String, Value>,
    annotations: Map<String, Value>,
    spec: Map<String, Value>,
) -> Value {
    super::object([
        ("apiVersion", json!(api_version)),
        ("kind", json!(kind)),
        ("metadata", metadata(&name, Some(namespace), labels, annotations)),
        ("spec", Value::Object(spec)),
    ])
}

fn resource(body: Value, pipeline: Option<&str>, sources: Vec<String>) -> Resource {
    let field = |v: &Value| v.as_str().expect("GitOps objects have apiVersion, kind and name").to_string();
    Resource {
        api_version: field(&body["apiVersion"]),
        kind: field(&body["kind"]),
        name: field(&body["metadata"]["name"]),
        namespace: body["metadata"]["namespace"].as_str().map(str::to_string),
        pipeline: pipeline.map(str::to_string),
        body,
        sources,
    }
}

/// `spec` of an Argo CD Application syncing `path` into `namespace` (none: the objects all name
/// their own), automated per `[delivery]`.
fn argocd_spec(project: &Project, path: String, namespace: Option<&str>, sync_options: &[&str]) -> Map<String, Value> {
    let d = &project.delivery;
    let mut spec = Map::new();
    spec.insert("project".into(), json!(d.argocd_project));
    spec.insert("source".into(), json!({ "repoURL": project.repo_url, "targetRevision": project.revision, "path": path }));
    let mut dest = Map::new();
    dest.insert("server".into(), json!(d.argocd_server));
    if let Some(ns) = namespace {
        dest.insert("namespace".into(), json!(ns));
    }
    spec.insert("destination".into(), Value::Object(dest));
    let mut sync = Map::new();
    sync.insert("automated".into(), json!({ "prune": d.prune, "selfHeal": d.self_heal }));
    if !sync_options.is_empty() {
        sync.insert("syncOptions".into(), json!(sync_options));
    }
    spec.insert("syncPolicy".into(), Value::Object(sync));
    spec
}

/// The env's root Argo CD Application (`out/argocd/<env>.yaml`): an app of apps that applies the
/// plain directory `out/argocd/<env>/` of per-unit Applications into Argo CD's namespace. No
/// ignore rules: the units carry their own.
pub fn argocd_root(project: &Project, env: &Env, project_file: &str) -> Resource {
    let d = &project.delivery;
    let mut spec = argocd_spec(project, layout::root_dir(ARGOCD_DIR, &env.name), Some(&d.argocd_namespace), &[]);
    // A plain directory of Applications, never built with kustomize (there is no
    // kustomization.yaml there, and recursing could only pick up something that is not ours).
    spec["source"]["directory"] = json!({ "recurse": false });
    let body = gitops_object(
        "argoproj.io/v1alpha1",
        "Application",
        root_name(project, env),
        &d.argocd_namespace,
        env_labels(project, env),
        Map::new(),
        spec,
    );
    resource(body, None, sources(project_file, env))
}

/// The Argo CD Application of one pipeline (`out/argocd/<env>/<pipeline>.yaml`): syncs
/// `out/<env>/<pipeline>` into the pipeline's namespace with exactly its ignore rules.
/// `fields`: the pipeline's run-time-managed fields ([`runtime_fields`] of it alone).
pub fn argocd_pipeline(project: &Project, env: &Env, p: &Pipeline, fields: &[RuntimeField], project_file: &str) -> Resource {
    let d = &project.delivery;
    let options = ["CreateNamespace=true", "ServerSideApply=true", "RespectIgnoreDifferences=true"];
    let mut spec = argocd_spec(project, layout::unit_dir(&env.name, &p.name), Some(&p.namespace), &options);
    if !fields.is_empty() {
        let diffs: Vec<Value> = fields
            .iter()
            .map(|f| json!({ "group": f.group, "kind": f.kind, "name": f.name, "namespace": f.namespace, "jsonPointers": f.pointers }))
            .collect();
        spec.insert("ignoreDifferences".into(), Value::Array(diffs));
    }
    let body = gitops_object(
        "argoproj.io/v1alpha1",
        "Application",
        unit_name(project, env, &p.name),
        &d.argocd_namespace,
        pipeline_labels(project, p),
        Map::new(),
        spec,
    );
    resource(body, Some(&p.name), pipeline_sources(project_file, p))
}

/// The Argo CD Application of the `_namespaces` unit (`out/argocd/<env>/_namespaces.yaml`), in
/// sync wave -1 so that the root creates it before the pipelines' Applications.
pub fn argocd_namespaces(project: &Project, env: &Env, project_file: &str) -> Resource {
    let d = &project.delivery;
    // No destination namespace: the unit holds Namespaces and objects that name theirs.
    let spec = argocd_spec(project, layout::unit_dir(&env.name, NAMESPACES_UNIT), None, &["ServerSideApply=true"]);
    let mut annotations = Map::new();
    annotations.insert("argocd.argoproj.io/sync-wave".into(), json!("-1"));
    let body = gitops_object(
        "argoproj.io/v1alpha1",
        "Application",
        unit_name(project, env, NAMESPACES_UNIT),
        &d.argocd_namespace,
        env_labels(project, env),
        annotations,
        spec,
    );
    resource(body, None, sources(project_file, env))
}

/// `spec` of a Flux Kustomization applying `path` (no `targetNamespace`: every object names its
/// namespace, and it would move the ones that name another).
fn flux_spec(project: &Project, path: String) -> Map<String, Value> {
    let d = &project.delivery;
    let mut spec = Map::new();
    spec.insert("interval".into(), json!(d.flux_interval));
    spec.insert("path".into(), json!(format!("./{path}")));
    spec.insert("prune".into(), json!(d.prune));
    spec.insert("sourceRef".into(), json!({ "kind": "GitRepository", "name": d.flux_source }));
    spec
}

/// The env's root Flux Kustomization (`out/flux/<env>.yaml`): applies the plain directory
/// `out/flux/<env>/` of per-unit Kustomizations. No ignore rules: the units carry their own.
pub fn flux_root(project: &Project, env: &Env, project_file: &str) -> Resource {
    let d = &project.delivery;
    let spec = flux_spec(project, layout::root_dir(FLUX_DIR, &env.name));
    let body = gitops_object(
        "kustomize.toolkit.fluxcd.io/v1",
        "Kustomization",
        root_name(project, env),
        &d.flux_namespace,
        env_labels(project, env),
        Map::new(),
        spec,
    );
    resource(body, None, sources(project_file, env))
}

/// The Flux Kustomization of one pipeline (`out/flux/<env>/<pipeline>.yaml`): applies
/// `out/<env>/<pipeline>` after the namespaces unit (when the env has one), ignoring exactly the
/// pipeline's run-time-managed fields, labelled with its controller shard when
/// `flux_shards` is set.
pub fn flux_pipeline(
    project: &Project,
    env: &Env,
    p: &Pipeline,
    fields: &[RuntimeField],
    namespaces_unit: bool,
    project_file: &str,
) -> Resource {
    let d = &project.delivery;
    let mut spec = flux_spec(project, layout::unit_dir(&env.name, &p.name));
    if namespaces_unit {
        spec.insert("dependsOn".into(), json!([{ "name": unit_name(project, env, NAMESPACES_UNIT) }]));
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
    let mut labels = pipeline_labels(project, p);
    if d.flux_shards > 0 {
        labels.insert("sharding.fluxcd.io/key".into(), json!(format!("shard{}", flux_shard(&p.name, d.flux_shards))));
        labels.sort_keys();
    }
    let body = gitops_object(
        "kustomize.toolkit.fluxcd.io/v1",
        "Kustomization",
        unit_name(project, env, &p.name),
        &d.flux_namespace,
        labels,
        Map::new(),
        spec,
    );
    resource(body, Some(&p.name), pipeline_sources(project_file, p))
}

/// The Flux Kustomization of the `_namespaces` unit (`out/flux/<env>/_namespaces.yaml`); the
/// pipelines' Kustomizations depend on it.
pub fn flux_namespaces(project: &Project, env: &Env, project_file: &str) -> Resource {
    let d = &project.delivery;
    let spec = flux_spec(project, layout::unit_dir(&env.name, NAMESPACES_UNIT));
    let body = gitops_object(
        "kustomize.toolkit.fluxcd.io/v1",
        "Kustomization",
        unit_name(project, env, NAMESPACES_UNIT),
        &d.flux_namespace,
        env_labels(project, env),
        Map::new(),
        spec,
    );
    resource(body, None, sources(project_file, env))
}

/// The rules the Flink Kubernetes Operator's Helm chart gives the Flink job role, which the
/// JobManager needs to create TaskManager pods, its ConfigMaps (HA, leader election) and — in
/// native mode — its own Deployment. From release-1.15.0
/// helm/flink-kubernetes-operator/templates/rbac/_helpers.tpl, `define
/// "flink-operator.jobRbacRules"` (used by templates/flink/role.yaml for each watched
/// namespace): core `pods`, `configmaps`; `apps` `deployments`, `deployments/finalizers`; verbs
/// get, list, watch, create, update, patch, delete.
fn job_role_rules() -> Value {
    let verbs = json!(["get", "list", "watch", "create", "update", "patch", "delete"]);
    json!([
        { "apiGroups": [""], "resources": ["pods", "configmaps"], "verbs": verbs },
        { "apiGroups": ["apps"], "resources": ["deployments", "deployments/finalizers"], "verbs": verbs },
    ])
}

/// The objects of one namespace in the `_namespaces` unit (SPEC §13.2): the Namespace, kept
/// when the last pipeline leaves (neither Argo CD nor Flux prunes it: it may hold things that
/// are not ours), and for each Flink service account its ServiceAccount, Role and RoleBinding
/// (the chart creates those only in the namespaces it watches). `Resource::pipeline` is `None`;
/// the caller places the files under `_namespaces/<namespace>/`.
pub fn namespace_objects(
    project: &Project,
    env: &Env,
    namespace: &str,
    service_accounts: &BTreeSet<String>,
    project_file: &str,
) -> Vec<Resource> {
    let labels = || env_labels(project, env);
    let src = || sources(project_file, env);
    let mut annotations = Map::new();
    annotations.insert("argocd.argoproj.io/sync-options".into(), json!("Prune=false"));
    annotations.insert("kustomize.toolkit.fluxcd.io/prune".into(), json!("disabled"));
    let mut out = vec![resource(
        super::object([
            ("apiVersion", json!("v1")),
            ("kind", json!("Namespace")),
            ("metadata", metadata(namespace, None, labels(), annotations)),
        ]),
        None,
        src(),
    )];
    for sa in service_accounts {
        let meta = || metadata(sa, Some(namespace), labels(), Map::new());
        out.push(resource(
            super::object([("apiVersion", json!("v1")), ("kind", json!("ServiceAccount")), ("metadata", meta())]),
            None,
            src(),
        ));
        out.push(resource(
            super::object([
                ("apiVersion", json!("rbac.authorization.k8s.io/v1")),
                ("kind", json!("Role")),
                ("metadata", meta()),
                ("rules", job_role_rules()),
            ]),
            None,
            src(),
        ));
        out.push(resource(
            super::object([
                ("apiVersion", json!("rbac.authorization.k8s.io/v1")),
                ("kind", json!("RoleBinding")),
                ("metadata", meta()),
                ("roleRef", json!({ "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": sa })),
                ("subjects", json!([{ "kind": "ServiceAccount", "name": sa, "namespace": namespace }])),
            ]),
            None,
            src(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_is_the_first_four_sha256_bytes_big_endian_mod_n() {
        // Expected values computed independently with Python:
        //   v = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big"); v % n
        // flink-realtime-features → 0xb2f31434, orders → 0x1c168adb.
        let cases = [
            ("flink-realtime-features", [(2, 0), (3, 1), (4, 0), (7, 5), (10, 8), (16, 4)]),
            ("user-features-backfill-2024-10", [(2, 1), (3, 1), (4, 3), (7, 6), (10, 5), (16, 11)]),
            ("p00000", [(2, 0), (3, 2), (4, 2), (7, 5), (10, 8), (16, 2)]),
            ("orders", [(2, 1), (3, 2), (4, 3), (7, 3), (10, 7), (16, 11)]),
        ];
        for (name, by_n) in cases {
            for (n, k) in by_n {
                assert_eq!(flux_shard(name, n), k, "{name} mod {n}");
            }
            assert_eq!(flux_shard(name, 1), 0);
        }
    }
}
