//! Validate phase: the `[autoscaling]` section of one pipeline (SPEC §6).
//!
//! In: `[autoscaling]` as read ([`raw::Autoscaling`]), the profile, the job and `[flink]`'s slots, deployment mode and
//! configuration, the project and environment (zone, strategy, horizon). Out: the scaling mode,
//! the bounds, the starting count, the schedule entries (a preset or `[[autoscaling.schedule]]`,
//! each within the bounds, lowered by [`crate::validate::schedule`], no two firing at the same
//! minute), `operator` mode's autoscaler keys, and the keys the mode ignores; every problem
//! pushed as a diagnostic.

use super::resources::profile_size;
use super::{Ctx, duration, in_range, not_a_duration, required, unknown_word};
use crate::diag::{Code, Diagnostic, Diagnostics, Loc};
use crate::model::*;
use crate::spec::Value;
use crate::spec::raw::{self, List, Preset, Sp};
use crate::units::format_number;
use crate::validate::names::{is_dns1123_label, not_a_label};
use crate::validate::project::{check_timezone, strategy_of};
use crate::validate::schedule::{Draft, Located};

/// The schedule presets of SPEC §6.2.
pub const PRESETS: &[&str] = crate::spec::raw::Preset::WORDS;

/// The entries of a schedule preset (SPEC §6.2): name, cron, min, max, KEDA window end; `at`
/// is where the preset is named.
pub fn preset_entries(preset: Preset, at: &Loc) -> Vec<Draft> {
    let e = |name: &str, cron: &str, min, max, end: Option<&str>| Draft {
        name: name.into(),
        cron: cron.into(),
        cron_loc: at.clone(),
        min_replicas: min,
        max_replicas: max,
        replicas: min,
        end: end.map(Into::into),
        end_loc: None,
    };
    match preset {
        Preset::WorkdayPeak => vec![
            e("workday-morning-scale-up", "0 9 * * 1-5", 3, 10, Some("0 18 * * 1-5")),
            e("workday-evening-scale-down", "0 18 * * 1-5", 1, 3, None),
            e("weekend-scale-down", "0 0 * * 6", 1, 2, None),
        ],
        Preset::Peak24x7 => {
            vec![e("daytime-scale-up", "0 9 * * *", 2, 8, Some("0 23 * * *")), e("night-scale-down", "0 23 * * *", 1, 3, None)]
        }
    }
}

/// `autoscaling.mode`, read first: it decides the deployment mode. Also whether the user wrote
/// the `hpa` alias.
pub(super) fn mode(a: &raw::Autoscaling) -> (ScalingMode, bool) {
    use raw::AutoscalingMode as M;
    match a.mode.as_ref().map(|m| m.value) {
        None | Some(M::Disabled) => (ScalingMode::Disabled, false),
        Some(M::Reactive) => (ScalingMode::Reactive, false),
        Some(M::Hpa) => (ScalingMode::HpaReactive, true),
        Some(M::HpaReactive) => (ScalingMode::HpaReactive, false),
        Some(M::Scheduled) => (ScalingMode::Scheduled, false),
        Some(M::ScheduledHpa) => (ScalingMode::ScheduledHpa, false),
        Some(M::Operator) => (ScalingMode::Operator, false),
        Some(M::Keda) => (ScalingMode::Keda, false),
    }
}

/// Where `mode` was written; `[autoscaling]` (or the pipeline) without it.
fn mode_loc(a: &Sp<raw::Autoscaling>) -> &Loc {
    a.value.mode.as_ref().map_or(&a.loc, |m| &m.loc)
}

/// A bounded job runs once at a fixed size, so any scaling mode is an error.
pub(super) fn check_bounded(a: &Sp<raw::Autoscaling>, mode: ScalingMode, d: &mut Diagnostics) {
    if mode != ScalingMode::Disabled {
        d.push(
            Diagnostic::error(Code::BoundedJobConflict, format!("a bounded job cannot autoscale (autoscaling mode `{}`)", mode.as_str()))
                .at(mode_loc(a))
                .label("a bounded job runs once at a fixed size")
                .help("set `autoscaling.mode = \"disabled\"` for this pipeline (in an overlay: `[pipelines.<name>] autoscaling.mode = \"disabled\"`)"),
        );
    }
}

/// The keys and entry fields the chosen mode does not use (listed by `explain`): `keys` are the
/// keys `[autoscaling]` was written with, in order; `entries` the schedule entries read.
pub(super) fn ignored(keys: &[String], entries: &[Sp<raw::ScheduleEntry>], mode: ScalingMode) -> Vec<String> {
    let mut ignored = ignored_keys(keys, mode);
    // An entry's `end` only means something to KEDA; its `replicas` only where CronJobs set the
    // count (`scheduled`).
    for (key, ignored_in) in [
        ("end", matches!(mode, ScalingMode::Scheduled | ScalingMode::ScheduledHpa)),
        ("replicas", matches!(mode, ScalingMode::ScheduledHpa | ScalingMode::Keda)),
    ] {
        if !ignored_in {
            continue;
        }
        for e in entries {
            let written = if key == "end" { e.value.end.is_some() } else { e.value.replicas.is_some() };
            if let (true, Some(name)) = (written, &e.value.name) {
                ignored.push(format!("autoscaling.schedule[{}].{key}", name.value));
            }
        }
    }
    ignored
}

/// The starting count and the upper bound against `[flink]`: in native mode an explicit
/// `replicas` overrides `job.parallelism`; in reactive modes slots beyond
/// `pipeline.max-parallelism` idle.
pub(super) fn check_against_flink(
    a: &mut Autoscaling,
    written: &Sp<raw::Autoscaling>,
    job: Option<&Job>,
    flink: &super::flink::Section,
    d: &mut Diagnostics,
) {
    let (slots, config) = (flink.slots, &flink.config);
    if flink.mode == DeploymentMode::Native {
        a.emit_replicas = written.value.replicas.is_some();
        if a.emit_replicas
            && let Some(j) = &job
            && a.replicas * slots != j.parallelism
        {
            d.push(
                Diagnostic::warning(
                    Code::ReplicasOverrideParallelism,
                    format!(
                        "replicas {} × slots {slots} = {} overrides job.parallelism {} in native mode",
                        a.replicas,
                        a.replicas * slots,
                        j.parallelism
                    ),
                )
                .at_opt(written.value.replicas.as_ref().map(|r| &r.loc))
                .label("the operator runs the job at replicas × slots")
                .help("remove autoscaling.replicas (the TaskManager count then follows from parallelism / slots), or make them agree"),
            );
        }
    }
    if a.mode.is_reactive_family()
        && let Some(mp) = config.get("pipeline.max-parallelism").and_then(|v| v.parse::<u64>().ok())
    {
        let slots_total = u64::from(a.max_replicas) * u64::from(slots);
        if slots_total > mp {
            d.push(
                Diagnostic::warning(
                    Code::SlotsAboveMaxParallelism,
                    format!("max_replicas × slots = {} × {} = {slots_total} exceeds pipeline.max-parallelism {mp}", a.max_replicas, slots),
                )
                .at(written.value.max_replicas.as_ref().map_or(&written.loc, |m| &m.loc))
                .label("some slots would idle")
                .help("lower max_replicas, or raise pipeline.max-parallelism (it cannot change for a running job without losing state)"),
            );
        }
    }
}

fn ignored_keys(keys: &[String], mode: ScalingMode) -> Vec<String> {
    let uses_schedule = matches!(mode, ScalingMode::Scheduled | ScalingMode::ScheduledHpa | ScalingMode::Keda);
    let mut out = vec![];
    for k in keys {
        let ignored = match k.as_str() {
            "preset" | "schedule" | "timezone" | "schedule_strategy" => !uses_schedule,
            "operator" => mode != ScalingMode::Operator,
            "min_replicas" | "max_replicas" => matches!(mode, ScalingMode::Disabled | ScalingMode::Reactive | ScalingMode::Operator),
            "target_cpu_utilization" => !matches!(mode, ScalingMode::HpaReactive | ScalingMode::ScheduledHpa | ScalingMode::Keda),
            _ => false,
        };
        if ignored {
            out.push(format!("autoscaling.{k}"));
        }
    }
    out
}

/// What `[autoscaling]` needs from the rest of the pipeline.
pub(super) struct Scaling {
    pub mode: ScalingMode,
    /// The user wrote `hpa`, the alias of `hpa_reactive`.
    pub hpa_alias: bool,
    pub profile: Profile,
    /// `[flink] slots`.
    pub slots: u32,
}

/// Checks `[autoscaling]`; also returns the schedule entries as written (for [`ignored`]).
pub(super) fn autoscaling(
    name: &str,
    written: &Sp<raw::Autoscaling>,
    scaling: &Scaling,
    job: Option<&Job>,
    cx: &Ctx<'_>,
    d: &mut Diagnostics,
) -> Option<(Autoscaling, Vec<Sp<raw::ScheduleEntry>>)> {
    let Scaling { mode, hpa_alias, profile, slots } = *scaling;
    let (t, at) = (&written.value, &written.loc);
    let section = "[autoscaling]";
    let uses_schedule = matches!(mode, ScalingMode::Scheduled | ScalingMode::ScheduledHpa | ScalingMode::Keda);
    let uses_bounds = !matches!(mode, ScalingMode::Disabled | ScalingMode::Reactive | ScalingMode::Operator);
    let timezone = match &t.timezone {
        Some(tz) => {
            check_timezone(tz, d);
            tz.value.clone()
        }
        None => cx.env.timezone.clone().unwrap_or_else(|| cx.project.defaults.timezone.clone()),
    };
    let strategy = t.schedule_strategy.as_ref().map_or(cx.project.defaults.schedule_strategy, |s| strategy_of(s.value));

    // Schedule entries: a preset or explicit entries, not both.
    let mut schedule = vec![];
    let mut numbers: Vec<EntryNumbers> = vec![];
    let mut entries = vec![];
    let preset = &t.preset;
    let explicit = &t.schedule;
    if uses_schedule {
        if let (Some(p), Some(_)) = (preset, explicit) {
            d.push(
                Diagnostic::error(Code::PresetWithEntries, "`preset` and `[[autoscaling.schedule]]` cannot be combined")
                    .at(&p.loc)
                    .label("a preset defines its own entries")
                    .help("remove the preset, or remove the [[autoscaling.schedule]] entries"),
            );
        }
        if let Some(p) = preset {
            match Preset::from_word(&p.value) {
                Some(w) => {
                    schedule = preset_entries(w, &p.loc);
                    numbers = vec![EntryNumbers::preset(&p.loc); schedule.len()];
                }
                None => d.push(unknown_word("preset", p, PRESETS, format!("expected one of: {}", PRESETS.join(", ")))),
            }
        } else if let Some((list, node)) = explicit.as_ref().and_then(|s| {
            raw::from_node::<List<Sp<raw::ScheduleEntry>>>(&s.node, "schedule", section, "autoscaling.schedule", d).map(|l| (l, &s.node))
        }) {
            entries = list.0;
            for e in &entries {
                if let Some((entry, at)) = schedule_entry(e, mode, d) {
                    if schedule.iter().any(|x: &Draft| x.name == entry.name) {
                        d.push(
                            Diagnostic::error(Code::DuplicateName, format!("duplicate schedule entry name {:?}", entry.name))
                                .at(&e.loc)
                                .label("names must be unique"),
                        );
                    }
                    schedule.push(entry);
                    numbers.push(at);
                }
            }
            if matches!(&node.value, Value::Array(items) if items.is_empty()) {
                d.push(
                    Diagnostic::error(Code::MissingSchedule, "`schedule` is empty")
                        .at(&node.loc)
                        .label("no entries")
                        .help("add [[autoscaling.schedule]] entries or use a preset"),
                );
            }
        } else {
            d.push(
                Diagnostic::error(Code::MissingSchedule, format!("autoscaling mode `{}` needs a schedule", mode.as_str()))
                    .at(at)
                    .label("no preset and no [[autoscaling.schedule]] entries")
                    .help(format!(
                        "add `preset = \"workday_peak\"` (or one of {}) or [[autoscaling.schedule]] entries",
                        PRESETS.join(", ")
                    )),
            );
        }
    }

    let prof = profile_size(profile);
    let (env_min, env_max) = if schedule.is_empty() {
        (prof.min_replicas, prof.max_replicas)
    } else {
        (schedule.iter().map(|e| e.min_replicas).min().unwrap_or(1), schedule.iter().map(|e| e.max_replicas).max().unwrap_or(1))
    };
    let min_v = in_range(&t.min_replicas, "min_replicas", section, 1, 10_000, d);
    let max_v = in_range(&t.max_replicas, "max_replicas", section, 1, 10_000, d);
    let min_replicas = min_v.as_ref().map_or(env_min, |v| v.value as u32);
    let max_replicas = max_v.as_ref().map_or(env_max, |v| v.value as u32);
    if uses_bounds && min_replicas > max_replicas {
        d.push(
            Diagnostic::error(Code::MinAboveMax, format!("min_replicas {min_replicas} is greater than max_replicas {max_replicas}"))
                .at(min_v.as_ref().or(max_v.as_ref()).map_or(at, |v| &v.loc))
                .label("1 <= min_replicas <= max_replicas")
                .help("swap them, or raise max_replicas"),
        );
    }
    if uses_bounds {
        let bounds_at = min_v.as_ref().or(max_v.as_ref()).map(|v| v.loc.clone());
        for (e, at) in schedule.iter().zip(&numbers) {
            let outside = |n: u32| n < min_replicas || n > max_replicas;
            // Quote the numbers the entry itself wrote, and point at the first one out of bounds.
            let replicas_only = mode == ScalingMode::Scheduled && at.min.is_none() && at.replicas.is_some();
            let (what, loc) = if replicas_only {
                (format!("replicas {}", e.replicas), at.replicas.as_ref())
            } else if outside(e.min_replicas) || outside(e.max_replicas) {
                let loc = if outside(e.min_replicas) { at.min.as_ref() } else { at.max.as_ref() };
                (format!("{}–{}", e.min_replicas, e.max_replicas), loc)
            } else {
                (format!("replicas {}", e.replicas), at.replicas.as_ref())
            };
            if outside(e.min_replicas) || outside(e.max_replicas) || (mode == ScalingMode::Scheduled && outside(e.replicas)) {
                let mut diag = Diagnostic::error(
                    Code::EntryOutsideBounds,
                    format!("schedule entry {:?} ({what}) lies outside the pipeline's bounds {min_replicas}–{max_replicas}", e.name),
                )
                .at(loc.unwrap_or(&at.table))
                .label("outside the pipeline's bounds");
                diag = match &bounds_at {
                    Some(place) => diag.note_at(place, "the pipeline's bounds, the hard cap, are set at"),
                    None => {
                        diag.note(format!("the pipeline's bounds {min_replicas}–{max_replicas} come from the profile and are the hard cap"))
                    }
                };
                let from_preset = at.min.is_none() && at.max.is_none() && at.replicas.is_none();
                d.push(diag.help(if from_preset {
                    "widen autoscaling.min_replicas/max_replicas, or replace the preset by [[autoscaling.schedule]] entries within them"
                } else {
                    "narrow the entry, or widen autoscaling.min_replicas/max_replicas"
                }));
            }
        }
    }
    let target_cpu_utilization =
        in_range(&t.target_cpu_utilization, "target_cpu_utilization", section, 1, 100, d).map_or(75, |v| v.value as u32);
    let replicas_v = in_range(&t.replicas, "replicas", section, 1, 10_000, d);
    let replicas = match &replicas_v {
        Some(r) => r.value as u32,
        None if mode.count_managed_elsewhere() => min_replicas,
        None => job.map_or(1, |j| j.parallelism.div_ceil(slots)),
    };
    if let Some(r) = &replicas_v
        && uses_bounds
        && (replicas < min_replicas || replicas > max_replicas)
    {
        d.push(
            Diagnostic::error(
                Code::ReplicasOutsideBounds,
                format!("replicas {replicas} lies outside min_replicas..max_replicas ({min_replicas}..{max_replicas})"),
            )
            .at(&r.loc)
            .label("starting count out of bounds")
            .help("choose a starting count within the bounds"),
        );
    }

    let mode_loc = mode_loc(written).clone();
    let lowered = crate::validate::schedule::lower(
        schedule,
        &crate::validate::schedule::Setting { pipeline: name, mode, mode_loc, strategy, timezone: &timezone, min_replicas, max_replicas },
        cx.project,
        cx.cache,
        d,
    );
    same_minute_entries(&lowered.entries, cx.project.valid_from, d);
    let schedule: Vec<ScheduleEntry> = lowered.entries.into_iter().map(|e| e.0).collect();

    let mut operator_config = vec![];
    if mode == ScalingMode::Operator {
        let o: raw::OperatorAutoscaler =
            t.operator.as_ref().and_then(|o| raw::from_node(&o.node, "operator", section, "autoscaling.operator", d)).unwrap_or_default();
        let op = "[autoscaling.operator]";
        operator_config.push(("job.autoscaler.enabled".to_string(), "true".to_string()));
        if let Some(u) = &o.utilization_target {
            if u.value <= 0.0 || u.value > 1.0 {
                d.push(
                    Diagnostic::error(Code::OutOfRange, "`utilization_target` must be in (0, 1]").at(&u.loc).label("a fraction, e.g. 0.7"),
                );
            }
            operator_config.push(("job.autoscaler.utilization.target".into(), format_number(u.value)));
        }
        for (key, flink_key, v) in [
            ("metrics_window", "job.autoscaler.metrics.window", &o.metrics_window),
            ("stabilization_interval", "job.autoscaler.stabilization.interval", &o.stabilization_interval),
            ("scale_down_interval", "job.autoscaler.scale-down.interval", &o.scale_down_interval),
        ] {
            if let Some(v) = v {
                match duration(&v.value) {
                    Ok(_) => operator_config.push((flink_key.into(), v.value.clone())),
                    Err(e) => d.push(not_a_duration(key, &e, &v.loc)),
                }
            }
        }
        if let Some(v) = in_range(&o.vertex_max_parallelism, "vertex_max_parallelism", op, 1, 32768, d) {
            operator_config.push(("job.autoscaler.vertex.max-parallelism".into(), v.value.to_string()));
        }
        operator_config.sort();
    }
    let autoscaling = Autoscaling {
        mode,
        hpa_alias,
        replicas,
        emit_replicas: true,
        min_replicas,
        max_replicas,
        target_cpu_utilization,
        timezone,
        strategy,
        schedule,
        cronjob_time_zone: lowered.cronjob_time_zone,
        reconcile_offsets: lowered.reconcile_offsets,
        operator_config,
    };
    Some((autoscaling, entries))
}

/// SPEC §17: two entries of one pipeline that fire at the same local minute are an error: their
/// CronJobs would race, and which bounds win would depend on which pod finishes last.
fn same_minute_entries(schedule: &[Located], from: chrono::NaiveDate, d: &mut Diagnostics) {
    for (i, (b, b_loc)) in schedule.iter().enumerate() {
        for (a, a_loc) in &schedule[..i] {
            if let Some(t) = first_common_minute(a.cron.cron(), b.cron.cron(), from) {
                d.push(
                    Diagnostic::error(
                        Code::SameMinuteEntries,
                        format!("schedule entries {:?} and {:?} fire at the same minute", a.name, b.name),
                    )
                    .at(b_loc)
                    .label(format!("also fires at {} (local time)", t.format("%a %Y-%m-%d %H:%M")))
                    .note_at(a_loc, format!("{:?} is written at", a.name))
                    .note("their CronJobs would race: the bounds that win would depend on which finishes last")
                    .help("move one entry by a minute, or merge the two into one entry"),
                );
            }
        }
    }
}

/// The first local minute, on or after `from`, at which both crons fire. The Gregorian calendar
/// repeats every 28 years between 1901 and 2099 (weekday, day of month, month and leap years
/// together), so 28 years from `from` cover every date pattern of the horizon (which ends on
/// 2100-01-01).
fn first_common_minute(a: &crate::schedule::Cron, b: &crate::schedule::Cron, from: chrono::NaiveDate) -> Option<chrono::NaiveDateTime> {
    use chrono::Datelike;
    let minutes = a.minute_bits() & b.minute_bits();
    let hours = a.hour_bits() & b.hour_bits();
    if minutes == 0 || hours == 0 {
        return None;
    }
    let end = chrono::NaiveDate::from_ymd_opt(2100, 1, 1)?.min(from.with_year(from.year() + 28).unwrap_or(from));
    let mut day = from;
    while day < end {
        let (dom, month, dow) = (day.day(), day.month(), day.weekday().num_days_from_sunday());
        if a.matches_date(dom, month, dow) && b.matches_date(dom, month, dow) {
            return day.and_hms_opt(hours.trailing_zeros(), minutes.trailing_zeros(), 0);
        }
        day = day.succ_opt()?;
    }
    None
}

/// Where an entry wrote its numbers, for errors about them (SPEC §17: the entry's own place).
#[derive(Clone)]
struct EntryNumbers {
    table: Loc,
    min: Option<Loc>,
    max: Option<Loc>,
    replicas: Option<Loc>,
}

impl EntryNumbers {
    /// An entry of a preset: its numbers are written where the preset is named.
    fn preset(at: &Loc) -> Self {
        EntryNumbers { table: at.clone(), min: None, max: None, replicas: None }
    }
}

fn schedule_entry(e: &Sp<raw::ScheduleEntry>, mode: ScalingMode, d: &mut Diagnostics) -> Option<(Draft, EntryNumbers)> {
    let section = "[[autoscaling.schedule]]";
    let (t, at) = (&e.value, &e.loc);
    let name = required(t.name.clone(), "name", at, "give each entry a DNS-1123 `name`", d)?;
    if !is_dns1123_label(&name.value) {
        d.push(
            not_a_label("schedule entry name", &name.value)
                .at(&name.loc)
                .label("used in CronJob names")
                .help("use lower-case letters, digits and `-`"),
        );
    }
    let cron = required(t.cron.clone(), "cron", at, "add e.g. `cron = \"0 9 * * 1-5\"`", d)?;
    let replicas_v = in_range(&t.replicas, "replicas", section, 1, 10_000, d);
    let min_v = in_range(&t.min_replicas.as_ref().and_then(|m| m.ok()).cloned(), "min_replicas", section, 1, 10_000, d);
    // In `scheduled` mode the CronJobs set the TaskManager count itself: an entry may give just
    // `replicas` (SPEC §17), which is then also its min and max.
    let min = match (&min_v, &replicas_v) {
        (Some(m), _) => m.clone(),
        (None, Some(r)) if mode == ScalingMode::Scheduled => r.clone(),
        // Written, but wrongly (reported).
        (None, _) if t.min_replicas.is_some() => return None,
        (None, _) => {
            let help = if mode == ScalingMode::Scheduled {
                "each entry sets `replicas` (the TaskManager count), or `min_replicas`/`max_replicas`"
            } else {
                "each entry sets min_replicas"
            };
            required(None::<Sp<i64>>, "min_replicas", at, help, d)?
        }
    };
    let max_v = in_range(&t.max_replicas, "max_replicas", section, 1, 10_000, d);
    let max = max_v.as_ref().map_or(min.value, |v| v.value);
    if min.value > max {
        d.push(
            Diagnostic::error(Code::MinAboveMax, format!("entry {:?}: min_replicas {} > max_replicas {max}", name.value, min.value))
                .at(&min.loc)
                .label("min above max"),
        );
    }
    let replicas = replicas_v.as_ref().map_or(min.value, |v| v.value);
    let numbers =
        EntryNumbers { table: at.clone(), min: min_v.map(|v| v.loc), max: max_v.map(|v| v.loc), replicas: replicas_v.map(|v| v.loc) };
    let end = t.end.clone();
    Some((
        Draft {
            name: name.value,
            cron: cron.value,
            cron_loc: cron.loc,
            min_replicas: min.value as u32,
            max_replicas: max as u32,
            replicas: replicas as u32,
            end_loc: end.as_ref().map(|e| e.loc.clone()),
            end: end.map(|e| e.value),
        },
        numbers,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;
    use crate::model::ScheduleCron;

    #[test]
    fn every_preset_entry_has_valid_crons() {
        let at = Loc { file: FileId(0), span: 0..0 };
        for &preset in Preset::ALL {
            let entries = preset_entries(preset, &at);
            assert!(!entries.is_empty(), "{preset}");
            for e in entries {
                assert!(ScheduleCron::parse(&e.cron).is_ok(), "{preset}: {}", e.cron);
                assert!(e.end.as_deref().is_none_or(|end| ScheduleCron::parse(end).is_ok()), "{preset}: {:?}", e.end);
            }
        }
    }
}
