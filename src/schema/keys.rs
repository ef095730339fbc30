//! The key registry: every key of the three files a user writes — `flinkops.toml` (SPEC §3,
//! §13.2, §14), pipeline files and templates (§4, §13.4) and overlays (§8, §13.5) — with its type,
//! its default as shown to users, its meaning and its constraints.
//!
//! In: nothing (static data). Out: a tree of [`Section`]s that the JSON Schemas
//! (`flinkops schema`) and `docs/reference.md` are generated from, and from which the validator
//! takes the key lists it accepts ([`key_names!`]), so a key cannot exist in one and not the
//! others. The cross-field rules (what a mode needs, bounds between keys) stay in the validator.
//! Closed sets of words are spelt once: the registry reads the ones the validator or the version
//! tables own as constants (modes, presets, profiles, strategies, operator versions,
//! connectors), and the validator reads the others from here (deployment modes, state backends,
//! job kinds, upgrade modes, job states, delivery tools).

use crate::validate::pipeline::{MODES, PRESETS, PROFILES};
use crate::validate::project::STRATEGIES;
use crate::versions::{CONNECTOR_NAMES, Operator};

/// The type of a key's value.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    /// Any string.
    Str,
    /// A DNS-1123 label of at most this many characters.
    Dns(u32),
    /// A string matching a regular expression; the second field shows its form to people.
    Pattern(&'static str, &'static str),
    /// A Flink duration such as `60s`, `10m`, `1h`.
    Duration,
    /// A memory size such as `2048m`, `4g` or `128Gi`.
    Memory,
    /// An IANA time-zone name.
    Zone,
    /// A 5-field cron expression or an @-shortcut (Kubernetes syntax, SPEC §6.3).
    Cron,
    /// A path relative to the repository root (or, for a patch `file`, to the overlay folder).
    Path,
    /// A URI with a scheme (`s3://…`); `{env}`, `{name}` and `{namespace}` are substituted.
    Uri,
    /// A TOML date (or a `YYYY-MM-DD` string).
    Date,
    Int,
    Num,
    Bool,
    /// One of these words.
    Words(&'static [&'static str]),
    /// An array of values of this type.
    List(&'static Ty),
    /// A table with exactly the keys of this section.
    Table(&'static Section),
    /// An array of tables (`[[…]]`), each with the keys of this section.
    Tables(&'static Section),
    /// A table whose keys are chosen by the user, each value of this type.
    Map(&'static Ty),
    /// A value of any of these types.
    AnyOf(&'static [Ty]),
    /// A free-form table (any keys, any values).
    FreeTable,
    /// Any TOML value.
    Value,
}

/// One key of a section.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub name: &'static str,
    pub ty: Ty,
    /// The default as shown to users (`"UTC"`, `60s`, "the pipeline name"); empty: no default
    /// (the key is unset unless written).
    pub default: &'static str,
    /// Every table of this kind must have the key (a JSON Schema `required`). Keys required
    /// only after templates and overlays are merged say so in `default` instead.
    pub required: bool,
    /// What the key means, one or two sentences.
    pub meaning: &'static str,
    pub min: Option<f64>,
    /// `min` itself is not allowed (a positive number: `min = 0`, exclusive).
    pub exclusive_min: bool,
    pub max: Option<f64>,
}

/// A new key; the builder methods below add its default and constraints.
pub const fn key(name: &'static str, ty: Ty, meaning: &'static str) -> Key {
    Key { name, ty, default: "", required: false, meaning, min: None, exclusive_min: false, max: None }
}

impl Key {
    pub const fn default(mut self, default: &'static str) -> Key {
        self.default = default;
        self
    }
    pub const fn required(mut self) -> Key {
        self.required = true;
        self
    }
    /// `min <= value <= max`.
    pub const fn range(mut self, min: f64, max: f64) -> Key {
        self.min = Some(min);
        self.max = Some(max);
        self
    }
    /// `value >= min`.
    pub const fn at_least(mut self, min: f64) -> Key {
        self.min = Some(min);
        self
    }
    /// `value > min`.
    pub const fn above(mut self, min: f64) -> Key {
        self.min = Some(min);
        self.exclusive_min = true;
        self
    }
    pub const fn max(mut self, max: f64) -> Key {
        self.max = Some(max);
        self
    }
}

/// A table of keys.
#[derive(Debug)]
pub struct Section {
    /// How the documentation heads it, e.g. `[flink]` or `[[autoscaling.schedule]]`.
    pub title: &'static str,
    /// What the table is for.
    pub about: &'static str,
    pub keys: &'static [Key],
    /// Another section whose keys this one has too (its own `keys` replace same-named ones):
    /// an overlay's `[pipelines.<name>]` is a pipeline with a different `tasks`.
    pub base: Option<&'static Section>,
    /// Exactly one of these keys must be given (a `[[patches]]` entry: `ops` or `file`).
    pub one_of: &'static [&'static str],
    /// Keys other than `keys` are allowed (and ignored): RFC 6902 operations.
    pub open: bool,
}

/// A closed section without a base.
const fn section(title: &'static str, about: &'static str, keys: &'static [Key]) -> Section {
    Section { title, about, keys, base: None, one_of: &[], open: false }
}

impl Section {
    /// Every key of the section, the base's first (with this section's replacements in place),
    /// then its own new ones.
    pub fn all_keys(&self) -> Vec<&'static Key> {
        let mut out: Vec<&'static Key> = match self.base {
            Some(b) => b.all_keys().into_iter().map(|k| self.keys.iter().find(|o| o.name == k.name).unwrap_or(k)).collect(),
            None => vec![],
        };
        for k in self.keys {
            if !out.iter().any(|o| o.name == k.name) {
                out.push(k);
            }
        }
        out
    }

    /// The key names the validator accepts in this section.
    pub fn names(&self) -> Vec<&'static str> {
        self.all_keys().iter().map(|k| k.name).collect()
    }

    /// The key of this name, if the section has one.
    pub fn key(&self, name: &str) -> Option<&'static Key> {
        self.all_keys().into_iter().find(|k| k.name == name)
    }
}

/// The names of `keys`, in order, as an array: lets a `const` key list be computed from a
/// section ([`key_names!`]).
pub const fn names<const N: usize>(keys: &[Key]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = keys[i].name;
        i += 1;
    }
    out
}

/// `&[&str]` of a section's own key names, usable in a `const`: the validator's key lists.
macro_rules! key_names {
    ($section:expr) => {
        &$crate::schema::keys::names::<{ $section.keys.len() }>($section.keys)
    };
}
pub(crate) use key_names;

const fn profile_names<const N: usize>() -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = PROFILES[i].name;
        i += 1;
    }
    out
}

const fn operator_names<const N: usize>() -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = Operator::ALL[i].0;
        i += 1;
    }
    out
}

const PROFILE_NAMES: &[&str] = &profile_names::<{ PROFILES.len() }>();
const OPERATOR_VERSIONS: &[&str] = &operator_names::<{ Operator::ALL.len() }>();

// Closed sets of words the validator reads from here (the others it owns as constants of its
// own, see the imports above).
/// `[flink] mode`.
pub const DEPLOY_MODES: &[&str] = &["native", "standalone"];
/// `[flink] state_backend`.
pub const STATE_BACKENDS: &[&str] = &["hashmap", "rocksdb", "forst"];
/// `[job] kind`.
pub const JOB_KINDS: &[&str] = &["python", "jar", "sql"];
/// `[job] upgrade_mode`.
pub const UPGRADE_MODES: &[&str] = &["stateless", "savepoint", "last-state"];
/// `[job] state`.
pub const JOB_STATES: &[&str] = &["running", "suspended"];
/// `[delivery] tool`.
pub const DELIVERY_TOOLS: &[&str] = &["argocd", "flux", "none"];

// --- shared -------------------------------------------------------------------------------

/// `{ secret = "…", key = "…" }`: a value read from a Kubernetes Secret.
pub const SECRET: Section = section(
    "`{ secret, key }`",
    "A value read from a Kubernetes Secret (a `secretKeyRef`), never written as a literal.",
    &[
        key("secret", Ty::Str, "Name of the Kubernetes Secret (a DNS-1123 subdomain).").required(),
        key("key", Ty::Str, "The key inside the Secret.").required(),
    ],
);

/// `[cluster]` of `flinkops.toml` and of an overlay.
pub const CLUSTER: Section = section(
    "`[cluster]`",
    "A capacity budget: the JobManager plus max TaskManagers of every pipeline of an environment \
     must fit, or it is an error naming the biggest consumers (SPEC §7). In `flinkops.toml` it \
     applies to every environment; an overlay's `[cluster]` replaces it for that environment.",
    &[
        key("cpu", Ty::Num, "CPU cores the environment's pipelines may use.").required().above(0.0),
        key("memory", Ty::Memory, "Memory the environment's pipelines may use, e.g. \"128Gi\".").required(),
    ],
);

// --- flinkops.toml --------------------------------------------------------------------------

pub const PROJECT: Section = section(
    "`[project]`",
    "The project: its name and the Git repository Argo CD or Flux pull.",
    &[
        key("name", Ty::Dns(63), "Project name, used in labels (`app.kubernetes.io/part-of`) and in Argo CD / Flux object names.")
            .required(),
        key("repo_url", Ty::Str, "URL of this Git repository, which Argo CD / Flux pull.")
            .default("required unless `[delivery] tool = \"none\"`"),
        key("revision", Ty::Str, "Git revision (branch, tag or commit) Argo CD / Flux sync.").default("\"main\""),
    ],
);

pub const TARGET: Section = section(
    "`[target]`",
    "What the output must run on.",
    &[
        key(
            "operator",
            Ty::Words(OPERATOR_VERSIONS),
            "Flink Kubernetes Operator version: \"1.15\" (the newest release; `resource: {cpu, memory}`) or \"1.16\" \
             (operator main, unreleased: requests = limits, memory as a Kubernetes quantity).",
        )
        .default("\"1.15\""),
        key(
            "kubernetes",
            Ty::Pattern(r"^1\.[0-9]+$", "\"1.MINOR\""),
            "Oldest Kubernetes version the clusters run; `native` schedules need 1.27 or newer, and CronJobs get \
             `timeZone: Etc/UTC` from 1.27 on.",
        )
        .default("\"1.30\""),
    ],
);

pub const DEFAULTS: Section = section(
    "`[defaults]`",
    "What every pipeline inherits unless the overlay's `[env]` or the pipeline itself says otherwise \
     (SPEC §3 precedence: built-in default, `[defaults]`, overlay `[env]`, pipeline file, overlay `[pipelines.<name>]`).",
    &[
        key("namespace", Ty::Dns(63), "Namespace of the pipelines' objects.").default("\"flink-jobs\""),
        key("timezone", Ty::Zone, "IANA time zone the schedule crons are written in.").default("\"UTC\""),
        key(
            "schedule_strategy",
            Ty::Words(STRATEGIES),
            "How a schedule becomes CronJobs (SPEC §6.3): `utc` (exact UTC expressions, an error when none exist), \
             `native` (`spec.timeZone`, Kubernetes 1.27+) or `guarded` (UTC superset with a guard in the pod).",
        )
        .default("\"utc\""),
        key("registry", Ty::Str, "Registry the bundle images (SPEC §9) are pushed to: images are `<registry>/<bundle>:<tag>`.")
            .default("required as soon as a bundle image is emitted"),
        key("service_account", Ty::Dns(63), "Kubernetes service account of the Flink pods.").default("\"flink\""),
        key(
            "manage_namespaces",
            Ty::Bool,
            "Emit, per environment, every namespace holding a FlinkDeployment (with `Prune=false`) and the Flink \
             service account, Role and RoleBinding in it (the `_namespaces` unit, SPEC §13.2); `false` when a platform \
             team provides them. An overlay's `[env]` may override it.",
        )
        .default("true"),
    ],
);

pub const SCHEDULE: Section = section(
    "`[schedule]`",
    "The horizon over which schedules are converted (SPEC §6.3).",
    &[key(
        "valid_from",
        Ty::Date,
        "Start of the horizon (00:00 UTC); the horizon ends 2100-01-01. A fixed date, never \"today\", so the \
         output does not depend on the day it is generated.",
    )
    .default("2026-01-01")],
);

pub const SCALER: Section = section(
    "`[scaler]`",
    "The scaling CronJobs of `scheduled` and `scheduled_hpa` pipelines.",
    &[key(
        "image",
        Ty::Str,
        "Image the scaling CronJobs run: must contain `sh`, `date` and `kubectl`, and be pinned (a version tag or \
         an `@sha256:` digest).",
    )
    .default("required as soon as a pipeline uses `scheduled` or `scheduled_hpa`")],
);

pub const DELIVERY: Section = section(
    "`[delivery]`",
    "How Argo CD or Flux apply `out/` (SPEC §10, §14): one unit per pipeline per environment.",
    &[
        key(
            "tool",
            Ty::Words(DELIVERY_TOOLS),
            "What applies `out/`: Argo CD Applications, Flux Kustomizations, or `none` (only the kustomizations are written).",
        )
        .default("\"argocd\""),
        key("argocd_namespace", Ty::Str, "Namespace of the Argo CD Applications.").default("\"argocd\""),
        key("argocd_project", Ty::Str, "Argo CD project of the Applications.").default("\"default\""),
        key("argocd_server", Ty::Str, "The Applications' `destination.server`: the API server of the cluster they deploy to.")
            .default("\"https://kubernetes.default.svc\""),
        key("flux_namespace", Ty::Str, "Namespace of the Flux Kustomizations.").default("\"flux-system\""),
        key("flux_source", Ty::Str, "Name of the GitRepository Flux already has (the Kustomizations' `sourceRef`).")
            .default("\"flux-system\""),
        key(
            "flux_version",
            Ty::Pattern(r"^[0-9]+\.[0-9]+$", "\"MAJOR.MINOR\""),
            "Oldest Flux the clusters run. Below 2.9 Flux cannot ignore run-time replica changes, so `hpa`, \
             `hpa_reactive`, `keda`, `scheduled` and `scheduled_hpa` are errors (SPEC §6.4).",
        )
        .default("\"2.9\""),
        key(
            "flux_interval",
            Ty::Pattern(r"^([0-9.]+(ms|h|m|s))+$", "a Go duration such as \"10m\" or \"1h30m\""),
            "How often Flux reconciles each Kustomization (`spec.interval`).",
        )
        .default("\"10m\""),
        key("self_heal", Ty::Bool, "Argo CD automated sync's `selfHeal`: revert changes made in the cluster by hand.").default("true"),
        key("prune", Ty::Bool, "Delete from the cluster what was removed from `out/` (Argo CD automated `prune`, Flux `prune`).")
            .default("true"),
        key(
            "flux_shards",
            Ty::Int,
            "Flux controller sharding (SPEC §14): label every per-pipeline Kustomization `sharding.fluxcd.io/key: shard<k>`, \
             k = the first 4 bytes of sha256(pipeline name), big-endian, mod this number; 0 turns it off.",
        )
        .default("0")
        .range(0.0, 1024.0),
    ],
);

/// `flinkops.toml`.
pub const PROJECT_FILE: Section = section(
    "`flinkops.toml`",
    "Project settings (SPEC §3), at the repository root. Unknown keys are errors.",
    &[
        key("project", Ty::Table(&PROJECT), "The project: its name and Git repository.").required(),
        key("target", Ty::Table(&TARGET), "The operator and Kubernetes versions the output is for."),
        key("defaults", Ty::Table(&DEFAULTS), "Defaults every pipeline inherits."),
        key("schedule", Ty::Table(&SCHEDULE), "The schedule horizon."),
        key("scaler", Ty::Table(&SCALER), "The scaling CronJobs' image."),
        key("delivery", Ty::Table(&DELIVERY), "How Argo CD or Flux apply `out/`."),
        key("cluster", Ty::Table(&CLUSTER), "A capacity budget per environment.").default("no budget"),
    ],
);

// --- pipeline files ------------------------------------------------------------------------

pub const FLINK: Section = section(
    "`[flink]`",
    "The Flink runtime, its state storage and its configuration.",
    &[
        key(
            "version",
            Ty::Pattern(r"^[0-9]+\.[0-9]+\.[0-9]+$", "\"X.Y.Z\""),
            "Full Flink runtime version (1.19 or newer); decides `flinkVersion`, the base image, PyFlink and the connector versions.",
        )
        .default("required (here or in a template)"),
        key(
            "java",
            Ty::Int,
            "Java version of the base image; must be one offered for that Flink version (8, 11, 17 on 1.19 and 1.20; 11, 17, 21 on 2.x).",
        )
        .default("17 on Flink 2.x, 11 on 1.19 and 1.20"),
        key(
            "mode",
            Ty::Words(DEPLOY_MODES),
            "Flink deployment mode. The reactive-family autoscaling modes need `standalone`: `native` with them is an error.",
        )
        .default("`standalone` for the reactive-family autoscaling modes, `native` otherwise"),
        key(
            "image",
            Ty::Str,
            "An image to use as-is instead of the bundle image (SPEC §9): must be pinned; no image spec is emitted. \
             An empty string means unset.",
        )
        .default("the bundle image"),
        key("service_account", Ty::Dns(63), "Kubernetes service account of the Flink pods.").default("`[defaults] service_account`"),
        key("slots", Ty::Int, "Task slots per TaskManager (`taskmanager.numberOfTaskSlots`).").default("1").range(1.0, 1024.0),
        key("state_backend", Ty::Words(STATE_BACKENDS), "State backend; `forst` needs Flink 2.x.").default("\"rocksdb\""),
        key("checkpoint_interval", Ty::Duration, "Checkpoint interval, positive. A bounded job may not set it (it does not checkpoint).")
            .default("\"60s\" (none for a bounded job)"),
        key("checkpoint_dir", Ty::Uri, "Checkpoint directory; `{env}`, `{name}` and `{namespace}` are substituted.").default("none"),
        key(
            "savepoint_dir",
            Ty::Uri,
            "Savepoint directory; `{env}`, `{name}` and `{namespace}` are substituted. Needed by `upgrade_mode` \
             savepoint and last-state, `savepoint_nonce` and `periodic_savepoint`.",
        )
        .default("none"),
        key("high_availability", Ty::Bool, "Kubernetes high availability, with its metadata in `ha_dir`.").default("false"),
        key("ha_dir", Ty::Uri, "HA metadata directory; `{env}`, `{name}` and `{namespace}` are substituted.").default("none"),
        key(
            "config",
            Ty::Map(&Ty::AnyOf(&[Ty::Str, Ty::Num, Ty::Bool])),
            "Extra `flinkConfiguration` entries, emitted as strings. Deprecated keys are renamed with a warning; keys \
             that a typed field sets, keys the operator owns and secret-looking keys are errors.",
        )
        .default("none"),
        key(
            "env",
            Ty::Map(&Ty::AnyOf(&[Ty::Str, Ty::Num, Ty::Bool, Ty::Table(&SECRET)])),
            "Environment variables of the Flink containers: a value, or `{ secret, key }` (a `secretKeyRef`). A \
             secret-looking name must use `{ secret, key }`; the `FLINKOPS_` prefix is reserved.",
        )
        .default("none"),
    ],
);

pub const JOB: Section = section(
    "`[job]`",
    "The job: its kind and files (bundled into the stream-job image, SPEC §9), its upgrades and its state.",
    &[
        key(
            "kind",
            Ty::Words(JOB_KINDS),
            "`python` (needs `script`), `jar` (needs `jar` and `entry_class`) or `sql` (needs `sql`; run by a bundled PyFlink runner).",
        )
        .default("required (here or in a template)"),
        key(
            "bounded",
            Ty::Bool,
            "The job ends by itself (a backfill): BATCH runtime mode; needs `upgrade_mode = \"stateless\"` and \
             autoscaling `disabled`; no `checkpoint_interval` (SPEC §13.4).",
        )
        .default("false"),
        key("bundle", Ty::Dns(63), "Image name of the bundle; pipelines naming the same bundle share one image.")
            .default("the pipeline name"),
        key("parallelism", Ty::Int, "Job parallelism (the initial value in reactive modes).").default("1").range(1.0, 100_000.0),
        key(
            "upgrade_mode",
            Ty::Words(UPGRADE_MODES),
            "How the operator upgrades the job: `savepoint` needs `checkpoint_dir` and `savepoint_dir`, `last-state` \
             also `high_availability`.",
        )
        .default("\"stateless\""),
        key(
            "state",
            Ty::Words(JOB_STATES),
            "`job.state`: suspending with upgrade mode savepoint takes a savepoint first (`flinkops suspend` / `resume`).",
        )
        .default("\"running\""),
        key(
            "initial_savepoint",
            Ty::Str,
            "Savepoint URI to start from (`job.initialSavepointPath`): on the first deploy, or on a redeploy with \
             `redeploy_nonce`. An empty string means unset.",
        )
        .default("none"),
        key("allow_non_restored_state", Ty::Bool, "`job.allowNonRestoredState`: start although savepoint state maps to no operator.")
            .default("false"),
        key(
            "savepoint_nonce",
            Ty::Int,
            "Change it to take a savepoint now (`job.savepointTriggerNonce`, `flinkops savepoint`); needs `savepoint_dir`.",
        )
        .default("0 (not emitted)")
        .at_least(0.0),
        key(
            "redeploy_nonce",
            Ty::Int,
            "Change it, with `initial_savepoint`, to redeploy from that savepoint (`job.savepointRedeployNonce`, `flinkops restore`).",
        )
        .default("0 (not emitted)")
        .at_least(0.0),
        key("restart_nonce", Ty::Int, "Change it to restart the job (`spec.restartNonce`, `flinkops restart`).")
            .default("0 (not emitted)")
            .at_least(0.0),
        key(
            "periodic_savepoint",
            Ty::Duration,
            "Interval of periodic savepoints (`kubernetes.operator.periodic.savepoint.interval`); \"0\" turns them \
             off. Needs `savepoint_dir`; not on a bounded job.",
        )
        .default("\"1h\" for a standalone deployment without HA that has a `savepoint_dir` (SPEC §13.6), else none"),
        key("args", Ty::List(&Ty::Str), "Arguments passed to the job.").default("none"),
        key("script", Ty::Path, "python: the entry script; its folder is bundled (recursively).").default("required for python jobs"),
        key(
            "requirements",
            Ty::List(&Ty::Pattern(r"^[^=<>~!]*[^=<>~!\s][^=<>~!]*==[^*,; ]+$", "\"name==version\"")),
            "python and sql: pip requirements, each pinned with `==`. PyFlink (`apache-flink`) is installed at `flink.version` itself.",
        )
        .default("none"),
        key("jar", Ty::Path, "jar: the job's jar file, bundled.").default("required for jar jobs"),
        key("entry_class", Ty::Str, "jar: the job's main class.").default("required for jar jobs"),
        key("sql", Ty::Path, "sql: the SQL file, run by a bundled PyFlink runner.").default("required for sql jobs"),
        key(
            "connectors",
            Ty::List(&Ty::Words(CONNECTOR_NAMES)),
            "Connector jars added to the bundle, in the build made for `flink.version`'s minor.",
        )
        .default("none"),
        key(
            "exclude",
            Ty::List(&Ty::Str),
            "Globs (relative to the repository root) of files left out of the bundle. Hidden files, `__pycache__/`, \
             `*.pyc` and `*.pyo` are always left out.",
        )
        .default("none"),
    ],
);

/// `[resources.jobmanager]` and `[resources.taskmanager]`.
pub const CONTAINER: Section = section(
    "`[resources.jobmanager]` and `[resources.taskmanager]`",
    "Explicit container resources; they override the profile. Every container gets cpu and memory \
     requests and a memory limit equal to the request.",
    &[
        key("cpu", Ty::Num, "CPU request in cores.").default("TaskManager: the profile's; JobManager: 0.5").above(0.0).max(1024.0),
        key(
            "memory",
            Ty::Memory,
            "Memory request and limit in Flink notation (e.g. \"2048m\", \"4g\"); must hold what Flink's memory model needs.",
        )
        .default("TaskManager: the profile's; JobManager: \"1024m\""),
    ],
);

pub const RESOURCES: Section = section(
    "`[resources]`",
    "Container resources: a profile (SPEC §5), and explicit values that override it.",
    &[
        key(
            "profile",
            Ty::Words(PROFILE_NAMES),
            "Resource profile: TaskManager cpu and memory and the default replica bounds (micro 0.2/1024m/1–2, small \
             0.5/1024m/1–3, medium 1/2048m/2–5, large 2/4096m/2–10, xlarge 4/8192m/3–20).",
        )
        .default("\"small\""),
        key("jobmanager", Ty::Table(&CONTAINER), "The JobManager's cpu and memory.").default("0.5 cpu, \"1024m\""),
        key("taskmanager", Ty::Table(&CONTAINER), "Each TaskManager's cpu and memory.").default("the profile's"),
    ],
);

/// `[[autoscaling.schedule]]`.
pub const ENTRY: Section = section(
    "`[[autoscaling.schedule]]`",
    "A scaling window: from when its cron fires (local time in the resolved time zone) until the next entry fires.",
    &[
        key("name", Ty::Dns(63), "Entry name, unique in the pipeline; part of CronJob names.").required(),
        key("cron", Ty::Cron, "When the window starts: 5 fields or an @-shortcut, Kubernetes syntax, in local time.").required(),
        key("min_replicas", Ty::Int, "Lower replica bound while the window is in force (keda: the floor).")
            .default("required, except in `scheduled` mode when `replicas` is given")
            .range(1.0, 10_000.0),
        key("max_replicas", Ty::Int, "Upper replica bound while the window is in force.").default("`min_replicas`").range(1.0, 10_000.0),
        key(
            "replicas",
            Ty::Int,
            "`scheduled` mode: the TaskManager count the CronJob sets; may be given instead of `min_replicas`/`max_replicas`.",
        )
        .default("`min_replicas`")
        .range(1.0, 10_000.0),
        key("end", Ty::Cron, "keda: when the window closes; required on entries that raise the floor.").default("none"),
    ],
);

/// `[autoscaling.operator]`.
pub const OPERATOR: Section = section(
    "`[autoscaling.operator]`",
    "`mode = \"operator\"`: the operator's own autoscaler; each key becomes a `job.autoscaler.*` option. \
     Unset keys keep the operator's defaults.",
    &[
        key("utilization_target", Ty::Num, "`job.autoscaler.utilization.target`: the target busy fraction of each vertex.")
            .default("the operator's")
            .above(0.0)
            .max(1.0),
        key("metrics_window", Ty::Duration, "`job.autoscaler.metrics.window`: how much history a decision looks at.")
            .default("the operator's"),
        key("stabilization_interval", Ty::Duration, "`job.autoscaler.stabilization.interval`: no scaling this long after a (re)start.")
            .default("the operator's"),
        key("scale_down_interval", Ty::Duration, "`job.autoscaler.scale-down.interval`: how long a scale-down is delayed.")
            .default("the operator's"),
        key("vertex_max_parallelism", Ty::Int, "`job.autoscaler.vertex.max-parallelism`: the highest parallelism it gives a vertex.")
            .default("the operator's")
            .range(1.0, 32_768.0),
    ],
);

pub const AUTOSCALING: Section = section(
    "`[autoscaling]`",
    "How the TaskManager count changes (SPEC §6). Keys the chosen mode does not use are ignored \
     without a warning (`explain` lists them), so an overlay can switch a pipeline to `disabled`.",
    &[
        key(
            "mode",
            Ty::Words(MODES),
            "`disabled`, `reactive`, `hpa_reactive` (`hpa` is its alias), `scheduled`, `scheduled_hpa`, `operator` or `keda` (SPEC §6.1).",
        )
        .default("\"disabled\""),
        key("replicas", Ty::Int, "TaskManager count to start with.")
            .default("ceil(parallelism / slots); `min_replicas` where an HPA, KEDA or CronJobs manage the count")
            .range(1.0, 10_000.0),
        key("min_replicas", Ty::Int, "Lower replica bound (at least 1): the HPA's `minReplicas`; every entry lies within the bounds.")
            .default("the lowest of the schedule entries, else the profile's")
            .range(1.0, 10_000.0),
        key("max_replicas", Ty::Int, "Upper replica bound: the hard cap capacity checks and `explain` use.")
            .default("the highest of the schedule entries, else the profile's")
            .range(1.0, 10_000.0),
        key("target_cpu_utilization", Ty::Int, "CPU utilization target (percent) of the HPA and of KEDA's cpu trigger.")
            .default("75")
            .range(1.0, 100.0),
        key("timezone", Ty::Zone, "IANA time zone the schedule crons are written in.")
            .default("the overlay's `[env] timezone`, else `[defaults] timezone`"),
        key("schedule_strategy", Ty::Words(STRATEGIES), "How the schedule becomes CronJobs (SPEC §6.3).")
            .default("`[defaults] schedule_strategy`"),
        key(
            "preset",
            Ty::Words(PRESETS),
            "A predefined schedule (SPEC §6.2): `workday_peak` or `24x7_peak`; not together with `[[autoscaling.schedule]]`.",
        )
        .default("none"),
        key("schedule", Ty::Tables(&ENTRY), "Scaling windows, for `scheduled`, `scheduled_hpa` and `keda`.").default("none"),
        key("operator", Ty::Table(&OPERATOR), "The operator autoscaler's settings, for `mode = \"operator\"`.").default("none"),
    ],
);

/// `[[tasks]]`.
pub const TASK: Section = section(
    "`[[tasks]]`",
    "A named task of a bundled multi-task job (SPEC §9.2). Tasks are compiled into the ConfigMap \
     `<pipeline>-tasks` (`tasks.json`); changing them restarts the job through its upgrade mode.",
    &[
        key("name", Ty::Dns(63), "Task name, unique in the pipeline.").required(),
        key("enabled", Ty::Bool, "Whether the job runs the task; disabled tasks stay in `tasks.json`.").default("true"),
        key(
            "params",
            Ty::FreeTable,
            "Free-form parameters, emitted as JSON. `{ secret, key }` at any depth becomes an environment variable \
             `FLINKOPS_SECRET_<TASK>_<PATH>` and `{\"secret_env\": …}` in `tasks.json`; a secret-looking key must use it.",
        )
        .default("{}"),
    ],
);

/// A pipeline file (and a template: a partial pipeline).
pub const PIPELINE: Section = section(
    "Pipeline files",
    "One pipeline per file `pipelines/<file>.toml` (SPEC §4). Templates under `templates/` are partial \
     pipelines with the same keys, merged under the files that `extends` them. Unknown keys are errors.",
    &[
        key(
            "extends",
            Ty::Path,
            "A template to merge this file over (relative to the repository root): tables merge deeply, arrays and scalars replace.",
        )
        .default("none"),
        key("name", Ty::Dns(45), "Pipeline name, at most 45 characters: it prefixes every object name.").default("the file stem"),
        key("namespace", Ty::Dns(63), "Namespace of the pipeline's objects; wins over every overlay's `[env] namespace`.")
            .default("the overlay's `[env] namespace`, else `[defaults] namespace`"),
        key("description", Ty::Str, "What the pipeline does, for people (`explain` shows it).").default("none"),
        key(
            "labels",
            Ty::Map(&Ty::Str),
            "Labels on every object of the pipeline, after the overlay's `[env.labels]`; `flinkops.dev/` and \
             `app.kubernetes.io/managed-by`/`part-of` are reserved.",
        )
        .default("none"),
        key("flink", Ty::Table(&FLINK), "The Flink runtime: version, image, state storage and configuration."),
        key("job", Ty::Table(&JOB), "The job: its kind and files, parallelism, upgrades and state."),
        key("resources", Ty::Table(&RESOURCES), "Container resources: a profile and explicit values that override it."),
        key("autoscaling", Ty::Table(&AUTOSCALING), "How the TaskManager count changes (SPEC §6)."),
        key("tasks", Ty::Tables(&TASK), "The named tasks of a multi-task job.").default("none"),
    ],
);

// --- overlays ------------------------------------------------------------------------------

/// `[env]` of an overlay.
pub const ENV: Section = section(
    "`[env]`",
    "Settings of the environment, between `flinkops.toml [defaults]` and the pipeline files in precedence.",
    &[
        key("namespace", Ty::Dns(63), "Namespace of the environment's pipelines (a pipeline's own `namespace` wins).")
            .default("`[defaults] namespace`"),
        key("timezone", Ty::Zone, "IANA time zone of the environment's schedules.").default("`[defaults] timezone`"),
        key("labels", Ty::Map(&Ty::Str), "Labels on every object of the environment.").default("none"),
        key("manage_namespaces", Ty::Bool, "Emit the environment's namespaces and Flink service accounts (SPEC §13.2).")
            .default("`[defaults] manage_namespaces`"),
    ],
);

/// `[pipelines.<name>.tasks.<task>]` of an overlay.
pub const OVERLAY_TASK: Section = section(
    "`[pipelines.<name>.tasks.<task>]`",
    "Changes to the pipeline's task of that name (SPEC §13.5); naming a task the pipeline does not have is an error.",
    &[
        key("enabled", Ty::Bool, "Replaces the task's `enabled`.").default("the pipeline's"),
        key(
            "params",
            Ty::FreeTable,
            "Merged into the task's `params`: tables key by key, arrays and scalars replace; a `{ secret, key }` may \
             replace a plain value and the other way round.",
        )
        .default("the pipeline's"),
    ],
);

/// `[pipelines.<name>]` of an overlay: a partial pipeline whose tasks are keyed by name.
pub const OVERLAY_PIPELINE: Section = Section {
    title: "`[pipelines.<name>]`",
    about: "Deep-merged over the pipeline's spec (with its templates) before compiling; it has every key of a \
            pipeline file except that `tasks` is a table keyed by task name.",
    keys: &[key("tasks", Ty::Map(&Ty::Table(&OVERLAY_TASK)), "Per task name, changes merged into the pipeline's task of that name.")
        .default("none")],
    base: Some(&PIPELINE),
    one_of: &[],
    open: false,
};

/// `target` of `[[patches]]` and `[[merge_patches]]`.
pub const PATCH_TARGET: Section = section(
    "`target` of `[[patches]]` and `[[merge_patches]]`",
    "Which generated objects a patch applies to: every given field must match. A patch that matches no object is an error.",
    &[
        key("kind", Ty::Str, "Object kind, e.g. \"FlinkDeployment\".").default("any"),
        key("name", Ty::Str, "Object name (`metadata.name`).").default("any"),
        key("group", Ty::Str, "API group, e.g. \"flink.apache.org\" (\"\" for the core group).").default("any"),
        key("version", Ty::Str, "API version, e.g. \"v1beta1\".").default("any"),
        key("namespace", Ty::Str, "Object namespace (`metadata.namespace`).").default("any"),
        key("labels", Ty::Map(&Ty::Str), "Labels the object must carry, all of them.").default("any"),
    ],
);

/// One RFC 6902 operation.
pub const PATCH_OP: Section = Section {
    title: "RFC 6902 operation",
    about: "One JSON Patch operation (RFC 6902); other members are ignored, as the RFC says.",
    keys: &[
        key("op", Ty::Words(&["add", "remove", "replace", "move", "copy", "test"]), "The operation.").required(),
        key("path", Ty::Str, "JSON pointer of the target location, e.g. \"/spec/podTemplate/spec/nodeSelector\".").required(),
        key("value", Ty::Value, "The value (add, replace, test).").default("none"),
        key("from", Ty::Str, "JSON pointer of the source (move, copy).").default("none"),
    ],
    base: None,
    one_of: &[],
    open: true,
};

/// `[[patches]]`.
pub const PATCH: Section = Section {
    title: "`[[patches]]`",
    about: "An RFC 6902 JSON Patch applied to generated objects after compiling; `[[patches]]` apply in file \
            order, before `[[merge_patches]]`. A failing operation is an error naming the patch, the operation index \
            and the pointer; a patch may not change an object's identity (apiVersion, kind, name, namespace).",
    keys: &[
        key("target", Ty::Table(&PATCH_TARGET), "Which objects to patch.").required(),
        key("ops", Ty::List(&Ty::Table(&PATCH_OP)), "The operations, inline. Give `ops` or `file`, not both."),
        key("file", Ty::Path, "A JSON or YAML file holding a list of operations, relative to the overlay's folder."),
    ],
    base: None,
    one_of: &["ops", "file"],
    open: false,
};

/// `[[merge_patches]]`.
pub const MERGE_PATCH: Section = section(
    "`[[merge_patches]]`",
    "An RFC 7396 JSON Merge Patch applied to generated objects after every `[[patches]]`.",
    &[
        key("target", Ty::Table(&PATCH_TARGET), "Which objects to patch.").required(),
        key("patch", Ty::FreeTable, "The merge patch, e.g. `{ spec = { suspend = true } }`.").required(),
    ],
);

/// `overlays/<env>/overlay.toml`.
pub const OVERLAY_FILE: Section = section(
    "Overlays",
    "One environment per folder `overlays/<env>/overlay.toml` (SPEC §8); patch files live beside it. \
     Unknown keys are errors.",
    &[
        key("env", Ty::Table(&ENV), "Settings of the environment."),
        key("cluster", Ty::Table(&CLUSTER), "The environment's capacity budget; replaces `flinkops.toml`'s.")
            .default("`flinkops.toml [cluster]`"),
        key(
            "pipelines",
            Ty::Map(&Ty::Table(&OVERLAY_PIPELINE)),
            "Per pipeline name, a partial pipeline deep-merged over that pipeline (the last layer of SPEC §3's \
             precedence); it may only name pipelines that exist.",
        )
        .default("none"),
        key("patches", Ty::Tables(&PATCH), "RFC 6902 JSON Patches for generated objects.").default("none"),
        key("merge_patches", Ty::Tables(&MERGE_PATCH), "RFC 7396 JSON Merge Patches for generated objects.").default("none"),
    ],
);

/// The sections a value of type `ty` holds (a table, tables, a map of tables …).
pub fn children(ty: &Ty) -> Vec<&'static Section> {
    match ty {
        Ty::Table(s) | Ty::Tables(s) => vec![*s],
        Ty::List(t) | Ty::Map(t) => children(t),
        Ty::AnyOf(ts) => ts.iter().flat_map(children).collect(),
        _ => vec![],
    }
}
