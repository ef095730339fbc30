//! Explain phase, time: the week of replica bounds in local time, each schedule entry's next
//! firings, the entry in force at an instant and the zone's offset changes in the window.
//!
//! In: a compiled [`Pipeline`] (its mode, bounds and schedule entries), the schedule's zone and the
//! window. Out: a [`Week`] of constant-bound [`Segment`]s, [`EntryInfo`]s, an [`InForceInfo`] and
//! [`TransitionInfo`]s. All times come from the tz database compiled into the binary and from the
//! window given, never from the clock.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::{keda_trigger, parsed, uses_schedule};
use crate::model::{Pipeline, ScalingMode, ScheduleEntry};
use crate::render;
use crate::schedule::{Cron, Firing, in_force, next_firings, transitions};

/// Minutes in a week: the x range of the week table and chart (Mon 00:00 .. Sun 24:00 local).
pub const WEEK_MINUTES: u32 = 7 * 1440;

/// One stretch of the week with constant bounds, in local wall-clock minutes from Mon 00:00.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// First minute (from Mon 00:00 local).
    pub start: u32,
    /// Minute after the last (exclusive; `WEEK_MINUTES` = Sun 24:00).
    pub end: u32,
    /// Floor (HPA/KEDA minimum; the fixed count for fixed and `scheduled` modes).
    pub min: u32,
    /// Cap (HPA/KEDA maximum; the fixed count for fixed and `scheduled` modes).
    pub max: u32,
    /// What set these bounds: a schedule entry, open KEDA windows, or the committed values.
    pub set_by: String,
}

/// The replica bounds over one week in local time.
#[derive(Debug, Clone)]
pub struct Week {
    /// Monday 00:00 (local) of the week that contains `--from`.
    pub start: NaiveDate,
    /// Consecutive segments covering `[0, WEEK_MINUTES)`.
    pub segments: Vec<Segment>,
    /// Whether min and max are one fixed count in every segment (one line in the chart).
    pub fixed: bool,
    /// The local time of the firing that set the bounds in force at the start of the week.
    pub carried_from: Option<NaiveDateTime>,
}

/// One schedule entry as emitted.
#[derive(Debug, Clone)]
pub struct EntryInfo {
    /// The entry as validated (cron as written, bounds, lowered schedules).
    pub entry: ScheduleEntry,
    /// CronJob names with their schedules (empty under KEDA).
    pub cronjobs: Vec<(String, String)>,
    /// KEDA: whether the entry becomes a cron trigger (it raises the floor).
    pub keda_trigger: bool,
    /// Next firings of the cron from the window start.
    pub firings: Vec<Firing>,
    /// KEDA: next firings of `end` (the window closing).
    pub end_firings: Vec<Firing>,
}

/// The schedule entry in force at an instant (`--at`).
#[derive(Debug, Clone)]
pub struct InForceInfo {
    /// The instant asked about.
    pub at: DateTime<Utc>,
    /// The entry and its firing that set the bounds, `None` when no entry fired in the window
    /// looked at (7 days with a reconcile job, nine years without).
    pub entry: Option<(ScheduleEntry, Firing)>,
}

/// A change of the zone's offset inside the window.
#[derive(Debug, Clone)]
pub struct TransitionInfo {
    /// The instant of the change.
    pub at: DateTime<Utc>,
    /// The wall-clock time the clocks leave (e.g. 02:00 on a spring-forward night).
    pub wall_before: NaiveDateTime,
    /// The wall-clock time the clocks show right after (e.g. 03:00).
    pub wall_after: NaiveDateTime,
    /// Zone abbreviation before and after (`EST`, `EDT`).
    pub name_before: String,
    pub name_after: String,
    /// Entries with a firing in the skipped (spring) or repeated (autumn) local hour that day.
    pub affected: Vec<String>,
}

/// The instant of a local wall-clock time: the earlier one in an overlap, the first existing
/// minute after a gap.
pub fn local_to_utc(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut t = local;
    for _ in 0..(2 * 1440) {
        match zone.from_local_datetime(&t) {
            LocalResult::Single(x) | LocalResult::Ambiguous(x, _) => return x.with_timezone(&Utc),
            LocalResult::None => t += Duration::minutes(1),
        }
    }
    Utc.from_utc_datetime(&local)
}

/// Every firing in `[from, to)`.
fn firings_between(cron: &Cron, zone: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Firing> {
    const BATCH: usize = 256;
    let mut out = vec![];
    let mut cursor = from;
    loop {
        let batch = next_firings(cron, zone, cursor, BATCH);
        for f in &batch {
            if f.utc >= to {
                return out;
            }
            out.push(*f);
        }
        match batch.last() {
            Some(last) if batch.len() == BATCH => cursor = last.utc + Duration::minutes(1),
            _ => return out,
        }
    }
}

/// The last firing strictly before `t`, looking back up to nine years.
fn last_before(cron: &Cron, zone: Tz, t: DateTime<Utc>) -> Option<Firing> {
    for days in [1, 8, 32, 400, 9 * 366] {
        if let Some(f) = firings_between(cron, zone, t - Duration::days(days), t).last() {
            return Some(*f);
        }
    }
    None
}

/// The entry in force at `at`: with a reconcile job, what it sets (the latest firing within the
/// last 7 days); without, the latest firing of any entry within nine years.
pub fn in_force_at(p: &Pipeline, zone: Tz, at: DateTime<Utc>) -> InForceInfo {
    let a = &p.autoscaling;
    let entry = if a.reconcile_offsets.is_some() {
        let crons: Option<Vec<Cron>> = a.schedule.iter().map(parsed).collect();
        crons.and_then(|c| in_force(&c, zone, at)).map(|f| (a.schedule[f.entry].clone(), f.firing))
    } else {
        // `last_before` is strict: one minute past `at`'s minute includes that minute's firing.
        let next_minute = DateTime::from_timestamp((at.timestamp().div_euclid(60) + 1) * 60, 0).unwrap_or(at);
        a.schedule
            .iter()
            .filter_map(|e| parsed(e).and_then(|c| last_before(&c, zone, next_minute)).map(|f| (e.clone(), f)))
            .max_by_key(|(_, f)| f.utc)
    };
    InForceInfo { at, entry }
}

/// A schedule event inside or before the week: an entry firing (or, under KEDA, a window
/// opening or closing).
#[derive(Debug, Clone, Copy)]
struct Event {
    firing: Firing,
    entry: usize,
    open: bool,
}

/// The bounds in force for a schedule state.
fn bounds_of(p: &Pipeline, current: Option<usize>, open: &[bool]) -> (u32, u32, String) {
    let a = &p.autoscaling;
    match a.mode {
        ScalingMode::Keda => {
            let names: Vec<&str> = a.schedule.iter().zip(open).filter(|(_, o)| **o).map(|(e, _)| e.name.as_str()).collect();
            let floor = a.schedule.iter().zip(open).filter(|(_, o)| **o).map(|(e, _)| e.min_replicas).fold(a.min_replicas, u32::max);
            let by = if names.is_empty() { "no window open (cpu trigger only)".to_string() } else { names.join(" + ") };
            (floor, a.max_replicas, by)
        }
        ScalingMode::Scheduled => match current {
            Some(i) => (a.schedule[i].replicas, a.schedule[i].replicas, a.schedule[i].name.clone()),
            None => (a.replicas, a.replicas, "committed taskManager.replicas (no entry fired yet)".into()),
        },
        _ => match current {
            Some(i) => (a.schedule[i].min_replicas, a.schedule[i].max_replicas, a.schedule[i].name.clone()),
            None => (a.min_replicas, a.max_replicas, "committed HPA bounds (no entry fired yet)".into()),
        },
    }
}

/// Walks the week's firings: the bounds in force at an instant are those of the latest entry that
/// fired before it (KEDA: the floor is the highest open window); the week starts with the state
/// left by the last firings before it.
pub fn week(p: &Pipeline, zone: Tz, from: NaiveDate) -> Week {
    let a = &p.autoscaling;
    let start = from - Duration::days(i64::from(from.weekday().num_days_from_monday()));
    let start_local = start.and_hms_opt(0, 0, 0).expect("midnight exists");
    if !uses_schedule(a.mode) || a.schedule.is_empty() {
        let (min, max, by) = match a.mode {
            ScalingMode::HpaReactive => (a.min_replicas, a.max_replicas, "HPA on cpu".to_string()),
            ScalingMode::Operator => (a.replicas, a.replicas, "starting count; the operator autoscaler changes parallelism".to_string()),
            _ => (a.replicas, a.replicas, "fixed taskManager.replicas".to_string()),
        };
        return Week {
            start,
            segments: vec![Segment { start: 0, end: WEEK_MINUTES, min, max, set_by: by }],
            fixed: min == max,
            carried_from: None,
        };
    }
    let ws = local_to_utc(zone, start_local);
    let we = local_to_utc(zone, start_local + Duration::days(7));
    let keda = a.mode == ScalingMode::Keda;
    // (cron, entry, opens) for every event source.
    let mut sources: Vec<(Cron, usize, bool)> = vec![];
    for (i, e) in a.schedule.iter().enumerate() {
        if keda && !keda_trigger(p, e) {
            continue;
        }
        if let Some(c) = parsed(e) {
            sources.push((c, i, true));
        }
        if keda && let Some(c) = e.end.as_ref().map(|c| *c.cron()) {
            sources.push((c, i, false));
        }
    }
    let order = |x: &Event, y: &Event| (x.firing.utc, x.entry, x.open).cmp(&(y.firing.utc, y.entry, y.open));
    let mut before: Vec<Event> =
        sources.iter().filter_map(|(c, i, open)| last_before(c, zone, ws).map(|firing| Event { firing, entry: *i, open: *open })).collect();
    before.sort_by(order);
    let mut current: Option<usize> = None;
    let mut open = vec![false; a.schedule.len()];
    if keda {
        // Per entry, the later of its last opening and last closing decides.
        for ev in &before {
            open[ev.entry] = ev.open;
        }
    } else {
        current = before.last().map(|ev| ev.entry);
    }
    let carried_from = if keda {
        before.iter().filter(|ev| ev.open && open[ev.entry]).map(|ev| ev.firing.local).max()
    } else {
        before.last().map(|ev| ev.firing.local)
    };
    let mut events: Vec<Event> = sources
        .iter()
        .flat_map(|(c, i, o)| firings_between(c, zone, ws, we).into_iter().map(move |firing| Event { firing, entry: *i, open: *o }))
        .collect();
    events.sort_by(order);

    let mut segments = vec![];
    let mut cur_start = 0u32;
    let mut cur = bounds_of(p, current, &open);
    for ev in events {
        let m = (ev.firing.local - start_local).num_minutes().clamp(0, i64::from(WEEK_MINUTES)) as u32;
        // A fall-back overlap can repeat an earlier wall-clock minute: keep the table monotonic.
        let m = m.max(cur_start);
        if keda {
            open[ev.entry] = ev.open;
        } else {
            current = Some(ev.entry);
        }
        let next = bounds_of(p, current, &open);
        if next != cur {
            if m > cur_start {
                segments.push(Segment { start: cur_start, end: m, min: cur.0, max: cur.1, set_by: cur.2.clone() });
                cur_start = m;
            }
            cur = next;
        }
    }
    if cur_start < WEEK_MINUTES {
        segments.push(Segment { start: cur_start, end: WEEK_MINUTES, min: cur.0, max: cur.1, set_by: cur.2 });
    }
    // Equal neighbours (e.g. a zero-length stretch that was dropped) merge.
    let mut merged: Vec<Segment> = vec![];
    for s in segments {
        match merged.last_mut() {
            Some(l) if (l.min, l.max, &l.set_by) == (s.min, s.max, &s.set_by) => l.end = s.end,
            _ => merged.push(s),
        }
    }
    let fixed = merged.iter().all(|s| s.min == s.max);
    Week { start, segments: merged, fixed, carried_from }
}

/// Every schedule entry of a mode that uses them, with its CronJobs (or KEDA trigger) and its next
/// `n` firings from `start`.
pub fn entries(p: &Pipeline, zone: Tz, start: DateTime<Utc>, n: usize) -> Vec<EntryInfo> {
    let a = &p.autoscaling;
    if !uses_schedule(a.mode) {
        return vec![];
    }
    a.schedule
        .iter()
        .map(|e| {
            let firings = parsed(e).map(|c| next_firings(&c, zone, start, n)).unwrap_or_default();
            let trigger = a.mode == ScalingMode::Keda && keda_trigger(p, e);
            let end_firings = match (&e.end, trigger) {
                (Some(end), true) => next_firings(end.cron(), zone, start, n),
                _ => vec![],
            };
            let cronjobs = render::scaler::cronjob_names(p, e).into_iter().zip(e.schedules.iter().cloned()).collect();
            EntryInfo { entry: e.clone(), cronjobs, keda_trigger: trigger, firings, end_firings }
        })
        .collect()
}

/// The zone's offset changes in `[from, to)`, each with the entries that fire in the skipped or
/// repeated local hour that day.
pub fn transitions_in(p: &Pipeline, zone: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<TransitionInfo> {
    let a = &p.autoscaling;
    transitions(zone, from, to)
        .into_iter()
        .map(|t| {
            let (lo, hi) =
                if t.wall_after() > t.wall_before() { (t.wall_before(), t.wall_after()) } else { (t.wall_after(), t.wall_before()) };
            let mut affected = vec![];
            if uses_schedule(a.mode) {
                for e in &a.schedule {
                    let mut crons: Vec<(Cron, &str)> = parsed(e).map(|c| (c, "")).into_iter().collect();
                    if a.mode == ScalingMode::Keda
                        && let Some(c) = e.end.as_ref().map(|c| *c.cron())
                    {
                        crons.push((c, " (end)"));
                    }
                    for (c, what) in crons {
                        let mut m = lo;
                        while m < hi {
                            if c.matches_naive(&m) {
                                affected.push(format!("{}{what} at {}", e.name, m.format("%H:%M")));
                                break;
                            }
                            m += Duration::minutes(1);
                        }
                    }
                }
            }
            TransitionInfo {
                at: t.at,
                wall_before: t.wall_before(),
                wall_after: t.wall_after(),
                name_before: t.name_before.clone(),
                name_after: t.name_after.clone(),
                affected,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_firing_before_finds_rare_crons() {
        let zone: Tz = "Asia/Shanghai".parse().unwrap();
        let c = Cron::parse("0 0 * * 6").unwrap();
        // Mon 2025-12-29 00:00 CST = 2025-12-28 16:00 UTC; the Saturday before is 12-27 00:00 CST.
        let t = Utc.with_ymd_and_hms(2025, 12, 28, 16, 0, 0).unwrap();
        let f = last_before(&c, zone, t).unwrap();
        assert_eq!(f.local.to_string(), "2025-12-27 00:00:00");
        let yearly = Cron::parse("0 0 1 1 *").unwrap();
        assert_eq!(last_before(&yearly, zone, t).unwrap().local.to_string(), "2025-01-01 00:00:00");
    }

    #[test]
    fn gap_minutes_map_to_the_first_existing_instant() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let t = local_to_utc(ny, NaiveDate::from_ymd_opt(2026, 3, 8).unwrap().and_hms_opt(2, 30, 0).unwrap());
        assert_eq!(t, Utc.with_ymd_and_hms(2026, 3, 8, 7, 0, 0).unwrap());
    }
}
