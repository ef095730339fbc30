//! The schedule entry in force at an instant (SPEC §16), for `explain` and as the reference the
//! reconcile CronJob's shell script is tested against.
//!
//! In: the entries' parsed crons (in the zone's wall-clock time), the zone (the tz database
//! compiled into the binary) and an instant. Out: which entry fired last at or before the
//! instant's minute within the last 7 days, and that firing — or nothing when no entry fired in
//! that window. Firings follow §6.3's meaning of a schedule: an instant fires when its wall-clock
//! time in the zone matches the cron, so a time in a spring-forward gap does not fire that day
//! and a time in a fall-back overlap fires twice.

use chrono::{DateTime, Duration, Offset, Utc};
use chrono_tz::Tz;

use super::cron::Cron;
use super::zone::Firing;

/// The reconcile CronJob is `<pipeline>-scaling-reconcile`; no schedule entry may take the name.
pub const RECONCILE_SUFFIX: &str = "scaling-reconcile";

/// How far back the reconcile job looks for the latest firing: 7 days of minutes, the current
/// minute included (`(now − 7 days, now]`). A schedule whose only firing of the week falls in a
/// spring-forward gap, or whose week is stretched by a fall-back change (7 days and 1 hour
/// between two firings), leaves it empty for a while: then nothing is in force.
pub const RECONCILE_WINDOW_MINUTES: i64 = 7 * 1440;

/// The entry in force at an instant: its index among the crons given and the firing that set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InForce {
    /// Index of the entry in the slice passed to [`in_force`].
    pub entry: usize,
    /// Its latest firing at or before the instant's minute.
    pub firing: Firing,
}

/// The entry whose latest firing at or before `at` (truncated to the minute) is the latest of
/// all entries, among firings within the last [`RECONCILE_WINDOW_MINUTES`]; `None` when no entry
/// fired in that window. Two entries never fire at the same instant (validate rejects entries
/// that fire at the same local minute); if they did, the first listed would win.
pub fn in_force(crons: &[Cron], zone: Tz, at: DateTime<Utc>) -> Option<InForce> {
    let now = at.timestamp().div_euclid(60);
    let lo = now - (RECONCILE_WINDOW_MINUTES - 1);
    // Local dates covering the window: offsets are less than a day, so one day either side.
    let first = DateTime::from_timestamp(lo * 60, 0)?.with_timezone(&zone).date_naive().pred_opt()?;
    let last = DateTime::from_timestamp(now * 60, 0)?.with_timezone(&zone).date_naive().succ_opt()?;
    let mut best: Option<InForce> = None;
    for (i, cron) in crons.iter().enumerate() {
        let mut date = first;
        while date <= last {
            use chrono::Datelike;
            if cron.matches_date(date.day(), date.month(), date.weekday().num_days_from_sunday()) {
                for h in (0..24u32).filter(|h| cron.hour_bits() & (1 << h) != 0) {
                    for m in (0..60u32).filter(|m| cron.minute_bits() & (1u64 << m) != 0) {
                        let local = date.and_hms_opt(h, m, 0).expect("valid time");
                        for t in super::zone::instants_of(&zone, &local) {
                            let minute = t.timestamp().div_euclid(60);
                            if minute < lo || minute > now || best.is_some_and(|b| b.firing.utc.timestamp().div_euclid(60) >= minute) {
                                continue;
                            }
                            let firing = Firing { utc: t.with_timezone(&Utc), local, offset: t.offset().fix() };
                            best = Some(InForce { entry: i, firing });
                        }
                    }
                }
            }
            date += Duration::days(1);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn workday_peak() -> Vec<Cron> {
        ["0 9 * * 1-5", "0 18 * * 1-5", "0 0 * * 6"].iter().map(|c| Cron::parse(c).unwrap()).collect()
    }

    #[test]
    fn the_latest_firing_decides_and_the_firing_minute_itself_counts() {
        let sh = chrono_tz::Asia::Shanghai;
        // Mon 2026-03-09 09:00 CST = 01:00 UTC.
        let at = |s| in_force(&workday_peak(), sh, utc(s)).map(|f| (f.entry, f.firing.utc));
        assert_eq!(at("2026-03-09T00:59:59Z"), Some((2, utc("2026-03-06T16:00:00Z"))), "Saturday 00:00 until Monday 09:00");
        assert_eq!(at("2026-03-09T01:00:00Z"), Some((0, utc("2026-03-09T01:00:00Z"))));
        assert_eq!(at("2026-03-09T09:59:00Z"), Some((0, utc("2026-03-09T01:00:00Z"))));
        assert_eq!(at("2026-03-09T10:00:30Z"), Some((1, utc("2026-03-09T10:00:00Z"))));
    }

    #[test]
    fn a_firing_lost_in_a_spring_forward_gap_leaves_nothing_in_force_after_seven_days() {
        let ny = chrono_tz::America::New_York;
        let c = vec![Cron::parse("30 2 * * 0").unwrap()];
        // Sun 2026-03-01 02:30 EST = 07:30 UTC; 2026-03-08 02:30 does not exist.
        assert_eq!(in_force(&c, ny, utc("2026-03-08T12:00:00Z")), None, "that Sunday's 02:30 never came");
        assert_eq!(in_force(&c, ny, utc("2026-03-08T07:29:00Z")).unwrap().firing.utc, utc("2026-03-01T07:30:00Z"));
        assert_eq!(in_force(&c, ny, utc("2026-03-08T07:30:00Z")), None, "exactly 7 days later: outside the window");
        // Sun 2026-03-15 02:30 EDT = 06:30 UTC.
        assert_eq!(in_force(&c, ny, utc("2026-03-15T06:30:00Z")).unwrap().firing.utc, utc("2026-03-15T06:30:00Z"));
    }

    #[test]
    fn a_fall_back_change_stretches_a_once_a_week_gap_past_the_window() {
        let ny = chrono_tz::America::New_York;
        let c = vec![Cron::parse("0 9 * * 0").unwrap()];
        // Sun 2026-10-25 09:00 EDT = 13:00 UTC; Sun 2026-11-01 09:00 EST = 14:00 UTC.
        assert_eq!(in_force(&c, ny, utc("2026-11-01T12:59:59Z")).unwrap().firing.utc, utc("2026-10-25T13:00:00Z"));
        assert_eq!(in_force(&c, ny, utc("2026-11-01T13:00:00Z")), None);
        assert_eq!(in_force(&c, ny, utc("2026-11-01T13:59:59Z")), None);
        assert_eq!(in_force(&c, ny, utc("2026-11-01T14:00:00Z")).unwrap().firing.utc, utc("2026-11-01T14:00:00Z"));
    }

    #[test]
    fn a_time_in_a_fall_back_overlap_fires_twice() {
        let ny = chrono_tz::America::New_York;
        let c = vec![Cron::parse("30 1 * * 0").unwrap(), Cron::parse("45 1 * * 0").unwrap()];
        // 2026-11-01: 01:30 EDT (05:30Z), 01:45 EDT (05:45Z), 01:30 EST (06:30Z), 01:45 EST (06:45Z).
        let at = |s| in_force(&c, ny, utc(s)).map(|f| (f.entry, f.firing.utc, f.firing.offset.local_minus_utc()));
        assert_eq!(at("2026-11-01T06:00:00Z"), Some((1, utc("2026-11-01T05:45:00Z"), -4 * 3600)));
        assert_eq!(at("2026-11-01T06:30:00Z"), Some((0, utc("2026-11-01T06:30:00Z"), -5 * 3600)));
        assert_eq!(at("2026-11-01T06:50:00Z"), Some((1, utc("2026-11-01T06:45:00Z"), -5 * 3600)));
    }
}
