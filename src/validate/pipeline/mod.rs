//! Validate phase: one pipeline spec (already merged with its templates and overlay) into a
//! checked [`Pipeline`].
//!
//! In: the merged spanned table, read once into [`raw::Pipeline`] (which reports every problem
//! of shape), the project, the environment. Out: a fully resolved
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
use crate::spec::raw::{self, Sp, suggest};

mod autoscaling;
mod flink;
mod job;
mod keys;
mod resources;
mod tasks;

pub use autoscaling::{PRESETS, preset_entries};
pub use job::PERIODIC_SAVEPOINT_DEFAULT;
pub use resources::{ProfileSize, profile_size};

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

/// A section as read, or an empty one placed at `file` (the whole pipeline) when the pipeline
/// has none (or one that could not be read, which was reported).
fn or_empty<T: Default>(section: Option<Sp<T>>, file: &Loc) -> Sp<T> {
    section.unwrap_or_else(|| Sp { value: T::default(), loc: file.clone() })
}

/// `v` when it lies within `min..=max`; else the error, and `None` (as if unset).
fn in_range(v: &Option<Sp<i64>>, key: &str, section: &str, min: i64, max: i64, d: &mut Diagnostics) -> Option<Sp<i64>> {
    let v = v.as_ref()?;
    if v.value < min || v.value > max {
        d.push(
            Diagnostic::error(Code::OutOfRange, format!("`{key}` in {section} is {}, out of range", v.value))
                .at(&v.loc)
                .label(format!("must be between {min} and {max}")),
        );
        return None;
    }
    Some(v.clone())
}

/// A string that is not empty: an empty string counts as "not set" (the spec shows `image = ""`).
fn nonempty(v: &Option<Sp<String>>) -> Option<Sp<String>> {
    v.clone().filter(|s| !s.value.is_empty())
}

/// `text` as a [`Duration`], or why it is not one.
fn duration(text: &str) -> Result<Duration, String> {
    crate::validate::flinkconf::parse_duration(text).map(|ms| Duration::new(text, ms))
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
    // Every problem of shape (unknown keys, wrong types, unknown words) is reported here, once;
    // the sections below check what the values mean.
    let p: raw::Pipeline = raw::from_table(t, "the pipeline", d);
    let places = Places {
        file: Loc { file: t.loc.file, span: t.loc.span.start..t.loc.span.start },
        name: p.name.as_ref().map(|n| n.loc.clone()),
        job: t.get("job").map(|e| e.key_loc.clone()),
        autoscaling_mode: p.autoscaling.as_ref().and_then(|a| a.value.mode.as_ref()).map(|m| m.loc.clone()),
    };
    // The keys `[autoscaling]` was written with, in the merged order (`explain` lists those the
    // mode ignores in that order).
    let auto_keys: Vec<String> = match t.get("autoscaling").map(|e| &e.node.value) {
        Some(crate::spec::Value::Table(a)) => a.entries.keys().cloned().collect(),
        _ => vec![],
    };
    let keys::Top { name, namespace, description, labels } = keys::top(&p, &t.loc, cx, d);

    let flink_r = or_empty(p.flink, &t.loc);
    let job_r = or_empty(p.job, &t.loc);
    let res_r = p.resources.map(|r| r.value).unwrap_or_default();
    let auto_r = or_empty(p.autoscaling, &t.loc);

    let version = flink::version(&flink_r, cx.project.operator, d);
    let is_bounded = job_r.value.bounded.as_ref().is_some_and(|b| b.value);
    // The scaling mode before [flink]: it decides the deployment mode.
    let (mode, hpa_alias) = autoscaling::mode(&auto_r.value);
    let inputs = flink::Inputs { version, scaling: mode, bounded: is_bounded, name: &name, namespace: &namespace };
    let mut flink = flink::section(&flink_r.value, &inputs, cx, d);

    let state = job::StateContext {
        savepoint_dir: &flink.savepoint_dir,
        standalone_without_ha: flink.mode == DeploymentMode::Standalone && !flink.high_availability,
    };
    let job = job::job(&job_r, &name, version, &state, flink.image.is_some(), cx, d);
    if is_bounded {
        autoscaling::check_bounded(&auto_r, mode, d);
    }

    let resources = resources::resources(&res_r, d);

    let profile = resources.as_ref().map_or(Profile::Small, |r| r.profile);
    let scaling = autoscaling::Scaling { mode, hpa_alias, profile, slots: flink.slots };
    let mut autoscaling = autoscaling::autoscaling(&name, &auto_r, &scaling, job.as_ref(), cx, d);
    let mut ignored = vec![];
    if let Some((a, entries)) = &mut autoscaling {
        ignored = autoscaling::ignored(&auto_keys, entries, a.mode);
        autoscaling::check_against_flink(a, &auto_r, job.as_ref(), &flink, d);
    }
    if let Some(j) = &job {
        job::check_upgrade_storage(j, &job_r, &flink, d);
    }

    let tasks = tasks::tasks(p.tasks.as_ref().map(|l| l.as_slice()), &mut flink.env, d);
    flink.env.sort_by(|a, b| a.name.cmp(&b.name));

    // The memory model after [flink.config], which may change fractions.
    let res = resources?;
    resources::check_memory(&res, &res_r, &flink.config, &t.loc, d);

    if d.count(crate::diag::Severity::Error) > errors_before {
        return None;
    }
    let version = version?;
    let job = job?;
    let (autoscaling, _) = autoscaling?;
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
        places,
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
