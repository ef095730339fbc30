//! Validate phase: the `[cluster]` capacity budget (SPEC §7).
//!
//! In: the env's pipelines' maximum usage and the budget. Out: an error when the worst case — every JobManager plus
//! every pipeline at its maximum TaskManager count — does not fit, naming the biggest consumers.

use crate::diag::{Code, Diagnostic, Diagnostics, Loc};
use crate::model::{Env, Pipeline, Project, ScalingMode};
use crate::units::format_number;

/// The most TaskManagers a pipeline can run.
pub fn max_taskmanagers(p: &Pipeline) -> u32 {
    match p.autoscaling.mode {
        ScalingMode::Disabled | ScalingMode::Reactive | ScalingMode::Operator => p.autoscaling.replicas,
        _ => p.autoscaling.max_replicas.max(p.autoscaling.replicas),
    }
}

/// What one pipeline takes at most: every JobManager plus its maximum TaskManagers.
#[derive(Debug, Clone)]
pub struct Usage {
    pub name: String,
    pub cpu: f64,
    /// Bytes.
    pub memory: u64,
}

pub fn usage(p: &Pipeline) -> Usage {
    let n = max_taskmanagers(p);
    Usage {
        name: p.name.clone(),
        cpu: p.resources.jobmanager.cpu + f64::from(n) * p.resources.taskmanager.cpu,
        memory: p.resources.jobmanager.memory.0 + u64::from(n) * p.resources.taskmanager.memory.0,
    }
}

/// Checks the env's whole usage (one [`Usage`] per pipeline) against its budget. `budget_at`:
/// where the budget in force is written (the overlay's `[cluster]`, else flinkops.toml's).
pub fn check(project: &Project, env: &Env, usage: Vec<Usage>, budget_at: Option<&Loc>, d: &mut Diagnostics) {
    let Some(cap) = env.cluster.or(project.cluster) else { return };
    let mut usage: Vec<(String, f64, u64)> = usage.into_iter().map(|u| (u.name, u.cpu, u.memory)).collect();
    let cpu: f64 = usage.iter().map(|u| u.1).sum();
    let mem: u64 = usage.iter().map(|u| u.2).sum();
    let gib = |b: u64| format!("{:.1}Gi", b as f64 / (1u64 << 30) as f64);
    if cpu <= cap.cpu + 1e-9 && mem <= cap.memory.0 {
        return;
    }
    usage.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    let top: Vec<String> =
        usage.iter().take(3).map(|(n, c, m)| format!("{n} ({} cpu, {})", format_number((c * 1000.0).round() / 1000.0), gib(*m))).collect();
    d.push(
        Diagnostic::error(
            Code::CapacityExceeded,
            format!(
                "environment `{}` needs up to {} cpu and {} at maximum scale, but [cluster] allows {} cpu and {}",
                env.name,
                format_number((cpu * 1000.0).round() / 1000.0),
                gib(mem),
                format_number(cap.cpu),
                gib(cap.memory.0)
            ),
        )
        .at_opt(budget_at)
        .label("the budget")
        .note("counted: every JobManager plus every pipeline's maximum TaskManagers × their resources")
        .note(format!("biggest consumers: {}", top.join(", ")))
        .help("lower max_replicas or profiles of the biggest consumers, or raise the [cluster] budget"),
    );
}
