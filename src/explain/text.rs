//! Explain phase, text: an [`Explanation`] as plain text for a terminal, one headed section
//! after another, each with aligned tables and wrapped paragraphs.
//!
//! In: an [`Explanation`]. Out: a `String` (no color, no trailing spaces, deterministic); one
//! method per section, in the order [`Explanation::to_text`] lists them.

use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::{Explanation, Reconcile, Segment, WEEK_MINUTES, deploy_mode, num, strategy_name, uses_bounds, uses_schedule};
use crate::model::{ScalingMode, ScheduleStrategy};
use crate::schedule::Firing;
use crate::units::MemorySize;

/// Zone abbreviation at an instant (`CST`, `EDT`, or `+0545` where the database has none).
fn abbrev(zone: Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&zone).offset().to_string()
}

/// A firing in local time with the zone's abbreviation.
fn fmt_local(zone: Tz, f: &Firing) -> String {
    format!("{} {}", f.local.format("%a %Y-%m-%d %H:%M"), abbrev(zone, f.utc))
}

/// An instant in UTC, with its weekday.
fn fmt_utc(t: DateTime<Utc>) -> String {
    t.format("%a %Y-%m-%d %H:%M UTC").to_string()
}

/// `Mon 09:00`, and `Sun 24:00` for the end of the week.
fn fmt_week_minute(m: u32) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    if m >= WEEK_MINUTES {
        return "Sun 24:00".into();
    }
    format!("{} {:02}:{:02}", DAYS[(m / 1440) as usize], m % 1440 / 60, m % 60)
}

/// Left-aligned columns separated by two spaces; `right` marks right-aligned columns.
fn table(rows: &[Vec<String>], right: &[usize], indent: &str) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width: Vec<usize> = (0..cols).map(|i| rows.iter().filter_map(|r| r.get(i)).map(|c| c.chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::from(indent);
        for (i, cell) in r.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = width[i] - cell.chars().count();
            if right.contains(&i) {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Wraps a paragraph at `width` columns with `indent` on every line.
fn wrap(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        if line.len() > indent.len() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line = String::from(indent);
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if line.len() > indent.len() {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn heading(out: &mut String, title: &str) {
    let _ = writeln!(out, "\n{title}\n{}", "-".repeat(title.chars().count()));
}

/// Memory in Flink notation, with one decimal when it is not a whole number of mebibytes.
fn fmt_mem(m: MemorySize) -> String {
    const MIB: u64 = 1 << 20;
    if m.bytes().is_multiple_of(MIB) { format!("{}m", m.bytes() / MIB) } else { format!("{:.1}m", m.bytes() as f64 / MIB as f64) }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

impl Explanation {
    /// The bounds column of the week table: `3–10`, or the fixed count.
    fn bounds(&self, s: &Segment) -> String {
        if self.week.fixed { s.min.to_string() } else { format!("{}–{}", s.min, s.max) }
    }

    /// Plain-text explanation (no color), in headed sections with aligned tables.
    pub fn to_text(&self) -> String {
        let sections: [fn(&Self, &mut String); 16] = [
            Self::pipeline_section,
            Self::autoscaling_section,
            Self::objects_section,
            Self::delivery_section,
            Self::flink_section,
            Self::resources_section,
            Self::image_section,
            Self::week_section,
            Self::entries_section,
            Self::reconcile_section,
            Self::in_force_section,
            Self::transitions_section,
            Self::cost_section,
            Self::ignored_section,
            Self::day2_section,
            Self::provenance_section,
        ];
        let mut o = String::new();
        for section in sections {
            section(self, &mut o);
        }
        o
    }

    /// The title and the pipeline's identity: name, env, namespace, description, sources.
    fn pipeline_section(&self, o: &mut String) {
        let p = &self.pipeline;
        let title = format!("flinkops explain: {} in env {}", p.name, p.env);
        let _ = writeln!(o, "{title}\n{}", "=".repeat(title.chars().count()));

        heading(o, "Pipeline");
        let mut rows =
            vec![vec!["name".into(), p.name.clone()], vec!["env".into(), p.env.clone()], vec!["namespace".into(), p.namespace.clone()]];
        if let Some(d) = &p.description {
            rows.push(vec!["description".into(), d.clone()]);
        }
        rows.push(vec!["sources".into(), p.sources.join(", ")]);
        o.push_str(&table(&rows, &[], "  "));
    }

    /// What the autoscaling mode emits and why.
    fn autoscaling_section(&self, o: &mut String) {
        let p = &self.pipeline;
        let a = &p.autoscaling;
        heading(o, &format!("Autoscaling: {}", if a.hpa_alias { "hpa (alias of hpa_reactive)" } else { a.mode.as_str() }));
        for (i, para) in self.mode_text.iter().enumerate() {
            if i > 0 {
                o.push('\n');
            }
            o.push_str(&wrap(para, "  ", 100));
        }
    }

    /// The objects emitted into `out/<env>/`.
    fn objects_section(&self, o: &mut String) {
        let p = &self.pipeline;
        heading(o, &format!("Objects in out/{}/", p.env));
        let mut rows = vec![vec!["KIND".into(), "NAME".into(), "FILE".into()]];
        rows.extend(p.objects.iter().map(|x| vec![x.kind.clone(), x.name.clone(), x.file.clone()]));
        o.push_str(&table(&rows, &[], "  "));
    }

    /// The delivery unit and what syncs it.
    fn delivery_section(&self, o: &mut String) {
        heading(o, "Delivery");
        let rows: Vec<Vec<String>> = self.delivery.iter().map(|(k, v)| vec![k.clone(), v.clone()]).collect();
        o.push_str(&table(&rows, &[], "  "));
    }

    /// Flink: version, deployment mode, slots, parallelism, state, checkpoints, HA.
    fn flink_section(&self, o: &mut String) {
        let p = &self.pipeline;
        let a = &p.autoscaling;
        heading(o, "Flink");
        let f = &p.flink;
        let dir = |d: &Option<String>| d.clone().unwrap_or_else(|| "—".into());
        let rows = vec![
            vec!["version".into(), format!("{} (flinkVersion {}), Java {}", f.version, f.version.minor.crd_version, f.java)],
            vec!["deployment mode".into(), deploy_mode(f.mode).into()],
            vec!["slots".into(), f.slots.to_string()],
            vec!["parallelism".into(), {
                // The operator ignores job.parallelism whenever taskManager.replicas is set
                // (FlinkConfigBuilder#getParallelism): parallelism.default = replicas × slots.
                let effective = a.replicas * f.slots;
                if effective == p.job.parallelism {
                    p.job.parallelism.to_string()
                } else {
                    format!(
                        "{} in job.parallelism, but the operator starts the job at {effective} = taskManager.replicas {} × slots {} \
                         (it ignores job.parallelism when replicas is set)",
                        p.job.parallelism, a.replicas, f.slots
                    )
                }
            }],
            vec!["state backend".into(), f.state_backend.as_str().into()],
            vec![
                "checkpoints".into(),
                match (&f.checkpoint_interval, &f.checkpoint_dir) {
                    (None, _) => "none: a bounded job runs in BATCH mode (execution.runtime-mode BATCH)".into(),
                    (Some(i), Some(d)) => format!("every {i}, {d}"),
                    (Some(i), None) => format!("every {i} (no checkpoint_dir)"),
                },
            ],
            vec!["savepoints".into(), dir(&f.savepoint_dir)],
            vec!["high availability".into(), if f.high_availability { format!("yes, {}", dir(&f.ha_dir)) } else { "no".into() }],
        ];
        o.push_str(&table(&rows, &[], "  "));
    }

    /// Resources per role and Flink's memory breakdown.
    fn resources_section(&self, o: &mut String) {
        let p = &self.pipeline;
        let a = &p.autoscaling;
        heading(o, &format!("Resources (profile {})", p.resources.profile));
        let count = if uses_bounds(a.mode) { format!("{}–{}", a.min_replicas, a.max_replicas) } else { a.replicas.to_string() };
        let rows = vec![
            vec!["ROLE".into(), "CPU".into(), "MEMORY".into(), "COUNT".into()],
            vec!["JobManager".into(), num(p.resources.jobmanager.cpu), p.resources.jobmanager.memory.to_flink_string(), "1".into()],
            vec!["TaskManager".into(), num(p.resources.taskmanager.cpu), p.resources.taskmanager.memory.to_flink_string(), count],
        ];
        o.push_str(&table(&rows, &[1, 3], "  "));
        o.push_str("  Every container requests its cpu and memory (HPA utilization needs them); memory limit = request.\n");
        for (role, size, b) in &self.memory {
            let _ = writeln!(o, "\n  {role} memory breakdown ({} process, Flink's memory model)", size.to_flink_string());
            match b {
                Ok(b) => {
                    let mut rows: Vec<Vec<String>> = b.components().into_iter().map(|(n, m)| vec![n.to_string(), fmt_mem(m)]).collect();
                    rows.push(vec!["= total Flink memory".into(), fmt_mem(b.flink)]);
                    rows.push(vec!["  JVM heap (-Xmx)".into(), fmt_mem(b.jvm_heap())]);
                    o.push_str(&table(&rows, &[1], "    "));
                }
                Err(e) => {
                    let _ = writeln!(o, "    {e}");
                }
            }
        }
    }

    /// The image and how it is built.
    fn image_section(&self, o: &mut String) {
        heading(o, "Image");
        let mut rows = vec![vec!["image".into(), self.image.clone()]];
        rows.extend(self.image_text.iter().map(|(k, v)| vec![k.clone(), v.clone()]));
        o.push_str(&table(&rows, &[], "  "));
    }

    /// The week table of replica bounds.
    fn week_section(&self, o: &mut String) {
        let p = &self.pipeline;
        let a = &p.autoscaling;
        let zone = self.zone;
        let week_end = self.week.start + Duration::days(6);
        heading(o, &format!("Replica bounds, week of Mon {} – Sun {} ({}, local time)", self.week.start, week_end, zone.name()));
        let what = if self.week.fixed { "TASKMANAGERS" } else { "MIN–MAX" };
        let mut rows = vec![vec!["FROM".into(), "TO".into(), what.into(), "SET BY".into()]];
        for (i, s) in self.week.segments.iter().enumerate() {
            let mut by = s.set_by.clone();
            if i == 0
                && let Some(t) = self.week.carried_from
            {
                by.push_str(&format!(" (in force since {})", t.format("%a %Y-%m-%d %H:%M")));
            }
            rows.push(vec![fmt_week_minute(s.start), fmt_week_minute(s.end), self.bounds(s), by]);
        }
        o.push_str(&table(&rows, &[2], "  "));
        if a.mode == ScalingMode::Keda {
            o.push_str("  KEDA: MIN is the floor the open windows hold; the cpu trigger scales between it and MAX.\n");
        } else if matches!(a.mode, ScalingMode::ScheduledHpa | ScalingMode::HpaReactive) {
            o.push_str("  The HPA scales on cpu between MIN and MAX.\n");
        }
    }

    /// Each schedule entry: its CronJobs or KEDA trigger and its next firings.
    fn entries_section(&self, o: &mut String) {
        let p = &self.pipeline;
        let a = &p.autoscaling;
        let zone = self.zone;
        if uses_schedule(a.mode) {
            heading(
                o,
                &format!(
                    "Schedule entries (zone {}, strategy {})",
                    zone.name(),
                    if a.mode == ScalingMode::Keda { "keda" } else { strategy_name(a.strategy) }
                ),
            );
            for (i, x) in self.entries.iter().enumerate() {
                let e = &x.entry;
                if i > 0 {
                    o.push('\n');
                }
                let set = match a.mode {
                    ScalingMode::Scheduled => format!("replicas {}", e.replicas),
                    ScalingMode::Keda => format!("floor {} (min {}, max {})", e.min_replicas, e.min_replicas, e.max_replicas),
                    _ => format!("HPA {}–{}", e.min_replicas, e.max_replicas),
                };
                let _ = writeln!(o, "  {}: `{}` → {set}", e.name, e.cron);
                if a.mode == ScalingMode::Keda {
                    if x.keda_trigger {
                        let _ = writeln!(
                            o,
                            "    KEDA cron trigger: timezone {}, start \"{}\", end \"{}\", desiredReplicas \"{}\"",
                            a.timezone,
                            e.cron,
                            e.end.as_ref().map_or("", |c| c.as_str()),
                            e.min_replicas
                        );
                    } else {
                        let _ = writeln!(
                            o,
                            "    no KEDA trigger (min_replicas {} does not raise the floor {})",
                            e.min_replicas, a.min_replicas
                        );
                    }
                } else {
                    let tz = a.cronjob_time_zone.clone().unwrap_or_else(|| "(none)".into());
                    let mut rows = vec![vec!["CRONJOB".into(), "SCHEDULE".into(), "TIMEZONE".into()]];
                    rows.extend(x.cronjobs.iter().map(|(n, s)| vec![n.clone(), s.clone(), tz.clone()]));
                    o.push_str(&table(&rows, &[], "    "));
                    if a.strategy == ScheduleStrategy::Guarded {
                        let _ = writeln!(
                            o,
                            "    guard: {}'s UTC offsets until 2100 embedded ({} rows); acts only at the entry's local instants",
                            zone.name(),
                            e.guard_offsets.len()
                        );
                    }
                }
                let list = |o: &mut String, what: &str, fs: &[Firing]| {
                    let mut rows = vec![vec![format!("{what} (LOCAL)"), "UTC".into()]];
                    rows.extend(fs.iter().map(|f| vec![fmt_local(zone, f), fmt_utc(f.utc)]));
                    if fs.is_empty() {
                        rows.push(vec!["none within nine years".into(), String::new()]);
                    }
                    o.push_str(&table(&rows, &[], "    "));
                };
                if x.keda_trigger {
                    list(o, "WINDOW OPENS", &x.firings);
                    list(o, "WINDOW CLOSES", &x.end_firings);
                } else {
                    list(o, &format!("NEXT {} FIRINGS", x.firings.len()), &x.firings);
                }
            }
        }
    }

    /// The reconcile job, or why there is none.
    fn reconcile_section(&self, o: &mut String) {
        let zone = self.zone;
        if let Some(r) = &self.reconcile {
            heading(o, "Reconcile job (SPEC §16)");
            match r {
                Reconcile::Job { cronjob, offset_rows } => {
                    let rows = vec![
                        vec!["CRONJOB".into(), "SCHEDULE".into(), "TIMEZONE".into()],
                        vec![
                            cronjob.clone(),
                            "*/5 * * * *".into(),
                            if self.project.kubernetes >= (1, 27) { "Etc/UTC".into() } else { "(none)".into() },
                        ],
                    ];
                    o.push_str(&table(&rows, &[], "  "));
                    let _ = writeln!(
                        o,
                        "  applies the entry in force (latest firing within the last 7 days); {}'s UTC offsets until 2100 embedded ({} row{})",
                        zone.name(),
                        offset_rows,
                        if *offset_rows == 1 { "" } else { "s" }
                    );
                }
                Reconcile::None { why } => o.push_str(&wrap(&format!("none: {why}."), "  ", 100)),
            }
        }
    }

    /// The entry in force at `--at`.
    fn in_force_section(&self, o: &mut String) {
        let p = &self.pipeline;
        let a = &p.autoscaling;
        let zone = self.zone;
        if let Some(f) = &self.in_force {
            let local = f.at.with_timezone(&zone);
            heading(o, &format!("In force at {} ({} {})", fmt_utc(f.at), local.format("%a %Y-%m-%d %H:%M"), abbrev(zone, f.at)));
            match &f.entry {
                Some((e, firing)) => {
                    let sets = match a.mode {
                        ScalingMode::Scheduled => format!("taskManager.replicas {}", e.replicas),
                        _ => format!("HPA minReplicas {}, maxReplicas {}", e.min_replicas, e.max_replicas),
                    };
                    let by = match &self.reconcile {
                        Some(Reconcile::Job { cronjob, .. }) => format!("{cronjob} within 5 minutes, if the live values differ"),
                        _ => "only the entry's own CronJob, when it ran at that firing (no reconcile job)".into(),
                    };
                    let rows = vec![
                        vec!["entry".into(), format!("{} (`{}`)", e.name, e.cron)],
                        vec!["fired".into(), format!("{} = {}", fmt_local(zone, firing), fmt_utc(firing.utc))],
                        vec!["sets".into(), sets],
                        vec!["enforced by".into(), by],
                    ];
                    o.push_str(&table(&rows, &[], "  "));
                }
                None => {
                    let window = if matches!(self.reconcile, Some(Reconcile::Job { .. })) { "7 days" } else { "nine years" };
                    let _ = writeln!(o, "  no entry fired in the {window} before: the live values stay as they are");
                }
            }
        }
    }

    /// The zone's offset changes in the window.
    fn transitions_section(&self, o: &mut String) {
        let zone = self.zone;
        let (w0, w1) = self.window;
        heading(
            o,
            &format!(
                "DST transitions from {} 00:00 for {} day(s) ({} .. {})",
                self.from,
                self.days,
                w0.format("%Y-%m-%d %H:%M UTC"),
                w1.format("%Y-%m-%d %H:%M UTC")
            ),
        );
        if self.transitions.is_empty() {
            let off = w0.with_timezone(&zone).format("%:z");
            let _ = writeln!(o, "  none in {} (UTC{off} throughout)", zone.name());
        } else {
            let mut rows = vec![vec!["LOCAL".into(), "UTC".into(), "CHANGE".into(), "ENTRIES AFFECTED THAT DAY".into()]];
            for t in &self.transitions {
                let forward = t.wall_after > t.wall_before;
                let delta = (t.wall_after - t.wall_before).num_minutes().abs();
                let change = format!(
                    "{} {} → {} {}: clocks {} {}",
                    t.wall_before.format("%H:%M"),
                    t.name_before,
                    t.wall_after.format("%H:%M"),
                    t.name_after,
                    if forward { "forward" } else { "back" },
                    if delta % 60 == 0 { format!("{}h", delta / 60) } else { format!("{delta} min") }
                );
                let affected = if t.affected.is_empty() {
                    "none".to_string()
                } else {
                    let what = if forward { "skipped" } else { "fires twice" };
                    format!("{}: {what}", t.affected.join(", "))
                };
                rows.push(vec![t.wall_before.format("%a %Y-%m-%d %H:%M").to_string(), fmt_utc(t.at), change, affected]);
            }
            o.push_str(&table(&rows, &[], "  "));
        }
    }

    /// The cost estimate.
    fn cost_section(&self, o: &mut String) {
        let p = &self.pipeline;
        let a = &p.autoscaling;
        heading(o, "Cost estimate (one week = 168 h, cpu requests)");
        let c = &self.cost;
        o.push_str(&wrap(
            &format!(
                "cpu-hours = (average TaskManagers × {} cpu + JobManager {} cpu) × 168 h; averages are weighted by the time each \
                 row of the week table lasts.",
                num(c.tm_cpu),
                num(c.jm_cpu)
            ),
            "  ",
            100,
        ));
        let mut rows = vec![vec!["".into(), "AVG TMS".into(), "CPU-HOURS".into(), "SAVING".into()]];
        let line = |label: &str, avg: f64| {
            vec![label.to_string(), format!("{avg:.2}"), format!("{:.1}", c.cpu_hours(avg)), format!("{:.1}%", c.saving(avg))]
        };
        if c.single {
            rows.push(line(if a.mode == ScalingMode::Scheduled { "scheduled count" } else { "fixed count" }, c.floor_avg));
        } else {
            rows.push(line("floor (min bounds)", c.floor_avg));
            rows.push(line("cap (max bounds)", c.cap_avg));
        }
        rows.push(vec![
            format!("fixed at max ({})", c.fixed_max),
            c.fixed_max.to_string(),
            format!("{:.1}", c.fixed_cpu_hours()),
            "—".into(),
        ]);
        o.push_str(&table(&rows, &[1, 2, 3], "  "));
        if !c.single {
            o.push_str("  The HPA/KEDA load decides where between floor and cap the real figure lies.\n");
        }
        if a.mode == ScalingMode::Operator {
            o.push_str("  The operator autoscaler changes parallelism at run time; the estimate uses the starting count.\n");
        }
    }

    /// Keys the mode does not use.
    fn ignored_section(&self, o: &mut String) {
        let p = &self.pipeline;
        let a = &p.autoscaling;
        heading(o, "Ignored keys");
        if p.ignored.is_empty() {
            o.push_str("  none\n");
        } else {
            for k in &p.ignored {
                let _ = writeln!(o, "  {k} (not used by mode {})", a.mode.as_str());
            }
        }
    }

    /// The day-2 state of the job.
    fn day2_section(&self, o: &mut String) {
        let p = &self.pipeline;
        heading(o, "Day-2 state");
        let j = &p.job;
        let nonce = |n: i64| if n == 0 { "0 (not emitted)".to_string() } else { n.to_string() };
        let rows = vec![
            vec!["job.state".into(), j.state.as_str().into()],
            vec!["upgrade_mode".into(), j.upgrade_mode.as_str().into()],
            vec!["savepoint_nonce".into(), nonce(j.savepoint_nonce)],
            vec!["redeploy_nonce".into(), nonce(j.redeploy_nonce)],
            vec!["restart_nonce".into(), nonce(j.restart_nonce)],
            vec!["initial_savepoint".into(), j.initial_savepoint.clone().unwrap_or_else(|| "—".into())],
            vec!["allow_non_restored_state".into(), yes_no(j.allow_non_restored_state).into()],
            vec!["periodic_savepoint".into(), j.periodic_savepoint.as_ref().map_or_else(|| "off".into(), ToString::to_string)],
        ];
        o.push_str(&table(&rows, &[], "  "));
    }

    /// Where each resolved value came from.
    fn provenance_section(&self, o: &mut String) {
        heading(o, "Where values came from (SPEC §3 precedence)");
        let mut rows = vec![vec!["SETTING".into(), "VALUE".into(), "FROM".into()]];
        rows.extend(self.provenance.iter().map(|r| vec![r.setting.clone(), r.value.clone(), r.origin.clone()]));
        o.push_str(&table(&rows, &[], "  "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn week_minutes_print_as_weekday_and_time() {
        assert_eq!(fmt_week_minute(0), "Mon 00:00");
        assert_eq!(fmt_week_minute(9 * 60), "Mon 09:00");
        assert_eq!(fmt_week_minute(5 * 1440), "Sat 00:00");
        assert_eq!(fmt_week_minute(WEEK_MINUTES), "Sun 24:00");
    }
}
