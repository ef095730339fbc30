//! Spec phase: the raw types of a pipeline file and of a template (a partial pipeline, SPEC §4,
//! §13.4).
//!
//! In: the pipeline's spanned table, its templates merged in. Out: [`Pipeline`].

use indexmap::IndexMap;

use super::project::ScheduleStrategy;
use super::{
    DNS_LABEL, FORM_CRON, FORM_DURATION, FORM_MEMORY, FORM_PATH, FORM_URI, FORM_ZONE, List, Raw, RawTable, Sp, Written, section, words,
};

/// Declares a whole pipeline: a pipeline file's keys, with `tasks` of the given type (a pipeline
/// file lists them, an overlay's `[pipelines.<name>]` keys them by name), so that the two
/// share every other key and its description. The fields before `;` are the type's own (a
/// pipeline file's `extends` and `name`, which an overlay cannot set).
macro_rules! pipeline {
    (
        $(#[$m:meta])* pub struct $name:ident {
            $( $(#[$hm:meta])* pub $head:ident: $head_ty:ty, )*
            ;
            $(#[$tm:meta])* pub tasks: $tasks:ty,
        }
    ) => {
        section! {
            $(#[$m])*
            pub struct $name {
                $( $(#[$hm])* pub $head: $head_ty, )*
                /// Namespace of the pipeline's objects; wins over every overlay's `[env] namespace`. Default: the overlay's `[env] namespace`, else `[defaults] namespace`.
                #[schemars(extend("pattern" = DNS_LABEL, "maxLength" = 63, "x-form" = "DNS-1123 label, at most 63 characters"))]
                pub namespace: Option<Sp<String>>,
                /// What the pipeline does, for people (`explain` shows it).
                pub description: Option<Sp<String>>,
                /// Labels on every object of the pipeline, after the overlay's `[env.labels]`; `flinkops.dev/` and `app.kubernetes.io/managed-by`/`part-of` are reserved.
                pub labels: Option<RawTable<IndexMap<String, String>>>,
                /// The Flink runtime: version, image, state storage and configuration.
                pub flink: Option<Sp<Flink>>,
                /// The job: its kind and files, parallelism, upgrades and state.
                pub job: Option<Sp<Job>>,
                /// Container resources: a profile and explicit values that override it.
                pub resources: Option<Sp<Resources>>,
                /// How the TaskManager count changes (SPEC §6).
                pub autoscaling: Option<Sp<Autoscaling>>,
                $(#[$tm])*
                pub tasks: $tasks,
            }
        }
    };
}
pub(crate) use pipeline;

pipeline! {
    /// One pipeline per file `pipelines/<file>.toml` (SPEC §4). Templates under `templates/` are partial pipelines with the same keys, merged under the files that `extends` them. Unknown keys are errors.
    #[schemars(title = "Pipeline files")]
    pub struct Pipeline {
        /// A template to merge this file over (relative to the repository root): tables merge deeply, arrays and scalars replace.
        #[schemars(extend("x-form" = FORM_PATH))]
        pub extends: Option<Sp<String>>,
        /// Pipeline name, at most 45 characters: it prefixes every object name. Default: the file stem.
        #[schemars(extend("pattern" = DNS_LABEL, "maxLength" = 45, "x-form" = "DNS-1123 label, at most 45 characters"))]
        pub name: Option<Sp<String>>,
        ;
        /// The named tasks of a multi-task job.
        pub tasks: Option<List<Sp<Task>>>,
    }
}
section! {
    /// The Flink runtime, its state storage and its configuration.
    #[schemars(title = "`[flink]`")]
    pub struct Flink {
        /// Full Flink runtime version (1.19 or newer); decides `flinkVersion`, the base image, PyFlink and the connector versions. Required (here or in a template).
        #[schemars(extend("pattern" = r"^[0-9]+\.[0-9]+\.[0-9]+$", "x-form" = "\"X.Y.Z\""))]
        pub version: Option<Sp<String>>,
        /// Java version of the base image; must be one offered for that Flink version (8, 11, 17 on 1.19 and 1.20; 11, 17, 21 on 2.x). Default: 17 on Flink 2.x, 11 on 1.19 and 1.20.
        pub java: Option<Sp<i64>>,
        /// Flink deployment mode. The reactive-family autoscaling modes need `standalone`: `native` with them is an error. Default: `standalone` for the reactive-family autoscaling modes, `native` otherwise.
        pub mode: Option<Sp<DeployMode>>,
        /// An image to use as-is instead of the bundle image (SPEC §9): must be pinned; no image spec is emitted. An empty string means unset. Default: the bundle image.
        pub image: Option<Sp<String>>,
        /// Kubernetes service account of the Flink pods. Default: `[defaults] service_account`.
        #[schemars(extend("pattern" = DNS_LABEL, "maxLength" = 63, "x-form" = "DNS-1123 label, at most 63 characters"))]
        pub service_account: Option<Sp<String>>,
        /// Task slots per TaskManager (`taskmanager.numberOfTaskSlots`). Default: 1.
        #[schemars(range(min = 1, max = 1024))]
        pub slots: Option<Sp<i64>>,
        /// State backend; `forst` needs Flink 2.x. Default: "rocksdb".
        pub state_backend: Option<Sp<StateBackend>>,
        /// Checkpoint interval, positive. A bounded job may not set it (it does not checkpoint). Default: "60s" (none for a bounded job).
        #[schemars(extend("x-form" = FORM_DURATION))]
        pub checkpoint_interval: Option<Sp<String>>,
        /// Checkpoint directory; `{env}`, `{name}` and `{namespace}` are substituted.
        #[schemars(extend("x-form" = FORM_URI))]
        pub checkpoint_dir: Option<Sp<String>>,
        /// Savepoint directory; `{env}`, `{name}` and `{namespace}` are substituted. Needed by `upgrade_mode` savepoint and last-state, `savepoint_nonce` and `periodic_savepoint`.
        #[schemars(extend("x-form" = FORM_URI))]
        pub savepoint_dir: Option<Sp<String>>,
        /// Kubernetes high availability, with its metadata in `ha_dir`. Default: false.
        pub high_availability: Option<Sp<bool>>,
        /// HA metadata directory; `{env}`, `{name}` and `{namespace}` are substituted.
        #[schemars(extend("x-form" = FORM_URI))]
        pub ha_dir: Option<Sp<String>>,
        /// Extra `flinkConfiguration` entries, emitted as strings. Deprecated keys are renamed with a warning; keys that a typed field sets, keys the operator owns and secret-looking keys are errors.
        pub config: Option<RawTable<IndexMap<String, ConfigValue>>>,
        /// Environment variables of the Flink containers: a value, or `{ secret, key }` (a `secretKeyRef`). A secret-looking name must use `{ secret, key }`; the `FLINKOPS_` prefix is reserved.
        pub env: Option<RawTable<IndexMap<String, EnvValue>>>,
    }
}
section! {
    /// A value read from a Kubernetes Secret (a `secretKeyRef`), never written as a literal.
    #[schemars(title = "`{ secret, key }`")]
    pub struct Secret {
        /// Name of the Kubernetes Secret (a DNS-1123 subdomain). Required.
        pub secret: Option<Sp<String>>,
        /// The key inside the Secret. Required.
        pub key: Option<Sp<String>>,
    }
}
section! {
    /// The job: its kind and files (bundled into the stream-job image, SPEC §9), its upgrades and its state.
    #[schemars(title = "`[job]`")]
    pub struct Job {
        /// `python` (needs `script`), `jar` (needs `jar` and `entry_class`) or `sql` (needs `sql`; run by a bundled PyFlink runner). Required (here or in a template).
        pub kind: Option<Written<Sp<JobKind>>>,
        /// The job ends by itself (a backfill): BATCH runtime mode; needs `upgrade_mode = "stateless"` and autoscaling `disabled`; no `checkpoint_interval` (SPEC §13.4). Default: false.
        pub bounded: Option<Sp<bool>>,
        /// Image name of the bundle; pipelines naming the same bundle share one image. Default: the pipeline name.
        #[schemars(extend("pattern" = DNS_LABEL, "maxLength" = 63, "x-form" = "DNS-1123 label, at most 63 characters"))]
        pub bundle: Option<Sp<String>>,
        /// Job parallelism (the initial value in reactive modes). Default: 1.
        #[schemars(range(min = 1, max = 100000))]
        pub parallelism: Option<Sp<i64>>,
        /// How the operator upgrades the job: `savepoint` needs `checkpoint_dir` and `savepoint_dir`, `last-state` also `high_availability`. Default: "stateless".
        pub upgrade_mode: Option<Sp<UpgradeMode>>,
        /// `job.state`: suspending with upgrade mode savepoint takes a savepoint first (`flinkops suspend` / `resume`). Default: "running".
        pub state: Option<Sp<JobState>>,
        /// Savepoint URI to start from (`job.initialSavepointPath`): on the first deploy, or on a redeploy with `redeploy_nonce`. An empty string means unset.
        pub initial_savepoint: Option<Sp<String>>,
        /// `job.allowNonRestoredState`: start although savepoint state maps to no operator. Default: false.
        pub allow_non_restored_state: Option<Sp<bool>>,
        /// Change it to take a savepoint now (`job.savepointTriggerNonce`, `flinkops savepoint`); needs `savepoint_dir`. Default: 0 (not emitted).
        #[schemars(range(min = 0))]
        pub savepoint_nonce: Option<Sp<i64>>,
        /// Change it, with `initial_savepoint`, to redeploy from that savepoint (`job.savepointRedeployNonce`, `flinkops restore`). Default: 0 (not emitted).
        #[schemars(range(min = 0))]
        pub redeploy_nonce: Option<Sp<i64>>,
        /// Change it to restart the job (`spec.restartNonce`, `flinkops restart`). Default: 0 (not emitted).
        #[schemars(range(min = 0))]
        pub restart_nonce: Option<Sp<i64>>,
        /// Interval of periodic savepoints (`kubernetes.operator.periodic.savepoint.interval`); "0" turns them off. Needs `savepoint_dir`; not on a bounded job. Default: "1h" for a standalone deployment without HA that has a `savepoint_dir` (SPEC §13.6), else none.
        #[schemars(extend("x-form" = FORM_DURATION))]
        pub periodic_savepoint: Option<Sp<String>>,
        /// Arguments passed to the job.
        pub args: Option<List<Sp<String>>>,
        /// python: the entry script; its folder is bundled (recursively). Required for python jobs.
        #[schemars(extend("x-form" = FORM_PATH))]
        pub script: Option<Sp<String>>,
        /// python and sql: pip requirements, each pinned with `==`. PyFlink (`apache-flink`) is installed at `flink.version` itself.
        #[schemars(schema_with = "requirements_schema")]
        pub requirements: Option<Sp<List<Sp<String>>>>,
        /// jar: the job's jar file, bundled. Required for jar jobs.
        #[schemars(extend("x-form" = FORM_PATH))]
        pub jar: Option<Sp<String>>,
        /// jar: the job's main class. Required for jar jobs.
        pub entry_class: Option<Sp<String>>,
        /// sql: the SQL file, run by a bundled PyFlink runner. Required for sql jobs.
        #[schemars(extend("x-form" = FORM_PATH))]
        pub sql: Option<Sp<String>>,
        /// Connector jars added to the bundle, in the build made for `flink.version`'s minor.
        #[schemars(schema_with = "connectors_schema")]
        pub connectors: Option<List<Sp<String>>>,
        /// Globs (relative to the repository root) of files left out of the bundle. Hidden files, `__pycache__/`, `*.pyc` and `*.pyo` are always left out.
        pub exclude: Option<List<Sp<String>>>,
    }
}
section! {
    /// Container resources: a profile (SPEC §5), and explicit values that override it.
    #[schemars(title = "`[resources]`")]
    pub struct Resources {
        /// Resource profile: TaskManager cpu and memory and the default replica bounds (micro 0.2/1024m/1–2, small 0.5/1024m/1–3, medium 1/2048m/2–5, large 2/4096m/2–10, xlarge 4/8192m/3–20). Default: "small".
        pub profile: Option<Sp<Profile>>,
        /// The JobManager's cpu and memory. Default: 0.5 cpu, "1024m".
        pub jobmanager: Option<Container>,
        /// Each TaskManager's cpu and memory. Default: the profile's.
        pub taskmanager: Option<Container>,
    }
}
section! {
    /// Explicit container resources; they override the profile. Every container gets cpu and memory requests and a memory limit equal to the request.
    #[schemars(title = "`[resources.jobmanager]` and `[resources.taskmanager]`")]
    pub struct Container {
        /// CPU request in cores. Default: TaskManager: the profile's; JobManager: 0.5.
        #[schemars(extend("exclusiveMinimum" = 0))]
        #[schemars(range(max = 1024))]
        pub cpu: Option<Sp<f64>>,
        /// Memory request and limit in Flink notation (e.g. "2048m", "4g"); must hold what Flink's memory model needs. Default: TaskManager: the profile's; JobManager: "1024m".
        #[schemars(extend("x-form" = FORM_MEMORY))]
        pub memory: Option<Sp<String>>,
    }
}
section! {
    /// How the TaskManager count changes (SPEC §6). Keys the chosen mode does not use are ignored without a warning (`explain` lists them), so an overlay can switch a pipeline to `disabled`.
    #[schemars(title = "`[autoscaling]`")]
    pub struct Autoscaling {
        /// `disabled`, `reactive`, `hpa_reactive` (`hpa` is its alias), `scheduled`, `scheduled_hpa`, `operator` or `keda` (SPEC §6.1). Default: "disabled".
        pub mode: Option<Sp<AutoscalingMode>>,
        /// TaskManager count to start with. Default: ceil(parallelism / slots); `min_replicas` where an HPA, KEDA or CronJobs manage the count.
        #[schemars(range(min = 1, max = 10000))]
        pub replicas: Option<Sp<i64>>,
        /// Lower replica bound (at least 1): the HPA's `minReplicas`; every entry lies within the bounds. Default: the lowest of the schedule entries, else the profile's.
        #[schemars(range(min = 1, max = 10000))]
        pub min_replicas: Option<Sp<i64>>,
        /// Upper replica bound: the hard cap capacity checks and `explain` use. Default: the highest of the schedule entries, else the profile's.
        #[schemars(range(min = 1, max = 10000))]
        pub max_replicas: Option<Sp<i64>>,
        /// CPU utilization target (percent) of the HPA and of KEDA's cpu trigger. Default: 75.
        #[schemars(range(min = 1, max = 100))]
        pub target_cpu_utilization: Option<Sp<i64>>,
        /// IANA time zone the schedule crons are written in. Default: the overlay's `[env] timezone`, else `[defaults] timezone`.
        #[schemars(extend("x-form" = FORM_ZONE))]
        pub timezone: Option<Sp<String>>,
        /// How the schedule becomes CronJobs (SPEC §6.3). Default: `[defaults] schedule_strategy`.
        pub schedule_strategy: Option<Sp<ScheduleStrategy>>,
        /// A predefined schedule (SPEC §6.2): `workday_peak` or `24x7_peak`; not together with `[[autoscaling.schedule]]`.
        // The word is checked (as a [`Preset`]) only by the modes that use a schedule.
        #[schemars(with = "Option<Preset>")]
        pub preset: Option<Sp<String>>,
        /// Scaling windows, for `scheduled`, `scheduled_hpa` and `keda`.
        // Read only by the modes that use it: the others ignore it, so an overlay can switch a
        // pipeline to `disabled` without removing it.
        pub schedule: Option<Raw<List<Sp<ScheduleEntry>>>>,
        /// The operator autoscaler's settings, for `mode = "operator"`.
        // Read only in `operator` mode, like `schedule`.
        pub operator: Option<Raw<OperatorAutoscaler>>,
    }
}
section! {
    /// A scaling window: from when its cron fires (local time in the resolved time zone) until the next entry fires.
    #[schemars(title = "`[[autoscaling.schedule]]`")]
    pub struct ScheduleEntry {
        /// Entry name, unique in the pipeline; part of CronJob names. Required.
        #[schemars(extend("pattern" = DNS_LABEL, "maxLength" = 63, "x-form" = "DNS-1123 label, at most 63 characters"))]
        pub name: Option<Sp<String>>,
        /// When the window starts: 5 fields or an @-shortcut, Kubernetes syntax, in local time. Required.
        #[schemars(extend("x-form" = FORM_CRON))]
        pub cron: Option<Sp<String>>,
        /// Lower replica bound while the window is in force (keda: the floor). Required, except in `scheduled` mode when `replicas` is given.
        #[schemars(range(min = 1, max = 10000))]
        pub min_replicas: Option<Written<Sp<i64>>>,
        /// Upper replica bound while the window is in force. Default: `min_replicas`.
        #[schemars(range(min = 1, max = 10000))]
        pub max_replicas: Option<Sp<i64>>,
        /// `scheduled` mode: the TaskManager count the CronJob sets; may be given instead of `min_replicas`/`max_replicas`. Default: `min_replicas`.
        #[schemars(range(min = 1, max = 10000))]
        pub replicas: Option<Sp<i64>>,
        /// keda: when the window closes; required on entries that raise the floor.
        #[schemars(extend("x-form" = FORM_CRON))]
        pub end: Option<Sp<String>>,
    }
}
section! {
    /// `mode = "operator"`: the operator's own autoscaler; each key becomes a `job.autoscaler.*` option. Unset keys keep the operator's defaults.
    #[schemars(title = "`[autoscaling.operator]`")]
    pub struct OperatorAutoscaler {
        /// `job.autoscaler.utilization.target`: the target busy fraction of each vertex. Default: the operator's.
        #[schemars(extend("exclusiveMinimum" = 0))]
        #[schemars(range(max = 1))]
        pub utilization_target: Option<Sp<f64>>,
        /// `job.autoscaler.metrics.window`: how much history a decision looks at. Default: the operator's.
        #[schemars(extend("x-form" = FORM_DURATION))]
        pub metrics_window: Option<Sp<String>>,
        /// `job.autoscaler.stabilization.interval`: no scaling this long after a (re)start. Default: the operator's.
        #[schemars(extend("x-form" = FORM_DURATION))]
        pub stabilization_interval: Option<Sp<String>>,
        /// `job.autoscaler.scale-down.interval`: how long a scale-down is delayed. Default: the operator's.
        #[schemars(extend("x-form" = FORM_DURATION))]
        pub scale_down_interval: Option<Sp<String>>,
        /// `job.autoscaler.vertex.max-parallelism`: the highest parallelism it gives a vertex. Default: the operator's.
        #[schemars(range(min = 1, max = 32768))]
        pub vertex_max_parallelism: Option<Sp<i64>>,
    }
}
section! {
    /// A named task of a bundled multi-task job (SPEC §9.2). Tasks are compiled into the ConfigMap `<pipeline>-tasks` (`tasks.json`); changing them restarts the job through its upgrade mode.
    #[schemars(title = "`[[tasks]]`")]
    pub struct Task {
        /// Task name, unique in the pipeline. Required.
        #[schemars(extend("pattern" = DNS_LABEL, "maxLength" = 63, "x-form" = "DNS-1123 label, at most 63 characters"))]
        pub name: Option<Sp<String>>,
        /// Whether the job runs the task; disabled tasks stay in `tasks.json`. Default: true.
        pub enabled: Option<Sp<bool>>,
        /// Free-form parameters, emitted as JSON. `{ secret, key }` at any depth becomes an environment variable `FLINKOPS_SECRET_<TASK>_<PATH>` and `{"secret_env": …}` in `tasks.json`; a secret-looking key must use it. Default: {}.
        pub params: Option<RawTable<IndexMap<String, serde_json::Value>>>,
    }
}

/// A `[flink.config]` value: emitted as a string.
#[derive(Debug, Clone, schemars::JsonSchema)]
#[schemars(inline)]
#[serde(untagged)]
#[allow(dead_code)] // described to the schema only; the value is read as a tree
pub enum ConfigValue {
    String(String),
    Number(f64),
    Bool(bool),
}

/// A `[flink.env]` value: a literal, or a `{ secret, key }` reference.
#[derive(Debug, Clone, schemars::JsonSchema)]
#[schemars(inline)]
#[serde(untagged)]
#[allow(dead_code)] // described to the schema only; the value is read as a tree
pub enum EnvValue {
    String(String),
    Number(f64),
    Bool(bool),
    Secret(Secret),
}

words! {
    /// `[flink] mode`: the Flink deployment mode.
    pub enum DeployMode {
        Native = "native",
        Standalone = "standalone",
    }
}

words! {
    /// `[flink] state_backend`.
    pub enum StateBackend {
        Hashmap = "hashmap",
        Rocksdb = "rocksdb",
        Forst = "forst",
    }
}

words! {
    /// `[job] kind`.
    pub enum JobKind {
        Python = "python",
        Jar = "jar",
        Sql = "sql",
    }
}

words! {
    /// `[job] upgrade_mode`.
    pub enum UpgradeMode {
        Stateless = "stateless",
        Savepoint = "savepoint",
        LastState = "last-state",
    }
}

words! {
    /// `[job] state`.
    pub enum JobState {
        Running = "running",
        Suspended = "suspended",
    }
}

words! {
    /// `[resources] profile`: a resource profile of SPEC §5 (its numbers are the validator's).
    pub enum Profile {
        Micro = "micro",
        Small = "small",
        Medium = "medium",
        Large = "large",
        Xlarge = "xlarge",
    }
}

words! {
    /// `[autoscaling] mode` (SPEC §6.1); `hpa` is the alias of `hpa_reactive`.
    pub enum AutoscalingMode {
        Disabled = "disabled",
        Reactive = "reactive",
        Hpa = "hpa",
        HpaReactive = "hpa_reactive",
        Scheduled = "scheduled",
        ScheduledHpa = "scheduled_hpa",
        Operator = "operator",
        Keda = "keda",
    }
}

words! {
    /// `[autoscaling] preset`: a predefined schedule (SPEC §6.2).
    pub enum Preset {
        WorkdayPeak = "workday_peak",
        Peak24x7 = "24x7_peak",
    }
}

/// `[job] requirements`: pip requirements pinned with `==`.
fn requirements_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "items": { "type": "string", "pattern": r"^[^=<>~!]*[^=<>~!\s][^=<>~!]*==[^*,; ]+$", "x-form": "\"name==version\"" }
    })
}

/// `[job] connectors`: the words are the connectors `crate::versions` has builds of (it owns
/// them, with their versions).
fn connectors_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "array", "items": { "type": "string", "enum": crate::versions::CONNECTOR_NAMES } })
}
