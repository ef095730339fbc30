//! Model: the checked types that validate produces and render consumes.
//!
//! Every value here is resolved (defaults applied, layers merged, profile filled in) and known to
//! be valid, so render never has to report a problem. Types carry no source spans; where a value
//! came from is kept as the list of source files for the output headers and, when the compile
//! keeps its pipelines (`explain`, `diff`, day-2 commands), in [`Pipeline::origins`] (file, line and
//! SPEC §3 layer of every written key) beside [`Pipeline::objects`] (what was emitted for it).

use std::collections::BTreeMap;
use std::sync::Arc;

use indexmap::IndexMap;

use crate::diag::{Loc, Sources};

use crate::units::MemorySize;
use crate::versions::{ConnectorBuild, FlinkVersion, Operator};

/// `flinkops.toml`, checked.
#[derive(Debug, Clone)]
pub struct Project {
    pub name: String,
    pub repo_url: Option<String>,
    pub revision: String,
    pub operator: Operator,
    /// Oldest Kubernetes minor the clusters run, e.g. (1, 30).
    pub kubernetes: (u32, u32),
    pub defaults: Defaults,
    /// Start of the schedule horizon (`schedule.valid_from`).
    pub valid_from: chrono::NaiveDate,
    pub scaler_image: Option<String>,
    pub delivery: Delivery,
    pub cluster: Option<Capacity>,
}

#[derive(Debug, Clone)]
pub struct Defaults {
    pub namespace: String,
    pub timezone: String,
    pub schedule_strategy: ScheduleStrategy,
    pub registry: Option<String>,
    pub service_account: String,
    /// `manage_namespaces`: emit the `_namespaces` unit (SPEC §13.2) unless an overlay says otherwise.
    pub manage_namespaces: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleStrategy {
    Utc,
    Native,
    Guarded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryTool {
    ArgoCd,
    Flux,
    None,
}

#[derive(Debug, Clone)]
pub struct Delivery {
    pub tool: DeliveryTool,
    pub argocd_namespace: String,
    pub argocd_project: String,
    pub argocd_server: String,
    pub flux_namespace: String,
    pub flux_source: String,
    pub flux_version: (u32, u32),
    pub flux_interval: String,
    pub self_heal: bool,
    pub prune: bool,
    /// `flux_shards`: how many kustomize-controller shards per-pipeline Kustomizations spread
    /// over (SPEC §14); 0 is off.
    pub flux_shards: u32,
}

/// A capacity budget (`[cluster]`).
#[derive(Debug, Clone, Copy)]
pub struct Capacity {
    pub cpu: f64,
    pub memory: MemorySize,
}

/// One environment, checked.
#[derive(Debug, Clone)]
pub struct Env {
    pub name: String,
    /// `overlays/<env>/overlay.toml`, when there is one.
    pub file: Option<String>,
    pub namespace: Option<String>,
    pub timezone: Option<String>,
    pub labels: IndexMap<String, String>,
    pub cluster: Option<Capacity>,
    /// The overlay's `[env] manage_namespaces`, when it sets one (see [`Env::manages_namespaces`]).
    pub manage_namespaces: Option<bool>,
}

impl Env {
    /// Whether flinkops emits this env's `_namespaces` unit (SPEC §13.2): the overlay's
    /// `[env] manage_namespaces`, else `[defaults]`'s.
    pub fn manages_namespaces(&self, project: &Project) -> bool {
        self.manage_namespaces.unwrap_or(project.defaults.manage_namespaces)
    }
}

/// One pipeline in one environment, fully resolved.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub name: String,
    pub env: String,
    /// Repository-relative source files (templates, pipeline, overlay), sorted.
    pub sources: Vec<String>,
    pub namespace: String,
    pub description: Option<String>,
    pub labels: IndexMap<String, String>,
    pub flink: Flink,
    pub job: Job,
    pub resources: Resources,
    pub autoscaling: Autoscaling,
    pub tasks: Vec<Task>,
    /// Keys present in the spec that the chosen mode does not use (listed by `explain`).
    pub ignored: Vec<String>,
    /// Where the pipeline and a few of its settings were written, for problems found across
    /// pipelines or files (duplicate names, bundle conflicts, what the GitOps tool can do).
    pub places: Places,
    /// Where each written setting came from; empty unless the compile keeps its pipelines.
    pub origins: Origins,
    /// The objects emitted into `out/<env>/` for this pipeline (after overlay patches), in emit
    /// order; empty unless the compile keeps its pipelines and rendered them.
    pub objects: Vec<EmittedObject>,
}

/// A layer of SPEC §3's precedence: what set a resolved value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layer {
    /// The pipeline's own file.
    PipelineFile,
    /// A template the pipeline extends (directly or through another template).
    Template,
    /// The overlay's `[pipelines.<name>]` table.
    OverlayPipeline,
    /// The overlay's `[env]` table.
    OverlayEnv,
    /// `flinkops.toml`, in this section (`defaults`, `schedule`, …).
    Project(String),
    /// A resources profile (SPEC §5), by name.
    Profile(String),
    /// A schedule preset, by name: the entries it stands for.
    Preset(String),
    /// Nothing was written: the validator's default.
    BuiltIn,
}

impl Layer {
    /// The layer as `explain` names it; `pipeline` names the overlay's table.
    pub fn describe(&self, pipeline: &str) -> String {
        match self {
            Layer::PipelineFile => "pipeline file".into(),
            Layer::Template => "template via extends".into(),
            Layer::OverlayPipeline => format!("overlay [pipelines.{pipeline}]"),
            Layer::OverlayEnv => "overlay [env]".into(),
            Layer::Project(section) => format!("flinkops.toml [{section}]"),
            Layer::Profile(name) => format!("profile {name} (SPEC §5)"),
            Layer::Preset(name) => format!("preset {name}"),
            Layer::BuiltIn => "built-in default".into(),
        }
    }
}

/// Where one value was written: its layer and, for a key in a file, the place of its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub layer: Layer,
    /// The value as written; `None` for values no file holds (profile, built-in default).
    pub at: Option<Loc>,
}

impl Origin {
    /// `file:line (layer)`, or the layer alone when no file holds the value.
    pub fn describe(&self, sources: &Sources, pipeline: &str) -> String {
        match &self.at {
            Some(loc) => format!("{}:{} ({})", sources.path(loc.file), sources.line_col(loc).0, self.layer.describe(pipeline)),
            None => self.layer.describe(pipeline),
        }
    }
}

/// Written keys by dotted path (`autoscaling.mode`, `defaults.namespace`) → where.
pub type KeyOrigins = BTreeMap<String, Origin>;

/// Where a pipeline's settings were written, layer by layer (SPEC §3). Each map holds the keys
/// present in that layer; the precedence between them is the reader's (a pipeline key beats the
/// overlay's `[env]`, which beats `flinkops.toml`). The env's and the project's maps are shared
/// by every pipeline that reads them.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    /// Keys of the pipeline's table after templates and the overlay's `[pipelines.<name>]` are
    /// merged in: each from the layer that won. `autoscaling.schedule` is recorded as
    /// [`Layer::Preset`] (at the `preset` key) when a preset stands for the entries.
    pub pipeline: KeyOrigins,
    /// The overlay's `[env]` keys.
    pub env: Option<Arc<KeyOrigins>>,
    /// `flinkops.toml`'s keys, as `section.key`.
    pub project: Option<Arc<KeyOrigins>>,
}

impl Origins {
    /// A key of the merged pipeline table, e.g. `autoscaling.timezone`.
    pub fn pipeline_key(&self, path: &str) -> Option<&Origin> {
        self.pipeline.get(path)
    }

    /// A key of the overlay's `[env]`, e.g. `namespace`.
    pub fn env_key(&self, key: &str) -> Option<&Origin> {
        self.env.as_deref()?.get(key)
    }

    /// A key of `flinkops.toml`, e.g. `defaults.namespace`.
    pub fn project_key(&self, path: &str) -> Option<&Origin> {
        self.project.as_deref()?.get(path)
    }
}

/// One object emitted for a pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmittedObject {
    /// Kubernetes kind, e.g. `CronJob`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// Path relative to `out/<env>/`.
    pub file: String,
}

/// Source places of a pipeline (SPEC §17: every problem about a spec value is located).
#[derive(Debug, Clone)]
pub struct Places {
    /// The start of the pipeline file.
    pub file: crate::diag::Loc,
    /// `name = …`, when the file sets it.
    pub name: Option<crate::diag::Loc>,
    /// The `[job]` table (which builds the bundle image).
    pub job: Option<crate::diag::Loc>,
    /// `autoscaling.mode`, in whichever layer set it.
    pub autoscaling_mode: Option<crate::diag::Loc>,
}

impl Places {
    /// The most precise place for the pipeline as a whole: its `name`, else its file.
    pub fn identity(&self) -> &crate::diag::Loc {
        self.name.as_ref().unwrap_or(&self.file)
    }
}

/// A resource profile of SPEC §5 (its numbers are the validator's).
pub use crate::spec::raw::Profile;

/// A duration of the spec (`"60s"`, `"1h"`): its length, and its text as written, which is what
/// the output carries (Flink reads the same notation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duration {
    text: String,
    millis: u64,
}

impl Duration {
    /// `text` as written, `millis` its length (the validator parses it).
    pub fn new(text: impl Into<String>, millis: u64) -> Self {
        Duration { text: text.into(), millis }
    }

    /// The duration as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Its length in milliseconds.
    pub fn millis(&self) -> u64 {
        self.millis
    }
}

impl std::fmt::Display for Duration {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentMode {
    Native,
    Standalone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateBackend {
    Hashmap,
    Rocksdb,
    Forst,
}

impl StateBackend {
    pub fn as_str(self) -> &'static str {
        match self {
            StateBackend::Hashmap => "hashmap",
            StateBackend::Rocksdb => "rocksdb",
            StateBackend::Forst => "forst",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Flink {
    pub version: FlinkVersion,
    pub java: u32,
    pub mode: DeploymentMode,
    /// An explicit image (used as-is, no bundle image is emitted).
    pub image: Option<String>,
    pub service_account: String,
    pub slots: u32,
    pub state_backend: StateBackend,
    /// `execution.checkpointing.interval`; `None` for a bounded job, which does not checkpoint.
    pub checkpoint_interval: Option<Duration>,
    pub checkpoint_dir: Option<String>,
    pub savepoint_dir: Option<String>,
    pub high_availability: bool,
    pub ha_dir: Option<String>,
    /// `[flink.config]` after deprecated keys were rewritten.
    pub config: IndexMap<String, String>,
    /// `[flink.env]` plus the secret task parameters, sorted by name.
    pub env: Vec<EnvVar>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub value: EnvValue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    Literal(String),
    Secret { secret: String, key: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobKind {
    Python { script: String },
    Jar { jar: String, entry_class: String },
    Sql { sql: String },
}

impl JobKind {
    pub fn name(&self) -> &'static str {
        match self {
            JobKind::Python { .. } => "python",
            JobKind::Jar { .. } => "jar",
            JobKind::Sql { .. } => "sql",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpgradeMode {
    Stateless,
    Savepoint,
    LastState,
}

impl UpgradeMode {
    pub fn as_str(self) -> &'static str {
        match self {
            UpgradeMode::Stateless => "stateless",
            UpgradeMode::Savepoint => "savepoint",
            UpgradeMode::LastState => "last-state",
        }
    }
}

/// `job.state` (the FlinkDeployment's `spec.job.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Running,
    Suspended,
}

impl JobState {
    /// The word of the spec and of the operator's CRD.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Suspended => "suspended",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Job {
    pub kind: JobKind,
    /// `job.bounded`: the job ends by itself (a backfill) and runs in BATCH mode (SPEC §13.4).
    pub bounded: bool,
    pub bundle: String,
    pub parallelism: u32,
    pub upgrade_mode: UpgradeMode,
    /// `job.state`: whether the operator runs the job.
    pub state: JobState,
    pub initial_savepoint: Option<String>,
    pub allow_non_restored_state: bool,
    pub savepoint_nonce: i64,
    pub redeploy_nonce: i64,
    pub restart_nonce: i64,
    /// `kubernetes.operator.periodic.savepoint.interval`, after SPEC §13.6's default.
    pub periodic_savepoint: Option<Duration>,
    pub args: Vec<String>,
    pub requirements: Vec<String>,
    pub connectors: Vec<ConnectorBuild>,
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct ContainerResources {
    pub cpu: f64,
    pub memory: MemorySize,
}

#[derive(Debug, Clone)]
pub struct Resources {
    pub profile: Profile,
    pub jobmanager: ContainerResources,
    pub taskmanager: ContainerResources,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalingMode {
    Disabled,
    Reactive,
    /// `hpa` and `hpa_reactive`: an HPA always goes with reactive mode.
    HpaReactive,
    Scheduled,
    ScheduledHpa,
    Operator,
    Keda,
}

impl ScalingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ScalingMode::Disabled => "disabled",
            ScalingMode::Reactive => "reactive",
            ScalingMode::HpaReactive => "hpa_reactive",
            ScalingMode::Scheduled => "scheduled",
            ScalingMode::ScheduledHpa => "scheduled_hpa",
            ScalingMode::Operator => "operator",
            ScalingMode::Keda => "keda",
        }
    }

    /// Modes that run Flink's reactive scheduler (standalone application clusters).
    pub fn is_reactive_family(self) -> bool {
        !matches!(self, ScalingMode::Disabled | ScalingMode::Operator)
    }

    /// Modes in which something other than git (HPA, KEDA, CronJobs) changes the TaskManager count.
    pub fn count_managed_elsewhere(self) -> bool {
        matches!(self, ScalingMode::HpaReactive | ScalingMode::Scheduled | ScalingMode::ScheduledHpa | ScalingMode::Keda)
    }
}

#[derive(Debug, Clone)]
pub struct Autoscaling {
    pub mode: ScalingMode,
    /// Set when the user wrote `hpa` (shown by `explain`).
    pub hpa_alias: bool,
    /// TaskManager count: the starting count written into the FlinkDeployment, or (native mode
    /// without an explicit `replicas`) the count the operator derives from parallelism / slots.
    pub replicas: u32,
    /// Whether `taskManager.replicas` is written. Omitted in native mode unless set explicitly:
    /// the operator then runs at replicas × slots and ignores `job.parallelism`.
    pub emit_replicas: bool,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub target_cpu_utilization: u32,
    pub timezone: String,
    pub strategy: ScheduleStrategy,
    pub schedule: Vec<ScheduleEntry>,
    /// `spec.timeZone` of the scaling CronJobs: the zone (`native`), `Etc/UTC` (`utc`,
    /// `guarded` on Kubernetes >= 1.27), or none (older clusters).
    pub cronjob_time_zone: Option<String>,
    /// SPEC §16: the zone's UTC-offset changes over the horizon, embedded in the level-triggered
    /// `<pipeline>-scaling-reconcile` CronJob; `Some` exactly when that job is emitted (a
    /// `scheduled`/`scheduled_hpa` pipeline whose entries are all weekly).
    pub reconcile_offsets: Option<Vec<crate::schedule::OffsetChange>>,
    /// `job.autoscaler.*` keys for `operator` mode, in a fixed order.
    pub operator_config: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleEntry {
    pub name: String,
    /// When the entry fires, in the pipeline's zone.
    pub cron: ScheduleCron,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub replicas: u32,
    /// When a KEDA cron trigger's window closes: set exactly for the entries of a `keda`
    /// pipeline that raise its floor (the others have no trigger, so their `end` is unused).
    pub end: Option<ScheduleCron>,
    /// The CronJob schedules for this entry: the exact UTC set (`utc`), the cron itself
    /// (`native`), or a UTC superset that the guard filters (`guarded`). Empty under KEDA.
    pub schedules: Vec<String>,
    /// `guarded` only: the zone's UTC-offset changes over the horizon, embedded in the guard.
    pub guard_offsets: Vec<crate::schedule::OffsetChange>,
}

/// A valid cron of a schedule entry, with the text the user wrote: output and messages quote
/// that text (the parsed [`Cron`](crate::schedule::Cron) prints in canonical form, which may
/// differ, e.g. for `@daily`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleCron {
    text: String,
    cron: crate::schedule::Cron,
}

impl ScheduleCron {
    /// Parses `text` with Kubernetes' cron rules.
    pub fn parse(text: &str) -> Result<Self, crate::schedule::CronError> {
        Ok(ScheduleCron { cron: crate::schedule::Cron::parse(text)?, text: text.to_string() })
    }

    /// The parsed expression.
    pub fn cron(&self) -> &crate::schedule::Cron {
        &self.cron
    }

    /// The cron as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for ScheduleCron {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// One `[[tasks]]` entry, compiled.
#[derive(Debug, Clone)]
pub struct Task {
    pub name: String,
    pub enabled: bool,
    /// Parameters with secrets replaced by `{"secret_env": …}`.
    pub params: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_cron_shows_the_text_as_written() {
        let c = ScheduleCron::parse("@daily").unwrap();
        assert_eq!(c.to_string(), "@daily");
        assert_eq!(c.as_str(), "@daily");
        assert_eq!(*c.cron(), crate::schedule::Cron::parse("0 0 * * *").unwrap());
        assert!(ScheduleCron::parse("0 9 * * 7").is_err());
    }
}
