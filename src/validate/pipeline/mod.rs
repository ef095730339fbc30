//! Validate phase: one pipeline spec (already merged with its templates and overlay) into a
//! checked [`Pipeline`].
//!
//! In: the merged spanned table, the project, the environment. Out: a fully resolved
//! [`Pipeline`] (defaults, profile, precedence of SPEC §3 applied) or `None`, with every problem
//! pushed as a diagnostic: all of them, not just the first.
//!
//! This module orders the sections (the Flink version and the scaling mode first: every other
//! section depends on them) and assembles the model; each section is checked by its own
//! submodule: `keys` (name, namespace, description, labels), `flink`, `job`,
//! `resources`, `autoscaling` and `tasks`.

use std::path::Path;

use crate::diag::{Code, Diagnostic, Diagnostics, Loc};
use crate::model::*;
use crate::spec::Table;
use crate::validate::read::*;

mod autoscaling;
mod flink;
mod job;
mod keys;
mod resources;
mod tasks;

pub use autoscaling::{AUTOSCALING_KEYS, ENTRY_KEYS, MODES, OPERATOR_KEYS, PRESETS, preset_entries};
pub use flink::FLINK_KEYS;
pub use job::{JOB_KEYS, PERIODIC_SAVEPOINT_DEFAULT};
pub use keys::PIPELINE_KEYS;
pub use resources::{CONTAINER_KEYS, PROFILES, Profile, RESOURCES_KEYS};
pub use tasks::TASK_KEYS;

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
        d.push(
            Diagnostic::error(Code::MissingKey, format!("`{what}` is required"))
                .at(at)
                .label(format!("`{what}` missing here"))
                .help(help.to_string()),
        );
    }
    v
}

/// The error for `v`, which is not one of the `known` words of `what` ("connector", "preset"),
/// suggesting the closest one when it looks like a typo.
fn unknown_word(what: &str, v: &Sp<String>, known: &[&str], label: String) -> Diagnostic {
    let diag = Diagnostic::error(Code::NotOneOf, format!("unknown {what} {:?}", v.value)).at(&v.loc).label(label);
    match suggest(&v.value, known) {
        Some(s) => diag.help(format!("did you mean {s:?}?")),
        None => diag,
    }
}

/// The error for `key`'s value, which [`flinkconf::parse_duration`](crate::validate::flinkconf::parse_duration)
/// refused with `why`.
fn not_a_duration(key: &str, why: &str, at: &Loc) -> Diagnostic {
    Diagnostic::error(Code::InvalidDuration, format!("`{key}`: {why}")).at(at).label("not a duration")
}

/// Validates one pipeline. Returns `None` when an error makes the pipeline unusable.
pub fn pipeline(t: &Table, cx: &Ctx<'_>, d: &mut Diagnostics) -> Option<Pipeline> {
    let errors_before = d.count(crate::diag::Severity::Error);
    check_keys(t, "the pipeline", PIPELINE_KEYS, d);
    let empty = Table::empty(t.loc.clone());
    let keys::Top { name, namespace, description, labels } = keys::top(t, cx, d);

    let flink_t = sub(t, "flink", "the pipeline", FLINK_KEYS, d).unwrap_or(&empty);
    let job_t = sub(t, "job", "the pipeline", JOB_KEYS, d).unwrap_or(&empty);
    let res_t = sub(t, "resources", "the pipeline", RESOURCES_KEYS, d).unwrap_or(&empty);
    let auto_t = sub(t, "autoscaling", "the pipeline", AUTOSCALING_KEYS, d).unwrap_or(&empty);

    let version = flink::version(flink_t, cx.project.operator, d);
    let bounded = opt_bool(job_t, "bounded", "[job]", d);
    let is_bounded = bounded.as_ref().is_some_and(|b| b.value);
    // The scaling mode before [flink]: it decides the deployment mode.
    let (mode, hpa_alias) = autoscaling::mode(auto_t, d);
    let inputs = flink::Inputs { version, scaling: mode, bounded: is_bounded, name: &name, namespace: &namespace };
    let mut flink = flink::section(flink_t, &inputs, cx, d);

    let state = job::StateContext {
        savepoint_dir: &flink.savepoint_dir,
        standalone_without_ha: flink.mode == DeploymentMode::Standalone && !flink.high_availability,
    };
    let job = job::job(job_t, &name, version, &state, flink.image.is_some(), cx, d);
    if is_bounded {
        autoscaling::check_bounded(auto_t, mode, d);
    }

    let resources = resources::resources(res_t, d);

    let profile = resources.as_ref().map_or("small", |r| r.profile.as_str());
    let mut autoscaling = autoscaling::autoscaling(&name, auto_t, mode, hpa_alias, profile, job.as_ref(), flink.slots, cx, d);
    let mut ignored = vec![];
    if let Some(a) = &mut autoscaling {
        ignored = autoscaling::ignored(auto_t, a);
        autoscaling::check_against_flink(a, auto_t, job.as_ref(), &flink, d);
    }
    if let Some(j) = &job {
        job::check_upgrade_storage(j, job_t, &flink, d);
    }

    let tasks = tasks::tasks(t, &mut flink.env, d);
    flink.env.sort_by(|a, b| a.name.cmp(&b.name));

    // The memory model after [flink.config], which may change fractions.
    let res = resources?;
    resources::check_memory(&res, res_t, &flink.config, t, d);

    if d.count(crate::diag::Severity::Error) > errors_before {
        return None;
    }
    let version = version?;
    let job = job?;
    let autoscaling = autoscaling?;
    let mut sources = cx.sources.clone();
    sources.sort();
    sources.dedup();
    let f = flink;
    Some(Pipeline {
        name,
        env: cx.env.name.clone(),
        sources,
        namespace,
        description,
        labels,
        flink: Flink {
            version,
            java: f.java,
            mode: f.mode,
            image: f.image.map(|i| i.value),
            service_account: f.service_account,
            slots: f.slots,
            state_backend: f.state_backend,
            checkpoint_interval: f.checkpoint_interval,
            checkpoint_dir: f.checkpoint_dir,
            savepoint_dir: f.savepoint_dir,
            high_availability: f.high_availability,
            ha_dir: f.ha_dir,
            config: f.config,
            env: f.env,
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
        origins: crate::model::Origins::default(),
        objects: vec![],
    })
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
