//! Day-2 phase: operations on a running pipeline (savepoint, restore, suspend, resume, restart)
//! as reviewed git changes (SPEC §11). Nothing here contacts a cluster.
//!
//! In: the repository root, a [`Request`] (operation, pipeline, optional environment) and
//! [`Options`]. Out: an [`Outcome`]: the [`Plan`] that was applied (the edited file's bytes
//! before and after, the keys written, a suggested commit message) with the `out/` changes that
//! regenerating produced, or the news that the state asked for is already in effect; else a
//! [`Day2Error`], which has a stable code and becomes a [`Diagnostic`].
//!
//! [`apply`] is the whole flow: [`locate`] the file that owns the setting, compile the
//! repository as it is (it must compile, and `out/` must be up to date, so that the commit holds
//! the operation and nothing else), [`plan`] the edit, write it, regenerate `out/` exactly as
//! `generate` does, and put the file back when the edited repository does not compile. The parts:
//! `locate.rs` (which file), `plan.rs` (what changes), `edit.rs` (the format-preserving edit).
//!
//! Where a key is written:
//! - pipeline file: the root `[job]` table (or `job` as dotted keys / an inline table, whatever
//!   the file already uses); a missing `[job]` table is created, before any `[[tasks]]`.
//! - overlay: the table `[pipelines.<name>]`, created (and the file too) when missing. The key goes
//!   into an existing `job` table of any form; otherwise as a dotted key `job.<key> = …` inside
//!   `[pipelines.<name>]` (the style of SPEC §8), unless that table only holds sub-tables
//!   (`[pipelines.<name>.resources]`), where a `[pipelines.<name>.job]` table fits better.
//!
//! Without an environment the edit lands in the pipeline file, so it reaches every environment
//! whose overlay does not override the key. A nonce becomes one more than the value in effect in
//! those environments (they all see the same value: the one the pipeline file and its template
//! give); environments whose overlay overrides the key are reported, and an edit that would reach
//! no environment at all is refused.

use std::path::Path;

use crate::compile::{self, Compiled};
use crate::diag::{Code, Diagnostic, Diagnostics, Severity, Sources};
use crate::sync::{self, Change, SyncError};

mod edit;
mod locate;
mod plan;

pub use crate::validate::pipeline::is_uri;
pub use locate::{Target, locate};
pub use plan::{Plan, Planned, Setting, plan};

/// What to do to the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// Bump `job.savepoint_nonce` (the operator takes a savepoint).
    Savepoint,
    /// Set `job.initial_savepoint` and bump `job.redeploy_nonce` (redeploy from that savepoint).
    Restore { from: String },
    /// Set `job.state = "suspended"`.
    Suspend,
    /// Set `job.state = "running"`.
    Resume,
    /// Bump `job.restart_nonce`.
    Restart,
}

impl Operation {
    /// The command name, as typed on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::Savepoint => "savepoint",
            Operation::Restore { .. } => "restore",
            Operation::Suspend => "suspend",
            Operation::Resume => "resume",
            Operation::Restart => "restart",
        }
    }

    /// The `[job]` keys this operation writes.
    pub fn keys(&self) -> &'static [&'static str] {
        match self {
            Operation::Savepoint => &["savepoint_nonce"],
            Operation::Restore { .. } => &["initial_savepoint", "redeploy_nonce"],
            Operation::Suspend | Operation::Resume => &["state"],
            Operation::Restart => &["restart_nonce"],
        }
    }
}

/// One day-2 command.
#[derive(Debug, Clone)]
pub struct Request {
    pub operation: Operation,
    /// The pipeline's name (its `name`, or its file stem).
    pub pipeline: String,
    /// `--env`: edit this environment's overlay instead of the pipeline file.
    pub env: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum Day2Error {
    #[error("unknown pipeline `{name}`")]
    UnknownPipeline { name: String, suggestion: Option<String>, known: Vec<String> },
    #[error("unknown environment `{name}`")]
    UnknownEnv { name: String, suggestion: Option<String>, known: Vec<String> },
    #[error("`--from {path}` is not a savepoint URI")]
    NotAUri { path: String },
    #[error("pipeline `{pipeline}` has no `flink.savepoint_dir` in {}: a savepoint needs somewhere to go", envs_phrase(envs))]
    NoSavepointDir { pipeline: String, envs: Vec<String> },
    #[error(
        "{} for pipeline `{pipeline}` in every environment ({}), so an edit of {file} would change nothing",
        overrides_phrase(keys),
        overlays.join(", ")
    )]
    Shadowed { pipeline: String, keys: Vec<String>, file: String, overlays: Vec<String> },
    #[error("`job.{key}` of pipeline `{pipeline}` is already {value}, the largest value a nonce can hold")]
    NonceExhausted { pipeline: String, key: String, value: i64 },
    #[error("cannot edit `{file}`: {reason}")]
    Uneditable { file: String, reason: String },
    #[error("pipeline `{pipeline}` is missing from the compiled environment `{env}`")]
    NotCompiled { pipeline: String, env: String },
    #[error("cannot {action} `{path}`: {source}")]
    Io { action: &'static str, path: String, source: std::io::Error },
    #[error("{}; fix them before `flinkops {operation}` (nothing was changed)", blocked_phrase(*denied))]
    Blocked {
        operation: &'static str,
        /// Whether warnings block it (`--deny-warnings`) rather than errors.
        denied: bool,
        /// The diagnostics to show: the errors, and the warnings when they are denied.
        diagnostics: Diagnostics,
        sources: Sources,
    },
    #[error("out/ is not up to date with the specs ({} file(s) differ), so this change would carry unrelated ones", paths.len())]
    StaleOut { paths: Vec<String> },
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error("`flinkops {operation}` was not applied: {file} is back as it was")]
    NotApplied {
        operation: &'static str,
        file: String,
        /// Why regenerating failed.
        cause: Box<RegenerateFailure>,
        /// Whether `out/` may have been partly written.
        out_touched: bool,
    },
    #[error("cannot put {file} back as it was: {source}")]
    RevertFailed {
        file: String,
        /// Why regenerating failed, which is why the file was being put back.
        cause: Box<RegenerateFailure>,
        source: Box<Day2Error>,
    },
}

/// Why regenerating `out/` after the edit failed.
#[derive(Debug)]
pub enum RegenerateFailure {
    /// The edited repository has errors (or warnings, under `--deny-warnings`); its diagnostics
    /// are still to be shown.
    Compile(Box<Compiled>),
    /// `out/` could not be compared or written.
    Sync(SyncError),
}

fn envs_phrase(envs: &[String]) -> String {
    match envs {
        [one] => format!("env `{one}`"),
        many => format!("envs {}", many.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ")),
    }
}

fn overrides_phrase(keys: &[String]) -> String {
    let keys: Vec<String> = keys.iter().map(|k| format!("`job.{k}`")).collect();
    format!("the overlays set {}", keys.join(" or "))
}

fn blocked_phrase(denied: bool) -> &'static str {
    if denied { "warnings are denied (--deny-warnings)" } else { "the repository has errors" }
}

/// How many stale files a [`Day2Error::StaleOut`] names.
const STALE_SHOWN: usize = 5;

impl Day2Error {
    /// The stable code.
    pub fn code(&self) -> Code {
        match self {
            Day2Error::UnknownPipeline { .. } => Code::Day2UnknownPipeline,
            Day2Error::UnknownEnv { .. } => Code::Day2UnknownEnv,
            Day2Error::NotAUri { .. } => Code::Day2NotAUri,
            Day2Error::NoSavepointDir { .. } => Code::Day2NoSavepointDir,
            Day2Error::Shadowed { .. } => Code::Day2Shadowed,
            Day2Error::NonceExhausted { .. } => Code::Day2NonceExhausted,
            Day2Error::Uneditable { .. } => Code::Day2Uneditable,
            Day2Error::NotCompiled { .. } => Code::Day2NotCompiled,
            Day2Error::Io { .. } | Day2Error::Sync(_) => Code::Day2Io,
            Day2Error::Blocked { .. } => Code::Day2Blocked,
            Day2Error::StaleOut { .. } => Code::Day2StaleOut,
            Day2Error::NotApplied { .. } => Code::Day2NotApplied,
            Day2Error::RevertFailed { .. } => Code::Day2RevertFailed,
        }
    }

    /// A hint for the `= help:` line, when there is a useful one.
    pub fn help(&self) -> Option<String> {
        match self {
            Day2Error::UnknownPipeline { suggestion: Some(s), .. } | Day2Error::UnknownEnv { suggestion: Some(s), .. } => {
                Some(format!("did you mean `{s}`?"))
            }
            Day2Error::NotAUri { .. } => {
                Some("give the savepoint's full path with its scheme, e.g. s3://bucket/savepoints/savepoint-3f2a1b-8c1d2e3f4a5b".into())
            }
            Day2Error::NoSavepointDir { .. } => {
                Some("add `savepoint_dir = \"s3://flink/{env}/{name}/savepoints\"` to the pipeline's [flink] table".into())
            }
            Day2Error::Shadowed { overlays, .. } => Some(format!(
                "edit one environment with --env {}",
                overlays.iter().map(|o| o.split('/').nth(1).unwrap_or(o)).collect::<Vec<_>>().join(" or --env ")
            )),
            Day2Error::Uneditable { .. } => Some("fix the file by hand, or move the key into a `[job]` table".into()),
            Day2Error::StaleOut { .. } => Some(
                "run `flinkops generate` and commit the result first (`flinkops diff` shows what it changes); nothing was changed".into(),
            ),
            Day2Error::NotApplied { out_touched: true, .. } => {
                Some("out/ may be partly rewritten: run `flinkops generate` to bring it back in line".into())
            }
            _ => None,
        }
    }

    /// Facts for `= note:` lines: for an unknown name, the names there are; for a stale `out/`,
    /// the first files that differ.
    pub fn notes(&self) -> Vec<String> {
        match self {
            Day2Error::UnknownPipeline { known, .. } if known.is_empty() => vec!["there is no pipeline under pipelines/".into()],
            Day2Error::UnknownPipeline { known, .. } => vec![format!("pipelines: {}", known.join(", "))],
            Day2Error::UnknownEnv { known, .. } => vec![format!("environments: {}", known.join(", "))],
            Day2Error::StaleOut { paths } => paths.iter().take(STALE_SHOWN).map(|p| format!("stale: {p}")).collect(),
            _ => vec![],
        }
    }

    /// The error as a diagnostic (it has no place in a file). For [`Day2Error::Blocked`],
    /// [`Day2Error::NotApplied`] and [`Day2Error::RevertFailed`] the diagnostics of the
    /// repository come first; this is the line that follows them.
    pub fn diagnostic(&self) -> Diagnostic {
        let d = self.notes().into_iter().fold(Diagnostic::error(self.code(), self.to_string()), Diagnostic::note);
        match self.help() {
            Some(h) => d.help(h),
            None => d,
        }
    }

    /// Whether the error is the user's input (exit 2) rather than I/O or a bug (exit 3).
    pub fn is_invalid_input(&self) -> bool {
        match self {
            Day2Error::Io { .. } | Day2Error::NotCompiled { .. } | Day2Error::RevertFailed { .. } => false,
            Day2Error::Sync(e) => matches!(e, SyncError::NotOwned),
            Day2Error::NotApplied { cause, .. } => match cause.as_ref() {
                RegenerateFailure::Compile(_) => true,
                RegenerateFailure::Sync(e) => matches!(e, SyncError::NotOwned),
            },
            _ => true,
        }
    }
}

/// How [`apply`] runs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--deny-warnings`: warnings stop the command as errors do.
    pub deny_warnings: bool,
}

/// What a day-2 command did.
#[derive(Debug)]
pub enum Outcome {
    /// The edit is written and `out/` regenerated.
    Applied(Box<Applied>),
    /// The state asked for is already in effect everywhere the edit would reach; nothing changed.
    AlreadyInEffect { pipeline: String, state: String, envs: Vec<String> },
}

/// An applied day-2 edit.
#[derive(Debug)]
pub struct Applied {
    pub plan: Plan,
    /// The files of `out/` that regenerating changed.
    pub changes: Vec<Change>,
    /// The edited repository, compiled: its diagnostics (warnings only) are still to be shown.
    pub compiled: Box<Compiled>,
}

/// Runs a day-2 command: locate, check the repository and `out/`, plan, write, regenerate, and
/// revert the edit when regenerating fails. The caller holds the run lock (a read-modify-write of
/// a spec file and `out/`: no other run may interleave).
pub fn apply(root: &Path, req: &Request, opts: &Options) -> Result<Outcome, Day2Error> {
    let target = locate(root, req)?;
    let envs: Vec<String> = target.env.iter().cloned().collect();
    let compile_opts = compile::Options { envs, ..Default::default() };

    // The repository as it is: the values in effect, and whether it compiles at all. Its
    // warnings only stop the command here when denied: they are shown once, after the edit.
    let before = compile::compile(root, &compile_opts);
    let warnings = before.diagnostics.count(Severity::Warning);
    if before.has_errors() || (opts.deny_warnings && warnings > 0) {
        let denied = !before.has_errors();
        let diagnostics = Diagnostics {
            items: before.diagnostics.items.into_iter().filter(|d| d.severity == Severity::Error || opts.deny_warnings).collect(),
        };
        return Err(Day2Error::Blocked { operation: req.operation.name(), denied, diagnostics, sources: before.sources });
    }
    // A day-2 commit carries the operation and nothing else: a stale out/ would smuggle other
    // changes (a new image tag, say) into it.
    let stale = sync::plan(root, &before.files, &before.scope)?;
    if !stale.is_empty() {
        return Err(Day2Error::StaleOut { paths: stale.into_iter().map(|c| c.path).collect() });
    }

    let plan = match plan(root, req, &target, &before)? {
        Planned::Edit(plan) => *plan,
        Planned::AlreadyInEffect { pipeline, state, envs } => return Ok(Outcome::AlreadyInEffect { pipeline, state, envs }),
    };
    drop(before);

    plan.write(root)?;
    match regenerate(root, &compile_opts, opts) {
        Ok((changes, compiled)) => Ok(Outcome::Applied(Box::new(Applied { plan, changes, compiled }))),
        Err((cause, out_touched)) => Err(match plan.revert(root) {
            Ok(()) => Day2Error::NotApplied {
                operation: req.operation.name(),
                file: plan.target.file.clone(),
                cause: Box::new(cause),
                out_touched,
            },
            Err(e) => Day2Error::RevertFailed { file: plan.target.file.clone(), cause: Box::new(cause), source: Box::new(e) },
        }),
    }
}

/// Compiles the edited repository and syncs `out/` like `generate` (same `--env` scope).
/// On failure, also says whether `out/` may have been written to.
fn regenerate(
    root: &Path,
    compile_opts: &compile::Options,
    opts: &Options,
) -> Result<(Vec<Change>, Box<Compiled>), (RegenerateFailure, bool)> {
    let mut c = Box::new(compile::compile(root, compile_opts));
    if c.has_errors() || (opts.deny_warnings && c.diagnostics.count(Severity::Warning) > 0) {
        return Err((RegenerateFailure::Compile(c), false));
    }
    sync::check_owned(root).map_err(|e| (RegenerateFailure::Sync(e), false))?;
    let changes = sync::plan(root, &c.files, &c.scope).map_err(|e| (RegenerateFailure::Sync(e), false))?;
    sync::apply(root, &changes).map_err(|e| (RegenerateFailure::Sync(e), true))?;
    // The rendered files are on disk now; only the diagnostics are still needed.
    c.files.clear();
    Ok((changes, c))
}
