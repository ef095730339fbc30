//! Render phase: the tasks ConfigMap (`<pipeline>-tasks` holding `tasks.json`, SPEC §9.2).
//!
//! In: the pipeline's compiled tasks. Out: the exact `tasks.json` text (keys sorted, 2-space
//! indent, trailing newline) and the ConfigMap that carries it.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::flinkdeployment::{PRUNE_OPTION, prune_needs_confirmation};
use super::{Resource, metadata, pipeline_labels};
use crate::model::{Pipeline, Project, Task};

/// Where the Flink containers see `tasks.json`.
pub const MOUNT_DIR: &str = "/opt/flink/conf/flinkops";
pub const FILE_NAME: &str = "tasks.json";

/// Sorts object keys at every depth (serde_json with preserve_order keeps insertion order).
pub fn sort_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sort_keys(&m[k]))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// `tasks.json`, or `None` when the pipeline has no `[[tasks]]`.
pub fn tasks_json(tasks: &[Task]) -> Option<String> {
    if tasks.is_empty() {
        return None;
    }
    let mut m = Map::new();
    for t in tasks {
        m.insert(t.name.clone(), json!({ "enabled": t.enabled, "params": t.params }));
    }
    let doc = sort_keys(&json!({ "tasks": Value::Object(m) }));
    let mut s = serde_json::to_string_pretty(&doc).expect("JSON values always serialize");
    s.push('\n');
    Some(s)
}

/// Hex sha256 of a text (the pod-template annotation that restarts the job on a change).
pub fn sha256_hex(s: &str) -> String {
    let d = Sha256::digest(s.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn configmap_name(p: &Pipeline) -> String {
    format!("{}-tasks", p.name)
}

pub fn configmap(project: &Project, p: &Pipeline, tasks_json: &str) -> Resource {
    let name = configmap_name(p);
    let mut annotations = Map::new();
    if prune_needs_confirmation(project, p) {
        // Same as the FlinkDeployment: a removed pipeline must not lose its mounted tasks.json
        // while its FlinkDeployment still waits for confirmation (SPEC §13.3).
        annotations.insert(PRUNE_OPTION.0.into(), json!(PRUNE_OPTION.1));
    }
    let body = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(&name, Some(&p.namespace), pipeline_labels(project, p), annotations),
        "data": { FILE_NAME: tasks_json },
    });
    Resource::for_pipeline(p, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_json_has_sorted_keys_two_space_indent_and_trailing_newline() {
        let tasks = vec![
            Task { name: "b-task".into(), enabled: false, params: json!({"z": 1, "a": {"y": true, "b": "x"}}) },
            Task { name: "a-task".into(), enabled: true, params: json!({}) },
        ];
        let s = tasks_json(&tasks).unwrap();
        let expected = "{\n  \"tasks\": {\n    \"a-task\": {\n      \"enabled\": true,\n      \"params\": {}\n    },\n    \"b-task\": {\n      \"enabled\": false,\n      \"params\": {\n        \"a\": {\n          \"b\": \"x\",\n          \"y\": true\n        },\n        \"z\": 1\n      }\n    }\n  }\n}\n";
        assert_eq!(s, expected);
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        // sha256("abc") from FIPS 180-2, appendix B.1.
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
