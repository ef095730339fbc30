//! `flinkops generate`: render every pipeline for every (or the given) env into `out/`, then
//! print one line per env with the impacts of its FlinkDeployment changes (SPEC §15) to stderr.

use super::{Exit, Global, fail};
use flinkops::compile::Passes;
use std::collections::BTreeMap;

use flinkops::{impact, layout, sync};

use super::impact as cli_impact;

/// Render every pipeline for every (or the given) environment into out/
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these environments (repeatable)
    #[arg(long = "env", value_name = "ENV")]
    envs: Vec<String>,
}

pub fn run(args: &Args, g: &Global) -> Result<(), Exit> {
    let root = g.root()?;
    let _lock = sync::RunLock::acquire(&root, true, || g.info("waiting for another flinkops run to finish…")).map_err(fail)?;
    // Files are compared with out/ and written as they are emitted, in a second pass that only
    // starts when the first found no error: an invalid repository leaves out/ untouched. A sink
    // that is not finished (an error) prunes nothing.
    // The FlinkDeployments' old and new bytes are kept for their impacts; nothing else is.
    let sink = sync::Disk::write_keeping(&root, impact::looks_like_flink_deployment);
    let (_, c) = g.compile_into(&args.envs, false, &sink, Passes::CheckFirst)?;
    let done = sink.finish(&c.scope).map_err(fail)?;
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
    let by_env = impacts_by_env(&root, done.changes);
    for env in &c.envs {
        match by_env.get(&Some(env.name.clone())) {
            Some(counts) => g.info(format!("impacts in {}: {}", env.name, cli_impact::counts_text(counts))),
            None => g.info(format!("impacts in {}: no FlinkDeployment changed", env.name)),
        }
    }
    Ok(())
}

/// Impact counts per env. The sink keeps no bytes of added files (a first `generate` adds the
/// whole tree): an added FlinkDeployment is a `create`, which its path says, in its env. Only
/// when some FlinkDeployment file was removed in the same run may an added one be that object
/// moved (a new layout), to be paired and classified as one change: then the added ones are read
/// back from `out/`, where they were just written.
fn impacts_by_env(root: &std::path::Path, mut changes: Vec<sync::Change>) -> BTreeMap<Option<String>, BTreeMap<impact::Impact, usize>> {
    let is_added_flink_deployment = |c: &sync::Change| {
        c.status == sync::Status::Added && c.new.is_none() && c.path.rsplit('/').next().is_some_and(|f| f.starts_with("flinkdeployment-"))
    };
    let moved_possible = changes.iter().any(|c| c.status == sync::Status::Removed && c.old.is_some());
    let mut creates: BTreeMap<Option<String>, usize> = BTreeMap::new();
    for c in changes.iter_mut().filter(|c| is_added_flink_deployment(c)) {
        if moved_possible {
            c.new = std::fs::read(root.join(&c.path)).ok();
        } else {
            *creates.entry(layout::locate(&c.path).map(|l| l.env)).or_default() += 1;
        }
    }
    let mut by_env = impact::assess(&changes).counts_by_env();
    for (env, n) in creates {
        *by_env.entry(env).or_default().entry(impact::Impact::Create).or_default() += n;
    }
    by_env
}
