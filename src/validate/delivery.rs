//! Validate phase: what the GitOps tool can do (SPEC §6.4).
//!
//! In: the project's delivery settings and an env's pipelines. Out: an error when Flux is older
//! than 2.9 (no `spec.ignore` in kustomize-controller v1) and a mode needs a field left alone.

use crate::diag::{Code, Diagnostic, Diagnostics, Loc};
use crate::model::{DeliveryTool, Pipeline, Project};

/// `flux_version_at`: where `delivery.flux_version` is written (a note on each error).
pub fn check(project: &Project, pipelines: &[Pipeline], flux_version_at: Option<&Loc>, d: &mut Diagnostics) {
    if project.delivery.tool != DeliveryTool::Flux || project.delivery.flux_version >= (2, 9) {
        return;
    }
    let (maj, min) = project.delivery.flux_version;
    for p in pipelines.iter().filter(|p| p.autoscaling.mode.count_managed_elsewhere()) {
        let mut diag = Diagnostic::error(
            Code::FluxTooOld,
            format!(
                "pipeline `{}` uses autoscaling mode `{}`, which needs Flux 2.9 or newer; delivery.flux_version is {maj}.{min}",
                p.name,
                p.autoscaling.mode.as_str()
            ),
        )
        .at(p.places.autoscaling_mode.as_ref().unwrap_or(&p.places.file))
        .label("changes the TaskManager count at run time");
        if let Some(at) = flux_version_at {
            diag = diag.note_at(at, "delivery.flux_version is set at");
        }
        d.push(
            diag.note("before 2.9 Flux cannot ignore fields, so it would reset every change the autoscaler makes on its next interval")
                .help("upgrade Flux to 2.9+ and set flux_version = \"2.9\", or use a mode that works: disabled, reactive, operator"),
        );
    }
}
