//! Explain phase, what a pipeline emits and why: the paragraphs on its autoscaling mode, its
//! reconcile job (SPEC §16), its delivery unit and the objects that sync it, and its image.
//!
//! In: the checked [`Project`], the [`Compiled`] repository (envs, bundles) and one [`Pipeline`].
//! Out: sentences and (label, text) lines for [`Explanation`](super::Explanation); a
//! [`Reconcile`] value. Names of emitted objects come from the render module's naming functions,
//! the same ones that named the objects in `out/`.

use super::{deploy_mode, keda_trigger, parsed, uses_schedule};
use crate::compile::Compiled;
use crate::model::{DeliveryTool, JobKind, Pipeline, Project, ScalingMode, ScheduleStrategy};
use crate::render;

/// The level-triggered reconcile job of a `scheduled`/`scheduled_hpa` pipeline (SPEC §16).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reconcile {
    /// `<pipeline>-scaling-reconcile` runs every 5 minutes with the zone's offset table embedded.
    Job {
        /// The CronJob's name.
        cronjob: String,
        /// Rows of the embedded offset table.
        offset_rows: usize,
    },
    /// No reconcile job: the pipeline keeps edge-triggered CronJobs only.
    None {
        /// Why, e.g. an entry that is not weekly.
        why: String,
    },
}

/// SPEC §16: the reconcile job of a CronJob-scaled pipeline, or why it has none.
pub fn reconcile_of(project: &Project, p: &Pipeline) -> Option<Reconcile> {
    let a = &p.autoscaling;
    if !matches!(a.mode, ScalingMode::Scheduled | ScalingMode::ScheduledHpa) {
        return None;
    }
    if let Some(offsets) = &a.reconcile_offsets {
        return Some(Reconcile::Job { cronjob: render::scaler::reconcile_cronjob_name(p), offset_rows: offsets.len() });
    }
    let why = match a.schedule.iter().find(|e| parsed(e).is_none_or(|c| c.weekly_days().is_none())) {
        Some(e) => format!(
            "entry `{}` (`{}`) is not weekly: it restricts the day of the month or the month, so its last firing can lie \
             more than 7 days back",
            e.name, e.cron
        ),
        None if a.schedule.is_empty() => "the pipeline has no schedule entries".to_string(),
        None => format!("the zone's offset table is not available from schedule.valid_from {}", project.valid_from),
    };
    Some(Reconcile::None { why })
}

/// Paragraphs: what the autoscaling mode emits, how the schedule is converted, and whether a
/// reconcile job corrects missed firings.
pub fn mode_text(project: &Project, p: &Pipeline) -> Vec<String> {
    let a = &p.autoscaling;
    let mut out = vec![];
    let reactive = format!(
        "a FlinkDeployment in standalone mode with `scheduler-mode: reactive`, so Flink sets each vertex's parallelism from the \
         task slots present ({} per TaskManager; job.parallelism {} is only the initial value)",
        p.flink.slots, p.job.parallelism
    );
    let hpa = format!(
        "an HPA (autoscaling/v2) on the FlinkDeployment's scale subresource, cpu utilization target {}%, scaling up at most 100% \
         per 60 s (60 s window) and down at most 50% per 60 s (300 s window)",
        a.target_cpu_utilization
    );
    match a.mode {
        ScalingMode::Disabled => out.push(format!(
            "disabled: a {}-mode FlinkDeployment with a fixed count of {} TaskManager{} and parallelism {}; nothing changes the \
             count at run time.",
            deploy_mode(p.flink.mode),
            a.replicas,
            if a.replicas == 1 { "" } else { "s" },
            p.job.parallelism
        )),
        ScalingMode::Reactive => {
            out.push(format!("reactive: {reactive}, with a fixed taskManager.replicas = {}.", a.replicas));
        }
        ScalingMode::HpaReactive => {
            if a.hpa_alias {
                out.push(
                    "`hpa` is an alias of `hpa_reactive`: an HPA on a native-mode deployment restarts the whole job on every scale \
                     (the operator redeploys it with the new parallelism), so flinkops always pairs the HPA with Flink's reactive \
                     mode, in which the running job picks up added or removed TaskManagers itself."
                        .into(),
                );
            }
            out.push(format!("hpa_reactive: {reactive}; plus {hpa}, between {} and {} TaskManagers.", a.min_replicas, a.max_replicas));
        }
        ScalingMode::Scheduled => out.push(format!(
            "scheduled: {reactive}; plus one CronJob per schedule entry (several under `utc` when one UTC expression cannot \
             say it) that sets spec.taskManager.replicas with an idempotent `kubectl patch`, running as the ServiceAccount {} \
             whose Role may only get and patch this FlinkDeployment.",
            render::scaler::scaler_name(p)
        )),
        ScalingMode::ScheduledHpa => out.push(format!(
            "scheduled_hpa: {reactive}; plus {hpa}; plus one CronJob per schedule entry that patches the HPA's minReplicas and \
             maxReplicas, running as the ServiceAccount {} whose Role may only get and patch this HPA. The HPA committed in git \
             carries the pipeline's bounds {}–{}; the CronJobs narrow them by time of day.",
            render::scaler::scaler_name(p),
            a.min_replicas,
            a.max_replicas
        )),
        ScalingMode::Operator => {
            let keys: Vec<String> = a.operator_config.iter().map(|(k, v)| format!("{k}: \"{v}\"")).collect();
            out.push(format!(
                "operator: a native FlinkDeployment with the operator's own autoscaler ({}) and `jobmanager.scheduler: adaptive`, so \
                 the operator rescales vertices in place instead of redeploying; never together with an HPA. taskManager.replicas = {} \
                 is the starting count.",
                keys.join(", "),
                a.replicas
            ));
        }
        ScalingMode::Keda => {
            let triggers = a.schedule.iter().filter(|e| keda_trigger(p, e)).count();
            out.push(format!(
                "keda: {reactive}; plus a KEDA ScaledObject with minReplicaCount {} and maxReplicaCount {} (the pipeline's bounds), \
                 {triggers} cron trigger(s) (one per entry whose min_replicas exceeds {}: timezone {}, start = the entry's cron, end = \
                 its `end`, desiredReplicas = its min_replicas) and a cpu trigger at {}%. KEDA holds the highest trigger's count, so \
                 a window is a floor, not a cap: the cpu trigger still scales up to {} inside and outside the windows.",
                a.min_replicas, a.max_replicas, a.min_replicas, a.timezone, a.target_cpu_utilization, a.max_replicas
            ));
            for e in a.schedule.iter().filter(|e| !keda_trigger(p, e)) {
                out.push(format!(
                    "Entry `{}` gets no trigger: its min_replicas {} does not exceed the pipeline's {}, and a KEDA window can only \
                     raise the floor.",
                    e.name, e.min_replicas, a.min_replicas
                ));
            }
            for e in a.schedule.iter().filter(|e| e.max_replicas != a.max_replicas) {
                out.push(format!(
                    "Entry `{}` sets max_replicas {}, but KEDA cannot lower the cap below the pipeline's {}.",
                    e.name, e.max_replicas, a.max_replicas
                ));
            }
        }
    }
    if a.mode.count_managed_elsewhere() {
        let who = match project.delivery.tool {
            DeliveryTool::ArgoCd => "the Argo CD Application lists it under ignoreDifferences (with RespectIgnoreDifferences=true)",
            DeliveryTool::Flux => "the Flux Kustomization lists it under spec.ignore",
            DeliveryTool::None => "no delivery object is rendered (delivery.tool = none)",
        };
        let hpa_fields = if a.mode == ScalingMode::ScheduledHpa { " and the HPA's /spec/minReplicas and /spec/maxReplicas" } else { "" };
        out.push(format!(
            "GitOps-safe scaling (SPEC §6.4): the FlinkDeployment keeps taskManager.replicas = {} as the starting count (its scale \
             subresource reads that path); /spec/taskManager/replicas{hpa_fields} change at run time, so {who}.",
            a.replicas
        ));
    }
    if uses_schedule(a.mode) {
        let how = match (a.mode, a.strategy) {
            (ScalingMode::Keda, _) => format!("KEDA evaluates the crons in {} itself, so no conversion is needed.", a.timezone),
            (_, ScheduleStrategy::Utc) => format!(
                "Strategy utc: each entry's CronJobs carry UTC schedules that fire at exactly the entry's instants in {} from \
                 {} 00:00 UTC to 2100-01-01 (DST included){}.",
                a.timezone,
                project.valid_from,
                tz_note(a)
            ),
            (_, ScheduleStrategy::Native) => format!(
                "Strategy native: one CronJob per entry with the cron as written and spec.timeZone: {} (Kubernetes >= 1.27).",
                a.timezone
            ),
            (_, ScheduleStrategy::Guarded) => format!(
                "Strategy guarded: UTC schedules that fire at a superset of the entry's instants; the container's first step reads \
                 the scheduled minute from the Job's name and acts only if it is an instant of the entry in {} (the zone's offset \
                 changes until 2100 are embedded, no tz database needed){}.",
                a.timezone,
                tz_note(a)
            ),
        };
        out.push(how);
    }
    match reconcile_of(project, p) {
        Some(Reconcile::Job { cronjob, .. }) => out.push(format!(
            "Level-triggered (SPEC §16): the CronJob {cronjob} runs every 5 minutes (UTC) and applies the entry in force — the \
             latest firing in {} at or before that minute within the last 7 days, from the entries' weekdays and times and the \
             zone's embedded offset table — patching the {} only when the live values differ, so a first deploy, a re-created \
             object or a missed run is corrected within 5 minutes.",
            a.timezone,
            if a.mode == ScalingMode::ScheduledHpa { "HPA's minReplicas/maxReplicas" } else { "FlinkDeployment's taskManager.replicas" }
        )),
        Some(Reconcile::None { why }) => out.push(format!(
            "No reconcile job (SPEC §16): {why}. The CronJobs are edge-triggered only: after a first deploy, a re-created \
             object or a missed run, the bounds stay as they are until the next firing."
        )),
        None => {}
    }
    out
}

/// The clause on the CronJobs' `spec.timeZone`.
fn tz_note(a: &crate::model::Autoscaling) -> String {
    match &a.cronjob_time_zone {
        Some(tz) => format!("; spec.timeZone: {tz}"),
        None => "; no spec.timeZone (Kubernetes < 1.27: the controller's host zone is assumed to be UTC)".into(),
    }
}

/// The pipeline's delivery unit, what syncs it, and the namespace objects it relies on.
pub fn delivery_lines(project: &Project, c: &Compiled, p: &Pipeline) -> Vec<(String, String)> {
    use crate::layout;
    use crate::render::delivery as d;
    let mut out = vec![("unit".to_string(), format!("{}/ (its own kustomization.yaml)", layout::unit_dir(&p.env, &p.name)))];
    let env = c.envs.iter().find(|e| e.name == p.env);
    if let Some(env) = env {
        let (what, dir) = match project.delivery.tool {
            DeliveryTool::ArgoCd => (Some("Argo CD Application"), layout::ARGOCD_DIR),
            DeliveryTool::Flux => (Some("Flux Kustomization"), layout::FLUX_DIR),
            DeliveryTool::None => (None, ""),
        };
        match what {
            Some(what) => {
                out.push((
                    what.to_string(),
                    format!(
                        "{} in {}, created by {} in {}",
                        d::unit_name(project, env, &p.name),
                        layout::unit_file(dir, &p.env, &p.name),
                        d::root_name(project, env),
                        layout::root_file(dir, &p.env)
                    ),
                ));
            }
            None => out.push(("delivery".into(), "delivery.tool = \"none\": apply the unit with `kubectl apply -k`".into())),
        }
        let ns = &p.namespace;
        let sa = &p.flink.service_account;
        if env.manages_namespaces(project) {
            let dir = format!("{}/{ns}", layout::unit_dir(&p.env, layout::NAMESPACES_UNIT));
            out.push(("namespace".into(), format!("Namespace {ns} in {dir}/ (never pruned by Argo CD or Flux)")));
            out.push((
                "service account".into(),
                format!(
                    "ServiceAccount, Role and RoleBinding {sa} in {dir}/: the operator chart's job role \
                     (pods, configmaps; deployments, deployments/finalizers)"
                ),
            ));
        } else {
            out.push((
                "namespace".into(),
                format!(
                    "not managed (manage_namespaces = false): namespace {ns} and service account {sa} \
                     with the operator's job role must exist before the pipeline syncs"
                ),
            ));
        }
    }
    out
}

/// The FlinkDeployment's image reference and (label, text) lines describing it: bundle, tag, base
/// image, job.
pub fn image(project: &Project, c: &Compiled, p: &Pipeline) -> (String, Vec<(String, String)>) {
    let registry = project.defaults.registry.clone().unwrap_or_default();
    let mut image_text = vec![];
    let image = match (&p.flink.image, c.bundles.get(&p.job.bundle)) {
        (Some(img), _) => {
            image_text.push(("source".into(), "flink.image, used as-is (pinned); no image spec is emitted".into()));
            img.clone()
        }
        (None, Some(b)) => {
            image_text.push(("bundle".into(), format!("{} (out/images/{}/Dockerfile, image.json)", b.name, b.name)));
            image_text.push((
                "tag".into(),
                format!("{}: flink.version + first 12 hex of sha256 over the Dockerfile and {} bundled file(s)", b.tag, b.files.len()),
            ));
            image_text.push(("base".into(), b.base_image.clone()));
            if let Some(py) = &b.pyflink {
                image_text.push(("pyflink".into(), format!("apache-flink=={py}")));
            }
            if !b.connectors.is_empty() {
                let list: Vec<String> = b.connectors.iter().map(|(n, v, _)| format!("{n} {v}")).collect();
                image_text.push(("connectors".into(), list.join(", ")));
            }
            if !b.requirements.is_empty() {
                image_text.push(("requirements".into(), b.requirements.join(", ")));
            }
            b.reference(&registry)
        }
        (None, None) => format!("{registry}/{}:<unknown tag>", p.job.bundle),
    };
    let kind = match &p.job.kind {
        JobKind::Python { script } => format!("python, {script}"),
        JobKind::Jar { jar, entry_class } => format!("jar, {jar} ({entry_class})"),
        JobKind::Sql { sql } => format!("sql, {sql}"),
    };
    image_text.push(("job".into(), kind));
    (image, image_text)
}
