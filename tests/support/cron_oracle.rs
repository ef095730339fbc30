//! The cron and time-zone oracle the schedule tests share (`#[path = "support/cron_oracle.rs"]
//! mod cron_oracle;`): when does a 5-field cron fire in a zone — written plainly and
//! independently of `flinkops::schedule`, which is what the tests check against it.
//!
//! A cron is five sets of values plus robfig's "star" bit per field ([`OracleCron`]), read by a
//! deliberately plain reader or built from sets a test generated. Wall-clock time comes from
//! chrono-tz; firings are found by walking UTC minute by minute, so gaps (skipped local times)
//! and overlaps (repeated ones) fall out of the walk instead of being special-cased.
#![allow(dead_code)]

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// The fields' bounds, in order: minute, hour, day of month, month, day of week (Sunday = 0).
const BOUNDS: [(u32, u32); 5] = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)];
const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// A set of small numbers as bits.
pub fn bits(values: impl IntoIterator<Item = u32>) -> u64 {
    values.into_iter().fold(0, |a, v| a | (1u64 << v))
}

/// One field: the values it allows, and robfig's star bit (some item is `*` or `?` without a
/// step above 1), which decides how the two day fields combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OracleField {
    pub values: u64,
    pub star: bool,
}

/// A 5-field cron as plain sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OracleCron {
    pub fields: [OracleField; 5],
}

impl OracleCron {
    /// Reads `*`, `?`, numbers, lists, ranges, steps (`a/n` means `a-max/n`), 3-letter month
    /// and day names and the `@` shortcuts. Panics on anything else, or on a value out of its
    /// field's bounds: what the oracle reads is either a test's own text or the module's output,
    /// and a malformed output is a failure.
    pub fn parse(text: &str) -> OracleCron {
        let text = match text {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            _ => text,
        };
        let parts: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(parts.len(), 5, "`{text}` is not 5 fields");
        let mut fields = [OracleField { values: 0, star: false }; 5];
        for (i, part) in parts.iter().enumerate() {
            let (min, max) = BOUNDS[i];
            let names: &[&str] = match i {
                3 => &MONTHS,
                4 => &DAYS,
                _ => &[],
            };
            let number = |s: &str| -> u32 {
                let lower = s.to_ascii_lowercase();
                names
                    .iter()
                    .position(|n| *n == lower)
                    .map_or_else(|| s.parse().unwrap_or_else(|_| panic!("`{text}`: `{s}` is not a number")), |p| p as u32 + min)
            };
            for item in part.split(',') {
                let (range, step) = match item.split_once('/') {
                    Some((r, s)) => (r, s.parse::<u32>().unwrap_or_else(|_| panic!("`{text}`: bad step in `{item}`"))),
                    None => (item, 1),
                };
                let (a, b) = if range == "*" || range == "?" {
                    fields[i].star |= step == 1;
                    (min, max)
                } else if let Some((a, b)) = range.split_once('-') {
                    (number(a), number(b))
                } else {
                    let a = number(range);
                    (a, if item.contains('/') { max } else { a })
                };
                assert!(step >= 1 && min <= a && a <= b && b <= max, "`{text}` has a bad item `{item}`");
                fields[i].values |= bits((a..=b).step_by(step as usize));
            }
        }
        OracleCron { fields }
    }

    /// Whether the cron fires at a wall-clock minute: every field matches, the two day fields
    /// OR-ed when both are restricted (no star bit), AND-ed otherwise — robfig's rule.
    pub fn matches(&self, t: &NaiveDateTime) -> bool {
        let has = |i: usize, v: u32| self.fields[i].values & (1u64 << v) != 0;
        if t.second() != 0 || !has(0, t.minute()) || !has(1, t.hour()) || !has(3, t.month()) {
            return false;
        }
        self.day_matches(t.day(), t.weekday().num_days_from_sunday())
    }

    fn day_matches(&self, dom: u32, dow: u32) -> bool {
        let (d, w) = (&self.fields[2], &self.fields[4]);
        let (in_dom, in_dow) = (d.values & (1u64 << dom) != 0, w.values & (1u64 << dow) != 0);
        if d.star || w.star { in_dom && in_dow } else { in_dom || in_dow }
    }

    /// Whether the date (month and day fields) matches, whatever the time.
    fn date_matches(&self, t: &NaiveDateTime) -> bool {
        self.fields[3].values & (1u64 << t.month()) != 0 && self.day_matches(t.day(), t.weekday().num_days_from_sunday())
    }

    /// Whether the cron fires at the instant `t` in `zone`.
    pub fn fires_at(&self, zone: Tz, t: DateTime<Utc>) -> bool {
        self.matches(&local_of(zone, t))
    }

    /// The first firing strictly after `t` in `zone`, walking UTC minute by minute (skipping
    /// most of a day whose date does not match), up to `limit`.
    pub fn next_after(&self, zone: Tz, t: DateTime<Utc>, limit: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut m = DateTime::<Utc>::from_timestamp(t.timestamp().div_euclid(60) * 60 + 60, 0)?;
        while m < limit {
            let local = local_of(zone, m);
            if self.matches(&local) {
                return Some(m);
            }
            m += if self.date_matches(&local) {
                Duration::minutes(1)
            } else {
                // Towards the next local midnight, stopping 3 hours short: no offset change moves
                // a local clock forward by more than that (the walk must not jump over a day).
                let left = 1440 - i64::from(local.hour() * 60 + local.minute());
                Duration::minutes((left - 180).max(1))
            };
        }
        None
    }
}

/// Wall-clock time of an instant in a zone (chrono-tz).
pub fn local_of(zone: Tz, t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&zone).naive_local()
}

/// The instant of a Unix minute.
pub fn minute_instant(minute: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(minute * 60, 0).expect("a minute in chrono's range")
}

/// (entry index, Unix minute) of the latest minute of the 7 days up to and including
/// `now_minute` at which one of `entries` fires in `zone`; the first entry when several fire in
/// that minute.
pub fn last_firing(entries: &[OracleCron], zone: Tz, now_minute: i64) -> Option<(usize, i64)> {
    (now_minute - 7 * 1440 + 1..=now_minute).rev().find_map(|m| {
        let local = local_of(zone, minute_instant(m));
        entries.iter().position(|e| e.matches(&local)).map(|i| (i, m))
    })
}

/// Offset changes of `zone` during `year` (up to `end`), found by hourly sampling: each is the
/// first whole UTC hour at which the offset differs from the hour before.
pub fn changes_in_year(zone: Tz, year: i32, end: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let mut out = Vec::new();
    let mut t = Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).unwrap();
    let end = Utc.with_ymd_and_hms(year + 1, 1, 1, 0, 0, 0).unwrap().min(end);
    let off = |t: DateTime<Utc>| zone.offset_from_utc_datetime(&t.naive_utc()).fix();
    let mut cur = off(t);
    while t < end {
        let next = t + Duration::hours(1);
        if off(next) != cur {
            out.push(next);
            cur = off(next);
        }
        t = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oracle_reads_crons_plainly() {
        let c = OracleCron::parse("*/20 9-17 ? Jan,MAR mon-fri");
        assert_eq!(c.fields[0].values, bits([0, 20, 40]));
        assert_eq!(c.fields[1].values, bits(9..=17));
        assert!(c.fields[2].star && !c.fields[4].star);
        assert_eq!(c.fields[3].values, bits([1, 3]));
        assert_eq!(c.fields[4].values, bits(1..=5));
        assert_eq!(OracleCron::parse("5/15 * * * *").fields[0].values, bits([5, 20, 35, 50]));
        // A stepped star is no star: the day fields OR.
        assert!(!OracleCron::parse("0 0 */2 * 1").fields[2].star);
    }

    #[test]
    fn oracle_walks_through_a_gap_and_an_overlap() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let c = OracleCron::parse("30 1,2 * * *");
        // 2026-03-08 02:30 does not exist; 2026-11-01 01:30 happens twice.
        let t = Utc.with_ymd_and_hms(2026, 3, 8, 0, 0, 0).unwrap();
        let end = t + Duration::days(400);
        assert_eq!(c.next_after(ny, t, end), Some(Utc.with_ymd_and_hms(2026, 3, 8, 6, 30, 0).unwrap()));
        assert_eq!(
            c.next_after(ny, Utc.with_ymd_and_hms(2026, 3, 8, 6, 30, 0).unwrap(), end),
            Some(Utc.with_ymd_and_hms(2026, 3, 9, 5, 30, 0).unwrap())
        );
        let first = Utc.with_ymd_and_hms(2026, 11, 1, 5, 30, 0).unwrap();
        assert_eq!(c.next_after(ny, first, end), Some(Utc.with_ymd_and_hms(2026, 11, 1, 6, 30, 0).unwrap()));
    }
}
