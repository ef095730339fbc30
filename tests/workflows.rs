//! The CI workflows (this repository's, the ones `init` scaffolds) and the pre-commit hooks parse
//! as YAML, and every `flinkops <command>` they run is a command the CLI has.

mod common;

use common::*;
use serde_json::Value;

fn cli_commands() -> Vec<String> {
    let help = stdout(&flinkops(&project_root(), &["--help"]));
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        // Command lines are indented by two spaces; wrapped descriptions by more.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// Every `flinkops <cmd>` and `cargo run … -- <cmd>` in a text.
fn invoked(text: &str) -> Vec<String> {
    let mut out = vec![];
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        for (i, w) in words.iter().enumerate() {
            let is_bin = w.ends_with("flinkops") && !w.contains('=') && !w.starts_with('"');
            let after_dashes = *w == "--" && words[..i].contains(&"run");
            if (is_bin || after_dashes)
                && let Some(next) = words.get(i + 1)
            {
                let cmd = next.trim_matches(|c| c == '\'' || c == '"');
                if !cmd.starts_with('-') && !cmd.is_empty() && cmd.chars().all(|c| c.is_ascii_lowercase()) {
                    out.push(cmd.to_string());
                }
            }
        }
    }
    out
}

/// The shell commands of a workflow (`run:`) or hook (`entry:`), not comments or names.
fn scripts(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("run" | "entry", Value::String(s)) => out.push(s.clone()),
                    _ => scripts(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| scripts(x, out)),
        _ => {}
    }
}

fn check_file(path: &std::path::Path, commands: &[String]) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let parsed: Result<Value, _> = serde_saphyr::from_str(&text);
    assert!(parsed.is_ok(), "{} is not YAML: {parsed:?}", path.display());
    let mut runs = vec![];
    scripts(&parsed.unwrap(), &mut runs);
    let used: Vec<String> = runs.iter().flat_map(|r| invoked(r)).collect();
    for c in &used {
        assert!(commands.contains(c), "{} runs `flinkops {c}`, which the CLI does not have ({commands:?})", path.display());
    }
    used.len()
}

#[test]
fn repository_workflows_and_hooks_parse_and_run_existing_commands() {
    let commands = cli_commands();
    assert!(commands.contains(&"check".to_string()) && commands.contains(&"images".to_string()));
    let mut used = 0;
    for e in std::fs::read_dir(project_root().join(".github/workflows")).unwrap() {
        used += check_file(&e.unwrap().path(), &commands);
    }
    used += check_file(&project_root().join(".pre-commit-hooks.yaml"), &commands);
    assert!(used >= 5, "expected the workflows to run flinkops commands, found {used}");
}

#[test]
fn scaffolded_workflows_parse_and_run_existing_commands() {
    let commands = cli_commands();
    let dir = tempfile::tempdir().unwrap();
    let o = flinkops(dir.path(), &["init", "."]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut used = 0;
    for e in std::fs::read_dir(dir.path().join(".github/workflows")).unwrap() {
        used += check_file(&e.unwrap().path(), &commands);
    }
    assert!(used >= 3, "{used}");
}
