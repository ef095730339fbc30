//! robfig/cron v3's own next-firing fixtures, run against flinkops' next-firing function
//! ([`flinkops::schedule::next_firings`]), and against the shared cron oracle
//! (tests/support/cron_oracle.rs), whose minute walk must give robfig's answers too.
//!
//! Source: repository `github.com/robfig/cron`, file `spec_test.go`, tag `v3.0.1`
//! (commit ccba498c397bb90a9c84945bbb0f7af2d72b6309; the file is identical on `master` at
//! bc59245fe10efaed9d51b56900192527ed733435 and last changed in
//! 0f01e6b177f4bd77ee0d887fe74ac66da30a6e00, 2019-05-02). The tables below are robfig's, copied
//! verbatim (Go `{a, b, c},` rows written as Rust `(a, b, c),` tuples, comments kept): same
//! times, same specs, same expected values. Kubernetes parses CronJob schedules with this library
//! (`ParseStandard`), which is why flinkops follows it (SPEC §6.3).
//!
//! How robfig's cases are adapted:
//! - **`TestNext`** uses robfig's `secondParser` (6 fields, seconds first). A spec whose seconds
//!   field is `0` has an exact 5-field form: the same spec with that field dropped. The 6 cases
//!   whose seconds field is `15/35` fire at :15 and :50 seconds, which no 5-field cron can, and
//!   are skipped (all under "Wrap around days": `15/35 20-35/15 * * * *`,
//!   `15/35 20-35/15 1/2 * * *`, `15/35 20-35/15 10-12 * * *`, `15/35 20-35/15 1/2 */2 * *`,
//!   `15/35 20-35/15 * 9-20 * *`, `15/35 20-35/15 * 9-20 Jul *`). `TestNext` has no `@every`
//!   spec (flinkops rejects `@every` anyway, as Kubernetes-incompatible in intent). 52 of the 58
//!   cases are used, including all 35 America/New_York DST cases (spring gap skipped, autumn
//!   overlap fired twice) and the 2 America/Sao_Paulo midnight-gap cases.
//! - A `TZ=<zone>` / `CRON_TZ=<zone>` prefix on a spec becomes the `zone` argument (flinkops
//!   takes the zone separately and rejects the prefix inside a cron, SPEC §6.3). A `TZ=<zone>`
//!   prefix on a *time* is robfig's test helper choosing the time's location, which a spec without
//!   its own zone runs in; it becomes the zone too. Times and specs with neither run in robfig's
//!   `time.Local`; they are read here in UTC (their expected values are wall-clock times in the
//!   same zone as the input, and none is near a DST change).
//! - robfig's `Next(t)` returns the first activation **strictly after** `t` (it starts at the
//!   next whole second); flinkops' `next_firings(cron, zone, from, n)` lists firings **at or
//!   after** `from`. So `from` is `t` truncated to the second plus one second.
//! - Expected `""` (robfig's zero time: "no activation within five years") is robfig's
//!   answer for `0 0 0 30 Feb ?` and `0 0 0 31 Apr ?`. flinkops rejects such expressions when
//!   parsing (`CronError::NeverFires`, SPEC §6.3), so for these the test asserts that rejection.
//! - **`TestNextWithTz`** (5-field specs, times with a `+0530` offset and no zone name, which Go
//!   turns into a fixed +05:30 location) runs in Asia/Kolkata, whose offset is +05:30 throughout.
//! - **`TestActivation`** (5-field `ParseStandard` specs, `Next(time - 1s) == time` must be
//!   `expected`) is included as well, in UTC like the other `time.Local` cases.

#[path = "support/cron_oracle.rs"]
mod cron_oracle;

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use cron_oracle::OracleCron;
use flinkops::schedule::{Cron, CronError, next_firings};

/// robfig/cron v3 `spec_test.go`, `TestNext`: (time, spec, expected).
#[rustfmt::skip]
const TEST_NEXT: &[(&str, &str, &str)] = &[
    // Simple cases
    ("Mon Jul 9 14:45 2012", "0 0/15 * * * *", "Mon Jul 9 15:00 2012"),
    ("Mon Jul 9 14:59 2012", "0 0/15 * * * *", "Mon Jul 9 15:00 2012"),
    ("Mon Jul 9 14:59:59 2012", "0 0/15 * * * *", "Mon Jul 9 15:00 2012"),

    // Wrap around hours
    ("Mon Jul 9 15:45 2012", "0 20-35/15 * * * *", "Mon Jul 9 16:20 2012"),

    // Wrap around days
    ("Mon Jul 9 23:46 2012", "0 */15 * * * *", "Tue Jul 10 00:00 2012"),
    ("Mon Jul 9 23:45 2012", "0 20-35/15 * * * *", "Tue Jul 10 00:20 2012"),
    ("Mon Jul 9 23:35:51 2012", "15/35 20-35/15 * * * *", "Tue Jul 10 00:20:15 2012"),
    ("Mon Jul 9 23:35:51 2012", "15/35 20-35/15 1/2 * * *", "Tue Jul 10 01:20:15 2012"),
    ("Mon Jul 9 23:35:51 2012", "15/35 20-35/15 10-12 * * *", "Tue Jul 10 10:20:15 2012"),

    ("Mon Jul 9 23:35:51 2012", "15/35 20-35/15 1/2 */2 * *", "Thu Jul 11 01:20:15 2012"),
    ("Mon Jul 9 23:35:51 2012", "15/35 20-35/15 * 9-20 * *", "Wed Jul 10 00:20:15 2012"),
    ("Mon Jul 9 23:35:51 2012", "15/35 20-35/15 * 9-20 Jul *", "Wed Jul 10 00:20:15 2012"),

    // Wrap around months
    ("Mon Jul 9 23:35 2012", "0 0 0 9 Apr-Oct ?", "Thu Aug 9 00:00 2012"),
    ("Mon Jul 9 23:35 2012", "0 0 0 */5 Apr,Aug,Oct Mon", "Tue Aug 1 00:00 2012"),
    ("Mon Jul 9 23:35 2012", "0 0 0 */5 Oct Mon", "Mon Oct 1 00:00 2012"),

    // Wrap around years
    ("Mon Jul 9 23:35 2012", "0 0 0 * Feb Mon", "Mon Feb 4 00:00 2013"),
    ("Mon Jul 9 23:35 2012", "0 0 0 * Feb Mon/2", "Fri Feb 1 00:00 2013"),

    // Wrap around minute, hour, day, month, and year
    ("Mon Dec 31 23:59:45 2012", "0 * * * * *", "Tue Jan 1 00:00:00 2013"),

    // Leap year
    ("Mon Jul 9 23:35 2012", "0 0 0 29 Feb ?", "Mon Feb 29 00:00 2016"),

    // Daylight savings time 2am EST (-5) -> 3am EDT (-4)
    ("2012-03-11T00:00:00-0500", "TZ=America/New_York 0 30 2 11 Mar ?", "2013-03-11T02:30:00-0400"),

    // hourly job
    ("2012-03-11T00:00:00-0500", "TZ=America/New_York 0 0 * * * ?", "2012-03-11T01:00:00-0500"),
    ("2012-03-11T01:00:00-0500", "TZ=America/New_York 0 0 * * * ?", "2012-03-11T03:00:00-0400"),
    ("2012-03-11T03:00:00-0400", "TZ=America/New_York 0 0 * * * ?", "2012-03-11T04:00:00-0400"),
    ("2012-03-11T04:00:00-0400", "TZ=America/New_York 0 0 * * * ?", "2012-03-11T05:00:00-0400"),

    // hourly job using CRON_TZ
    ("2012-03-11T00:00:00-0500", "CRON_TZ=America/New_York 0 0 * * * ?", "2012-03-11T01:00:00-0500"),
    ("2012-03-11T01:00:00-0500", "CRON_TZ=America/New_York 0 0 * * * ?", "2012-03-11T03:00:00-0400"),
    ("2012-03-11T03:00:00-0400", "CRON_TZ=America/New_York 0 0 * * * ?", "2012-03-11T04:00:00-0400"),
    ("2012-03-11T04:00:00-0400", "CRON_TZ=America/New_York 0 0 * * * ?", "2012-03-11T05:00:00-0400"),

    // 1am nightly job
    ("2012-03-11T00:00:00-0500", "TZ=America/New_York 0 0 1 * * ?", "2012-03-11T01:00:00-0500"),
    ("2012-03-11T01:00:00-0500", "TZ=America/New_York 0 0 1 * * ?", "2012-03-12T01:00:00-0400"),

    // 2am nightly job (skipped)
    ("2012-03-11T00:00:00-0500", "TZ=America/New_York 0 0 2 * * ?", "2012-03-12T02:00:00-0400"),

    // Daylight savings time 2am EDT (-4) => 1am EST (-5)
    ("2012-11-04T00:00:00-0400", "TZ=America/New_York 0 30 2 04 Nov ?", "2012-11-04T02:30:00-0500"),
    ("2012-11-04T01:45:00-0400", "TZ=America/New_York 0 30 1 04 Nov ?", "2012-11-04T01:30:00-0500"),

    // hourly job
    ("2012-11-04T00:00:00-0400", "TZ=America/New_York 0 0 * * * ?", "2012-11-04T01:00:00-0400"),
    ("2012-11-04T01:00:00-0400", "TZ=America/New_York 0 0 * * * ?", "2012-11-04T01:00:00-0500"),
    ("2012-11-04T01:00:00-0500", "TZ=America/New_York 0 0 * * * ?", "2012-11-04T02:00:00-0500"),

    // 1am nightly job (runs twice)
    ("2012-11-04T00:00:00-0400", "TZ=America/New_York 0 0 1 * * ?", "2012-11-04T01:00:00-0400"),
    ("2012-11-04T01:00:00-0400", "TZ=America/New_York 0 0 1 * * ?", "2012-11-04T01:00:00-0500"),
    ("2012-11-04T01:00:00-0500", "TZ=America/New_York 0 0 1 * * ?", "2012-11-05T01:00:00-0500"),

    // 2am nightly job
    ("2012-11-04T00:00:00-0400", "TZ=America/New_York 0 0 2 * * ?", "2012-11-04T02:00:00-0500"),
    ("2012-11-04T02:00:00-0500", "TZ=America/New_York 0 0 2 * * ?", "2012-11-05T02:00:00-0500"),

    // 3am nightly job
    ("2012-11-04T00:00:00-0400", "TZ=America/New_York 0 0 3 * * ?", "2012-11-04T03:00:00-0500"),
    ("2012-11-04T03:00:00-0500", "TZ=America/New_York 0 0 3 * * ?", "2012-11-05T03:00:00-0500"),

    // hourly job
    ("TZ=America/New_York 2012-11-04T00:00:00-0400", "0 0 * * * ?", "2012-11-04T01:00:00-0400"),
    ("TZ=America/New_York 2012-11-04T01:00:00-0400", "0 0 * * * ?", "2012-11-04T01:00:00-0500"),
    ("TZ=America/New_York 2012-11-04T01:00:00-0500", "0 0 * * * ?", "2012-11-04T02:00:00-0500"),

    // 1am nightly job (runs twice)
    ("TZ=America/New_York 2012-11-04T00:00:00-0400", "0 0 1 * * ?", "2012-11-04T01:00:00-0400"),
    ("TZ=America/New_York 2012-11-04T01:00:00-0400", "0 0 1 * * ?", "2012-11-04T01:00:00-0500"),
    ("TZ=America/New_York 2012-11-04T01:00:00-0500", "0 0 1 * * ?", "2012-11-05T01:00:00-0500"),

    // 2am nightly job
    ("TZ=America/New_York 2012-11-04T00:00:00-0400", "0 0 2 * * ?", "2012-11-04T02:00:00-0500"),
    ("TZ=America/New_York 2012-11-04T02:00:00-0500", "0 0 2 * * ?", "2012-11-05T02:00:00-0500"),

    // 3am nightly job
    ("TZ=America/New_York 2012-11-04T00:00:00-0400", "0 0 3 * * ?", "2012-11-04T03:00:00-0500"),
    ("TZ=America/New_York 2012-11-04T03:00:00-0500", "0 0 3 * * ?", "2012-11-05T03:00:00-0500"),

    // Unsatisfiable
    ("Mon Jul 9 23:35 2012", "0 0 0 30 Feb ?", ""),
    ("Mon Jul 9 23:35 2012", "0 0 0 31 Apr ?", ""),

    // Monthly job
    ("TZ=America/New_York 2012-11-04T00:00:00-0400", "0 0 3 3 * ?", "2012-12-03T03:00:00-0500"),

    // Test the scenario of DST resulting in midnight not being a valid time.
    // https://github.com/robfig/cron/issues/157
    ("2018-10-17T05:00:00-0400", "TZ=America/Sao_Paulo 0 0 9 10 * ?", "2018-11-10T06:00:00-0500"),
    ("2018-02-14T05:00:00-0500", "TZ=America/Sao_Paulo 0 0 9 22 * ?", "2018-02-22T07:00:00-0500"),
];

/// robfig/cron v3 `spec_test.go`, `TestActivation`: (time, spec, expected).
#[rustfmt::skip]
const TEST_ACTIVATION: &[(&str, &str, bool)] = &[
    // Every fifteen minutes.
    ("Mon Jul 9 15:00 2012", "0/15 * * * *", true),
    ("Mon Jul 9 15:45 2012", "0/15 * * * *", true),
    ("Mon Jul 9 15:40 2012", "0/15 * * * *", false),

    // Every fifteen minutes, starting at 5 minutes.
    ("Mon Jul 9 15:05 2012", "5/15 * * * *", true),
    ("Mon Jul 9 15:20 2012", "5/15 * * * *", true),
    ("Mon Jul 9 15:50 2012", "5/15 * * * *", true),

    // Named months
    ("Sun Jul 15 15:00 2012", "0/15 * * Jul *", true),
    ("Sun Jul 15 15:00 2012", "0/15 * * Jun *", false),

    // Everything set.
    ("Sun Jul 15 08:30 2012", "30 08 ? Jul Sun", true),
    ("Sun Jul 15 08:30 2012", "30 08 15 Jul ?", true),
    ("Mon Jul 16 08:30 2012", "30 08 ? Jul Sun", false),
    ("Mon Jul 16 08:30 2012", "30 08 15 Jul ?", false),

    // Predefined schedules
    ("Mon Jul 9 15:00 2012", "@hourly", true),
    ("Mon Jul 9 15:04 2012", "@hourly", false),
    ("Mon Jul 9 15:00 2012", "@daily", false),
    ("Mon Jul 9 00:00 2012", "@daily", true),
    ("Mon Jul 9 00:00 2012", "@weekly", false),
    ("Sun Jul 8 00:00 2012", "@weekly", true),
    ("Sun Jul 8 01:00 2012", "@weekly", false),
    ("Sun Jul 8 00:00 2012", "@monthly", false),
    ("Sun Jul 1 00:00 2012", "@monthly", true),

    // Test interaction of DOW and DOM.
    // If both are restricted, then only one needs to match.
    ("Sun Jul 15 00:00 2012", "* * 1,15 * Sun", true),
    ("Fri Jun 15 00:00 2012", "* * 1,15 * Sun", true),
    ("Wed Aug 1 00:00 2012", "* * 1,15 * Sun", true),
    ("Sun Jul 15 00:00 2012", "* * */10 * Sun", true), // verifies #70

    // However, if one has a star, then both need to match.
    ("Sun Jul 15 00:00 2012", "* * * * Mon", false),
    ("Mon Jul 9 00:00 2012", "* * 1,15 * *", false),
    ("Sun Jul 15 00:00 2012", "* * 1,15 * *", true),
    ("Sun Jul 15 00:00 2012", "* * */2 * Sun", true),
];

/// robfig/cron v3 `spec_test.go`, `TestNextWithTz`: (time, spec, expected).
#[rustfmt::skip]
const TEST_NEXT_WITH_TZ: &[(&str, &str, &str)] = &[
    // Failing tests
    ("2016-01-03T13:09:03+0530", "14 14 * * *", "2016-01-03T14:14:00+0530"),
    ("2016-01-03T04:09:03+0530", "14 14 * * ?", "2016-01-03T14:14:00+0530"),

    // Passing tests
    ("2016-01-03T14:09:03+0530", "14 14 * * *", "2016-01-03T14:14:00+0530"),
    ("2016-01-03T14:00:00+0530", "14 14 * * ?", "2016-01-03T14:14:00+0530"),
];

// ----------------------------------------------------------------------------------------------
// robfig's test helpers, in Rust.

/// Splits a leading `TZ=<zone>` / `CRON_TZ=<zone>` off `s`.
fn zone_prefix(s: &str) -> (Option<Tz>, &str) {
    for p in ["TZ=", "CRON_TZ="] {
        if let Some(rest) = s.strip_prefix(p) {
            let (name, rest) = rest.split_once(' ').expect("a zone, then the rest");
            let tz: Tz = name.parse().unwrap_or_else(|e| panic!("zone {name}: {e}"));
            return (Some(tz), rest.trim_start());
        }
    }
    (None, s)
}

/// robfig's `getTime`: an optional `TZ=<zone>` prefix, then `Mon Jan 2 15:04 2006`,
/// `Mon Jan 2 15:04:05 2006` (wall-clock in that zone, else `time.Local`, read as `local`), or
/// `2006-01-02T15:04:05-0700` (an instant). Returns the instant and the time's own zone, if any.
fn get_time(value: &str, local: Tz) -> (DateTime<Utc>, Option<Tz>) {
    let (zone, value) = zone_prefix(value);
    let loc = zone.unwrap_or(local);
    // Go checks the weekday name's syntax but otherwise ignores it (robfig's table has one wrong
    // name: "Tue Aug 1 00:00 2012" is a Wednesday), so it is dropped before chrono, which checks.
    let without_weekday = match value.split_once(' ') {
        Some((day, rest)) if ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].contains(&day) => rest,
        _ => value,
    };
    for layout in ["%b %d %H:%M %Y", "%b %d %H:%M:%S %Y"] {
        if let Ok(wall) = NaiveDateTime::parse_from_str(without_weekday, layout) {
            let t = loc.from_local_datetime(&wall).single().unwrap_or_else(|| panic!("{value} is not a single instant in {loc}"));
            return (t.with_timezone(&Utc), zone);
        }
    }
    let t = DateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%z").unwrap_or_else(|e| panic!("could not parse time value {value}: {e}"));
    (t.with_timezone(&Utc), zone)
}

/// A robfig spec as flinkops input: the zone and a 5-field (or `@`-shortcut) cron, or why the
/// spec has no 5-field form.
fn five_field(spec: &str, with_seconds: bool) -> Result<(Option<Tz>, String), String> {
    let (zone, body) = zone_prefix(spec);
    if body.starts_with("@every") {
        return Err(format!("`{spec}`: @every is an interval, not a cron"));
    }
    if !with_seconds || body.starts_with('@') {
        return Ok((zone, body.to_string()));
    }
    let fields: Vec<&str> = body.split_whitespace().collect();
    assert_eq!(fields.len(), 6, "`{spec}` is not a 6-field spec");
    if fields[0] != "0" {
        return Err(format!("`{spec}`: seconds field `{}` is not 0", fields[0]));
    }
    Ok((zone, fields[1..].join(" ")))
}

/// robfig's `Next(t)`: the first firing strictly after `t`.
fn robfig_next(cron: &Cron, zone: Tz, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let from = t.with_nanosecond(0).unwrap() + Duration::seconds(1);
    next_firings(cron, zone, from, 1).first().map(|f| {
        assert_eq!(f.local, f.utc.with_timezone(&zone).naive_local(), "local time of {f:?}");
        f.utc
    })
}

fn fmt(t: Option<DateTime<Utc>>, zone: Tz) -> String {
    t.map_or("none".into(), |t| t.with_timezone(&zone).format("%Y-%m-%dT%H:%M:%S%z (%Z)").to_string())
}

/// Runs a (time, spec, expected) table; returns (used, skipped) and panics listing every failure.
fn run_next_table(table: &[(&str, &str, &str)], with_seconds: bool, local: Tz) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    let mut used = 0;
    for &(time, spec, expected) in table {
        let (cron_zone, text) = match five_field(spec, with_seconds) {
            Ok(x) => x,
            Err(why) => {
                skipped.push(why);
                continue;
            }
        };
        used += 1;
        let (t, time_zone) = get_time(time, local);
        let zone = cron_zone.or(time_zone).unwrap_or(local);
        let case = format!("{time:?}, {spec:?} → `{text}` in {zone}");
        // The shared oracle's minute walk agrees with robfig's table too (this checks the oracle
        // the other schedule tests rely on against robfig's own expectations).
        let oracle = OracleCron::parse(&text).next_after(zone, t, t + Duration::days(5 * 366));
        let robfig = (!expected.is_empty()).then(|| get_time(expected, zone).0);
        if oracle != robfig {
            failures.push(format!("{case}: the oracle gives {}, robfig {}", fmt(oracle, zone), fmt(robfig, zone)));
        }
        if expected.is_empty() {
            // robfig: no activation (zero time). flinkops refuses the expression up front.
            match Cron::parse(&text) {
                Err(CronError::NeverFires { .. }) => {}
                other => failures.push(format!("{case}: expected a NeverFires rejection, got {other:?}")),
            }
            continue;
        }
        let cron = match Cron::parse(&text) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{case}: rejected: {e}"));
                continue;
            }
        };
        let (want, _) = get_time(expected, zone);
        let got = robfig_next(&cron, zone, t);
        if got != Some(want) {
            failures.push(format!("{case}: expected {expected} = {}, got {}", fmt(Some(want), zone), fmt(got, zone)));
        }
    }
    assert!(failures.is_empty(), "{} of {used} cases fail:\n{}", failures.len(), failures.join("\n"));
    (used, skipped)
}

// ----------------------------------------------------------------------------------------------

#[test]
fn robfig_test_next() {
    let (used, skipped) = run_next_table(TEST_NEXT, true, chrono_tz::UTC);
    assert_eq!((used, skipped.len()), (52, 6), "skipped: {skipped:#?}");
    assert!(skipped.iter().all(|s| s.contains("seconds field `15/35`")), "{skipped:#?}");
}

#[test]
fn robfig_test_next_dst_cases_are_all_used() {
    // Every TZ case of TestNext (New York's spring gap and autumn overlap, São Paulo's missing
    // midnight) has seconds 0, so none is lost in the conversion.
    let tz_cases: Vec<_> = TEST_NEXT.iter().filter(|(t, s, _)| t.contains("TZ=") || s.contains("TZ=")).collect();
    assert_eq!(tz_cases.len(), 37);
    assert!(tz_cases.iter().all(|(_, s, _)| five_field(s, true).is_ok()));
    assert_eq!(tz_cases.iter().filter(|(t, s, _)| t.contains("New_York") || s.contains("New_York")).count(), 35);
}

#[test]
fn robfig_test_next_with_tz() {
    let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
    let (used, skipped) = run_next_table(TEST_NEXT_WITH_TZ, false, kolkata);
    assert_eq!((used, skipped.len()), (4, 0));
}

#[test]
fn robfig_test_activation() {
    let mut failures = Vec::new();
    for &(time, spec, expected) in TEST_ACTIVATION {
        let (_, text) = five_field(spec, false).unwrap();
        let cron = Cron::parse(&text).unwrap_or_else(|e| panic!("{spec}: {e}"));
        let (t, _) = get_time(time, chrono_tz::UTC);
        let next = robfig_next(&cron, chrono_tz::UTC, t - Duration::seconds(1));
        if (next == Some(t)) != expected {
            failures.push(format!("{time:?}, {spec:?}: expected {expected}, next is {}", fmt(next, chrono_tz::UTC)));
        }
        if OracleCron::parse(&text).fires_at(chrono_tz::UTC, t) != expected {
            failures.push(format!("{time:?}, {spec:?}: the oracle disagrees (expected {expected})"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The adaptation of robfig's "strictly after" to flinkops' "at or after", shown on robfig's
/// autumn-overlap hourly case: from 01:00 EDT itself, flinkops lists 01:00 EDT, and robfig's
/// `Next` (which starts a second later) gives 01:00 EST.
#[test]
fn next_firings_is_inclusive_robfig_next_is_exclusive() {
    let ny: Tz = "America/New_York".parse().unwrap();
    let cron = Cron::parse("0 * * * ?").unwrap();
    let (t, _) = get_time("2012-11-04T01:00:00-0400", ny);
    assert_eq!(next_firings(&cron, ny, t, 1)[0].utc, t);
    let (est, _) = get_time("2012-11-04T01:00:00-0500", ny);
    assert_eq!(robfig_next(&cron, ny, t), Some(est));
}

/// robfig's DST cases chained: listing several firings at once gives the same sequence as
/// calling `Next` repeatedly (the spring gap skipped, the autumn overlap fired twice).
#[test]
fn robfig_dst_sequences() {
    let ny: Tz = "America/New_York".parse().unwrap();
    let seq = |spec: &str, from: &str, n: usize| -> Vec<String> {
        let (t, _) = get_time(from, ny);
        let cron = Cron::parse(spec).unwrap();
        next_firings(&cron, ny, t + Duration::seconds(1), n)
            .iter()
            .map(|f| f.utc.with_timezone(&ny).format("%Y-%m-%dT%H:%M:%S%z").to_string())
            .collect()
    };
    assert_eq!(
        seq("0 * * * ?", "2012-03-11T00:00:00-0500", 4),
        ["2012-03-11T01:00:00-0500", "2012-03-11T03:00:00-0400", "2012-03-11T04:00:00-0400", "2012-03-11T05:00:00-0400"]
    );
    assert_eq!(
        seq("0 * * * ?", "2012-11-04T00:00:00-0400", 3),
        ["2012-11-04T01:00:00-0400", "2012-11-04T01:00:00-0500", "2012-11-04T02:00:00-0500"]
    );
    assert_eq!(
        seq("0 1 * * ?", "2012-11-04T00:00:00-0400", 3),
        ["2012-11-04T01:00:00-0400", "2012-11-04T01:00:00-0500", "2012-11-05T01:00:00-0500"]
    );
    assert_eq!(seq("0 2 * * ?", "2012-03-11T00:00:00-0500", 1), ["2012-03-12T02:00:00-0400"]);
}
