//! `flinkops diff`: show what `generate` would change, as text, Markdown (for a pull-request
//! comment) or JSON; always exits 0 when the specs are valid.
//!
//! The JSON shape is stable (see README "diff --format json"):
//! `{"summary": {"added": N, "modified": N, "removed": N}, "changes": [{"path", "env",
//! "status", "diff"}]}` with `env` null for files outside `out/<env>/`.

use std::collections::BTreeMap;

use serde_json::json;

use super::{Exit, Global, sync_error};
use flinkops::compile::Passes;
use flinkops::layout;
use flinkops::sync::{self, Change, Status};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Markdown,
    Json,
}

/// Show what generate would change; exit 0
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these environments (repeatable)
    #[arg(long = "env", value_name = "ENV")]
    envs: Vec<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Most diff bytes a Markdown report shows (PR comments are limited to 65536 characters).
const MARKDOWN_BUDGET: usize = 60_000;

/// The environment a path belongs to: `out/<env>/…`, `out/argocd/<env>.yaml`,
/// `out/argocd/<env>/<unit>.yaml` (and the same under `out/flux/`).
fn env_of(path: &str) -> Option<String> {
    layout::locate(path).map(|l| l.env)
}

/// The heading of a unit's group in the Markdown report (`None`: the env-level files).
fn unit_heading(unit: &Option<String>) -> String {
    match unit {
        Some(u) => format!("`{u}`"),
        None => "environment files (kustomization, root Application / Kustomization)".into(),
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Added => "added",
        Status::Modified => "changed",
        Status::Removed => "removed",
    }
}

fn markdown(changes: &[Change]) -> String {
    let mut s = String::from("### flinkops diff\n\n");
    if changes.is_empty() {
        s.push_str("No changes to `out/`.\n");
        return s;
    }
    // Env → unit → changes: one section per environment, one sub-section per delivery unit
    // (SPEC §14), so a reviewer sees which Applications / Kustomizations a change touches.
    // The env-level files (unit `None`) come first.
    let mut groups: BTreeMap<String, BTreeMap<Option<String>, Vec<&Change>>> = BTreeMap::new();
    for c in changes {
        let (env, unit) = match layout::locate(&c.path) {
            Some(l) => (l.env, l.unit),
            None => ("(shared: images)".into(), Some("images".into())),
        };
        groups.entry(env).or_default().entry(unit).or_default().push(c);
    }
    s.push_str("| environment | units | added | changed | removed |\n|---|---|---|---|---|\n");
    for (env, units) in &groups {
        let n = |st| units.values().flatten().filter(|c| c.status == st).count();
        s.push_str(&format!("| {env} | {} | {} | {} | {} |\n", units.len(), n(Status::Added), n(Status::Modified), n(Status::Removed)));
    }
    let mut budget = MARKDOWN_BUDGET;
    let mut cut = vec![];
    for (env, units) in &groups {
        s.push_str(&format!("\n#### {env}\n"));
        for (unit, cs) in units {
            s.push_str(&format!("\n##### {}\n", unit_heading(unit)));
            for c in cs {
                let d = sync::unified_diff(c);
                if d.len() > budget {
                    cut.push(c.path.clone());
                    s.push_str(&format!("\n- `{}` ({}) — diff not shown, see below\n", c.path, status_word(c.status)));
                    continue;
                }
                budget -= d.len();
                s.push_str(&format!(
                    "\n<details><summary><code>{}</code> ({})</summary>\n\n```diff\n{d}```\n\n</details>\n",
                    c.path,
                    status_word(c.status)
                ));
            }
        }
    }
    if !cut.is_empty() {
        s.push_str(&format!(
            "\n> {} file diff(s) were cut to keep this comment under the size limit; run `flinkops diff` locally to see them.\n",
            cut.len()
        ));
    }
    s
}

pub fn run(args: &Args, g: &Global) -> Result<(), Exit> {
    // A shared lock: wait for a running `generate` instead of reporting its half-written tree.
    let _lock =
        sync::RunLock::acquire(&g.root()?, false, || g.info("waiting for a running flinkops generate to finish…")).map_err(sync_error)?;
    let sink = sync::Disk::compare(&g.root()?);
    let (_, c) = g.compile_into(&args.envs, false, &sink, Passes::One)?;
    let changes = sink.finish(&c.scope).map_err(sync_error)?.changes;
    match args.format {
        Format::Text => {
            for ch in &changes {
                print!("{}", sync::unified_diff(ch));
            }
            if changes.is_empty() {
                g.info("no changes");
            }
        }
        Format::Markdown => print!("{}", markdown(&changes)),
        Format::Json => {
            let n = |st| changes.iter().filter(|c| c.status == st).count();
            let v = json!({
                "summary": { "added": n(Status::Added), "modified": n(Status::Modified), "removed": n(Status::Removed) },
                "changes": changes.iter().map(|c| json!({
                    "path": c.path,
                    "env": env_of(&c.path),
                    "status": c.status,
                    "diff": sync::unified_diff(c),
                })).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&v).expect("JSON values always serialize"));
        }
    }
    Ok(())
}
