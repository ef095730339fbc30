//! `flinkops explain`: the text for a `scheduled_hpa` pipeline in Asia/Shanghai (the worked
//! example) and a `guarded` one in New York (snapshots), checked against values derived by hand:
//! the week table, the first UTC firings, a DST transition, the cost estimate, the `hpa` alias,
//! ignored keys, the day-2 state, provenance, errors, and the SVG chart (deterministic, well-formed).

mod support;

use std::path::Path;

use support::*;

/// A temporary copy of the `schedules` fixture repository.
fn schedules_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&project_root().join("tests/fixtures/schedules"), dir.path());
    dir
}

fn explain_ok(root: &Path, args: &[&str]) -> String {
    let mut all = vec!["explain"];
    all.extend_from_slice(args);
    // The CLI's default window starts today; tests pin it to the horizon's start.
    if !args.contains(&"--from") {
        all.extend_from_slice(&["--from", "2026-01-01"]);
    }
    // So is the instant of the entry in force (default: now): Mon 2026-01-05 10:00 in Shanghai.
    if !args.contains(&"--at") {
        all.extend_from_slice(&["--at", "2026-01-05T02:00:00Z"]);
    }
    let o = flinkops(root, &all);
    assert!(o.status.success(), "explain {args:?} failed:\n{}", stderr(&o));
    stdout(&o)
}

/// The lines of the section whose heading starts with `title` (headings are underlined with `-`).
fn section(text: &str, title: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let is_heading =
        |i: usize| i + 1 < lines.len() && !lines[i].is_empty() && !lines[i + 1].is_empty() && lines[i + 1].chars().all(|c| c == '-');
    let start = (0..lines.len())
        .find(|&i| is_heading(i) && lines[i].starts_with(title))
        .unwrap_or_else(|| panic!("no section {title:?} in\n{text}"));
    let end = (start + 2..lines.len()).find(|&i| is_heading(i)).unwrap_or(lines.len());
    let mut out: Vec<String> = lines[start + 2..end].iter().map(|l| l.to_string()).collect();
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out
}

/// Cells of a table row: columns are separated by two or more spaces.
fn cells(line: &str) -> Vec<String> {
    line.split("  ").map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect()
}

/// The week table as (from, to, bounds, first word of "set by").
fn week_rows(text: &str) -> Vec<(String, String, String, String)> {
    section(text, "Replica bounds")
        .iter()
        .skip(1)
        .map(|l| cells(l))
        .filter(|c| c.len() == 4)
        .map(|c| (c[0].clone(), c[1].clone(), c[2].clone(), c[3].split_whitespace().next().unwrap().to_string()))
        .collect()
}

fn row(from: &str, to: &str, bounds: &str, by: &str) -> (String, String, String, String) {
    (from.into(), to.into(), bounds.into(), by.into())
}

/// The bundle tag and file count depend on the job's source files, which change independently of
/// `explain`: replace them so that the snapshot holds only what explain decides.
fn redact(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("2.2.1-") {
        let after = &rest[i + 6..];
        let hex = after.chars().take(12).filter(char::is_ascii_hexdigit).count();
        out.push_str(&rest[..i + 6]);
        if hex == 12 {
            out.push_str("[tag]");
            rest = &after[12..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out.lines()
        .map(|l| match (l.find(" over the Dockerfile and "), l.find(" bundled file(s)")) {
            (Some(a), Some(b)) if a < b => format!("{}[n]{}", &l[..a + " over the Dockerfile and ".len()], &l[b..]),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn shanghai_scheduled_hpa_snapshot() {
    let repo = example_copy();
    let text = explain_ok(repo.path(), &["flink-realtime-features", "--env", "prod"]);
    insta::assert_snapshot!("shanghai_scheduled_hpa", redact(&text));
}

#[test]
fn new_york_guarded_snapshot() {
    let repo = schedules_copy();
    let text = explain_ok(repo.path(), &["ny-guarded"]);
    insta::assert_snapshot!("new_york_guarded", redact(&text));
}

#[test]
fn shanghai_week_table_is_workday_peak_in_local_time() {
    let repo = example_copy();
    let text = explain_ok(repo.path(), &["flink-realtime-features", "--env", "prod"]);
    // workday_peak (SPEC §6.2) in Asia/Shanghai: 09:00 Mon–Fri → 3–10, 18:00 Mon–Fri → 1–3,
    // Sat 00:00 → 1–2. The week starts with the last firing before Mon 00:00, the weekend entry of
    // the Saturday before, so Monday runs at 1–2 until 09:00; Friday's evening entry holds 1–3
    // until Saturday 00:00; the weekend entry then holds 1–2 to the end of Sunday.
    let mut want = vec![row("Mon 00:00", "Mon 09:00", "1–2", "weekend-scale-down")];
    let days = ["Mon", "Tue", "Wed", "Thu", "Fri"];
    for (i, d) in days.iter().enumerate() {
        want.push(row(&format!("{d} 09:00"), &format!("{d} 18:00"), "3–10", "workday-morning-scale-up"));
        let next = if i < 4 { format!("{} 09:00", days[i + 1]) } else { "Sat 00:00".to_string() };
        want.push(row(&format!("{d} 18:00"), &next, "1–3", "workday-evening-scale-down"));
    }
    want.push(row("Sat 00:00", "Sun 24:00", "1–2", "weekend-scale-down"));
    assert_eq!(week_rows(&text), want);
    assert!(text.contains("Replica bounds, week of Mon 2025-12-29 – Sun 2026-01-04 (Asia/Shanghai, local time)"), "{text}");
    assert!(text.contains("weekend-scale-down (in force since Sat 2025-12-27 00:00)"), "{text}");
}

#[test]
fn shanghai_firings_in_local_time_and_utc() {
    let repo = example_copy();
    let text = explain_ok(repo.path(), &["flink-realtime-features", "--env", "prod", "--firings", "3"]);
    let entries = section(&text, "Schedule entries").join("\n");
    // valid_from 2026-01-01 is a Thursday; 09:00 CST (UTC+8) = 01:00 UTC the same day.
    assert!(entries.contains("0 1 * * 1-5  Etc/UTC"), "{entries}");
    assert!(entries.contains("Thu 2026-01-01 09:00 CST  Thu 2026-01-01 01:00 UTC"), "{entries}");
    assert!(entries.contains("Fri 2026-01-02 09:00 CST  Fri 2026-01-02 01:00 UTC"), "{entries}");
    assert!(entries.contains("Mon 2026-01-05 09:00 CST  Mon 2026-01-05 01:00 UTC"), "{entries}");
    // 18:00 CST = 10:00 UTC; Saturday 00:00 CST = Friday 16:00 UTC (the day-of-week moves back).
    assert!(entries.contains("0 10 * * 1-5"), "{entries}");
    assert!(entries.contains("0 16 * * 5"), "{entries}");
    assert!(entries.contains("Sat 2026-01-03 00:00 CST  Fri 2026-01-02 16:00 UTC"), "{entries}");
    assert!(entries.contains("flink-realtime-features-workday-morning-scale-up"), "{entries}");
    assert!(entries.contains("NEXT 3 FIRINGS"), "{entries}");
    // No DST in Shanghai.
    assert!(section(&text, "DST transitions").join("\n").contains("none in Asia/Shanghai (UTC+08:00 throughout)"));
}

#[test]
fn new_york_march_window_lists_the_spring_forward() {
    let repo = schedules_copy();
    let text = explain_ok(repo.path(), &["ny-guarded", "--from", "2026-03-05", "--days", "7"]);
    let dst = section(&text, "DST transitions");
    // 2026-03-08 02:00 EST (UTC-5) = 07:00 UTC; clocks jump to 03:00 EDT.
    let line = dst.iter().find(|l| l.contains("2026-03-08 07:00 UTC")).unwrap_or_else(|| panic!("{dst:?}"));
    assert!(line.contains("Sun 2026-03-08 02:00"), "{line}");
    assert!(line.contains("02:00 EST → 03:00 EDT: clocks forward 1h"), "{line}");
    // The window runs from 2026-03-05 00:00 EST (05:00 UTC) to 2026-03-12 00:00 EDT (04:00 UTC).
    assert!(text.contains("(2026-03-05 05:00 UTC .. 2026-03-12 04:00 UTC)"), "{text}");
    // A window without a change lists none.
    let text = explain_ok(repo.path(), &["ny-guarded", "--from", "2026-03-09", "--days", "7"]);
    assert!(section(&text, "DST transitions").join("\n").contains("none in America/New_York (UTC-04:00 throughout)"));
    // The fall-back in November.
    let text = explain_ok(repo.path(), &["ny-guarded", "--from", "2026-10-30", "--days", "3"]);
    assert!(text.contains("Sun 2026-11-01 06:00 UTC  02:00 EDT → 01:00 EST: clocks back 1h"), "{text}");
}

#[test]
fn dst_transition_names_the_entries_it_affects() {
    let repo = schedules_copy();
    // An entry at 02:30 New York time is skipped on the spring-forward night and, at 01:30, fires
    // twice on the fall-back night.
    let p = repo.path().join("pipelines/ny-native.toml");
    let spec = std::fs::read_to_string(&p).unwrap().replace("cron = \"0 16 * * 1-5\"", "cron = \"30 2 * * *\"");
    std::fs::write(&p, spec).unwrap();
    let text = explain_ok(repo.path(), &["ny-native", "--from", "2026-03-05"]);
    assert!(text.contains("close at 02:30: skipped"), "{text}");
    let spec = std::fs::read_to_string(&p).unwrap().replace("30 2 * * *", "30 1 * * *");
    std::fs::write(&p, spec).unwrap();
    let text = explain_ok(repo.path(), &["ny-native", "--from", "2026-10-30"]);
    assert!(text.contains("close at 01:30: fires twice"), "{text}");
}

/// The rows of the "In force at" section as (label, value).
fn in_force_rows(text: &str) -> Vec<(String, String)> {
    section(text, "In force at").iter().map(|l| cells(l)).filter(|c| c.len() == 2).map(|c| (c[0].clone(), c[1].clone())).collect()
}

#[test]
fn reconcile_job_is_listed_and_the_entry_in_force_follows_the_latest_firing() {
    let repo = example_copy();
    let at = |instant: &str| explain_ok(repo.path(), &["flink-realtime-features", "--env", "prod", "--at", instant]);
    let text = at("2026-03-11T02:00:00Z");
    assert!(section(&text, "Objects in").iter().any(|l| l.contains("cronjob-flink-realtime-features-scaling-reconcile.yaml")));
    let job = section(&text, "Reconcile job").join("\n");
    assert!(job.contains("flink-realtime-features-scaling-reconcile  */5 * * * *  Etc/UTC"), "{job}");
    assert!(job.contains("Asia/Shanghai's UTC offsets until 2100 embedded (1 row)"), "{job}");
    // Wed 2026-03-11 10:00 CST: the morning entry fired at 09:00 CST = 01:00 UTC, 3–10.
    assert!(text.contains("In force at Wed 2026-03-11 02:00 UTC (Wed 2026-03-11 10:00 CST)"), "{text}");
    let rows = in_force_rows(&text);
    let get = |k: &str| rows.iter().find(|r| r.0 == k).map(|r| r.1.clone()).unwrap_or_else(|| panic!("{rows:?}"));
    assert_eq!(get("entry"), "workday-morning-scale-up (`0 9 * * 1-5`)");
    assert_eq!(get("fired"), "Wed 2026-03-11 09:00 CST = Wed 2026-03-11 01:00 UTC");
    assert_eq!(get("sets"), "HPA minReplicas 3, maxReplicas 10");
    assert!(get("enforced by").starts_with("flink-realtime-features-scaling-reconcile within 5 minutes"));
    // The firing minute itself counts; the second before it, Tuesday's 18:00 CST (10:00 UTC) does.
    let at_minute = in_force_rows(&at("2026-03-11T09:00:00+08:00"));
    assert!(at_minute.contains(&("fired".into(), "Wed 2026-03-11 09:00 CST = Wed 2026-03-11 01:00 UTC".into())), "{at_minute:?}");
    let before = in_force_rows(&at("2026-03-11 00:59:59"));
    assert!(before.contains(&("entry".into(), "workday-evening-scale-down (`0 18 * * 1-5`)".into())), "{before:?}");
    assert!(before.contains(&("fired".into(), "Tue 2026-03-10 18:00 CST = Tue 2026-03-10 10:00 UTC".into())), "{before:?}");
    // Saturday 11:00 CST: the weekend entry of Sat 00:00 CST (Fri 16:00 UTC), 1–2.
    let weekend = in_force_rows(&at("2026-03-14T03:00Z"));
    assert!(weekend.contains(&("fired".into(), "Sat 2026-03-14 00:00 CST = Fri 2026-03-13 16:00 UTC".into())), "{weekend:?}");
    assert!(weekend.contains(&("sets".into(), "HPA minReplicas 1, maxReplicas 2".into())), "{weekend:?}");
}

#[test]
fn a_pipeline_with_a_monthly_entry_gets_no_reconcile_job_and_explain_says_why() {
    let repo = schedules_copy();
    let text = explain_ok(repo.path(), &["bogota-month-end", "--at", "2026-03-08T07:10:00Z"]);
    assert!(!text.contains("scaling-reconcile"), "{text}");
    let job = section(&text, "Reconcile job").join(" ");
    assert!(job.contains("none: entry `month-end-close-of-books-reporting-scale-up` (`0 21 30 * *`) is not weekly"), "{job}");
    assert!(text.contains("No reconcile job (SPEC §16)"), "{text}");
    // Without a reconcile job the latest firing is looked up further back: 21:00 on the 30th of
    // January in Bogota (UTC-5) = 02:00 UTC on the 31st (February has no 30th).
    let rows = in_force_rows(&text);
    assert!(rows.contains(&("fired".into(), "Fri 2026-01-30 21:00 -05 = Sat 2026-01-31 02:00 UTC".into())), "{rows:?}");
    assert!(rows.iter().any(|r| r.0 == "enforced by" && r.1.contains("no reconcile job")), "{rows:?}");
}

#[test]
fn an_unreadable_at_is_a_usage_error() {
    let repo = example_copy();
    let o = flinkops(repo.path(), &["explain", "flink-realtime-features", "--env", "prod", "--at", "next tuesday"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("expected an instant such as 2026-03-09T08:00:00+08:00"), "{}", stderr(&o));
}

#[test]
fn cost_estimate_by_hand() {
    let repo = example_copy();
    let text = explain_ok(repo.path(), &["flink-realtime-features", "--env", "prod"]);
    let cost: Vec<Vec<String>> = section(&text, "Cost estimate").iter().map(|l| cells(l)).collect();
    // Week hours per bounds (from the table): 3–10 Mon–Fri 09–18 = 5 × 9 = 45 h;
    // 1–3 Mon–Thu 18–09 = 4 × 15 = 60 h plus Fri 18–24 = 6 h → 66 h; 1–2 Sat+Sun 48 h plus Mon 00–09
    // 9 h → 57 h; 45 + 66 + 57 = 168.
    // Floor average = (45×3 + 66×1 + 57×1) / 168 = 258 / 168 = 1.536 → 1.54.
    // Cap average   = (45×10 + 66×3 + 57×2) / 168 = 762 / 168 = 4.536 → 4.54.
    // prod profile large: TaskManager 2 cpu, JobManager 0.5 cpu.
    // Floor cpu-hours = 258 TM-hours × 2 + 0.5 × 168 = 516 + 84 = 600.
    // Cap cpu-hours   = 762 × 2 + 84 = 1524 + 84 = 1608.
    // Fixed at max 10 = (10 × 2 + 0.5) × 168 = 3444.
    // Savings: (3444 − 600) / 3444 = 82.58 % → 82.6 %; (3444 − 1608) / 3444 = 53.31 % → 53.3 %.
    assert!(cost.contains(&vec!["floor (min bounds)".into(), "1.54".into(), "600.0".into(), "82.6%".into()]), "{cost:?}");
    assert!(cost.contains(&vec!["cap (max bounds)".into(), "4.54".into(), "1608.0".into(), "53.3%".into()]), "{cost:?}");
    assert!(cost.contains(&vec!["fixed at max (10)".into(), "10".into(), "3444.0".into(), "—".into()]), "{cost:?}");

    // New York, profile small (0.5 cpu per TaskManager and JobManager), same preset and hours:
    // floor 258 × 0.5 + 84 = 213; cap 762 × 0.5 + 84 = 465; fixed (10 × 0.5 + 0.5) × 168 = 924;
    // savings 711 / 924 = 76.9 %, 459 / 924 = 49.7 %.
    let repo = schedules_copy();
    let text = explain_ok(repo.path(), &["ny-guarded"]);
    let cost: Vec<Vec<String>> = section(&text, "Cost estimate").iter().map(|l| cells(l)).collect();
    assert!(cost.contains(&vec!["floor (min bounds)".into(), "1.54".into(), "213.0".into(), "76.9%".into()]), "{cost:?}");
    assert!(cost.contains(&vec!["cap (max bounds)".into(), "4.54".into(), "465.0".into(), "49.7%".into()]), "{cost:?}");
    assert!(cost.contains(&vec!["fixed at max (10)".into(), "10".into(), "924.0".into(), "—".into()]), "{cost:?}");
}

#[test]
fn keda_windows_are_floors() {
    let repo = schedules_copy();
    let text = explain_ok(repo.path(), &["sydney-keda"]);
    // Only `sunday-matinee` (min 4 > pipeline min 1) becomes a cron trigger: Sunday 15:15–18:00
    // the floor is 4; the cap stays at the pipeline's 8 all week.
    assert_eq!(
        week_rows(&text),
        vec![
            row("Mon 00:00", "Sun 15:15", "1–8", "no"),
            row("Sun 15:15", "Sun 18:00", "4–8", "sunday-matinee"),
            row("Sun 18:00", "Sun 24:00", "1–8", "no"),
        ]
    );
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("a window is a floor, not a cap"), "{text}");
    assert!(flat.contains("Entry `overnight` gets no trigger"), "{text}");
    // 15:15 AEDT (UTC+11) = 04:15 UTC.
    assert!(text.contains("Sun 2026-01-04 15:15 AEDT  Sun 2026-01-04 04:15 UTC"), "{text}");
    // Floor average = (10080 + 165 × 3) / 10080 = 1.049 → 1.05 TaskManagers.
    let cost: Vec<Vec<String>> = section(&text, "Cost estimate").iter().map(|l| cells(l)).collect();
    assert!(cost.iter().any(|r| r[0] == "floor (min bounds)" && r[1] == "1.05"), "{cost:?}");
    // The cap stays at 8 all week: no saving against a fixed deployment of 8.
    assert!(cost.iter().any(|r| r[0] == "cap (max bounds)" && r[1] == "8.00" && r[3] == "0.0%"), "{cost:?}");
}

#[test]
fn hpa_is_explained_as_an_alias_and_unused_keys_are_listed() {
    let repo = example_copy();
    let overlay = repo.path().join("overlays/dev/overlay.toml");
    let text = std::fs::read_to_string(&overlay).unwrap();
    assert!(text.contains("autoscaling.mode = \"disabled\""));
    std::fs::write(&overlay, text.replace("autoscaling.mode = \"disabled\"", "autoscaling.mode = \"hpa\"")).unwrap();
    let text = explain_ok(repo.path(), &["flink-realtime-features", "--env", "dev"]);
    assert!(text.contains("Autoscaling: hpa (alias of hpa_reactive)"), "{text}");
    let mode = section(&text, "Autoscaling").join(" ");
    let mode = mode.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        mode.contains("`hpa` is an alias of `hpa_reactive`: an HPA on a native-mode deployment restarts the whole job on every scale"),
        "{mode}"
    );
    assert!(mode.contains("flinkops always pairs the HPA with Flink's reactive mode"), "{mode}");
    // Profile micro (dev): bounds 1–2 all week, an HPA decides within them.
    assert_eq!(week_rows(&text), vec![row("Mon 00:00", "Sun 24:00", "1–2", "HPA")]);
    // The pipeline file's preset and zone are not used by hpa_reactive.
    let ignored = section(&text, "Ignored keys");
    assert!(ignored.iter().any(|l| l.contains("autoscaling.preset")), "{ignored:?}");
    assert!(ignored.iter().any(|l| l.contains("autoscaling.timezone")), "{ignored:?}");
    let origins = section(&text, "Where values came from").join("\n");
    assert!(origins.contains("hpa_reactive (written `hpa`)"), "{origins}");
    assert!(origins.contains("overlays/dev/overlay.toml:"), "{origins}");
}

#[test]
fn day_2_state_is_shown() {
    let repo = example_copy();
    let p = repo.path().join("pipelines/flink-realtime-features.toml");
    let spec = std::fs::read_to_string(&p).unwrap().replace(
        "upgrade_mode = \"savepoint\"\n",
        "upgrade_mode = \"savepoint\"\nstate = \"suspended\"\nsavepoint_nonce = 3\nrestart_nonce = 2\nperiodic_savepoint = \"6h\"\n",
    );
    std::fs::write(&p, spec).unwrap();
    let text = explain_ok(repo.path(), &["flink-realtime-features", "--env", "prod"]);
    let state: Vec<Vec<String>> = section(&text, "Day-2 state").iter().map(|l| cells(l)).collect();
    for want in [
        ["job.state", "suspended"],
        ["savepoint_nonce", "3"],
        ["restart_nonce", "2"],
        ["redeploy_nonce", "0 (not emitted)"],
        ["periodic_savepoint", "6h"],
        ["initial_savepoint", "—"],
        ["upgrade_mode", "savepoint"],
    ] {
        assert!(state.contains(&vec![want[0].to_string(), want[1].to_string()]), "{want:?} in {state:?}");
    }
}

#[test]
fn provenance_follows_the_precedence() {
    let repo = example_copy();
    let text = explain_ok(repo.path(), &["flink-realtime-features", "--env", "prod"]);
    let rows: Vec<Vec<String>> = section(&text, "Where values came from").iter().map(|l| cells(l)).collect();
    let from = |setting: &str| rows.iter().find(|r| r[0] == setting).unwrap_or_else(|| panic!("{setting} in {rows:?}"))[2].clone();
    assert!(from("namespace").starts_with("overlays/prod/overlay.toml:") && from("namespace").ends_with("(overlay [env])"));
    assert!(from("schedule zone").starts_with("pipelines/flink-realtime-features.toml:"));
    assert!(from("schedule_strategy").ends_with("(flinkops.toml [defaults])"));
    assert!(from("resources.profile").ends_with("(overlay [pipelines.flink-realtime-features])"));
    assert_eq!(from("TaskManager cpu"), "profile large (SPEC §5)");
    assert_eq!(from("job.state"), "built-in default (running)");
    assert!(text.contains("sources      overlays/prod/overlay.toml, pipelines/flink-realtime-features.toml"), "{text}");

    // New York: the zone comes from flinkops.toml [defaults]; the strategy from the pipeline.
    let repo = schedules_copy();
    let text = explain_ok(repo.path(), &["ny-guarded"]);
    let rows: Vec<Vec<String>> = section(&text, "Where values came from").iter().map(|l| cells(l)).collect();
    let zone = rows.iter().find(|r| r[0] == "schedule zone").unwrap();
    assert_eq!(zone[1], "America/New_York");
    assert!(zone[2].starts_with("flinkops.toml:") && zone[2].ends_with("(flinkops.toml [defaults])"), "{zone:?}");
    let strategy = rows.iter().find(|r| r[0] == "schedule_strategy").unwrap();
    assert_eq!(strategy[1], "guarded");
    assert!(strategy[2].starts_with("pipelines/ny-guarded.toml:"), "{strategy:?}");

    // Templates are named as such.
    let repo = example_copy();
    let text = explain_ok(repo.path(), &["user-features-backfill-2024-10", "--env", "dev"]);
    assert!(text.contains("templates/backfill.toml:"), "{text}");
    assert!(text.contains("(template via extends)"), "{text}");
}

#[test]
fn objects_and_image_are_listed() {
    let repo = schedules_copy();
    let text = explain_ok(repo.path(), &["bogota-month-end"]);
    let objects: Vec<Vec<String>> = section(&text, "Objects in out/base/").iter().map(|l| cells(l)).collect();
    // Bogota's month-end entry needs two UTC CronJobs (SPEC §6.3), named with a hash suffix.
    let cronjobs: Vec<&Vec<String>> = objects.iter().filter(|r| r[0] == "CronJob").collect();
    assert_eq!(cronjobs.len(), 2, "{objects:?}");
    assert!(objects.iter().any(|r| r[0] == "FlinkDeployment" && r[1] == "bogota-month-end"));
    assert!(text.contains("0 2 31 1,3,5,7,8,10,12 *"), "{text}");
    assert!(text.contains("0 2 1 5,7,10,12 *"), "{text}");
    let image = section(&text, "Image");
    assert!(image[0].contains("registry.example.com/schedules/scaling:2.2.1-"), "{image:?}");
}

#[test]
fn unknown_names_exit_2_with_a_suggestion() {
    let repo = example_copy();
    let before = snapshot_tree(repo.path());
    let o = flinkops(repo.path(), &["explain", "flink-realtime-feature", "--env", "prod"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("unknown pipeline `flink-realtime-feature`"), "{}", stderr(&o));
    assert!(stderr(&o).contains("did you mean `flink-realtime-features`?"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    // Unknown pipeline without --env: the name is the more useful error.
    let o = flinkops(repo.path(), &["explain", "flink-realtime-feature"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("did you mean `flink-realtime-features`?"), "{}", stderr(&o));
    // Several environments and no --env.
    let o = flinkops(repo.path(), &["explain", "flink-realtime-features"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("the repository has 2 environments (dev, prod): say which one with --env"), "{}", stderr(&o));
    // Unknown environment.
    let o = flinkops(repo.path(), &["explain", "flink-realtime-features", "--env", "prd"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown environment `prd`"), "{}", stderr(&o));
    assert!(stderr(&o).contains("did you mean `prod`?"), "{}", stderr(&o));
    // A bad date is a usage error.
    let o = flinkops(repo.path(), &["explain", "flink-realtime-features", "--env", "prod", "--from", "2026-13-01"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(snapshot_tree(repo.path()), before, "explain never writes");
}

/// A minimal XML well-formedness check: one root element, balanced and properly nested tags,
/// quoted attributes, and `&` only in the predefined entities.
fn assert_well_formed(xml: &str) {
    fn check_text(t: &str) {
        assert!(!t.contains('<'), "raw < in {t:?}");
        let mut rest = t;
        while let Some(i) = rest.find('&') {
            let after = &rest[i..];
            assert!(["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].iter().any(|e| after.starts_with(e)), "bare & in {t:?}");
            rest = &rest[i + 1..];
        }
    }
    fn check_attrs(mut a: &str) {
        loop {
            a = a.trim_start();
            if a.is_empty() {
                return;
            }
            let eq = a.find('=').unwrap_or_else(|| panic!("attribute without value: {a:?}"));
            let name = &a[..eq];
            assert!(
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "-:_".contains(c)),
                "bad attribute name {name:?}"
            );
            let rest = &a[eq + 1..];
            assert!(rest.starts_with('"'), "unquoted attribute {name}");
            let end = rest[1..].find('"').unwrap_or_else(|| panic!("unterminated attribute {name}")) + 1;
            check_text(&rest[1..end]);
            a = &rest[end + 1..];
            assert!(a.is_empty() || a.starts_with(char::is_whitespace), "attributes must be separated: {a:?}");
        }
    }
    let body = xml.strip_prefix("<?xml").map(|r| &r[r.find("?>").expect("end of declaration") + 2..]).expect("XML declaration");
    let mut stack: Vec<String> = vec![];
    let mut roots = 0;
    let mut rest = body;
    while let Some(i) = rest.find('<') {
        let text = &rest[..i];
        if stack.is_empty() {
            assert!(text.trim().is_empty(), "text outside the root: {text:?}");
        }
        check_text(text);
        let j = rest[i..].find('>').expect("unterminated tag") + i;
        let tag = &rest[i + 1..j];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name.trim()), "mismatched </{name}>");
        } else {
            let self_closing = tag.ends_with('/');
            let inner = tag.trim_end_matches('/');
            let name = inner.split_whitespace().next().expect("tag name");
            check_attrs(&inner[name.len()..]);
            if stack.is_empty() {
                roots += 1;
            }
            if !self_closing {
                stack.push(name.to_string());
            }
        }
        rest = &rest[j + 1..];
    }
    assert!(rest.trim().is_empty(), "trailing text {rest:?}");
    assert!(stack.is_empty(), "unclosed {stack:?}");
    assert_eq!(roots, 1, "exactly one root element");
}

#[test]
fn svg_is_deterministic_and_well_formed() {
    let repo = example_copy();
    let out = tempfile::tempdir().unwrap();
    let (a, b) = (out.path().join("a.svg"), out.path().join("b.svg"));
    for f in [&a, &b] {
        let o = flinkops(
            repo.path(),
            &["explain", "flink-realtime-features", "--env", "prod", "--from", "2026-01-01", "--svg", f.to_str().unwrap()],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let (x, y) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(x, y, "two runs write the same bytes");
    let svg = String::from_utf8(x).unwrap();
    assert_well_formed(&svg);
    assert!(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.contains("flink-realtime-features (prod): TaskManager replica bounds per week"));
    assert!(svg.contains("zone Asia/Shanghai"));
    for day in ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] {
        assert!(svg.contains(&format!(">{day}</text>")), "day label {day}");
    }
    // Two step lines (max red, min blue) and the band between them.
    assert!(svg.contains("stroke=\"#d62728\""));
    assert!(svg.contains("stroke=\"#1f77b4\""));
    assert!(svg.contains("fill-opacity=\"0.18\""));
    insta::assert_snapshot!("shanghai_week_svg", svg);

    // A fixed-count pipeline draws one flat line; every fixture's chart is well-formed.
    let repo = schedules_copy();
    for p in ["ny-guarded", "ny-native", "bogota-month-end", "sydney-keda"] {
        let f = out.path().join(format!("{p}.svg"));
        let o = flinkops(repo.path(), &["explain", p, "--from", "2026-01-01", "--svg", f.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_well_formed(&std::fs::read_to_string(&f).unwrap());
    }
}

#[test]
fn well_formedness_check_catches_broken_xml() {
    let ok = "<?xml version=\"1.0\"?>\n<svg a=\"1\"><g><path d=\"M0 0\"/></g><text>a &amp; b</text></svg>\n";
    assert_well_formed(ok);
    for bad in [
        "<?xml version=\"1.0\"?><svg><g></svg>",
        "<?xml version=\"1.0\"?><svg a=1></svg>",
        "<?xml version=\"1.0\"?><svg><text>a & b</text></svg>",
        "<?xml version=\"1.0\"?><svg></svg><svg></svg>",
    ] {
        assert!(std::panic::catch_unwind(|| assert_well_formed(bad)).is_err(), "{bad}");
    }
}

/// SPEC §13.2 / §14: explain names the pipeline's delivery unit and what it relies on outside
/// it — the namespace unit's objects, or, where the env opts out, that they must already exist.
#[test]
fn explain_names_the_delivery_unit_and_the_namespace_objects_or_their_absence() {
    let root = project_root().join("tests/fixtures/overlays-precedence");
    let dev = section(&explain_ok(&root, &["pos-events", "--env", "dev"]), "Delivery");
    assert!(dev.iter().any(|l| l.contains("out/dev/pos-events/ (its own kustomization.yaml)")), "{dev:?}");
    let ns_line = dev.iter().find(|l| cells(l)[0] == "namespace").unwrap_or_else(|| panic!("{dev:?}"));
    assert!(ns_line.contains("in out/dev/_namespaces/"), "{ns_line}");
    // The files explain names exist in the fixture's committed out/.
    let ns = cells(ns_line)[1].split_whitespace().nth(1).unwrap().to_string();
    assert!(root.join(format!("out/dev/_namespaces/{ns}/namespace-{ns}.yaml")).is_file(), "{ns}");
    assert!(root.join(format!("out/dev/_namespaces/{ns}/role-flink.yaml")).is_file(), "{ns}");
    let staging = section(&explain_ok(&root, &["pos-events", "--env", "staging"]), "Delivery");
    assert!(staging.iter().any(|l| l.contains("not managed (manage_namespaces = false)")), "{staging:?}");
    let text = explain_ok(&root, &["pos-events", "--env", "staging"]);
    let origin = section(&text, "Where values came from").into_iter().find(|l| l.trim_start().starts_with("manage_namespaces")).unwrap();
    assert!(origin.contains("false") && origin.contains("overlays/staging/overlay.toml:") && origin.contains("overlay [env]"), "{origin}");
}
