//! `flinkops generate`: render every pipeline for every (or the given) env into `out/`.

use super::{Exit, Global, sync_error};
use flinkops::compile::Passes;
use flinkops::sync;

/// Render every pipeline for every (or the given) environment into out/
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these environments (repeatable)
    #[arg(long = "env", value_name = "ENV")]
    envs: Vec<String>,
}

pub fn run(args: &Args, g: &Global) -> Result<(), Exit> {
    let root = g.root()?;
    let _lock = sync::RunLock::acquire(&root, true, || g.info("waiting for another flinkops run to finish…")).map_err(sync_error)?;
    // Files are compared with out/ and written as they are emitted, in a second pass that only
    // starts when the first found no error: an invalid repository leaves out/ untouched. A sink
    // that is not finished (an error) prunes nothing.
    let sink = sync::Disk::write(&root);
    let (_, c) = g.compile_into(&args.envs, false, &sink, Passes::CheckFirst)?;
    let done = sink.finish(&c.scope).map_err(sync_error)?;
    let count = |s| done.changes.iter().filter(|x| x.status == s).count();
    let (added, modified, removed) = (count(sync::Status::Added), count(sync::Status::Modified), count(sync::Status::Removed));
    if done.changes.is_empty() {
        g.info(format!("out/ is up to date ({} files)", done.files));
    } else {
        g.info(format!(
            "generated out/: {added} added, {modified} changed, {removed} removed, {} unchanged",
            done.files - added - modified
        ));
    }
    Ok(())
}
