//! Time-zone facts for the validate phase (schedule lowering), the `guarded` guard and `explain`.
//!
//! In: an IANA zone from the tz database compiled into the binary (`chrono_tz::Tz`, never the
//! host's), a cron in that zone's wall-clock time, and a window or the `schedule.valid_from`
//! horizon. Out: the zone's UTC-offset periods and changes (the table a `guarded` CronJob embeds),
//! its DST transitions inside a window, and the next firings of a schedule in local time and UTC.

use chrono::{DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use super::convert::ConvertError;
use super::cron::{ALL_MINUTES, Cron};

pub(crate) const MINUTES_PER_DAY: i64 = 1440;

/// Offsets are sampled this far apart, then the change is located to the second by bisection.
/// No zone in the tz database changes its offset twice within two days anywhere in 1990-2099
/// (checked for every zone against hourly sampling), which is why horizons start no earlier.
const SAMPLE_SECONDS: i64 = 86_400;

/// The conversion horizon: UTC days `[start_day, end_day)` counted from 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Horizon {
    pub start_day: i64,
    pub end_day: i64,
}

/// The first day not covered by any conversion: schedules are exact up to 2100-01-01 00:00 UTC.
pub fn horizon_end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2100, 1, 1).expect("valid date")
}

pub(crate) fn epoch_day(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - 719_163
}

pub(crate) fn date_of_epoch_day(day: i64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt((day + 719_163) as i32).expect("date in range")
}

pub(crate) fn utc_of_minute(minute: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(minute * 60, 0).expect("instant in range")
}

impl Horizon {
    pub(crate) fn new(valid_from: NaiveDate) -> Result<Horizon, ConvertError> {
        let start_day = epoch_day(valid_from);
        let end_day = epoch_day(horizon_end());
        // See SAMPLE_SECONDS: offset sampling is verified from 1990 on.
        let earliest = epoch_day(NaiveDate::from_ymd_opt(1990, 1, 1).expect("valid date"));
        if start_day >= end_day || start_day < earliest {
            return Err(ConvertError::BadHorizon { valid_from });
        }
        Ok(Horizon { start_day, end_day })
    }
    pub(crate) fn start_minute(&self) -> i64 {
        self.start_day * MINUTES_PER_DAY
    }
    pub(crate) fn end_minute(&self) -> i64 {
        self.end_day * MINUTES_PER_DAY
    }
}

/// A stretch of UTC minutes `[start, end)` during which the zone's offset is `offset` minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OffsetPeriod {
    pub start: i64,
    pub end: i64,
    pub offset: i64,
}

fn offset_seconds(zone: Tz, second: i64) -> i32 {
    let t = DateTime::from_timestamp(second, 0).expect("instant in range").naive_utc();
    zone.offset_from_utc_datetime(&t).fix().local_minus_utc()
}

/// Offset changes in `[from, to)` (Unix seconds): (instant of change, offset before, offset after).
fn offset_changes(zone: Tz, from: i64, to: i64) -> Vec<(i64, i32, i32)> {
    let mut out = Vec::new();
    let mut cur = from;
    let mut off = offset_seconds(zone, cur);
    while cur < to {
        let next = (cur + SAMPLE_SECONDS).min(to);
        if next == to || offset_seconds(zone, next) == off {
            // `to` itself is not inside the window; check the last second before it instead.
            if next == to && offset_seconds(zone, to - 1) != off {
                let at = first_change(zone, cur, to - 1, off);
                let after = offset_seconds(zone, at);
                out.push((at, off, after));
                cur = at;
                off = after;
                continue;
            }
            cur = next;
            continue;
        }
        let at = first_change(zone, cur, next, off);
        let after = offset_seconds(zone, at);
        out.push((at, off, after));
        cur = at;
        off = after;
    }
    out
}

/// First second in `(lo, hi]` whose offset differs from `off`, given that `hi`'s does.
fn first_change(zone: Tz, mut lo: i64, mut hi: i64, off: i32) -> i64 {
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if offset_seconds(zone, mid) == off {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// The zone's offset periods over the horizon, in whole minutes.
pub(crate) fn offset_periods(zone: Tz, h: &Horizon) -> Result<Vec<OffsetPeriod>, ConvertError> {
    let (start, end) = (h.start_minute(), h.end_minute());
    let whole = |second: i64, offset: i32| -> Result<i64, ConvertError> {
        if second % 60 != 0 || offset % 60 != 0 {
            return Err(ConvertError::FractionalOffset {
                zone,
                at: DateTime::from_timestamp(second, 0).expect("instant in range"),
                offset_seconds: offset,
            });
        }
        Ok(i64::from(offset / 60))
    };
    let mut periods = Vec::new();
    let mut cur = start;
    let mut off = whole(start * 60, offset_seconds(zone, start * 60))?;
    for (at, _, after) in offset_changes(zone, start * 60, end * 60) {
        let after = whole(at, after)?;
        periods.push(OffsetPeriod { start: cur, end: at / 60, offset: off });
        cur = at / 60;
        off = after;
    }
    periods.push(OffsetPeriod { start: cur, end, offset: off });
    Ok(periods)
}

/// From this UTC minute on, the zone's offset is `offset_minutes` (local = UTC + offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OffsetChange {
    /// Minutes since 1970-01-01 00:00 UTC — the unit of the CronJob controller's Job names.
    pub at_epoch_minute: i64,
    /// Offset from UTC in minutes, e.g. 480 for Asia/Shanghai, -240 for EDT.
    pub offset_minutes: i32,
}

/// The zone's UTC offset over the horizon `[valid_from 00:00 UTC, 2100-01-01 00:00 UTC)`: the
/// first row is the offset in force at the start, each further row a change. This is the table a
/// `guarded` CronJob embeds so that its guard needs no time-zone database in the image.
pub fn offset_table(zone: Tz, valid_from: NaiveDate) -> Result<Vec<OffsetChange>, ConvertError> {
    let h = Horizon::new(valid_from)?;
    Ok(offset_periods(zone, &h)?.into_iter().map(|p| OffsetChange { at_epoch_minute: p.start, offset_minutes: p.offset as i32 }).collect())
}

/// A change of the zone's UTC offset (a DST transition or a change of standard time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The instant of the change.
    pub at: DateTime<Utc>,
    /// Offset in force just before it.
    pub before: FixedOffset,
    /// Offset in force from it on.
    pub after: FixedOffset,
    /// Abbreviation before, e.g. `EST` (or `+0545` where the database has none).
    pub name_before: String,
    /// Abbreviation after, e.g. `EDT`.
    pub name_after: String,
}

impl Transition {
    /// The wall-clock time the clocks leave, e.g. 02:00 on a spring-forward night.
    pub fn wall_before(&self) -> NaiveDateTime {
        self.at.naive_utc() + chrono::Duration::seconds(i64::from(self.before.local_minus_utc()))
    }
    /// The wall-clock time the clocks show right after, e.g. 03:00 on a spring-forward night.
    pub fn wall_after(&self) -> NaiveDateTime {
        self.at.naive_utc() + chrono::Duration::seconds(i64::from(self.after.local_minus_utc()))
    }
}

/// The zone's offset changes in `[from, to)`, for `explain`.
pub fn transitions(zone: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Transition> {
    if to <= from {
        return Vec::new();
    }
    let name = |second: i64| {
        let t = DateTime::from_timestamp(second, 0).expect("instant in range");
        t.with_timezone(&zone).offset().to_string()
    };
    let fixed = |s: i32| FixedOffset::east_opt(s).expect("offset in range");
    offset_changes(zone, from.timestamp(), to.timestamp())
        .into_iter()
        .map(|(at, before, after)| Transition {
            at: DateTime::from_timestamp(at, 0).expect("instant in range"),
            before: fixed(before),
            after: fixed(after),
            name_before: name(at - 1),
            name_after: name(at),
        })
        .collect()
}

/// One firing of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Firing {
    /// The instant.
    pub utc: DateTime<Utc>,
    /// The zone's wall-clock time at that instant (what the cron matched).
    pub local: NaiveDateTime,
    /// The zone's offset at that instant.
    pub offset: FixedOffset,
}

/// The first `count` instants at or after `from` at which `cron`, read in `zone`'s wall-clock
/// time, fires: times in a spring-forward gap are skipped, times in a fall-back overlap fire twice.
/// Stops early (returning fewer) if nothing fires for nine years.
pub fn next_firings(cron: &Cron, zone: Tz, from: DateTime<Utc>, count: usize) -> Vec<Firing> {
    let mut out: Vec<Firing> = Vec::new();
    if count == 0 {
        return out;
    }
    let minutes: Vec<(u32, u32)> = (0..24u32)
        .filter(|h| cron.hour_bits() & (1 << h) != 0)
        .flat_map(|h| (0..60u32).filter(|m| ALL_MINUTES & cron.minute_bits() & (1 << m) != 0).map(move |m| (h, m)))
        .collect();
    // Local dates can run a day behind UTC; start one day early and drop what precedes `from`.
    let mut date = from.with_timezone(&zone).date_naive().pred_opt().expect("date in range");
    // Instants of one local day interleave with the next day's at most (through an overlap of
    // less than a day), so once `count` are collected one more day settles the order.
    let mut settle_days = 2;
    let mut idle_days = 0;
    while idle_days < 9 * 366 {
        let mut found = false;
        if cron.matches_date(date.day(), date.month(), date.weekday().num_days_from_sunday()) {
            for &(h, m) in &minutes {
                let local = date.and_hms_opt(h, m, 0).expect("valid time");
                for t in instants_of(&zone, &local) {
                    let utc = t.with_timezone(&Utc);
                    if utc >= from {
                        out.push(Firing { utc, local, offset: t.offset().fix() });
                        found = true;
                    }
                }
            }
        }
        if out.len() >= count {
            settle_days -= 1;
            if settle_days == 0 {
                break;
            }
        }
        idle_days = if found { 0 } else { idle_days + 1 };
        date = match date.succ_opt() {
            Some(d) => d,
            None => break,
        };
    }
    out.sort_by_key(|f| f.utc);
    out.truncate(count);
    out
}

/// The instants at which a local wall-clock minute happens in `zone`: none in a spring-forward
/// gap, two in a fall-back overlap (§6.3: a firing in the overlap fires twice), else one.
pub fn instants_of<Z: TimeZone>(zone: &Z, local: &NaiveDateTime) -> impl Iterator<Item = DateTime<Z>> {
    let instants = match zone.from_local_datetime(local) {
        LocalResult::Single(t) => [Some(t), None],
        LocalResult::Ambiguous(a, b) => [Some(a), Some(b)],
        LocalResult::None => [None, None],
    };
    instants.into_iter().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn new_york_transitions_2026() {
        let t = transitions(chrono_tz::America::New_York, utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"));
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].at, utc("2026-03-08T07:00:00Z"));
        assert_eq!(t[0].wall_before().to_string(), "2026-03-08 02:00:00");
        assert_eq!(t[0].wall_after().to_string(), "2026-03-08 03:00:00");
        assert_eq!((t[0].name_before.as_str(), t[0].name_after.as_str()), ("EST", "EDT"));
        assert_eq!(t[1].at, utc("2026-11-01T06:00:00Z"));
    }

    #[test]
    fn offset_table_reaches_2099() {
        let rows = offset_table(chrono_tz::Australia::Sydney, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()).unwrap();
        assert_eq!(rows[0].offset_minutes, 660);
        assert_eq!(rows[0].at_epoch_minute, epoch_day(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()) * 1440);
        let last = rows.last().unwrap();
        assert_eq!(utc_of_minute(last.at_epoch_minute).format("%Y-%m").to_string(), "2099-10");
        assert_eq!(rows.len(), 1 + 2 * 74);
        let fixed = offset_table(chrono_tz::Asia::Shanghai, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()).unwrap();
        assert_eq!(fixed, vec![OffsetChange { at_epoch_minute: rows[0].at_epoch_minute, offset_minutes: 480 }]);
    }

    #[test]
    fn firings_skip_gaps_and_repeat_overlaps() {
        let ny = chrono_tz::America::New_York;
        let c = Cron::parse("30 2 * * *").unwrap();
        let f = next_firings(&c, ny, utc("2026-03-07T00:00:00Z"), 2);
        assert_eq!(f[0].utc, utc("2026-03-07T07:30:00Z"));
        assert_eq!(f[1].utc, utc("2026-03-09T06:30:00Z"), "02:30 does not exist on 2026-03-08");
        let c = Cron::parse("30 1 * * *").unwrap();
        let f = next_firings(&c, ny, utc("2026-11-01T00:00:00Z"), 3);
        let got: Vec<_> = f.iter().map(|f| (f.utc, f.local.to_string())).collect();
        assert_eq!(
            got,
            vec![
                (utc("2026-11-01T05:30:00Z"), "2026-11-01 01:30:00".to_string()),
                (utc("2026-11-01T06:30:00Z"), "2026-11-01 01:30:00".to_string()),
                (utc("2026-11-02T06:30:00Z"), "2026-11-02 01:30:00".to_string()),
            ]
        );
    }
}
