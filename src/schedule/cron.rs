//! Validate phase: cron text in, [`Cron`] out.
//!
//! In: the text of a `cron` (a schedule entry's or a preset's), exactly as written in the spec.
//! Out: a [`Cron`] — the wall-clock minutes it matches under Kubernetes' semantics (robfig/cron v3
//! `ParseStandard`) — or a [`CronError`] whose byte range within the text lets the caller point a
//! caret at file:line:col. [`Cron`]'s `Display` is the canonical 5-field form, also used to print
//! the UTC expressions that [`super::convert`] derives.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use chrono::{Datelike, Duration, NaiveDateTime, Timelike};

/// One of the five fields of a cron expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CronField {
    /// Minute, 0-59.
    Minute,
    /// Hour, 0-23.
    Hour,
    /// Day of month, 1-31.
    DayOfMonth,
    /// Month, 1-12 or `jan`-`dec`.
    Month,
    /// Day of week, 0-6 (Sunday = 0) or `sun`-`sat`.
    DayOfWeek,
}

impl CronField {
    const ALL: [CronField; 5] = [CronField::Minute, CronField::Hour, CronField::DayOfMonth, CronField::Month, CronField::DayOfWeek];

    /// Smallest and largest value robfig/cron accepts in this field.
    pub fn bounds(self) -> (u32, u32) {
        match self {
            CronField::Minute => (0, 59),
            CronField::Hour => (0, 23),
            CronField::DayOfMonth => (1, 31),
            CronField::Month => (1, 12),
            CronField::DayOfWeek => (0, 6),
        }
    }

    /// The field's name as used in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            CronField::Minute => "minute",
            CronField::Hour => "hour",
            CronField::DayOfMonth => "day-of-month",
            CronField::Month => "month",
            CronField::DayOfWeek => "day-of-week",
        }
    }

    /// Three-letter names and the value of the first one (robfig knows names only for these two fields).
    fn names(self) -> Option<(&'static [&'static str], u32)> {
        match self {
            CronField::Month => Some((&["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)),
            CronField::DayOfWeek => Some((&["sun", "mon", "tue", "wed", "thu", "fri", "sat"], 0)),
            _ => None,
        }
    }

    fn expected(self) -> &'static str {
        match self {
            CronField::Minute => "a number 0-59",
            CronField::Hour => "a number 0-23",
            CronField::DayOfMonth => "a number 1-31",
            CronField::Month => "a number 1-12 or a month name jan-dec",
            CronField::DayOfWeek => "a number 0-6 (0 = Sunday) or a day name sun-sat",
        }
    }
}

impl fmt::Display for CronField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Quartz/Vixie extensions that robfig/cron v3 (and so Kubernetes) does not implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnsupportedFeature {
    /// `L`: last day of the month / last weekday of the month.
    Last,
    /// `W`: nearest weekday to a day of the month.
    NearestWeekday,
    /// `#`: n-th weekday of the month.
    NthWeekday,
}

impl fmt::Display for UnsupportedFeature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnsupportedFeature::Last => "`L` (last day)",
            UnsupportedFeature::NearestWeekday => "`W` (nearest weekday)",
            UnsupportedFeature::NthWeekday => "`#` (n-th weekday of the month)",
        })
    }
}

/// Why a cron expression was rejected. Every variant carries `span`, the byte range within the
/// text given to [`Cron::parse`] of the offending part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    /// Nothing but whitespace.
    #[error("empty cron expression: expected 5 fields (minute hour day-of-month month day-of-week) or an @-shortcut")]
    Empty {
        /// The whole text.
        span: Range<usize>,
    },
    /// Not exactly five fields.
    #[error("expected 5 fields (minute hour day-of-month month day-of-week), found {found}{}", field_count_hint(*.found))]
    FieldCount {
        /// How many whitespace-separated fields there were.
        found: usize,
        /// The whole expression.
        span: Range<usize>,
    },
    /// `TZ=...` or `CRON_TZ=...` in front of the expression.
    #[error("time-zone prefix `{prefix}` is not allowed in a schedule: write the cron in local time and set `autoscaling.timezone`")]
    TimeZonePrefix {
        /// The prefix as written, e.g. `CRON_TZ=Asia/Shanghai`.
        prefix: String,
        /// The prefix.
        span: Range<usize>,
    },
    /// `@every <duration>`.
    #[error("`@every` intervals are not supported: a Kubernetes CronJob needs a 5-field cron such as `*/15 * * * *`")]
    Every {
        /// The whole expression.
        span: Range<usize>,
    },
    /// An `@` word that is not one of the shortcuts.
    #[error("unknown shortcut `{text}`: expected one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly (lower case)")]
    UnknownShortcut {
        /// The shortcut as written.
        text: String,
        /// The shortcut.
        span: Range<usize>,
    },
    /// `L`, `W` or `#`.
    #[error("{feature} in `{text}` ({field} field) is not supported by Kubernetes CronJob schedules (robfig/cron v3)")]
    Unsupported {
        /// The field it appeared in.
        field: CronField,
        /// Which extension it is.
        feature: UnsupportedFeature,
        /// The list item that uses it.
        text: String,
        /// That list item.
        span: Range<usize>,
    },
    /// Day-of-week 7, which Vixie cron reads as Sunday but robfig/cron rejects.
    #[error("day-of-week 7 is not accepted by Kubernetes CronJob schedules (robfig/cron v3 allows 0-6): write 0 or `sun` for Sunday")]
    DayOfWeekSeven {
        /// The `7`.
        span: Range<usize>,
    },
    /// A number outside the field's bounds.
    #[error("{field} value {value} is out of range: expected {}", .field.expected())]
    OutOfRange {
        /// The field.
        field: CronField,
        /// The value as parsed (saturated at `u32::MAX` for absurdly long numbers).
        value: u32,
        /// The number.
        span: Range<usize>,
    },
    /// Neither a number nor a name valid in this field.
    #[error("invalid {field} value `{text}`: expected {}", .field.expected())]
    InvalidValue {
        /// The field.
        field: CronField,
        /// The token.
        text: String,
        /// The token.
        span: Range<usize>,
    },
    /// `a-b` with `a > b`; robfig/cron does not wrap ranges around.
    #[error("{field} range `{text}` runs backwards ({start} > {end}); ranges do not wrap around, write two items instead: `{}`", wrapped(*.field, *.start, *.end))]
    BackwardsRange {
        /// The field.
        field: CronField,
        /// The range as written.
        text: String,
        /// Its start.
        start: u32,
        /// Its end.
        end: u32,
        /// The range.
        span: Range<usize>,
    },
    /// `x/0`.
    #[error("step in `{text}` ({field} field) must be at least 1")]
    ZeroStep {
        /// The field.
        field: CronField,
        /// The list item.
        text: String,
        /// The step.
        span: Range<usize>,
    },
    /// A step that is not a number.
    #[error("invalid step `{text}` ({field} field): expected a positive number after `/`")]
    InvalidStep {
        /// The field.
        field: CronField,
        /// The step as written.
        text: String,
        /// The step.
        span: Range<usize>,
    },
    /// More than one `-` or `/`, a `*` used as a range end, or an empty list item.
    #[error("malformed {field} item `{text}`: {problem}")]
    Malformed {
        /// The field.
        field: CronField,
        /// The list item (empty for `1,,2`).
        text: String,
        /// What is wrong with it.
        problem: &'static str,
        /// The list item.
        span: Range<usize>,
    },
    /// Day-of-month and month never meet, e.g. `0 0 30 2 *`.
    #[error("the expression can never fire: {reason}")]
    NeverFires {
        /// Which days are missing, e.g. "February has no day 30".
        reason: String,
        /// The day-of-month and month fields.
        span: Range<usize>,
    },
}

/// `22-23,0-2` for a backwards `22-2` in the hour field.
fn wrapped(field: CronField, start: u32, end: u32) -> String {
    let (min, max) = field.bounds();
    let part = |a: u32, b: u32| {
        if a == b { a.to_string() } else { format!("{a}-{b}") }
    };
    format!("{},{}", part(start, max), part(min, end))
}

fn field_count_hint(found: usize) -> &'static str {
    match found {
        6 => " (a seconds or year field is not supported by Kubernetes)",
        1 => " (shortcuts start with `@`, e.g. `@daily`)",
        _ => "",
    }
}

impl CronError {
    /// Byte range within the parsed text of the part that is wrong.
    pub fn span(&self) -> Range<usize> {
        match self {
            CronError::Empty { span }
            | CronError::FieldCount { span, .. }
            | CronError::TimeZonePrefix { span, .. }
            | CronError::Every { span }
            | CronError::UnknownShortcut { span, .. }
            | CronError::Unsupported { span, .. }
            | CronError::DayOfWeekSeven { span }
            | CronError::OutOfRange { span, .. }
            | CronError::InvalidValue { span, .. }
            | CronError::BackwardsRange { span, .. }
            | CronError::ZeroStep { span, .. }
            | CronError::InvalidStep { span, .. }
            | CronError::Malformed { span, .. }
            | CronError::NeverFires { span, .. } => span.clone(),
        }
    }
}

/// A parsed cron expression: the set of wall-clock minutes it matches.
///
/// Each field is a bit set (bit `v` set = value `v` matches). The two star flags mirror robfig's
/// "star bit": a day field is *unrestricted* when any of its list items is `*` or `?` with no step
/// above 1. Day-of-month and day-of-week combine with AND when either is unrestricted, with OR
/// otherwise — so `0 0 1-31 * 1` fires daily while `0 0 * * 1` fires on Mondays only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cron {
    minutes: u64,
    hours: u32,
    doms: u32,
    months: u16,
    dows: u8,
    dom_star: bool,
    dow_star: bool,
}

const fn mask(min: u32, max: u32) -> u64 {
    (u64::MAX >> (63 - max)) & (u64::MAX << min)
}

pub(crate) const ALL_MINUTES: u64 = mask(0, 59);
pub(crate) const ALL_HOURS: u32 = mask(0, 23) as u32;
pub(crate) const ALL_DOMS: u32 = mask(1, 31) as u32;
pub(crate) const ALL_MONTHS: u16 = mask(1, 12) as u16;
pub(crate) const ALL_DOWS: u8 = mask(0, 6) as u8;

const MONTH_NAMES: [&str; 12] =
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/// Most days month `m` (1-12) can have; February counts its leap day.
pub(crate) fn max_days_in_month(m: u32) -> u32 {
    match m {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Cron {
    /// Parses a cron expression with Kubernetes' rules (robfig/cron v3 `ParseStandard`).
    ///
    /// Accepts 5 fields (minute hour day-of-month month day-of-week) with `*`, `?`, lists, ranges,
    /// steps (`a/n` means `a-max/n`), case-insensitive 3-letter month and day names, and the
    /// shortcuts `@yearly @annually @monthly @weekly @daily @midnight @hourly`. Surrounding
    /// whitespace is ignored. Rejects what Kubernetes rejects or would silently never run.
    pub fn parse(text: &str) -> Result<Cron, CronError> {
        let lead = text.len() - text.trim_start().len();
        let body = text.trim();
        let whole = lead..lead + body.len();
        if body.is_empty() {
            return Err(CronError::Empty { span: 0..text.len() });
        }
        let upper = body.to_ascii_uppercase();
        if upper.starts_with("TZ=") || upper.starts_with("CRON_TZ=") {
            let end = body.find(char::is_whitespace).unwrap_or(body.len());
            return Err(CronError::TimeZonePrefix { prefix: body[..end].to_string(), span: lead..lead + end });
        }
        if body.starts_with('@') {
            return parse_shortcut(body, whole);
        }

        let fields = split_fields(text);
        if fields.len() != 5 {
            return Err(CronError::FieldCount { found: fields.len(), span: whole });
        }
        let mut bits = [0u64; 5];
        let mut stars = [false; 5];
        for (i, (field, (offset, token))) in CronField::ALL.iter().zip(&fields).enumerate() {
            let (b, s) = parse_field(*field, token, *offset)?;
            bits[i] = b;
            stars[i] = s;
        }
        let cron = Cron {
            minutes: bits[0],
            hours: bits[1] as u32,
            doms: bits[2] as u32,
            months: bits[3] as u16,
            dows: bits[4] as u8,
            dom_star: stars[2],
            dow_star: stars[4],
        };
        // Only "restricted day-of-month AND-ed with an unrestricted day-of-week" can miss every
        // date: with OR, or with day-of-month unrestricted, every month has every weekday.
        if cron.dow_star && !cron.dom_star {
            let reachable =
                (1..=12u32).filter(|m| cron.months & (1 << m) != 0).any(|m| cron.doms & mask(1, max_days_in_month(m)) as u32 != 0);
            if !reachable {
                let (dom_off, _) = fields[2];
                let (month_off, month_tok) = fields[3];
                return Err(CronError::NeverFires { reason: never_fires_reason(&cron), span: dom_off..month_off + month_tok.len() });
            }
        }
        Ok(cron)
    }

    /// Builds a cron from bit sets (bit `v` = value `v`). Values outside a field's bounds are
    /// dropped; an empty field yields `None`, as does a day field flagged unrestricted but not full.
    pub fn from_parts(
        minutes: u64,
        hours: u32,
        doms: u32,
        months: u16,
        dows: u8,
        dom_unrestricted: bool,
        dow_unrestricted: bool,
    ) -> Option<Cron> {
        let c = Cron {
            minutes: minutes & ALL_MINUTES,
            hours: hours & ALL_HOURS,
            doms: doms & ALL_DOMS,
            months: months & ALL_MONTHS,
            dows: dows & ALL_DOWS,
            dom_star: dom_unrestricted,
            dow_star: dow_unrestricted,
        };
        let ok = c.minutes != 0
            && c.hours != 0
            && c.doms != 0
            && c.months != 0
            && c.dows != 0
            && (!c.dom_star || c.doms == ALL_DOMS)
            && (!c.dow_star || c.dows == ALL_DOWS);
        ok.then_some(c)
    }

    /// Minutes (bit `v` = minute `v`).
    pub fn minute_bits(&self) -> u64 {
        self.minutes
    }
    /// Hours (bit `v` = hour `v`).
    pub fn hour_bits(&self) -> u32 {
        self.hours
    }
    /// Days of month (bit `v` = day `v`, 1-31).
    pub fn dom_bits(&self) -> u32 {
        self.doms
    }
    /// Months (bit `v` = month `v`, 1-12).
    pub fn month_bits(&self) -> u16 {
        self.months
    }
    /// Days of week (bit `v` = weekday `v`, Sunday = 0).
    pub fn dow_bits(&self) -> u8 {
        self.dows
    }
    /// Whether day-of-month is restricted (no `*`/`?` item without a step above 1).
    pub fn dom_restricted(&self) -> bool {
        !self.dom_star
    }
    /// Whether day-of-week is restricted (no `*`/`?` item without a step above 1).
    pub fn dow_restricted(&self) -> bool {
        !self.dow_star
    }

    /// The weekdays (bit `v` = weekday `v`, Sunday = 0) on which the expression fires, when
    /// whether a date matches depends on its weekday alone — every month, and day-of-month `*`
    /// (or every day 1-31 listed) — so that its firings repeat every week (SPEC §16). `None` for
    /// schedules that depend on the day of the month or the month.
    pub fn weekly_days(&self) -> Option<u8> {
        if self.months != ALL_MONTHS || self.doms != ALL_DOMS {
            return None;
        }
        // Day-of-month matches every date: with AND the weekdays decide, with OR every date fires.
        Some(if self.dom_star || self.dow_star { self.dows } else { ALL_DOWS })
    }

    /// Whether the expression matches this wall-clock minute. `dow` is 0-6 with Sunday = 0.
    pub fn matches(&self, minute: u32, hour: u32, dom: u32, month: u32, dow: u32) -> bool {
        minute < 64 && hour < 32 && self.minutes & (1 << minute) != 0 && self.hours & (1 << hour) != 0 && self.matches_date(dom, month, dow)
    }

    /// Whether the date part (day-of-month, month, day-of-week) matches, with robfig's AND/OR rule.
    pub fn matches_date(&self, dom: u32, month: u32, dow: u32) -> bool {
        if dom >= 32 || month >= 16 || dow >= 8 || self.months & (1 << month) == 0 {
            return false;
        }
        let dom_match = self.doms & (1 << dom) != 0;
        let dow_match = self.dows & (1 << dow) != 0;
        if self.dom_star || self.dow_star { dom_match && dow_match } else { dom_match || dow_match }
    }

    /// Whether the expression matches the minute of `t` (seconds are ignored).
    pub fn matches_naive(&self, t: &NaiveDateTime) -> bool {
        self.matches(t.minute(), t.hour(), t.day(), t.month(), t.weekday().num_days_from_sunday())
    }

    /// The first matching minute at or after `from` (rounded up to a whole minute), reading the
    /// expression in the same clock as `from`. `None` if nothing matches within nine years (the
    /// longest gap is a 29 February across 2100, which is not a leap year).
    pub fn next_match(&self, from: NaiveDateTime) -> Option<NaiveDateTime> {
        let mut t = from.with_nanosecond(0)?;
        if t.second() != 0 {
            t = t.with_second(0)? + Duration::minutes(1);
        }
        let mut date = t.date();
        let mut first_minute = t.hour() * 60 + t.minute();
        for _ in 0..(9 * 366) {
            if self.matches_date(date.day(), date.month(), date.weekday().num_days_from_sunday()) {
                for h in (first_minute / 60)..24 {
                    if self.hours & (1 << h) == 0 {
                        continue;
                    }
                    let lo = if h == first_minute / 60 { first_minute % 60 } else { 0 };
                    let mins = self.minutes & (ALL_MINUTES & (u64::MAX << lo));
                    if mins != 0 {
                        return date.and_hms_opt(h, mins.trailing_zeros(), 0);
                    }
                }
            }
            date = date.succ_opt()?;
            first_minute = 0;
        }
        None
    }
}

impl FromStr for Cron {
    type Err = CronError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cron::parse(s)
    }
}

impl fmt::Display for Cron {
    /// The canonical 5-field form: `*` for a full minute/hour/month field, `*` for an
    /// unrestricted day field (a restricted but full one stays `1-31` / `0-6`, since that changes
    /// the AND/OR rule), otherwise the shorter of `a-b,c,d` and a step form such as `*/15`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {}",
            render_field(self.minutes, 0, 59, None),
            render_field(self.hours as u64, 0, 23, None),
            render_field(self.doms as u64, 1, 31, Some(self.dom_star)),
            render_field(self.months as u64, 1, 12, None),
            render_field(self.dows as u64, 0, 6, Some(self.dow_star)),
        )
    }
}

/// Renders one field's bit set. `star` is `Some(flag)` for the two day fields, where being
/// unrestricted is meaningful beyond the set of values.
pub(crate) fn render_field(bits: u64, min: u32, max: u32, star: Option<bool>) -> String {
    if bits == mask(min, max) {
        return match star {
            Some(false) => format!("{min}-{max}"),
            _ => "*".to_string(),
        };
    }
    let values: Vec<u32> = (min..=max).filter(|v| bits & (1 << v) != 0).collect();
    let mut best = render_list(&values);
    if values.len() >= 3 {
        let step = values[1] - values[0];
        if step >= 2 && values.windows(2).all(|w| w[1] - w[0] == step) {
            let (first, last) = (values[0], values[values.len() - 1]);
            let stepped = if first == min && last + step > max { format!("*/{step}") } else { format!("{first}-{last}/{step}") };
            if stepped.len() < best.len() {
                best = stepped;
            }
        }
    }
    best
}

/// `1-5,7,9,10`: runs of three or more become ranges, shorter runs stay a list.
fn render_list(values: &[u32]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let mut j = i;
        while j + 1 < values.len() && values[j + 1] == values[j] + 1 {
            j += 1;
        }
        if j - i >= 2 {
            parts.push(format!("{}-{}", values[i], values[j]));
        } else {
            parts.extend(values[i..=j].iter().map(u32::to_string));
        }
        i = j + 1;
    }
    parts.join(",")
}

fn never_fires_reason(cron: &Cron) -> String {
    let months: Vec<&str> = (1..=12u32).filter(|m| cron.months & (1 << m) != 0).map(|m| MONTH_NAMES[m as usize - 1]).collect();
    let days = render_list(&(1..=31u32).filter(|d| cron.doms & (1 << d) != 0).collect::<Vec<_>>());
    let has = if months.len() == 1 { "has" } else { "have" };
    let list = match months.len() {
        1 => months[0].to_string(),
        n => format!("{} and {}", months[..n - 1].join(", "), months[n - 1]),
    };
    let plural = if cron.doms.count_ones() > 1 { "s" } else { "" };
    format!("{list} {has} no day{plural} {days}")
}

fn parse_shortcut(body: &str, whole: Range<usize>) -> Result<Cron, CronError> {
    let (m, h, dom, month, dow) = match body {
        "@yearly" | "@annually" => (1, 1, 1 << 1, 1 << 1, None),
        "@monthly" => (1, 1, 1 << 1, ALL_MONTHS, None),
        "@weekly" => (1, 1, ALL_DOMS, ALL_MONTHS, Some(1u8)),
        "@daily" | "@midnight" => (1, 1, ALL_DOMS, ALL_MONTHS, None),
        "@hourly" => (1, ALL_HOURS, ALL_DOMS, ALL_MONTHS, None),
        _ if body == "@every" || body.starts_with("@every ") || body.starts_with("@every\t") => {
            return Err(CronError::Every { span: whole });
        }
        _ => {
            let end = body.find(char::is_whitespace).unwrap_or(body.len());
            return Err(CronError::UnknownShortcut { text: body[..end].to_string(), span: whole.start..whole.start + end });
        }
    };
    Ok(Cron {
        minutes: m,
        hours: h,
        doms: dom,
        months: month,
        dows: dow.unwrap_or(ALL_DOWS),
        dom_star: dom == ALL_DOMS,
        dow_star: dow.is_none(),
    })
}

/// Splits on whitespace like Go's `strings.Fields`, keeping each field's byte offset.
fn split_fields(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, ch) in text.char_indices() {
        match (ch.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

/// Parses one field: returns its bits and whether it is unrestricted (robfig's star bit).
fn parse_field(field: CronField, text: &str, offset: usize) -> Result<(u64, bool), CronError> {
    let mut bits = 0u64;
    let mut star = false;
    let mut item_start = 0;
    for item in text.split(',') {
        let item_off = offset + item_start;
        item_start += item.len() + 1;
        let span = item_off..item_off + item.len();
        let malformed = |problem| CronError::Malformed { field, text: item.to_string(), problem, span: span.clone() };
        if item.is_empty() {
            return Err(malformed("empty list item (two commas, or a comma at an end)"));
        }
        if item.contains('#') {
            return Err(CronError::Unsupported { field, feature: UnsupportedFeature::NthWeekday, text: item.to_string(), span });
        }
        let (range_part, step_part) = match item.split_once('/') {
            Some((_, s)) if s.contains('/') => return Err(malformed("more than one `/`")),
            Some((r, s)) => (r, Some(s)),
            None => (item, None),
        };
        let (min, max) = field.bounds();
        let (start, mut end, is_star, single) = if range_part == "*" || range_part == "?" {
            (min, max, true, false)
        } else {
            let (lo, hi) = match range_part.split_once('-') {
                Some((_, h)) if h.contains('-') => return Err(malformed("more than one `-`")),
                Some((l, h)) => (l, Some(h)),
                None => (range_part, None),
            };
            if lo == "*" || lo == "?" {
                return Err(malformed("`*` cannot start a range; write `*` alone or `a-b`"));
            }
            if lo.is_empty() {
                return Err(malformed("range is missing its start (negative numbers are not allowed)"));
            }
            let start = parse_value(field, lo, item_off)?;
            match hi {
                Some("") => return Err(malformed("range is missing its end")),
                Some(h) => {
                    let h_off = item_off + lo.len() + 1;
                    (start, parse_value(field, h, h_off)?, false, false)
                }
                None => (start, start, false, true),
            }
        };
        let step = match step_part {
            None => 1,
            Some(s) => {
                let s_off = item_off + range_part.len() + 1;
                let s_span = s_off..s_off + s.len();
                if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(CronError::InvalidStep { field, text: s.to_string(), span: s_span });
                }
                let v = s.parse::<u32>().unwrap_or(u32::MAX);
                if v == 0 {
                    return Err(CronError::ZeroStep { field, text: item.to_string(), span: s_span });
                }
                // robfig: "N/step" means "N-max/step".
                if single {
                    end = max;
                }
                v
            }
        };
        if start > end {
            return Err(CronError::BackwardsRange {
                field,
                text: range_part.to_string(),
                start,
                end,
                span: item_off..item_off + range_part.len(),
            });
        }
        // robfig keeps the star bit for `*` and `*/1` only.
        if is_star && step <= 1 {
            star = true;
        }
        let mut v = start;
        while v <= end {
            bits |= 1 << v;
            v = match v.checked_add(step) {
                Some(n) => n,
                None => break,
            };
        }
    }
    Ok((bits, star))
}

/// Parses a number or (where the field has them) a 3-letter name, checking the field's bounds.
fn parse_value(field: CronField, tok: &str, off: usize) -> Result<u32, CronError> {
    let span = off..off + tok.len();
    if let Some((names, first)) = field.names()
        && let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(tok))
    {
        return Ok(first + i as u32);
    }
    if !tok.is_empty() && tok.bytes().all(|b| b.is_ascii_digit()) {
        let value = tok.parse::<u32>().unwrap_or(u32::MAX);
        let (min, max) = field.bounds();
        if field == CronField::DayOfWeek && value == 7 {
            return Err(CronError::DayOfWeekSeven { span });
        }
        if value < min || value > max {
            return Err(CronError::OutOfRange { field, value, span });
        }
        return Ok(value);
    }
    let upper = tok.to_ascii_uppercase();
    let digits_then = |suffix: &str| upper.strip_suffix(suffix).is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
    let feature = if upper == "LW" || digits_then("L") {
        Some(UnsupportedFeature::Last)
    } else if digits_then("W") {
        Some(UnsupportedFeature::NearestWeekday)
    } else {
        None
    };
    match feature {
        Some(feature) => Err(CronError::Unsupported { field, feature, text: tok.to_string(), span }),
        None => Err(CronError::InvalidValue { field, text: tok.to_string(), span }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        Cron::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")).to_string()
    }

    fn err(s: &str) -> CronError {
        Cron::parse(s).expect_err(s)
    }

    #[test]
    fn weekly_schedules_are_those_whose_dates_depend_on_the_weekday_alone() {
        let days = |s: &str| Cron::parse(s).unwrap().weekly_days();
        assert_eq!(days("0 9 * * 1-5"), Some(0b011_1110));
        assert_eq!(days("0 0 * * 6"), Some(0b100_0000));
        assert_eq!(days("0 23 * * *"), Some(0b111_1111));
        assert_eq!(days("@weekly"), Some(0b000_0001));
        assert_eq!(days("*/15 * ? * *"), Some(0b111_1111));
        // OR with a full day-of-month list fires every day.
        assert_eq!(days("0 0 1-31 * 1"), Some(0b111_1111));
        assert_eq!(days("0 1 1 * *"), None);
        assert_eq!(days("0 0 * 1-6 *"), None);
        assert_eq!(days("@monthly"), None);
        assert_eq!(days("0 0 */2 * 1"), None, "`*/2` is restricted: the 1st, 3rd, … or a Monday");
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(canon("0 9 * * 1-5"), "0 9 * * 1-5");
        assert_eq!(canon("*/15 * * * *"), "*/15 * * * *");
        assert_eq!(canon("0-59/15 * * * *"), "*/15 * * * *");
        assert_eq!(canon("0,30 * * * *"), "0,30 * * * *");
        assert_eq!(canon("0 0 * JAN,feb,Mar mon-FRI"), "0 0 * 1-3 1-5");
        assert_eq!(canon("  0 0 ? * ?  "), "0 0 * * *");
        assert_eq!(canon("5/20 * * * *"), "5,25,45 * * * *");
        assert_eq!(canon("0 0 1-31 * 1"), "0 0 1-31 * 1");
        assert_eq!(canon("0 0 */2 * *"), "0 0 */2 * *");
        assert_eq!(canon("0 0 5,* * *"), "0 0 * * *");
        assert_eq!(canon("0 0 * * sun/2"), "0 0 * * */2");
        assert_eq!(canon("1,3,5,7,9,11 * * * *"), "1-11/2 * * * *");
        assert_eq!(canon("0 0 * 1,3,5,7,8,10,12 *"), "0 0 * 1,3,5,7,8,10,12 *");
        assert_eq!(canon("@yearly"), "0 0 1 1 *");
        assert_eq!(canon("@annually"), "0 0 1 1 *");
        assert_eq!(canon("@monthly"), "0 0 1 * *");
        assert_eq!(canon("@weekly"), "0 0 * * 0");
        assert_eq!(canon("@daily"), "0 0 * * *");
        assert_eq!(canon("@midnight"), "0 0 * * *");
        assert_eq!(canon("@hourly"), "0 * * * *");
    }

    #[test]
    fn star_bit_mirrors_robfig() {
        let c = Cron::parse("0 0 */1 * 1").unwrap();
        assert!(!c.dom_restricted(), "*/1 keeps the star bit");
        let c = Cron::parse("0 0 */2 * 1").unwrap();
        assert!(c.dom_restricted() && c.dow_restricted());
        // OR: the 1st, 3rd, ... or any Monday.
        assert!(c.matches(0, 0, 2, 1, 1));
        assert!(c.matches(0, 0, 3, 1, 2));
        assert!(!c.matches(0, 0, 2, 1, 2));
        let c = Cron::parse("0 0 5,* * 1").unwrap();
        assert!(!c.dom_restricted());
        // AND with an unrestricted day-of-month: Mondays only.
        assert!(c.matches(0, 0, 5, 1, 1) && !c.matches(0, 0, 5, 1, 2));
        let c = Cron::parse("0 0 1-31 * 1").unwrap();
        assert!(c.matches(0, 0, 5, 1, 2), "a restricted full day-of-month ORs to every day");
    }

    #[test]
    fn rejects_with_spans() {
        let cases: &[(&str, &str)] = &[
            ("0 0 L * *", "L"),
            ("0 0 15W * *", "15W"),
            ("0 0 * * 5L", "5L"),
            ("0 0 * * 1#2", "1#2"),
            ("0 0 * * 7", "7"),
            ("0 0 * * 5-7", "7"),
            ("60 0 * * *", "60"),
            ("0 24 * * *", "24"),
            ("0 0 0 * *", "0"),
            ("0 0 * 13 *", "13"),
            ("0 0 * * 5-1", "5-1"),
            ("*/0 0 * * *", "0"),
            ("*/x 0 * * *", "x"),
            ("0 0 * foo *", "foo"),
            ("0 0 * * 1,,2", ""),
            ("0 0 1-2-3 * *", "1-2-3"),
            ("0 0 */2/3 * *", "*/2/3"),
            ("0 0 *-3 * *", "*-3"),
            ("0 0 -3 * *", "-3"),
            ("0 0 * mon *", "mon"),
            ("0 0 30 2 *", "30 2"),
            ("0 0 31 4,6 *", "31 4,6"),
            ("TZ=UTC 0 0 * * *", "TZ=UTC"),
            ("CRON_TZ=Asia/Shanghai 0 9 * * *", "CRON_TZ=Asia/Shanghai"),
            ("@every 1h", "@every 1h"),
            ("@Daily", "@Daily"),
            ("0 0 0 * * *", "0 0 0 * * *"),
            ("0 0 * *", "0 0 * *"),
        ];
        for (text, part) in cases {
            let e = err(text);
            assert_eq!(&&text[e.span()], part, "{text}: {e}");
        }
        assert!(matches!(err("0 0 * * 7"), CronError::DayOfWeekSeven { .. }));
        assert!(matches!(err("0 0 L * *"), CronError::Unsupported { feature: UnsupportedFeature::Last, .. }));
        assert!(matches!(err("0 0 LW * *"), CronError::Unsupported { feature: UnsupportedFeature::Last, .. }));
        assert!(matches!(err("*/0 * * * *"), CronError::ZeroStep { .. }));
        assert!(matches!(err("@every 5m"), CronError::Every { .. }));
        assert!(matches!(err("0 0 0 * * *"), CronError::FieldCount { found: 6, .. }));
        assert!(matches!(err("   "), CronError::Empty { .. }));
        assert_eq!(err("0 0 30 2 *").to_string(), "the expression can never fire: February has no day 30");
        assert_eq!(err("0 0 31 4,6 *").to_string(), "the expression can never fire: April and June have no day 31");
        // Names only where robfig knows them; `jul`/`wed` must not trip the L/W detection.
        assert!(Cron::parse("0 0 * jul wed").is_ok());
        // February 29 fires in leap years; a restricted day-of-week ORs to weekly firing.
        assert!(Cron::parse("0 0 29 2 *").is_ok());
        assert!(Cron::parse("0 0 30 2 1").is_ok());
    }

    #[test]
    fn display_round_trips() {
        for s in ["0 0 1-31 * 0-6", "*/7 1-23/2 2-30/4 */3 */2", "0 0 1 1 *", "59 23 31 12 6"] {
            let c = Cron::parse(s).unwrap();
            assert_eq!(Cron::parse(&c.to_string()).unwrap(), c, "{s} -> {c}");
        }
    }

    #[test]
    fn next_match_finds_leap_days() {
        let c = Cron::parse("30 12 29 2 *").unwrap();
        let from = chrono::NaiveDate::from_ymd_opt(2097, 3, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        let next = c.next_match(from).unwrap();
        assert_eq!(next.to_string(), "2104-02-29 12:30:00");
        let from = chrono::NaiveDate::from_ymd_opt(2026, 2, 28).unwrap().and_hms_opt(12, 30, 1).unwrap();
        assert_eq!(c.next_match(from).unwrap().to_string(), "2028-02-29 12:30:00");
    }
}
