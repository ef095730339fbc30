//! Explain phase (after [`crate::compile`], beside render): one compiled pipeline in one
//! environment, explained for people.
//!
//! In: the [`Compiled`] result of a run without errors that kept its pipelines (each with the
//! origins of its settings and the objects emitted for it), one of those [`Pipeline`]s and the
//! [`Options`] of the window (`--from`, `--days`, firings per entry, `--at`).
//! Out: an [`Explanation`] value — what the autoscaling mode emits and why, the objects emitted,
//! resources with Flink's memory breakdown, the image, the week's replica bounds in local time,
//! every schedule entry with its CronJobs (or KEDA trigger) and next firings, DST transitions in
//! the window, a cost estimate, ignored keys, the day-2 state and where each resolved value came
//! from — rendered as plain text ([`Explanation::to_text`]) or as an SVG step chart of the week's
//! bounds ([`Explanation::to_svg`]). Nothing here reads the disk, prints or writes files.
//!
//! Parts: `lookup` finds the pipeline, `week` walks time, `cost` and `provenance` compute their
//! rows, `emits` words what the pipeline emits, `text` and `svg` render.
//! Everything is deterministic: the window starts at `--from` (default `schedule.valid_from`),
//! never at "now", and all times come from the tz database compiled into the binary.

mod cost;
mod emits;
mod lookup;
mod provenance;
mod svg;
mod text;
mod week;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

pub use cost::Cost;
pub use emits::Reconcile;
pub use lookup::{LookupError, find};
pub use provenance::Provenance;
pub use week::{EntryInfo, InForceInfo, Segment, TransitionInfo, WEEK_MINUTES, Week};

use crate::compile::Compiled;
use crate::model::{DeploymentMode, Pipeline, Project, ScalingMode, ScheduleEntry, ScheduleStrategy};
use crate::schedule::Cron;
use crate::units::MemorySize;
use crate::validate::memory::{self, Breakdown, Role};

/// What to explain besides the pipeline itself.
#[derive(Debug, Clone)]
pub struct Options {
    /// First day of the window, 00:00 in the schedule's zone (`None`: `schedule.valid_from`).
    pub from: Option<NaiveDate>,
    /// Length of the window in days (DST transitions are listed inside it).
    pub days: u32,
    /// Next firings listed per schedule entry.
    pub firings: usize,
    /// The instant at which to show the schedule entry in force (SPEC §16); `None`: not shown.
    /// The library never reads the clock; the CLI passes "now" by default.
    pub at: Option<DateTime<Utc>>,
}

impl Default for Options {
    fn default() -> Self {
        Options { from: None, days: 7, firings: 5, at: None }
    }
}

/// Everything `explain` shows about one pipeline in one environment.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The pipeline explained, as resolved for its environment, with the objects emitted for it
    /// ([`Pipeline::objects`]).
    pub pipeline: Pipeline,
    /// `flinkops.toml`, checked.
    pub project: Project,
    /// The schedule zone (`autoscaling.timezone`, else the resolved timezone).
    pub zone: Tz,
    /// First day of the window (`--from`, default `schedule.valid_from`).
    pub from: NaiveDate,
    /// Length of the window in days.
    pub days: u32,
    /// Window start (00:00 local on `from`) and end (00:00 local `days` later) as instants.
    pub window: (DateTime<Utc>, DateTime<Utc>),
    /// Paragraphs: what the mode emits and why.
    pub mode_text: Vec<String>,
    /// (label, text) lines: the pipeline's delivery unit, the Argo CD / Flux object that syncs it,
    /// and the namespace and Flink service account it relies on (SPEC §13.2, §14).
    pub delivery: Vec<(String, String)>,
    /// The FlinkDeployment image reference.
    pub image: String,
    /// (label, text) lines describing the image: bundle, tag, base image, job.
    pub image_text: Vec<(String, String)>,
    /// Flink's memory breakdown per role (JobManager, TaskManager), or the error text.
    pub memory: Vec<(Role, MemorySize, Result<Breakdown, String>)>,
    /// The week of replica bounds in local time.
    pub week: Week,
    /// Every schedule entry (empty for modes without a schedule).
    pub entries: Vec<EntryInfo>,
    /// Offset changes of the zone inside the window.
    pub transitions: Vec<TransitionInfo>,
    /// `scheduled`/`scheduled_hpa`: the reconcile job, or why there is none.
    pub reconcile: Option<Reconcile>,
    /// `scheduled`/`scheduled_hpa` with `--at`: the entry in force at that instant.
    pub in_force: Option<InForceInfo>,
    /// The cost estimate over the week.
    pub cost: Cost,
    /// Where the resolved values came from.
    pub provenance: Vec<Provenance>,
}

/// Explains `p`, one pipeline of the compiled repository `c` (compiled with its pipelines kept).
pub fn explain(c: &Compiled, p: &Pipeline, opts: &Options) -> Explanation {
    let project = c.project.clone().expect("a compiled repository without errors has a project");
    let zone: Tz = p.autoscaling.timezone.parse().unwrap_or(Tz::UTC);
    let from = opts.from.unwrap_or(project.valid_from);
    let days = opts.days.max(1);
    let midnight = |d: NaiveDate| week::local_to_utc(zone, d.and_hms_opt(0, 0, 0).expect("midnight exists"));
    let window = (midnight(from), midnight(from + Duration::days(i64::from(days))));
    let (image, image_text) = emits::image(&project, c, p);
    let memory = [(Role::JobManager, p.resources.jobmanager.memory), (Role::TaskManager, p.resources.taskmanager.memory)]
        .into_iter()
        .map(|(role, size)| (role, size, memory::check(role, size, &p.flink.config).map_err(|e| e.to_string())))
        .collect();
    let week = week::week(p, zone, from);
    let cost = cost::cost(p, &week);
    let reconcile = emits::reconcile_of(&project, p);
    let in_force = match (&reconcile, opts.at) {
        (Some(_), Some(at)) => Some(week::in_force_at(p, zone, at)),
        _ => None,
    };
    Explanation {
        pipeline: p.clone(),
        zone,
        from,
        days,
        window,
        mode_text: emits::mode_text(&project, p),
        delivery: emits::delivery_lines(&project, c, p),
        provenance: provenance::provenance(c, p, &image),
        image,
        image_text,
        memory,
        entries: week::entries(p, zone, window.0, opts.firings),
        transitions: week::transitions_in(p, zone, window.0, window.1),
        week,
        reconcile,
        in_force,
        cost,
        project,
    }
}

// Small facts about a pipeline that several parts read.

/// The entry's cron, parsed.
fn parsed(e: &ScheduleEntry) -> Option<Cron> {
    Some(*e.cron.cron())
}

/// Modes whose bounds follow schedule entries.
fn uses_schedule(mode: ScalingMode) -> bool {
    matches!(mode, ScalingMode::Scheduled | ScalingMode::ScheduledHpa | ScalingMode::Keda)
}

/// Modes with a floor and a cap (HPA, KEDA, CronJobs) rather than one count.
fn uses_bounds(mode: ScalingMode) -> bool {
    !matches!(mode, ScalingMode::Disabled | ScalingMode::Reactive | ScalingMode::Operator)
}

/// KEDA: whether the entry becomes a cron trigger (only a window that raises the floor does).
fn keda_trigger(p: &Pipeline, e: &ScheduleEntry) -> bool {
    e.min_replicas > p.autoscaling.min_replicas
}

/// A number as the spec writes it (`0.5`, `2`).
fn num(x: f64) -> String {
    crate::units::format_number(x)
}

/// The strategy as written in the spec.
fn strategy_name(s: ScheduleStrategy) -> &'static str {
    match s {
        ScheduleStrategy::Utc => "utc",
        ScheduleStrategy::Native => "native",
        ScheduleStrategy::Guarded => "guarded",
    }
}

/// The deployment mode as written in the spec.
fn deploy_mode(m: DeploymentMode) -> &'static str {
    match m {
        DeploymentMode::Native => "native",
        DeploymentMode::Standalone => "standalone",
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::model::Layer;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
    }

    fn compiled(root: &Path) -> Compiled {
        let c = crate::compile::compile(root, &Default::default());
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        c
    }

    #[test]
    fn origins_name_the_layer_that_won_and_its_line() {
        let c = compiled(&fixture("overlays-precedence"));
        let dev = find(&c, "pos-events", Some("dev")).unwrap();
        let layer = |p: &Pipeline, path: &str| p.origins.pipeline_key(path).map(|o| o.layer.clone());
        assert_eq!(layer(dev, "resources.profile"), Some(Layer::OverlayPipeline));
        assert_eq!(layer(dev, "resources.taskmanager.memory"), Some(Layer::PipelineFile));
        assert_eq!(layer(dev, "flink.version"), Some(Layer::Template));
        assert_eq!(layer(dev, "flink.config.pipeline.max-parallelism"), Some(Layer::Template));
        assert_eq!(layer(dev, "namespace"), None);
        assert_eq!(dev.origins.env_key("namespace").map(|o| o.layer.clone()), Some(Layer::OverlayEnv));
        assert_eq!(dev.origins.project_key("defaults.timezone").map(|o| o.layer.clone()), Some(Layer::Project("defaults".into())));
        let profile = dev.origins.pipeline_key("resources.profile").unwrap();
        assert_eq!(profile.describe(&c.sources, &dev.name), "overlays/dev/overlay.toml:9 (overlay [pipelines.pos-events])");
        // Staging's overlay deep-merges one [flink.config] key over the template's.
        let staging = find(&c, "pos-events", Some("staging")).unwrap();
        assert_eq!(layer(staging, "flink.config.pipeline.max-parallelism"), Some(Layer::OverlayPipeline));
        assert_eq!(layer(staging, "resources.profile"), Some(Layer::Template));
        assert_eq!(staging.origins.env_key("namespace"), None);
    }

    #[test]
    fn a_preset_is_the_origin_of_the_schedule() {
        let c = compiled(Path::new(env!("CARGO_MANIFEST_DIR")));
        let p = find(&c, "flink-realtime-features", Some("prod")).unwrap();
        let schedule = p.origins.pipeline_key("autoscaling.schedule").unwrap();
        assert_eq!(schedule.layer, Layer::Preset("workday_peak".into()));
        assert_eq!(Some(&schedule.at), p.origins.pipeline_key("autoscaling.preset").map(|o| &o.at));
    }

    #[test]
    fn kept_objects_are_the_files_emitted() {
        let c = compiled(&fixture("overlays-precedence"));
        assert!(!c.pipelines.is_empty());
        for p in &c.pipelines {
            let env_dir = format!("out/{}/", p.env);
            let mut emitted: Vec<&str> = c
                .files
                .keys()
                .filter_map(|f| f.strip_prefix(&env_dir))
                .filter(|f| f.starts_with(&format!("{}/", p.name)) && !f.ends_with("/kustomization.yaml"))
                .collect();
            let mut kept: Vec<&str> = p.objects.iter().map(|o| o.file.as_str()).collect();
            emitted.sort_unstable();
            kept.sort_unstable();
            assert!(!kept.is_empty(), "{} in {}", p.name, p.env);
            assert_eq!(kept, emitted, "{} in {}", p.name, p.env);
        }
    }

    #[test]
    fn explain_reads_nothing_once_compiled() {
        let dir = tempfile::tempdir().unwrap();
        let from = fixture("overlays-precedence");
        for e in walkdir::WalkDir::new(&from) {
            let e = e.unwrap();
            let dest = dir.path().join(e.path().strip_prefix(&from).unwrap());
            if e.file_type().is_dir() {
                std::fs::create_dir_all(&dest).unwrap();
            } else {
                std::fs::copy(e.path(), &dest).unwrap();
            }
        }
        let c = compiled(dir.path());
        let before = explain(&c, find(&c, "pos-audit", Some("dev")).unwrap(), &Options::default()).to_text();
        drop(dir);
        let after = explain(&c, find(&c, "pos-audit", Some("dev")).unwrap(), &Options::default()).to_text();
        assert_eq!(before, after);
        assert!(after.contains("overlays/dev/overlay.toml:13 (overlay [pipelines.pos-audit])"), "{after}");
    }
}
