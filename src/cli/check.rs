//! `flinkops check`: render in memory and fail (exit 1) with a unified diff when `out/` differs.
//! Each drifted FlinkDeployment's diff is preceded by its change impact (SPEC §15). With
//! `--against REF`, the impacts of the change from that revision's `out/` are printed too (one
//! line per FlinkDeployment), and `--deny` gates on them.

use super::{Exit, Global, emit, fail, impact as cli_impact};
use flinkops::compile::Passes;
use flinkops::diag::{Code, Diagnostic};
use flinkops::gitrev::{GitCompare, Tee};
use flinkops::impact;
use flinkops::sync::{self, Status};

/// Render in memory; exit 1 and print a unified diff if out/ differs
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these environments (repeatable)
    #[arg(long = "env", value_name = "ENV")]
    envs: Vec<String>,
    #[command(flatten)]
    impact: cli_impact::ImpactArgs,
}

pub fn run(args: &Args, g: &Global) -> Result<(), Exit> {
    let root = g.root()?;
    // A shared lock: wait for a running `generate` instead of reporting its half-written tree.
    let _lock = sync::RunLock::acquire(&root, false, || g.info("waiting for a running flinkops generate to finish…")).map_err(fail)?;
    // Each file is compared with out/ as it is emitted; only the differences are kept. With
    // --against, the same files also go to the revision's out/ in one compile.
    let sink = sync::Disk::compare(&root);
    let git = match &args.impact.against {
        Some(rev) => Some(GitCompare::open(&root, rev).map_err(fail)?),
        None => None,
    };
    let c = match &git {
        Some(gs) => g.compile_into(&args.envs, false, &Tee(&sink, gs), Passes::One)?.1,
        None => g.compile_into(&args.envs, false, &sink, Passes::One)?.1,
    };
    let done = sink.finish(&c.scope).map_err(fail)?;
    let changes = done.changes;
    // With --against: the change from the revision, one line per FlinkDeployment.
    let since = match git {
        Some(gs) => {
            let since = gs.finish(&c.scope).map_err(fail)?.changes;
            let a = impact::assess(&since);
            for o in &a.objects {
                let path = o.changes.first().map_or("", |&i| since[i].path.as_str());
                println!("{path}: {}", cli_impact::line(&o.verdict));
            }
            Some((since, a))
        }
        None => None,
    };
    if changes.is_empty() {
        g.info(format!("out/ is up to date ({} files)", done.files));
        return match &since {
            Some((since, a)) => cli_impact::enforce(&args.impact.deny, a, since),
            None => Ok(()),
        };
    }
    let a = impact::assess(&changes);
    for (i, ch) in changes.iter().enumerate() {
        if let Some(v) = a.verdict(i) {
            println!("{}", cli_impact::line(v));
        }
        print!("{}", sync::unified_diff(ch));
    }
    report_drift(&changes);
    // Drift already exits 1; denied impacts (of the drift, or from the revision) are listed too.
    let _ = cli_impact::enforce(&args.impact.deny, &a, &changes);
    if let Some((since, a)) = &since {
        let _ = cli_impact::enforce(&args.impact.deny, a, since);
    }
    Err(Exit::Drift)
}

/// Prints the drift diffs' summary to stderr: one error, one note per file.
fn report_drift(changes: &[sync::Change]) {
    let list = |s: Status| changes.iter().filter(|c| c.status == s).map(|c| c.path.as_str()).collect::<Vec<_>>();
    let (changed, missing, stray) = (list(Status::Modified), list(Status::Added), list(Status::Removed));
    let mut d = Diagnostic::error(
        Code::OutOfDate,
        format!("out/ is stale or was edited by hand: {} changed, {} missing, {} stray", changed.len(), missing.len(), stray.len()),
    );
    for (what, files) in [("changed", &changed), ("missing", &missing), ("stray", &stray)] {
        for f in files.iter() {
            d = d.note(format!("{what}: {f}"));
        }
    }
    emit(&d.help("run `flinkops generate` and commit out/ together with the specs"));
}
