//! The level-triggered reconcile job (SPEC §16): its inline script, run for real by POSIX `sh`
//! (dash on Debian) and busybox `sh`, with a fake clock (`date`) and a fake `kubectl` that records
//! its calls and answers a given live state, must set the entry in force — the latest firing at or
//! before the current minute within the last 7 days — at hundreds of seeded random instants across
//! 2026–2099 in zones with and without DST, right before, at and right after firings; and patch
//! nothing when the live object is already right, exactly once with the right values when not.
//!
//! The oracle is independent of the code under test: it walks back minute by minute over the last
//! 7 days of UTC minutes, converts each with chrono-tz and matches it with a plain cron matcher
//! (the shared one in tests/support/cron_oracle.rs: no offset table, no flinkops schedule code). `flinkops::schedule::in_force`
//! (what `explain --at` shows) is checked against the same oracle.

#[path = "support/cron_oracle.rs"]
mod cron_oracle;

use std::collections::BTreeSet;
use std::process::Command;

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use cron_oracle::{OracleCron, last_firing};
use flinkops::model::{ScheduleCron, ScheduleEntry};
use flinkops::render::scaler::{ScaleTarget, reconcile_script};
use flinkops::schedule::{Cron, in_force, offset_table, transitions};

// ---------------------------------------------------------------------------------------------
// Schedules under test
// ---------------------------------------------------------------------------------------------

/// (name, cron, min, max): every entry of a set has its own bounds, so the values patched name
/// the entry.
type Set = &'static [(&'static str, &'static str, u32, u32)];

/// SPEC §6.2's presets, and entries at the times DST changes happen: 01:xx repeats in New York's
/// autumn, 02:xx is skipped in its spring and in Berlin's; Lord Howe skips 02:00–02:29 and
/// repeats 01:30–01:59 (30-minute DST); one entry fires every 20 minutes on Fridays' last hours.
const SETS: &[(&str, Set)] = &[
    (
        "workday_peak",
        &[
            ("workday-morning-scale-up", "0 9 * * 1-5", 3, 10),
            ("workday-evening-scale-down", "0 18 * * 1-5", 1, 3),
            ("weekend-scale-down", "0 0 * * 6", 1, 2),
        ],
    ),
    ("24x7_peak", &[("daytime-scale-up", "0 9 * * *", 2, 8), ("night-scale-down", "0 23 * * *", 1, 3)]),
    (
        "dst-edges",
        &[
            ("sunday-gap", "30 2 * * 0", 5, 9),
            ("sunday-overlap", "45 1 * * 0", 2, 6),
            ("lord-howe-half", "15,40 2 * * 0", 3, 7),
            ("midweek", "0 3 * * 1,3", 4, 8),
            ("friday-night", "*/20 22-23 * * 5", 1, 4),
        ],
    ),
];

const ZONES: &[&str] = &["Asia/Shanghai", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Sao_Paulo", "UTC"];

fn entries(set: Set, target: ScaleTarget) -> Vec<ScheduleEntry> {
    set.iter()
        .map(|(name, cron, min, max)| ScheduleEntry {
            name: name.to_string(),
            cron: ScheduleCron::parse(cron).unwrap(),
            min_replicas: *min,
            max_replicas: *max,
            // `scheduled` sets one count: the entry's max here, distinct per entry too.
            replicas: if target == ScaleTarget::Hpa { *min } else { *max },
            end: None,
            schedules: vec![],
            guard_offsets: vec![],
        })
        .collect()
}

fn script(zone: Tz, set: Set, target: ScaleTarget) -> String {
    let offsets = offset_table(zone, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()).unwrap();
    reconcile_script(target, "rt-features", "lemo-prod", zone.name(), &offsets, &entries(set, target))
}

// ---------------------------------------------------------------------------------------------
// Running the script
// ---------------------------------------------------------------------------------------------

/// The shells: the system `sh` (dash on Debian) and busybox's `sh` when installed (`.ci/run`
/// installs it).
fn shells() -> Vec<Vec<&'static str>> {
    let mut v = vec![vec!["sh"]];
    if Command::new("busybox").arg("true").status().is_ok_and(|s| s.success()) {
        v.push(vec!["busybox", "sh"]);
    }
    v
}

/// What one run did.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    /// Every `kubectl` call, its arguments joined by single spaces.
    calls: Vec<String>,
    /// The epoch minute of the firing the script reported in force (`None`: nothing in force).
    since: Option<i64>,
    exit: i32,
}

/// Runs the script once per (clock in Unix seconds, live state) in one shell process: each run is
/// a subshell sourcing the script file, with `date` and `kubectl` as shell functions (a function
/// wins over a command on PATH, in the script's command substitutions too). The fake kubectl
/// writes each call to fd 3 and answers `get` with the live state.
fn run_batch(shell: &[&str], script: &str, cases: &[(i64, String)]) -> Vec<Run> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("reconcile.sh");
    std::fs::write(&file, script).unwrap();
    let mut driver = String::from(concat!(
        "date() { [ \"$*\" = '+%s' ] || { echo \"unexpected date $*\" >&2; return 1; }; echo \"$NOW\"; }\n",
        "kubectl() { echo \"CALL $*\" >&3; [ \"$1\" != get ] || printf '%s' \"$LIVE\"; }\n",
    ));
    for (now, live) in cases {
        driver.push_str(&format!("NOW={now}; LIVE='{live}'; echo BEGIN; ( . '{}' ) 3>&1 </dev/null; echo \"EXIT $?\"\n", file.display()));
    }
    let out = Command::new(shell[0]).args(&shell[1..]).arg("-c").arg(&driver).output().expect("the shell is on the machine");
    assert!(out.status.success(), "{shell:?} driver failed: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut runs = vec![];
    for chunk in stdout.split("BEGIN\n").skip(1) {
        let mut run = Run { calls: vec![], since: None, exit: -1 };
        for line in chunk.lines() {
            if let Some(c) = line.strip_prefix("CALL ") {
                run.calls.push(c.to_string());
            } else if let Some(code) = line.strip_prefix("EXIT ") {
                run.exit = code.parse().unwrap();
            } else if let Some(rest) = line.split_once(" in force since minute ") {
                run.since = Some(rest.1.split(';').next().unwrap().parse().unwrap());
            }
        }
        runs.push(run);
    }
    assert_eq!(runs.len(), cases.len(), "one run per case; stderr: {}", String::from_utf8_lossy(&out.stderr));
    runs
}

/// Runs the batch under every shell and checks they agree.
fn run_all_shells(script: &str, cases: &[(i64, String)]) -> Vec<Run> {
    let results: Vec<Vec<Run>> = shells().iter().map(|sh| run_batch(sh, script, cases)).collect();
    for (i, r) in results.iter().enumerate().skip(1) {
        for (k, (a, b)) in results[0].iter().zip(r).enumerate() {
            assert_eq!(a, b, "sh and {:?} disagree at clock {}", shells()[i], cases[k].0);
        }
    }
    results.into_iter().next().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Instants
// ---------------------------------------------------------------------------------------------

/// SplitMix64: a fixed seed gives the same instants on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo) as u64) as i64
    }
}

fn unix(y: i32, m: u32, d: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp()
}

/// Clock readings (Unix seconds, any second of a minute): random ones over 2026–2099, random ones
/// within two days of the zone's offset changes, and for each firing the oracle finds, a second
/// before its minute (right before it), its minute and the minute after (right after it).
fn instants(zone: Tz, weekly: &[OracleCron], rng: &mut Rng, random: usize, near_changes: usize) -> Vec<i64> {
    let (start, end) = (unix(2026, 1, 8), unix(2100, 1, 1));
    let mut clocks: Vec<i64> = (0..random).map(|_| rng.range(start, end)).collect();
    let changes = transitions(zone, DateTime::from_timestamp(start, 0).unwrap(), DateTime::from_timestamp(end, 0).unwrap());
    if !changes.is_empty() {
        for _ in 0..near_changes {
            let at = changes[rng.range(0, changes.len() as i64) as usize].at.timestamp();
            clocks.push(rng.range(at - 2 * 86_400, at + 2 * 86_400));
        }
    }
    let mut firings = BTreeSet::new();
    for &c in &clocks {
        if let Some((_, f)) = last_firing(weekly, zone, c.div_euclid(60)) {
            firings.insert(f);
        }
    }
    for f in firings {
        clocks.extend([f * 60 - 1, f * 60 + rng.range(0, 60), (f + 1) * 60 + rng.range(0, 60)]);
    }
    clocks
}

/// What `kubectl get -o jsonpath` prints for the entry's values.
fn live_of(target: ScaleTarget, min: u32, max: u32) -> String {
    match target {
        ScaleTarget::Hpa => format!("{min} {max}"),
        ScaleTarget::FlinkDeployment => max.to_string(),
    }
}

/// The kubectl calls the script must make, written out by hand from SPEC §16 and §6.3.
fn expected_calls(target: ScaleTarget, want: Option<(u32, u32)>, live_right: bool) -> Vec<String> {
    let Some((min, max)) = want else { return vec![] };
    let (kind, path) = match target {
        ScaleTarget::Hpa => ("horizontalpodautoscaler", "{.spec.minReplicas} {.spec.maxReplicas}"),
        ScaleTarget::FlinkDeployment => ("flinkdeployment", "{.spec.taskManager.replicas}"),
    };
    let mut calls = vec![format!("get {kind} rt-features -n lemo-prod -o jsonpath={path}")];
    if !live_right {
        let patch = match target {
            ScaleTarget::Hpa => format!(r#"{{"spec":{{"minReplicas":{min},"maxReplicas":{max}}}}}"#),
            ScaleTarget::FlinkDeployment => format!(r#"{{"spec":{{"taskManager":{{"replicas":{max}}}}}}}"#),
        };
        calls.push(format!("patch {kind} rt-features -n lemo-prod --type merge -p {patch}"));
    }
    calls
}

/// Checks the script (every shell) and `in_force` against the oracle at `clocks`: live state
/// right at even positions, wrong (another entry's values, or empty) at odd ones.
fn check(zone: Tz, set_name: &str, set: Set, target: ScaleTarget, clocks: &[i64]) -> usize {
    let weekly: Vec<OracleCron> = set.iter().map(|e| OracleCron::parse(e.1)).collect();
    let crons: Vec<Cron> = set.iter().map(|e| Cron::parse(e.1).unwrap()).collect();
    let mut cases = vec![];
    let mut expected = vec![];
    for (k, &clock) in clocks.iter().enumerate() {
        let want = last_firing(&weekly, zone, clock.div_euclid(60));
        let lib = in_force(&crons, zone, DateTime::from_timestamp(clock, 0).unwrap()).map(|f| (f.entry, f.firing.utc.timestamp() / 60));
        assert_eq!(lib, want, "in_force vs oracle: {set_name} in {zone} at {}", DateTime::from_timestamp(clock, 0).unwrap());
        let values = want.map(|(i, _)| (set[i].2, set[i].3));
        let right = k % 2 == 0;
        let live = match (values, right) {
            (Some((min, max)), true) => live_of(target, min, max),
            (Some((min, max)), false) => {
                // Another entry's values where there is one whose values differ, else nothing set.
                let other = set.iter().find(|e| live_of(target, e.2, e.3) != live_of(target, min, max));
                other.map_or(String::new(), |e| live_of(target, e.2, e.3))
            }
            (None, _) => "1 1".into(),
        };
        cases.push((clock, live));
        expected.push((want, values, right));
    }
    let runs = run_all_shells(&script(zone, set, target), &cases);
    for ((run, (clock, live)), (want, values, right)) in runs.iter().zip(&cases).zip(&expected) {
        let at = DateTime::from_timestamp(*clock, 0).unwrap().with_timezone(&zone);
        let ctx = format!("{set_name} in {zone} at {at} (clock {clock}), live {live:?}");
        assert_eq!(run.exit, 0, "{ctx}: the script failed");
        assert_eq!(run.since, want.map(|w| w.1), "{ctx}: the script found another firing than the oracle");
        assert_eq!(run.calls, expected_calls(target, *values, *right), "{ctx}: wrong kubectl calls");
    }
    cases.len()
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn reconcile_sets_the_entry_in_force_at_random_instants_in_every_kind_of_zone() {
    let mut rng = Rng(0x5eed_2026_0016);
    let mut total = 0;
    for (i, zone) in ZONES.iter().enumerate() {
        let zone: Tz = zone.parse().unwrap();
        for (k, (set_name, set)) in SETS.iter().enumerate() {
            let weekly: Vec<OracleCron> = set.iter().map(|e| OracleCron::parse(e.1)).collect();
            let clocks = instants(zone, &weekly, &mut rng, 12, 12);
            let target = if (i + k) % 2 == 0 { ScaleTarget::Hpa } else { ScaleTarget::FlinkDeployment };
            total += check(zone, set_name, set, target, &clocks);
        }
    }
    assert!(total >= 600, "only {total} instants were checked");
}

#[test]
fn reconcile_is_exact_minute_by_minute_through_new_york_and_lord_howe_dst_nights() {
    // Every minute of the nights of change, at a random second, in both target kinds.
    let mut rng = Rng(7);
    for (zone, days) in [("America/New_York", [(2026, 3, 8), (2026, 11, 1)]), ("Australia/Lord_Howe", [(2026, 4, 5), (2026, 10, 4)])] {
        let zone: Tz = zone.parse().unwrap();
        let (_, set) = SETS[2];
        for (y, m, d) in days {
            // Local 00:00 to 04:00 is within 00:00–20:00 UTC for both zones.
            let from = unix(y, m, d) - 86_400 + 12 * 3600;
            let clocks: Vec<i64> = (0..24 * 60).step_by(2).map(|k| from + k * 60 + rng.range(0, 60)).collect();
            check(zone, "dst-edges", set, ScaleTarget::Hpa, &clocks[..clocks.len() / 2]);
            check(zone, "dst-edges", set, ScaleTarget::FlinkDeployment, &clocks[clocks.len() / 2..]);
        }
    }
}

#[test]
fn reconcile_patches_nothing_when_live_is_right_and_exactly_once_when_wrong() {
    let zone: Tz = "Asia/Shanghai".parse().unwrap();
    let (_, set) = SETS[0];
    // Wed 2026-03-11 10:00 CST = 02:00 UTC: the morning entry (3–10) is in force.
    let clock = unix(2026, 3, 11) + 2 * 3600;
    let script = script(zone, set, ScaleTarget::Hpa);
    let cases = vec![(clock, "3 10".to_string()), (clock, "1 3".to_string()), (clock, "3 9".to_string()), (clock, String::new())];
    let runs = run_all_shells(&script, &cases);
    let get = "get horizontalpodautoscaler rt-features -n lemo-prod -o jsonpath={.spec.minReplicas} {.spec.maxReplicas}";
    let patch = r#"patch horizontalpodautoscaler rt-features -n lemo-prod --type merge -p {"spec":{"minReplicas":3,"maxReplicas":10}}"#;
    assert_eq!(runs[0].calls, vec![get]);
    for r in &runs[1..] {
        assert_eq!(r.calls, vec![get, patch]);
    }
    // That morning's 09:00 CST: 2026-03-11 01:00 UTC.
    assert!(runs.iter().all(|r| r.since == Some((unix(2026, 3, 11) + 3600) / 60) && r.exit == 0));
}

/// Writes an executable stub.
fn stub(dir: &std::path::Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs the script as the pod does (`sh -c SCRIPT`), with `date` and `kubectl` stubs on PATH.
fn run_in_pod(shell: &[&str], script: &str, clock: &str, live: &str, get_fails: bool) -> (std::process::Output, String) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls");
    stub(dir.path(), "date", &format!("echo '{clock}'\n"));
    let get = if get_fails { "echo 'Error from server (NotFound)' >&2; exit 1" } else { "printf '%s' \"$LIVE\"" };
    stub(dir.path(), "kubectl", &format!("echo \"$*\" >> '{}'\nif [ \"$1\" = get ]; then {get}; fi\n", log.display()));
    let path = format!("{}:{}", dir.path().display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new(shell[0]).args(&shell[1..]).arg("-c").arg(script).env("PATH", path).env("LIVE", live).output().unwrap();
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    (out, calls)
}

#[test]
fn reconcile_runs_as_in_the_pod_with_date_and_kubectl_on_path() {
    let zone: Tz = "Europe/Berlin".parse().unwrap();
    let (_, set) = SETS[1];
    let script = script(zone, set, ScaleTarget::FlinkDeployment);
    // Sun 2026-03-29 08:59:59 CEST (06:59:59 UTC), the morning DST began: 23:00 CET is in force.
    let clock = (unix(2026, 3, 29) + 6 * 3600 + 59 * 60 + 59).to_string();
    for sh in shells() {
        let (out, calls) = run_in_pod(&sh, &script, &clock, "8", false);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(
            calls,
            "get flinkdeployment rt-features -n lemo-prod -o jsonpath={.spec.taskManager.replicas}\n\
             patch flinkdeployment rt-features -n lemo-prod --type merge -p {\"spec\":{\"taskManager\":{\"replicas\":3}}}\n"
        );
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains("night-scale-down in force"), "{said}");
        // One second later it is 09:00 CEST: daytime, 8 TaskManagers, already right.
        let next = (unix(2026, 3, 29) + 7 * 3600).to_string();
        let (out, calls) = run_in_pod(&sh, &script, &next, "8", false);
        assert!(out.status.success());
        assert_eq!(calls.lines().count(), 1, "only the get: {calls}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("daytime-scale-up in force"));
    }
}

#[test]
fn reconcile_fails_without_patching_when_the_target_cannot_be_read_or_the_clock_is_garbage() {
    let zone: Tz = "UTC".parse().unwrap();
    let (_, set) = SETS[0];
    let script = script(zone, set, ScaleTarget::Hpa);
    for sh in shells() {
        let (out, calls) = run_in_pod(&sh, &script, &unix(2030, 6, 5).to_string(), "", true);
        assert!(!out.status.success(), "a failed get fails the Job, so it is retried and shows up");
        assert_eq!(calls.lines().filter(|l| l.starts_with("patch")).count(), 0);
        let (out, calls) = run_in_pod(&sh, &script, "Thu Jan  1 00:07:00 UTC 2099", "1 2", false);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the clock"));
        assert!(calls.is_empty());
    }
}

#[test]
fn reconcile_does_nothing_when_no_entry_fired_in_the_last_seven_days() {
    // New York 02:30 on Sundays: 2026-03-08's never happens, so from Sun 2026-03-08 07:30 UTC
    // (7 days after the last one) until 2026-03-15 06:30 UTC nothing is in force.
    let zone: Tz = "America/New_York".parse().unwrap();
    const SET: Set = &[("sunday-gap", "30 2 * * 0", 5, 9)];
    let clocks = [
        unix(2026, 3, 8) + 7 * 3600 + 29 * 60 + 59,
        unix(2026, 3, 8) + 7 * 3600 + 30 * 60,
        unix(2026, 3, 12),
        unix(2026, 3, 15) + 6 * 3600 + 30 * 60,
    ];
    let runs = run_all_shells(&script(zone, SET, ScaleTarget::Hpa), &clocks.iter().map(|c| (*c, "1 1".to_string())).collect::<Vec<_>>());
    let since: Vec<Option<i64>> = runs.iter().map(|r| r.since).collect();
    assert_eq!(
        since,
        vec![Some((unix(2026, 3, 1) + 7 * 3600 + 30 * 60) / 60), None, None, Some((unix(2026, 3, 15) + 6 * 3600 + 30 * 60) / 60)]
    );
    assert!(runs[1].calls.is_empty() && runs[2].calls.is_empty());
    // Sundays 09:00: 2026-10-25 09:00 EDT (13:00 UTC), then 2026-11-01 09:00 EST (14:00 UTC), a
    // week and an hour later: from 13:00 to 13:59 UTC nothing fired in the last 7 days.
    const SUNDAY: Set = &[("sunday-morning", "0 9 * * 0", 2, 5)];
    let sunday = unix(2026, 11, 1);
    let clocks = [sunday + 12 * 3600 + 59 * 60 + 59, sunday + 13 * 3600, sunday + 13 * 3600 + 59 * 60 + 59, sunday + 14 * 3600];
    let runs = run_all_shells(&script(zone, SUNDAY, ScaleTarget::Hpa), &clocks.iter().map(|c| (*c, "2 5".to_string())).collect::<Vec<_>>());
    let since: Vec<Option<i64>> = runs.iter().map(|r| r.since).collect();
    assert_eq!(since, vec![Some((unix(2026, 10, 25) + 13 * 3600) / 60), None, None, Some((sunday + 14 * 3600) / 60)]);
}

// ---------------------------------------------------------------------------------------------
// The rendered CronJob
// ---------------------------------------------------------------------------------------------

fn yaml_files(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "yaml") {
            out.push(serde_saphyr::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap());
        }
    }
    out
}

/// In the committed output (the example's prod and the schedules fixture, kept current by
/// `check` and the golden tests): the reconcile CronJob's pod is the entries' CronJobs' pod but
/// for its command and labels (same image, ServiceAccount, token, security context, resources),
/// and the Role bound to that ServiceAccount allows `get` and `patch` on exactly the object its
/// script reads and patches.
#[test]
fn reconcile_cronjob_runs_like_the_entry_cronjobs_and_its_role_can_get_and_patch_the_target() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dirs = [
        root.join("out/prod/flink-realtime-features"),
        root.join("tests/fixtures/schedules/out/base/ny-guarded"),
        root.join("tests/fixtures/schedules/out/base/ny-native"),
    ];
    for dir in dirs {
        let docs = yaml_files(&dir);
        let cronjobs: Vec<&serde_json::Value> = docs.iter().filter(|d| d["kind"] == "CronJob").collect();
        let reconcile: Vec<&&serde_json::Value> =
            cronjobs.iter().filter(|d| d["metadata"]["name"].as_str().unwrap().ends_with("-scaling-reconcile")).collect();
        assert_eq!(reconcile.len(), 1, "{}: one reconcile CronJob", dir.display());
        let r = reconcile[0];
        assert_eq!(r["spec"]["schedule"], "*/5 * * * *");
        assert_eq!(r["spec"]["timeZone"], "Etc/UTC");
        assert_eq!(r["spec"]["concurrencyPolicy"], "Forbid");
        let pod = |d: &serde_json::Value| {
            let mut spec = d["spec"]["jobTemplate"]["spec"].clone();
            let c = &mut spec["template"]["spec"]["containers"][0];
            let command = c["command"].take();
            // The guarded entries also read their Job's name; the reconcile job only needs HOME.
            c["env"] = serde_json::json!(c["env"].as_array().unwrap().iter().filter(|e| e["name"] != "JOB_NAME").collect::<Vec<_>>());
            spec["template"]["metadata"].take();
            (spec, command)
        };
        let (reconcile_pod, command) = pod(r);
        for entry in cronjobs.iter().filter(|d| !std::ptr::eq(**d, *r)) {
            assert_eq!(pod(entry).0, reconcile_pod, "{}: the pods differ", dir.display());
        }
        // What the script reads and patches.
        let script = command[2].as_str().unwrap();
        let get = script.lines().find_map(|l| l.strip_prefix("live=$(kubectl get ")).unwrap();
        let patch = script.lines().find_map(|l| l.strip_prefix("kubectl patch ")).unwrap();
        let words: Vec<&str> = get.split_whitespace().collect();
        let (kind, name, ns) = (words[0], words[1], words[3]);
        assert!(patch.starts_with(&format!("{kind} {name} -n {ns} ")), "{patch}");
        assert_eq!(ns, r["metadata"]["namespace"]);
        let (group, plural) = match kind {
            "horizontalpodautoscaler" => ("autoscaling", "horizontalpodautoscalers"),
            "flinkdeployment" => ("flink.apache.org", "flinkdeployments"),
            other => panic!("unexpected target {other}"),
        };
        // The Role bound to the pod's ServiceAccount.
        let sa = reconcile_pod["template"]["spec"]["serviceAccountName"].as_str().unwrap();
        let binding = docs
            .iter()
            .find(|d| {
                d["kind"] == "RoleBinding" && d["subjects"].as_array().unwrap().iter().any(|s| s["name"] == sa && s["namespace"] == ns)
            })
            .expect("a RoleBinding for the ServiceAccount");
        let role = docs.iter().find(|d| d["kind"] == "Role" && d["metadata"]["name"] == binding["roleRef"]["name"]).expect("its Role");
        let has = |v: &serde_json::Value, x: &str| v.as_array().unwrap().iter().any(|y| y == x);
        let allowed = role["rules"].as_array().unwrap().iter().any(|rule| {
            has(&rule["apiGroups"], group)
                && has(&rule["resources"], plural)
                && has(&rule["resourceNames"], name)
                && has(&rule["verbs"], "get")
                && has(&rule["verbs"], "patch")
        });
        assert!(allowed, "{}: the Role does not allow get and patch on {group}/{plural} {name}", dir.display());
    }
}
