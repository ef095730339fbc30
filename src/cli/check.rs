//! `flinkops check`: render in memory and fail (exit 1) with a unified diff when `out/` differs.

use super::{Exit, Global, sync_error};
use flinkops::compile::Passes;
use flinkops::sync::{self, Status};

/// Render in memory; exit 1 and print a unified diff if out/ differs
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these environments (repeatable)
    #[arg(long = "env", value_name = "ENV")]
    envs: Vec<String>,
}

pub fn run(args: &Args, g: &Global) -> Result<(), Exit> {
    // A shared lock: wait for a running `generate` instead of reporting its half-written tree.
    let _lock =
        sync::RunLock::acquire(&g.root()?, false, || g.info("waiting for a running flinkops generate to finish…")).map_err(sync_error)?;
    // Each file is compared with out/ as it is emitted; only the differences are kept.
    let sink = sync::Disk::compare(&g.root()?);
    let (_, c) = g.compile_into(&args.envs, false, &sink, Passes::One)?;
    let done = sink.finish(&c.scope).map_err(sync_error)?;
    let changes = done.changes;
    if changes.is_empty() {
        g.info(format!("out/ is up to date ({} files)", done.files));
        return Ok(());
    }
    for ch in &changes {
        print!("{}", sync::unified_diff(ch));
    }
    let list = |s: Status| changes.iter().filter(|c| c.status == s).map(|c| c.path.as_str()).collect::<Vec<_>>();
    let (changed, missing, stray) = (list(Status::Modified), list(Status::Added), list(Status::Removed));
    eprintln!("error: out/ is stale or was edited by hand: {} changed, {} missing, {} stray", changed.len(), missing.len(), stray.len());
    for (what, files) in [("changed", &changed), ("missing", &missing), ("stray", &stray)] {
        for f in files.iter() {
            eprintln!("  {what}: {f}");
        }
    }
    eprintln!("  = help: run `flinkops generate` and commit out/ together with the specs");
    Err(Exit::Drift)
}
