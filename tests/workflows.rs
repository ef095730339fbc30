//! The CI workflows (this repository's, the ones `init` scaffolds) and the pre-commit hooks parse
//! as YAML, and every `flinkops <command>` they run is a command the CLI has.

mod support;

use serde_json::Value;
use support::*;

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

/// The workflow's one job (both PR workflows have a single job).
fn only_job(wf: &Value) -> &Value {
    let jobs = wf["jobs"].as_object().unwrap();
    assert_eq!(jobs.len(), 1);
    jobs.values().next().unwrap()
}

fn step<'a>(job: &'a Value, name_starts: &str) -> &'a Value {
    job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"].as_str().is_some_and(|n| n.starts_with(name_starts)))
        .unwrap_or_else(|| panic!("no step named `{name_starts}…`"))
}

fn parse(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap()
}

fn scaffolded_workflow() -> String {
    let dir = tempfile::tempdir().unwrap();
    assert!(flinkops(dir.path(), &["init", "."]).status.success());
    std::fs::read_to_string(dir.path().join(".github/workflows/flinkops.yml")).unwrap()
}

#[test]
fn pr_workflows_fail_on_the_dangerous_impacts_unless_the_label_acknowledges_them() {
    let repo = std::fs::read_to_string(project_root().join(".github/workflows/pr-diff.yml")).unwrap();
    for (name, text) in [("pr-diff.yml", repo), ("init's flinkops.yml", scaffolded_workflow())] {
        let wf = parse(&text);
        let types: Vec<&str> = wf["on"]["pull_request"]["types"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert!(types.contains(&"labeled") && types.contains(&"unlabeled"), "{name}: adding the label must re-run the job");
        let job = only_job(&wf);
        let deny = job["env"]["DENY"].as_str().unwrap();
        assert_eq!(deny, "rejected,state-incompatible,upgrade-stateless,rerun", "{name}");
        for w in deny.split(',') {
            assert!(flinkops::impact::Impact::parse(w).is_some(), "{name}: `{w}` is not an impact");
        }
        assert!(job["env"]["ACCEPTED"].as_str().unwrap().contains("'flinkops/accept-impact'"), "{name}");
        let run = step(job, "Diff and impacts")["run"].as_str().unwrap();
        assert!(run.contains("diff --against \"$BASE\" --format markdown") && run.contains("--deny \"$DENY\""), "{name}: {run}");
        let gate = step(job, "Impact gate")["if"].as_str().unwrap();
        assert!(gate.contains("steps.impact.outputs.denied == 'true'") && gate.contains("env.ACCEPTED != 'true'"), "{name}: {gate}");
        assert!(step(job, "Impact gate")["run"].as_str().unwrap().contains("exit 1"), "{name}");
    }
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let o = std::process::Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(o.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

/// Runs the impact step's script as Actions would (bash -e, the job's env, GITHUB_OUTPUT) in a
/// scaffolded repository; returns (exit code, diff.md, GITHUB_OUTPUT).
fn run_impact_step(script: &str, root: &std::path::Path, accepted: bool) -> (i32, String, String) {
    let bin = assert_cmd::cargo::cargo_bin("flinkops");
    let path = format!("{}:{}", bin.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    let output = root.join("github-output");
    std::fs::write(&output, "").unwrap();
    let o = std::process::Command::new("bash")
        .args(["--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script])
        .current_dir(root)
        .env("PATH", path)
        .env("BASE", "HEAD")
        .env("DENY", "rejected,state-incompatible,upgrade-stateless,rerun")
        .env("ACCEPTED", if accepted { "true" } else { "false" })
        .env("GITHUB_OUTPUT", &output)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let md = std::fs::read_to_string(root.join("diff.md")).unwrap_or_default();
    (o.status.code().unwrap_or(-1), md, std::fs::read_to_string(&output).unwrap())
}

#[test]
fn scaffolded_impact_step_comments_the_impacts_and_flags_denied_ones() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    assert!(flinkops(root, &["init", "."]).status.success());
    let wf = parse(&std::fs::read_to_string(root.join(".github/workflows/flinkops.yml")).unwrap());
    let script = step(only_job(&wf), "Diff and impacts")["run"].as_str().unwrap().to_string();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "init"]);

    // No change: a comment with no impact, nothing denied.
    let (code, md, out) = run_impact_step(&script, root, false);
    assert_eq!(code, 0, "{md}");
    assert!(md.contains("No changes to `out/`."), "{md}");
    assert!(!out.contains("denied=true"));

    // The max parallelism of a savepoint job: state-incompatible in both envs, denied.
    let p = root.join("pipelines/event-counts.toml");
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, text.replace("[job]\n", "[flink.config]\n\"pipeline.max-parallelism\" = \"256\"\n\n[job]\n")).unwrap();
    let (code, md, out) = run_impact_step(&script, root, false);
    assert_eq!(code, 0, "the step itself passes; the gate step fails the job: {md}");
    assert!(out.contains("denied=true"), "{out}");
    assert!(md.contains("state-incompatible: 1"), "{md}");
    assert!(md.contains("[!CAUTION]") && md.contains("`flinkops/accept-impact`"), "{md}");
    assert!(md.contains("> - out/dev/") && md.contains("impact: state-incompatible"), "{md}");

    // With the label, the same impacts are listed as acknowledged.
    let (_, md, out) = run_impact_step(&script, root, true);
    assert!(out.contains("denied=true"));
    assert!(md.contains("[!NOTE]") && !md.contains("[!CAUTION]"), "{md}");
}
