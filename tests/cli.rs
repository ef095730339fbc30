//! CLI tests: the built binary on copies of the worked example.

#[path = "support/schemas.rs"]
mod schemas;
mod support;

use support::*;

#[test]
fn check_passes_on_the_committed_example() {
    let o = flinkops(&project_root(), &["check"]);
    assert!(o.status.success(), "flinkops check on the repository failed:\n{}{}", stdout(&o), stderr(&o));
}

#[test]
fn generate_twice_is_byte_identical_and_second_run_writes_nothing() {
    let repo = example_copy();
    std::fs::remove_dir_all(repo.path().join("out")).unwrap();
    let first = flinkops(repo.path(), &["generate"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let a = snapshot_tree(&repo.path().join("out"));
    let second = flinkops(repo.path(), &["generate"]);
    assert!(second.status.success());
    assert!(stderr(&second).contains("up to date"), "{}", stderr(&second));
    assert_same_tree(&a, &snapshot_tree(&repo.path().join("out")));
}

#[test]
fn deleting_out_and_generating_reproduces_the_committed_tree() {
    let repo = example_copy();
    let committed = snapshot_tree(&repo.path().join("out"));
    std::fs::remove_dir_all(repo.path().join("out")).unwrap();
    let o = flinkops(repo.path(), &["generate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same_tree(&committed, &snapshot_tree(&repo.path().join("out")));
}

#[test]
fn root_flag_works_from_another_working_directory() {
    let repo = example_copy();
    let committed = snapshot_tree(&repo.path().join("out"));
    std::fs::remove_dir_all(repo.path().join("out")).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let o = flinkops(elsewhere.path(), &["generate", "--root", repo.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same_tree(&committed, &snapshot_tree(&repo.path().join("out")));
    assert!(snapshot_tree(elsewhere.path()).is_empty(), "nothing is written to the working directory");
}

#[test]
fn root_is_found_from_a_subdirectory() {
    let repo = example_copy();
    let o = flinkops(&repo.path().join("pipelines"), &["check"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn hand_edit_under_out_makes_check_exit_1_and_name_the_file() {
    let repo = example_copy();
    let f = "out/prod/flink-realtime-features/flinkdeployment-flink-realtime-features.yaml";
    let text = std::fs::read_to_string(repo.path().join(f)).unwrap();
    std::fs::write(repo.path().join(f), text.replace("parallelism: 4", "parallelism: 40")).unwrap();
    let o = flinkops(repo.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains(&format!("changed: {f}")), "{}", stderr(&o));
    assert!(stdout(&o).contains(&format!("--- a/{f}")), "the diff is data on stdout:\n{}", stdout(&o));
    assert!(stdout(&o).contains("-    parallelism: 40\n+    parallelism: 4\n"), "{}", stdout(&o));
}

#[test]
fn stray_and_missing_files_make_check_fail() {
    let repo = example_copy();
    write(repo.path(), "out/prod/extra.yaml", "kind: Nothing\n");
    let o = flinkops(repo.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("stray: out/prod/extra.yaml"), "{}", stderr(&o));

    let repo = example_copy();
    std::fs::remove_file(repo.path().join("out/prod/kustomization.yaml")).unwrap();
    let o = flinkops(repo.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("missing: out/prod/kustomization.yaml"), "{}", stderr(&o));
}

#[test]
fn generate_prunes_files_it_no_longer_produces() {
    let repo = example_copy();
    std::fs::remove_file(repo.path().join("pipelines/user-features-backfill-2024-10.toml")).unwrap();
    // The overlays must stop naming it (an overlay naming a missing pipeline is an error).
    let dev = repo.path().join("overlays/dev/overlay.toml");
    let text = std::fs::read_to_string(&dev).unwrap();
    std::fs::write(&dev, &text[..text.find("[pipelines.user-features-backfill-2024-10]").unwrap()]).unwrap();
    let prod = repo.path().join("overlays/prod/overlay.toml");
    let text = std::fs::read_to_string(&prod).unwrap();
    std::fs::write(&prod, &text[..text.rfind("[[patches]]").unwrap()]).unwrap();
    let o = flinkops(repo.path(), &["generate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!repo.path().join("out/prod/user-features-backfill-2024-10").exists());
    let o = flinkops(repo.path(), &["check"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn generate_refuses_an_out_folder_it_does_not_own() {
    let repo = example_copy();
    std::fs::remove_dir_all(repo.path().join("out")).unwrap();
    write(repo.path(), "out/handmade.yaml", "x: 1\n");
    let o = flinkops(repo.path(), &["generate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not owned by flinkops"), "{}", stderr(&o));
    assert_eq!(snapshot_tree(&repo.path().join("out")).len(), 1, "nothing written");
}

#[test]
fn diff_json_has_the_documented_shape_and_exits_0() {
    let repo = example_copy();
    write(repo.path(), "out/prod/extra.yaml", "kind: Nothing\n");
    let o = flinkops(repo.path(), &["diff", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // SPEC §15 added `summary.impacts` and each change's `impact` (null: not a FlinkDeployment)
    // and `reasons`.
    assert_eq!(v["summary"], serde_json::json!({"added": 0, "modified": 0, "removed": 1, "impacts": {}}));
    let keys: Vec<&str> = v["changes"][0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["path", "env", "status", "impact", "reasons", "diff"]);
    assert_eq!(v["changes"][0]["impact"], serde_json::Value::Null);
    assert_eq!(v["changes"][0]["reasons"], serde_json::json!([]));
    assert_eq!(v["changes"][0]["path"], "out/prod/extra.yaml");
    assert_eq!(v["changes"][0]["env"], "prod");
    assert_eq!(v["changes"][0]["status"], "removed");
    assert!(v["changes"][0]["diff"].as_str().unwrap().contains("-kind: Nothing"));
}

#[test]
fn validate_writes_nothing() {
    let repo = example_copy();
    std::fs::remove_dir_all(repo.path().join("out")).unwrap();
    let o = flinkops(repo.path(), &["validate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!repo.path().join("out").exists());
}

#[test]
fn unknown_env_is_invalid_input() {
    let o = flinkops(&project_root(), &["check", "--env", "prdo"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown environment `prdo`"), "{}", stderr(&o));
}

#[test]
fn usage_errors_exit_2() {
    let o = flinkops(&project_root(), &["generate", "--no-such-flag"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn changing_a_job_file_changes_the_image_tag_and_caches_do_not() {
    let repo = example_copy();
    let fd = "out/prod/flink-realtime-features/flinkdeployment-flink-realtime-features.yaml";
    let image = |root: &std::path::Path, f: &str| {
        let text = std::fs::read_to_string(root.join(f)).unwrap();
        text.lines().find(|l| l.trim_start().starts_with("image: ")).unwrap().trim().to_string()
    };
    let before = image(repo.path(), fd);
    // A local run leaves caches behind: they are not bundled, so the tag stays.
    write(repo.path(), "jobs/realtime_features/__pycache__/main.cpython-311.pyc", "\0cache");
    write(repo.path(), "jobs/realtime_features/.pytest_cache/x", "cache");
    let o = flinkops(repo.path(), &["check"]);
    assert!(o.status.success(), "caches must not change the output: {}{}", stdout(&o), stderr(&o));
    // Any real change to the job's files changes the tag in every pipeline using the bundle.
    let main = repo.path().join("jobs/realtime_features/main.py");
    let mut text = std::fs::read_to_string(&main).unwrap();
    text.push_str("\n# a change\n");
    std::fs::write(&main, text).unwrap();
    let o = flinkops(repo.path(), &["generate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let after = image(repo.path(), fd);
    assert_ne!(before, after);
    let backfill = "out/prod/user-features-backfill-2024-10/flinkdeployment-user-features-backfill-2024-10.yaml";
    assert_eq!(image(repo.path(), backfill), after, "the backfill shares the bundle and its new tag");
    assert!(after.starts_with("image: registry.example.com/lemo/flink-realtime-features:2.2.1-"), "{after}");
}

#[test]
fn help_lists_the_commands() {
    let o = flinkops(&project_root(), &["--help"]);
    insta::assert_snapshot!("help", stdout(&o));
}

#[test]
fn diff_help_documents_against_and_deny() {
    let o = flinkops(&project_root(), &["diff", "--help"]);
    insta::assert_snapshot!("diff_help", stdout(&o));
}

#[test]
fn generate_help() {
    let o = flinkops(&project_root(), &["generate", "--help"]);
    insta::assert_snapshot!("generate_help", stdout(&o));
}

#[test]
fn init_scaffolds_a_repository_that_checks_clean_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("My Flink Repo");
    std::fs::create_dir_all(&target).unwrap();
    let o = flinkops(dir.path(), &["init", "My Flink Repo"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in [
        "flinkops.toml",
        "pipelines/event-counts.toml",
        "overlays/dev/overlay.toml",
        "overlays/prod/overlay.toml",
        ".github/workflows/flinkops.yml",
        "out/.flinkops",
        "out/dev/kustomization.yaml",
        "out/dev/_namespaces/kustomization.yaml",
        "out/dev/event-counts/kustomization.yaml",
        "out/argocd/dev.yaml",
        "out/argocd/dev/_namespaces.yaml",
        "out/argocd/prod/event-counts.yaml",
    ] {
        assert!(target.join(f).is_file(), "{f} missing");
    }
    assert!(std::fs::read_to_string(target.join("flinkops.toml")).unwrap().contains("name = \"my-flink-repo\""));
    assert!(stderr(&o).contains("kubectl apply -n argocd -f out/argocd/dev.yaml"), "{}", stderr(&o));
    let o = flinkops(&target, &["generate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = flinkops(&target, &["check"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let failures = schemas::validate_tree(&target.join("out"), schemas::Operator::V1_15);
    assert!(failures.is_empty(), "{}", schemas::report(&failures));
    let o = flinkops(dir.path(), &["init", "My Flink Repo"]);
    assert_eq!(o.status.code(), Some(2), "an existing repository is never overwritten");
}

#[test]
fn images_json_lists_each_bundle_with_its_users() {
    let o = flinkops(&project_root(), &["images", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let img = &v["images"][0];
    assert_eq!(img["name"], "flink-realtime-features");
    assert_eq!(img["dockerfile"], "out/images/flink-realtime-features/Dockerfile");
    assert_eq!(img["context"], ".");
    let tag = img["tag"].as_str().unwrap();
    assert_eq!(img["image"], format!("registry.example.com/lemo/flink-realtime-features:{tag}"));
    let fd = std::fs::read_to_string(project_root().join("out/prod/flink-realtime-features/flinkdeployment-flink-realtime-features.yaml"))
        .unwrap();
    assert!(
        fd.contains(&format!("image: registry.example.com/lemo/flink-realtime-features:{tag}")),
        "the listed image is the deployed one"
    );
    assert_eq!(img["used_by"].as_array().unwrap().len(), 4, "two pipelines in two envs: {img}");
}

#[test]
fn schema_accepts_every_spec_in_the_repository_and_rejects_typos() {
    let o = flinkops(&project_root(), &["schema"]);
    assert!(o.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut checked = 0;
    for dir in ["pipelines", "templates", "tests/fixtures"] {
        for e in walkdir::WalkDir::new(project_root().join(dir)) {
            let e = e.unwrap();
            let p = e.path();
            let is_spec = p.extension().is_some_and(|x| x == "toml")
                && p.parent().and_then(|d| d.file_name()).is_some_and(|d| d == "pipelines" || d == "templates");
            if !is_spec {
                continue;
            }
            let v: serde_json::Value = toml::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
            let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{}: {errors:?}", p.display());
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} specs checked");
    let typo: serde_json::Value = toml::from_str("[flink]\nversoin = \"2.2.1\"\n").unwrap();
    assert!(!validator.is_valid(&typo));
}

#[test]
fn diff_markdown_groups_by_environment_and_unit_with_fenced_diffs() {
    let repo = example_copy();
    let p = repo.path().join("pipelines/flink-realtime-features.toml");
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, text.replace("parallelism = 4", "parallelism = 6")).unwrap();
    // A new pipeline in prod only touches other units: its own, its Application, the env's list.
    std::fs::copy(repo.path().join("pipelines/user-features-backfill-2024-10.toml"), repo.path().join("pipelines/zz-backfill.toml"))
        .unwrap();
    let o = flinkops(repo.path(), &["diff", "--format", "markdown", "--env", "prod"]);
    assert_eq!(o.status.code(), Some(0));
    let md = stdout(&o);
    assert!(md.contains("| environment | units | added | changed | removed |"), "{md}");
    // Units: flink-realtime-features, zz-backfill and the env-level files.
    assert!(md.contains("| prod | 3 | 4 | 2 | 0 |"), "{md}");
    assert!(!md.contains("#### dev"), "{md}");
    let section = |h: &str| md.find(h).unwrap_or_else(|| panic!("no {h:?} in:\n{md}"));
    let (env, frf, zz) = (section("\n#### prod\n"), section("\n##### `flink-realtime-features`\n"), section("\n##### `zz-backfill`\n"));
    let env_files = section("\n##### environment files");
    assert!(env < env_files && env_files < frf && frf < zz, "{md}");
    let fd = section("```diff\n--- a/out/prod/flink-realtime-features/flinkdeployment-flink-realtime-features.yaml");
    assert!(frf < fd && fd < zz, "{md}");
    assert!(md.contains("-    parallelism: 4\n+    parallelism: 6"), "{md}");
    let app = section("<code>out/argocd/prod/zz-backfill.yaml</code> (added)");
    assert!(zz < app, "{md}");
    assert!(env_files < section("<code>out/prod/kustomization.yaml</code> (changed)"), "{md}");
}

#[test]
fn concurrent_generates_are_serialized_and_a_killed_run_leaves_no_lock() {
    let repo = example_copy();
    std::fs::remove_dir_all(repo.path().join("out")).unwrap();
    // Hold the lock as another run would, from this process.
    let held = std::fs::File::open(repo.path()).unwrap();
    held.lock().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("flinkops");
    let mut child =
        std::process::Command::new(&bin).arg("generate").current_dir(repo.path()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "the second run waits while the lock is held");
    assert!(!repo.path().join("out").exists(), "and writes nothing meanwhile");
    held.unlock().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("waiting for another flinkops run"));

    // A run killed while holding the lock does not block the next one: the OS drops the lock.
    let mut victim = std::process::Command::new(&bin).arg("generate").current_dir(repo.path()).spawn().unwrap();
    victim.kill().unwrap();
    victim.wait().unwrap();
    let o = flinkops(repo.path(), &["generate"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn generate_prunes_a_removed_environment() {
    let repo = example_copy();
    assert!(repo.path().join("out/dev/kustomization.yaml").is_file());
    std::fs::remove_dir_all(repo.path().join("overlays/dev")).unwrap();
    let o = flinkops(repo.path(), &["generate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!repo.path().join("out/dev").exists(), "the env folder is pruned");
    assert!(!repo.path().join("out/argocd/dev.yaml").exists(), "and its Application");
    assert!(repo.path().join("out/prod/kustomization.yaml").is_file());
    assert!(flinkops(repo.path(), &["check"]).status.success());
}

#[test]
fn turning_a_task_off_changes_only_the_configmap_and_the_tasks_hash() {
    let repo = example_copy();
    let before = snapshot_tree(&repo.path().join("out"));
    let p = repo.path().join("pipelines/flink-realtime-features.toml");
    let text = std::fs::read_to_string(&p).unwrap();
    let marker = "name = \"item-hot-score\"\nenabled = true";
    assert!(text.contains(marker));
    std::fs::write(&p, text.replace(marker, "name = \"item-hot-score\"\nenabled = false")).unwrap();
    let o = flinkops(repo.path(), &["generate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let after = snapshot_tree(&repo.path().join("out"));
    let changed: Vec<&String> = after.keys().filter(|k| before.get(*k) != after.get(*k)).collect();
    let expected = [
        "dev/flink-realtime-features/configmap-flink-realtime-features-tasks.yaml",
        "dev/flink-realtime-features/flinkdeployment-flink-realtime-features.yaml",
        "prod/flink-realtime-features/configmap-flink-realtime-features-tasks.yaml",
        "prod/flink-realtime-features/flinkdeployment-flink-realtime-features.yaml",
    ];
    assert_eq!(changed, expected.iter().collect::<Vec<_>>(), "only the ConfigMaps and FlinkDeployments change");
    for f in expected.iter().filter(|f| f.contains("flinkdeployment")) {
        let (a, b) = (String::from_utf8_lossy(&before[*f]).into_owned(), String::from_utf8_lossy(&after[*f]).into_owned());
        let diff: Vec<(&str, &str)> = a.lines().zip(b.lines()).filter(|(x, y)| x != y).collect();
        assert_eq!(diff.len(), 1, "{f}: only one line differs: {diff:?}");
        assert!(diff[0].0.trim_start().starts_with("flinkops.dev/tasks-sha256: "), "{diff:?}");
    }
    for f in expected.iter().filter(|f| f.contains("configmap")) {
        let b = String::from_utf8_lossy(&after[*f]).into_owned();
        assert!(b.contains("\"item-hot-score\": {\n          \"enabled\": false,"), "{b}");
    }
}

#[test]
fn s3_state_directories_and_task_uris_enable_the_s3_filesystem_plugin() {
    // The example checkpoints to s3://: without the plugin the official image cannot reach it.
    let fd = std::fs::read_to_string(project_root().join("out/prod/flink-realtime-features/flinkdeployment-flink-realtime-features.yaml"))
        .unwrap();
    assert!(fd.contains("- name: ENABLE_BUILT_IN_PLUGINS\n          value: flink-s3-fs-presto-2.2.1.jar\n"), "{fd}");
    // hdfs:// needs no plugin (the fixture on Flink 1.19 checkpoints to HDFS).
    let legacy = std::fs::read_to_string(
        project_root().join("tests/fixtures/flink-1-19-reactive-ha/out/base/legacy-etl/flinkdeployment-legacy-etl.yaml"),
    )
    .unwrap();
    assert!(!legacy.contains("ENABLE_BUILT_IN_PLUGINS"));
    // The backfill keeps no state on S3 but reads its events from s3:// through Flink's file
    // source (a URI in its task params): it needs the plugin as much.
    let backfill = std::fs::read_to_string(
        project_root().join("out/prod/user-features-backfill-2024-10/flinkdeployment-user-features-backfill-2024-10.yaml"),
    )
    .unwrap();
    assert!(!backfill.contains("checkpoints.dir: s3://"), "{backfill}");
    assert!(backfill.contains("- name: ENABLE_BUILT_IN_PLUGINS\n          value: flink-s3-fs-presto-2.2.1.jar\n"), "{backfill}");
}

/// A reader that goes away (`flinkops explain … | head`) ends the run the Unix way, by SIGPIPE,
/// never with a panic message about a failed `print!`.
#[cfg(unix)]
#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader); // every write now fails with EPIPE, whatever the timing
    let o = std::process::Command::new(assert_cmd::cargo::cargo_bin("flinkops"))
        .current_dir(project_root())
        .args(["explain", "flink-realtime-features", "--env", "prod"])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(o.status.signal(), Some(libc_sigpipe()), "status {:?}: {err}", o.status);
}

/// SIGPIPE is 13 on every Unix flinkops runs on (Linux, macOS, the BSDs).
#[cfg(unix)]
fn libc_sigpipe() -> i32 {
    13
}
