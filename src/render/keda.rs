//! Render phase: the KEDA ScaledObject of `keda` pipelines (SPEC §6.1).
//!
//! In: a checked pipeline. Out: a ScaledObject on the FlinkDeployment with the pipeline's bounds,
//! a `cron` trigger per entry that raises the floor (start, end, zone, desired count — every
//! metadata value a string) and a `cpu` trigger. KEDA holds the highest trigger's count.

use serde_json::{Map, json};

use super::{Resource, metadata, pipeline_labels};
use crate::model::{Pipeline, Project};

pub fn render(project: &Project, p: &Pipeline) -> Resource {
    let a = &p.autoscaling;
    let mut triggers: Vec<serde_json::Value> = a
        .schedule
        .iter()
        .filter(|e| e.min_replicas > a.min_replicas)
        .map(|e| {
            json!({
                "type": "cron",
                "name": e.name,
                "metadata": {
                    "timezone": a.timezone,
                    "start": e.cron.as_str(),
                    "end": e.end.as_ref().map_or("", |c| c.as_str()),
                    "desiredReplicas": e.min_replicas.to_string(),
                },
            })
        })
        .collect();
    triggers.push(
        json!({ "type": "cpu", "name": "cpu", "metricType": "Utilization", "metadata": { "value": a.target_cpu_utilization.to_string() } }),
    );
    let body = json!({
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": metadata(&p.name, Some(&p.namespace), pipeline_labels(project, p), Map::new()),
        "spec": {
            "scaleTargetRef": { "apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment", "name": p.name },
            "minReplicaCount": a.min_replicas,
            "maxReplicaCount": a.max_replicas,
            "triggers": triggers,
        },
    });
    Resource::for_pipeline(p, body)
}
