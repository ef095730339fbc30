//! Validate phase: what the GitOps tool can do (SPEC §6.4).
//!
//! In: the project's delivery settings and an env's pipelines. Out: an error when Flux is older
//! than 2.9 (no `spec.ignore` in kustomize-controller v1) and a mode needs a field left alone.

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::{DeliveryTool, Pipeline, Project};

pub fn check(project: &Project, pipelines: &[Pipeline], d: &mut Diagnostics) {
    if project.delivery.tool != DeliveryTool::Flux || project.delivery.flux_version >= (2, 9) {
        return;
    }
    let (maj, min) = project.delivery.flux_version;
    for p in pipelines.iter().filter(|p| p.autoscaling.mode.count_managed_elsewhere()) {
        d.push(
            Diagnostic::error(format!(
                "pipeline `{}` uses autoscaling mode `{}`, which needs Flux 2.9 or newer; delivery.flux_version is {maj}.{min}",
                p.name,
                p.autoscaling.mode.as_str()
            ))
            .note("before 2.9 Flux cannot ignore fields, so it would reset every change the autoscaler makes on its next interval")
            .help("upgrade Flux to 2.9+ and set flux_version = \"2.9\", or use a mode that works: disabled, reactive, operator"),
        );
    }
}
