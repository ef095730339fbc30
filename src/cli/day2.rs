//! `flinkops savepoint | restore --from PATH | suspend | resume | restart PIPELINE [--env ENV]`:
//! day-2 operations as git changes. Each edits the one TOML key(s) it names in the file that owns
//! them, regenerates `out/` like `generate`, and prints the diff of that file and of `out/` and a
//! suggested commit message (stdout). Nothing touches a cluster.

use super::{Exit, Global, sync_error};
use flinkops::compile::{self, Options};
use flinkops::day2::{self, Day2Error, Operation, Planned, Request};
use flinkops::diag;
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

fn day2_error(e: Day2Error) -> Exit {
    eprintln!("error: {e}");
    if let Some(n) = e.note() {
        eprintln!("  = note: {n}");
    }
    if let Some(h) = e.help() {
        eprintln!("  = help: {h}");
    }
    if e.is_invalid_input() { Exit::Invalid } else { Exit::Internal }
}

pub fn run(args: &impl Day2Args, g: &Global) -> Result<(), Exit> {
    let req = args.request();
    let root = g.root()?;
    // Read-modify-write of a spec file and out/: no other run may interleave (like `generate`).
    let _lock = sync::RunLock::acquire(&root, true, || g.info("waiting for another flinkops run to finish…")).map_err(sync_error)?;
    let target = day2::locate(&root, &req).map_err(day2_error)?;
    let envs: Vec<String> = target.env.iter().cloned().collect();

    // The repository as it is: the values in effect, and whether it compiles at all.
    // Its warnings are shown once, after the edit; they only stop the command here when denied.
    let before = compile::compile(&root, &Options { envs: envs.clone(), ..Default::default() });
    let warnings = before.diagnostics.count(diag::Severity::Warning);
    if before.has_errors() || (g.deny_warnings && warnings > 0) {
        let shown = diag::Diagnostics {
            items: before.diagnostics.items.iter().filter(|d| d.severity == diag::Severity::Error || g.deny_warnings).cloned().collect(),
        };
        eprint!("{}", diag::render_all(&shown, &before.sources, g.color()));
        let what = if before.has_errors() { "the repository has errors" } else { "warnings are denied (--deny-warnings)" };
        eprintln!("error: {what}; fix them before `flinkops {}` (nothing was changed)", req.operation.name());
        return Err(Exit::Invalid);
    }
    // A day-2 commit carries the operation and nothing else: a stale out/ would smuggle other
    // changes (a new image tag, say) into it.
    let stale = sync::plan(&root, &before.files, &before.scope).map_err(sync_error)?;
    if !stale.is_empty() {
        eprintln!(
            "error: out/ is not up to date with the specs ({} file(s) differ), so this change would carry unrelated ones",
            stale.len()
        );
        for ch in stale.iter().take(5) {
            eprintln!("  stale: {}", ch.path);
        }
        eprintln!(
            "  = help: run `flinkops generate` and commit the result first (`flinkops diff` shows what it changes); nothing was changed"
        );
        return Err(Exit::Invalid);
    }

    let plan = match day2::plan(&root, &req, &target, &before).map_err(day2_error)? {
        Planned::Edit(plan) => plan,
        Planned::AlreadyInEffect { pipeline, state, envs } => {
            g.info(format!("pipeline `{pipeline}` is already {state} in {}; nothing changed", envs.join(", ")));
            return Ok(());
        }
    };

    plan.write(&root).map_err(day2_error)?;
    let changes = match regenerate(&envs, g) {
        Ok(changes) => changes,
        Err((exit, out_touched)) => {
            if let Err(e) = plan.revert(&root) {
                eprintln!("error: cannot put {} back as it was: {e}", plan.target.file);
                return Err(Exit::Internal);
            }
            eprintln!("error: `flinkops {}` was not applied: {} is back as it was", req.operation.name(), plan.target.file);
            if out_touched {
                eprintln!("  = help: out/ may be partly rewritten: run `flinkops generate` to bring it back in line");
            }
            return Err(exit);
        }
    };

    print!("{}", sync::unified_diff(&plan.change()));
    for ch in &changes {
        print!("{}", sync::unified_diff(ch));
    }
    println!();
    println!("Suggested commit message:");
    println!();
    println!("    {}", plan.message);

    for s in &plan.shadowed {
        eprintln!(
            "note: overlays/{s}/overlay.toml overrides this for pipeline `{}`, so env `{s}` keeps its value (use --env {s} to change it)",
            plan.target.pipeline
        );
    }
    for n in &plan.notes {
        eprintln!("note: {n}");
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

/// Compiles the edited repository and syncs `out/` like `generate` (same `--env` scope).
/// On failure, also says whether `out/` may have been written to.
fn regenerate(envs: &[String], g: &Global) -> Result<Vec<sync::Change>, (Exit, bool)> {
    let (root, c) = g.compile(envs).map_err(|e| (e, false))?;
    sync::check_owned(&root).map_err(|e| (sync_error(e), false))?;
    let changes = sync::plan(&root, &c.files, &c.scope).map_err(|e| (sync_error(e), false))?;
    sync::apply(&root, &changes).map_err(|e| (sync_error(e), true))?;
    Ok(changes)
}
