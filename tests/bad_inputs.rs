//! The corpus of broken inputs: each case starts from a small valid repository, breaks one thing,
//! runs `flinkops generate`, and checks that it exits 2 with a rustc-style message (snapshot)
//! pointing at file:line:col where the problem has a place, without panicking and without
//! touching `out/`.

mod support;

use std::path::Path;

use support::*;

const PROJECT: &str = r#"[project]
name = "shop"
repo_url = "https://git.example.com/shop/gitops.git"

[defaults]
registry = "registry.example.com/shop"
"#;

const PIPELINE: &str = r#"description = "Orders enrichment"

[flink]
version = "2.2.1"
slots = 2

[job]
kind = "python"
script = "jobs/orders/main.py"
parallelism = 2
requirements = ["redis==5.2.1"]
"#;

/// A valid repository with a generated out/.
fn base_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "flinkops.toml", PROJECT);
    write(dir.path(), "pipelines/orders.toml", PIPELINE);
    write(dir.path(), "jobs/orders/main.py", "print('orders')\n");
    let o = flinkops(dir.path(), &["generate"]);
    assert!(o.status.success(), "the base repository must be valid: {}", stderr(&o));
    dir
}

/// Runs generate on the broken repository and returns stderr with the temp path removed.
fn run_broken(root: &Path, located: bool) -> String {
    let before = snapshot_tree(&root.join("out"));
    let o = flinkops(root, &["generate"]);
    let err = stderr(&o).replace(&root.display().to_string(), "<repo>");
    assert_eq!(o.status.code(), Some(2), "expected exit 2, got {:?}:\n{err}", o.status.code());
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.starts_with("error") || err.starts_with("warning"), "{err}");
    if located {
        assert!(err.contains(" --> "), "expected a file:line:col location:\n{err}");
    }
    assert_reported_once(&err);
    assert_every_headline_has_a_code(&err);
    assert_same_tree(&before, &snapshot_tree(&root.join("out")));
    err
}

/// Each problem's headline (`error…: …` / `warning…: …`) with the location line under it (the
/// ` --> file:line:col`, or nothing), in order; the summary line (`error: 2 errors found; …`) is
/// not a problem and is left out.
fn headlines(err: &str) -> Vec<(&str, Option<&str>)> {
    let lines: Vec<&str> = err.lines().collect();
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| (l.starts_with("error") || l.starts_with("warning")) && !is_summary(l))
        .map(|(i, l)| (*l, lines.get(i + 1).map(|n| n.trim_start()).filter(|n| n.starts_with("--> "))))
        .collect()
}

/// `error: 1 error found; nothing was written`, `error: 2 errors and 1 warning found; …`.
fn is_summary(line: &str) -> bool {
    line.strip_prefix("error: ").is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()) && rest.contains(" found; "))
}

/// SPEC §17: each problem is reported once per run — no two identical headlines at the same place.
fn assert_reported_once(err: &str) {
    let all = headlines(err);
    for (i, h) in all.iter().enumerate() {
        assert!(!all[..i].contains(h), "reported twice: {} {}\n{err}", h.0, h.1.unwrap_or("(no location)"));
    }
}

/// Every problem carries its stable code: `error[E010]: …`, `warning[W001]: …`.
fn assert_every_headline_has_a_code(err: &str) {
    for (h, _) in headlines(err) {
        let code = h.split_once('[').and_then(|(level, rest)| {
            let (id, after) = rest.split_once(']')?;
            let kind = if level == "error" { 'E' } else { 'W' };
            let well_formed = id.len() == 4 && id.starts_with(kind) && id[1..].chars().all(|c| c.is_ascii_digit());
            (well_formed && after.starts_with(": ")).then_some(id)
        });
        assert!(code.is_some(), "a headline without a code: {h}\n{err}");
    }
}

#[test]
fn headline_checks_find_what_they_look_for() {
    let twice = "error[E010]: unknown key `x`\n --> a.toml:1:1\n\nerror[E010]: unknown key `x`\n --> a.toml:1:1\n\nerror: 2 errors found; nothing was written\n";
    assert!(std::panic::catch_unwind(|| assert_reported_once(twice)).is_err());
    let elsewhere = twice.replacen("a.toml:1:1", "b.toml:1:1", 1);
    assert_reported_once(&elsewhere);
    assert_every_headline_has_a_code(&elsewhere);
    assert!(std::panic::catch_unwind(|| assert_every_headline_has_a_code("error: unknown key `x`\n")).is_err());
    assert!(std::panic::catch_unwind(|| assert_every_headline_has_a_code("warning[E010]: x\n")).is_err());
    assert_eq!(headlines("error: 1 error found; nothing was written\n"), vec![]);
}

fn pipeline_with(replace: &str, with: &str) -> String {
    assert!(PIPELINE.contains(replace), "{replace}");
    PIPELINE.replace(replace, with)
}

macro_rules! bad {
    ($name:ident, located: $located:expr, |$root:ident| $body:block, $($needle:expr),+) => {
        #[test]
        fn $name() {
            let dir = base_repo();
            let $root = dir.path();
            $body
            let err = run_broken($root, $located);
            $( assert!(err.contains($needle), "missing {:?} in:\n{err}", $needle); )+
            insta::assert_snapshot!(stringify!($name), err);
        }
    };
}

bad!(toml_syntax_error, located: true, |r| { write(r, "pipelines/orders.toml", "[flink\nversion = \"2.2.1\"\n") }, "invalid TOML", "pipelines/orders.toml:1:");
bad!(unknown_key_suggests_the_nearest, located: true, |r| {
    write(r, "pipelines/orders.toml", &pipeline_with("version = \"2.2.1\"", "versoin = \"2.2.1\""))
}, "unknown key `versoin` in [flink]", "did you mean `version`?");
bad!(wrong_type, located: true, |r| { write(r, "pipelines/orders.toml", &pipeline_with("parallelism = 2", "parallelism = \"two\"")) },
    "`parallelism` in [job] must be an integer, found a string", "pipelines/orders.toml:10:15");
bad!(image_tag_latest, located: true, |r| {
    write(r, "pipelines/orders.toml", &pipeline_with("slots = 2", "slots = 2\nimage = \"flink:latest\""))
}, "moving tag `latest`");
bad!(image_bare_minor, located: true, |r| {
    write(r, "pipelines/orders.toml", &pipeline_with("slots = 2", "slots = 2\nimage = \"flink:2.2\""))
}, "moves with every patch");
bad!(official_image_version_mismatch, located: true, |r| {
    write(r, "pipelines/orders.toml", &pipeline_with("slots = 2", "slots = 2\nimage = \"flink:2.1.3-scala_2.12-java17\""))
}, "runs Flink 2.1.3, but flink.version is 2.2.1");
bad!(taskmanager_memory_too_small, located: true, |r| {
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[resources.taskmanager]\nmemory = \"512m\"\n"))
}, "TaskManager memory 512m is too small", "982m");
bad!(jobmanager_memory_too_small, located: true, |r| {
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[resources.jobmanager]\nmemory = \"512m\"\n"))
}, "JobManager memory 512m is too small");
bad!(overlapping_config_prefixes, located: true, |r| {
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[flink.config]\n\"metrics.reporter.prom\" = \"x\"\n\"metrics.reporter.prom.port\" = \"9249\"\n"))
}, "`metrics.reporter.prom` is a prefix of `metrics.reporter.prom.port`", "FLINK-37405");
bad!(deprecated_key_overlapping_after_rewrite, located: true, |r| {
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[flink.config]\n\"restart-strategy\" = \"fixed-delay\"\n\"restart-strategy.type.extra\" = \"x\"\n"))
}, "`restart-strategy.type` is a prefix of `restart-strategy.type.extra`");
bad!(forbidden_operator_key, located: true, |r| {
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[flink.config]\n\"kubernetes.cluster-id\" = \"x\"\n"))
}, "set by the Flink Kubernetes Operator");
bad!(config_key_owned_by_a_typed_field, located: true, |r| {
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[flink.config]\n\"taskmanager.numberOfTaskSlots\" = \"8\"\n"))
}, "set by flinkops from `flink.slots`");
bad!(missing_extends_file, located: true, |r| { write(r, "pipelines/orders.toml", &format!("extends = \"templates/nope.toml\"\n{PIPELINE}")) },
    "file `templates/nope.toml` not found", "pipelines/orders.toml:1:11");
bad!(extends_cycle, located: true, |r| {
    write(r, "templates/a.toml", "extends = \"templates/b.toml\"\n");
    write(r, "templates/b.toml", "extends = \"templates/a.toml\"\n");
    write(r, "pipelines/orders.toml", &format!("extends = \"templates/a.toml\"\n{PIPELINE}"));
}, "`extends` cycle: pipelines/orders.toml → templates/a.toml → templates/b.toml → templates/a.toml");
bad!(extends_outside_repository, located: true, |r| { write(r, "pipelines/orders.toml", &format!("extends = \"../shared.toml\"\n{PIPELINE}")) },
    "leaves the repository");
bad!(job_script_links_outside_the_repository, located: true, |r| {
    // Every env checks the same script: the answer is cached per run, and must stay an error.
    let outside = r.parent().unwrap().join(format!("{}-outside.py", r.file_name().unwrap().to_string_lossy()));
    std::fs::write(&outside, "print('elsewhere')\n").unwrap();
    std::fs::remove_file(r.join("jobs/orders/main.py")).unwrap();
    std::os::unix::fs::symlink(&outside, r.join("jobs/orders/main.py")).unwrap();
}, "`script` file `jobs/orders/main.py` is a link that leaves the repository");
bad!(secret_literal_in_env, located: true, |r| {
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[flink.env]\nREDIS_PASSWORD = \"hunter2\"\n"))
}, "secret literal in [flink.env]", "{ secret = ");
bad!(secret_looking_key_in_flink_config, located: true, |r| {
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[flink.config]\n\"s3.secret-key\" = \"abc\"\n"))
}, "secret-looking key `s3.secret-key` in [flink.config]");
bad!(secret_literal_in_task_params, located: true, |r| {
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[[tasks]]\nname = \"sink\"\n[tasks.params]\nredis = {{ host = \"r\", auth-token = \"t0k3n\" }}\n"))
}, "parameter `redis.auth-token` holds a value in plain text");
bad!(unpinned_requirement, located: true, |r| { write(r, "pipelines/orders.toml", &pipeline_with("redis==5.2.1", "redis>=5")) },
    "requirement \"redis>=5\" is not pinned");
bad!(unknown_flink_minor, located: true, |r| { write(r, "pipelines/orders.toml", &pipeline_with("2.2.1", "2.9.0")) },
    "Flink 2.9 is not known");
bad!(flink_below_1_19, located: true, |r| { write(r, "pipelines/orders.toml", &pipeline_with("2.2.1", "1.18.1")) },
    "Flink 1.18 is not supported");
bad!(flink_2_3_needs_operator_1_16, located: true, |r| { write(r, "pipelines/orders.toml", &pipeline_with("2.2.1", "2.3.0")) },
    "needs operator 1.16");
bad!(kafka_connector_missing_for_flink_2_3, located: true, |r| {
    write(r, "flinkops.toml", &format!("{PROJECT}\n[target]\noperator = \"1.16\"\n"));
    write(r, "pipelines/orders.toml", &pipeline_with("2.2.1", "2.3.0").replace("parallelism = 2", "parallelism = 2\nconnectors = [\"kafka\"]"));
}, "the kafka connector has no release for Flink 2.3");
bad!(java_not_offered, located: true, |r| { write(r, "pipelines/orders.toml", &pipeline_with("slots = 2", "slots = 2\njava = 8")) },
    "Java 8 is not offered for Flink 2.2");
bad!(savepoint_mode_needs_directories, located: true, |r| {
    write(r, "pipelines/orders.toml", &pipeline_with("parallelism = 2", "parallelism = 2\nupgrade_mode = \"savepoint\""))
}, "needs `flink.checkpoint_dir`", "needs `flink.savepoint_dir`");
bad!(last_state_needs_ha, located: true, |r| {
    write(r, "pipelines/orders.toml", &pipeline_with("slots = 2", "slots = 2\ncheckpoint_dir = \"s3://b/c\"\nsavepoint_dir = \"s3://b/s\"")
        .replace("parallelism = 2", "parallelism = 2\nupgrade_mode = \"last-state\""))
}, "needs `flink.high_availability = true`");
bad!(standalone_ha_on_flink_2_is_flink_38795, located: true, |r| {
    write(r, "pipelines/orders.toml", &format!("{}\n[autoscaling]\nmode = \"reactive\"\n",
        pipeline_with("slots = 2", "slots = 2\nhigh_availability = true\nha_dir = \"s3://b/ha\"")))
}, "FLINK-38795", "mode `operator`");
bad!(native_mode_with_reactive_scaling, located: true, |r| {
    write(r, "pipelines/orders.toml", &format!("{}\n[autoscaling]\nmode = \"hpa\"\n", pipeline_with("slots = 2", "slots = 2\nmode = \"native\"")))
}, "conflicts with autoscaling mode `hpa_reactive`");
bad!(invalid_utf8, located: true, |r| {
    std::fs::write(r.join("pipelines/orders.toml"), b"description = \"caf\xe9\"\n").unwrap();
}, "is not valid UTF-8");
bad!(empty_pipeline_file, located: true, |r| { write(r, "pipelines/orders.toml", "") }, "`flink.version` is required", "`job.kind` is required");
bad!(huge_number, located: true, |r| { write(r, "pipelines/orders.toml", &pipeline_with("parallelism = 2", "parallelism = 99999999999999999999")) },
    "integer does not fit in 64 bits");
bad!(duplicate_pipeline_names, located: true, |r| {
    write(r, "pipelines/orders-copy.toml", &format!("name = \"orders\"\n{PIPELINE}"))
}, "two pipelines are named `orders`");
bad!(invalid_pipeline_name, located: true, |r| {
    std::fs::rename(r.join("pipelines/orders.toml"), r.join("pipelines/Orders_V2.toml")).unwrap();
}, "pipeline name \"Orders_V2\" is not a DNS-1123 label");
bad!(unknown_project_key, located: true, |r| { write(r, "flinkops.toml", &PROJECT.replace("repo_url", "repo_ur1")) },
    "unknown key `repo_ur1` in [project]", "did you mean `repo_url`?");
bad!(missing_registry_for_a_bundle, located: true, |r| {
    write(r, "flinkops.toml", &PROJECT.replace("registry = \"registry.example.com/shop\"", ""))
}, "`defaults.registry` is required");
bad!(overlay_renames_a_pipeline, located: true, |r| {
    // Merged, `name` would rename the pipeline in dev alone: other objects, another bundle.
    write(r, "overlays/dev/overlay.toml", "[pipelines.orders]\nname = \"orders-dev\"\nextends = \"templates/x.toml\"\n")
}, "`name` cannot be set in an overlay's [pipelines.orders]", "overlays/dev/overlay.toml:2:1",
   "`extends` cannot be set in an overlay's [pipelines.orders]", "overlays/dev/overlay.toml:3:1");
bad!(reserved_environment_name, located: true, |r| { write(r, "overlays/images/overlay.toml", "") }, "environment name `images` is reserved");
bad!(capacity_exceeded, located: true, |r| {
    write(r, "flinkops.toml", &format!("{PROJECT}\n[cluster]\ncpu = 0.5\nmemory = \"2Gi\"\n"))
}, "environment `base` needs up to", "biggest consumers: orders");
bad!(bundles_disagree, located: true, |r| {
    write(r, "pipelines/returns.toml", &pipeline_with("redis==5.2.1", "redis==5.0.0").replace("parallelism = 2", "parallelism = 2\nbundle = \"orders\""))
}, "bundle `orders` is built differently", "job.requirements");
bad!(unknown_timezone, located: true, |r| {
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[autoscaling]\ntimezone = \"Asia/Shangai\"\n"))
}, "unknown time zone \"Asia/Shangai\"", "did you mean \"Asia/Shanghai\"?");
bad!(script_missing, located: true, |r| { write(r, "pipelines/orders.toml", &pipeline_with("jobs/orders/main.py", "jobs/orders/missing.py")) },
    "`script` file `jobs/orders/missing.py` not found");
bad!(every_problem_is_reported_at_once, located: true, |r| {
    write(r, "pipelines/orders.toml", &pipeline_with("slots = 2", "slots = 0\nversoin = 1").replace("kind = \"python\"", "kind = \"pyhton\""));
}, "`slots` in [flink] is 0, out of range", "unknown key `versoin`", "cannot be \"pyhton\"", "did you mean \"python\"?");

#[test]
fn warnings_do_not_change_the_exit_code_unless_denied() {
    let dir = base_repo();
    write(dir.path(), "pipelines/orders.toml", &pipeline_with("2.2.1", "1.19.3"));
    let o = flinkops(dir.path(), &["generate"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning[W200]: Flink 1.19 is no longer maintained upstream"));
    write(dir.path(), "pipelines/orders.toml", &pipeline_with("slots = 2", "slots = 3"));
    write(dir.path(), "pipelines/orders.toml", &pipeline_with("2.2.1", "1.19.3").replace("slots = 2", "slots = 3"));
    let before = snapshot_tree(&dir.path().join("out"));
    let o = flinkops(dir.path(), &["generate", "--deny-warnings"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_same_tree(&before, &snapshot_tree(&dir.path().join("out")));
}

bad!(overlay_names_a_missing_pipeline, located: true, |r| {
    write(r, "overlays/dev/overlay.toml", "[pipelines.ordres]\njob.parallelism = 4\n")
}, "overlay names pipeline `ordres`, which does not exist", "did you mean `orders`?", "overlays/dev/overlay.toml:1:12");
bad!(patch_target_matches_nothing, located: true, |r| {
    write(r, "overlays/dev/overlay.toml", "[[patches]]\ntarget = { kind = \"FlinkDeployment\", name = \"order\" }\nops = [ { op = \"remove\", path = \"/spec/job\" } ]\n")
}, "overlays/dev/overlay.toml: [[patches]] #1 matches no resource", "kustomize silently ignores");
bad!(patch_operation_fails_with_index_and_pointer, located: true, |r| {
    write(r, "overlays/dev/overlay.toml", concat!(
        "[[patches]]\ntarget = { kind = \"FlinkDeployment\" }\n",
        "ops = [ { op = \"add\", path = \"/metadata/annotations\", value = { team = \"a\" } },\n",
        "        { op = \"replace\", path = \"/spec/nosuch/field\", value = 1 } ]\n"))
}, "overlays/dev/overlay.toml: [[patches]] #1, operation #1 at `/spec/nosuch/field` failed on FlinkDeployment `orders`");
bad!(patch_file_missing, located: true, |r| {
    write(r, "overlays/dev/overlay.toml", "[[patches]]\ntarget = { kind = \"FlinkDeployment\" }\nfile = \"patches/nope.yaml\"\n")
}, "cannot read patch file `overlays/dev/patches/nope.yaml`");
bad!(patch_may_not_rename_objects, located: true, |r| {
    write(r, "overlays/dev/overlay.toml", "[[merge_patches]]\ntarget = { kind = \"FlinkDeployment\" }\npatch = { metadata = { name = \"other\" } }\n")
}, "changes the identity");
bad!(malformed_patch_operation, located: true, |r| {
    write(r, "overlays/dev/overlay.toml", "[[patches]]\ntarget = { kind = \"FlinkDeployment\" }\nops = [ { op = \"upsert\", path = \"/a\" } ]\n")
}, "operation #0 is not a valid RFC 6902 operation");

const SCALER: &str = "\n[scaler]\nimage = \"registry.example.com/tools/kubectl:1.30.4@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"\n";

bad!(utc_schedule_without_exact_form_suggests_native_or_guarded, located: true, |r| {
    write(r, "flinkops.toml", &format!("{PROJECT}{SCALER}"));
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[autoscaling]\nmode = \"scheduled_hpa\"\ntimezone = \"America/New_York\"\n[[autoscaling.schedule]]\nname = \"open\"\ncron = \"0 9 * * 1-5\"\nmin_replicas = 2\nmax_replicas = 3\n"));
}, "pipeline `orders`, schedule entry `open`: `0 9 * * 1-5` in America/New_York has no exact UTC form",
   "first UTC instant without an exact form: 2026-03-02 14:00 UTC", "\"native\"", "\"guarded\"");
bad!(shanghai_first_of_month_at_1am_has_no_utc_form, located: true, |r| {
    write(r, "flinkops.toml", &format!("{PROJECT}{SCALER}"));
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[autoscaling]\nmode = \"scheduled\"\ntimezone = \"Asia/Shanghai\"\n[[autoscaling.schedule]]\nname = \"monthly\"\ncron = \"0 1 1 * *\"\nmin_replicas = 2\n"));
}, "has no exact UTC form");
bad!(invalid_cron_points_inside_the_string, located: true, |r| {
    write(r, "flinkops.toml", &format!("{PROJECT}{SCALER}"));
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[autoscaling]\nmode = \"scheduled\"\n[[autoscaling.schedule]]\nname = \"late\"\ncron = \"0 9 L * *\"\nmin_replicas = 2\n"));
}, "schedule entry `late`: invalid cron", "pipelines/orders.toml:17:13");
bad!(day_of_week_seven_is_rejected, located: true, |r| {
    write(r, "flinkops.toml", &format!("{PROJECT}{SCALER}"));
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[autoscaling]\nmode = \"scheduled\"\n[[autoscaling.schedule]]\nname = \"sunday\"\ncron = \"0 9 * * 7\"\nmin_replicas = 2\n"));
}, "invalid cron");
bad!(cron_that_never_fires, located: true, |r| {
    write(r, "flinkops.toml", &format!("{PROJECT}{SCALER}"));
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[autoscaling]\nmode = \"scheduled\"\n[[autoscaling.schedule]]\nname = \"never\"\ncron = \"0 0 30 2 *\"\nmin_replicas = 2\n"));
}, "invalid cron");
bad!(scheduled_mode_needs_a_scaler_image, located: true, |r| {
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[autoscaling]\nmode = \"scheduled\"\npreset = \"24x7_peak\"\n"));
}, "needs `[scaler] image`", "sh, date and kubectl");
bad!(kubernetes_older_than_autoscaling_v2, located: true, |r| {
    write(r, "flinkops.toml", &format!("{PROJECT}\n[target]\nkubernetes = \"1.22\"\n"));
}, "`kubernetes` must be a supported \"1.MINOR\" version, found \"1.22\"", "autoscaling/v2");
bad!(native_strategy_needs_kubernetes_1_27, located: true, |r| {
    write(r, "flinkops.toml", &format!("{PROJECT}{SCALER}\n[target]\nkubernetes = \"1.26\"\n"));
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[autoscaling]\nmode = \"scheduled\"\nschedule_strategy = \"native\"\npreset = \"24x7_peak\"\n"));
}, "schedule_strategy \"native\" needs Kubernetes 1.27 or newer");
bad!(keda_window_needs_an_end, located: true, |r| {
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[autoscaling]\nmode = \"keda\"\nmin_replicas = 1\nmax_replicas = 5\n[[autoscaling.schedule]]\nname = \"peak\"\ncron = \"0 9 * * *\"\nmin_replicas = 3\nmax_replicas = 5\n"));
}, "raises the floor to 3 under KEDA but has no `end`");
bad!(entry_outside_pipeline_bounds, located: true, |r| {
    write(r, "flinkops.toml", &format!("{PROJECT}{SCALER}"));
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[autoscaling]\nmode = \"scheduled_hpa\"\nmax_replicas = 5\npreset = \"workday_peak\"\n"));
}, "schedule entry \"workday-morning-scale-up\" (3–10) lies outside the pipeline's bounds 1–5");
bad!(entry_named_like_the_reconcile_job, located: true, |r| {
    write(r, "flinkops.toml", &format!("{PROJECT}{SCALER}"));
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[autoscaling]\nmode = \"scheduled\"\n[[autoscaling.schedule]]\nname = \"scaling-reconcile\"\ncron = \"0 9 * * *\"\nmin_replicas = 2\n"));
}, "schedule entry `scaling-reconcile` would share its CronJob name with the reconcile job `orders-scaling-reconcile`", "pipelines/orders.toml:");
bad!(flux_before_2_9_cannot_ignore_replicas, located: true, |r| {
    write(r, "flinkops.toml", &format!("{PROJECT}\n[delivery]\ntool = \"flux\"\nflux_version = \"2.8\"\n"));
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[autoscaling]\nmode = \"hpa\"\n"));
}, "needs Flux 2.9 or newer", "disabled, reactive, operator");
bad!(preset_and_entries_together, located: true, |r| {
    write(r, "flinkops.toml", &format!("{PROJECT}{SCALER}"));
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[autoscaling]\nmode = \"scheduled\"\npreset = \"24x7_peak\"\n[[autoscaling.schedule]]\nname = \"x\"\ncron = \"0 9 * * *\"\nmin_replicas = 2\n"));
}, "`preset` and `[[autoscaling.schedule]]` cannot be combined");

// SPEC §13.4: a bounded job runs once, in BATCH mode; what only a streaming job can use is an error.
bad!(bounded_job_with_a_checkpoint_interval, located: true, |r| {
    write(r, "pipelines/orders.toml", &format!("{}\nbounded = true\n", pipeline_with("slots = 2", "slots = 2\ncheckpoint_interval = \"30s\"")));
}, "a bounded job cannot have a `checkpoint_interval`", "pipelines/orders.toml:6:23");
bad!(bounded_job_with_savepoint_upgrade_mode, located: true, |r| {
    write(r, "pipelines/orders.toml", &pipeline_with(
        "slots = 2",
        "slots = 2\ncheckpoint_dir = \"s3://b/c\"\nsavepoint_dir = \"s3://b/s\"",
    ).replace("parallelism = 2", "parallelism = 2\nbounded = true\nupgrade_mode = \"savepoint\""));
}, "a bounded job cannot use `upgrade_mode = \"savepoint\"`", "pipelines/orders.toml:14:16");
bad!(bounded_job_with_autoscaling, located: true, |r| {
    write(r, "pipelines/orders.toml", &format!("{}\n[autoscaling]\nmode = \"reactive\"\n", pipeline_with("parallelism = 2", "parallelism = 2\nbounded = true")));
}, "a bounded job cannot autoscale (autoscaling mode `reactive`)", "pipelines/orders.toml:15:8");
// SPEC §13.5: an overlay's task table must name a task of the pipeline.
bad!(overlay_names_an_unknown_task, located: true, |r| {
    write(r, "pipelines/orders.toml", &format!("{PIPELINE}\n[[tasks]]\nname = \"enrich\"\n[tasks.params]\ntopic = \"orders\"\n"));
    write(r, "overlays/dev/overlay.toml", "[pipelines.orders.tasks.enrihc.params]\ntopic = \"orders-dev\"\n");
}, "pipeline `orders` has no task `enrihc`", "did you mean `enrich`?", "overlays/dev/overlay.toml:1:");

// SPEC §17: user-facing rules added after first use.
bad!(scheduled_entry_replicas_outside_the_bounds_points_at_the_entry, located: true, |r| {
    write(r, "flinkops.toml", &format!("{PROJECT}{SCALER}"));
    write(r, "pipelines/orders.toml", &format!(
        "{PIPELINE}\n[autoscaling]\nmode = \"scheduled\"\nmin_replicas = 1\nmax_replicas = 4\n\
         [[autoscaling.schedule]]\nname = \"peak\"\ncron = \"0 9 * * 1-5\"\nreplicas = 6\n\
         [[autoscaling.schedule]]\nname = \"night\"\ncron = \"0 20 * * 1-5\"\nreplicas = 1\n"
    ));
}, "schedule entry \"peak\" (replicas 6) lies outside the pipeline's bounds 1–4", "pipelines/orders.toml:20:12",
   "the pipeline's bounds, the hard cap, are set at: pipelines/orders.toml:15:16");
bad!(two_entries_firing_at_the_same_minute, located: true, |r| {
    write(r, "flinkops.toml", &format!("{PROJECT}{SCALER}"));
    write(r, "pipelines/orders.toml", &format!(
        "{PIPELINE}\n[autoscaling]\nmode = \"scheduled\"\nmin_replicas = 1\nmax_replicas = 4\n\
         [[autoscaling.schedule]]\nname = \"weekdays\"\ncron = \"30 8 * * 1-5\"\nreplicas = 3\n\
         [[autoscaling.schedule]]\nname = \"monday\"\ncron = \"30 8 * * 1\"\nreplicas = 4\n"
    ));
}, "schedule entries \"weekdays\" and \"monday\" fire at the same minute", "pipelines/orders.toml:23:8",
   "\"weekdays\" is written at: pipelines/orders.toml:19:8", "Mon 2026-01-05 08:30");
bad!(misnamed_overlay_file_is_not_ignored, located: true, |r| {
    write(r, "overlays/staging/overlays.toml", "[env]\nnamespace = \"shop-staging\"\n");
}, "`overlays/staging/overlays.toml` would be ignored", "overlays/staging/overlays.toml:1:1", "rename it to overlays/staging/overlay.toml");
bad!(pipeline_in_a_subfolder_is_not_ignored, located: true, |r| {
    write(r, "pipelines/team-a/clicks.toml", PIPELINE);
}, "`pipelines/team-a/clicks.toml` would be ignored", "pipelines/team-a/clicks.toml:1:1");
bad!(environment_folder_without_overlay_toml, located: true, |r| {
    write(r, "overlays/staging/patches/hpa.yaml", "[]\n");
}, "environment folder `overlays/staging` has no overlay.toml");

#[test]
fn a_native_schedule_before_1990_warns_that_it_gets_no_reconcile_job() {
    let dir = base_repo();
    write(
        dir.path(),
        "flinkops.toml",
        &format!("{PROJECT}{SCALER}\n[target]\nkubernetes = \"1.30\"\n\n[schedule]\nvalid_from = \"1985-01-01\"\n"),
    );
    write(
        dir.path(),
        "pipelines/orders.toml",
        &format!("{PIPELINE}\n[autoscaling]\nmode = \"scheduled\"\nschedule_strategy = \"native\"\npreset = \"24x7_peak\"\n"),
    );
    let o = flinkops(dir.path(), &["generate"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning[W303]: pipeline `orders` gets no scaling reconcile job (SPEC §16)"), "{}", stderr(&o));
    assert!(stderr(&o).contains("pipelines/orders.toml:"), "{}", stderr(&o));
    let files: Vec<String> =
        walkdir::WalkDir::new(dir.path().join("out")).into_iter().map(|e| e.unwrap().path().display().to_string()).collect();
    assert!(files.iter().any(|f| f.contains("cronjob-orders-daytime-scale-up")), "{files:?}");
    assert!(!files.iter().any(|f| f.contains("scaling-reconcile")), "{files:?}");
}
bad!(misspelt_manage_namespaces_in_defaults, located: true, |r| {
    write(r, "flinkops.toml", &PROJECT.replace("[defaults]\n", "[defaults]\nmanage_namespace = false\n"))
}, "unknown key `manage_namespace` in [defaults]", "did you mean `manage_namespaces`?");
bad!(misspelt_manage_namespaces_in_an_overlay, located: true, |r| {
    write(r, "overlays/dev/overlay.toml", "[env]\nmanage_namespace = false\n")
}, "unknown key `manage_namespace` in [env]", "did you mean `manage_namespaces`?", "overlays/dev/overlay.toml:2:1");
bad!(manage_namespaces_is_not_a_bool, located: true, |r| {
    write(r, "overlays/dev/overlay.toml", "[env]\nmanage_namespaces = \"no\"\n")
}, "`manage_namespaces` in [env] must be true or false, found a string", "overlays/dev/overlay.toml:2:21");
bad!(negative_flux_shards, located: true, |r| {
    write(r, "flinkops.toml", &format!("{PROJECT}\n[delivery]\ntool = \"flux\"\nflux_shards = -1\n"))
}, "`flux_shards` in [delivery] is -1, out of range", "flinkops.toml:10:15");
bad!(misspelt_flux_shards, located: true, |r| {
    write(r, "flinkops.toml", &format!("{PROJECT}\n[delivery]\ntool = \"flux\"\nflux_shard = 4\n"))
}, "unknown key `flux_shard` in [delivery]", "did you mean `flux_shards`?");
