//! Explain phase (after [`crate::compile`], beside render): one compiled pipeline in one
//! environment, explained for people.
//!
//! In: the repository root, the [`Compiled`] result of a run without errors, one of its
//! [`Pipeline`]s and the [`Options`] of the window (`--from`, `--days`, firings per entry).
//! Out: an [`Explanation`] value — what the autoscaling mode emits and why, the objects it
//! renders, resources with Flink's memory breakdown, the image, the week's replica bounds in local
//! time, every schedule entry with its CronJobs (or KEDA trigger) and next firings, DST
//! transitions in the window, a cost estimate, ignored keys, the day-2 state and where each
//! resolved value came from — rendered as plain text ([`Explanation::to_text`]) or as an SVG step
//! chart of the week's bounds ([`Explanation::to_svg`]). Nothing here prints or writes files.
//!
//! The model carries no source spans, so provenance is recomputed by re-reading the spanned spec
//! tree ([`crate::spec::load`]) and applying the precedence of SPEC §3 to it.
//! Everything is deterministic: the window starts at `--from` (default `schedule.valid_from`),
//! never at "now", and all times come from the tz database compiled into the binary.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::compile::Compiled;
use crate::diag::{Diagnostics, Sources};
use crate::model::{DeliveryTool, DeploymentMode, JobKind, Pipeline, Project, ScalingMode, ScheduleEntry, ScheduleStrategy};
use crate::render;
use crate::schedule::{Cron, Firing, in_force, next_firings, transitions};
use crate::spec::{self, Entry, Table, Value};
use crate::validate::memory::{self, Breakdown, MemorySize, Role};

/// Minutes in a week: the x range of the week table and chart (Mon 00:00 .. Sun 24:00 local).
pub const WEEK_MINUTES: u32 = 7 * 1440;

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

/// Why a pipeline could not be picked out of a compiled repository.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// No pipeline of that name in the environment.
    #[error("unknown pipeline `{name}` (env: {env})")]
    UnknownPipeline {
        name: String,
        /// The environment searched (every environment, comma-separated, when none was named).
        env: String,
        /// The nearest known name, if any is close.
        suggestion: Option<String>,
        /// Every pipeline of the environment, sorted.
        known: Vec<String>,
    },
    /// No environment of that name.
    #[error("unknown environment `{name}`")]
    UnknownEnv {
        name: String,
        /// The nearest known environment, if any is close.
        suggestion: Option<String>,
        /// Every environment of the run.
        known: Vec<String>,
    },
    /// The repository has several environments and none was named.
    #[error("the repository has {} environments ({}): say which one with --env", .envs.len(), .envs.join(", "))]
    EnvRequired { envs: Vec<String> },
}

impl LookupError {
    /// `help:` lines for the CLI (a "did you mean" and the names that exist).
    pub fn help(&self) -> Vec<String> {
        match self {
            LookupError::UnknownPipeline { suggestion, known, .. } | LookupError::UnknownEnv { suggestion, known, .. } => {
                let mut out = vec![];
                if let Some(s) = suggestion {
                    out.push(format!("did you mean `{s}`?"));
                }
                out.push(format!("known: {}", known.join(", ")));
                out
            }
            LookupError::EnvRequired { envs } => vec![format!("e.g. `--env {}`", envs[0])],
        }
    }
}

/// The nearest of `known` to `name` (Jaro-Winkler), when it is at all plausible.
fn nearest(name: &str, known: &[String]) -> Option<String> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(name, k), k))
        .filter(|(s, _)| *s >= 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.clone())
}

/// Picks pipeline `name` in `env` (or in the only environment) out of a compiled repository.
pub fn find<'a>(c: &'a Compiled, name: &str, env: Option<&str>) -> Result<&'a Pipeline, LookupError> {
    let envs: Vec<String> = c.envs.iter().map(|e| e.name.clone()).collect();
    let env = match env {
        Some(e) if envs.iter().any(|x| x == e) => e.to_string(),
        Some(e) => return Err(LookupError::UnknownEnv { name: e.into(), suggestion: nearest(e, &envs), known: envs }),
        None if envs.len() == 1 => envs[0].clone(),
        None => {
            // An unknown name is the more useful error, even before the missing --env.
            if !c.pipelines.iter().any(|p| p.name == name) {
                let mut known: Vec<String> = c.pipelines.iter().map(|p| p.name.clone()).collect();
                known.sort();
                known.dedup();
                let suggestion = nearest(name, &known);
                return Err(LookupError::UnknownPipeline { name: name.into(), env: envs.join(", "), suggestion, known });
            }
            return Err(LookupError::EnvRequired { envs });
        }
    };
    let in_env: Vec<&Pipeline> = c.pipelines.iter().filter(|p| p.env == env).collect();
    if let Some(p) = in_env.iter().find(|p| p.name == name) {
        return Ok(p);
    }
    let mut known: Vec<String> = in_env.iter().map(|p| p.name.clone()).collect();
    known.sort();
    Err(LookupError::UnknownPipeline { name: name.into(), env, suggestion: nearest(name, &known), known })
}

/// One object the pipeline renders into `out/<env>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// Kubernetes kind, e.g. `CronJob`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// Path relative to `out/<env>/`.
    pub file: String,
}

/// One stretch of the week with constant bounds, in local wall-clock minutes from Mon 00:00.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// First minute (from Mon 00:00 local).
    pub start: u32,
    /// Minute after the last (exclusive; `WEEK_MINUTES` = Sun 24:00).
    pub end: u32,
    /// Floor (HPA/KEDA minimum; the fixed count for fixed and `scheduled` modes).
    pub min: u32,
    /// Cap (HPA/KEDA maximum; the fixed count for fixed and `scheduled` modes).
    pub max: u32,
    /// What set these bounds: a schedule entry, open KEDA windows, or the committed values.
    pub set_by: String,
}

/// The replica bounds over one week in local time.
#[derive(Debug, Clone)]
pub struct Week {
    /// Monday 00:00 (local) of the week that contains `--from`.
    pub start: NaiveDate,
    /// Consecutive segments covering `[0, WEEK_MINUTES)`.
    pub segments: Vec<Segment>,
    /// Whether min and max are one fixed count in every segment (one line in the chart).
    pub fixed: bool,
    /// The local time of the firing that set the bounds in force at the start of the week.
    pub carried_from: Option<NaiveDateTime>,
}

/// One schedule entry as emitted.
#[derive(Debug, Clone)]
pub struct EntryInfo {
    /// The entry as validated (cron as written, bounds, lowered schedules).
    pub entry: ScheduleEntry,
    /// CronJob names with their schedules (empty under KEDA).
    pub cronjobs: Vec<(String, String)>,
    /// KEDA: whether the entry becomes a cron trigger (it raises the floor).
    pub keda_trigger: bool,
    /// Next firings of the cron from the window start.
    pub firings: Vec<Firing>,
    /// KEDA: next firings of `end` (the window closing).
    pub end_firings: Vec<Firing>,
}

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

/// The schedule entry in force at an instant (`--at`).
#[derive(Debug, Clone)]
pub struct InForceInfo {
    /// The instant asked about.
    pub at: DateTime<Utc>,
    /// The entry and its firing that set the bounds, `None` when no entry fired in the window
    /// looked at (7 days with a reconcile job, nine years without).
    pub entry: Option<(ScheduleEntry, Firing)>,
}

/// A change of the zone's offset inside the window.
#[derive(Debug, Clone)]
pub struct TransitionInfo {
    /// The instant of the change.
    pub at: DateTime<Utc>,
    /// The wall-clock time the clocks leave (e.g. 02:00 on a spring-forward night).
    pub wall_before: NaiveDateTime,
    /// The wall-clock time the clocks show right after (e.g. 03:00).
    pub wall_after: NaiveDateTime,
    /// Zone abbreviation before and after (`EST`, `EDT`).
    pub name_before: String,
    pub name_after: String,
    /// Entries with a firing in the skipped (spring) or repeated (autumn) local hour that day.
    pub affected: Vec<String>,
}

/// Average TaskManagers and cpu-hours over the week, against a fixed deployment at the cap.
#[derive(Debug, Clone, PartialEq)]
pub struct Cost {
    /// Time-weighted average TaskManagers at the floor (min bounds).
    pub floor_avg: f64,
    /// Time-weighted average TaskManagers at the cap (max bounds).
    pub cap_avg: f64,
    /// Whether floor and cap are one number (fixed count or `scheduled`).
    pub single: bool,
    /// TaskManager count of the comparison deployment (the pipeline's max all week).
    pub fixed_max: u32,
    /// cpu of one TaskManager.
    pub tm_cpu: f64,
    /// cpu of the JobManager (one replica).
    pub jm_cpu: f64,
}

impl Cost {
    /// cpu-hours per week with `avg` TaskManagers: (avg × TM cpu + JM cpu) × 168.
    pub fn cpu_hours(&self, avg: f64) -> f64 {
        (avg * self.tm_cpu + self.jm_cpu) * 168.0
    }
    /// cpu-hours per week of the fixed-max deployment.
    pub fn fixed_cpu_hours(&self) -> f64 {
        self.cpu_hours(f64::from(self.fixed_max))
    }
    /// Saving against the fixed-max deployment, in percent.
    pub fn saving(&self, avg: f64) -> f64 {
        let fixed = self.fixed_cpu_hours();
        if fixed <= 0.0 { 0.0 } else { (fixed - self.cpu_hours(avg)) / fixed * 100.0 }
    }
}

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

/// Everything `explain` shows about one pipeline in one environment.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The pipeline explained, as resolved for its environment.
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
    /// The objects rendered into `out/<env>/` (before overlay patches, which cannot rename).
    pub objects: Vec<Object>,
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

// ---------------------------------------------------------------------------------------------
// Time helpers
// ---------------------------------------------------------------------------------------------

/// The instant of a local wall-clock time: the earlier one in an overlap, the first existing
/// minute after a gap.
fn local_to_utc(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut t = local;
    for _ in 0..(2 * 1440) {
        match zone.from_local_datetime(&t) {
            LocalResult::Single(x) | LocalResult::Ambiguous(x, _) => return x.with_timezone(&Utc),
            LocalResult::None => t += Duration::minutes(1),
        }
    }
    Utc.from_utc_datetime(&local)
}

/// Zone abbreviation at an instant (`CST`, `EDT`, or `+0545` where the database has none).
fn abbrev(zone: Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&zone).offset().to_string()
}

fn fmt_local(zone: Tz, f: &Firing) -> String {
    format!("{} {}", f.local.format("%a %Y-%m-%d %H:%M"), abbrev(zone, f.utc))
}

fn fmt_utc(t: DateTime<Utc>) -> String {
    t.format("%a %Y-%m-%d %H:%M UTC").to_string()
}

/// `Mon 09:00`, and `Sun 24:00` for the end of the week.
fn fmt_week_minute(m: u32) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    if m >= WEEK_MINUTES {
        return "Sun 24:00".into();
    }
    format!("{} {:02}:{:02}", DAYS[(m / 1440) as usize], m % 1440 / 60, m % 60)
}

/// Every firing in `[from, to)`.
fn firings_between(cron: &Cron, zone: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Firing> {
    const BATCH: usize = 256;
    let mut out = vec![];
    let mut cursor = from;
    loop {
        let batch = next_firings(cron, zone, cursor, BATCH);
        for f in &batch {
            if f.utc >= to {
                return out;
            }
            out.push(*f);
        }
        match batch.last() {
            Some(last) if batch.len() == BATCH => cursor = last.utc + Duration::minutes(1),
            _ => return out,
        }
    }
}

/// The last firing strictly before `t`, looking back up to nine years.
fn last_before(cron: &Cron, zone: Tz, t: DateTime<Utc>) -> Option<Firing> {
    for days in [1, 8, 32, 400, 9 * 366] {
        if let Some(f) = firings_between(cron, zone, t - Duration::days(days), t).last() {
            return Some(*f);
        }
    }
    None
}

fn parsed(e: &ScheduleEntry) -> Option<Cron> {
    Some(*e.cron.cron())
}

fn uses_schedule(mode: ScalingMode) -> bool {
    matches!(mode, ScalingMode::Scheduled | ScalingMode::ScheduledHpa | ScalingMode::Keda)
}

fn uses_bounds(mode: ScalingMode) -> bool {
    !matches!(mode, ScalingMode::Disabled | ScalingMode::Reactive | ScalingMode::Operator)
}

fn keda_trigger(p: &Pipeline, e: &ScheduleEntry) -> bool {
    e.min_replicas > p.autoscaling.min_replicas
}

/// SPEC §16: the reconcile job of a CronJob-scaled pipeline, or why it has none.
fn reconcile_of(project: &Project, p: &Pipeline) -> Option<Reconcile> {
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

/// The entry in force at `at`: with a reconcile job, what it sets (the latest firing within the
/// last 7 days); without, the latest firing of any entry within nine years.
fn in_force_at(p: &Pipeline, zone: Tz, at: DateTime<Utc>) -> InForceInfo {
    let a = &p.autoscaling;
    let entry = if a.reconcile_offsets.is_some() {
        let crons: Option<Vec<Cron>> = a.schedule.iter().map(parsed).collect();
        crons.and_then(|c| in_force(&c, zone, at)).map(|f| (a.schedule[f.entry].clone(), f.firing))
    } else {
        // `last_before` is strict: one minute past `at`'s minute includes that minute's firing.
        let next_minute = DateTime::from_timestamp((at.timestamp().div_euclid(60) + 1) * 60, 0).unwrap_or(at);
        a.schedule
            .iter()
            .filter_map(|e| parsed(e).and_then(|c| last_before(&c, zone, next_minute)).map(|f| (e.clone(), f)))
            .max_by_key(|(_, f)| f.utc)
    };
    InForceInfo { at, entry }
}

// ---------------------------------------------------------------------------------------------
// The week of bounds
// ---------------------------------------------------------------------------------------------

/// A schedule event inside or before the week: an entry firing (or, under KEDA, a window
/// opening or closing).
#[derive(Debug, Clone, Copy)]
struct Event {
    firing: Firing,
    entry: usize,
    open: bool,
}

/// The bounds in force for a schedule state.
fn bounds_of(p: &Pipeline, current: Option<usize>, open: &[bool]) -> (u32, u32, String) {
    let a = &p.autoscaling;
    match a.mode {
        ScalingMode::Keda => {
            let names: Vec<&str> = a.schedule.iter().zip(open).filter(|(_, o)| **o).map(|(e, _)| e.name.as_str()).collect();
            let floor = a.schedule.iter().zip(open).filter(|(_, o)| **o).map(|(e, _)| e.min_replicas).fold(a.min_replicas, u32::max);
            let by = if names.is_empty() { "no window open (cpu trigger only)".to_string() } else { names.join(" + ") };
            (floor, a.max_replicas, by)
        }
        ScalingMode::Scheduled => match current {
            Some(i) => (a.schedule[i].replicas, a.schedule[i].replicas, a.schedule[i].name.clone()),
            None => (a.replicas, a.replicas, "committed taskManager.replicas (no entry fired yet)".into()),
        },
        _ => match current {
            Some(i) => (a.schedule[i].min_replicas, a.schedule[i].max_replicas, a.schedule[i].name.clone()),
            None => (a.min_replicas, a.max_replicas, "committed HPA bounds (no entry fired yet)".into()),
        },
    }
}

/// Walks the week's firings: the bounds in force at an instant are those of the latest entry that
/// fired before it (KEDA: the floor is the highest open window); the week starts with the state
/// left by the last firings before it.
fn week(p: &Pipeline, zone: Tz, from: NaiveDate) -> Week {
    let a = &p.autoscaling;
    let start = from - Duration::days(i64::from(from.weekday().num_days_from_monday()));
    let start_local = start.and_hms_opt(0, 0, 0).expect("midnight exists");
    if !uses_schedule(a.mode) || a.schedule.is_empty() {
        let (min, max, by) = match a.mode {
            ScalingMode::HpaReactive => (a.min_replicas, a.max_replicas, "HPA on cpu".to_string()),
            ScalingMode::Operator => (a.replicas, a.replicas, "starting count; the operator autoscaler changes parallelism".to_string()),
            _ => (a.replicas, a.replicas, "fixed taskManager.replicas".to_string()),
        };
        return Week {
            start,
            segments: vec![Segment { start: 0, end: WEEK_MINUTES, min, max, set_by: by }],
            fixed: min == max,
            carried_from: None,
        };
    }
    let ws = local_to_utc(zone, start_local);
    let we = local_to_utc(zone, start_local + Duration::days(7));
    let keda = a.mode == ScalingMode::Keda;
    // (cron, entry, opens) for every event source.
    let mut sources: Vec<(Cron, usize, bool)> = vec![];
    for (i, e) in a.schedule.iter().enumerate() {
        if keda && !keda_trigger(p, e) {
            continue;
        }
        if let Some(c) = parsed(e) {
            sources.push((c, i, true));
        }
        if keda && let Some(c) = e.end.as_ref().map(|c| *c.cron()) {
            sources.push((c, i, false));
        }
    }
    let order = |x: &Event, y: &Event| (x.firing.utc, x.entry, x.open).cmp(&(y.firing.utc, y.entry, y.open));
    let mut before: Vec<Event> =
        sources.iter().filter_map(|(c, i, open)| last_before(c, zone, ws).map(|firing| Event { firing, entry: *i, open: *open })).collect();
    before.sort_by(order);
    let mut current: Option<usize> = None;
    let mut open = vec![false; a.schedule.len()];
    if keda {
        // Per entry, the later of its last opening and last closing decides.
        for ev in &before {
            open[ev.entry] = ev.open;
        }
    } else {
        current = before.last().map(|ev| ev.entry);
    }
    let carried_from = if keda {
        before.iter().filter(|ev| ev.open && open[ev.entry]).map(|ev| ev.firing.local).max()
    } else {
        before.last().map(|ev| ev.firing.local)
    };
    let mut events: Vec<Event> = sources
        .iter()
        .flat_map(|(c, i, o)| firings_between(c, zone, ws, we).into_iter().map(move |firing| Event { firing, entry: *i, open: *o }))
        .collect();
    events.sort_by(order);

    let mut segments = vec![];
    let mut cur_start = 0u32;
    let mut cur = bounds_of(p, current, &open);
    for ev in events {
        let m = (ev.firing.local - start_local).num_minutes().clamp(0, i64::from(WEEK_MINUTES)) as u32;
        // A fall-back overlap can repeat an earlier wall-clock minute: keep the table monotonic.
        let m = m.max(cur_start);
        if keda {
            open[ev.entry] = ev.open;
        } else {
            current = Some(ev.entry);
        }
        let next = bounds_of(p, current, &open);
        if next != cur {
            if m > cur_start {
                segments.push(Segment { start: cur_start, end: m, min: cur.0, max: cur.1, set_by: cur.2.clone() });
                cur_start = m;
            }
            cur = next;
        }
    }
    if cur_start < WEEK_MINUTES {
        segments.push(Segment { start: cur_start, end: WEEK_MINUTES, min: cur.0, max: cur.1, set_by: cur.2 });
    }
    // Equal neighbours (e.g. a zero-length stretch that was dropped) merge.
    let mut merged: Vec<Segment> = vec![];
    for s in segments {
        match merged.last_mut() {
            Some(l) if (l.min, l.max, &l.set_by) == (s.min, s.max, &s.set_by) => l.end = s.end,
            _ => merged.push(s),
        }
    }
    let fixed = merged.iter().all(|s| s.min == s.max);
    Week { start, segments: merged, fixed, carried_from }
}

fn cost(p: &Pipeline, w: &Week) -> Cost {
    let a = &p.autoscaling;
    let avg = |f: fn(&Segment) -> u32| -> f64 {
        w.segments.iter().map(|s| f64::from(f(s)) * f64::from(s.end - s.start)).sum::<f64>() / f64::from(WEEK_MINUTES)
    };
    Cost {
        floor_avg: avg(|s| s.min),
        cap_avg: avg(|s| s.max),
        single: w.fixed,
        fixed_max: if uses_bounds(a.mode) { a.max_replicas } else { a.replicas },
        tm_cpu: p.resources.taskmanager.cpu,
        jm_cpu: p.resources.jobmanager.cpu,
    }
}

// ---------------------------------------------------------------------------------------------
// Provenance (SPEC §3 precedence, recomputed from the spanned spec tree)
// ---------------------------------------------------------------------------------------------

/// The layers of one pipeline in one env, re-read with their spans.
struct Layers {
    sources: Sources,
    /// Templates + pipeline file + the overlay's `[pipelines.<name>]`, merged as compile does.
    merged: Option<Table>,
    pipeline_file: Option<String>,
    overlay_file: Option<String>,
    /// The overlay's `[env]` table.
    env: Option<Table>,
    project: Option<Table>,
    name: String,
}

fn get_path<'t>(t: &'t Table, path: &[&str]) -> Option<&'t Entry> {
    let (first, rest) = path.split_first()?;
    let e = t.get(first)?;
    if rest.is_empty() {
        return Some(e);
    }
    match &e.node.value {
        Value::Table(inner) => get_path(inner, rest),
        _ => None,
    }
}

impl Layers {
    fn load(root: &Path, p: &Pipeline) -> Layers {
        let mut d = Diagnostics::default();
        let repo = spec::load(root, &mut d);
        let ps = repo.pipelines.iter().find(|ps| ps.name == p.name);
        let es = repo.envs.iter().find(|e| e.name == p.env);
        let mut merged = ps.map(|ps| repo.pipeline_table(ps));
        let over = es.and_then(|e| e.table.as_ref()).and_then(|t| get_path(t, &["pipelines", &p.name]));
        if let (Some(m), Some(over)) = (merged.as_mut(), over)
            && let Value::Table(o) = &over.node.value
        {
            // The same merge as compile (tasks by name); its diagnostics were reported there.
            crate::validate::overlay::merge(m, o, &p.name, &mut Diagnostics::default());
        }
        let env = es.and_then(|e| e.table.as_ref()).and_then(|t| get_path(t, &["env"])).and_then(|e| match &e.node.value {
            Value::Table(t) => Some(t.clone()),
            _ => None,
        });
        Layers {
            pipeline_file: ps.map(|ps| repo.sources.path(ps.file).to_string()),
            overlay_file: es.and_then(|e| e.file).map(|f| repo.sources.path(f).to_string()),
            merged,
            env,
            project: repo.project.clone(),
            sources: repo.sources,
            name: p.name.clone(),
        }
    }

    fn at(&self, e: &Entry, layer: &str) -> String {
        let (line, _) = self.sources.line_col(&e.node.loc);
        format!("{}:{line} ({layer})", self.sources.path(e.node.loc.file))
    }

    /// A key of the merged pipeline table: the pipeline file, a template, or the overlay.
    fn pipeline_key(&self, path: &[&str]) -> Option<String> {
        let e = get_path(self.merged.as_ref()?, path)?;
        let file = self.sources.path(e.node.loc.file);
        let layer = if Some(file) == self.overlay_file.as_deref() {
            format!("overlay [pipelines.{}]", self.name)
        } else if Some(file) == self.pipeline_file.as_deref() {
            "pipeline file".to_string()
        } else {
            "template via extends".to_string()
        };
        Some(self.at(e, &layer))
    }

    fn env_key(&self, key: &str) -> Option<String> {
        let e = get_path(self.env.as_ref()?, &[key])?;
        Some(self.at(e, "overlay [env]"))
    }

    fn project_key(&self, section: &str, key: &str) -> Option<String> {
        let e = get_path(self.project.as_ref()?, &[section, key])?;
        Some(self.at(e, &format!("flinkops.toml [{section}]")))
    }
}

fn num(x: f64) -> String {
    crate::units::format_number(x)
}

fn provenance(l: &Layers, p: &Pipeline, c: &Compiled, image: &str) -> Vec<Provenance> {
    let a = &p.autoscaling;
    let builtin = |v: &str| format!("built-in default ({v})");
    let mut out = vec![];
    let mut row = |setting: &str, value: String, origin: String| {
        out.push(Provenance { setting: setting.into(), value, origin });
    };
    row(
        "namespace",
        p.namespace.clone(),
        l.pipeline_key(&["namespace"])
            .or_else(|| l.env_key("namespace"))
            .or_else(|| l.project_key("defaults", "namespace"))
            .unwrap_or_else(|| builtin("flink-jobs")),
    );
    row(
        "autoscaling.mode",
        if a.hpa_alias { "hpa_reactive (written `hpa`)".into() } else { a.mode.as_str().into() },
        l.pipeline_key(&["autoscaling", "mode"]).unwrap_or_else(|| builtin("disabled")),
    );
    let zone_note = if uses_schedule(a.mode) { "" } else { " [not used by this mode]" };
    row(
        "schedule zone",
        format!("{}{zone_note}", a.timezone),
        l.pipeline_key(&["autoscaling", "timezone"])
            .or_else(|| l.env_key("timezone"))
            .or_else(|| l.project_key("defaults", "timezone"))
            .unwrap_or_else(|| builtin("UTC")),
    );
    row(
        "schedule_strategy",
        format!("{}{zone_note}", strategy_name(a.strategy)),
        l.pipeline_key(&["autoscaling", "schedule_strategy"])
            .or_else(|| l.project_key("defaults", "schedule_strategy"))
            .unwrap_or_else(|| builtin("utc")),
    );
    if uses_schedule(a.mode) {
        let (value, origin) = match (l.pipeline_key(&["autoscaling", "preset"]), l.pipeline_key(&["autoscaling", "schedule"])) {
            (Some(o), _) => {
                let name = l.merged.as_ref().and_then(|t| get_path(t, &["autoscaling", "preset"])).and_then(|e| match &e.node.value {
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                });
                (format!("preset {}", name.unwrap_or_default()), o)
            }
            (None, Some(o)) => (format!("{} [[autoscaling.schedule]] entries", a.schedule.len()), o),
            (None, None) => (format!("{} entries", a.schedule.len()), "—".into()),
        };
        row("schedule", value, origin);
    }
    row("resources.profile", p.resources.profile.clone(), l.pipeline_key(&["resources", "profile"]).unwrap_or_else(|| builtin("small")));
    let profile = format!("profile {} (SPEC §5)", p.resources.profile);
    row(
        "TaskManager cpu",
        num(p.resources.taskmanager.cpu),
        l.pipeline_key(&["resources", "taskmanager", "cpu"]).unwrap_or_else(|| profile.clone()),
    );
    row(
        "TaskManager memory",
        p.resources.taskmanager.memory.to_flink_string(),
        l.pipeline_key(&["resources", "taskmanager", "memory"]).unwrap_or_else(|| profile.clone()),
    );
    row(
        "JobManager cpu",
        num(p.resources.jobmanager.cpu),
        l.pipeline_key(&["resources", "jobmanager", "cpu"]).unwrap_or_else(|| builtin("0.5")),
    );
    row(
        "JobManager memory",
        p.resources.jobmanager.memory.to_flink_string(),
        l.pipeline_key(&["resources", "jobmanager", "memory"]).unwrap_or_else(|| builtin("1024m")),
    );
    if uses_bounds(a.mode) {
        let envelope = if a.schedule.is_empty() {
            format!("profile {} bounds (SPEC §5)", p.resources.profile)
        } else {
            "envelope of the schedule entries".to_string()
        };
        row(
            "min_replicas",
            a.min_replicas.to_string(),
            l.pipeline_key(&["autoscaling", "min_replicas"]).unwrap_or_else(|| envelope.clone()),
        );
        row(
            "max_replicas",
            a.max_replicas.to_string(),
            l.pipeline_key(&["autoscaling", "max_replicas"]).unwrap_or_else(|| envelope.clone()),
        );
    }
    let replicas_derived = if a.mode.count_managed_elsewhere() {
        "min_replicas (the starting count; run time changes it)".to_string()
    } else {
        format!("ceil(parallelism {} / slots {})", p.job.parallelism, p.flink.slots)
    };
    row("replicas", a.replicas.to_string(), l.pipeline_key(&["autoscaling", "replicas"]).unwrap_or(replicas_derived));
    if matches!(a.mode, ScalingMode::HpaReactive | ScalingMode::ScheduledHpa | ScalingMode::Keda) {
        row(
            "target_cpu_utilization",
            format!("{}%", a.target_cpu_utilization),
            l.pipeline_key(&["autoscaling", "target_cpu_utilization"]).unwrap_or_else(|| builtin("75")),
        );
    }
    row("flink.version", p.flink.version.to_string(), l.pipeline_key(&["flink", "version"]).unwrap_or_else(|| "—".into()));
    row(
        "flink.mode",
        deploy_mode(p.flink.mode).into(),
        l.pipeline_key(&["flink", "mode"]).unwrap_or_else(|| {
            if a.mode.is_reactive_family() { "derived: reactive-family modes need standalone".into() } else { builtin("native") }
        }),
    );
    row(
        "manage_namespaces",
        c.envs.iter().find(|e| e.name == p.env).zip(c.project.as_ref()).is_none_or(|(e, pr)| e.manages_namespaces(pr)).to_string(),
        l.env_key("manage_namespaces").or_else(|| l.project_key("defaults", "manage_namespaces")).unwrap_or_else(|| builtin("true")),
    );
    row(
        "service_account",
        p.flink.service_account.clone(),
        l.pipeline_key(&["flink", "service_account"])
            .or_else(|| l.project_key("defaults", "service_account"))
            .unwrap_or_else(|| builtin("flink")),
    );
    row("job.parallelism", p.job.parallelism.to_string(), l.pipeline_key(&["job", "parallelism"]).unwrap_or_else(|| builtin("1")));
    row(
        "job.upgrade_mode",
        p.job.upgrade_mode.as_str().into(),
        l.pipeline_key(&["job", "upgrade_mode"]).unwrap_or_else(|| builtin("stateless")),
    );
    row("job.state", p.job.state.as_str().to_string(), l.pipeline_key(&["job", "state"]).unwrap_or_else(|| builtin("running")));
    row("job.bounded", p.job.bounded.to_string(), l.pipeline_key(&["job", "bounded"]).unwrap_or_else(|| builtin("false")));
    row(
        "checkpoint_interval",
        p.flink.checkpoint_interval.clone().unwrap_or_else(|| "none (BATCH: execution.runtime-mode BATCH)".into()),
        l.pipeline_key(&["flink", "checkpoint_interval"]).unwrap_or_else(|| {
            if p.job.bounded { "derived: a bounded job does not checkpoint (SPEC §13.4)".into() } else { builtin("60s") }
        }),
    );
    let conf = crate::render::flinkdeployment::flink_configuration(p);
    let incremental = p.flink.version.minor.keys.incremental;
    if let Some(v) = conf.get(incremental).and_then(|v| v.as_str()) {
        let origin = if p.flink.config.contains_key(incremental) {
            l.pipeline_key(&["flink", "config", incremental]).unwrap_or_else(|| "[flink.config]".into())
        } else {
            "derived: rocksdb checkpoints are incremental (SPEC §13.6)".into()
        };
        row("incremental checkpoints", v.into(), origin);
    }
    let periodic_origin = l.pipeline_key(&["job", "periodic_savepoint"]).unwrap_or_else(|| match &p.job.periodic_savepoint {
        Some(_) => "derived: standalone without HA keeps a recent savepoint (SPEC §13.6)".into(),
        None => builtin("off"),
    });
    row("job.periodic_savepoint", p.job.periodic_savepoint.clone().unwrap_or_else(|| "off".into()), periodic_origin);
    if let Some(py) = conf.get("python.executable").and_then(|v| v.as_str()) {
        let origin = if p.flink.config.contains_key("python.executable") {
            l.pipeline_key(&["flink", "config", "python.executable"]).unwrap_or_else(|| "[flink.config]".into())
        } else {
            "derived: the bundle's interpreter, where the Dockerfile installs PyFlink (SPEC §13.6)".into()
        };
        row("python.executable", py.into(), origin);
    }
    match &p.flink.image {
        Some(_) => row("image", image.into(), l.pipeline_key(&["flink", "image"]).unwrap_or_default()),
        None => {
            row(
                "job.bundle",
                p.job.bundle.clone(),
                l.pipeline_key(&["job", "bundle"]).unwrap_or_else(|| "default: the pipeline name".into()),
            );
            row(
                "defaults.registry",
                c.project.as_ref().and_then(|x| x.defaults.registry.clone()).unwrap_or_default(),
                l.project_key("defaults", "registry").unwrap_or_else(|| "—".into()),
            );
        }
    }
    row(
        "schedule.valid_from",
        c.project.as_ref().map(|x| x.valid_from.to_string()).unwrap_or_default(),
        l.project_key("schedule", "valid_from").unwrap_or_else(|| builtin("2026-01-01")),
    );
    out
}

// ---------------------------------------------------------------------------------------------
// What the mode emits, and why
// ---------------------------------------------------------------------------------------------

fn strategy_name(s: ScheduleStrategy) -> &'static str {
    match s {
        ScheduleStrategy::Utc => "utc",
        ScheduleStrategy::Native => "native",
        ScheduleStrategy::Guarded => "guarded",
    }
}

fn deploy_mode(m: DeploymentMode) -> &'static str {
    match m {
        DeploymentMode::Native => "native",
        DeploymentMode::Standalone => "standalone",
    }
}

fn mode_text(project: &Project, p: &Pipeline) -> Vec<String> {
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

fn tz_note(a: &crate::model::Autoscaling) -> String {
    match &a.cronjob_time_zone {
        Some(tz) => format!("; spec.timeZone: {tz}"),
        None => "; no spec.timeZone (Kubernetes < 1.27: the controller's host zone is assumed to be UTC)".into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Building the explanation
// ---------------------------------------------------------------------------------------------

/// Explains `p`, one pipeline of the compiled repository at `root`.
/// The pipeline's delivery unit, what syncs it, and the namespace objects it relies on.
fn delivery_lines(project: &Project, c: &Compiled, p: &Pipeline) -> Vec<(String, String)> {
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

pub fn explain(root: &Path, c: &Compiled, p: &Pipeline, opts: &Options) -> Explanation {
    let project = c.project.clone().expect("a compiled repository without errors has a project");
    let a = &p.autoscaling;
    let zone: Tz = a.timezone.parse().unwrap_or(Tz::UTC);
    let from = opts.from.unwrap_or(project.valid_from);
    let days = opts.days.max(1);
    let window = (
        local_to_utc(zone, from.and_hms_opt(0, 0, 0).expect("midnight")),
        local_to_utc(zone, (from + Duration::days(i64::from(days))).and_hms_opt(0, 0, 0).expect("midnight")),
    );

    // Image.
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

    let objects =
        render::pipeline(&project, p, &image).into_iter().map(|r| Object { file: r.file_name(), kind: r.kind, name: r.name }).collect();

    let delivery = delivery_lines(&project, c, p);

    let memory = [(Role::JobManager, p.resources.jobmanager.memory), (Role::TaskManager, p.resources.taskmanager.memory)]
        .into_iter()
        .map(|(role, size)| (role, size, memory::check(role, size, &p.flink.config).map_err(|e| e.to_string())))
        .collect();

    let week = week(p, zone, from);
    let cost = cost(p, &week);

    let mut entries = vec![];
    if uses_schedule(a.mode) {
        for e in &a.schedule {
            let firings = parsed(e).map(|c| next_firings(&c, zone, window.0, opts.firings)).unwrap_or_default();
            let trigger = a.mode == ScalingMode::Keda && keda_trigger(p, e);
            let end_firings = match (&e.end, trigger) {
                (Some(end), true) => next_firings(end.cron(), zone, window.0, opts.firings),
                _ => vec![],
            };
            let cronjobs = render::scaler::cronjob_names(p, e).into_iter().zip(e.schedules.iter().cloned()).collect();
            entries.push(EntryInfo { entry: e.clone(), cronjobs, keda_trigger: trigger, firings, end_firings });
        }
    }

    let transitions = transitions(zone, window.0, window.1)
        .into_iter()
        .map(|t| {
            let (lo, hi) =
                if t.wall_after() > t.wall_before() { (t.wall_before(), t.wall_after()) } else { (t.wall_after(), t.wall_before()) };
            let mut affected = vec![];
            if uses_schedule(a.mode) {
                for e in &a.schedule {
                    let mut crons: Vec<(Cron, &str)> = parsed(e).map(|c| (c, "")).into_iter().collect();
                    if a.mode == ScalingMode::Keda
                        && let Some(c) = e.end.as_ref().map(|c| *c.cron())
                    {
                        crons.push((c, " (end)"));
                    }
                    for (c, what) in crons {
                        let mut m = lo;
                        while m < hi {
                            if c.matches_naive(&m) {
                                affected.push(format!("{}{what} at {}", e.name, m.format("%H:%M")));
                                break;
                            }
                            m += Duration::minutes(1);
                        }
                    }
                }
            }
            TransitionInfo {
                at: t.at,
                wall_before: t.wall_before(),
                wall_after: t.wall_after(),
                name_before: t.name_before.clone(),
                name_after: t.name_after.clone(),
                affected,
            }
        })
        .collect();

    let layers = Layers::load(root, p);
    let provenance = provenance(&layers, p, c, &image);
    let mode_text = mode_text(&project, p);
    let reconcile = reconcile_of(&project, p);
    let in_force = match (&reconcile, opts.at) {
        (Some(_), Some(at)) => Some(in_force_at(p, zone, at)),
        _ => None,
    };

    Explanation {
        pipeline: p.clone(),
        project,
        zone,
        from,
        days,
        window,
        mode_text,
        objects,
        delivery,
        image,
        image_text,
        memory,
        week,
        entries,
        transitions,
        reconcile,
        in_force,
        cost,
        provenance,
    }
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

/// Left-aligned columns separated by two spaces; `right` marks right-aligned columns.
fn table(rows: &[Vec<String>], right: &[usize], indent: &str) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width: Vec<usize> = (0..cols).map(|i| rows.iter().filter_map(|r| r.get(i)).map(|c| c.chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::from(indent);
        for (i, cell) in r.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = width[i] - cell.chars().count();
            if right.contains(&i) {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Wraps a paragraph at `width` columns with `indent` on every line.
fn wrap(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        if line.len() > indent.len() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line = String::from(indent);
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if line.len() > indent.len() {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn heading(out: &mut String, title: &str) {
    let _ = writeln!(out, "\n{title}\n{}", "-".repeat(title.chars().count()));
}

/// Memory in Flink notation, with one decimal when it is not a whole number of mebibytes.
fn fmt_mem(m: MemorySize) -> String {
    const MIB: u64 = 1 << 20;
    if m.bytes().is_multiple_of(MIB) { format!("{}m", m.bytes() / MIB) } else { format!("{:.1}m", m.bytes() as f64 / MIB as f64) }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

impl Explanation {
    /// The bounds column of the week table: `3–10`, or the fixed count.
    fn bounds(&self, s: &Segment) -> String {
        if self.week.fixed { s.min.to_string() } else { format!("{}–{}", s.min, s.max) }
    }

    /// Plain-text explanation (no color), in headed sections with aligned tables.
    pub fn to_text(&self) -> String {
        let p = &self.pipeline;
        let a = &p.autoscaling;
        let zone = self.zone;
        let mut o = String::new();
        let title = format!("flinkops explain: {} in env {}", p.name, p.env);
        let _ = writeln!(o, "{title}\n{}", "=".repeat(title.chars().count()));

        heading(&mut o, "Pipeline");
        let mut rows =
            vec![vec!["name".into(), p.name.clone()], vec!["env".into(), p.env.clone()], vec!["namespace".into(), p.namespace.clone()]];
        if let Some(d) = &p.description {
            rows.push(vec!["description".into(), d.clone()]);
        }
        rows.push(vec!["sources".into(), p.sources.join(", ")]);
        o.push_str(&table(&rows, &[], "  "));

        heading(&mut o, &format!("Autoscaling: {}", if a.hpa_alias { "hpa (alias of hpa_reactive)" } else { a.mode.as_str() }));
        for (i, para) in self.mode_text.iter().enumerate() {
            if i > 0 {
                o.push('\n');
            }
            o.push_str(&wrap(para, "  ", 100));
        }

        heading(&mut o, &format!("Objects in out/{}/", p.env));
        let mut rows = vec![vec!["KIND".into(), "NAME".into(), "FILE".into()]];
        rows.extend(self.objects.iter().map(|x| vec![x.kind.clone(), x.name.clone(), x.file.clone()]));
        o.push_str(&table(&rows, &[], "  "));

        heading(&mut o, "Delivery");
        let rows: Vec<Vec<String>> = self.delivery.iter().map(|(k, v)| vec![k.clone(), v.clone()]).collect();
        o.push_str(&table(&rows, &[], "  "));

        heading(&mut o, "Flink");
        let f = &p.flink;
        let dir = |d: &Option<String>| d.clone().unwrap_or_else(|| "—".into());
        let rows = vec![
            vec!["version".into(), format!("{} (flinkVersion {}), Java {}", f.version, f.version.minor.crd_version, f.java)],
            vec!["deployment mode".into(), deploy_mode(f.mode).into()],
            vec!["slots".into(), f.slots.to_string()],
            vec!["parallelism".into(), {
                // The operator ignores job.parallelism whenever taskManager.replicas is set
                // (FlinkConfigBuilder#getParallelism): parallelism.default = replicas × slots.
                let effective = a.replicas * f.slots;
                if effective == p.job.parallelism {
                    p.job.parallelism.to_string()
                } else {
                    format!(
                        "{} in job.parallelism, but the operator starts the job at {effective} = taskManager.replicas {} × slots {} \
                         (it ignores job.parallelism when replicas is set)",
                        p.job.parallelism, a.replicas, f.slots
                    )
                }
            }],
            vec!["state backend".into(), f.state_backend.as_str().into()],
            vec![
                "checkpoints".into(),
                match (&f.checkpoint_interval, &f.checkpoint_dir) {
                    (None, _) => "none: a bounded job runs in BATCH mode (execution.runtime-mode BATCH)".into(),
                    (Some(i), Some(d)) => format!("every {i}, {d}"),
                    (Some(i), None) => format!("every {i} (no checkpoint_dir)"),
                },
            ],
            vec!["savepoints".into(), dir(&f.savepoint_dir)],
            vec!["high availability".into(), if f.high_availability { format!("yes, {}", dir(&f.ha_dir)) } else { "no".into() }],
        ];
        o.push_str(&table(&rows, &[], "  "));

        heading(&mut o, &format!("Resources (profile {})", p.resources.profile));
        let count = if uses_bounds(a.mode) { format!("{}–{}", a.min_replicas, a.max_replicas) } else { a.replicas.to_string() };
        let rows = vec![
            vec!["ROLE".into(), "CPU".into(), "MEMORY".into(), "COUNT".into()],
            vec!["JobManager".into(), num(p.resources.jobmanager.cpu), p.resources.jobmanager.memory.to_flink_string(), "1".into()],
            vec!["TaskManager".into(), num(p.resources.taskmanager.cpu), p.resources.taskmanager.memory.to_flink_string(), count],
        ];
        o.push_str(&table(&rows, &[1, 3], "  "));
        o.push_str("  Every container requests its cpu and memory (HPA utilization needs them); memory limit = request.\n");
        for (role, size, b) in &self.memory {
            let _ = writeln!(o, "\n  {role} memory breakdown ({} process, Flink's memory model)", size.to_flink_string());
            match b {
                Ok(b) => {
                    let mut rows: Vec<Vec<String>> = b.components().into_iter().map(|(n, m)| vec![n.to_string(), fmt_mem(m)]).collect();
                    rows.push(vec!["= total Flink memory".into(), fmt_mem(b.flink)]);
                    rows.push(vec!["  JVM heap (-Xmx)".into(), fmt_mem(b.jvm_heap())]);
                    o.push_str(&table(&rows, &[1], "    "));
                }
                Err(e) => {
                    let _ = writeln!(o, "    {e}");
                }
            }
        }

        heading(&mut o, "Image");
        let mut rows = vec![vec!["image".into(), self.image.clone()]];
        rows.extend(self.image_text.iter().map(|(k, v)| vec![k.clone(), v.clone()]));
        o.push_str(&table(&rows, &[], "  "));

        let week_end = self.week.start + Duration::days(6);
        heading(&mut o, &format!("Replica bounds, week of Mon {} – Sun {} ({}, local time)", self.week.start, week_end, zone.name()));
        let what = if self.week.fixed { "TASKMANAGERS" } else { "MIN–MAX" };
        let mut rows = vec![vec!["FROM".into(), "TO".into(), what.into(), "SET BY".into()]];
        for (i, s) in self.week.segments.iter().enumerate() {
            let mut by = s.set_by.clone();
            if i == 0
                && let Some(t) = self.week.carried_from
            {
                by.push_str(&format!(" (in force since {})", t.format("%a %Y-%m-%d %H:%M")));
            }
            rows.push(vec![fmt_week_minute(s.start), fmt_week_minute(s.end), self.bounds(s), by]);
        }
        o.push_str(&table(&rows, &[2], "  "));
        if a.mode == ScalingMode::Keda {
            o.push_str("  KEDA: MIN is the floor the open windows hold; the cpu trigger scales between it and MAX.\n");
        } else if matches!(a.mode, ScalingMode::ScheduledHpa | ScalingMode::HpaReactive) {
            o.push_str("  The HPA scales on cpu between MIN and MAX.\n");
        }

        if uses_schedule(a.mode) {
            heading(
                &mut o,
                &format!(
                    "Schedule entries (zone {}, strategy {})",
                    zone.name(),
                    if a.mode == ScalingMode::Keda { "keda" } else { strategy_name(a.strategy) }
                ),
            );
            for (i, x) in self.entries.iter().enumerate() {
                let e = &x.entry;
                if i > 0 {
                    o.push('\n');
                }
                let set = match a.mode {
                    ScalingMode::Scheduled => format!("replicas {}", e.replicas),
                    ScalingMode::Keda => format!("floor {} (min {}, max {})", e.min_replicas, e.min_replicas, e.max_replicas),
                    _ => format!("HPA {}–{}", e.min_replicas, e.max_replicas),
                };
                let _ = writeln!(o, "  {}: `{}` → {set}", e.name, e.cron);
                if a.mode == ScalingMode::Keda {
                    if x.keda_trigger {
                        let _ = writeln!(
                            o,
                            "    KEDA cron trigger: timezone {}, start \"{}\", end \"{}\", desiredReplicas \"{}\"",
                            a.timezone,
                            e.cron,
                            e.end.as_ref().map_or("", |c| c.as_str()),
                            e.min_replicas
                        );
                    } else {
                        let _ = writeln!(
                            o,
                            "    no KEDA trigger (min_replicas {} does not raise the floor {})",
                            e.min_replicas, a.min_replicas
                        );
                    }
                } else {
                    let tz = a.cronjob_time_zone.clone().unwrap_or_else(|| "(none)".into());
                    let mut rows = vec![vec!["CRONJOB".into(), "SCHEDULE".into(), "TIMEZONE".into()]];
                    rows.extend(x.cronjobs.iter().map(|(n, s)| vec![n.clone(), s.clone(), tz.clone()]));
                    o.push_str(&table(&rows, &[], "    "));
                    if a.strategy == ScheduleStrategy::Guarded {
                        let _ = writeln!(
                            o,
                            "    guard: {}'s UTC offsets until 2100 embedded ({} rows); acts only at the entry's local instants",
                            zone.name(),
                            e.guard_offsets.len()
                        );
                    }
                }
                let list = |o: &mut String, what: &str, fs: &[Firing]| {
                    let mut rows = vec![vec![format!("{what} (LOCAL)"), "UTC".into()]];
                    rows.extend(fs.iter().map(|f| vec![fmt_local(zone, f), fmt_utc(f.utc)]));
                    if fs.is_empty() {
                        rows.push(vec!["none within nine years".into(), String::new()]);
                    }
                    o.push_str(&table(&rows, &[], "    "));
                };
                if x.keda_trigger {
                    list(&mut o, "WINDOW OPENS", &x.firings);
                    list(&mut o, "WINDOW CLOSES", &x.end_firings);
                } else {
                    list(&mut o, &format!("NEXT {} FIRINGS", x.firings.len()), &x.firings);
                }
            }
        }

        if let Some(r) = &self.reconcile {
            heading(&mut o, "Reconcile job (SPEC §16)");
            match r {
                Reconcile::Job { cronjob, offset_rows } => {
                    let rows = vec![
                        vec!["CRONJOB".into(), "SCHEDULE".into(), "TIMEZONE".into()],
                        vec![
                            cronjob.clone(),
                            "*/5 * * * *".into(),
                            if self.project.kubernetes >= (1, 27) { "Etc/UTC".into() } else { "(none)".into() },
                        ],
                    ];
                    o.push_str(&table(&rows, &[], "  "));
                    let _ = writeln!(
                        o,
                        "  applies the entry in force (latest firing within the last 7 days); {}'s UTC offsets until 2100 embedded ({} row{})",
                        zone.name(),
                        offset_rows,
                        if *offset_rows == 1 { "" } else { "s" }
                    );
                }
                Reconcile::None { why } => o.push_str(&wrap(&format!("none: {why}."), "  ", 100)),
            }
        }
        if let Some(f) = &self.in_force {
            let local = f.at.with_timezone(&zone);
            heading(&mut o, &format!("In force at {} ({} {})", fmt_utc(f.at), local.format("%a %Y-%m-%d %H:%M"), abbrev(zone, f.at)));
            match &f.entry {
                Some((e, firing)) => {
                    let sets = match a.mode {
                        ScalingMode::Scheduled => format!("taskManager.replicas {}", e.replicas),
                        _ => format!("HPA minReplicas {}, maxReplicas {}", e.min_replicas, e.max_replicas),
                    };
                    let by = match &self.reconcile {
                        Some(Reconcile::Job { cronjob, .. }) => format!("{cronjob} within 5 minutes, if the live values differ"),
                        _ => "only the entry's own CronJob, when it ran at that firing (no reconcile job)".into(),
                    };
                    let rows = vec![
                        vec!["entry".into(), format!("{} (`{}`)", e.name, e.cron)],
                        vec!["fired".into(), format!("{} = {}", fmt_local(zone, firing), fmt_utc(firing.utc))],
                        vec!["sets".into(), sets],
                        vec!["enforced by".into(), by],
                    ];
                    o.push_str(&table(&rows, &[], "  "));
                }
                None => {
                    let window = if matches!(self.reconcile, Some(Reconcile::Job { .. })) { "7 days" } else { "nine years" };
                    let _ = writeln!(o, "  no entry fired in the {window} before: the live values stay as they are");
                }
            }
        }

        let (w0, w1) = self.window;
        heading(
            &mut o,
            &format!(
                "DST transitions from {} 00:00 for {} day(s) ({} .. {})",
                self.from,
                self.days,
                w0.format("%Y-%m-%d %H:%M UTC"),
                w1.format("%Y-%m-%d %H:%M UTC")
            ),
        );
        if self.transitions.is_empty() {
            let off = w0.with_timezone(&zone).format("%:z");
            let _ = writeln!(o, "  none in {} (UTC{off} throughout)", zone.name());
        } else {
            let mut rows = vec![vec!["LOCAL".into(), "UTC".into(), "CHANGE".into(), "ENTRIES AFFECTED THAT DAY".into()]];
            for t in &self.transitions {
                let forward = t.wall_after > t.wall_before;
                let delta = (t.wall_after - t.wall_before).num_minutes().abs();
                let change = format!(
                    "{} {} → {} {}: clocks {} {}",
                    t.wall_before.format("%H:%M"),
                    t.name_before,
                    t.wall_after.format("%H:%M"),
                    t.name_after,
                    if forward { "forward" } else { "back" },
                    if delta % 60 == 0 { format!("{}h", delta / 60) } else { format!("{delta} min") }
                );
                let affected = if t.affected.is_empty() {
                    "none".to_string()
                } else {
                    let what = if forward { "skipped" } else { "fires twice" };
                    format!("{}: {what}", t.affected.join(", "))
                };
                rows.push(vec![t.wall_before.format("%a %Y-%m-%d %H:%M").to_string(), fmt_utc(t.at), change, affected]);
            }
            o.push_str(&table(&rows, &[], "  "));
        }

        heading(&mut o, "Cost estimate (one week = 168 h, cpu requests)");
        let c = &self.cost;
        o.push_str(&wrap(
            &format!(
                "cpu-hours = (average TaskManagers × {} cpu + JobManager {} cpu) × 168 h; averages are weighted by the time each \
                 row of the week table lasts.",
                num(c.tm_cpu),
                num(c.jm_cpu)
            ),
            "  ",
            100,
        ));
        let mut rows = vec![vec!["".into(), "AVG TMS".into(), "CPU-HOURS".into(), "SAVING".into()]];
        let line = |label: &str, avg: f64| {
            vec![label.to_string(), format!("{avg:.2}"), format!("{:.1}", c.cpu_hours(avg)), format!("{:.1}%", c.saving(avg))]
        };
        if c.single {
            rows.push(line(if a.mode == ScalingMode::Scheduled { "scheduled count" } else { "fixed count" }, c.floor_avg));
        } else {
            rows.push(line("floor (min bounds)", c.floor_avg));
            rows.push(line("cap (max bounds)", c.cap_avg));
        }
        rows.push(vec![
            format!("fixed at max ({})", c.fixed_max),
            c.fixed_max.to_string(),
            format!("{:.1}", c.fixed_cpu_hours()),
            "—".into(),
        ]);
        o.push_str(&table(&rows, &[1, 2, 3], "  "));
        if !c.single {
            o.push_str("  The HPA/KEDA load decides where between floor and cap the real figure lies.\n");
        }
        if a.mode == ScalingMode::Operator {
            o.push_str("  The operator autoscaler changes parallelism at run time; the estimate uses the starting count.\n");
        }

        heading(&mut o, "Ignored keys");
        if p.ignored.is_empty() {
            o.push_str("  none\n");
        } else {
            for k in &p.ignored {
                let _ = writeln!(o, "  {k} (not used by mode {})", a.mode.as_str());
            }
        }

        heading(&mut o, "Day-2 state");
        let j = &p.job;
        let nonce = |n: i64| if n == 0 { "0 (not emitted)".to_string() } else { n.to_string() };
        let rows = vec![
            vec!["job.state".into(), j.state.as_str().into()],
            vec!["upgrade_mode".into(), j.upgrade_mode.as_str().into()],
            vec!["savepoint_nonce".into(), nonce(j.savepoint_nonce)],
            vec!["redeploy_nonce".into(), nonce(j.redeploy_nonce)],
            vec!["restart_nonce".into(), nonce(j.restart_nonce)],
            vec!["initial_savepoint".into(), j.initial_savepoint.clone().unwrap_or_else(|| "—".into())],
            vec!["allow_non_restored_state".into(), yes_no(j.allow_non_restored_state).into()],
            vec!["periodic_savepoint".into(), j.periodic_savepoint.clone().unwrap_or_else(|| "off".into())],
        ];
        o.push_str(&table(&rows, &[], "  "));

        heading(&mut o, "Where values came from (SPEC §3 precedence)");
        let mut rows = vec![vec!["SETTING".into(), "VALUE".into(), "FROM".into()]];
        rows.extend(self.provenance.iter().map(|r| vec![r.setting.clone(), r.value.clone(), r.origin.clone()]));
        o.push_str(&table(&rows, &[], "  "));
        o
    }

    /// The week's min/max replica bounds as an SVG step chart (deterministic bytes).
    pub fn to_svg(&self) -> String {
        const W: f64 = 960.0;
        const H: f64 = 460.0;
        const L: f64 = 70.0;
        const R: f64 = 920.0;
        const T: f64 = 90.0;
        const B: f64 = 380.0;
        let p = &self.pipeline;
        let segs = &self.week.segments;
        let ymax = segs.iter().map(|s| s.max).max().unwrap_or(1).max(1);
        let step =
            [1u32, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000].into_iter().find(|s| ymax.div_ceil(*s) <= 10).unwrap_or(10_000);
        // One step of headroom above the cap, so the max line never runs along the frame.
        let top = ymax.div_ceil(step) * step + if ymax % step == 0 { step } else { 0 };
        let x = |m: u32| L + (R - L) * f64::from(m) / f64::from(WEEK_MINUTES);
        let y = |v: u32| B - (B - T) * f64::from(v) / f64::from(top);
        let mut s = String::new();
        let _ = writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">"#
        );
        let title = format!("{} ({}): TaskManager replica bounds per week", p.name, p.env);
        let _ = writeln!(s, "<title>{}</title>", esc(&title));
        let _ = writeln!(s, r##"<rect x="0" y="0" width="{W}" height="{H}" fill="#ffffff"/>"##);
        let _ = writeln!(s, r##"<text x="{L}" y="32" font-size="18" font-weight="bold" fill="#222222">{}</text>"##, esc(&title));
        let mode = if p.autoscaling.hpa_alias { "hpa (hpa_reactive)" } else { p.autoscaling.mode.as_str() };
        let sub = format!("mode {mode} · zone {} · week of Mon {} · local time", self.zone.name(), self.week.start);
        let _ = writeln!(s, r##"<text x="{L}" y="56" font-size="13" fill="#555555">{}</text>"##, esc(&sub));
        // Horizontal gridlines and y ticks.
        let mut v = 0;
        while v <= top {
            let yy = y(v);
            let _ = writeln!(s, r##"<line x1="{L}" y1="{yy:.1}" x2="{R}" y2="{yy:.1}" stroke="#e6e6e6" stroke-width="1"/>"##);
            let _ =
                writeln!(s, r##"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end" fill="#444444">{v}</text>"##, L - 8.0, yy + 4.0);
            v += step;
        }
        // Six-hour lines, day lines and day labels.
        for h in (0..WEEK_MINUTES).step_by(360) {
            if h % 1440 != 0 {
                let xx = x(h);
                let _ = writeln!(s, r##"<line x1="{xx:.1}" y1="{T}" x2="{xx:.1}" y2="{B}" stroke="#f2f2f2" stroke-width="1"/>"##);
            }
        }
        for d in 0..=7u32 {
            let xx = x(d * 1440);
            let _ = writeln!(s, r##"<line x1="{xx:.1}" y1="{T}" x2="{xx:.1}" y2="{:.1}" stroke="#bbbbbb" stroke-width="1"/>"##, B + 6.0);
            if d < 7 {
                let cx = x(d * 1440 + 720);
                let date = self.week.start + Duration::days(i64::from(d));
                let name = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][d as usize];
                let _ = writeln!(
                    s,
                    r##"<text x="{cx:.1}" y="{:.1}" font-size="13" text-anchor="middle" fill="#222222">{name}</text>"##,
                    B + 22.0
                );
                let _ = writeln!(
                    s,
                    r##"<text x="{cx:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#777777">{}</text>"##,
                    B + 38.0,
                    date.format("%Y-%m-%d")
                );
            }
        }
        let _ = writeln!(s, r##"<line x1="{L}" y1="{B}" x2="{R}" y2="{B}" stroke="#444444" stroke-width="1"/>"##);
        let _ = writeln!(s, r##"<line x1="{L}" y1="{T}" x2="{L}" y2="{B}" stroke="#444444" stroke-width="1"/>"##);
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle" fill="#444444">local time ({})</text>"##,
            (L + R) / 2.0,
            H - 18.0,
            esc(self.zone.name())
        );
        let _ = writeln!(
            s,
            r##"<text x="18" y="{:.1}" font-size="12" text-anchor="middle" fill="#444444" transform="rotate(-90 18 {:.1})">TaskManagers</text>"##,
            (T + B) / 2.0,
            (T + B) / 2.0
        );
        // Step paths.
        let steps = |f: fn(&Segment) -> u32| -> String {
            let mut d = String::new();
            for (i, sg) in segs.iter().enumerate() {
                if i == 0 {
                    let _ = write!(d, "M{:.1} {:.1}", x(sg.start), y(f(sg)));
                } else {
                    let _ = write!(d, " V{:.1}", y(f(sg)));
                }
                let _ = write!(d, " H{:.1}", x(sg.end));
            }
            d
        };
        let max_path = steps(|s| s.max);
        let min_path = steps(|s| s.min);
        if !self.week.fixed {
            let mut band = max_path.clone();
            for (i, sg) in segs.iter().enumerate().rev() {
                if i + 1 == segs.len() {
                    let _ = write!(band, " V{:.1}", y(sg.min));
                } else {
                    let _ = write!(band, " H{:.1} V{:.1}", x(sg.end), y(sg.min));
                }
            }
            let _ = write!(band, " H{:.1} Z", x(segs.first().map_or(0, |s| s.start)));
            let _ = writeln!(s, r##"<path d="{band}" fill="#4c78a8" fill-opacity="0.18" stroke="none"/>"##);
            let _ = writeln!(s, r##"<path d="{max_path}" fill="none" stroke="#d62728" stroke-width="2.5" stroke-linejoin="miter"/>"##);
            let _ = writeln!(s, r##"<path d="{min_path}" fill="none" stroke="#1f77b4" stroke-width="2.5" stroke-linejoin="miter"/>"##);
        } else {
            let _ = writeln!(s, r##"<path d="{max_path}" fill="none" stroke="#2ca02c" stroke-width="2.5" stroke-linejoin="miter"/>"##);
        }
        // Legend.
        let items: Vec<(&str, String)> = if self.week.fixed {
            vec![(
                "#2ca02c",
                if p.autoscaling.mode == ScalingMode::Scheduled {
                    "replicas set by the CronJobs".into()
                } else {
                    "fixed TaskManager count".into()
                },
            )]
        } else {
            vec![("#d62728", "max (cap)".into()), ("#1f77b4", "min (floor)".into())]
        };
        // About 7 px per character at 12 px: each item is a 24 px line, a gap and its label.
        let width = |label: &str| 30.0 + 7.0 * label.chars().count() as f64 + 20.0;
        let mut lx = R - items.iter().map(|(_, l)| width(l)).sum::<f64>();
        for (color, label) in items {
            let _ = writeln!(s, r##"<line x1="{lx:.1}" y1="70" x2="{:.1}" y2="70" stroke="{color}" stroke-width="2.5"/>"##, lx + 24.0);
            let _ = writeln!(s, r##"<text x="{:.1}" y="74" font-size="12" fill="#222222">{}</text>"##, lx + 30.0, esc(&label));
            lx += width(&label);
        }
        s.push_str("</svg>\n");
        s
    }
}

/// Escapes text for XML character data and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn week_minutes_print_as_weekday_and_time() {
        assert_eq!(fmt_week_minute(0), "Mon 00:00");
        assert_eq!(fmt_week_minute(9 * 60), "Mon 09:00");
        assert_eq!(fmt_week_minute(5 * 1440), "Sat 00:00");
        assert_eq!(fmt_week_minute(WEEK_MINUTES), "Sun 24:00");
    }

    #[test]
    fn last_firing_before_finds_rare_crons() {
        let zone: Tz = "Asia/Shanghai".parse().unwrap();
        let c = Cron::parse("0 0 * * 6").unwrap();
        // Mon 2025-12-29 00:00 CST = 2025-12-28 16:00 UTC; the Saturday before is 12-27 00:00 CST.
        let t = Utc.with_ymd_and_hms(2025, 12, 28, 16, 0, 0).unwrap();
        let f = last_before(&c, zone, t).unwrap();
        assert_eq!(f.local.to_string(), "2025-12-27 00:00:00");
        let yearly = Cron::parse("0 0 1 1 *").unwrap();
        assert_eq!(last_before(&yearly, zone, t).unwrap().local.to_string(), "2025-01-01 00:00:00");
    }

    #[test]
    fn gap_minutes_map_to_the_first_existing_instant() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let t = local_to_utc(ny, NaiveDate::from_ymd_opt(2026, 3, 8).unwrap().and_hms_opt(2, 30, 0).unwrap());
        assert_eq!(t, Utc.with_ymd_and_hms(2026, 3, 8, 7, 0, 0).unwrap());
    }

    #[test]
    fn xml_text_is_escaped() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
