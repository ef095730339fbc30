//! `flinkops savepoint | restore --from PATH | suspend | resume | restart PIPELINE [--env ENV]`:
//! day-2 operations as git changes. The library ([`flinkops::day2::apply`]) edits the one TOML
//! key(s) the command names in the file that owns them, regenerates `out/` like `generate` and
//! takes the edit back when that fails; this file parses the arguments, holds the run lock, and
//! prints the result: the diff of that file and of `out/` and a suggested commit message
//! (stdout), notes and errors (stderr, through the diagnostic renderer). Nothing touches a cluster.

use super::{Exit, Global, fail};
use flinkops::day2::{self, Applied, Day2Error, Operation, Outcome, RegenerateFailure, Request};
use flinkops::sync;

/// The pipeline and environment every day-2 command takes.
#[derive(Debug, clap::Args)]
pub struct Target {
    /// The pipeline (its `name`, or its file name without .toml)
    #[arg(value_name = "PIPELINE")]
    pipeline: String,
    /// Change only this environment: edit [pipelines.<PIPELINE>] in overlays/<ENV>/overlay.toml
    /// (default: the pipeline file, which every environment without an override inherits)
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
}

/// Take a savepoint: bump job.savepoint_nonce, regenerate out/ and print the diff
#[derive(Debug, clap::Args)]
pub struct SavepointArgs {
    #[command(flatten)]
    target: Target,
}

/// Redeploy from a savepoint: set job.initial_savepoint and bump job.redeploy_nonce
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    target: Target,
    /// The savepoint to start from, a URI with a scheme (e.g. s3://bucket/savepoints/savepoint-…)
    #[arg(long = "from", value_name = "PATH")]
    from: String,
}

/// Suspend the job: set job.state = "suspended"
#[derive(Debug, clap::Args)]
pub struct SuspendArgs {
    #[command(flatten)]
    target: Target,
}

/// Resume a suspended job: set job.state = "running"
#[derive(Debug, clap::Args)]
pub struct ResumeArgs {
    #[command(flatten)]
    target: Target,
}

/// Restart the job: bump job.restart_nonce
#[derive(Debug, clap::Args)]
pub struct RestartArgs {
    #[command(flatten)]
    target: Target,
}

/// The arguments of one day-2 command, as a library request.
pub trait Day2Args {
    fn request(&self) -> Request;
}

fn request(t: &Target, operation: Operation) -> Request {
    Request { operation, pipeline: t.pipeline.clone(), env: t.env.clone() }
}

impl Day2Args for SavepointArgs {
    fn request(&self) -> Request {
        request(&self.target, Operation::Savepoint)
    }
}

impl Day2Args for RestoreArgs {
    fn request(&self) -> Request {
        request(&self.target, Operation::Restore { from: self.from.clone() })
    }
}

impl Day2Args for SuspendArgs {
    fn request(&self) -> Request {
        request(&self.target, Operation::Suspend)
    }
}

impl Day2Args for ResumeArgs {
    fn request(&self) -> Request {
        request(&self.target, Operation::Resume)
    }
}

impl Day2Args for RestartArgs {
    fn request(&self) -> Request {
        request(&self.target, Operation::Restart)
    }
}

/// Renders a day-2 error (after the diagnostics of the repository it carries, if any) and maps
/// it to its exit code.
fn day2_error(e: Day2Error) -> Exit {
    let line = e.diagnostic();
    let exit = if e.is_invalid_input() { Exit::Invalid } else { Exit::Internal };
    let cause = match e {
        Day2Error::Sync(s) => return fail(s),
        Day2Error::Blocked { diagnostics, sources, .. } => {
            let _ = super::report(&diagnostics, &sources);
            None
        }
        Day2Error::NotApplied { cause, .. } | Day2Error::RevertFailed { cause, .. } => Some(*cause),
        _ => None,
    };
    // Why regenerating failed comes first, as `generate` would show it.
    match cause {
        Some(RegenerateFailure::Compile(c)) => {
            let _ = super::report(&c.diagnostics, &c.sources);
        }
        Some(RegenerateFailure::Sync(s)) => {
            let _ = fail(s);
        }
        None => {}
    }
    super::emit(&line);
    exit
}

pub fn run(args: &impl Day2Args, g: &Global) -> Result<(), Exit> {
    let req = args.request();
    let root = g.root()?;
    // Read-modify-write of a spec file and out/: no other run may interleave (like `generate`).
    let _lock = sync::RunLock::acquire(&root, true, || g.info("waiting for another flinkops run to finish…")).map_err(fail)?;
    let opts = day2::Options { deny_warnings: g.deny_warnings };
    let applied = match day2::apply(&root, &req, &opts).map_err(day2_error)? {
        Outcome::Applied(applied) => applied,
        Outcome::AlreadyInEffect { pipeline, state, envs } => {
            g.info(format!("pipeline `{pipeline}` is already {state} in {}; nothing changed", envs.join(", ")));
            return Ok(());
        }
    };
    let Applied { plan, changes, compiled } = *applied;
    // The edited repository's warnings, shown once.
    super::report(&compiled.diagnostics, &compiled.sources)?;

    print!("{}", sync::unified_diff(&plan.change()));
    for ch in &changes {
        print!("{}", sync::unified_diff(ch));
    }
    println!();
    println!("Suggested commit message:");
    println!();
    println!("    {}", plan.message);

    for s in &plan.shadowed {
        g.info(format!(
            "note: overlays/{s}/overlay.toml overrides this for pipeline `{}`, so env `{s}` keeps its value (use --env {s} to change it)",
            plan.target.pipeline
        ));
    }
    for n in &plan.notes {
        g.info(format!("note: {n}"));
    }
    g.info(format!(
        "set {} in {} ({}); {} file(s) in out/ changed; nothing was sent to a cluster: review, commit and push",
        plan.summary(),
        plan.target.file,
        plan.reached.join(", "),
        changes.len()
    ));
    Ok(())
}
