//! Change impact (SPEC §15) end to end: every row of the table on a fixture repository committed
//! to a temporary git repository — generate, commit, edit the spec, then
//! `flinkops diff --against HEAD --format json` — and `--against`, `--deny` and the gate's exit
//! codes with real git history.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::*;

const PROJECT: &str = r#"[project]
name = "impact-fixture"
repo_url = "https://git.example.com/fixture/impact.git"

[defaults]
namespace = "jobs"
"#;

/// A native, savepoint-mode, unbounded jar job with a pinned image (no bundle to build).
const PIPELINE: &str = r#"labels = { team = "a" }

[flink]
version = "2.1.3"
image = "flink:2.1.3-scala_2.12-java17"
checkpoint_dir = "s3://b/{name}/cp"
savepoint_dir = "s3://b/{name}/sp"

[flink.config]
"pipeline.max-parallelism" = "128"

[job]
kind = "jar"
jar = "jobs/j.jar"
entry_class = "org.example.Main"
parallelism = 2
upgrade_mode = "savepoint"

[autoscaling]
mode = "disabled"
"#;

fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=flinkops-test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(o.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A repository whose specs are `pipelines` (file stem → text) plus optional overlay files,
/// generated and committed to a fresh git repository.
fn committed(pipelines: &[(&str, &str)], extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("flinkops.toml"), PROJECT).unwrap();
    std::fs::create_dir_all(root.join("pipelines")).unwrap();
    for (stem, text) in pipelines {
        std::fs::write(root.join(format!("pipelines/{stem}.toml")), text).unwrap();
    }
    for (rel, text) in extra {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let o = flinkops(root, &["generate"]);
    assert!(o.status.success(), "generate: {}", stderr(&o));
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "base"]);
    dir
}

/// Replaces `from` by `to` in a repository file (the replacement must happen).
fn edit(root: &Path, rel: &str, from: &str, to: &str) {
    let p = root.join(rel);
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(from), "{rel} has no `{from}`");
    std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
}

fn diff_json(root: &Path, args: &[&str]) -> Value {
    let mut all = vec!["diff", "--format", "json"];
    all.extend_from_slice(args);
    let o = flinkops(root, &all);
    assert!(o.status.success(), "diff: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The (impact, reasons) of every FlinkDeployment change, in path order.
fn impacts(v: &Value) -> Vec<(String, Vec<String>)> {
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["impact"].is_null())
        .map(|c| {
            let reasons = c["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect();
            (c["impact"].as_str().unwrap().to_string(), reasons)
        })
        .collect()
}

/// One pipeline `p`, committed from `old`, then edited by `edits` (applied to
/// `pipelines/p.toml`): the FlinkDeployment change's impact and reasons against HEAD.
fn impact_of(old: &str, edits: &[(&str, &str)]) -> (String, Vec<String>) {
    let repo = committed(&[("p", old)], &[]);
    for (from, to) in edits {
        edit(repo.path(), "pipelines/p.toml", from, to);
    }
    let got = impacts(&diff_json(repo.path(), &["--against", "HEAD"]));
    assert_eq!(got.len(), 1, "one FlinkDeployment change expected: {got:?}");
    got.into_iter().next().unwrap()
}

fn owned(r: &[&str]) -> Vec<String> {
    r.iter().map(|s| s.to_string()).collect()
}

#[test]
fn row_create_a_new_pipeline_is_created() {
    let repo = committed(&[("p", PIPELINE)], &[]);
    std::fs::write(repo.path().join("pipelines/q.toml"), PIPELINE).unwrap();
    let v = diff_json(repo.path(), &["--against", "HEAD"]);
    assert_eq!(impacts(&v), vec![("create".to_string(), vec![])]);
    assert_eq!(v["summary"]["impacts"], serde_json::json!({ "create": 1 }));
}

#[test]
fn row_delete_a_removed_pipeline_is_deleted() {
    let repo = committed(&[("p", PIPELINE), ("q", PIPELINE)], &[]);
    std::fs::remove_file(repo.path().join("pipelines/q.toml")).unwrap();
    let v = diff_json(repo.path(), &["--against", "HEAD"]);
    assert_eq!(impacts(&v), vec![("delete".to_string(), vec![])]);
}

#[test]
fn row_rejected_autoscaling_disabled_to_reactive_switches_native_to_standalone() {
    let got = impact_of(PIPELINE, &[("mode = \"disabled\"", "mode = \"reactive\"\nreplicas = 2")]);
    assert_eq!(got, ("rejected".to_string(), owned(&["/spec/mode"])));
}

#[test]
fn row_rejected_flink_version_change_after_a_last_state_suspend() {
    let old = PIPELINE.replace("upgrade_mode = \"savepoint\"", "upgrade_mode = \"last-state\"\nstate = \"suspended\"").replace(
        "savepoint_dir = \"s3://b/{name}/sp\"",
        "savepoint_dir = \"s3://b/{name}/sp\"\nhigh_availability = true\nha_dir = \"s3://b/{name}/ha\"",
    );
    let got = impact_of(&old, &[("version = \"2.1.3\"", "version = \"2.2.1\""), ("flink:2.1.3-scala", "flink:2.2.1-scala")]);
    assert_eq!(got, ("rejected".to_string(), owned(&["/spec/flinkVersion"])));
}

#[test]
fn row_rerun_any_spec_change_of_a_bounded_job() {
    // The bounded annotation (SPEC §13.4), set here by an overlay merge patch.
    let overlay = r#"[[merge_patches]]
target = { kind = "FlinkDeployment" }
patch = { metadata = { annotations = { "flinkops.dev/bounded" = "true" } } }
"#;
    let stateless = PIPELINE.replace("upgrade_mode = \"savepoint\"", "upgrade_mode = \"stateless\"");
    let repo = committed(&[("p", &stateless)], &[("overlays/base/overlay.toml", overlay)]);
    edit(repo.path(), "pipelines/p.toml", "parallelism = 2", "parallelism = 3");
    let got = impacts(&diff_json(repo.path(), &["--against", "HEAD"]));
    assert_eq!(got, vec![("rerun".to_string(), owned(&["/spec/job/parallelism"]))]);
}

#[test]
fn row_rerun_a_job_marked_bounded_in_its_spec() {
    // `[job] bounded = true` (SPEC §13.4) emits the annotation itself.
    let bounded = r#"[flink]
version = "2.1.3"
image = "flink:2.1.3-scala_2.12-java17"

[job]
kind = "jar"
jar = "jobs/backfill.jar"
entry_class = "org.example.Backfill"
args = ["--from", "2024-10-01", "--to", "2024-11-01"]
parallelism = 8
bounded = true

[autoscaling]
mode = "disabled"
"#;
    let got = impact_of(bounded, &[("\"2024-11-01\"", "\"2024-10-15\"")]);
    assert_eq!(got, ("rerun".to_string(), owned(&["/spec/job/args"])));
}

#[test]
fn row_state_incompatible_max_parallelism_of_a_savepoint_job() {
    let got = impact_of(PIPELINE, &[("\"128\"", "\"256\"")]);
    assert_eq!(got, ("state-incompatible".to_string(), owned(&["/spec/flinkConfiguration/pipeline.max-parallelism"])));
}

#[test]
fn row_upgrade_stateless_a_change_of_a_stateless_job() {
    let stateless = PIPELINE.replace("upgrade_mode = \"savepoint\"", "upgrade_mode = \"stateless\"");
    let got = impact_of(&stateless, &[("parallelism = 2", "parallelism = 3")]);
    assert_eq!(got, ("upgrade-stateless".to_string(), owned(&["/spec/job/parallelism"])));
}

#[test]
fn row_suspend_and_resume() {
    let got = impact_of(PIPELINE, &[("upgrade_mode = \"savepoint\"", "upgrade_mode = \"savepoint\"\nstate = \"suspended\"")]);
    assert_eq!(got, ("suspend".to_string(), owned(&["/spec/job/state"])));
    let suspended = PIPELINE.replace("upgrade_mode = \"savepoint\"", "upgrade_mode = \"savepoint\"\nstate = \"suspended\"");
    let got = impact_of(&suspended, &[("state = \"suspended\"", "state = \"running\"")]);
    assert_eq!(got, ("resume".to_string(), owned(&["/spec/job/state"])));
}

#[test]
fn row_restore_a_redeploy_from_a_savepoint() {
    let got = impact_of(
        PIPELINE,
        &[(
            "upgrade_mode = \"savepoint\"",
            "upgrade_mode = \"savepoint\"\ninitial_savepoint = \"s3://b/p/sp/savepoint-1\"\nredeploy_nonce = 1",
        )],
    );
    assert_eq!(got, ("restore".to_string(), owned(&["/spec/job/savepointRedeployNonce"])));
}

#[test]
fn row_savepoint_only_the_trigger_nonce() {
    let got = impact_of(PIPELINE, &[("upgrade_mode = \"savepoint\"", "upgrade_mode = \"savepoint\"\nsavepoint_nonce = 1")]);
    assert_eq!(got, ("savepoint".to_string(), owned(&["/spec/job/savepointTriggerNonce"])));
}

#[test]
fn row_restart_only_the_restart_nonce() {
    let got = impact_of(PIPELINE, &[("upgrade_mode = \"savepoint\"", "upgrade_mode = \"savepoint\"\nrestart_nonce = 1")]);
    assert_eq!(got, ("restart".to_string(), owned(&["/spec/restartNonce"])));
}

#[test]
fn row_rescale_taskmanagers_of_a_reactive_standalone_job() {
    let reactive = PIPELINE.replace("mode = \"disabled\"", "mode = \"reactive\"\nreplicas = 2");
    let got = impact_of(&reactive, &[("replicas = 2", "replicas = 3")]);
    assert_eq!(got, ("rescale".to_string(), owned(&["/spec/taskManager/replicas"])));
}

#[test]
fn row_upgrade_any_other_spec_change_of_a_savepoint_job() {
    let got = impact_of(PIPELINE, &[("parallelism = 2", "parallelism = 3")]);
    assert_eq!(got, ("upgrade".to_string(), owned(&["/spec/job/parallelism"])));
}

#[test]
fn row_none_only_labels_change() {
    let got = impact_of(PIPELINE, &[("team = \"a\"", "team = \"b\"")]);
    assert_eq!(got, ("none".to_string(), owned(&["/metadata/labels/team"])));
}

#[test]
fn text_and_markdown_show_the_impact_of_each_flink_deployment() {
    let repo = committed(&[("p", PIPELINE)], &[]);
    edit(repo.path(), "pipelines/p.toml", "parallelism = 2", "parallelism = 3");
    let text = stdout(&flinkops(repo.path(), &["diff", "--against", "HEAD"]));
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("impact:")).expect(&text);
    assert_eq!(lines[at], "impact: upgrade (/spec/job/parallelism)");
    assert!(lines[at + 1].starts_with("--- a/out/") && lines[at + 1].ends_with("flinkdeployment-p.yaml"), "{text}");
    let md = stdout(&flinkops(repo.path(), &["diff", "--against", "HEAD", "--format", "markdown"]));
    assert!(md.contains("| environment | units | added | changed | removed | impacts |"), "{md}");
    assert!(md.contains("| base | 1 | 0 | 1 | 0 | upgrade: 1 |"), "{md}");
    assert!(md.contains("##### `p`"), "the FlinkDeployment's delivery unit has its own section: {md}");
    assert!(md.contains("flinkdeployment-p.yaml` | changed | **upgrade** (`/spec/job/parallelism`) |"), "{md}");
}

#[test]
fn other_kinds_carry_a_null_impact() {
    let repo = committed(&[("p", PIPELINE)], &[]);
    std::fs::write(repo.path().join("pipelines/q.toml"), PIPELINE).unwrap();
    let v = diff_json(repo.path(), &["--against", "HEAD"]);
    let kustomization =
        v["changes"].as_array().unwrap().iter().find(|c| c["path"].as_str().unwrap().ends_with("kustomization.yaml")).unwrap();
    assert_eq!(kustomization["impact"], Value::Null);
    assert_eq!(kustomization["reasons"], serde_json::json!([]));
}

#[test]
fn against_reads_an_older_revision_and_leaves_the_working_tree_alone() {
    let repo = committed(&[("p", PIPELINE)], &[]);
    let root = repo.path();
    // Second commit: a restart, generated and committed.
    edit(root, "pipelines/p.toml", "upgrade_mode = \"savepoint\"", "upgrade_mode = \"savepoint\"\nrestart_nonce = 1");
    assert!(flinkops(root, &["generate"]).status.success());
    git(root, &["commit", "-q", "-am", "restart"]);
    let before = snapshot_tree(root);
    let status = git(root, &["status", "--porcelain"]);
    // Against HEAD: nothing; against HEAD~1: the restart; against the working out/: nothing.
    assert_eq!(impacts(&diff_json(root, &["--against", "HEAD"])), vec![]);
    assert_eq!(impacts(&diff_json(root, &["--against", "HEAD~1"])), vec![("restart".to_string(), owned(&["/spec/restartNonce"]))]);
    assert_eq!(impacts(&diff_json(root, &[])), vec![]);
    assert_eq!(snapshot_tree(root), before, "--against changes no file");
    assert_eq!(git(root, &["status", "--porcelain"]), status);
}

#[test]
fn against_works_from_a_repository_in_a_subfolder_of_the_git_work_tree() {
    let outer = tempfile::tempdir().unwrap();
    let repo = committed(&[("p", PIPELINE)], &[]);
    copy_tree(repo.path(), &outer.path().join("flink"));
    std::fs::remove_dir_all(outer.path().join("flink/.git")).unwrap();
    git(outer.path(), &["init", "-q", "-b", "main"]);
    git(outer.path(), &["add", "-A"]);
    git(outer.path(), &["commit", "-q", "-m", "base"]);
    let root = outer.path().join("flink");
    edit(&root, "pipelines/p.toml", "parallelism = 2", "parallelism = 3");
    assert_eq!(impacts(&diff_json(&root, &["--against", "HEAD"])), vec![("upgrade".to_string(), owned(&["/spec/job/parallelism"]))]);
}

#[test]
fn against_a_revision_without_out_creates_everything() {
    let repo = committed(&[("p", PIPELINE)], &[]);
    let root = repo.path();
    // A first commit that has no out/ yet.
    git(root, &["checkout", "-q", "--orphan", "bare"]);
    git(root, &["rm", "-q", "-r", "--cached", "out"]);
    git(root, &["commit", "-q", "-m", "specs only"]);
    let v = diff_json(root, &["--against", "bare"]);
    assert_eq!(impacts(&v), vec![("create".to_string(), vec![])]);
    assert!(v["changes"].as_array().unwrap().iter().all(|c| c["status"] == "added"), "{v}");
}

#[test]
fn against_an_unknown_revision_is_a_usage_error() {
    let repo = committed(&[("p", PIPELINE)], &[]);
    let o = flinkops(repo.path(), &["diff", "--against", "no-such-branch"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("unknown git revision `no-such-branch`"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
}

#[test]
fn against_outside_a_git_repository_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("flinkops.toml"), PROJECT).unwrap();
    std::fs::create_dir_all(root.join("pipelines")).unwrap();
    std::fs::write(root.join("pipelines/p.toml"), PIPELINE).unwrap();
    let o = flinkops(root, &["diff", "--against", "HEAD"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is not inside a git repository"), "{}", stderr(&o));
}

#[test]
fn deny_exits_1_after_printing_when_a_denied_impact_is_present() {
    let repo = committed(&[("p", PIPELINE)], &[]);
    edit(repo.path(), "pipelines/p.toml", "\"128\"", "\"256\"");
    let o = flinkops(repo.path(), &["diff", "--against", "HEAD", "--deny", "rejected,state-incompatible,upgrade-stateless,rerun"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("impact: state-incompatible"), "the diff is printed first");
    assert!(stderr(&o).contains("flinkdeployment-p.yaml: impact: state-incompatible"), "{}", stderr(&o));
    // The same change passes a gate that does not deny it, and a JSON report is still complete.
    let o = flinkops(repo.path(), &["diff", "--against", "HEAD", "--deny", "rejected,rerun"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = flinkops(repo.path(), &["diff", "--against", "HEAD", "--format", "json", "--deny", "state-incompatible"]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["impacts"]["state-incompatible"], 1);
}

#[test]
fn deny_on_check_gates_the_change_from_a_revision_once_out_is_up_to_date() {
    let repo = committed(&[("p", PIPELINE)], &[]);
    let root = repo.path();
    edit(root, "pipelines/p.toml", "\"128\"", "\"256\"");
    // Drift first: check exits 1 as it always did, with the impact before the diff.
    let o = flinkops(root, &["check", "--deny", "upgrade"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with("impact: state-incompatible"), "{}", stdout(&o));
    assert!(flinkops(root, &["generate"]).status.success());
    // Up to date: plain check passes; against the last commit it reports and gates the impact.
    assert_eq!(flinkops(root, &["check"]).status.code(), Some(0));
    let o = flinkops(root, &["check", "--against", "HEAD", "--deny", "state-incompatible"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("flinkdeployment-p.yaml: impact: state-incompatible (/spec/flinkConfiguration/pipeline.max-parallelism)"),
        "{}",
        stdout(&o)
    );
    assert_eq!(flinkops(root, &["check", "--against", "HEAD", "--deny", "rerun"]).status.code(), Some(0));
}

#[test]
fn deny_with_an_unknown_word_is_a_usage_error_listing_the_valid_ones() {
    let repo = committed(&[("p", PIPELINE)], &[]);
    for cmd in ["diff", "check"] {
        let o = flinkops(repo.path(), &[cmd, "--deny", "rejected,stateless"]);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("unknown impact `stateless`"), "{err}");
        assert!(err.contains("create, delete, rejected, rerun, state-incompatible, upgrade-stateless, suspend, resume, restore, savepoint, restart, rescale, upgrade, none"), "{err}");
    }
}

#[test]
fn generate_prints_each_envs_impact_counts() {
    let repo = committed(&[("p", PIPELINE), ("q", PIPELINE)], &[]);
    edit(repo.path(), "pipelines/p.toml", "parallelism = 2", "parallelism = 3");
    std::fs::remove_file(repo.path().join("pipelines/q.toml")).unwrap();
    let o = flinkops(repo.path(), &["generate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).lines().any(|l| l == "impacts in base: delete: 1, upgrade: 1"), "{}", stderr(&o));
    let o = flinkops(repo.path(), &["generate"]);
    assert!(stderr(&o).lines().any(|l| l == "impacts in base: no FlinkDeployment changed"), "{}", stderr(&o));
}

/// The first `generate` counts a `create` per FlinkDeployment (from the paths: the sink keeps no
/// bytes of added files), and a FlinkDeployment whose file moved (an older layout) is one object
/// classified by its content, not a `delete` plus a `create`.
#[test]
fn generate_counts_creates_and_pairs_a_moved_flink_deployment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flinkops.toml"), PROJECT).unwrap();
    std::fs::create_dir_all(dir.path().join("pipelines")).unwrap();
    for stem in ["p", "q"] {
        std::fs::write(dir.path().join(format!("pipelines/{stem}.toml")), PIPELINE).unwrap();
    }
    let o = flinkops(dir.path(), &["generate"]);
    assert!(stderr(&o).lines().any(|l| l == "impacts in base: create: 2"), "{}", stderr(&o));
    // Move p's file where an older layout kept it, and change p: one upgrade, nothing else.
    let new_path = dir.path().join("out/base/p/flinkdeployment-p.yaml");
    std::fs::rename(&new_path, dir.path().join("out/base/flinkdeployment-p.yaml")).unwrap();
    edit(dir.path(), "pipelines/p.toml", "parallelism = 2", "parallelism = 3");
    let o = flinkops(dir.path(), &["generate"]);
    assert!(stderr(&o).lines().any(|l| l == "impacts in base: upgrade: 1"), "{}", stderr(&o));
    assert!(new_path.is_file() && !dir.path().join("out/base/flinkdeployment-p.yaml").exists());
}
