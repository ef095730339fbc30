//! Explain phase, provenance: where each resolved setting of a pipeline came from, in the order
//! of SPEC §3's precedence.
//!
//! In: a compiled [`Pipeline`] with its [`Origins`](crate::model::Origins) (recorded by the
//! compile that kept it) and the [`Compiled`] repository (its sources, for line numbers, and its
//! project and envs). Out: [`Provenance`] rows — the setting, its value and `file:line (layer)`,
//! or the profile, derivation or built-in default that supplied it. Nothing is re-read: a key no
//! layer wrote holds the validator's default, so the default shown is the resolved value itself.

use super::{deploy_mode, num, strategy_name, uses_bounds, uses_schedule};
use crate::compile::Compiled;
use crate::model::{Layer, Origin, Pipeline, ScalingMode};

/// One resolved setting and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The setting, e.g. `namespace` or `schedule zone`.
    pub setting: String,
    /// Its resolved value.
    pub value: String,
    /// `file:line (layer)`, or a sentence for derived and built-in values.
    pub origin: String,
}

/// Reads one pipeline's origins as `file:line (layer)` text.
struct Written<'a> {
    c: &'a Compiled,
    p: &'a Pipeline,
}

impl Written<'_> {
    fn text(&self, o: &Origin) -> String {
        o.describe(&self.c.sources, &self.p.name)
    }
    /// A key of the pipeline's merged table (pipeline file, template or overlay).
    fn pipeline(&self, path: &str) -> Option<String> {
        self.p.origins.pipeline_key(path).map(|o| self.text(o))
    }
    /// A key of the overlay's `[env]`.
    fn env(&self, key: &str) -> Option<String> {
        self.p.origins.env_key(key).map(|o| self.text(o))
    }
    /// A key of `flinkops.toml`, as `section.key`.
    fn project(&self, path: &str) -> Option<String> {
        self.p.origins.project_key(path).map(|o| self.text(o))
    }
}

/// A value no layer wrote: the validator's default, which is the resolved value shown.
fn builtin(value: &str) -> String {
    format!("{} ({value})", Layer::BuiltIn.describe(""))
}

/// Every provenance row of `p`, whose image reference is `image`.
pub fn provenance(c: &Compiled, p: &Pipeline, image: &str) -> Vec<Provenance> {
    let a = &p.autoscaling;
    let w = Written { c, p };
    let mut out = vec![];
    let mut row = |setting: &str, value: String, origin: String| {
        out.push(Provenance { setting: setting.into(), value, origin });
    };
    row(
        "namespace",
        p.namespace.clone(),
        w.pipeline("namespace")
            .or_else(|| w.env("namespace"))
            .or_else(|| w.project("defaults.namespace"))
            .unwrap_or_else(|| builtin(&p.namespace)),
    );
    row(
        "autoscaling.mode",
        if a.hpa_alias { "hpa_reactive (written `hpa`)".into() } else { a.mode.as_str().into() },
        w.pipeline("autoscaling.mode").unwrap_or_else(|| builtin(a.mode.as_str())),
    );
    let zone_note = if uses_schedule(a.mode) { "" } else { " [not used by this mode]" };
    row(
        "schedule zone",
        format!("{}{zone_note}", a.timezone),
        w.pipeline("autoscaling.timezone")
            .or_else(|| w.env("timezone"))
            .or_else(|| w.project("defaults.timezone"))
            .unwrap_or_else(|| builtin(&a.timezone)),
    );
    row(
        "schedule_strategy",
        format!("{}{zone_note}", strategy_name(a.strategy)),
        w.pipeline("autoscaling.schedule_strategy")
            .or_else(|| w.project("defaults.schedule_strategy"))
            .unwrap_or_else(|| builtin(strategy_name(a.strategy))),
    );
    if uses_schedule(a.mode) {
        let (value, origin) = match p.origins.pipeline_key("autoscaling.schedule") {
            Some(Origin { layer: Layer::Preset(name), .. }) => {
                (format!("preset {name}"), w.pipeline("autoscaling.preset").unwrap_or_default())
            }
            Some(o) => (format!("{} [[autoscaling.schedule]] entries", a.schedule.len()), w.text(o)),
            None => (format!("{} entries", a.schedule.len()), "—".into()),
        };
        row("schedule", value, origin);
    }
    row(
        "resources.profile",
        p.resources.profile.to_string(),
        w.pipeline("resources.profile").unwrap_or_else(|| builtin(p.resources.profile.word())),
    );
    let profile = Layer::Profile(p.resources.profile.to_string()).describe(&p.name);
    let (jm, tm) = (&p.resources.jobmanager, &p.resources.taskmanager);
    row("TaskManager cpu", num(tm.cpu), w.pipeline("resources.taskmanager.cpu").unwrap_or_else(|| profile.clone()));
    row("TaskManager memory", tm.memory.to_flink_string(), w.pipeline("resources.taskmanager.memory").unwrap_or_else(|| profile.clone()));
    row("JobManager cpu", num(jm.cpu), w.pipeline("resources.jobmanager.cpu").unwrap_or_else(|| builtin(&num(jm.cpu))));
    row(
        "JobManager memory",
        jm.memory.to_flink_string(),
        w.pipeline("resources.jobmanager.memory").unwrap_or_else(|| builtin(&jm.memory.to_flink_string())),
    );
    if uses_bounds(a.mode) {
        let envelope = if a.schedule.is_empty() {
            format!("profile {} bounds (SPEC §5)", p.resources.profile)
        } else {
            "envelope of the schedule entries".to_string()
        };
        row("min_replicas", a.min_replicas.to_string(), w.pipeline("autoscaling.min_replicas").unwrap_or_else(|| envelope.clone()));
        row("max_replicas", a.max_replicas.to_string(), w.pipeline("autoscaling.max_replicas").unwrap_or_else(|| envelope.clone()));
    }
    let replicas_derived = if a.mode.count_managed_elsewhere() {
        "min_replicas (the starting count; run time changes it)".to_string()
    } else {
        format!("ceil(parallelism {} / slots {})", p.job.parallelism, p.flink.slots)
    };
    row("replicas", a.replicas.to_string(), w.pipeline("autoscaling.replicas").unwrap_or(replicas_derived));
    if matches!(a.mode, ScalingMode::HpaReactive | ScalingMode::ScheduledHpa | ScalingMode::Keda) {
        let target = a.target_cpu_utilization.to_string();
        row(
            "target_cpu_utilization",
            format!("{target}%"),
            w.pipeline("autoscaling.target_cpu_utilization").unwrap_or_else(|| builtin(&target)),
        );
    }
    row("flink.version", p.flink.version.to_string(), w.pipeline("flink.version").unwrap_or_else(|| "—".into()));
    row(
        "flink.mode",
        deploy_mode(p.flink.mode).into(),
        w.pipeline("flink.mode").unwrap_or_else(|| {
            if a.mode.is_reactive_family() {
                "derived: reactive-family modes need standalone".into()
            } else {
                builtin(deploy_mode(p.flink.mode))
            }
        }),
    );
    let manages =
        c.envs.iter().find(|e| e.name == p.env).zip(c.project.as_ref()).is_none_or(|(e, pr)| e.manages_namespaces(pr)).to_string();
    row(
        "manage_namespaces",
        manages.clone(),
        w.env("manage_namespaces").or_else(|| w.project("defaults.manage_namespaces")).unwrap_or_else(|| builtin(&manages)),
    );
    row(
        "service_account",
        p.flink.service_account.clone(),
        w.pipeline("flink.service_account")
            .or_else(|| w.project("defaults.service_account"))
            .unwrap_or_else(|| builtin(&p.flink.service_account)),
    );
    let j = &p.job;
    row("job.parallelism", j.parallelism.to_string(), w.pipeline("job.parallelism").unwrap_or_else(|| builtin(&j.parallelism.to_string())));
    row(
        "job.upgrade_mode",
        j.upgrade_mode.as_str().into(),
        w.pipeline("job.upgrade_mode").unwrap_or_else(|| builtin(j.upgrade_mode.as_str())),
    );
    row("job.state", j.state.as_str().to_string(), w.pipeline("job.state").unwrap_or_else(|| builtin(j.state.as_str())));
    row("job.bounded", j.bounded.to_string(), w.pipeline("job.bounded").unwrap_or_else(|| builtin(&j.bounded.to_string())));
    row(
        "checkpoint_interval",
        p.flink.checkpoint_interval.as_ref().map_or_else(|| "none (BATCH: execution.runtime-mode BATCH)".into(), ToString::to_string),
        w.pipeline("flink.checkpoint_interval").unwrap_or_else(|| match &p.flink.checkpoint_interval {
            Some(every) => builtin(every.as_str()),
            None => "derived: a bounded job does not checkpoint (SPEC §13.4)".into(),
        }),
    );
    let conf = crate::render::flinkdeployment::flink_configuration(p);
    let incremental = p.flink.version.minor.keys.incremental;
    if let Some(v) = conf.get(incremental).and_then(|v| v.as_str()) {
        let origin = if p.flink.config.contains_key(incremental) {
            w.pipeline(&format!("flink.config.{incremental}")).unwrap_or_else(|| "[flink.config]".into())
        } else {
            "derived: rocksdb checkpoints are incremental (SPEC §13.6)".into()
        };
        row("incremental checkpoints", v.into(), origin);
    }
    let periodic_origin = w.pipeline("job.periodic_savepoint").unwrap_or_else(|| match &j.periodic_savepoint {
        Some(_) => "derived: standalone without HA keeps a recent savepoint (SPEC §13.6)".into(),
        None => builtin("off"),
    });
    row("job.periodic_savepoint", j.periodic_savepoint.as_ref().map_or_else(|| "off".into(), ToString::to_string), periodic_origin);
    if let Some(py) = conf.get("python.executable").and_then(|v| v.as_str()) {
        let origin = if p.flink.config.contains_key("python.executable") {
            w.pipeline("flink.config.python.executable").unwrap_or_else(|| "[flink.config]".into())
        } else {
            "derived: the bundle's interpreter, where the Dockerfile installs PyFlink (SPEC §13.6)".into()
        };
        row("python.executable", py.into(), origin);
    }
    match &p.flink.image {
        Some(_) => row("image", image.into(), w.pipeline("flink.image").unwrap_or_default()),
        None => {
            row("job.bundle", j.bundle.clone(), w.pipeline("job.bundle").unwrap_or_else(|| "default: the pipeline name".into()));
            row(
                "defaults.registry",
                c.project.as_ref().and_then(|x| x.defaults.registry.clone()).unwrap_or_default(),
                w.project("defaults.registry").unwrap_or_else(|| "—".into()),
            );
        }
    }
    let valid_from = c.project.as_ref().map(|x| x.valid_from.to_string()).unwrap_or_default();
    row("schedule.valid_from", valid_from.clone(), w.project("schedule.valid_from").unwrap_or_else(|| builtin(&valid_from)));
    out
}
