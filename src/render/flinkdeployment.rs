//! Render phase: the FlinkDeployment of a pipeline (SPEC §4, §5, §7, §9.2).
//!
//! In: a checked pipeline, its image reference and its `tasks.json` (if any). Out: the
//! FlinkDeployment in the shape of the targeted operator: `resource: {cpu, memory}` for operator
//! 1.15, `resources: {requests, limits}` for 1.16.

use serde_json::{Map, Value, json};

use super::tasks::{FILE_NAME, MOUNT_DIR, configmap_name, sha256_hex};
use super::{Resource, metadata, object, pipeline_labels};
use crate::bundle::{JOB_DIR, PYTHON};
use crate::model::{
    ContainerResources, DeliveryTool, DeploymentMode, EnvValue, JobKind, Pipeline, Project, ScalingMode, StateBackend, UpgradeMode,
};
use crate::units::format_number;
use crate::versions::Operator;

/// Marks a bounded job's FlinkDeployment (SPEC §13.4).
pub const BOUNDED_ANNOTATION: &str = "flinkops.dev/bounded";
/// Argo CD's sync option that makes pruning wait for a person (SPEC §13.3).
pub const PRUNE_OPTION: (&str, &str) = ("argocd.argoproj.io/sync-options", "Prune=confirm");

/// Whether removing the pipeline from git must be confirmed in Argo CD before its objects are
/// pruned: a stateful job (its FlinkDeployment takes a final savepoint on deletion) and, so that
/// the job keeps its mounted configuration while it waits, its tasks ConfigMap (SPEC §13.3).
pub fn prune_needs_confirmation(project: &Project, p: &Pipeline) -> bool {
    project.delivery.tool == DeliveryTool::ArgoCd && matches!(p.job.upgrade_mode, UpgradeMode::Savepoint | UpgradeMode::LastState)
}

const MAIN_CONTAINER: &str = "flink-main-container";
const TASKS_VOLUME: &str = "flinkops-tasks";

/// The full flinkConfiguration: settings derived from typed fields, then the user's keys; sorted.
pub fn flink_configuration(p: &Pipeline) -> Map<String, Value> {
    let f = &p.flink;
    let keys = &f.version.minor.keys;
    let mut c: Vec<(String, String)> =
        vec![("taskmanager.numberOfTaskSlots".into(), f.slots.to_string()), ("state.backend.type".into(), f.state_backend.as_str().into())];
    if p.job.bounded {
        // A bounded job (SPEC §13.4) runs in BATCH mode, which does not checkpoint: it recovers by
        // re-running failed regions, and the operator re-runs the whole job on any spec change.
        c.push(("execution.runtime-mode".into(), "BATCH".into()));
    }
    if let Some(i) = &f.checkpoint_interval {
        c.push(("execution.checkpointing.interval".into(), i.to_string()));
    }
    if !p.job.bounded && f.state_backend == StateBackend::Rocksdb && !f.config.contains_key(keys.incremental) {
        // Full RocksDB checkpoints copy the whole state every interval; incremental ones upload
        // only new SST files (SPEC §13.6). A user's own setting wins.
        c.push((keys.incremental.into(), "true".into()));
    }
    if matches!(p.job.kind, JobKind::Python { .. } | JobKind::Sql { .. }) && f.image.is_none() {
        // The interpreter the bundle's Dockerfile installs PyFlink into, not whatever `python` is
        // first on PATH (SPEC §13.6). With an explicit `flink.image` flinkops cannot know it.
        for key in ["python.client.executable", "python.executable"] {
            if !f.config.contains_key(key) {
                c.push((key.into(), PYTHON.into()));
            }
        }
    }
    if let Some(d) = &f.checkpoint_dir {
        c.push((keys.checkpoint_dir.into(), d.clone()));
    }
    if let Some(d) = &f.savepoint_dir {
        c.push((keys.savepoint_dir.into(), d.clone()));
    }
    if f.high_availability {
        c.push(("high-availability.type".into(), "kubernetes".into()));
        if let Some(d) = &f.ha_dir {
            c.push(("high-availability.storageDir".into(), d.clone()));
        }
    }
    if matches!(p.job.upgrade_mode, UpgradeMode::Savepoint | UpgradeMode::LastState) {
        // Deleting the FlinkDeployment (e.g. removing the pipeline from git) takes a final savepoint.
        c.push(("kubernetes.operator.job.savepoint-on-deletion".into(), "true".into()));
    }
    if let Some(i) = &p.job.periodic_savepoint {
        c.push(("kubernetes.operator.periodic.savepoint.interval".into(), i.to_string()));
    }
    if p.autoscaling.mode.is_reactive_family() {
        c.push(("scheduler-mode".into(), "reactive".into()));
        for (k, v) in keys.adaptive_scheduler {
            c.push(((*k).into(), (*v).into()));
        }
    }
    if p.autoscaling.mode == ScalingMode::Operator {
        c.push(("jobmanager.scheduler".into(), "adaptive".into()));
        c.extend(p.autoscaling.operator_config.iter().cloned());
    }
    c.extend(f.config.iter().map(|(k, v)| (k.clone(), v.clone())));
    c.sort();
    c.into_iter().map(|(k, v)| (k, Value::String(v))).collect()
}

fn resources(operator: Operator, r: &ContainerResources) -> (&'static str, Value) {
    match operator {
        Operator::V1_15 => ("resource", json!({ "cpu": r.cpu, "memory": r.memory.to_flink_string() })),
        Operator::V1_16 => {
            let q = json!({ "cpu": format_number(r.cpu), "memory": r.memory.to_k8s_quantity() });
            ("resources", object([("requests", q.clone()), ("limits", q)]))
        }
    }
}

fn job_spec(p: &Pipeline) -> Value {
    let j = &p.job;
    let mut m = Map::new();
    match &j.kind {
        JobKind::Python { script } => {
            let folder = script.rsplit_once('/').map_or("", |(d, _)| d);
            m.insert("jarURI".into(), json!(p.flink.version.python_jar_uri()));
            m.insert("entryClass".into(), json!("org.apache.flink.client.python.PythonDriver"));
            let mut args = vec![
                "-py".to_string(),
                format!("{JOB_DIR}/{script}"),
                "-pyfs".to_string(),
                if folder.is_empty() { JOB_DIR.to_string() } else { format!("{JOB_DIR}/{folder}") },
            ];
            args.extend(j.args.iter().cloned());
            m.insert("args".into(), json!(args));
        }
        JobKind::Jar { jar, entry_class } => {
            m.insert("jarURI".into(), json!(format!("local://{JOB_DIR}/{jar}")));
            m.insert("entryClass".into(), json!(entry_class));
            if !j.args.is_empty() {
                m.insert("args".into(), json!(j.args));
            }
        }
        JobKind::Sql { sql } => {
            m.insert("jarURI".into(), json!(p.flink.version.python_jar_uri()));
            m.insert("entryClass".into(), json!("org.apache.flink.client.python.PythonDriver"));
            let mut args =
                vec!["-py".to_string(), crate::bundle::SQL_RUNNER_IN_IMAGE.to_string(), "--sql".to_string(), format!("{JOB_DIR}/{sql}")];
            args.extend(j.args.iter().cloned());
            m.insert("args".into(), json!(args));
        }
    }
    m.insert("parallelism".into(), json!(j.parallelism));
    m.insert("upgradeMode".into(), json!(j.upgrade_mode.as_str()));
    m.insert("state".into(), json!(j.state.as_str()));
    if let Some(s) = &j.initial_savepoint {
        m.insert("initialSavepointPath".into(), json!(s));
    }
    if j.allow_non_restored_state {
        m.insert("allowNonRestoredState".into(), json!(true));
    }
    if j.savepoint_nonce != 0 {
        m.insert("savepointTriggerNonce".into(), json!(j.savepoint_nonce));
    }
    if j.redeploy_nonce != 0 {
        m.insert("savepointRedeployNonce".into(), json!(j.redeploy_nonce));
    }
    Value::Object(m)
}

/// The Flink filesystem plugins a pipeline needs, for the official images'
/// `ENABLE_BUILT_IN_PLUGINS` (their entrypoint copies these jars from `opt/` to `plugins/`):
/// those of its state directories and initial savepoint, and of every URI in the params of its
/// enabled tasks (a file source such as `s3://archive/events/` is read through Flink's file
/// systems too). Without the plugin the job fails with "Could not find a file system
/// implementation for scheme 's3'".
pub fn filesystem_plugins(p: &Pipeline) -> Vec<String> {
    let v = p.flink.version;
    let mut uris: Vec<&str> = [&p.flink.checkpoint_dir, &p.flink.savepoint_dir, &p.flink.ha_dir, &p.job.initial_savepoint]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    for t in p.tasks.iter().filter(|t| t.enabled) {
        string_values(&t.params, &mut uris);
    }
    let mut plugins: Vec<String> = uris
        .into_iter()
        .filter_map(|uri| {
            let scheme = uri.split_once("://")?.0.to_ascii_lowercase();
            let plugin = match scheme.as_str() {
                // Presto's S3 filesystem is the one Flink recommends for checkpoints.
                "s3" | "s3p" => "flink-s3-fs-presto",
                "s3a" => "flink-s3-fs-hadoop",
                "gs" => "flink-gs-fs-hadoop",
                "oss" => "flink-oss-fs-hadoop",
                "abfs" | "abfss" | "wasb" | "wasbs" => "flink-azure-fs-hadoop",
                _ => return None,
            };
            Some(format!("{plugin}-{v}.jar"))
        })
        .collect();
    plugins.sort();
    plugins.dedup();
    plugins
}

/// Every string in a JSON value, depth first.
fn string_values<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| string_values(x, out)),
        Value::Object(m) => m.values().for_each(|x| string_values(x, out)),
        _ => {}
    }
}

fn pod_template(p: &Pipeline, tasks_json: Option<&str>) -> Option<Value> {
    let plugins = filesystem_plugins(p);
    let user_sets_plugins = p.flink.env.iter().any(|e| e.name == "ENABLE_BUILT_IN_PLUGINS");
    let plugin_env =
        (!plugins.is_empty() && !user_sets_plugins).then(|| json!({ "name": "ENABLE_BUILT_IN_PLUGINS", "value": plugins.join(";") }));
    let mut env: Vec<Value> = p
        .flink
        .env
        .iter()
        .map(|e| match &e.value {
            EnvValue::Literal(v) => json!({ "name": e.name, "value": v }),
            EnvValue::Secret { secret, key } => {
                json!({ "name": e.name, "valueFrom": { "secretKeyRef": { "name": secret, "key": key } } })
            }
        })
        .chain(plugin_env)
        .collect();
    env.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    if env.is_empty() && tasks_json.is_none() {
        return None;
    }
    let mut container = Map::new();
    container.insert("name".into(), json!(MAIN_CONTAINER));
    if !env.is_empty() {
        container.insert("env".into(), Value::Array(env));
    }
    let mut spec = Map::new();
    let mut template = Map::new();
    if tasks_json.is_some() {
        container.insert("volumeMounts".into(), json!([{ "name": TASKS_VOLUME, "mountPath": MOUNT_DIR, "readOnly": true }]));
    }
    spec.insert("containers".into(), Value::Array(vec![Value::Object(container)]));
    if let Some(t) = tasks_json {
        spec.insert(
            "volumes".into(),
            json!([{ "name": TASKS_VOLUME, "configMap": { "name": configmap_name(p), "items": [{ "key": FILE_NAME, "path": FILE_NAME }] } }]),
        );
        // The job reads tasks.json once at start; a changed hash changes the pod template, which
        // makes the operator upgrade the job (through its upgrade mode).
        template.insert("metadata".into(), json!({ "annotations": { "flinkops.dev/tasks-sha256": sha256_hex(t) } }));
    }
    template.insert("spec".into(), Value::Object(spec));
    Some(Value::Object(template))
}

pub fn render(project: &Project, p: &Pipeline, image: &str, tasks_json: Option<&str>) -> Resource {
    let mut annotations = Map::new();
    if prune_needs_confirmation(project, p) {
        annotations.insert(PRUNE_OPTION.0.into(), json!(PRUNE_OPTION.1));
    }
    if p.job.bounded {
        // Read by `diff`: any spec change of a finished bounded job makes the operator run it
        // again (SPEC §13.4, §15 `rerun`).
        annotations.insert(BOUNDED_ANNOTATION.into(), json!("true"));
    }
    let (res_key, jm_res) = resources(project.operator, &p.resources.jobmanager);
    let (_, tm_res) = resources(project.operator, &p.resources.taskmanager);
    let mut spec = Map::new();
    spec.insert("image".into(), json!(image));
    spec.insert("imagePullPolicy".into(), json!("IfNotPresent"));
    spec.insert("flinkVersion".into(), json!(p.flink.version.minor.crd_version));
    spec.insert("serviceAccount".into(), json!(p.flink.service_account));
    spec.insert(
        "mode".into(),
        json!(match p.flink.mode {
            DeploymentMode::Native => "native",
            DeploymentMode::Standalone => "standalone",
        }),
    );
    spec.insert("flinkConfiguration".into(), Value::Object(flink_configuration(p)));
    if let Some(t) = pod_template(p, tasks_json) {
        spec.insert("podTemplate".into(), t);
    }
    spec.insert("jobManager".into(), object([("replicas", 1.into()), (res_key, jm_res)]));
    let tm = if p.autoscaling.emit_replicas {
        object([("replicas", p.autoscaling.replicas.into()), (res_key, tm_res)])
    } else {
        // Native mode: the operator derives the TaskManager count from parallelism / slots.
        object([(res_key, tm_res)])
    };
    spec.insert("taskManager".into(), tm);
    spec.insert("job".into(), job_spec(p));
    if p.job.restart_nonce != 0 {
        spec.insert("restartNonce".into(), json!(p.job.restart_nonce));
    }
    let body = object([
        ("apiVersion", "flink.apache.org/v1beta1".into()),
        ("kind", "FlinkDeployment".into()),
        ("metadata", metadata(&p.name, Some(&p.namespace), pipeline_labels(project, p), annotations)),
        ("spec", Value::Object(spec)),
    ]);
    Resource::for_pipeline(p, body)
}
