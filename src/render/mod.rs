//! Render phase: checked model in, Kubernetes objects out.
//!
//! In: [`Project`], [`Env`] and the env's [`Pipeline`]s (plus each pipeline's image reference
//! from the bundle step). Out: [`Resource`]s whose bodies are `serde_json::Value`s with keys in
//! the conventional order (apiVersion, kind, metadata, spec). Rendering cannot fail: everything
//! that could be wrong was rejected by validate.

pub mod delivery;
pub mod flinkdeployment;
pub mod hpa;
pub mod keda;
pub mod scaler;
pub mod tasks;

use serde_json::{Map, Value, json};

use crate::model::{Env, Pipeline, Project, ScalingMode};

/// One Kubernetes object and where it goes in `out/`.
#[derive(Debug, Clone)]
pub struct Resource {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    /// The pipeline it belongs to (`None` for env-level objects such as Namespaces).
    pub pipeline: Option<String>,
    pub body: Value,
    /// Repository-relative source files, sorted (for the header comment).
    pub sources: Vec<String>,
}

impl Resource {
    /// An object of pipeline `p`: in its namespace, its sources in the header. The identity
    /// fields are read from `body` (which holds apiVersion, kind and metadata.name), so they can
    /// never disagree with it.
    pub fn for_pipeline(p: &Pipeline, body: Value) -> Resource {
        let field = |v: &Value| v.as_str().expect("rendered objects have apiVersion, kind and name").to_string();
        Resource {
            api_version: field(&body["apiVersion"]),
            kind: field(&body["kind"]),
            name: field(&body["metadata"]["name"]),
            namespace: Some(p.namespace.clone()),
            pipeline: Some(p.name.clone()),
            body,
            sources: p.sources.clone(),
        }
    }

    /// `<pipeline>/<kind>-<name>.yaml`, or `<kind>-<name>.yaml` for env-level objects,
    /// relative to `out/<env>/`.
    pub fn file_name(&self) -> String {
        let f = format!("{}-{}.yaml", self.kind.to_ascii_lowercase(), self.name);
        match &self.pipeline {
            Some(p) => format!("{p}/{f}"),
            None => f,
        }
    }

    /// The API group (`flink.apache.org`; empty for the core group).
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }
}

/// The labels every object of a pipeline carries (SPEC §10), sorted.
pub fn pipeline_labels(project: &Project, p: &Pipeline) -> Map<String, Value> {
    let mut pairs: Vec<(String, String)> = vec![
        ("app.kubernetes.io/managed-by".into(), "flinkops".into()),
        ("app.kubernetes.io/part-of".into(), project.name.clone()),
        ("flinkops.dev/env".into(), p.env.clone()),
        ("flinkops.dev/pipeline".into(), p.name.clone()),
    ];
    pairs.extend(p.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    pairs.sort();
    pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect()
}

/// Labels of env-level objects (no pipeline label).
pub fn env_labels(project: &Project, env: &Env) -> Map<String, Value> {
    let mut pairs: Vec<(String, String)> = vec![
        ("app.kubernetes.io/managed-by".into(), "flinkops".into()),
        ("app.kubernetes.io/part-of".into(), project.name.clone()),
        ("flinkops.dev/env".into(), env.name.clone()),
    ];
    pairs.extend(env.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    pairs.sort();
    pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect()
}

/// An object with these fields, in this order. Rendered parts are moved in: `json!` would
/// serialize each interpolated `Value` again — a deep copy that cost a fifth of rendering.
pub fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// `metadata` with name, namespace and labels (and annotations when non-empty).
pub fn metadata(name: &str, namespace: Option<&str>, labels: Map<String, Value>, annotations: Map<String, Value>) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    if let Some(ns) = namespace {
        m.insert("namespace".into(), json!(ns));
    }
    m.insert("labels".into(), Value::Object(labels));
    if !annotations.is_empty() {
        m.insert("annotations".into(), Value::Object(annotations));
    }
    Value::Object(m)
}

/// Renders every object of one pipeline. `image` is the FlinkDeployment image reference.
pub fn pipeline(project: &Project, p: &Pipeline, image: &str) -> Vec<Resource> {
    let mut out = vec![];
    let tasks_json = tasks::tasks_json(&p.tasks);
    if let Some(json) = &tasks_json {
        out.push(tasks::configmap(project, p, json));
    }
    out.push(flinkdeployment::render(project, p, image, tasks_json.as_deref()));
    if matches!(p.autoscaling.mode, ScalingMode::HpaReactive | ScalingMode::ScheduledHpa) {
        out.push(hpa::render(project, p));
    }
    if p.autoscaling.mode == ScalingMode::Keda {
        out.push(keda::render(project, p));
    }
    out.extend(scaler::render(project, p));
    out
}
