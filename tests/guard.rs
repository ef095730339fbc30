//! The `guarded` strategy's guard script, run for real by POSIX `sh` (dash on Debian), must act
//! at exactly the instants whose wall-clock time in the zone matches the cron — checked against
//! the shared independent oracle (tests/support/cron_oracle.rs): chrono-tz for local time and a
//! plain cron matcher.

#[path = "support/cron_oracle.rs"]
mod cron_oracle;

use std::collections::BTreeSet;
use std::process::Command;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use cron_oracle::{OracleCron, minute_instant};
use flinkops::render::scaler::guard_script;
use flinkops::schedule::{Cron, offset_table};

/// The shells to run the guard with: the system `sh` (dash on Debian) and busybox's `sh` when
/// busybox is installed (`.ci/run` installs it).
fn shells() -> Vec<Vec<&'static str>> {
    let mut v = vec![vec!["sh"]];
    if Command::new("busybox").arg("true").status().is_ok_and(|s| s.success()) {
        v.push(vec!["busybox", "sh"]);
    }
    v
}

/// A `date` on PATH that always answers a wrong, later time: the guard must never consult the
/// clock (pods start late), so its decisions cannot change.
fn fake_clock_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let date = dir.path().join("date");
    std::fs::write(&date, "#!/bin/sh\necho 'Thu Jan  1 00:07:00 UTC 2099'\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&date, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Runs the guard for every minute in one `sh` process; returns the minutes at which it acts.
fn guard_fires(cron: &str, zone: Tz, minutes: &[i64]) -> BTreeSet<i64> {
    let results: Vec<BTreeSet<i64>> = shells().iter().map(|sh| guard_fires_with(sh, cron, zone, minutes)).collect();
    for r in &results[1..] {
        assert_eq!(r, &results[0], "`{cron}` in {zone}: busybox sh and sh disagree");
    }
    results.into_iter().next().unwrap()
}

fn guard_fires_with(shell: &[&str], cron: &str, zone: Tz, minutes: &[i64]) -> BTreeSet<i64> {
    let valid_from = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let offsets = offset_table(zone, valid_from).unwrap();
    let guard = guard_script(&Cron::parse(cron).unwrap(), zone.name(), &offsets);
    // In a function, `exit` would end the loop: the guard's early exits become returns.
    let body = guard.replace("exit 0", "return 0").replace("exit 1", "return 1");
    let list: Vec<String> = minutes.iter().map(i64::to_string).collect();
    let script =
        format!("set -eu\ng() {{\n{body}echo \"FIRE $t\"\n}}\nfor m in {}; do JOB_NAME=\"pipeline-entry-$m\"; g; done\n", list.join(" "));
    let clock = fake_clock_dir();
    let path = format!("{}:{}", clock.path().display(), std::env::var("PATH").unwrap_or_default());
    let out =
        Command::new(shell[0]).args(&shell[1..]).arg("-c").arg(&script).env("PATH", path).output().expect("the shell is on the machine");
    assert!(out.status.success(), "guard failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().filter_map(|l| l.strip_prefix("FIRE ")).map(|m| m.parse().unwrap()).collect()
}

fn epoch_minute(y: i32, m: u32, d: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() / 60
}

/// Every 15th minute for `days` days around each of a zone's transitions in a few years, plus
/// the whole of a few ordinary days.
fn sample(zone: Tz) -> Vec<i64> {
    let from = DateTime::<Utc>::from_timestamp(epoch_minute(2026, 1, 1) * 60, 0).unwrap();
    let to = DateTime::<Utc>::from_timestamp(epoch_minute(2100, 1, 1) * 60, 0).unwrap();
    let transitions = flinkops::schedule::transitions(zone, from, to);
    let mut mins = BTreeSet::new();
    for (i, t) in transitions.iter().enumerate() {
        // The first few years, one in the middle and the last ones.
        if i < 2 || i == transitions.len() / 2 || i + 2 > transitions.len() {
            let at = t.at.timestamp() / 60;
            mins.extend((at - 2 * 1440..at + 2 * 1440).step_by(15));
        }
    }
    for (y, m, d) in [(2026, 1, 5), (2041, 6, 14), (2099, 12, 30)] {
        let s = epoch_minute(y, m, d);
        mins.extend((s..s + 3 * 1440).step_by(15));
    }
    mins.into_iter().collect()
}

#[test]
fn guard_acts_exactly_at_local_firings_in_every_kind_of_zone() {
    let crons = ["0 9 * * 1-5", "0 18 * * 1-5", "0 0 * * 6", "30 2 * * *", "15 15 * * 0", "0 1 1 * *", "45 23 28-31 2,3,10,11 *"];
    let zones = ["America/New_York", "Europe/Berlin", "Australia/Sydney", "Australia/Lord_Howe", "Asia/Kathmandu", "Asia/Shanghai"];
    for zone in zones {
        let zone: Tz = zone.parse().unwrap();
        let minutes = sample(zone);
        for cron in crons {
            let oracle = OracleCron::parse(cron);
            let expected: BTreeSet<i64> = minutes.iter().copied().filter(|m| oracle.fires_at(zone, minute_instant(*m))).collect();
            let got = guard_fires(cron, zone, &minutes);
            assert_eq!(got, expected, "`{cron}` in {zone}: guard and oracle disagree");
        }
    }
}

#[test]
fn guard_skips_a_spring_forward_gap_and_fires_twice_in_a_fall_back_overlap() {
    let ny: Tz = "America/New_York".parse().unwrap();
    // 2026-03-08: 02:00 EST jumps to 03:00 EDT, so 02:30 never happens.
    let gap: Vec<i64> = (epoch_minute(2026, 3, 8)..epoch_minute(2026, 3, 9)).collect();
    assert!(guard_fires("30 2 * * *", ny, &gap).is_empty());
    // 2026-11-01: 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST).
    let overlap: Vec<i64> = (epoch_minute(2026, 11, 1)..epoch_minute(2026, 11, 2)).collect();
    let fired: Vec<i64> = guard_fires("30 1 * * *", ny, &overlap).into_iter().collect();
    let d = epoch_minute(2026, 11, 1);
    assert_eq!(fired, vec![d + 5 * 60 + 30, d + 6 * 60 + 30]);
}

#[test]
fn guard_refuses_a_job_name_without_a_minute() {
    let zone: Tz = "UTC".parse().unwrap();
    let offsets = offset_table(zone, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()).unwrap();
    let guard = guard_script(&Cron::parse("0 9 * * *").unwrap(), "UTC", &offsets);
    let out = Command::new("sh").arg("-c").arg(format!("set -eu\n{guard}echo acted")).env("JOB_NAME", "manual-run").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no scheduled minute in job name 'manual-run'"));
    assert!(out.stdout.is_empty());
}
