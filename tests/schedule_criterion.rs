//! An independent oracle of SPEC §6.3 "When an exact set exists", compared with the `utc`
//! converter ([`flinkops::schedule::to_utc`]) over the **whole** horizon.
//!
//! The oracle is written from the spec alone, not from `src/schedule/convert.rs`:
//!
//! 1. Firing instants: walk the zone's local calendar day by day over the horizon
//!    `[valid_from 00:00 UTC, 2100-01-01 00:00 UTC)` (with two days of margin on each side, then
//!    filter by UTC instant). On each local date whose date part matches the cron (day-of-month /
//!    day-of-week OR rule when both are restricted, AND otherwise — evaluated by the tiny field
//!    reader below, never by `Cron::matches`), resolve every (hour, minute) of the cron with
//!    chrono-tz `from_local_datetime`: no instant in a spring-forward gap, one, or two in a
//!    fall-back overlap.
//! 2. Criterion: group the instants by UTC (hour, minute); for each group and month m take the
//!    largest C_m (days of month d such that *every* UTC date of the horizon with month m and day d
//!    fires in the group) and B_m (likewise weekdays). An exact set exists iff in every group and
//!    month each firing date has d ∈ C_m or weekday ∈ B_m. The first firing that is not covered is
//!    the instant an error must name.
//!
//! Properties checked against the converter: `to_utc(..).is_ok()` equals the oracle's verdict;
//! when Ok, the returned crons, printed canonically and read back in UTC by the same tiny reader,
//! fire at exactly the oracle's instants (each once) over the whole horizon; when refused, the
//! named instant is the oracle's first uncovered firing and both witnesses really do not fire.
//! A schedule with no firing in the horizon must be refused as `NoFirings` (the empty set is
//! trivially "expressible", but the converter reports it as an input error).
//!
//! Runs in about 8 s in debug mode on two cores; the longest test, ~5 s, is New York's
//! `*/15 * * * *` over 2026–2100 (SPEC §6.3's examples use the full horizon). Random crons get a
//! horizon whose length is capped by a budget of local-time resolutions (`CRITERION_BUDGET`,
//! default 150 000), and `valid_from` is mostly in 2090–2099. A long run, with longer horizons,
//! is best done in release mode (about 35 s after the build; 3000 cases agreed when written,
//! 1028 of them refused):
//!
//! ```text
//! PROPTEST_CASES=3000 CRITERION_BUDGET=20000000 \
//!     cargo test --release --test schedule_criterion -- --include-ignored
//! ```
//!
//! `--include-ignored` also runs the slower full-horizon sweep of the dense forms in every zone;
//! `CRITERION_VERBOSE=1` with `--nocapture` prints each random case and the converter's answer.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use flinkops::schedule::{ConvertError, Cron, CronError, to_utc};
use proptest::prelude::*;

const ZONES: &[&str] = &[
    "Asia/Shanghai",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Pacific/Kiritimati",
    "Etc/GMT+5",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Pacific/Chatham",
    "Australia/Lord_Howe",
    "Europe/Moscow",
    "America/Sao_Paulo",
];

// ----------------------------------------------------------------------------------------------
// A tiny cron reader: numbers, `*`, `?`, lists, ranges and steps, with robfig's star bit.

#[derive(Debug, Clone, Copy)]
struct Expr {
    minutes: u64,
    hours: u64,
    doms: u64,
    months: u64,
    dows: u64,
    /// robfig's star bit on the day fields: some item is `*` or `?` with no step above 1.
    dom_star: bool,
    dow_star: bool,
}

/// One field over `min..=max`: its values as bits, and whether it carries the star bit.
fn read_field(text: &str, min: u32, max: u32) -> Result<(u64, bool), String> {
    let mut bits = 0u64;
    let mut star = false;
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().map_err(|_| format!("bad step in `{item}`"))?),
            None => (item, 1),
        };
        if step == 0 {
            return Err(format!("zero step in `{item}`"));
        }
        let num = |s: &str| s.parse::<u32>().map_err(|_| format!("bad number `{s}`"));
        let (a, b) = if range == "*" || range == "?" {
            if step <= 1 {
                star = true;
            }
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (num(a)?, num(b)?)
        } else {
            let a = num(range)?;
            // `a/n` means `a-max/n`.
            (a, if item.contains('/') { max } else { a })
        };
        if a < min || b > max || a > b {
            return Err(format!("`{item}` outside {min}-{max}"));
        }
        for v in (a..=b).step_by(step as usize) {
            bits |= 1 << v;
        }
    }
    Ok((bits, star))
}

impl Expr {
    fn read(text: &str) -> Expr {
        let f: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(f.len(), 5, "`{text}` is not 5 fields");
        let field = |i: usize, min, max| read_field(f[i], min, max).unwrap_or_else(|e| panic!("`{text}`: {e}"));
        let (minutes, _) = field(0, 0, 59);
        let (hours, _) = field(1, 0, 23);
        let (doms, dom_star) = field(2, 1, 31);
        let (months, _) = field(3, 1, 12);
        let (dows, dow_star) = field(4, 0, 6);
        Expr { minutes, hours, doms, months, dows, dom_star, dow_star }
    }

    fn date_matches(&self, d: NaiveDate) -> bool {
        if self.months & (1 << d.month()) == 0 {
            return false;
        }
        let dom = self.doms & (1 << d.day()) != 0;
        let dow = self.dows & (1 << d.weekday().num_days_from_sunday()) != 0;
        if self.dom_star || self.dow_star { dom && dow } else { dom || dow }
    }

    /// The (hour, minute) pairs, in order.
    fn times(&self) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        for h in 0..24 {
            if self.hours & (1 << h) == 0 {
                continue;
            }
            for m in 0..60 {
                if self.minutes & (1 << m) != 0 {
                    out.push((h, m));
                }
            }
        }
        out
    }

    /// Whether any calendar date matches at all (robfig accepts such crons but never runs them;
    /// flinkops rejects them). Every month has every weekday, so a leap year shows every case.
    fn can_ever_fire(&self) -> bool {
        let mut d = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
        while d.year() == 2000 {
            if self.date_matches(d) {
                return true;
            }
            d = d.succ_opt().unwrap();
        }
        false
    }
}

// ----------------------------------------------------------------------------------------------
// The oracle.

fn horizon_start(valid_from: NaiveDate) -> i64 {
    valid_from.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() / 60
}

fn horizon_end_minute() -> i64 {
    Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).unwrap().timestamp() / 60
}

fn minute_to_utc(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t * 60, 0).unwrap()
}

/// Every firing instant (UTC epoch minutes, sorted) of `local` read in `tz`'s wall-clock time
/// over the horizon.
fn oracle_instants(local: &Expr, tz: Tz, valid_from: NaiveDate) -> Vec<i64> {
    let (lo, hi) = (horizon_start(valid_from), horizon_end_minute());
    let times = local.times();
    let mut out = Vec::new();
    let mut date = valid_from - Duration::days(2);
    let last = NaiveDate::from_ymd_opt(2100, 1, 2).unwrap();
    while date <= last {
        if local.date_matches(date) {
            for &(h, m) in &times {
                let wall = date.and_hms_opt(h, m, 0).unwrap();
                let (a, b) = match tz.from_local_datetime(&wall) {
                    LocalResult::None => (None, None),
                    LocalResult::Single(t) => (Some(t), None),
                    LocalResult::Ambiguous(t, u) => (Some(t), Some(u)),
                };
                for t in [a, b].into_iter().flatten() {
                    let s = t.timestamp();
                    assert_eq!(s % 60, 0, "{tz} at {wall} is not on a whole minute");
                    let u = s / 60;
                    if lo <= u && u < hi {
                        out.push(u);
                    }
                }
            }
        }
        date = date.succ_opt().unwrap();
    }
    out.sort_unstable();
    let n = out.len();
    out.dedup();
    assert_eq!(n, out.len(), "two wall-clock times resolved to one instant");
    out
}

#[derive(Debug, PartialEq, Eq)]
struct Verdict {
    expressible: bool,
    /// The earliest firing whose date is in neither C_m nor B_m of its group.
    first_uncovered: Option<i64>,
}

/// SPEC §6.3's criterion on a sorted set of instants over the horizon from `valid_from`.
fn criterion(instants: &[i64], valid_from: NaiveDate) -> Verdict {
    let first_day = horizon_start(valid_from) / 1440;
    let days = (horizon_end_minute() / 1440 - first_day) as usize;
    // (month, day of month, weekday) of every UTC date of the horizon.
    let calendar: Vec<(usize, usize, usize)> = (0..days)
        .map(|i| {
            let d = valid_from + Duration::days(i as i64);
            (d.month() as usize, d.day() as usize, d.weekday().num_days_from_sunday() as usize)
        })
        .collect();
    // How many dates of the horizon each class (month, day of month) / (month, weekday) has.
    let mut dom_dates = [[0u32; 32]; 13];
    let mut dow_dates = [[0u32; 7]; 13];
    for &(m, d, w) in &calendar {
        dom_dates[m][d] += 1;
        dow_dates[m][w] += 1;
    }
    // Groups by UTC (hour, minute), as minute of the day.
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); 1440];
    for &t in instants {
        let day = (t.div_euclid(1440) - first_day) as usize;
        groups[t.rem_euclid(1440) as usize].push(day);
    }
    let mut first_uncovered: Option<i64> = None;
    for (minute_of_day, group_days) in groups.iter().enumerate() {
        // A class belongs to the largest C_m (B_m) iff all its dates in the horizon fire in the
        // group, i.e. iff the group fires on as many of its dates as the horizon has (a group
        // fires at most once a date).
        let mut dom_fired = [[0u32; 32]; 13];
        let mut dow_fired = [[0u32; 7]; 13];
        for &i in group_days {
            let (m, d, w) = calendar[i];
            dom_fired[m][d] += 1;
            dow_fired[m][w] += 1;
        }
        for &i in group_days {
            let (m, d, w) = calendar[i];
            if dom_fired[m][d] != dom_dates[m][d] && dow_fired[m][w] != dow_dates[m][w] {
                let t = (first_day + i as i64) * 1440 + minute_of_day as i64;
                first_uncovered = Some(first_uncovered.map_or(t, |f| f.min(t)));
                break; // group_days is sorted: this is the group's earliest
            }
        }
    }
    Verdict { expressible: first_uncovered.is_none(), first_uncovered }
}

/// Every instant (sorted, with multiplicity) at which `exprs`, read in UTC, fire over the horizon.
fn utc_instants(exprs: &[Expr], valid_from: NaiveDate) -> Vec<i64> {
    let mut out = Vec::new();
    let mut date = valid_from;
    let end = NaiveDate::from_ymd_opt(2100, 1, 1).unwrap();
    let timed: Vec<(&Expr, Vec<(u32, u32)>)> = exprs.iter().map(|e| (e, e.times())).collect();
    while date < end {
        let base = horizon_start(date);
        for (e, times) in &timed {
            if e.date_matches(date) {
                out.extend(times.iter().map(|&(h, m)| base + i64::from(h * 60 + m)));
            }
        }
        date = date.succ_opt().unwrap();
    }
    out.sort_unstable();
    out
}

fn fmt_minutes(ts: &[i64]) -> String {
    ts.iter().take(6).map(|&t| minute_to_utc(t).format("%Y-%m-%d %H:%M").to_string()).collect::<Vec<_>>().join(", ")
}

/// What the converter answered, when it agrees with the oracle.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    /// Exact UTC crons (canonical text).
    Converted(Vec<String>),
    /// Refused as inexpressible, naming the oracle's first uncovered firing.
    Refused,
    /// Refused because nothing fires in the horizon (`ConvertError::NoFirings`).
    NoFirings,
    /// Rejected by the parser because no date can ever match (`CronError::NeverFires`).
    NeverFires,
}

/// Compares the converter with the oracle for one schedule: its answer when the two agree (with
/// the oracle's instants), or what disagrees.
fn check(text: &str, zone: &str, valid_from: NaiveDate) -> Result<(Answer, Vec<i64>), String> {
    let tz: Tz = zone.parse().unwrap();
    let local = Expr::read(text);
    let cron = match Cron::parse(text) {
        Ok(c) => c,
        Err(CronError::NeverFires { .. }) if !local.can_ever_fire() => {
            return Ok((Answer::NeverFires, Vec::new()));
        }
        Err(e) => return Err(format!("`{text}` rejected: {e}")),
    };
    if !local.can_ever_fire() {
        return Err(format!("`{text}` can never fire but was accepted"));
    }
    let instants = oracle_instants(&local, tz, valid_from);
    let verdict = criterion(&instants, valid_from);
    let ctx = format!("`{text}` in {zone} from {valid_from}");
    match to_utc(&cron, tz, valid_from) {
        Ok(exprs) => {
            let texts: Vec<String> = exprs.iter().map(Cron::to_string).collect();
            if instants.is_empty() {
                return Err(format!("{ctx}: never fires, but converted to {texts:?}"));
            }
            if !verdict.expressible {
                let t = minute_to_utc(verdict.first_uncovered.unwrap());
                return Err(format!("{ctx}: oracle says inexpressible (first at {t}), converter gave {texts:?}"));
            }
            let readers: Vec<Expr> = texts.iter().map(|t| Expr::read(t)).collect();
            let got = utc_instants(&readers, valid_from);
            if got != instants {
                let extra: Vec<i64> = got.iter().copied().filter(|t| instants.binary_search(t).is_err()).collect();
                let missing: Vec<i64> = instants.iter().copied().filter(|t| got.binary_search(t).is_err()).collect();
                let mut dups = got.clone();
                dups.dedup();
                return Err(format!(
                    "{ctx}: converter's {texts:?} are not exact: extra [{}], missing [{}], {} duplicate firings",
                    fmt_minutes(&extra),
                    fmt_minutes(&missing),
                    got.len() - dups.len()
                ));
            }
            Ok((Answer::Converted(texts), instants))
        }
        Err(ConvertError::NoFirings { .. }) if instants.is_empty() => Ok((Answer::NoFirings, instants)),
        Err(ConvertError::Inexpressible { instant, same_weekday, same_day_of_month, .. }) => {
            if verdict.expressible {
                return Err(format!("{ctx}: refused at {instant}, but the oracle finds an exact set ({} firings)", instants.len()));
            }
            let first = minute_to_utc(verdict.first_uncovered.unwrap());
            if instant != first {
                return Err(format!("{ctx}: refused naming {instant}, the oracle's first uncovered firing is {first}"));
            }
            let fires = |t: DateTime<Utc>| instants.binary_search(&(t.timestamp() / 60)).is_ok();
            let (hm, month) = (|t: DateTime<Utc>| t.format("%H:%M").to_string(), |t: DateTime<Utc>| t.month());
            for (w, what, same) in [
                (same_weekday, "weekday", same_weekday.weekday() == instant.weekday()),
                (same_day_of_month, "day of month", same_day_of_month.day() == instant.day()),
            ] {
                let in_horizon = w.timestamp() / 60 >= horizon_start(valid_from) && w.timestamp() / 60 < horizon_end_minute();
                if !same || hm(w) != hm(instant) || month(w) != month(instant) || !in_horizon || fires(w) {
                    return Err(format!("{ctx}: witness ({what}) {w} for {instant} is not a non-firing twin"));
                }
            }
            Ok((Answer::Refused, instants))
        }
        Err(e) => Err(format!("{ctx}: unexpected error {e} ({} oracle firings)", instants.len())),
    }
}

/// `check`, then: Ok(Some(crons)) when converted, Ok(None) when (rightly) refused for any reason.
fn agree(text: &str, zone: &str, valid_from: NaiveDate) -> Result<Option<Vec<String>>, String> {
    match check(text, zone, valid_from)? {
        (Answer::Converted(t), _) => Ok(Some(t)),
        _ => Ok(None),
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

// ----------------------------------------------------------------------------------------------
// The oracle on its own: a few facts it must get right, independent of the converter.

#[test]
fn oracle_sanity() {
    let vf = date(2098, 1, 1);
    let ny: Tz = "America/New_York".parse().unwrap();
    // 02:30 on the spring-forward day does not exist; 01:30 on the fall-back day happens twice.
    let spring = oracle_instants(&Expr::read("30 2 * * *"), ny, vf);
    let fall = oracle_instants(&Expr::read("30 1 * * *"), ny, vf);
    assert_eq!(spring.len(), 730 - 2);
    assert_eq!(fall.len(), 730 + 2);
    // A fixed offset with every day: a pure shift, expressible.
    let sh: Tz = "Asia/Shanghai".parse().unwrap();
    assert!(criterion(&oracle_instants(&Expr::read("0 9 * * 1-5"), sh, vf), vf).expressible);
    // The first of the month at 01:00 Shanghai is 17:00 UTC on the last day of the month before.
    let v = criterion(&oracle_instants(&Expr::read("0 1 1 * *"), sh, vf), vf);
    // Over 2098-2099 (no leap year) every month's last day is a fixed day of month, so this
    // short horizon makes it expressible; the spec's refusal comes from leap years.
    assert!(v.expressible, "{v:?}");
    let vf = date(2095, 1, 1);
    let v = criterion(&oracle_instants(&Expr::read("0 1 1 * *"), sh, vf), vf);
    assert!(!v.expressible);
    // 2096 is a leap year: 2096-02-28 17:00 UTC does not fire (2096-02-29 does), so the class
    // "February 28" is not full, and no February weekday class is: the first uncovered firing is
    // 2095-02-28 17:00 UTC (January 31 is a full class).
    assert_eq!(minute_to_utc(v.first_uncovered.unwrap()), Utc.with_ymd_and_hms(2095, 2, 28, 17, 0, 0).unwrap());
}

/// The horizon matters: with no leap day left in it, "the last day of every month" is exact.
#[test]
fn first_of_month_in_shanghai_without_leap_years() {
    let got = agree("0 1 1 * *", "Asia/Shanghai", date(2097, 3, 1)).unwrap_or_else(|e| panic!("{e}"));
    assert!(got.is_some());
    assert_eq!(agree("0 1 1 * *", "Asia/Shanghai", date(2096, 2, 28)), Ok(None));
}

/// The ends of the horizon are UTC instants: local 2100-01-01 01:00 in Shanghai is inside it,
/// local 2099-12-31 20:00 at UTC-5 is not; a leap day after 2096 never comes.
#[test]
fn horizon_edges() {
    let answer = |text, zone, vf| check(text, zone, vf).unwrap_or_else(|e| panic!("{e}")).0;
    assert_eq!(answer("0 1 1 1 *", "Asia/Shanghai", date(2099, 6, 1)), Answer::Converted(vec!["0 17 31 12 *".into()]));
    assert_eq!(answer("0 20 31 12 *", "Etc/GMT+5", date(2099, 6, 1)), Answer::NoFirings);
    assert_eq!(answer("0 0 29 2 *", "Asia/Shanghai", date(2096, 3, 1)), Answer::NoFirings);
    assert_eq!(answer("0 0 30 2 *", "Asia/Shanghai", date(2026, 1, 1)), Answer::NeverFires);
    // Valid from the first instant: 2026-01-01 00:00 UTC is 08:00 in Shanghai.
    assert!(matches!(answer("0 8 1 1 *", "Asia/Shanghai", date(2026, 1, 1)), Answer::Converted(_)));
}

// ----------------------------------------------------------------------------------------------
// The examples of SPEC §6.3, over the full horizon from 2026-01-01.

/// Checks the converter against the oracle, that it accepts or refuses as `ok` says, and (when
/// given) that the spec's own UTC forms fire exactly at the oracle's instants too.
fn spec_example(text: &str, zone: &str, ok: bool, spec_forms: &[&str]) {
    let vf = date(2026, 1, 1);
    let (got, want) = check(text, zone, vf).unwrap_or_else(|e| panic!("{e}"));
    let expected = if ok { "Converted" } else { "Refused" };
    assert!(format!("{got:?}").starts_with(expected), "`{text}` in {zone}: expected {expected}, converter gave {got:?}");
    if !spec_forms.is_empty() {
        let forms: Vec<Expr> = spec_forms.iter().map(|t| Expr::read(t)).collect();
        assert!(utc_instants(&forms, vf) == want, "the spec's forms {spec_forms:?} for `{text}` in {zone} are not exact");
    }
}

#[test]
fn spec_shanghai_weekdays() {
    spec_example("0 9 * * 1-5", "Asia/Shanghai", true, &["0 1 * * 1-5"]);
    spec_example("0 0 * * 6", "Asia/Shanghai", true, &["0 16 * * 5"]);
}

#[test]
fn spec_shanghai_first_of_month_refused() {
    spec_example("0 1 1 * *", "Asia/Shanghai", false, &[]);
}

#[test]
fn spec_kolkata_and_kathmandu_shift_minutes() {
    spec_example("0 9 * * 1-5", "Asia/Kolkata", true, &["30 3 * * 1-5"]);
    spec_example("0 9 * * 1-5", "Asia/Kathmandu", true, &["15 3 * * 1-5"]);
    spec_example("0 2 * * 1", "Asia/Kathmandu", true, &["15 20 * * 0"]);
}

#[test]
fn spec_bogota_day_30_splits() {
    spec_example("0 21 30 * *", "America/Bogota", true, &["0 2 31 1,3,5,7,8,10,12 *", "0 2 1 5,7,10,12 *"]);
}

#[test]
fn spec_new_york_weekdays_refused() {
    spec_example("0 9 * * 1-5", "America/New_York", false, &[]);
}

#[test]
fn spec_new_york_hourly() {
    spec_example("0 * * * *", "America/New_York", true, &["0 * * * *"]);
}

#[test]
fn spec_new_york_every_15_minutes() {
    spec_example("*/15 * * * *", "America/New_York", true, &["*/15 * * * *"]);
}

#[test]
fn spec_sydney_sunday_afternoon() {
    spec_example("15 15 * * 0", "Australia/Sydney", true, &["15 4 * 1-3,10-12 0", "15 5 * 4-9 0"]);
}

// ----------------------------------------------------------------------------------------------
// Zones whose rules changed: the verdict depends on whether the horizon contains the change.

#[test]
fn zones_whose_rules_changed() {
    let cases = [
        // Moscow: DST until 2011, then +04 all year, then +03 from 2014-10-26.
        ("0 9 * * 1-5", "Europe/Moscow", date(2010, 1, 1), false),
        ("0 9 * * 1-5", "Europe/Moscow", date(2011, 4, 1), false),
        ("0 9 * * 1-5", "Europe/Moscow", date(2014, 10, 27), true),
        ("*/15 9 * * *", "Europe/Moscow", date(2013, 1, 1), false),
        // São Paulo: DST until February 2019, then -03 all year.
        ("0 9 * * 1-5", "America/Sao_Paulo", date(2018, 1, 1), false),
        ("0 9 * * 1-5", "America/Sao_Paulo", date(2019, 3, 1), true),
        // Kiritimati jumped from -10 to +14 and skipped 1994-12-31: each UTC day still has one
        // 19:00 firing, but the weekdays move by one.
        ("0 9 * * *", "Pacific/Kiritimati", date(1994, 1, 1), true),
        ("0 9 * * 1-5", "Pacific/Kiritimati", date(1994, 1, 1), false),
        ("0 9 * * 1-5", "Pacific/Kiritimati", date(1995, 1, 2), true),
    ];
    let mut failures = Vec::new();
    for (text, zone, vf, ok) in cases {
        match agree(text, zone, vf) {
            Ok(r) if r.is_some() == ok => {}
            Ok(r) => failures.push(format!("`{text}` in {zone} from {vf}: expected ok={ok}, got {r:?}")),
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ----------------------------------------------------------------------------------------------
// Every-15-minute and all-hour forms in every zone.

const DENSE: &[&str] = &["*/15 * * * *", "0 * * * 1-5", "30 * 1 * *", "0 * * * *", "45 * * * 0"];

fn dense_sweep(valid_from: NaiveDate) {
    let mut failures = Vec::new();
    let mut table = Vec::new();
    for zone in ZONES {
        for text in DENSE {
            match agree(text, zone, valid_from) {
                Ok(r) => table.push(format!("{zone:20} {text:14} → {r:?}")),
                Err(e) => failures.push(e),
            }
        }
    }
    eprintln!("{}", table.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn dense_forms_in_every_zone() {
    dense_sweep(date(2096, 1, 15)); // includes 29 February 2096
}

#[test]
#[ignore = "slow in debug mode (full 2026-2100 horizon, 60 schedules); run in release"]
fn dense_forms_in_every_zone_full_horizon() {
    dense_sweep(date(2026, 1, 1));
}

// ----------------------------------------------------------------------------------------------
// Random crons from simple components.

fn num_list(min: u32, max: u32, n: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = String> {
    prop::collection::btree_set(min..=max, n).prop_map(|s| s.iter().map(u32::to_string).collect::<Vec<_>>().join(","))
}

fn num_range(min: u32, max: u32) -> impl Strategy<Value = String> {
    (min..=max, min..=max).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b)))
}

fn gen_cron() -> impl Strategy<Value = String> {
    let minute = prop_oneof![
        3 => (0u32..60).prop_map(|v| v.to_string()),
        2 => num_list(0, 59, 2..=3),
        2 => Just("*/15".to_string()),
        1 => Just("*".to_string()),
    ];
    let hour = prop_oneof![
        3 => (0u32..24).prop_map(|v| v.to_string()),
        2 => num_range(0, 23),
        2 => Just("*".to_string()),
    ];
    let dom = prop_oneof![
        3 => Just("*".to_string()),
        1 => Just("?".to_string()),
        2 => num_list(1, 31, 1..=3),
        2 => num_range(1, 31),
    ];
    let month = prop_oneof![3 => Just("*".to_string()), 2 => num_list(1, 12, 1..=4)];
    let dow = prop_oneof![
        3 => Just("*".to_string()),
        2 => num_range(0, 6),
        2 => num_list(0, 6, 1..=3),
    ];
    (minute, hour, dom, month, dow).prop_map(|(a, b, c, d, e)| format!("{a} {b} {c} {d} {e}"))
}

/// `valid_from`: 80% in 2090–2099, else anywhere in 1990–2099; then moved later if needed so
/// that (days in the horizon) × (local times per day) stays within the budget.
fn gen_valid_from() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![
        8 => (2090i32..=2099, 0i64..365),
        2 => (1990i32..=2099, 0i64..365),
    ]
    .prop_map(|(y, d)| date(y, 1, 1) + Duration::days(d))
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn budgeted(text: &str, valid_from: NaiveDate) -> NaiveDate {
    let e = Expr::read(text);
    let mut d = date(2000, 1, 1);
    let mut dates = 0u64;
    while d.year() == 2000 {
        dates += u64::from(e.date_matches(d));
        d = d.succ_opt().unwrap();
    }
    // Local times resolved per day of the horizon, on average (times 366, to stay in integers).
    let per_366_days = (e.times().len() as u64 * dates).max(1);
    let max_days = (env_u64("CRITERION_BUDGET", 150_000) * 366 / per_366_days).clamp(60, 50_000);
    valid_from.max(date(2100, 1, 1) - Duration::days(max_days as i64))
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: env_u64("PROPTEST_CASES", 96) as u32, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    /// `to_utc` succeeds exactly when the oracle finds an exact set, and what it returns fires at
    /// exactly the oracle's instants over the whole horizon.
    #[test]
    fn converter_agrees_with_oracle(
        text in gen_cron(),
        zone in prop::sample::select(ZONES),
        valid_from in gen_valid_from(),
    ) {
        let vf = budgeted(&text, valid_from);
        match agree(&text, zone, vf) {
            Ok(r) if std::env::var_os("CRITERION_VERBOSE").is_some() => {
                eprintln!("{text:22} {zone:20} {vf}  {}", r.map_or("refused".into(), |r| r.join(" | ")));
            }
            Ok(_) => {}
            Err(e) => prop_assert!(false, "{}", e),
        }
    }
}
