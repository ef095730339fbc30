//! What `diff`, `check` and `generate` share about change impacts (SPEC §15): the `--against`
//! and `--deny` options, reading the old side from git, and the words printed.

use flinkops::compile::Passes;
use flinkops::diag::{Code, Diagnostic};
use flinkops::gitrev::GitCompare;
use flinkops::impact::{Assessment, Impact, Verdict};
use flinkops::sync::Change;

use super::{Exit, Global, emit, fail};

/// `--against` and `--deny`.
#[derive(Debug, clap::Args)]
pub struct ImpactArgs {
    /// Compare with out/ of this git revision (read through git; nothing is checked out)
    #[arg(long, value_name = "REF")]
    pub against: Option<String>,
    /// Exit 1 when a FlinkDeployment change has one of these impacts (comma-separated)
    #[arg(long, value_name = "IMPACT", value_delimiter = ',', value_parser = parse_impact)]
    pub deny: Vec<Impact>,
}

/// Every impact word, comma-separated, in the table's order.
fn valid_words() -> String {
    Impact::ALL.iter().map(|i| i.as_str()).collect::<Vec<_>>().join(", ")
}

/// clap parser for one `--deny` word: an unknown one is a usage error (exit 2) that lists the
/// valid ones.
fn parse_impact(word: &str) -> Result<Impact, String> {
    Impact::parse(word.trim()).ok_or_else(|| format!("unknown impact `{word}`; valid impacts: {}", valid_words()))
}

/// Compiles and compares with `out/` of `rev`.
pub fn changes_against(g: &Global, envs: &[String], rev: &str) -> Result<Vec<Change>, Exit> {
    let root = g.root()?;
    let sink = GitCompare::open(&root, rev).map_err(fail)?;
    let (_, c) = g.compile_into(envs, false, &sink, Passes::One)?;
    Ok(sink.finish(&c.scope).map_err(fail)?.changes)
}

/// `impact: <impact> (<reasons>)`; the parentheses are left out when nothing in particular
/// decided it (create, delete, an unchanged object whose file moved).
pub fn line(v: &Verdict) -> String {
    if v.reasons.is_empty() { format!("impact: {}", v.impact) } else { format!("impact: {} ({})", v.impact, v.reasons.join(", ")) }
}

/// `upgrade: 2, rescale: 1` in the table's order.
pub fn counts_text(counts: &std::collections::BTreeMap<Impact, usize>) -> String {
    counts.iter().map(|(i, n)| format!("{i}: {n}")).collect::<Vec<_>>().join(", ")
}

/// After printing: exit 1 (with the offending objects on stderr) when a denied impact is present.
pub fn enforce(deny: &[Impact], a: &Assessment, changes: &[Change]) -> Result<(), Exit> {
    let hits: Vec<_> = a.objects.iter().filter(|o| deny.contains(&o.verdict.impact)).collect();
    if hits.is_empty() {
        return Ok(());
    }
    let mut d = Diagnostic::error(
        Code::ImpactDenied,
        format!(
            "{} FlinkDeployment change(s) have a denied impact (--deny {})",
            hits.len(),
            deny.iter().map(|i| i.as_str()).collect::<Vec<_>>().join(",")
        ),
    );
    for o in hits {
        let path = o.changes.first().map_or("", |&i| changes[i].path.as_str());
        d = d.note(format!("{path}: {}", line(&o.verdict)));
    }
    emit(&d.help(
        "README \"What will this change do?\" explains each impact; in a pull request, the `flinkops/accept-impact` label acknowledges them",
    ));
    Err(Exit::Drift)
}
