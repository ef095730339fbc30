//! Property tests of `flinkops::schedule` against independent oracles (SPEC §6.3).
//!
//! Crons are generated from simple components together with the sets they denote, so the
//! oracle never uses the module's parser. The `utc` oracle walks UTC minute by minute through
//! random windows (and windows around DST transitions), converts each minute to wall-clock time
//! with chrono-tz, evaluates the local cron with the shared oracle's matcher (built from the
//! generated sets), and reads and evaluates the produced UTC expressions with the oracle's own
//! plain reader (tests/support/cron_oracle.rs); the two sets must be equal.
//! When conversion fails, the oracle checks the named instant really fires while the two named
//! witnesses (same UTC time and month, same weekday / same day of month) really do not — which
//! proves that no set of plain UTC crons can be exact.

#[path = "support/cron_oracle.rs"]
mod cron_oracle;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use cron_oracle::{OracleCron, OracleField, bits, local_of};
use flinkops::schedule::{ConvertError, Cron, CronError, guarded_superset, next_firings, to_utc};
use proptest::prelude::*;

const ZONES: &[&str] = &[
    "UTC",
    "Asia/Shanghai",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "America/Bogota",
    "Pacific/Chatham",
    "America/Santiago",
    "Africa/Casablanca",
];

// ----------------------------------------------------------------------------------------------
// Generated crons: text plus the sets it denotes.

#[derive(Debug, Clone)]
struct Field {
    text: String,
    values: u64,
    /// robfig's star bit: some item is `*` or `?` without a step above 1.
    star: bool,
}

#[derive(Debug, Clone)]
struct GenCron {
    minute: Field,
    hour: Field,
    dom: Field,
    month: Field,
    dow: Field,
}

impl GenCron {
    fn text(&self) -> String {
        format!("{} {} {} {} {}", self.minute.text, self.hour.text, self.dom.text, self.month.text, self.dow.text)
    }

    /// The generated sets as the oracle's cron (never through any parser).
    fn oracle(&self) -> OracleCron {
        let f = |f: &Field| OracleField { values: f.values, star: f.star };
        OracleCron { fields: [f(&self.minute), f(&self.hour), f(&self.dom), f(&self.month), f(&self.dow)] }
    }

    /// The oracle's matcher on the generated sets: robfig's rule, written out plainly.
    fn matches(&self, t: &NaiveDateTime) -> bool {
        self.oracle().matches(t)
    }

    /// Whether any date at all matches (February 29 counts).
    fn can_fire(&self) -> bool {
        if !self.dow.star || self.dom.star {
            return true;
        }
        (1..=12u32).filter(|m| self.month.values & (1 << m) != 0).any(|m| {
            let days = match m {
                2 => 29,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            (1..=days).any(|d| self.dom.values & (1u64 << d) != 0)
        })
    }
}

fn name_case(name: &str, upper: bool) -> String {
    if upper { name.to_uppercase() } else { name.to_string() }
}

/// A field over `min..=max`. `star_weight` biases towards `*`, which keeps more conversions
/// expressible; `names` are the 3-letter names where the field has them.
fn field(min: u32, max: u32, star_weight: u32, names: Option<&'static [&'static str]>) -> BoxedStrategy<Field> {
    let all = bits(min..=max);
    let single = (min..=max).prop_map(|v| Field { text: v.to_string(), values: bits([v]), star: false });
    let list = prop::collection::btree_set(min..=max, 2..=4).prop_map(|s| Field {
        text: s.iter().map(u32::to_string).collect::<Vec<_>>().join(","),
        values: bits(s.iter().copied()),
        star: false,
    });
    let range = (min..=max, min..=max).prop_map(|(a, b)| {
        let (a, b) = (a.min(b), a.max(b));
        Field { text: format!("{a}-{b}"), values: bits(a..=b), star: false }
    });
    let span = max - min;
    let step =
        (2..=span.max(2)).prop_map(move |n| Field { text: format!("*/{n}"), values: bits((min..=max).step_by(n as usize)), star: false });
    let start_step = (min..=max, 2..=span.max(2)).prop_map(move |(a, n)| Field {
        text: format!("{a}/{n}"),
        values: bits((a..=max).step_by(n as usize)),
        star: false,
    });
    let star = prop_oneof![Just("*"), Just("?")].prop_map(move |s| Field { text: s.to_string(), values: all, star: true });
    let star_in_list = (min..=max).prop_map(move |v| Field { text: format!("{v},*"), values: all, star: true });
    let mut choices: Vec<(u32, BoxedStrategy<Field>)> = vec![
        (star_weight, star.boxed()),
        (1, star_in_list.boxed()),
        (3, single.boxed()),
        (2, list.boxed()),
        (2, range.boxed()),
        (1, step.boxed()),
        (1, start_step.boxed()),
    ];
    if let Some(names) = names {
        let first = min;
        let named = (0..names.len(), 0..names.len(), any::<bool>()).prop_map(move |(a, b, upper)| {
            let (a, b) = (a.min(b), a.max(b));
            Field {
                text: format!("{}-{}", name_case(names[a], upper), name_case(names[b], !upper)),
                values: bits(first + a as u32..=first + b as u32),
                star: false,
            }
        });
        choices.push((1, named.boxed()));
    }
    prop::strategy::Union::new_weighted(choices).boxed()
}

fn minute_field() -> BoxedStrategy<Field> {
    // Minute sets stay small (at most 12 values) so the debug-mode oracle stays fast.
    prop_oneof![
        3 => (0u32..60).prop_map(|v| Field { text: v.to_string(), values: bits([v]), star: false }),
        2 => prop::collection::btree_set(0u32..60, 2..=3).prop_map(|s| Field {
            text: s.iter().map(u32::to_string).collect::<Vec<_>>().join(","),
            values: bits(s.iter().copied()),
            star: false,
        }),
        2 => prop::sample::select(vec![5u32, 10, 15, 20, 30]).prop_map(|n| Field {
            text: format!("*/{n}"),
            values: bits((0..60).step_by(n as usize)),
            star: false,
        }),
        1 => (0u32..60, 0u32..5).prop_map(|(a, w)| {
            let b = (a + w).min(59);
            Field { text: format!("{a}-{b}"), values: bits(a..=b), star: false }
        }),
    ]
    .boxed()
}

const MONTHS: &[&str] = &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

fn gen_cron() -> impl Strategy<Value = GenCron> {
    (minute_field(), field(0, 23, 3, None), field(1, 31, 10, None), field(1, 12, 10, Some(MONTHS)), field(0, 6, 5, Some(DAYS)))
        .prop_map(|(minute, hour, dom, month, dow)| GenCron { minute, hour, dom, month, dow })
}

// ----------------------------------------------------------------------------------------------
// Oracle helpers.

fn horizon_end() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).unwrap()
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap().and_utc()
}

/// Offset changes of `tz` during `year`, found by the oracle's hourly sampling.
fn changes_in_year(tz: Tz, year: i32) -> Vec<DateTime<Utc>> {
    cron_oracle::changes_in_year(tz, year, horizon_end())
}

/// Picks a window of `days` days inside the horizon: around one of the zone's offset changes in
/// a random year when `near_change` and the zone has one, else starting in a random month the
/// cron allows (so that most windows contain firings).
fn window(tz: Tz, valid_from: NaiveDate, months: u64, seed: u64, days: i64, near_change: bool) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = midnight(valid_from);
    let years = (2100 - valid_from.year()) as u64;
    let year = valid_from.year() + (seed % years) as i32;
    if near_change {
        let changes = changes_in_year(tz, year);
        if !changes.is_empty() {
            let c = changes[(seed / 97) as usize % changes.len()];
            let before = (seed / 13) as i64 % (days * 1440);
            let from = (c - Duration::minutes(before)).max(start);
            return (from, (from + Duration::days(days)).min(horizon_end()));
        }
    }
    let allowed: Vec<u32> = (1..=12).filter(|m| months & (1 << m) != 0).collect();
    let month = allowed[(seed / 7) as usize % allowed.len()];
    let month_start = Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0).unwrap();
    // Start up to five days before the month and at any minute of the day.
    let from =
        (month_start + Duration::minutes((seed / 1009) as i64 % (36 * 1440) - 5 * 1440)).clamp(start, horizon_end() - Duration::days(1));
    (from, (from + Duration::days(days)).min(horizon_end()))
}

fn zone(i: usize) -> Tz {
    ZONES[i % ZONES.len()].parse().unwrap()
}

fn valid_from_of(choice: u32) -> NaiveDate {
    // Mostly the default; sometimes a later start, which changes which dates exist.
    if choice < 6 {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
    } else {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + Duration::days(i64::from(choice) * 977 % 25_000)
    }
}

/// Reads one of the module's output crons with the oracle, after checking it is in the plain
/// form CronJobs get: five fields separated by single spaces, only numbers, `*`, `,`, `-`, `/`.
fn read_output(c: &Cron) -> OracleCron {
    let text = c.to_string();
    assert!(
        text.split(' ').count() == 5 && text.chars().all(|ch| ch.is_ascii_digit() || " *,-/".contains(ch)),
        "output `{text}` is not plain"
    );
    OracleCron::parse(&text)
}

fn in_horizon(t: DateTime<Utc>, valid_from: NaiveDate) -> bool {
    t >= midnight(valid_from) && t < horizon_end() && t.second() == 0
}

// ----------------------------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The parser agrees with the generated sets, and its canonical form means the same.
    #[test]
    fn parser_matches_generated_sets(g in gen_cron(), probes in prop::collection::vec(0i64..(200 * 366 * 1440), 64)) {
        let text = g.text();
        match Cron::parse(&text) {
            Ok(c) => {
                prop_assert!(g.can_fire(), "`{text}` accepted but never fires");
                let again = Cron::parse(&c.to_string()).expect("canonical form parses");
                prop_assert_eq!(again, c, "`{}` → `{}`", text, c);
                prop_assert_eq!(c.dom_restricted(), !g.dom.star);
                prop_assert_eq!(c.dow_restricted(), !g.dow.star);
                let base = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
                for p in probes {
                    let t = base + Duration::minutes(p);
                    prop_assert_eq!(c.matches_naive(&t), g.matches(&t), "`{}` at {}", text, t);
                }
            }
            Err(CronError::NeverFires { .. }) => prop_assert!(!g.can_fire(), "`{text}` rejected as never firing"),
            Err(e) => prop_assert!(false, "`{text}` rejected: {e}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// `utc`: on success the UTC crons fire at exactly the local instants over random windows;
    /// on failure the named instant and witnesses prove that no exact set exists. The guarded
    /// superset covers every firing, and `next_firings` lists them in order.
    #[test]
    fn utc_conversion_is_exact(
        g in gen_cron(),
        zone_index in 0usize..ZONES.len(),
        from_choice in 0u32..10,
        seed in any::<u64>(),
        days in 10i64..=40,
        near_change in any::<bool>(),
    ) {
        let tz = zone(zone_index);
        let valid_from = valid_from_of(from_choice);
        let text = g.text();
        let Ok(cron) = Cron::parse(&text) else {
            return Ok(()); // never fires; covered by the parser property
        };
        let (from, to) = window(tz, valid_from, g.month.values, seed, days, near_change);

        // Oracle: which minutes of the window fire.
        let minutes: Vec<DateTime<Utc>> = (0..(to - from).num_minutes()).map(|i| from + Duration::minutes(i)).collect();
        let fires: Vec<bool> = minutes.iter().map(|t| g.matches(&local_of(tz, *t))).collect();
        let firings: Vec<DateTime<Utc>> = minutes.iter().zip(&fires).filter(|(_, f)| **f).map(|(t, _)| *t).collect();

        let superset: Vec<OracleCron> = guarded_superset(&cron, tz, valid_from)
            .expect("superset")
            .iter()
            .map(read_output)
            .collect();
        for f in &firings {
            prop_assert!(superset.iter().any(|e| e.matches(&f.naive_utc())), "superset misses {} for `{}` in {}", f, text, tz);
        }

        let listed = next_firings(&cron, tz, from, 5);
        let expected: Vec<DateTime<Utc>> = firings.iter().copied().take(5).collect();
        let got: Vec<DateTime<Utc>> = listed.iter().map(|f| f.utc).take_while(|u| *u < to).collect();
        prop_assert_eq!(&got, &expected, "next_firings of `{}` in {} from {}", text, tz, from);
        for f in &listed {
            prop_assert_eq!(f.local, local_of(tz, f.utc));
        }

        match to_utc(&cron, tz, valid_from) {
            Ok(exprs) => {
                prop_assert!(!exprs.is_empty());
                let readers: Vec<OracleCron> = exprs.iter().map(read_output).collect();
                for (t, local) in minutes.iter().zip(&fires) {
                    let hits = readers.iter().filter(|e| e.matches(&t.naive_utc())).count();
                    prop_assert!(
                        hits == usize::from(*local),
                        "`{}` in {} from {}: at {} local fires {} but {} UTC expressions match ({})",
                        text, tz, valid_from, t, local, hits,
                        exprs.iter().map(Cron::to_string).collect::<Vec<_>>().join(" | ")
                    );
                }
            }
            Err(ConvertError::Inexpressible { instant, same_weekday, same_day_of_month, .. }) => {
                for w in [instant, same_weekday, same_day_of_month] {
                    prop_assert!(in_horizon(w, valid_from), "{} outside the horizon", w);
                }
                prop_assert!(g.matches(&local_of(tz, instant)), "`{}` in {}: {} does not fire", text, tz, instant);
                for (w, same) in [
                    (same_weekday, instant.weekday() == same_weekday.weekday()),
                    (same_day_of_month, instant.day() == same_day_of_month.day()),
                ] {
                    prop_assert!(same && w.hour() == instant.hour() && w.minute() == instant.minute() && w.month() == instant.month(),
                        "witness {} does not share what it must with {}", w, instant);
                    prop_assert!(!g.matches(&local_of(tz, w)), "`{}` in {}: witness {} fires", text, tz, w);
                }
                // A fixed-offset zone with unrestricted day-of-month is always a pure shift.
                let fixed = changes_in_year(tz, 2030).is_empty();
                prop_assert!(!(fixed && g.dom.star && g.month.star), "`{}` in {} should be a shift", text, tz);
            }
            Err(ConvertError::NoFirings { .. }) => {
                prop_assert!(firings.is_empty());
            }
            Err(e) => prop_assert!(false, "`{text}` in {tz}: {e}"),
        }
    }
}

/// Windows around every 2026 transition of the DST zones, for the examples of SPEC §6.3 that
/// succeed, minute by minute.
#[test]
fn spec_examples_exact_around_transitions() {
    let cases = [
        ("*/15 * * * *", "America/New_York"),
        ("0 * * * *", "America/New_York"),
        ("15 15 * * 0", "Australia/Sydney"),
        ("0 21 30 * *", "America/Bogota"),
        ("*/15 * * * *", "Australia/Lord_Howe"),
        ("45 * * * *", "Pacific/Chatham"),
    ];
    let valid_from = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    for (text, name) in cases {
        let tz: Tz = name.parse().unwrap();
        let cron = Cron::parse(text).unwrap();
        let exprs: Vec<OracleCron> =
            to_utc(&cron, tz, valid_from).unwrap_or_else(|e| panic!("{text} in {name}: {e}")).iter().map(read_output).collect();
        let mut windows: Vec<DateTime<Utc>> = changes_in_year(tz, 2026).into_iter().chain(changes_in_year(tz, 2099)).collect();
        windows.push(Utc.with_ymd_and_hms(2026, 4, 28, 0, 0, 0).unwrap());
        for c in windows {
            let mut t = (c - Duration::days(3)).max(midnight(valid_from));
            let end = (c + Duration::days(3)).min(horizon_end());
            while t < end {
                let local = local_of(tz, t);
                let want = cron.matches_naive(&local);
                let hits = exprs.iter().filter(|e| e.matches(&t.naive_utc())).count();
                assert_eq!(hits, usize::from(want), "{text} in {name} at {t} ({local})");
                t += Duration::minutes(1);
            }
        }
    }
}
