//! `flinkops generate`: render every pipeline for every (or the given) env into `out/`.

use super::{Exit, Global, sync_error};
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
    let (root, c) = g.compile(&args.envs)?;
    sync::check_owned(&root).map_err(sync_error)?;
    let changes = sync::plan(&root, &c.files, &c.scope).map_err(sync_error)?;
    sync::apply(&root, &changes).map_err(sync_error)?;
    let count = |s| changes.iter().filter(|x| x.status == s).count();
    let (added, modified, removed) = (count(sync::Status::Added), count(sync::Status::Modified), count(sync::Status::Removed));
    if changes.is_empty() {
        g.info(format!("out/ is up to date ({} files)", c.files.len()));
    } else {
        g.info(format!(
            "generated out/: {added} added, {modified} changed, {removed} removed, {} unchanged",
            c.files.len() - added - modified
        ));
    }
    Ok(())
}
