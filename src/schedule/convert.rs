//! Validate phase, schedule lowering: local cron in, the schedules of its CronJobs out.
//!
//! Runs in validate because an inexpressible `utc` schedule is an input error (render cannot
//! fail); render then only prints the resulting crons. In: a parsed [`Cron`] written in a zone's
//! wall-clock time, the zone (`chrono_tz::Tz`) and `schedule.valid_from`. Out: for the `utc`
//! strategy, the plain 5-field UTC crons that fire at exactly the entry's instants from
//! `valid_from` 00:00 UTC to 2100-01-01 00:00 UTC — or a [`ConvertError`] naming the first
//! instant no such set can produce; for `guarded`, a small set of UTC crons firing at a superset
//! of those instants. [`ConversionCache`] memoises `utc`.
//!
//! How `utc` works (SPEC §6.3, "When an exact set exists"): a UTC cron with fixed (hour, minute)
//! fires on the dates {month ∈ M and (dom ∈ C or dow ∈ B)}. So the firing instants are grouped
//! by UTC (hour, minute); for each group and month, the largest C and B that contain no
//! non-firing date of that month anywhere in the horizon must cover every firing date. Firings
//! are never enumerated minute by minute: within one offset period a local minute-of-day maps to
//! one UTC minute-of-day and a fixed day shift, so each group's firing days are the local
//! matching days shifted, copied 64 days at a time; groups with identical firing days are
//! analysed once.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;

use super::cron::{ALL_DOMS, ALL_DOWS, ALL_MONTHS, Cron};
use super::zone::{Horizon, MINUTES_PER_DAY, OffsetPeriod, date_of_epoch_day, offset_periods, utc_of_minute};

/// Why a schedule has no exact `utc` form, or could not be converted at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// No set of plain UTC crons fires at exactly the schedule's instants. `instant` is the
    /// earliest firing that no such set can include without also including `same_weekday` or
    /// `same_day_of_month`, at which the schedule does not fire: a UTC cron containing `instant`
    /// must contain its UTC time and month, and then its weekday or its day of month.
    #[error(
        "no set of UTC cron expressions fires at exactly this schedule's instants: it fires at {}, and any UTC cron that does also fires at {}, the same UTC weekday, or at {}, the same UTC day of month, when the schedule does not",
        at(.zone, .instant), at(.zone, .same_weekday), at(.zone, .same_day_of_month)
    )]
    Inexpressible {
        /// The zone the schedule is written in.
        zone: Tz,
        /// The first firing instant that cannot be expressed.
        instant: DateTime<Utc>,
        /// A non-firing instant with the same UTC hour, minute, month and weekday.
        same_weekday: DateTime<Utc>,
        /// A non-firing instant with the same UTC hour, minute, month and day of month.
        same_day_of_month: DateTime<Utc>,
    },
    /// The schedule does not fire at all between `valid_from` and 2100 (e.g. 29 February with a
    /// `valid_from` after 2096).
    #[error("the schedule never fires in {zone} between {valid_from} and 2100-01-01")]
    NoFirings {
        /// The zone.
        zone: Tz,
        /// Start of the horizon.
        valid_from: NaiveDate,
    },
    /// `valid_from` outside [1990-01-01, 2100-01-01).
    #[error("schedule.valid_from {valid_from} must lie between 1990-01-01 and 2099-12-31")]
    BadHorizon {
        /// The date given.
        valid_from: NaiveDate,
    },
    /// The zone's offset (or a change of it) is not a whole number of minutes in the horizon,
    /// which minute-resolution cron cannot follow (only historical local mean time does this).
    #[error("{zone} is {offset_seconds} s from UTC at {at}, not a whole number of minutes")]
    FractionalOffset {
        /// The zone.
        zone: Tz,
        /// When.
        at: DateTime<Utc>,
        /// The offset in seconds.
        offset_seconds: i32,
    },
}

impl ConvertError {
    /// The first instant that cannot be expressed, for [`ConvertError::Inexpressible`].
    pub fn instant(&self) -> Option<DateTime<Utc>> {
        match self {
            ConvertError::Inexpressible { instant, .. } => Some(*instant),
            _ => None,
        }
    }
}

/// `2026-03-02 14:00 UTC (local Mon 2026-03-02 09:00 EST)`.
fn at(zone: &Tz, t: &DateTime<Utc>) -> String {
    let local = t.with_timezone(zone);
    format!("{} UTC (local {} {})", t.format("%Y-%m-%d %H:%M"), local.format("%a %Y-%m-%d %H:%M"), local.offset())
}

/// Converts a local-time schedule to plain UTC crons for the `utc` strategy.
///
/// The result fires, read in UTC, at exactly the instants at which `cron` read in `zone` fires
/// (gap times never, overlap times twice), for every instant from `valid_from` 00:00 UTC up to
/// 2100-01-01 00:00 UTC, using the tz database compiled into the binary. The expressions are
/// pairwise disjoint and ordered by their first firing in the horizon. Fails with
/// [`ConvertError::Inexpressible`] when no exact set exists.
pub fn to_utc(cron: &Cron, zone: Tz, valid_from: NaiveDate) -> Result<Vec<Cron>, ConvertError> {
    let h = Horizon::new(valid_from)?;
    let periods = offset_periods(zone, &h)?;
    convert(cron, zone, valid_from, &h, &periods)
}

/// UTC crons that fire at every instant of the schedule and possibly more, for the `guarded`
/// strategy (whose guard drops the extra firings): the local cron shifted by every UTC offset the
/// zone uses within the horizon. When a shift crosses midnight, day-of-week rotates exactly while
/// day-of-month and month widen to cover month ends.
pub fn guarded_superset(cron: &Cron, zone: Tz, valid_from: NaiveDate) -> Result<Vec<Cron>, ConvertError> {
    let h = Horizon::new(valid_from)?;
    let periods = offset_periods(zone, &h)?;
    Ok(superset(cron, &periods))
}

/// Memoises [`to_utc`] by (cron, zone, valid_from) — monorepos convert the same preset in the same
/// zone for many pipelines — and the zone's offset periods by (zone, valid_from). The key holds
/// the parsed [`Cron`], which is equal exactly when the canonical strings are. Safe to share
/// between threads; the caller owns it.
#[derive(Debug, Default)]
pub struct ConversionCache {
    conversions: Mutex<HashMap<(Cron, Tz, NaiveDate), Conversion>>,
    periods: Mutex<HashMap<(Tz, NaiveDate), Periods>>,
}

type Conversion = Result<Vec<Cron>, ConvertError>;
type Periods = Result<Arc<Vec<OffsetPeriod>>, ConvertError>;

impl ConversionCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// [`to_utc`], computed once per (cron, zone, valid_from).
    pub fn to_utc(&self, cron: &Cron, zone: Tz, valid_from: NaiveDate) -> Result<Vec<Cron>, ConvertError> {
        let key = (*cron, zone, valid_from);
        if let Some(hit) = self.conversions.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return hit.clone();
        }
        // Computed without holding the lock, so parallel callers do not serialise; a race only
        // computes the same value twice.
        let result = self.periods(zone, valid_from).and_then(|(h, periods)| convert(cron, zone, valid_from, &h, &periods));
        self.conversions.lock().unwrap_or_else(PoisonError::into_inner).insert(key, result.clone());
        result
    }

    /// [`guarded_superset`], sharing the cached offset periods.
    pub fn guarded_superset(&self, cron: &Cron, zone: Tz, valid_from: NaiveDate) -> Result<Vec<Cron>, ConvertError> {
        let (_, periods) = self.periods(zone, valid_from)?;
        Ok(superset(cron, &periods))
    }

    /// [`crate::schedule::offset_table`], from the cached offset periods (a guarded schedule per
    /// pipeline would otherwise re-sample the zone for every entry).
    pub fn offset_table(&self, zone: Tz, valid_from: NaiveDate) -> Result<Vec<super::zone::OffsetChange>, ConvertError> {
        let (_, periods) = self.periods(zone, valid_from)?;
        Ok(periods.iter().map(|p| super::zone::OffsetChange { at_epoch_minute: p.start, offset_minutes: p.offset as i32 }).collect())
    }

    /// Number of cached conversions.
    pub fn len(&self) -> usize {
        self.conversions.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether no conversion is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn periods(&self, zone: Tz, valid_from: NaiveDate) -> Result<(Horizon, Arc<Vec<OffsetPeriod>>), ConvertError> {
        let h = Horizon::new(valid_from)?;
        let mut map = self.periods.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = map.entry((zone, valid_from)).or_insert_with(|| offset_periods(zone, &h).map(Arc::new));
        entry.clone().map(|p| (h, p))
    }
}

// ---------------------------------------------------------------------------------------------
// Day bit sets.

/// Calendar facts of every day the conversion touches, indexed from `base` (an epoch day).
struct Days {
    base: i64,
    month: Vec<u8>,
    dom: Vec<u8>,
    dow: Vec<u8>,
}

impl Days {
    /// Covers the horizon's UTC days plus two days either side, where local dates can fall.
    fn new(h: &Horizon) -> Days {
        let base = h.start_day - 2;
        let len = (h.end_day + 2 - base) as usize;
        let mut days = Days { base, month: Vec::with_capacity(len), dom: Vec::with_capacity(len), dow: Vec::with_capacity(len) };
        let mut date = date_of_epoch_day(base);
        for _ in 0..len {
            days.month.push(date.month() as u8);
            days.dom.push(date.day() as u8);
            days.dow.push(date.weekday().num_days_from_sunday() as u8);
            date = date.succ_opt().expect("date in range");
        }
        days
    }

    fn len(&self) -> usize {
        self.month.len()
    }
}

fn words(bits: usize) -> usize {
    bits.div_ceil(64)
}

fn test_bit(set: &[u64], i: usize) -> bool {
    set[i / 64] & (1 << (i % 64)) != 0
}

/// 64 bits of `src` starting at bit `pos` (bits outside `src` read as 0).
fn extract(src: &[u64], pos: i64) -> u64 {
    let get = |i: i64| {
        if i >= 0 && (i as usize) < src.len() { src[i as usize] } else { 0 }
    };
    let (w, b) = (pos.div_euclid(64), pos.rem_euclid(64));
    if b == 0 { get(w) } else { (get(w) >> b) | (get(w + 1) << (64 - b)) }
}

/// For every set bit `i` of `src` in `lo..=hi`, sets bit `i + shift` of `dst`.
fn or_shifted(dst: &mut [u64], src: &[u64], lo: usize, hi: usize, shift: i64) {
    let dlo = (lo as i64 + shift) as usize;
    let dhi = (hi as i64 + shift) as usize;
    for (w, word) in dst.iter_mut().enumerate().take(dhi / 64 + 1).skip(dlo / 64) {
        let from_bit = if w == dlo / 64 { dlo % 64 } else { 0 };
        let to_bit = if w == dhi / 64 { dhi % 64 } else { 63 };
        let m = (u64::MAX << from_bit) & (u64::MAX >> (63 - to_bit));
        *word |= extract(src, (w * 64) as i64 - shift) & m;
    }
}

/// The local (hour, minute) values of a cron as minutes of the day, ascending.
fn minutes_of_day(cron: &Cron) -> Vec<i64> {
    let mut out = Vec::new();
    for h in 0..24i64 {
        if cron.hour_bits() & (1 << h) != 0 {
            for m in 0..60i64 {
                if cron.minute_bits() & (1 << m) != 0 {
                    out.push(h * 60 + m);
                }
            }
        }
    }
    out
}

/// For each UTC minute-of-day, the set of UTC days (bit `day - days.base`) on which the schedule
/// fires at that minute.
fn firing_days(cron: &Cron, days: &Days, periods: &[OffsetPeriod]) -> Vec<Option<Vec<u64>>> {
    let n = days.len();
    let mut local = vec![0u64; words(n)];
    for i in 0..n {
        if cron.matches_date(u32::from(days.dom[i]), u32::from(days.month[i]), u32::from(days.dow[i])) {
            local[i / 64] |= 1 << (i % 64);
        }
    }
    let xs = minutes_of_day(cron);
    let mut groups: Vec<Option<Vec<u64>>> = vec![None; MINUTES_PER_DAY as usize];
    for p in periods {
        for &x in &xs {
            // Local day d fires at local minute x at UTC minute d*1440 + x - offset; keep the d
            // whose instant lies in this period (so gap times fall in no period, overlap times
            // in two).
            let lo =
                (p.start - x + p.offset).div_euclid(MINUTES_PER_DAY) + i64::from((p.start - x + p.offset).rem_euclid(MINUTES_PER_DAY) != 0);
            let hi_excl =
                (p.end - x + p.offset).div_euclid(MINUTES_PER_DAY) + i64::from((p.end - x + p.offset).rem_euclid(MINUTES_PER_DAY) != 0);
            if lo >= hi_excl {
                continue;
            }
            let u = x - p.offset;
            let g = u.rem_euclid(MINUTES_PER_DAY) as usize;
            let shift = u.div_euclid(MINUTES_PER_DAY);
            let set = groups[g].get_or_insert_with(|| vec![0u64; words(n)]);
            or_shifted(set, &local, (lo - days.base) as usize, (hi_excl - 1 - days.base) as usize, shift);
        }
    }
    groups
}

// ---------------------------------------------------------------------------------------------
// Exactness analysis.

/// The dates of one month on which a UTC (hour, minute) group fires, as a cron can say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Spec {
    /// Every day.
    Every,
    /// Days of week (day-of-month unrestricted).
    Dow(u8),
    /// Days of month (day-of-week unrestricted).
    Dom(u32),
    /// Day of month in the first set or day of week in the second (both restricted: OR).
    Mixed(u32, u8),
}

/// A firing date no exact cron can include: its month, day of month and weekday.
#[derive(Debug, Clone, Copy)]
struct Uncovered {
    day: usize,
    month: u8,
    dom: u8,
    dow: u8,
}

/// Per-month patterns of one firing-day set (index 1-12), or its earliest uncovered date.
fn analyze(set: &[u64], days: &Days, h: &Horizon) -> Result<[Option<Spec>; 13], Uncovered> {
    let first = (h.start_day - days.base) as usize;
    let last = (h.end_day - days.base) as usize;
    let mut present_c = [0u32; 13];
    let mut present_w = [0u8; 13];
    let mut blocked_c = [0u32; 13];
    let mut blocked_w = [0u8; 13];
    // fired[m][dom] = weekdays on which (m, dom) fired.
    let mut fired = [[0u8; 32]; 13];
    for i in first..last {
        let (m, c, w) = (days.month[i] as usize, days.dom[i], days.dow[i]);
        present_c[m] |= 1 << c;
        present_w[m] |= 1 << w;
        if test_bit(set, i) {
            fired[m][c as usize] |= 1 << w;
        } else {
            blocked_c[m] |= 1 << c;
            blocked_w[m] |= 1 << w;
        }
    }
    let mut patterns = [None; 13];
    let mut uncovered = [[0u8; 32]; 13];
    let mut any_uncovered = false;
    for m in 1..=12 {
        let fired_w = fired[m].iter().fold(0u8, |a, &w| a | w);
        if fired_w == 0 {
            continue;
        }
        if blocked_c[m] == 0 {
            patterns[m] = Some(Spec::Every);
            continue;
        }
        let cmax = present_c[m] & !blocked_c[m];
        let bmax = present_w[m] & !blocked_w[m];
        let mut fired_c = 0u32;
        let mut residual_c = 0u32;
        for c in 1..=31 {
            let ws = fired[m][c];
            if ws == 0 {
                continue;
            }
            fired_c |= 1 << c;
            if ws & !bmax != 0 {
                residual_c |= 1 << c;
                if cmax & (1 << c) == 0 {
                    uncovered[m][c] = ws & !bmax;
                    any_uncovered = true;
                }
            }
        }
        patterns[m] = Some(if fired_w & !bmax == 0 {
            Spec::Dow(fired_w)
        } else if fired_c & !cmax == 0 {
            Spec::Dom(fired_c)
        } else {
            Spec::Mixed(residual_c, fired_w & bmax)
        });
    }
    if !any_uncovered {
        return Ok(patterns);
    }
    for i in first..last {
        let (m, c, w) = (days.month[i], days.dom[i], days.dow[i]);
        if test_bit(set, i) && uncovered[m as usize][c as usize] & (1 << w) != 0 {
            return Err(Uncovered { day: i, month: m, dom: c, dow: w });
        }
    }
    unreachable!("an uncovered combination comes from a firing day")
}

/// Earliest non-firing day (index) in the horizon with the same month and `pick` value.
fn witness(set: &[u64], days: &Days, h: &Horizon, month: u8, pick: impl Fn(usize) -> bool) -> usize {
    let first = (h.start_day - days.base) as usize;
    let last = (h.end_day - days.base) as usize;
    (first..last).find(|&i| days.month[i] == month && pick(i) && !test_bit(set, i)).expect("an uncovered date has a blocking date")
}

// ---------------------------------------------------------------------------------------------
// Building expressions.

/// Months (bit 1-12) and the date pattern shared by a set of UTC minutes-of-day.
type Item = (u16, Spec);

/// Atom-major: each weekday / day of month gets the months it fires in; atoms with equal months
/// share an expression. Turns Bogota's `0 21 30 * *` into `0 2 31 1,3,5,7,8,10,12 *` and
/// `0 2 1 5,7,10,12 *`.
fn items_by_atom(patterns: &[Option<Spec>; 13]) -> Vec<Item> {
    let mut out = Vec::new();
    let mut every = 0u16;
    let mut dow_months = [0u16; 7];
    let mut dom_months = [0u16; 32];
    let mut mixed: BTreeMap<(u32, u8), u16> = BTreeMap::new();
    for (m, p) in patterns.iter().enumerate() {
        let bit = 1u16 << m;
        match p {
            None => {}
            Some(Spec::Every) => every |= bit,
            Some(Spec::Dow(b)) => (0..7).filter(|w| b & (1 << w) != 0).for_each(|w| dow_months[w] |= bit),
            Some(Spec::Dom(c)) => (1..32).filter(|d| c & (1 << d) != 0).for_each(|d| dom_months[d] |= bit),
            Some(Spec::Mixed(c, b)) => *mixed.entry((*c, *b)).or_default() |= bit,
        }
    }
    if every != 0 {
        out.push((every, Spec::Every));
    }
    let mut by_months: BTreeMap<u16, u8> = BTreeMap::new();
    for (w, &months) in dow_months.iter().enumerate() {
        if months != 0 {
            *by_months.entry(months).or_default() |= 1 << w;
        }
    }
    out.extend(by_months.into_iter().map(|(months, b)| (months, Spec::Dow(b))));
    let mut by_months: BTreeMap<u16, u32> = BTreeMap::new();
    for (d, &months) in dom_months.iter().enumerate() {
        if months != 0 {
            *by_months.entry(months).or_default() |= 1 << d;
        }
    }
    out.extend(by_months.into_iter().map(|(months, c)| (months, Spec::Dom(c))));
    out.extend(mixed.into_iter().map(|((c, b), months)| (months, Spec::Mixed(c, b))));
    out
}

/// Month-major: months with the same pattern share an expression.
fn items_by_month(patterns: &[Option<Spec>; 13]) -> Vec<Item> {
    let mut by_spec: BTreeMap<Spec, u16> = BTreeMap::new();
    for (m, p) in patterns.iter().enumerate() {
        if let Some(spec) = p {
            *by_spec.entry(*spec).or_default() |= 1 << m;
        }
    }
    by_spec.into_iter().map(|(spec, months)| (months, spec)).collect()
}

/// Splits a set of minutes-of-day into (minutes, hours) rectangles: hours sharing a minute set,
/// or minutes sharing an hour set, whichever needs fewer.
fn rectangles(gs: &[usize]) -> Vec<(u64, u32)> {
    let mut per_hour = [0u64; 24];
    let mut per_minute = [0u32; 60];
    for &g in gs {
        per_hour[g / 60] |= 1 << (g % 60);
        per_minute[g % 60] |= 1 << (g / 60);
    }
    let mut by_minutes: BTreeMap<u64, u32> = BTreeMap::new();
    for (h, &mins) in per_hour.iter().enumerate() {
        if mins != 0 {
            *by_minutes.entry(mins).or_default() |= 1 << h;
        }
    }
    let mut by_hours: BTreeMap<u32, u64> = BTreeMap::new();
    for (m, &hours) in per_minute.iter().enumerate() {
        if hours != 0 {
            *by_hours.entry(hours).or_default() |= 1 << m;
        }
    }
    if by_hours.len() < by_minutes.len() { by_hours.into_iter().map(|(h, m)| (m, h)).collect() } else { by_minutes.into_iter().collect() }
}

fn cron_of(minutes: u64, hours: u32, months: u16, spec: Spec) -> Cron {
    let months = if months & ALL_MONTHS == ALL_MONTHS { ALL_MONTHS } else { months };
    let (doms, dows, dom_star, dow_star) = match spec {
        Spec::Every => (ALL_DOMS, ALL_DOWS, true, true),
        Spec::Dow(b) => (ALL_DOMS, b, true, false),
        Spec::Dom(c) => (c, ALL_DOWS, false, true),
        Spec::Mixed(c, b) => (c, b, false, false),
    };
    Cron::from_parts(minutes, hours, doms, months, dows, dom_star, dow_star).expect("non-empty fields")
}

/// Expressions for (classes of minutes-of-day sharing patterns), given how to itemise a class.
fn build(classes: &[(Vec<usize>, [Option<Spec>; 13])], itemise: fn(&[Option<Spec>; 13]) -> Vec<Item>) -> Vec<Cron> {
    let mut by_item: BTreeMap<Item, Vec<usize>> = BTreeMap::new();
    for (gs, patterns) in classes {
        for item in itemise(patterns) {
            by_item.entry(item).or_default().extend(gs);
        }
    }
    let mut out = Vec::new();
    for ((months, spec), mut gs) in by_item {
        gs.sort_unstable();
        for (minutes, hours) in rectangles(&gs) {
            out.push(cron_of(minutes, hours, months, spec));
        }
    }
    out
}

fn convert(cron: &Cron, zone: Tz, valid_from: NaiveDate, h: &Horizon, periods: &[OffsetPeriod]) -> Result<Vec<Cron>, ConvertError> {
    let days = Days::new(h);
    let groups = firing_days(cron, &days, periods);

    // Minutes-of-day with identical firing days are analysed once.
    let mut classes: Vec<(Vec<usize>, &Vec<u64>)> = Vec::new();
    let mut index: HashMap<&Vec<u64>, usize> = HashMap::new();
    for (g, set) in groups.iter().enumerate() {
        let Some(set) = set else { continue };
        if set.iter().all(|&w| w == 0) {
            continue;
        }
        match index.get(set) {
            Some(&i) => classes[i].0.push(g),
            None => {
                index.insert(set, classes.len());
                classes.push((vec![g], set));
            }
        }
    }
    if classes.is_empty() {
        return Err(ConvertError::NoFirings { zone, valid_from });
    }

    let mut analysed = Vec::with_capacity(classes.len());
    let mut worst: Option<(i64, Uncovered, usize, &Vec<u64>)> = None;
    for (gs, set) in &classes {
        match analyze(set, &days, h) {
            Ok(patterns) => analysed.push((gs.clone(), patterns)),
            Err(u) => {
                let instant = (days.base + u.day as i64) * MINUTES_PER_DAY + gs[0] as i64;
                if worst.as_ref().is_none_or(|(t, ..)| instant < *t) {
                    worst = Some((instant, u, gs[0], set));
                }
            }
        }
    }
    if let Some((instant, u, g, set)) = worst {
        let minute = |i: usize| utc_of_minute((days.base + i as i64) * MINUTES_PER_DAY + g as i64);
        let by_dow = witness(set, &days, h, u.month, |i| days.dow[i] == u.dow);
        let by_dom = witness(set, &days, h, u.month, |i| days.dom[i] == u.dom);
        return Err(ConvertError::Inexpressible {
            zone,
            instant: utc_of_minute(instant),
            same_weekday: minute(by_dow),
            same_day_of_month: minute(by_dom),
        });
    }

    let by_atom = build(&analysed, items_by_atom);
    let by_month = build(&analysed, items_by_month);
    let chosen = if by_month.len() < by_atom.len() { by_month } else { by_atom };
    Ok(ordered(chosen, h))
}

/// Orders expressions by their first firing in the horizon, then by text.
fn ordered(crons: Vec<Cron>, h: &Horizon) -> Vec<Cron> {
    let start = date_of_epoch_day(h.start_day).and_hms_opt(0, 0, 0).expect("midnight");
    let mut keyed: Vec<_> = crons.into_iter().map(|c| (c.next_match(start), c.to_string(), c)).collect();
    keyed.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    keyed.into_iter().map(|(_, _, c)| c).collect()
}

// ---------------------------------------------------------------------------------------------
// Guarded superset.

fn superset(cron: &Cron, periods: &[OffsetPeriod]) -> Vec<Cron> {
    let mut offsets: Vec<i64> = periods.iter().map(|p| p.offset).collect();
    offsets.sort_unstable();
    offsets.dedup();
    // Date part (doms, dom_star, months, dows, dow_star) → UTC minutes-of-day (1440 bits).
    let mut by_date: BTreeMap<(u32, bool, u16, u8, bool), Vec<usize>> = BTreeMap::new();
    for &off in &offsets {
        for x in minutes_of_day(cron) {
            let u = x - off;
            let key = shifted_date_part(cron, u.div_euclid(MINUTES_PER_DAY));
            by_date.entry(key).or_default().push(u.rem_euclid(MINUTES_PER_DAY) as usize);
        }
    }
    let mut out = Vec::new();
    for ((doms, dom_star, months, dows, dow_star), mut gs) in by_date {
        gs.sort_unstable();
        gs.dedup();
        for (minutes, hours) in rectangles(&gs) {
            out.extend(Cron::from_parts(minutes, hours, doms, months, dows, dom_star, dow_star));
        }
    }
    out.sort_by_key(|c| c.to_string());
    out.dedup();
    out
}

/// The date part of `cron` moved by `shift` (-1, 0 or 1) days, widened where a month end makes
/// the exact move inexpressible: a UTC date one day after a local date keeps the weekday shift
/// exactly, but its day of month may wrap to 1 and its month may be the next.
fn shifted_date_part(cron: &Cron, shift: i64) -> (u32, bool, u16, u8, bool) {
    let (mut doms, mut months, mut dows) = (cron.dom_bits(), cron.month_bits(), cron.dow_bits());
    let (dom_star, dow_star) = (!cron.dom_restricted(), !cron.dow_restricted());
    match shift {
        1 => {
            if !dow_star {
                dows = ((dows << 1) | (dows >> 6)) & ALL_DOWS;
            }
            if !dom_star {
                let wraps = doms & (0b1111 << 28) != 0;
                doms = ((doms << 1) & ALL_DOMS) | if wraps { 1 << 1 } else { 0 };
            }
            if months != ALL_MONTHS {
                months |= ((months << 1) & ALL_MONTHS) | if months & (1 << 12) != 0 { 1 << 1 } else { 0 };
            }
        }
        -1 => {
            if !dow_star {
                dows = ((dows >> 1) | (dows << 6)) & ALL_DOWS;
            }
            if !dom_star {
                let wraps = doms & (1 << 1) != 0;
                doms = ((doms >> 1) & ALL_DOMS) | if wraps { 0b1111 << 28 } else { 0 };
            }
            if months != ALL_MONTHS {
                months |= ((months >> 1) & ALL_MONTHS) | if months & (1 << 1) != 0 { 1 << 12 } else { 0 };
            }
        }
        _ => {}
    }
    (doms, dom_star, months, dows, dow_star)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn utc(cron: &str, zone: Tz) -> Result<Vec<String>, ConvertError> {
        let c = Cron::parse(cron).unwrap();
        to_utc(&c, zone, day(2026, 1, 1)).map(|v| v.iter().map(Cron::to_string).collect())
    }

    fn ok(cron: &str, zone: Tz) -> Vec<String> {
        utc(cron, zone).unwrap_or_else(|e| panic!("{cron} in {zone}: {e}"))
    }

    use chrono_tz::{America, Asia, Australia, Europe};

    #[test]
    fn shanghai_presets() {
        assert_eq!(ok("0 9 * * 1-5", Asia::Shanghai), ["0 1 * * 1-5"]);
        assert_eq!(ok("0 18 * * 1-5", Asia::Shanghai), ["0 10 * * 1-5"]);
        assert_eq!(ok("0 0 * * 6", Asia::Shanghai), ["0 16 * * 5"]);
        assert_eq!(ok("0 23 * * *", Asia::Shanghai), ["0 15 * * *"]);
    }

    #[test]
    fn half_and_quarter_hour_zones_shift_minutes() {
        assert_eq!(ok("0 9 * * 1-5", Asia::Kolkata), ["30 3 * * 1-5"]);
        assert_eq!(ok("0 9 * * 1-5", Asia::Kathmandu), ["15 3 * * 1-5"]);
        assert_eq!(ok("0 0 * * 6", Asia::Kolkata), ["30 18 * * 5"]);
        assert_eq!(ok("0 0 * * 6", Asia::Kathmandu), ["15 18 * * 5"]);
    }

    #[test]
    fn last_day_of_month_is_inexpressible() {
        let e = utc("0 1 1 * *", Asia::Shanghai).unwrap_err();
        let ConvertError::Inexpressible { instant, same_day_of_month, same_weekday, .. } = &e else { panic!("{e}") };
        // Local 1 March 01:00 is 28 February 17:00 UTC in 2026, but 29 February in 2028.
        assert_eq!(instant.to_rfc3339(), "2026-02-28T17:00:00+00:00");
        assert_eq!(same_day_of_month.to_rfc3339(), "2028-02-28T17:00:00+00:00");
        assert_eq!(same_weekday.to_rfc3339(), "2026-02-07T17:00:00+00:00");
        assert!(e.to_string().contains("2026-02-28 17:00 UTC (local Sun 2026-03-01 01:00 CST)"), "{e}");
    }

    #[test]
    fn bogota_day_30_splits_by_day() {
        assert_eq!(ok("0 21 30 * *", America::Bogota), ["0 2 31 1,3,5,7,8,10,12 *", "0 2 1 5,7,10,12 *"]);
    }

    #[test]
    fn new_york() {
        let e = utc("0 9 * * 1-5", America::New_York).unwrap_err();
        assert_eq!(e.instant().unwrap().to_rfc3339(), "2026-03-02T14:00:00+00:00");
        assert_eq!(ok("0 * * * *", America::New_York), ["0 * * * *"]);
        assert_eq!(ok("*/15 * * * *", America::New_York), ["*/15 * * * *"]);
        assert_eq!(ok("* * * * *", America::New_York), ["* * * * *"]);
    }

    #[test]
    fn sydney_sundays_follow_dst_months() {
        assert_eq!(ok("15 15 * * 0", Australia::Sydney), ["15 4 * 1-3,10-12 0", "15 5 * 4-9 0"]);
    }

    #[test]
    fn london_midnight_sundays_cross_month_ends() {
        // Sunday 00:00 BST is Saturday 23:00 UTC, except when that Saturday is 31 October and
        // the Sunday already falls in GMT: the pattern depends on the year.
        let e = utc("0 0 * * 0", Europe::London).unwrap_err();
        assert_eq!(e.instant().unwrap().to_rfc3339(), "2026-10-03T23:00:00+00:00");
    }

    #[test]
    fn utc_is_identity_and_shortcuts_work() {
        for c in ["0 9 * * 1-5", "*/7 */5 1,15 * *", "0 0 29 2 *", "0 0 1 * 1", "@weekly"] {
            let parsed = Cron::parse(c).unwrap();
            assert_eq!(ok(c, chrono_tz::UTC), [parsed.to_string()], "{c}");
        }
    }

    #[test]
    fn no_firings_and_bad_horizon() {
        let c = Cron::parse("0 12 29 2 *").unwrap();
        assert!(matches!(to_utc(&c, chrono_tz::UTC, day(2097, 3, 1)), Err(ConvertError::NoFirings { .. })));
        assert!(matches!(to_utc(&c, chrono_tz::UTC, day(2100, 1, 1)), Err(ConvertError::BadHorizon { .. })));
    }

    #[test]
    fn cache_returns_the_same_answer() {
        let cache = ConversionCache::new();
        let c = Cron::parse("0 9 * * 1-5").unwrap();
        let a = cache.to_utc(&c, Asia::Shanghai, day(2026, 1, 1));
        let b = cache.to_utc(&c, Asia::Shanghai, day(2026, 1, 1));
        assert_eq!(a, b);
        assert_eq!(cache.len(), 1);
        assert_eq!(a, to_utc(&c, Asia::Shanghai, day(2026, 1, 1)));
    }

    #[test]
    fn superset_covers_every_offset() {
        let c = Cron::parse("0 9 * * 1-5").unwrap();
        let s: Vec<String> = guarded_superset(&c, America::New_York, day(2026, 1, 1)).unwrap().iter().map(Cron::to_string).collect();
        assert_eq!(s, ["0 13,14 * * 1-5"]);
        let c = Cron::parse("0 1 1 * *").unwrap();
        let s: Vec<String> = guarded_superset(&c, Asia::Shanghai, day(2026, 1, 1)).unwrap().iter().map(Cron::to_string).collect();
        assert_eq!(s, ["0 17 28-31 * *"]);
    }

    #[test]
    fn bit_copy_with_shift() {
        let src = vec![u64::MAX, u64::MAX, 0b1011];
        for shift in [-1i64, 0, 1] {
            for (lo, hi) in [(1usize, 1usize), (3, 70), (60, 130), (63, 64), (1, 129)] {
                let mut dst = vec![0u64; 4];
                or_shifted(&mut dst, &src, lo, hi, shift);
                for i in 0..256usize {
                    let want =
                        i as i64 - shift >= lo as i64 && i as i64 - shift <= hi as i64 && test_bit(&src, (i as i64 - shift) as usize);
                    assert_eq!(test_bit(&dst, i), want, "shift {shift} lo {lo} hi {hi} bit {i}");
                }
            }
        }
    }
}
