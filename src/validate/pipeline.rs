//! Validate phase: one pipeline spec (already merged with its templates and overlay) into a
//! checked [`Pipeline`].
//!
//! In: the merged spanned table, the project, the environment. Out: a fully resolved
//! [`Pipeline`] (defaults, profile, precedence of SPEC §3 applied) or `None`, with every problem
//! pushed as a diagnostic: all of them, not just the first.

use std::path::Path;

use indexmap::IndexMap;

use super::flinkconf;
use super::image;
use super::memory::{self, MemorySize, Role};
use super::names::is_dns1123_label;
use super::project::{STRATEGIES, check_timezone, labels, strategy};
use super::read::*;
use super::secrets::{is_secret_looking, secret_env_name};
use crate::diag::{Diagnostic, Diagnostics, Loc};
use crate::model::*;
use crate::spec::{Node, Table, Value};
use crate::versions::{CONNECTOR_NAMES, FLINK_MINORS, FlinkMinor, FlinkVersion, Operator};

// The keys each section accepts and the closed sets of words come from the raw types
// (spec::raw), like the JSON Schemas and docs/reference.md, so a key cannot exist in one and
// not the others.
pub const PIPELINE_KEYS: &[&str] = crate::spec::raw::Pipeline::FIELDS;
pub const FLINK_KEYS: &[&str] = crate::spec::raw::Flink::FIELDS;
pub const JOB_KEYS: &[&str] = crate::spec::raw::Job::FIELDS;
/// `job.periodic_savepoint` of a standalone deployment without HA that has a `savepoint_dir`
/// (SPEC §13.6).
pub const PERIODIC_SAVEPOINT_DEFAULT: &str = "1h";
pub const RESOURCES_KEYS: &[&str] = crate::spec::raw::Resources::FIELDS;
pub const CONTAINER_KEYS: &[&str] = crate::spec::raw::Container::FIELDS;
pub const AUTOSCALING_KEYS: &[&str] = crate::spec::raw::Autoscaling::FIELDS;
pub const ENTRY_KEYS: &[&str] = crate::spec::raw::ScheduleEntry::FIELDS;
pub const OPERATOR_KEYS: &[&str] = crate::spec::raw::OperatorAutoscaler::FIELDS;
pub const TASK_KEYS: &[&str] = crate::spec::raw::Task::FIELDS;
pub const MODES: &[&str] = crate::spec::raw::AutoscalingMode::WORDS;
pub const PRESETS: &[&str] = crate::spec::raw::Preset::WORDS;

/// A resource profile of SPEC §5.
pub struct Profile {
    pub name: &'static str,
    pub tm_cpu: f64,
    pub tm_memory: &'static str,
    pub min_replicas: u32,
    pub max_replicas: u32,
}

pub const PROFILES: &[Profile] = &[
    Profile { name: crate::spec::raw::Profile::Micro.word(), tm_cpu: 0.2, tm_memory: "1024m", min_replicas: 1, max_replicas: 2 },
    Profile { name: crate::spec::raw::Profile::Small.word(), tm_cpu: 0.5, tm_memory: "1024m", min_replicas: 1, max_replicas: 3 },
    Profile { name: crate::spec::raw::Profile::Medium.word(), tm_cpu: 1.0, tm_memory: "2048m", min_replicas: 2, max_replicas: 5 },
    Profile { name: crate::spec::raw::Profile::Large.word(), tm_cpu: 2.0, tm_memory: "4096m", min_replicas: 2, max_replicas: 10 },
    Profile { name: crate::spec::raw::Profile::Xlarge.word(), tm_cpu: 4.0, tm_memory: "8192m", min_replicas: 3, max_replicas: 20 },
];
const JM_CPU: f64 = 0.5;
const JM_MEMORY: &str = "1024m";

/// The entries of a schedule preset (SPEC §6.2): name, cron, min, max, KEDA window end.
pub fn preset_entries(preset: &str) -> Vec<ScheduleEntry> {
    let e = |name: &str, cron: &str, min, max, end: Option<&str>| ScheduleEntry {
        name: name.into(),
        cron: cron.into(),
        min_replicas: min,
        max_replicas: max,
        replicas: min,
        end: end.map(Into::into),
        parsed: None,
        schedules: vec![],
        guard_offsets: vec![],
    };
    match preset {
        "workday_peak" => vec![
            e("workday-morning-scale-up", "0 9 * * 1-5", 3, 10, Some("0 18 * * 1-5")),
            e("workday-evening-scale-down", "0 18 * * 1-5", 1, 3, None),
            e("weekend-scale-down", "0 0 * * 6", 1, 2, None),
        ],
        "24x7_peak" => vec![e("daytime-scale-up", "0 9 * * *", 2, 8, Some("0 23 * * *")), e("night-scale-down", "0 23 * * *", 1, 3, None)],
        _ => vec![],
    }
}

/// Keys that flinkops derives from typed spec fields; setting them in `[flink.config]` would
/// fight the typed field, so it is an error pointing at the field to use.
fn owned_key(key: &str, minor: &FlinkMinor) -> Option<&'static str> {
    Some(match key {
        "taskmanager.numberOfTaskSlots" => "flink.slots",
        "state.backend.type" => "flink.state_backend",
        "execution.checkpointing.interval" => "flink.checkpoint_interval",
        "high-availability.type" => "flink.high_availability",
        "high-availability.storageDir" => "flink.ha_dir",
        "scheduler-mode" => "autoscaling.mode",
        "kubernetes.operator.periodic.savepoint.interval" => "job.periodic_savepoint",
        "kubernetes.operator.job.savepoint-on-deletion" => "job.upgrade_mode",
        "taskmanager.memory.process.size" => "resources.taskmanager.memory",
        "jobmanager.memory.process.size" => "resources.jobmanager.memory",
        k if k == minor.keys.checkpoint_dir => "flink.checkpoint_dir",
        k if k == minor.keys.savepoint_dir => "flink.savepoint_dir",
        k if k.starts_with("job.autoscaler.") => "[autoscaling.operator]",
        _ => return None,
    })
}

/// Context shared by the checks of one pipeline.
pub struct Ctx<'a> {
    pub project: &'a Project,
    pub env: &'a Env,
    pub root: &'a Path,
    /// Repository-relative source files of this pipeline.
    pub sources: Vec<String>,
    pub stem: &'a str,
    /// UTC conversions shared by every pipeline of the run.
    pub cache: &'a crate::schedule::ConversionCache,
    /// What the file system said about the repository files named so far.
    pub files: &'a FileChecks,
}

/// Whether a repository file exists and stays inside the repository, asked once per file per
/// run: many pipelines (and every env) name the same job script, and resolving links costs a
/// system call per path component.
#[derive(Debug, Default)]
pub struct FileChecks {
    real_root: std::sync::OnceLock<Option<std::path::PathBuf>>,
    seen: std::sync::Mutex<std::collections::HashMap<String, FileState>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileState {
    Missing,
    /// A link to something outside the repository.
    Escapes,
    Inside,
}

impl FileChecks {
    fn state(&self, root: &Path, rel: &str) -> FileState {
        let lock = || self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(s) = lock().get(rel) {
            return *s;
        }
        let full = root.join(rel);
        let state = if !full.is_file() {
            FileState::Missing
        } else {
            let real_root = self.real_root.get_or_init(|| root.canonicalize().ok());
            match (full.canonicalize(), real_root) {
                (Ok(real), Some(real_root)) if !real.starts_with(real_root) => FileState::Escapes,
                _ => FileState::Inside,
            }
        };
        lock().insert(rel.to_string(), state);
        state
    }
}

fn sub<'t>(t: &'t Table, key: &str, parent: &str, known: &[&str], d: &mut Diagnostics) -> Option<&'t Table> {
    let s = opt_table(t, key, parent, d)?;
    check_keys(
        s,
        &format!(
            "[{}]",
            if parent == "the pipeline" { key.to_string() } else { format!("{}.{key}", parent.trim_matches(|c| c == '[' || c == ']')) }
        ),
        known,
        d,
    );
    Some(s)
}

fn required<T>(v: Option<T>, what: &str, at: &Loc, help: &str, d: &mut Diagnostics) -> Option<T> {
    if v.is_none() {
        d.push(Diagnostic::error(format!("`{what}` is required")).at(at).label(format!("`{what}` missing here")).help(help.to_string()));
    }
    v
}

/// Validates one pipeline. Returns `None` when an error makes the pipeline unusable.
pub fn pipeline(t: &Table, cx: &Ctx<'_>, d: &mut Diagnostics) -> Option<Pipeline> {
    let errors_before = d.count(crate::diag::Severity::Error);
    check_keys(t, "the pipeline", PIPELINE_KEYS, d);
    let empty = Table::empty(t.loc.clone());

    let name = match opt_str(t, "name", "the pipeline", d) {
        Some(n) => {
            check_name(&n.value, Some(&n.loc), None, d);
            n.value
        }
        None => {
            check_name(cx.stem, None, Some(&Loc { file: t.loc.file, span: t.loc.span.start..t.loc.span.start }), d);
            cx.stem.to_string()
        }
    };
    let namespace = match opt_str(t, "namespace", "the pipeline", d) {
        Some(n) if is_dns1123_label(&n.value) => n.value,
        Some(n) => {
            d.push(Diagnostic::error(format!("namespace {:?} is not a DNS-1123 label", n.value)).at(&n.loc).label("invalid namespace"));
            n.value
        }
        None => cx.env.namespace.clone().unwrap_or_else(|| cx.project.defaults.namespace.clone()),
    };
    let description = opt_str(t, "description", "the pipeline", d).map(|s| s.value);
    let mut all_labels = cx.env.labels.clone();
    if let Some(l) = opt_table(t, "labels", "the pipeline", d) {
        all_labels.extend(labels(l, "[labels]", d));
    }
    all_labels.sort_keys();

    let flink_t = sub(t, "flink", "the pipeline", FLINK_KEYS, d).unwrap_or(&empty);
    let job_t = sub(t, "job", "the pipeline", JOB_KEYS, d).unwrap_or(&empty);
    let res_t = sub(t, "resources", "the pipeline", RESOURCES_KEYS, d).unwrap_or(&empty);
    let auto_t = sub(t, "autoscaling", "the pipeline", AUTOSCALING_KEYS, d).unwrap_or(&empty);

    let version = flink_version(flink_t, cx.project.operator, d);
    let minor = version.map(|v| v.minor);
    let bounded = opt_bool(job_t, "bounded", "[job]", d);
    let is_bounded = bounded.as_ref().is_some_and(|b| b.value);

    // --- autoscaling mode first: it decides the deployment mode.
    let (mode, hpa_alias) = match opt_choice(auto_t, "mode", "[autoscaling]", MODES, d) {
        None => (ScalingMode::Disabled, false),
        Some(m) => match m.value.as_str() {
            "reactive" => (ScalingMode::Reactive, false),
            "hpa" => (ScalingMode::HpaReactive, true),
            "hpa_reactive" => (ScalingMode::HpaReactive, false),
            "scheduled" => (ScalingMode::Scheduled, false),
            "scheduled_hpa" => (ScalingMode::ScheduledHpa, false),
            "operator" => (ScalingMode::Operator, false),
            "keda" => (ScalingMode::Keda, false),
            _ => (ScalingMode::Disabled, false),
        },
    };

    // --- [flink]
    let java = match (opt_int(flink_t, "java", "[flink]", d), minor) {
        (Some(j), Some(m)) => {
            if m.java.iter().any(|x| i64::from(*x) == j.value) {
                j.value as u32
            } else {
                d.push(
                    Diagnostic::error(format!("Java {} is not offered for Flink {}", j.value, m.label()))
                        .at(&j.loc)
                        .label(format!("official images exist for Java {}", join_nums(m.java)))
                        .help(format!("use one of {} (default {})", join_nums(m.java), m.default_java)),
                );
                m.default_java
            }
        }
        (_, Some(m)) => m.default_java,
        (_, None) => 17,
    };
    let deploy_mode = match opt_choice(flink_t, "mode", "[flink]", crate::spec::raw::DeployMode::WORDS, d) {
        Some(m) if m.value == "native" && mode.is_reactive_family() => {
            d.push(
                Diagnostic::error(format!("`flink.mode = \"native\"` conflicts with autoscaling mode `{}`", mode.as_str()))
                    .at(&m.loc)
                    .label("reactive scaling needs standalone mode")
                    .note("Flink's reactive mode works only in standalone application clusters")
                    .help("remove `flink.mode` (flinkops then uses standalone), or choose autoscaling mode `operator`"),
            );
            DeploymentMode::Standalone
        }
        Some(m) if m.value == "native" => DeploymentMode::Native,
        Some(_) => DeploymentMode::Standalone,
        None if mode.is_reactive_family() => DeploymentMode::Standalone,
        None => DeploymentMode::Native,
    };
    let explicit_image = opt_nonempty_str(flink_t, "image", "[flink]", d);
    if let (Some(img), Some(v)) = (&explicit_image, version) {
        check_explicit_image(img, &v, d);
    }
    let service_account = match opt_str(flink_t, "service_account", "[flink]", d) {
        Some(s) if is_dns1123_label(&s.value) => s.value,
        Some(s) => {
            d.push(Diagnostic::error(format!("service account {:?} is not a DNS-1123 label", s.value)).at(&s.loc).label("invalid name"));
            s.value
        }
        None => cx.project.defaults.service_account.clone(),
    };
    let slots = opt_int_in(flink_t, "slots", "[flink]", 1, 1024, d).map_or(1, |s| s.value as u32);
    let state_backend = match opt_choice(flink_t, "state_backend", "[flink]", crate::spec::raw::StateBackend::WORDS, d) {
        Some(s) if s.value == "forst" => {
            if minor.is_some_and(|m| !m.is_2x()) {
                d.push(
                    Diagnostic::error("the ForSt state backend needs Flink 2.x")
                        .at(&s.loc)
                        .label("not available on Flink 1.x")
                        .help("use \"rocksdb\", or upgrade flink.version to 2.x"),
                );
            }
            StateBackend::Forst
        }
        Some(s) if s.value == "hashmap" => StateBackend::Hashmap,
        _ => StateBackend::Rocksdb,
    };
    let checkpoint_interval = match opt_str(flink_t, "checkpoint_interval", "[flink]", d) {
        None if is_bounded => None,
        None => Some("60s".to_string()),
        Some(s) if is_bounded => {
            d.push(
                Diagnostic::error("a bounded job cannot have a `checkpoint_interval`")
                    .at(&s.loc)
                    .label("BATCH jobs do not checkpoint")
                    .note("`job.bounded = true` makes it a BATCH job")
                    .help("remove `checkpoint_interval` (a bounded job recovers by re-running failed tasks), or drop `bounded`"),
            );
            None
        }
        Some(s) => Some(match flinkconf::parse_duration(&s.value) {
            Ok(0) => {
                d.push(
                    Diagnostic::error("`checkpoint_interval` must be positive")
                        .at(&s.loc)
                        .label("checkpointing must stay on")
                        .help("flinkops deployments rely on checkpoints for upgrades and rescaling; use e.g. \"60s\""),
                );
                s.value
            }
            Ok(_) => s.value,
            Err(e) => {
                d.push(Diagnostic::error(format!("`checkpoint_interval`: {e}")).at(&s.loc).label("not a duration"));
                s.value
            }
        }),
    };
    let subst = |s: &str| s.replace("{env}", &cx.env.name).replace("{name}", &name).replace("{namespace}", &namespace);
    let uri = |key: &str, d: &mut Diagnostics| -> Option<String> {
        let v = opt_nonempty_str(flink_t, key, "[flink]", d)?;
        let s = subst(&v.value);
        if !is_uri(&s) {
            d.push(
                Diagnostic::error(format!("`{key}` {:?} is not a URI", v.value))
                    .at(&v.loc)
                    .label("expected a scheme such as s3://, gs://, hdfs:// or file://")
                    .help("state must live on storage every JobManager and TaskManager can reach, e.g. \"s3://bucket/{env}/{name}/checkpoints\""),
            );
        }
        Some(s)
    };
    let checkpoint_dir = uri("checkpoint_dir", d);
    let savepoint_dir = uri("savepoint_dir", d);
    let ha_dir = uri("ha_dir", d);
    let ha = opt_bool(flink_t, "high_availability", "[flink]", d);
    let high_availability = ha.as_ref().is_some_and(|h| h.value);
    if high_availability && ha_dir.is_none() {
        d.push(
            Diagnostic::error("`high_availability = true` needs `ha_dir`")
                .at(&ha.as_ref().unwrap().loc)
                .label("HA metadata needs durable storage")
                .help("add e.g. `ha_dir = \"s3://flink/{env}/{name}/ha\"` to [flink]"),
        );
    }
    // FLINK-38795: standalone + HA is broken on Flink 2.x with every released operator.
    if let (Some(h), Some(m)) = (&ha, minor)
        && h.value
        && deploy_mode == DeploymentMode::Standalone
        && m.is_2x()
        && cx.project.operator == Operator::V1_15
    {
        d.push(
                Diagnostic::error(format!(
                    "high availability with standalone mode does not work on Flink {} with operator 1.15 (FLINK-38795)",
                    m.label()
                ))
                .at(&h.loc)
                .label("standalone + HA on Flink 2.x")
                .note("Flink 2.0 removed `--host` from the standalone entrypoints the operator uses; only operator main (1.16) has the fix")
                .help("turn HA off and use `upgrade_mode = \"savepoint\"`, or use autoscaling mode `operator` (native), or Flink 1.20, or target operator \"1.16\""),
            );
    }

    let mut config = IndexMap::new();
    if let (Some(c), Some(m)) = (opt_table(flink_t, "config", "[flink]", d), minor) {
        config = flink_config(c, m, d);
    }
    let mut env = flink_env(flink_t, d);

    // --- [job]
    let state = StateContext {
        savepoint_dir: &savepoint_dir,
        standalone_without_ha: deploy_mode == DeploymentMode::Standalone && !high_availability,
    };
    let job = job(job_t, &name, version, &state, explicit_image.is_some(), cx, d);
    if is_bounded && mode != ScalingMode::Disabled {
        let at = auto_t.get("mode").map(|e| e.node.loc.clone()).unwrap_or_else(|| auto_t.loc.clone());
        d.push(
            Diagnostic::error(format!("a bounded job cannot autoscale (autoscaling mode `{}`)", mode.as_str()))
                .at(&at)
                .label("a bounded job runs once at a fixed size")
                .help("set `autoscaling.mode = \"disabled\"` for this pipeline (in an overlay: `[pipelines.<name>] autoscaling.mode = \"disabled\"`)"),
        );
    }

    // --- [resources]
    let resources = resources(res_t, d);

    // --- [autoscaling]
    let mut autoscaling =
        autoscaling(&name, auto_t, mode, hpa_alias, resources.as_ref().map_or("small", |r| r.profile.as_str()), job.as_ref(), slots, cx, d);
    let mut ignored = vec![];
    if let Some(a) = &mut autoscaling {
        ignored = ignored_keys(auto_t, a.mode);
        for e in &a.schedule {
            if e.end.is_some() && a.mode != ScalingMode::Keda && auto_t.get("preset").is_none() {
                ignored.push(format!("autoscaling.schedule[{}].end", e.name));
            }
        }
        // An entry's `replicas` only means something where CronJobs set the count (`scheduled`).
        if matches!(a.mode, ScalingMode::ScheduledHpa | ScalingMode::Keda)
            && let Some(Value::Array(items)) = auto_t.get("schedule").map(|e| &e.node.value)
        {
            for n in items {
                if let Value::Table(e) = &n.value
                    && e.get("replicas").is_some()
                    && let Some(Value::String(name)) = e.get("name").map(|x| &x.node.value)
                {
                    ignored.push(format!("autoscaling.schedule[{name}].replicas"));
                }
            }
        }
        if deploy_mode == DeploymentMode::Native {
            a.emit_replicas = auto_t.get("replicas").is_some();
            if a.emit_replicas
                && let Some(j) = &job
                && a.replicas * slots != j.parallelism
            {
                d.push(
                    Diagnostic::warning(format!(
                        "replicas {} × slots {slots} = {} overrides job.parallelism {} in native mode",
                        a.replicas,
                        a.replicas * slots,
                        j.parallelism
                    ))
                    .at_opt(auto_t.get("replicas").map(|e| &e.node.loc))
                    .label("the operator runs the job at replicas × slots")
                    .help("remove autoscaling.replicas (the TaskManager count then follows from parallelism / slots), or make them agree"),
                );
            }
        }
        if a.mode.is_reactive_family()
            && let Some(mp) = config.get("pipeline.max-parallelism").and_then(|v| v.parse::<u64>().ok())
        {
            let slots_total = u64::from(a.max_replicas) * u64::from(slots);
            if slots_total > mp {
                d.push(
                    Diagnostic::warning(format!(
                        "max_replicas × slots = {} × {} = {slots_total} exceeds pipeline.max-parallelism {mp}",
                        a.max_replicas, slots
                    ))
                    .at_opt(auto_t.get("max_replicas").map(|e| &e.node.loc).or(Some(&auto_t.loc)))
                    .label("some slots would idle")
                    .help(
                        "lower max_replicas, or raise pipeline.max-parallelism (it cannot change for a running job without losing state)",
                    ),
                );
            }
        }
    }

    // --- upgrade mode and HA requirements
    if let Some(j) = &job {
        let um_loc = job_t.get("upgrade_mode").map(|e| e.node.loc.clone()).unwrap_or_else(|| job_t.loc.clone());
        if matches!(j.upgrade_mode, UpgradeMode::Savepoint | UpgradeMode::LastState) {
            for (v, key) in [(&checkpoint_dir, "checkpoint_dir"), (&savepoint_dir, "savepoint_dir")] {
                if v.is_none() {
                    d.push(
                        Diagnostic::error(format!("`upgrade_mode = \"{}\"` needs `flink.{key}`", j.upgrade_mode.as_str()))
                            .at(&um_loc)
                            .label("stateful upgrades need durable state")
                            .help(format!(
                                "add e.g. `{key} = \"s3://flink/{{env}}/{{name}}/{}\"` to [flink]",
                                key.trim_end_matches("_dir").to_string() + "s"
                            )),
                    );
                }
            }
        }
        if j.upgrade_mode == UpgradeMode::LastState && !high_availability {
            d.push(
                Diagnostic::error("`upgrade_mode = \"last-state\"` needs `flink.high_availability = true`")
                    .at(&um_loc)
                    .label("last-state reads the latest checkpoint from HA metadata")
                    .help("set high_availability = true with an ha_dir, or use upgrade_mode = \"savepoint\""),
            );
        }
    }

    // --- tasks
    let tasks = tasks(t, &mut env, d);
    env.sort_by(|a, b| a.name.cmp(&b.name));

    // --- memory model (after [flink.config], which may change fractions)
    let res = resources?;
    for (role, c, key) in [(Role::TaskManager, &res.taskmanager, "taskmanager"), (Role::JobManager, &res.jobmanager, "jobmanager")] {
        if let Err(e) = memory::check(role, c.memory, &config) {
            let loc = res_t
                .get(key)
                .and_then(|e| if let Value::Table(t) = &e.node.value { t.get("memory").map(|m| m.node.loc.clone()) } else { None })
                .or_else(|| res_t.get("profile").map(|p| p.node.loc.clone()))
                .unwrap_or_else(|| t.loc.clone());
            let mut diag = Diagnostic::error(e.to_string()).at(&loc).label("Flink would refuse to start with this memory");
            for line in e.arithmetic().lines() {
                diag = diag.note(line.to_string());
            }
            diag = diag.help(format!(
                "use at least {} for the {key}, or a larger resources.profile",
                memory::minimum_process_size(role, &config).map(|m| m.to_flink_string()).unwrap_or_else(|_| "more memory".into())
            ));
            d.push(diag);
        }
    }

    if d.count(crate::diag::Severity::Error) > errors_before {
        return None;
    }
    let version = version?;
    let job = job?;
    let autoscaling = autoscaling?;
    let mut sources = cx.sources.clone();
    sources.sort();
    sources.dedup();
    Some(Pipeline {
        name,
        env: cx.env.name.clone(),
        sources,
        namespace,
        description,
        labels: all_labels,
        flink: Flink {
            version,
            java,
            mode: deploy_mode,
            image: explicit_image.map(|i| i.value),
            service_account,
            slots,
            state_backend,
            checkpoint_interval,
            checkpoint_dir,
            savepoint_dir,
            high_availability,
            ha_dir,
            config,
            env,
        },
        job,
        resources: res,
        autoscaling,
        tasks,
        ignored,
        places: Places {
            file: Loc { file: t.loc.file, span: t.loc.span.start..t.loc.span.start },
            name: t.get("name").map(|e| e.node.loc.clone()),
            job: t.get("job").map(|e| e.key_loc.clone()),
            autoscaling_mode: auto_t.get("mode").map(|e| e.node.loc.clone()),
        },
    })
}

fn join_nums(v: &[u32]) -> String {
    v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

/// A URI with a scheme (`s3://bucket/path`): what savepoint and state directories must be.
pub fn is_uri(s: &str) -> bool {
    match s.split_once("://") {
        Some((scheme, rest)) => {
            !rest.is_empty()
                && !rest.chars().any(char::is_whitespace)
                && scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// `loc`: the `name = …` value; `file`: the start of the file whose stem is the name.
fn check_name(name: &str, loc: Option<&Loc>, file: Option<&Loc>, d: &mut Diagnostics) {
    if is_dns1123_label(name) && name.len() <= 45 {
        return;
    }
    let mut diag = Diagnostic::error(format!("pipeline name {name:?} is not a DNS-1123 label of at most 45 characters"))
        .at_opt(loc.or(file))
        .label(if loc.is_some() { "invalid pipeline name" } else { "the file name is the pipeline name" })
        .note("the name prefixes every object name (e.g. `<name>-scaler`, CronJob `<name>-<entry>`), so it must stay short");
    if loc.is_none() {
        diag = diag.help("rename the file, or set `name = \"...\"` in it: lower-case letters, digits and `-`");
    }
    d.push(diag);
}

fn flink_version(t: &Table, operator: Operator, d: &mut Diagnostics) -> Option<FlinkVersion> {
    let Some(v) = opt_str(t, "version", "[flink]", d) else {
        d.push(
            Diagnostic::error("`flink.version` is required")
                .at(&t.loc)
                .label("no version here")
                .help("add `version = \"2.2.1\"` to [flink]: the full X.Y.Z runtime version"),
        );
        return None;
    };
    let parts: Vec<Option<u32>> = v.value.split('.').map(|p| p.parse().ok()).collect();
    let [Some(major), Some(minor), Some(patch)] = parts[..] else {
        d.push(
            Diagnostic::error(format!("`flink.version` must be a full X.Y.Z version, found {:?}", v.value))
                .at(&v.loc)
                .label("e.g. \"2.2.1\"")
                .help("the patch version decides the base image and PyFlink release; a bare minor would float"),
        );
        return None;
    };
    let known = || FLINK_MINORS.iter().map(|m| format!("{}.{}.{}", m.major, m.minor, m.newest_patch)).collect::<Vec<_>>().join(", ");
    if (major, minor) < (1, 19) {
        d.push(
            Diagnostic::error(format!("Flink {}.{} is not supported", major, minor))
                .at(&v.loc)
                .label("below 1.19")
                .help(format!("upgrade to a supported version: {}", known())),
        );
        return None;
    }
    let Some(m) = FlinkMinor::find(major, minor) else {
        d.push(
            Diagnostic::error(format!("Flink {major}.{minor} is not known to this flinkops"))
                .at(&v.loc)
                .label("unknown minor")
                .help(format!("known versions (newest patch of each): {}", known())),
        );
        return None;
    };
    if patch > m.newest_patch {
        d.push(
            Diagnostic::error(format!(
                "Flink {} is not released (newest {}.{} patch known: {}.{}.{})",
                v.value, major, minor, major, minor, m.newest_patch
            ))
            .at(&v.loc)
            .label("no image or PyFlink release for this version")
            .help(format!("use {}.{}.{}", major, minor, m.newest_patch)),
        );
        return None;
    }
    if m.min_operator > operator {
        d.push(
            Diagnostic::error(format!(
                "Flink {}.{} (flinkVersion {}) needs operator {}; the project targets {}",
                major,
                minor,
                m.crd_version,
                m.min_operator.as_str(),
                operator.as_str()
            ))
            .at(&v.loc)
            .label("the targeted operator's CRD rejects this flinkVersion")
            .help(format!("set [target] operator = \"{}\" in flinkops.toml, or use Flink 2.2.1", m.min_operator.as_str())),
        );
        return None;
    }
    if !m.maintained {
        d.push(
            Diagnostic::warning(format!("Flink {}.{} is no longer maintained upstream", major, minor))
                .at(&v.loc)
                .label("no more bug or security fixes")
                .help("plan an upgrade to Flink 1.20 or 2.x"),
        );
    }
    Some(FlinkVersion { patch, minor: m })
}

fn check_explicit_image(img: &Sp<String>, v: &FlinkVersion, d: &mut Diagnostics) {
    if let Err(why) = image::check_pinned(&img.value) {
        d.push(
            Diagnostic::error(format!("image {:?} {why}", img.value))
                .at(&img.loc)
                .label("not pinned")
                .help("pin the image with a full version tag (e.g. :2.2.1-scala_2.12-java17) or an @sha256: digest"),
        );
        return;
    }
    let r = image::parse(&img.value);
    if let (true, Some(tag)) = (image::is_official_flink(r.repository), r.tag) {
        let iv = image::official_flink_version(tag);
        if iv != v.to_string() {
            d.push(
                Diagnostic::error(format!("image {:?} runs Flink {iv}, but flink.version is {v}", img.value))
                    .at(&img.loc)
                    .label("version mismatch")
                    .help(format!("use `flink:{v}-scala_2.12-java<NN>`, or change flink.version")),
            );
        }
    }
}

fn scalar_string(n: &Node) -> Option<String> {
    match &n.value {
        Value::String(s) => Some(s.clone()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Boolean(b) => Some(b.to_string()),
        Value::Datetime(s) => Some(s.clone()),
        _ => None,
    }
}

fn flink_config(t: &Table, minor: &FlinkMinor, d: &mut Diagnostics) -> IndexMap<String, String> {
    let mut out: IndexMap<String, String> = IndexMap::new();
    let mut locs: IndexMap<String, Loc> = IndexMap::new();
    for (k, e) in &t.entries {
        let Some(v) = scalar_string(&e.node) else {
            d.push(
                Diagnostic::error(format!("`{k}` in [flink.config] must be a string, number or boolean"))
                    .at(&e.node.loc)
                    .label(format!("found {}", e.node.value.type_name()))
                    .help("flinkConfiguration is a flat map of strings: write the dotted key in quotes"),
            );
            continue;
        };
        if is_secret_looking(k) {
            d.push(
                Diagnostic::error(format!("secret-looking key `{k}` in [flink.config]"))
                    .at(&e.key_loc)
                    .label("flinkConfiguration is stored in plain text")
                    .help(format!(
                        "pass it as an environment variable from a Secret in [flink.env], e.g. `SOME_VAR = {{ secret = \"name\", key = \"{}\" }}`, and reference it from the job",
                        k.rsplit('.').next().unwrap_or(k)
                    )),
            );
            continue;
        }
        if flinkconf::FORBIDDEN_KEYS.contains(&k.as_str()) {
            d.push(
                Diagnostic::error(format!("`{k}` is set by the Flink Kubernetes Operator"))
                    .at(&e.key_loc)
                    .label("the operator owns this key")
                    .help("remove it: the namespace and cluster id come from the FlinkDeployment itself"),
            );
            continue;
        }
        let mut key = k.clone();
        if let Some(cur) = flinkconf::current_name(k, minor) {
            d.push(
                Diagnostic::warning(if minor.keys.checkpoint_dir == "state.checkpoints.dir" && k.starts_with("execution.checkpointing.") {
                    format!("`{k}` does not exist before Flink 1.20; using its Flink {} name `{cur}`", minor.label())
                } else {
                    format!("`{k}` is deprecated on Flink {}; using `{cur}`", minor.label())
                })
                .at(&e.key_loc)
                .label("deprecated key")
                .help(format!("write `\"{cur}\"` instead")),
            );
            key = cur.to_string();
        }
        if let Some(field) = owned_key(&key, minor) {
            d.push(
                Diagnostic::error(format!("`{key}` is set by flinkops from `{field}`"))
                    .at(&e.key_loc)
                    .label("would conflict with the typed setting")
                    .help(format!("remove it from [flink.config] and set `{field}` instead")),
            );
            continue;
        }
        if out.contains_key(&key) {
            d.push(
                Diagnostic::error(format!("`{key}` is set twice in [flink.config] (once under a deprecated name)"))
                    .at(&e.key_loc)
                    .label("duplicate after renaming")
                    .help("keep only the current name"),
            );
            continue;
        }
        locs.insert(key.clone(), e.key_loc.clone());
        out.insert(key, v);
    }
    for (short, long) in flinkconf::overlapping_prefixes(out.keys().map(String::as_str)) {
        d.push(
            Diagnostic::error(format!("`{short}` is a prefix of `{long}` in [flink.config]"))
                .at(&locs[short])
                .label("overlapping keys")
                .note("the operator rejects a configuration key that is a prefix of another on Flink 2.x (FLINK-37405), and YAML config cannot hold both")
                .help(format!("rename or remove `{short}` (after deprecated keys were rewritten to their current names)")),
        );
    }
    out.sort_keys();
    out
}

fn is_env_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_') && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Reads `{ secret = "...", key = "..." }`; `None` when `t` is not such a reference.
fn secret_ref(t: &Table, d: &mut Diagnostics) -> Option<(String, String)> {
    if !t.entries.contains_key("secret") {
        return None;
    }
    check_keys(t, "a secret reference", &["secret", "key"], d);
    let s = opt_str(t, "secret", "a secret reference", d)?;
    let Some(k) = opt_str(t, "key", "a secret reference", d) else {
        d.push(Diagnostic::error("a secret reference needs `key`").at(&t.loc).help("write `{ secret = \"name\", key = \"password\" }`"));
        return None;
    };
    if !super::names::is_dns1123_subdomain(&s.value) {
        d.push(Diagnostic::error(format!("secret name {:?} is not a valid Kubernetes name", s.value)).at(&s.loc).label("invalid name"));
    }
    Some((s.value, k.value))
}

fn flink_env(flink: &Table, d: &mut Diagnostics) -> Vec<EnvVar> {
    let Some(t) = opt_table(flink, "env", "[flink]", d) else { return vec![] };
    let mut out = vec![];
    for (k, e) in &t.entries {
        if !is_env_name(k) || k.starts_with("FLINKOPS_") {
            d.push(
                Diagnostic::error(format!("`{k}` is not a usable environment variable name"))
                    .at(&e.key_loc)
                    .label("invalid name")
                    .help("use letters, digits and `_`, not starting with a digit; the FLINKOPS_ prefix is reserved"),
            );
            continue;
        }
        match &e.node.value {
            Value::Table(r) => {
                if let Some((secret, key)) = secret_ref(r, d) {
                    out.push(EnvVar { name: k.clone(), value: EnvValue::Secret { secret, key } });
                } else {
                    d.push(
                        Diagnostic::error(format!("`{k}` in [flink.env] must be a string or `{{ secret, key }}`"))
                            .at(&e.node.loc)
                            .label("a table that is not a secret reference"),
                    );
                }
            }
            _ if is_secret_looking(k) => {
                d.push(
                    Diagnostic::error(format!("secret literal in [flink.env]: `{k}` holds a value in plain text"))
                        .at(&e.node.loc)
                        .label("secrets never appear as literals")
                        .help(format!(
                            "store it in a Kubernetes Secret and write `{k} = {{ secret = \"<secret name>\", key = \"<key>\" }}`"
                        )),
                );
            }
            Value::String(s) => out.push(EnvVar { name: k.clone(), value: EnvValue::Literal(s.clone()) }),
            _ => match scalar_string(&e.node) {
                Some(s) => out.push(EnvVar { name: k.clone(), value: EnvValue::Literal(s) }),
                None => d.push(
                    Diagnostic::error(format!("`{k}` in [flink.env] must be a string or `{{ secret, key }}`"))
                        .at(&e.node.loc)
                        .label(format!("found {}", e.node.value.type_name())),
                ),
            },
        }
    }
    out
}

/// A repository path that must exist as a file: normalized, inside the repository (also after
/// following symlinks).
/// With `in_image` (an explicit `flink.image`), the file lives in that image, not in the
/// repository, so only the path's form is checked.
fn repo_file(v: &Sp<String>, key: &str, cx: &Ctx, in_image: bool, d: &mut Diagnostics) -> Option<String> {
    let rel = match crate::spec::normalize_repo_path(&v.value) {
        Ok(r) => r,
        Err(why) => {
            d.push(
                Diagnostic::error(format!("`{key}` path {:?} {why}", v.value))
                    .at(&v.loc)
                    .label("must stay inside the repository")
                    .help("paths are relative to the repository root, e.g. \"jobs/my_job/main.py\""),
            );
            return None;
        }
    };
    if in_image {
        return Some(rel);
    }
    let (what, label, help) = match cx.files.state(cx.root, &rel) {
        FileState::Inside => return Some(rel),
        FileState::Missing => ("not found", "no such file in the repository", "paths are relative to the repository root"),
        FileState::Escapes => (
            "is a link that leaves the repository",
            "outside the repository",
            "copy the file into the repository; the image is built from the repository alone",
        ),
    };
    d.push(Diagnostic::error(format!("`{key}` file `{rel}` {what}")).at(&v.loc).label(label).help(help));
    None
}

fn nonce(t: &Table, key: &str, d: &mut Diagnostics) -> i64 {
    opt_int_in(t, key, "[job]", 0, i64::MAX, d).map_or(0, |v| v.value)
}

/// What the job section needs to know about the pipeline's state storage.
struct StateContext<'a> {
    savepoint_dir: &'a Option<String>,
    /// Standalone without HA: a JobManager restart loses the job's state (SPEC §13.6).
    standalone_without_ha: bool,
}

fn job(
    t: &Table,
    name: &str,
    version: Option<FlinkVersion>,
    state_cx: &StateContext<'_>,
    in_image: bool,
    cx: &Ctx<'_>,
    d: &mut Diagnostics,
) -> Option<Job> {
    let minor = version.map(|v| v.minor);
    let kind_v = opt_choice(t, "kind", "[job]", crate::spec::raw::JobKind::WORDS, d);
    if t.get("kind").is_none() {
        required(kind_v.as_ref(), "job.kind", &t.loc, "add `kind = \"python\"` (or \"jar\", \"sql\") to [job]", d);
    }
    let kind = match kind_v.as_ref().map(|k| k.value.as_str()) {
        Some("python") => {
            let s = opt_str(t, "script", "[job]", d);
            let s = required(s, "job.script", &t.loc, "python jobs need `script = \"jobs/<job>/main.py\"`", d)?;
            let rel = repo_file(&s, "script", cx, in_image, d)?;
            Some(JobKind::Python { script: rel })
        }
        Some("jar") => {
            let j = required(opt_str(t, "jar", "[job]", d), "job.jar", &t.loc, "jar jobs need `jar = \"jobs/<job>/app.jar\"`", d);
            let c = required(
                opt_nonempty_str(t, "entry_class", "[job]", d),
                "job.entry_class",
                &t.loc,
                "jar jobs need `entry_class = \"com.example.Main\"`",
                d,
            );
            let jar = repo_file(&j?, "jar", cx, in_image, d)?;
            Some(JobKind::Jar { jar, entry_class: c?.value })
        }
        Some("sql") => {
            let q = required(opt_str(t, "sql", "[job]", d), "job.sql", &t.loc, "sql jobs need `sql = \"jobs/<job>/query.sql\"`", d)?;
            let rel = repo_file(&q, "sql", cx, in_image, d)?;
            Some(JobKind::Sql { sql: rel })
        }
        _ => None,
    };
    let bundle = match opt_str(t, "bundle", "[job]", d) {
        Some(b) if is_dns1123_label(&b.value) => b.value,
        Some(b) => {
            d.push(
                Diagnostic::error(format!("bundle name {:?} is not a DNS-1123 label", b.value))
                    .at(&b.loc)
                    .label("used as the image name")
                    .help("use lower-case letters, digits and `-`"),
            );
            b.value
        }
        None => name.to_string(),
    };
    let parallelism = opt_int_in(t, "parallelism", "[job]", 1, 100_000, d).map_or(1, |v| v.value as u32);
    let savepoint_dir = state_cx.savepoint_dir;
    let bounded = opt_bool(t, "bounded", "[job]", &mut Diagnostics::default()).is_some_and(|b| b.value);
    let um = opt_choice(t, "upgrade_mode", "[job]", crate::spec::raw::UpgradeMode::WORDS, d);
    let upgrade_mode = match um.as_ref().map(|s| s.value.as_str()) {
        Some("savepoint") => UpgradeMode::Savepoint,
        Some("last-state") => UpgradeMode::LastState,
        _ => UpgradeMode::Stateless,
    };
    if bounded && let Some(um) = um.as_ref().filter(|_| upgrade_mode != UpgradeMode::Stateless) {
        d.push(
            Diagnostic::error(format!("a bounded job cannot use `upgrade_mode = \"{}\"`", um.value))
                .at(&um.loc)
                .label("a finished BATCH job has no state to carry over")
                .note("the operator runs a bounded job again from the start whenever its spec changes")
                .help("use `upgrade_mode = \"stateless\"` (the default for bounded jobs), or drop `bounded`"),
        );
    }
    let state = opt_choice(t, "state", "[job]", crate::spec::raw::JobState::WORDS, d).map_or_else(|| "running".into(), |s| s.value);
    let initial = opt_nonempty_str(t, "initial_savepoint", "[job]", d);
    if let Some(i) = &initial
        && !is_uri(&i.value)
    {
        d.push(
            Diagnostic::error(format!("`initial_savepoint` {:?} is not a URI", i.value))
                .at(&i.loc)
                .label("expected e.g. s3://bucket/savepoints/savepoint-1234")
                .help("give the full savepoint path with its scheme"),
        );
    }
    let allow_non_restored_state = opt_bool(t, "allow_non_restored_state", "[job]", d).is_some_and(|b| b.value);
    let savepoint_nonce = nonce(t, "savepoint_nonce", d);
    let redeploy_nonce = nonce(t, "redeploy_nonce", d);
    let restart_nonce = nonce(t, "restart_nonce", d);
    if savepoint_nonce > 0 && savepoint_dir.is_none() {
        d.push(
            Diagnostic::error("`savepoint_nonce` needs `flink.savepoint_dir`")
                .at(&t.get("savepoint_nonce").unwrap().node.loc)
                .label("a savepoint needs somewhere to go")
                .help("add `savepoint_dir = \"s3://flink/{env}/{name}/savepoints\"` to [flink]"),
        );
    }
    if redeploy_nonce > 0 && initial.is_none() {
        d.push(
            Diagnostic::error("`redeploy_nonce` needs `initial_savepoint`")
                .at(&t.get("redeploy_nonce").unwrap().node.loc)
                .label("redeploy from which savepoint?")
                .help("set `initial_savepoint` to the savepoint path (see `flinkops restore`)"),
        );
    }
    let periodic = opt_nonempty_str(t, "periodic_savepoint", "[job]", d);
    if let Some(p) = &periodic {
        if let Err(e) = flinkconf::parse_duration(&p.value) {
            d.push(Diagnostic::error(format!("`periodic_savepoint`: {e}")).at(&p.loc).label("not a duration"));
        } else if bounded && p.value.trim() != "0" {
            d.push(
                Diagnostic::error("a bounded job cannot take periodic savepoints")
                    .at(&p.loc)
                    .label("BATCH jobs do not savepoint")
                    .help("remove `periodic_savepoint`, or drop `bounded`"),
            );
        } else if p.value.trim() == "0" {
            // "0" turns the periodic savepoint off, also the default of SPEC §13.6.
        } else if savepoint_dir.is_none() {
            d.push(
                Diagnostic::error("`periodic_savepoint` needs `flink.savepoint_dir`")
                    .at(&p.loc)
                    .label("periodic savepoints need somewhere to go")
                    .help("add `savepoint_dir = \"s3://flink/{env}/{name}/savepoints\"` to [flink]"),
            );
        }
    }
    let args = opt_str_list(t, "args", "[job]", d).unwrap_or_default().into_iter().map(|a| a.value).collect();
    let mut requirements = vec![];
    for r in opt_str_list(t, "requirements", "[job]", d).unwrap_or_default() {
        match r.value.split_once("==") {
            Some((pkg, ver))
                if !pkg.trim().is_empty()
                    && !ver.trim().is_empty()
                    && !ver.contains(['*', ',', ';', ' '])
                    && !pkg.contains(['<', '>', '=', '~', '!']) =>
            {
                let pkg_norm = pkg.trim().to_ascii_lowercase().replace('_', "-");
                if pkg_norm == "apache-flink" {
                    if let Some(v) = version
                        && ver.trim() != v.to_string()
                    {
                        d.push(
                            Diagnostic::error(format!("requirement {:?} disagrees with flink.version {v}", r.value))
                                .at(&r.loc)
                                .label("PyFlink must match the Flink runtime")
                                .help("remove it: flinkops installs apache-flink with flink.version itself"),
                        );
                    }
                    continue;
                }
                requirements.push(r.value.trim().to_string());
            }
            _ => d.push(
                Diagnostic::error(format!("requirement {:?} is not pinned", r.value))
                    .at(&r.loc)
                    .label("expected `name==version`")
                    .help("pin every requirement with `==` so the image is reproducible, e.g. \"redis==5.2.1\""),
            ),
        }
    }
    if !requirements.is_empty() && matches!(kind, Some(JobKind::Jar { .. })) {
        d.push(
            Diagnostic::error("`requirements` only apply to python and sql jobs")
                .at(&t.get("requirements").unwrap().node.loc)
                .label("jar jobs bundle their dependencies in the jar"),
        );
    }
    let mut connectors = vec![];
    for c in opt_str_list(t, "connectors", "[job]", d).unwrap_or_default() {
        if !CONNECTOR_NAMES.contains(&c.value.as_str()) {
            let mut diag = Diagnostic::error(format!("unknown connector {:?}", c.value))
                .at(&c.loc)
                .label(format!("known connectors: {}", CONNECTOR_NAMES.join(", ")));
            if let Some(s) = suggest(&c.value, CONNECTOR_NAMES) {
                diag = diag.help(format!("did you mean {s:?}?"));
            }
            d.push(diag);
            continue;
        }
        let Some(m) = minor else { continue };
        match m.connector(&c.value) {
            Some(b) => {
                if !connectors.contains(b) {
                    connectors.push(*b);
                }
            }
            None => d.push(
                Diagnostic::error(format!("the {} connector has no release for Flink {}", c.value, m.label()))
                    .at(&c.loc)
                    .label("no connector build for this Flink minor")
                    .help(format!(
                        "use a Flink version that has one ({})",
                        FLINK_MINORS.iter().filter(|x| x.connector(&c.value).is_some()).map(|x| x.label()).collect::<Vec<_>>().join(", ")
                    )),
            ),
        }
    }
    connectors.sort_by_key(|c| c.name);
    let exclude = opt_str_list(t, "exclude", "[job]", d).unwrap_or_default();
    for g in &exclude {
        if let Err(e) = globset::Glob::new(&g.value) {
            d.push(Diagnostic::error(format!("`exclude` glob {:?} is invalid: {e}", g.value)).at(&g.loc).label("bad glob"));
        }
    }
    Some(Job {
        kind: kind?,
        bounded,
        bundle,
        parallelism,
        upgrade_mode,
        state,
        initial_savepoint: initial.map(|i| i.value),
        allow_non_restored_state,
        savepoint_nonce,
        redeploy_nonce,
        restart_nonce,
        periodic_savepoint: match periodic {
            Some(p) if p.value.trim() == "0" => None,
            Some(p) => Some(p.value),
            // A standalone deployment without HA loses its state when the JobManager pod restarts:
            // keep a recent savepoint to `restore` from (SPEC §13.6).
            None if state_cx.standalone_without_ha && savepoint_dir.is_some() && !bounded => Some(PERIODIC_SAVEPOINT_DEFAULT.to_string()),
            None => None,
        },
        args,
        requirements,
        connectors,
        exclude: exclude.into_iter().map(|g| g.value).collect(),
    })
}

fn resources(t: &Table, d: &mut Diagnostics) -> Option<Resources> {
    let names: Vec<&str> = PROFILES.iter().map(|p| p.name).collect();
    let profile_v = opt_choice(t, "profile", "[resources]", &names, d);
    let profile = PROFILES.iter().find(|p| Some(p.name) == profile_v.as_ref().map(|v| v.value.as_str())).unwrap_or(&PROFILES[1]);
    let empty = Table::empty(t.loc.clone());
    let read = |key: &str, cpu: f64, mem: &str, d: &mut Diagnostics| -> Option<ContainerResources> {
        let c = match opt_table(t, key, "[resources]", d) {
            Some(c) => {
                check_keys(c, &format!("[resources.{key}]"), CONTAINER_KEYS, d);
                c
            }
            None => &empty,
        };
        let section = format!("[resources.{key}]");
        let cpu = match opt_number(c, "cpu", &section, d) {
            Some(v) if v.value > 0.0 && v.value <= 1024.0 => v.value,
            Some(v) => {
                d.push(Diagnostic::error(format!("`cpu` in {section} must be between 0 and 1024")).at(&v.loc).label("out of range"));
                return None;
            }
            None => cpu,
        };
        let memory = match opt_str(c, "memory", &section, d) {
            Some(m) => match MemorySize::parse(&m.value) {
                Ok(x) => x,
                Err(e) => {
                    d.push(
                        Diagnostic::error(format!("`memory` in {section}: {e}"))
                            .at(&m.loc)
                            .label("not a memory size")
                            .help("write Flink notation such as \"2048m\" or \"4g\" (binary units)"),
                    );
                    return None;
                }
            },
            None => MemorySize::parse(mem).expect("profile memory sizes are valid"),
        };
        Some(ContainerResources { cpu, memory })
    };
    let tm = read("taskmanager", profile.tm_cpu, profile.tm_memory, d);
    let jm = read("jobmanager", JM_CPU, JM_MEMORY, d);
    Some(Resources { profile: profile.name.to_string(), jobmanager: jm?, taskmanager: tm? })
}

fn ignored_keys(t: &Table, mode: ScalingMode) -> Vec<String> {
    let uses_schedule = matches!(mode, ScalingMode::Scheduled | ScalingMode::ScheduledHpa | ScalingMode::Keda);
    let mut out = vec![];
    for k in t.entries.keys() {
        let ignored = match k.as_str() {
            "preset" | "schedule" | "timezone" | "schedule_strategy" => !uses_schedule,
            "operator" => mode != ScalingMode::Operator,
            "min_replicas" | "max_replicas" => matches!(mode, ScalingMode::Disabled | ScalingMode::Reactive | ScalingMode::Operator),
            "target_cpu_utilization" => !matches!(mode, ScalingMode::HpaReactive | ScalingMode::ScheduledHpa | ScalingMode::Keda),
            _ => false,
        };
        if ignored {
            out.push(format!("autoscaling.{k}"));
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn autoscaling(
    name: &str,
    t: &Table,
    mode: ScalingMode,
    hpa_alias: bool,
    profile: &str,
    job: Option<&Job>,
    slots: u32,
    cx: &Ctx<'_>,
    d: &mut Diagnostics,
) -> Option<Autoscaling> {
    let section = "[autoscaling]";
    let uses_schedule = matches!(mode, ScalingMode::Scheduled | ScalingMode::ScheduledHpa | ScalingMode::Keda);
    let uses_bounds = !matches!(mode, ScalingMode::Disabled | ScalingMode::Reactive | ScalingMode::Operator);
    let timezone = match opt_str(t, "timezone", section, d) {
        Some(tz) => {
            check_timezone(&tz, d);
            tz.value
        }
        None => cx.env.timezone.clone().unwrap_or_else(|| cx.project.defaults.timezone.clone()),
    };
    let strategy =
        opt_choice(t, "schedule_strategy", section, STRATEGIES, d).map_or(cx.project.defaults.schedule_strategy, |s| strategy(&s.value));

    // Schedule entries: a preset or explicit entries, not both.
    let mut schedule = vec![];
    let mut numbers: Vec<EntryNumbers> = vec![];
    let preset = opt_str(t, "preset", section, d);
    let explicit = t.get("schedule");
    if uses_schedule {
        if let (Some(p), Some(_)) = (&preset, explicit) {
            d.push(
                Diagnostic::error("`preset` and `[[autoscaling.schedule]]` cannot be combined")
                    .at(&p.loc)
                    .label("a preset defines its own entries")
                    .help("remove the preset, or remove the [[autoscaling.schedule]] entries"),
            );
        }
        if let Some(p) = &preset {
            if PRESETS.contains(&p.value.as_str()) {
                schedule = preset_entries(&p.value).into_iter().map(|e| (e, p.loc.clone(), None)).collect();
                numbers = vec![EntryNumbers::preset(&p.loc); schedule.len()];
            } else {
                let mut diag = Diagnostic::error(format!("unknown preset {:?}", p.value))
                    .at(&p.loc)
                    .label(format!("expected one of: {}", PRESETS.join(", ")));
                if let Some(s) = suggest(&p.value, PRESETS) {
                    diag = diag.help(format!("did you mean {s:?}?"));
                }
                d.push(diag);
            }
        } else if let Some((items, loc)) = opt_array(t, "schedule", section, d) {
            for n in items {
                let Value::Table(e) = &n.value else {
                    d.push(Diagnostic::error("each [[autoscaling.schedule]] entry must be a table").at(&n.loc).label("not a table"));
                    continue;
                };
                if let Some((entry, at)) = schedule_entry(e, mode, d) {
                    if schedule.iter().any(|x: &super::schedule::Located| x.0.name == entry.0.name) {
                        d.push(
                            Diagnostic::error(format!("duplicate schedule entry name {:?}", entry.0.name))
                                .at(&e.loc)
                                .label("names must be unique"),
                        );
                    }
                    schedule.push(entry);
                    numbers.push(at);
                }
            }
            if items.is_empty() {
                d.push(
                    Diagnostic::error("`schedule` is empty")
                        .at(loc)
                        .label("no entries")
                        .help("add [[autoscaling.schedule]] entries or use a preset"),
                );
            }
        } else {
            d.push(
                Diagnostic::error(format!("autoscaling mode `{}` needs a schedule", mode.as_str()))
                    .at(&t.loc)
                    .label("no preset and no [[autoscaling.schedule]] entries")
                    .help(format!(
                        "add `preset = \"workday_peak\"` (or one of {}) or [[autoscaling.schedule]] entries",
                        PRESETS.join(", ")
                    )),
            );
        }
    }

    let prof = PROFILES.iter().find(|p| p.name == profile).unwrap_or(&PROFILES[1]);
    let (env_min, env_max) = if schedule.is_empty() {
        (prof.min_replicas, prof.max_replicas)
    } else {
        (schedule.iter().map(|e| e.0.min_replicas).min().unwrap_or(1), schedule.iter().map(|e| e.0.max_replicas).max().unwrap_or(1))
    };
    let min_v = opt_int_in(t, "min_replicas", section, 1, 10_000, d);
    let max_v = opt_int_in(t, "max_replicas", section, 1, 10_000, d);
    let min_replicas = min_v.as_ref().map_or(env_min, |v| v.value as u32);
    let max_replicas = max_v.as_ref().map_or(env_max, |v| v.value as u32);
    if uses_bounds && min_replicas > max_replicas {
        d.push(
            Diagnostic::error(format!("min_replicas {min_replicas} is greater than max_replicas {max_replicas}"))
                .at(min_v.as_ref().or(max_v.as_ref()).map_or(&t.loc, |v| &v.loc))
                .label("1 <= min_replicas <= max_replicas")
                .help("swap them, or raise max_replicas"),
        );
    }
    if uses_bounds {
        let bounds_at = min_v.as_ref().or(max_v.as_ref()).map(|v| v.loc.clone());
        for ((e, _, _), at) in schedule.iter().zip(&numbers) {
            let outside = |n: u32| n < min_replicas || n > max_replicas;
            // Quote the numbers the entry itself wrote, and point at the first one out of bounds.
            let replicas_only = mode == ScalingMode::Scheduled && at.min.is_none() && at.replicas.is_some();
            let (what, loc) = if replicas_only {
                (format!("replicas {}", e.replicas), at.replicas.as_ref())
            } else if outside(e.min_replicas) || outside(e.max_replicas) {
                let loc = if outside(e.min_replicas) { at.min.as_ref() } else { at.max.as_ref() };
                (format!("{}–{}", e.min_replicas, e.max_replicas), loc)
            } else {
                (format!("replicas {}", e.replicas), at.replicas.as_ref())
            };
            if outside(e.min_replicas) || outside(e.max_replicas) || (mode == ScalingMode::Scheduled && outside(e.replicas)) {
                let mut diag = Diagnostic::error(format!(
                    "schedule entry {:?} ({what}) lies outside the pipeline's bounds {min_replicas}–{max_replicas}",
                    e.name
                ))
                .at(loc.unwrap_or(&at.table))
                .label("outside the pipeline's bounds");
                diag = match &bounds_at {
                    Some(place) => diag.note_at(place, "the pipeline's bounds, the hard cap, are set at"),
                    None => {
                        diag.note(format!("the pipeline's bounds {min_replicas}–{max_replicas} come from the profile and are the hard cap"))
                    }
                };
                let from_preset = at.min.is_none() && at.max.is_none() && at.replicas.is_none();
                d.push(diag.help(if from_preset {
                    "widen autoscaling.min_replicas/max_replicas, or replace the preset by [[autoscaling.schedule]] entries within them"
                } else {
                    "narrow the entry, or widen autoscaling.min_replicas/max_replicas"
                }));
            }
        }
    }
    let target_cpu_utilization = opt_int_in(t, "target_cpu_utilization", section, 1, 100, d).map_or(75, |v| v.value as u32);
    let replicas_v = opt_int_in(t, "replicas", section, 1, 10_000, d);
    let replicas = match &replicas_v {
        Some(r) => r.value as u32,
        None if mode.count_managed_elsewhere() => min_replicas,
        None => job.map_or(1, |j| j.parallelism.div_ceil(slots)),
    };
    if let Some(r) = &replicas_v
        && uses_bounds
        && (replicas < min_replicas || replicas > max_replicas)
    {
        d.push(
            Diagnostic::error(format!("replicas {replicas} lies outside min_replicas..max_replicas ({min_replicas}..{max_replicas})"))
                .at(&r.loc)
                .label("starting count out of bounds")
                .help("choose a starting count within the bounds"),
        );
    }

    let mode_loc = t.get("mode").map_or(&t.loc, |e| &e.node.loc).clone();
    let lowered = super::schedule::lower(
        &mut schedule,
        &super::schedule::Setting { pipeline: name, mode, mode_loc, strategy, timezone: &timezone, min_replicas, max_replicas },
        cx.project,
        cx.cache,
        d,
    );
    same_minute_entries(&schedule, cx.project.valid_from, d);
    let schedule: Vec<ScheduleEntry> = schedule.into_iter().map(|e| e.0).collect();

    let mut operator_config = vec![];
    if mode == ScalingMode::Operator {
        let empty = Table::empty(t.loc.clone());
        let o = match opt_table(t, "operator", section, d) {
            Some(o) => {
                check_keys(o, "[autoscaling.operator]", OPERATOR_KEYS, d);
                o
            }
            None => &empty,
        };
        operator_config.push(("job.autoscaler.enabled".to_string(), "true".to_string()));
        if let Some(u) = opt_number(o, "utilization_target", "[autoscaling.operator]", d) {
            if u.value <= 0.0 || u.value > 1.0 {
                d.push(Diagnostic::error("`utilization_target` must be in (0, 1]").at(&u.loc).label("a fraction, e.g. 0.7"));
            }
            operator_config.push(("job.autoscaler.utilization.target".into(), format_number(u.value)));
        }
        for (key, flink_key) in [
            ("metrics_window", "job.autoscaler.metrics.window"),
            ("stabilization_interval", "job.autoscaler.stabilization.interval"),
            ("scale_down_interval", "job.autoscaler.scale-down.interval"),
        ] {
            if let Some(v) = opt_str(o, key, "[autoscaling.operator]", d) {
                match flinkconf::parse_duration(&v.value) {
                    Ok(_) => operator_config.push((flink_key.into(), v.value)),
                    Err(e) => d.push(Diagnostic::error(format!("`{key}`: {e}")).at(&v.loc).label("not a duration")),
                }
            }
        }
        if let Some(v) = opt_int_in(o, "vertex_max_parallelism", "[autoscaling.operator]", 1, 32768, d) {
            operator_config.push(("job.autoscaler.vertex.max-parallelism".into(), v.value.to_string()));
        }
        operator_config.sort();
    }
    Some(Autoscaling {
        mode,
        hpa_alias,
        replicas,
        emit_replicas: true,
        min_replicas,
        max_replicas,
        target_cpu_utilization,
        timezone,
        strategy,
        schedule,
        cronjob_time_zone: lowered.cronjob_time_zone,
        reconcile_offsets: lowered.reconcile_offsets,
        operator_config,
    })
}

/// Formats a number the way a person writes it: `1` not `1.0`, `0.5`.
pub use crate::units::format_number;

/// SPEC §17: two entries of one pipeline that fire at the same local minute are an error: their
/// CronJobs would race, and which bounds win would depend on which pod finishes last.
fn same_minute_entries(schedule: &[super::schedule::Located], from: chrono::NaiveDate, d: &mut Diagnostics) {
    for (i, (b, b_loc, _)) in schedule.iter().enumerate() {
        for (a, a_loc, _) in &schedule[..i] {
            let (Some(ca), Some(cb)) = (&a.parsed, &b.parsed) else { continue };
            if let Some(t) = first_common_minute(ca, cb, from) {
                d.push(
                    Diagnostic::error(format!("schedule entries {:?} and {:?} fire at the same minute", a.name, b.name))
                        .at(b_loc)
                        .label(format!("also fires at {} (local time)", t.format("%a %Y-%m-%d %H:%M")))
                        .note_at(a_loc, format!("{:?} is written at", a.name))
                        .note("their CronJobs would race: the bounds that win would depend on which finishes last")
                        .help("move one entry by a minute, or merge the two into one entry"),
                );
            }
        }
    }
}

/// The first local minute, on or after `from`, at which both crons fire. The Gregorian calendar
/// repeats every 28 years between 1901 and 2099 (weekday, day of month, month and leap years
/// together), so 28 years from `from` cover every date pattern of the horizon (which ends on
/// 2100-01-01).
fn first_common_minute(a: &crate::schedule::Cron, b: &crate::schedule::Cron, from: chrono::NaiveDate) -> Option<chrono::NaiveDateTime> {
    use chrono::Datelike;
    let minutes = a.minute_bits() & b.minute_bits();
    let hours = a.hour_bits() & b.hour_bits();
    if minutes == 0 || hours == 0 {
        return None;
    }
    let end = chrono::NaiveDate::from_ymd_opt(2100, 1, 1)?.min(from.with_year(from.year() + 28).unwrap_or(from));
    let mut day = from;
    while day < end {
        let (dom, month, dow) = (day.day(), day.month(), day.weekday().num_days_from_sunday());
        if a.matches_date(dom, month, dow) && b.matches_date(dom, month, dow) {
            return day.and_hms_opt(hours.trailing_zeros(), minutes.trailing_zeros(), 0);
        }
        day = day.succ_opt()?;
    }
    None
}

/// Where an entry wrote its numbers, for errors about them (SPEC §17: the entry's own place).
#[derive(Clone)]
struct EntryNumbers {
    table: Loc,
    min: Option<Loc>,
    max: Option<Loc>,
    replicas: Option<Loc>,
}

impl EntryNumbers {
    /// An entry of a preset: its numbers are written where the preset is named.
    fn preset(at: &Loc) -> Self {
        EntryNumbers { table: at.clone(), min: None, max: None, replicas: None }
    }
}

fn schedule_entry(t: &Table, mode: ScalingMode, d: &mut Diagnostics) -> Option<(super::schedule::Located, EntryNumbers)> {
    let section = "[[autoscaling.schedule]]";
    check_keys(t, section, ENTRY_KEYS, d);
    let name = required(opt_str(t, "name", section, d), "name", &t.loc, "give each entry a DNS-1123 `name`", d)?;
    if !is_dns1123_label(&name.value) {
        d.push(
            Diagnostic::error(format!("schedule entry name {:?} is not a DNS-1123 label", name.value))
                .at(&name.loc)
                .label("used in CronJob names")
                .help("use lower-case letters, digits and `-`"),
        );
    }
    let cron = required(opt_str(t, "cron", section, d), "cron", &t.loc, "add e.g. `cron = \"0 9 * * 1-5\"`", d)?;
    let replicas_v = opt_int_in(t, "replicas", section, 1, 10_000, d);
    let min_v = opt_int_in(t, "min_replicas", section, 1, 10_000, d);
    // In `scheduled` mode the CronJobs set the TaskManager count itself: an entry may give just
    // `replicas` (SPEC §17), which is then also its min and max.
    let min = match (&min_v, &replicas_v) {
        (Some(m), _) => m.clone(),
        (None, Some(r)) if mode == ScalingMode::Scheduled => r.clone(),
        (None, _) if t.get("min_replicas").is_some() => return None,
        (None, _) => {
            let help = if mode == ScalingMode::Scheduled {
                "each entry sets `replicas` (the TaskManager count), or `min_replicas`/`max_replicas`"
            } else {
                "each entry sets min_replicas"
            };
            required(None::<Sp<i64>>, "min_replicas", &t.loc, help, d)?
        }
    };
    let max_v = opt_int_in(t, "max_replicas", section, 1, 10_000, d);
    let max = max_v.as_ref().map_or(min.value, |v| v.value);
    if min.value > max {
        d.push(
            Diagnostic::error(format!("entry {:?}: min_replicas {} > max_replicas {max}", name.value, min.value))
                .at(&min.loc)
                .label("min above max"),
        );
    }
    let replicas = replicas_v.as_ref().map_or(min.value, |v| v.value);
    let numbers =
        EntryNumbers { table: t.loc.clone(), min: min_v.map(|v| v.loc), max: max_v.map(|v| v.loc), replicas: replicas_v.map(|v| v.loc) };
    let end = opt_str(t, "end", section, d);
    let end_loc = end.as_ref().map(|e| e.loc.clone());
    Some((
        (
            ScheduleEntry {
                name: name.value,
                cron: cron.value,
                min_replicas: min.value as u32,
                max_replicas: max as u32,
                replicas: replicas as u32,
                end: end.map(|e| e.value),
                parsed: None,
                schedules: vec![],
                guard_offsets: vec![],
            },
            cron.loc,
            end_loc,
        ),
        numbers,
    ))
}

/// Compiles `[[tasks]]`: params to JSON with secrets turned into `{"secret_env": …}`, and the
/// matching environment variables appended to `env`.
fn tasks(t: &Table, env: &mut Vec<EnvVar>, d: &mut Diagnostics) -> Vec<Task> {
    let Some((items, _)) = opt_array(t, "tasks", "the pipeline", d) else { return vec![] };
    let mut out: Vec<Task> = vec![];
    for n in items {
        let Value::Table(tt) = &n.value else {
            d.push(Diagnostic::error("each [[tasks]] entry must be a table").at(&n.loc).label("not a table"));
            continue;
        };
        check_keys(tt, "[[tasks]]", TASK_KEYS, d);
        let Some(name) = required(opt_str(tt, "name", "[[tasks]]", d), "name", &tt.loc, "give each task a `name`", d) else { continue };
        if !is_dns1123_label(&name.value) {
            d.push(
                Diagnostic::error(format!("task name {:?} is not a DNS-1123 label", name.value))
                    .at(&name.loc)
                    .label("invalid task name")
                    .help("use lower-case letters, digits and `-` (it becomes part of environment variable names)"),
            );
            continue;
        }
        if out.iter().any(|x| x.name == name.value) {
            d.push(Diagnostic::error(format!("duplicate task {:?}", name.value)).at(&name.loc).label("task names must be unique"));
            continue;
        }
        let enabled = opt_bool(tt, "enabled", "[[tasks]]", d).is_none_or(|b| b.value);
        let params = match opt_table(tt, "params", "[[tasks]]", d) {
            Some(p) => params_json(p, &name.value, &mut vec![], env, d),
            None => serde_json::Value::Object(serde_json::Map::new()),
        };
        out.push(Task { name: name.value, enabled, params });
    }
    out
}

fn params_json(t: &Table, task: &str, path: &mut Vec<String>, env: &mut Vec<EnvVar>, d: &mut Diagnostics) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (k, e) in &t.entries {
        path.push(k.clone());
        let v = match &e.node.value {
            Value::Table(inner) if inner.entries.contains_key("secret") => match secret_ref(inner, d) {
                Some((secret, key)) => {
                    let var = secret_env_name(task, path);
                    if env.iter().any(|x| x.name == var) {
                        d.push(
                            Diagnostic::error(format!("two secret parameters map to the same variable {var}"))
                                .at(&e.key_loc)
                                .label("name collision")
                                .help("rename one of the parameters"),
                        );
                    }
                    env.push(EnvVar { name: var.clone(), value: EnvValue::Secret { secret, key } });
                    serde_json::json!({ "secret_env": var })
                }
                None => serde_json::Value::Null,
            },
            _ if is_secret_looking(k) && !matches!(e.node.value, Value::Table(_) | Value::Boolean(_)) => {
                d.push(
                    Diagnostic::error(format!(
                        "secret literal in task {task:?}: parameter `{}` holds a value in plain text",
                        path.join(".")
                    ))
                    .at(&e.node.loc)
                    .label("secrets never appear as literals")
                    .help(format!("store it in a Kubernetes Secret and write `{k} = {{ secret = \"<secret name>\", key = \"<key>\" }}`")),
                );
                serde_json::Value::Null
            }
            other => node_json(other, &e.node, task, path, env, d),
        };
        path.pop();
        map.insert(k.clone(), v);
    }
    serde_json::Value::Object(map)
}

fn node_json(v: &Value, n: &Node, task: &str, path: &mut Vec<String>, env: &mut Vec<EnvVar>, d: &mut Diagnostics) -> serde_json::Value {
    match v {
        Value::String(s) | Value::Datetime(s) => serde_json::Value::String(s.clone()),
        Value::Integer(i) => serde_json::Value::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or_else(
            || {
                d.push(Diagnostic::error("task parameters cannot be NaN or infinite").at(&n.loc).label("not representable in JSON"));
                serde_json::Value::Null
            },
            serde_json::Value::Number,
        ),
        Value::Boolean(b) => serde_json::Value::Bool(*b),
        Value::Array(items) => serde_json::Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    path.push(i.to_string());
                    let r = match &x.value {
                        Value::Table(t) => {
                            let mut wrapper = Table::empty(x.loc.clone());
                            wrapper.entries = t.entries.clone();
                            if t.entries.contains_key("secret") {
                                // A secret reference inside an array: name it by the index.
                                let mut env_path = path.clone();
                                env_path.pop();
                                let last = path.last().cloned().unwrap_or_default();
                                let mut tmp = Table::empty(x.loc.clone());
                                tmp.entries.insert(last, crate::spec::Entry { key_loc: x.loc.clone(), node: x.clone() });
                                let mut p2 = env_path;
                                let obj = params_json(&tmp, task, &mut p2, env, d);
                                obj.as_object().and_then(|o| o.values().next().cloned()).unwrap_or(serde_json::Value::Null)
                            } else {
                                params_json(&wrapper, task, path, env, d)
                            }
                        }
                        other => node_json(other, x, task, path, env, d),
                    };
                    path.pop();
                    r
                })
                .collect(),
        ),
        Value::Table(t) => params_json(t, task, path, env, d),
    }
}
