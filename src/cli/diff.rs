//! `flinkops diff`: show what `generate` would change, as text, Markdown (for a pull-request
//! comment) or JSON; always exits 0 when the specs are valid.
//!
//! The JSON shape is stable (see README "diff --format json"):
//! `{"summary": {"added": N, "modified": N, "removed": N, "impacts": {"<impact>": N}},
//! "changes": [{"path", "env", "status", "impact", "reasons", "diff"}]}` with `env` null for files
//! outside `out/<env>/` and `impact` null for files that are not a FlinkDeployment (SPEC §15).
//! `--against REF` takes the old side from git; `--deny` turns impacts into a gate.

use std::collections::BTreeMap;

use serde_json::json;

use super::{Exit, Global, fail, impact as cli_impact};
use flinkops::compile::Passes;
use flinkops::impact::{self, Assessment, Impact};
use flinkops::layout;
use flinkops::sync::{self, Change, Status};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Markdown,
    Json,
}

/// Show what generate would change and each job's change impact (exit 1 only under --deny)
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these environments (repeatable)
    #[arg(long = "env", value_name = "ENV")]
    envs: Vec<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    impact: cli_impact::ImpactArgs,
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

/// A Markdown table cell: the impact word and its reasons, or nothing for other kinds.
fn impact_cell(a: &Assessment, i: usize) -> String {
    match a.verdict(i) {
        None => String::new(),
        Some(v) if v.reasons.is_empty() => format!("**{}**", v.impact),
        Some(v) => format!("**{}** ({})", v.impact, v.reasons.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")),
    }
}

/// An environment's changes by delivery unit (`None`: the env's own files), with their index in
/// the list of changes (which the impact assessment refers to).
type Units<'a> = BTreeMap<Option<String>, Vec<(usize, &'a Change)>>;

fn markdown(changes: &[Change], a: &Assessment) -> String {
    let mut s = String::from("### flinkops diff\n\n");
    if changes.is_empty() {
        s.push_str("No changes to `out/`.\n");
        return s;
    }
    // Env → unit → changes: one section per environment, one sub-section per delivery unit
    // (SPEC §14), so a reviewer sees which Applications / Kustomizations a change touches.
    // The env-level files (unit `None`) come first.
    let locate = |c: &Change| match layout::locate(&c.path) {
        Some(l) => (l.env, l.unit),
        None => ("(shared: images)".to_string(), Some("images".to_string())),
    };
    let mut groups: BTreeMap<String, Units> = BTreeMap::new();
    for (i, c) in changes.iter().enumerate() {
        let (env, unit) = locate(c);
        groups.entry(env).or_default().entry(unit).or_default().push((i, c));
    }
    // Per-env impact counts: each FlinkDeployment once, in the env of its first changed file.
    let mut impacts: BTreeMap<String, BTreeMap<Impact, usize>> = BTreeMap::new();
    for o in &a.objects {
        if let Some(&i) = o.changes.first() {
            *impacts.entry(locate(&changes[i]).0).or_default().entry(o.verdict.impact).or_insert(0) += 1;
        }
    }
    s.push_str("| environment | units | added | changed | removed | impacts |\n|---|---|---|---|---|---|\n");
    for (env, units) in &groups {
        let n = |st| units.values().flatten().filter(|(_, c)| c.status == st).count();
        let imp = impacts.get(env).map(cli_impact::counts_text).unwrap_or_default();
        s.push_str(&format!(
            "| {env} | {} | {} | {} | {} | {imp} |\n",
            units.len(),
            n(Status::Added),
            n(Status::Modified),
            n(Status::Removed)
        ));
    }
    let mut budget = MARKDOWN_BUDGET;
    let mut cut = vec![];
    for (env, units) in &groups {
        s.push_str(&format!("\n#### {env}\n"));
        for (unit, cs) in units {
            s.push_str(&format!("\n##### {}\n\n| file | change | impact |\n|---|---|---|\n", unit_heading(unit)));
            for (i, c) in cs {
                s.push_str(&format!("| `{}` | {} | {} |\n", c.path, status_word(c.status), impact_cell(a, *i)));
            }
            for (_, c) in cs {
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
    let _lock = sync::RunLock::acquire(&g.root()?, false, || g.info("waiting for a running flinkops generate to finish…")).map_err(fail)?;
    let changes = match &args.impact.against {
        Some(rev) => cli_impact::changes_against(g, &args.envs, rev)?,
        None => {
            let sink = sync::Disk::compare(&g.root()?);
            let (_, c) = g.compile_into(&args.envs, false, &sink, Passes::One)?;
            sink.finish(&c.scope).map_err(fail)?.changes
        }
    };
    let a = impact::assess(&changes);
    match args.format {
        Format::Text => {
            for (i, ch) in changes.iter().enumerate() {
                if let Some(v) = a.verdict(i) {
                    println!("{}", cli_impact::line(v));
                }
                print!("{}", sync::unified_diff(ch));
            }
            if changes.is_empty() {
                g.info("no changes");
            }
        }
        Format::Markdown => print!("{}", markdown(&changes, &a)),
        Format::Json => {
            let n = |st| changes.iter().filter(|c| c.status == st).count();
            let impacts: serde_json::Map<String, serde_json::Value> =
                a.counts().into_iter().map(|(i, n)| (i.to_string(), json!(n))).collect();
            let v = json!({
                "summary": { "added": n(Status::Added), "modified": n(Status::Modified), "removed": n(Status::Removed), "impacts": impacts },
                "changes": changes.iter().enumerate().map(|(i, c)| json!({
                    "path": c.path,
                    "env": env_of(&c.path),
                    "status": c.status,
                    "impact": a.verdict(i).map(|v| v.impact.as_str()),
                    "reasons": a.verdict(i).map(|v| v.reasons.clone()).unwrap_or_default(),
                    "diff": sync::unified_diff(c),
                })).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&v).expect("JSON values always serialize"));
        }
    }
    cli_impact::enforce(&args.impact.deny, &a, &changes)
}
