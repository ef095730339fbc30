//! The JSON Schemas of a pipeline spec, `flinkops.toml` and an overlay (`flinkops schema`), for editors (e.g. Taplo / Even Better
//! TOML) to complete keys and flag typos while typing. Validation proper is the validate phase:
//! this schema states the shape (keys, types, enums), not the cross-field rules.
//!
//! In: nothing. Out: a JSON Schema (draft 2020-12) value. A test keeps its property lists equal
//! to the key lists the validator accepts.

use serde_json::{Value, json};

use crate::validate::pipeline::{MODES, PRESETS, PROFILES};

fn closed(description: &str, properties: Value) -> Value {
    json!({ "type": "object", "description": description, "additionalProperties": false, "properties": properties })
}

fn secret_ref() -> Value {
    json!({
        "type": "object",
        "description": "A value read from a Kubernetes Secret (never a literal)",
        "additionalProperties": false,
        "required": ["secret", "key"],
        "properties": { "secret": { "type": "string" }, "key": { "type": "string" } },
    })
}

fn strings() -> Value {
    json!({ "type": "array", "items": { "type": "string" } })
}

fn container() -> Value {
    closed(
        "Explicit resources; override the profile",
        json!({
            "cpu": { "type": "number", "exclusiveMinimum": 0 },
            "memory": { "type": "string", "description": "Flink notation such as \"2048m\" or \"4g\"" },
        }),
    )
}

/// The schema of `pipelines/*.toml` (and templates, which are partial pipelines).
pub fn pipeline_schema() -> Value {
    let profiles: Vec<&str> = PROFILES.iter().map(|p| p.name).collect();
    let entry = closed(
        "One scaling window (local time in autoscaling.timezone)",
        json!({
            "name": { "type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" },
            "cron": { "type": "string", "description": "5 fields or an @-shortcut, Kubernetes syntax" },
            "min_replicas": { "type": "integer", "minimum": 1 },
            "max_replicas": { "type": "integer", "minimum": 1 },
            "replicas": { "type": "integer", "minimum": 1 },
            "end": { "type": "string", "description": "keda only: when the window closes" },
        }),
    );
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://flinkops.dev/schema/pipeline.json",
        "title": "flinkops pipeline spec",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "extends": { "type": "string", "description": "A template under templates/, relative to the repository root" },
            "name": { "type": "string", "maxLength": 45, "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" },
            "namespace": { "type": "string" },
            "description": { "type": "string" },
            "labels": { "type": "object", "additionalProperties": { "type": "string" } },
            "flink": closed("The Flink runtime", json!({
                "version": { "type": "string", "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+$" },
                "java": { "type": "integer" },
                "mode": { "enum": ["native", "standalone"] },
                "image": { "type": "string" },
                "service_account": { "type": "string" },
                "slots": { "type": "integer", "minimum": 1 },
                "state_backend": { "enum": ["hashmap", "rocksdb", "forst"] },
                "checkpoint_interval": { "type": "string" },
                "checkpoint_dir": { "type": "string" },
                "savepoint_dir": { "type": "string" },
                "high_availability": { "type": "boolean" },
                "ha_dir": { "type": "string" },
                "config": { "type": "object", "additionalProperties": { "type": ["string", "number", "boolean"] } },
                "env": { "type": "object", "additionalProperties": { "oneOf": [ { "type": "string" }, secret_ref() ] } },
            })),
            "job": closed("The job and its bundle image", json!({
                "kind": { "enum": ["python", "jar", "sql"] },
                "bundle": { "type": "string" },
                "parallelism": { "type": "integer", "minimum": 1 },
                "upgrade_mode": { "enum": ["stateless", "savepoint", "last-state"] },
                "state": { "enum": ["running", "suspended"] },
                "initial_savepoint": { "type": "string" },
                "allow_non_restored_state": { "type": "boolean" },
                "savepoint_nonce": { "type": "integer", "minimum": 0 },
                "redeploy_nonce": { "type": "integer", "minimum": 0 },
                "restart_nonce": { "type": "integer", "minimum": 0 },
                "periodic_savepoint": { "type": "string" },
                "args": strings(),
                "script": { "type": "string" },
                "requirements": { "type": "array", "items": { "type": "string", "pattern": "^[^=<>~!]+==[^=]+$" } },
                "jar": { "type": "string" },
                "entry_class": { "type": "string" },
                "sql": { "type": "string" },
                "connectors": strings(),
                "exclude": strings(),
            })),
            "resources": closed("Container resources", json!({
                "profile": { "enum": profiles },
                "jobmanager": container(),
                "taskmanager": container(),
            })),
            "autoscaling": closed("How the TaskManager count changes", json!({
                "mode": { "enum": MODES },
                "replicas": { "type": "integer", "minimum": 1 },
                "min_replicas": { "type": "integer", "minimum": 1 },
                "max_replicas": { "type": "integer", "minimum": 1 },
                "target_cpu_utilization": { "type": "integer", "minimum": 1, "maximum": 100 },
                "timezone": { "type": "string" },
                "schedule_strategy": { "enum": ["utc", "native", "guarded"] },
                "preset": { "enum": PRESETS },
                "schedule": { "type": "array", "items": entry },
                "operator": closed("The operator's autoscaler (job.autoscaler.*)", json!({
                    "utilization_target": { "type": "number" },
                    "metrics_window": { "type": "string" },
                    "stabilization_interval": { "type": "string" },
                    "scale_down_interval": { "type": "string" },
                    "vertex_max_parallelism": { "type": "integer", "minimum": 1 },
                })),
            })),
            "tasks": { "type": "array", "items": closed("A named task of a multi-task job", json!({
                "name": { "type": "string" },
                "enabled": { "type": "boolean" },
                "params": { "type": "object" },
            })) },
        },
    })
}

fn dns_label(description: &str) -> Value {
    json!({ "type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63, "description": description })
}

fn cluster() -> Value {
    closed(
        "A capacity budget: generate fails when the env's pipelines could need more",
        json!({
            "cpu": { "type": "number", "exclusiveMinimum": 0 },
            "memory": { "type": "string", "description": "e.g. \"128Gi\"" },
        }),
    )
}

fn manage_namespaces() -> Value {
    json!({
        "type": "boolean",
        "description": "Emit the _namespaces unit: a Namespace per namespace holding a FlinkDeployment, and a ServiceAccount, Role and RoleBinding per Flink service account in it (default true; false when a platform team provides them)",
    })
}

/// The schema of `flinkops.toml`.
pub fn project_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://flinkops.dev/schema/project.json",
        "title": "flinkops project settings (flinkops.toml)",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "project": closed("The project", json!({
                "name": dns_label("Used in labels and GitOps object names"),
                "repo_url": { "type": "string", "description": "What Argo CD / Flux pull" },
                "revision": { "type": "string" },
            })),
            "target": closed("What the output runs on", json!({
                "operator": { "enum": ["1.15", "1.16"] },
                "kubernetes": { "type": "string", "pattern": "^1\\.[0-9]+$" },
            })),
            "defaults": closed("What every pipeline inherits unless it or the overlay says otherwise", json!({
                "namespace": dns_label("Namespace of the pipelines' objects"),
                "timezone": { "type": "string", "description": "IANA time-zone name" },
                "schedule_strategy": { "enum": crate::validate::project::STRATEGIES },
                "registry": { "type": "string", "description": "Where bundle images are pushed" },
                "service_account": dns_label("The Flink service account"),
                "manage_namespaces": manage_namespaces(),
            })),
            "schedule": closed("The schedule horizon", json!({
                "valid_from": { "type": "string", "format": "date" },
            })),
            "scaler": closed("The scaling CronJobs", json!({
                "image": { "type": "string", "description": "Pinned image with sh, date and kubectl" },
            })),
            "delivery": closed("How Argo CD or Flux apply out/", json!({
                "tool": { "enum": ["argocd", "flux", "none"] },
                "argocd_namespace": { "type": "string" },
                "argocd_project": { "type": "string" },
                "argocd_server": { "type": "string" },
                "flux_namespace": { "type": "string" },
                "flux_source": { "type": "string", "description": "Name of the GitRepository Flux already has" },
                "flux_version": { "type": "string", "pattern": "^[0-9]+\\.[0-9]+$" },
                "flux_interval": { "type": "string" },
                "self_heal": { "type": "boolean" },
                "prune": { "type": "boolean" },
                "flux_shards": {
                    "type": "integer", "minimum": 0, "maximum": 1024,
                    "description": "Label each pipeline's Flux Kustomization sharding.fluxcd.io/key: shard<k> over this many kustomize-controller shards (0: off)",
                },
            })),
            "cluster": cluster(),
        },
    })
}

/// The schema of `overlays/<env>/overlay.toml`.
pub fn overlay_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://flinkops.dev/schema/overlay.json",
        "title": "flinkops environment overlay",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "env": closed("Settings of the environment", json!({
                "namespace": dns_label("Namespace of the env's pipelines"),
                "timezone": { "type": "string", "description": "IANA time-zone name" },
                "labels": { "type": "object", "additionalProperties": { "type": "string" } },
                "manage_namespaces": manage_namespaces(),
            })),
            "cluster": cluster(),
            "pipelines": { "type": "object", "description": "Per-pipeline overrides, merged over the pipeline file", "additionalProperties": { "type": "object" } },
            "patches": { "type": "array", "items": { "type": "object" }, "description": "RFC 6902 JSON patches" },
            "merge_patches": { "type": "array", "items": { "type": "object" }, "description": "RFC 7396 merge patches" },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::pipeline as p;

    fn keys(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v["properties"].as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    }

    fn sorted(k: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = k.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn schema_properties_are_exactly_the_keys_the_validator_accepts() {
        let s = pipeline_schema();
        assert_eq!(keys(&s), sorted(p::PIPELINE_KEYS));
        assert_eq!(keys(&s["properties"]["flink"]), sorted(p::FLINK_KEYS));
        assert_eq!(keys(&s["properties"]["job"]), sorted(p::JOB_KEYS));
        assert_eq!(keys(&s["properties"]["resources"]), sorted(p::RESOURCES_KEYS));
        assert_eq!(keys(&s["properties"]["resources"]["properties"]["taskmanager"]), sorted(p::CONTAINER_KEYS));
        assert_eq!(keys(&s["properties"]["autoscaling"]), sorted(p::AUTOSCALING_KEYS));
        assert_eq!(keys(&s["properties"]["autoscaling"]["properties"]["schedule"]["items"]), sorted(p::ENTRY_KEYS));
        assert_eq!(keys(&s["properties"]["autoscaling"]["properties"]["operator"]), sorted(p::OPERATOR_KEYS));
        assert_eq!(keys(&s["properties"]["tasks"]["items"]), sorted(p::TASK_KEYS));
    }

    #[test]
    fn project_and_overlay_schemas_have_exactly_the_keys_the_validator_accepts() {
        use crate::validate::project as v;
        let s = project_schema();
        assert_eq!(keys(&s), sorted(v::TOP_KEYS));
        for (section, known) in [
            ("project", v::PROJECT_KEYS),
            ("target", v::TARGET_KEYS),
            ("defaults", v::DEFAULTS_KEYS),
            ("schedule", v::SCHEDULE_KEYS),
            ("scaler", v::SCALER_KEYS),
            ("delivery", v::DELIVERY_KEYS),
            ("cluster", v::CLUSTER_KEYS),
        ] {
            assert_eq!(keys(&s["properties"][section]), sorted(known), "[{section}]");
        }
        let o = overlay_schema();
        assert_eq!(keys(&o), sorted(v::OVERLAY_KEYS));
        assert_eq!(keys(&o["properties"]["env"]), sorted(v::ENV_KEYS));
        assert_eq!(keys(&o["properties"]["cluster"]), sorted(v::CLUSTER_KEYS));
    }
}
