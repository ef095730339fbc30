//! Render phase: the HorizontalPodAutoscaler (autoscaling/v2) of `hpa_reactive` and
//! `scheduled_hpa` pipelines (SPEC §6.1).
//!
//! In: a checked pipeline. Out: an HPA on the FlinkDeployment's scale subresource with the
//! pipeline's bounds, cpu utilization target and the scale-up/scale-down behaviour of §6.1.

use serde_json::{Map, json};

use super::{Resource, metadata, pipeline_labels};
use crate::model::{Pipeline, Project};

pub fn render(project: &Project, p: &Pipeline) -> Resource {
    let a = &p.autoscaling;
    let body = json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(&p.name, Some(&p.namespace), pipeline_labels(project, p), Map::new()),
        "spec": {
            "scaleTargetRef": { "apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment", "name": p.name },
            "minReplicas": a.min_replicas,
            "maxReplicas": a.max_replicas,
            "metrics": [{
                "type": "Resource",
                "resource": { "name": "cpu", "target": { "type": "Utilization", "averageUtilization": a.target_cpu_utilization } },
            }],
            "behavior": {
                "scaleUp": {
                    "stabilizationWindowSeconds": 60,
                    "policies": [{ "type": "Percent", "value": 100, "periodSeconds": 60 }],
                },
                "scaleDown": {
                    "stabilizationWindowSeconds": 300,
                    "policies": [{ "type": "Percent", "value": 50, "periodSeconds": 60 }],
                },
            },
        },
    });
    Resource::for_pipeline(p, body)
}
