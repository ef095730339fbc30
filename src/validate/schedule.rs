//! Validate phase: schedule entries lowered per strategy (SPEC §6.3).
//!
//! In: the pipeline's schedule entries as read ([`Draft`]s, with the places their crons were
//! written), its mode, zone and strategy, the project, and the run's conversion cache. Out: the
//! model's entries, each with its parsed cron (and KEDA `end`) and CronJob schedules (`utc`: the exact UTC set or an error naming the first inexpressible
//! instant; `native`: the cron itself, run in the zone; `guarded`: a UTC superset plus the zone's
//! offset table for the guard), KEDA's requirements checked, and the CronJobs' `spec.timeZone`.

use chrono_tz::Tz;

use crate::diag::{Code, Diagnostic, Diagnostics, Loc};
use crate::model::{Project, ScalingMode, ScheduleCron, ScheduleEntry, ScheduleStrategy};
use crate::schedule::{ConversionCache, Cron, CronError, OffsetChange, RECONCILE_SUFFIX};

/// An entry as read from the spec or a preset, its crons not yet parsed.
#[derive(Debug, Clone)]
pub struct Draft {
    pub name: String,
    pub cron: String,
    /// Where `cron` was written (for a preset: where the preset is named).
    pub cron_loc: Loc,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub replicas: u32,
    pub end: Option<String>,
    /// Where `end` was written; `None` for a preset's, which is valid by construction.
    pub end_loc: Option<Loc>,
}

/// A lowered entry with where its `cron` was written.
pub type Located = (ScheduleEntry, Loc);

/// The pipeline-level settings the lowering needs.
pub struct Setting<'a> {
    pub pipeline: &'a str,
    pub mode: ScalingMode,
    pub mode_loc: Loc,
    pub strategy: ScheduleStrategy,
    pub timezone: &'a str,
    pub min_replicas: u32,
    pub max_replicas: u32,
}

/// Kubernetes minor from which CronJob `spec.timeZone` is GA.
const TIME_ZONE_MINOR: u32 = 27;

/// The place of a cron error: inside the quoted string when the source holds it verbatim.
fn cron_loc(loc: &Loc, text: &str, e: &CronError) -> Loc {
    if loc.span.len() == text.len() + 2 {
        let span = e.span();
        let start = loc.span.start + 1 + span.start.min(text.len());
        let end = loc.span.start + 1 + span.end.min(text.len());
        Loc { file: loc.file, span: start..end.max(start) }
    } else {
        loc.clone()
    }
}

fn parse(entry: &str, what: &str, text: &str, loc: &Loc, d: &mut Diagnostics) -> Option<ScheduleCron> {
    match ScheduleCron::parse(text) {
        Ok(c) => Some(c),
        Err(e) => {
            d.push(
                Diagnostic::error(Code::InvalidCron, format!("schedule entry `{entry}`: invalid {what} {text:?}: {e}"))
                    .at(&cron_loc(loc, text, &e))
                    .label("here")
                    .help("crons use Kubernetes' syntax: 5 fields (minute hour day-of-month month day-of-week) or @hourly/@daily/@weekly/@monthly/@yearly"),
            );
            None
        }
    }
}

/// What lowering decides for the pipeline as a whole.
#[derive(Debug, Default)]
pub struct Lowered {
    /// The entries whose crons are valid, in the order written (each invalid one was reported).
    pub entries: Vec<Located>,
    /// The CronJobs' `spec.timeZone`.
    pub cronjob_time_zone: Option<String>,
    /// SPEC §16: the offset table of the reconcile CronJob, when the pipeline gets one.
    pub reconcile_offsets: Option<Vec<OffsetChange>>,
}

/// Lowers every entry; returns them with the CronJobs' `spec.timeZone` and the reconcile job's
/// table.
pub fn lower(drafts: Vec<Draft>, s: &Setting<'_>, project: &Project, cache: &ConversionCache, d: &mut Diagnostics) -> Lowered {
    let uses_cronjobs = matches!(s.mode, ScalingMode::Scheduled | ScalingMode::ScheduledHpa);
    if !uses_cronjobs && s.mode != ScalingMode::Keda {
        return Lowered::default();
    }
    // An invalid zone was reported where it was written, and the pipeline is rejected.
    let Ok(zone) = s.timezone.parse::<Tz>() else { return Lowered::default() };
    let kube_tz = project.kubernetes >= (1, TIME_ZONE_MINOR);
    if uses_cronjobs && project.scaler_image.is_none() {
        d.push(
            Diagnostic::error(Code::ScalerImageMissing, format!("autoscaling mode `{}` needs `[scaler] image` in flinkops.toml", s.mode.as_str()))
                .at(&s.mode_loc)
                .label("its CronJobs run kubectl")
                .note("there is no third-party kubectl image flinkops could trust to exist, be maintained and hold a shell")
                .help("add `[scaler] image = \"<registry>/kubectl:<version>@sha256:<digest>\"`: a pinned image that contains sh, date and kubectl"),
        );
    }
    if uses_cronjobs && s.strategy == ScheduleStrategy::Native && !kube_tz {
        d.push(
            Diagnostic::error(
                Code::NativeStrategyNeedsTimeZone,
                format!(
                    "schedule_strategy \"native\" needs Kubernetes 1.{TIME_ZONE_MINOR} or newer; target.kubernetes is {}.{}",
                    project.kubernetes.0, project.kubernetes.1
                ),
            )
            .at(&s.mode_loc)
            .label("CronJob spec.timeZone is not available")
            .help("use schedule_strategy \"utc\" or \"guarded\", or raise [target] kubernetes"),
        );
    }
    if uses_cronjobs && s.strategy != ScheduleStrategy::Native && !kube_tz {
        d.push(
            Diagnostic::warning(Code::CronJobZoneAssumedUtc, format!(
                "CronJobs of `{}` have no spec.timeZone on Kubernetes {}.{}: their UTC schedules assume kube-controller-manager runs in UTC",
                s.pipeline, project.kubernetes.0, project.kubernetes.1
            ))
            .at(&s.mode_loc)
            .label("UTC assumed")
            .help("make sure the controller manager's host zone is UTC, or target Kubernetes 1.27+"),
        );
    }
    let all_drafts = drafts.len();
    let mut entries: Vec<Located> = Vec::with_capacity(all_drafts);
    for x in drafts {
        let loc = &x.cron_loc;
        let Some(cron) = parse(&x.name, "cron", &x.cron, loc, d) else { continue };
        let mut e = ScheduleEntry {
            name: x.name,
            cron,
            min_replicas: x.min_replicas,
            max_replicas: x.max_replicas,
            replicas: x.replicas,
            end: None,
            schedules: vec![],
            guard_offsets: vec![],
        };
        if s.mode == ScalingMode::Keda {
            e.end = keda_entry(&e, loc, x.end.as_deref(), x.end_loc.as_ref(), s, d);
            entries.push((e, x.cron_loc));
            continue;
        }
        let cron = *e.cron.cron();
        match s.strategy {
            ScheduleStrategy::Native => e.schedules = vec![cron.to_string()],
            ScheduleStrategy::Utc => match cache.to_utc(&cron, zone, project.valid_from) {
                Ok(crons) => e.schedules = crons.iter().map(Cron::to_string).collect(),
                Err(err) => {
                    let mut diag = Diagnostic::error(
                        Code::ScheduleNotLowerable,
                        format!(
                            "pipeline `{}`, schedule entry `{}`: `{}` in {} has no exact UTC form",
                            s.pipeline, e.name, e.cron, s.timezone
                        ),
                    )
                    .at(loc)
                    .label("cannot be written as UTC cron expressions")
                    .note(err.to_string());
                    if let Some(t) = err.instant() {
                        diag = diag.note(format!("first UTC instant without an exact form: {}", t.format("%Y-%m-%d %H:%M UTC")));
                    }
                    d.push(diag.help(
                        "set `schedule_strategy = \"native\"` (the CronJob runs in the zone itself; Kubernetes >= 1.27) or `\"guarded\"` (UTC schedules whose guard checks the local time)",
                    ));
                }
            },
            ScheduleStrategy::Guarded => {
                match (cache.guarded_superset(&cron, zone, project.valid_from), cache.offset_table(zone, project.valid_from)) {
                    (Ok(crons), Ok(offsets)) => {
                        e.schedules = crons.iter().map(Cron::to_string).collect();
                        e.guard_offsets = offsets;
                    }
                    (Err(err), _) | (_, Err(err)) => d.push(
                        Diagnostic::error(
                            Code::ScheduleNotLowerable,
                            format!("pipeline `{}`, schedule entry `{}`: {err}", s.pipeline, e.name),
                        )
                        .at(loc)
                        .label("here"),
                    ),
                }
            }
        }
        entries.push((e, x.cron_loc));
    }
    let cronjob_time_zone = match s.strategy {
        _ if !uses_cronjobs => None,
        ScheduleStrategy::Native => Some(s.timezone.to_string()),
        _ if kube_tz => Some("Etc/UTC".to_string()),
        _ => None,
    };
    // SPEC §16: a reconcile job needs every entry to repeat weekly (it looks back 7 days) and
    // the zone's offsets over the horizon. Its name must not be an entry's CronJob name.
    let weekly = uses_cronjobs
        && all_drafts > 0
        && entries.len() == all_drafts
        && entries.iter().all(|(e, _)| e.cron.cron().weekly_days().is_some());
    let reconcile_offsets = match weekly.then(|| cache.offset_table(zone, project.valid_from)) {
        Some(Ok(offsets)) => Some(offsets),
        Some(Err(err)) => {
            // Only a valid_from before 1990 gets here (see zone::SAMPLE_SECONDS); `utc` and
            // `guarded` entries already failed on it above, `native` ones did not: say so rather
            // than silently dropping the job.
            if s.strategy == ScheduleStrategy::Native {
                d.push(
                    Diagnostic::warning(
                        Code::NoReconcileJob,
                        format!("pipeline `{}` gets no scaling reconcile job (SPEC §16): {err}", s.pipeline),
                    )
                    .at(&s.mode_loc)
                    .label("edge-triggered CronJobs only")
                    .help("set [schedule] valid_from to 1990-01-01 or later"),
                );
            }
            None
        }
        None => None,
    };
    if reconcile_offsets.is_some()
        && let Some((e, loc)) = entries.iter().find(|(e, _)| e.name == RECONCILE_SUFFIX)
    {
        d.push(
            Diagnostic::error(
                Code::ReservedEntryName,
                format!(
                    "pipeline `{}`: schedule entry `{}` would share its CronJob name with the reconcile job `{}-{RECONCILE_SUFFIX}`",
                    s.pipeline, e.name, s.pipeline
                ),
            )
            .at(loc)
            .label(format!("this entry's CronJob would be `{}-{RECONCILE_SUFFIX}`", s.pipeline))
            .note("every scheduled pipeline whose entries are all weekly also gets a CronJob that sets the entry in force (SPEC §16)")
            .help("rename the entry"),
        );
    }
    Lowered { entries, cronjob_time_zone, reconcile_offsets }
}

/// Checks a KEDA entry; returns its parsed `end` when the entry raises the floor (a cron
/// trigger), the only entries whose `end` is used.
fn keda_entry(
    e: &ScheduleEntry,
    loc: &Loc,
    end: Option<&str>,
    end_loc: Option<&Loc>,
    s: &Setting<'_>,
    d: &mut Diagnostics,
) -> Option<ScheduleCron> {
    let mut parsed = None;
    if e.min_replicas > s.min_replicas {
        match (end, end_loc) {
            (None, _) => d.push(
                Diagnostic::error(
                    Code::KedaWindowWithoutEnd,
                    format!("schedule entry `{}` raises the floor to {} under KEDA but has no `end`", e.name, e.min_replicas),
                )
                .at(loc)
                .label("a KEDA cron trigger needs a start and an end")
                .help("add `end = \"<cron>\"`: when the window closes, e.g. end = \"0 18 * * 1-5\""),
            ),
            (Some(end), Some(end_loc)) => parsed = parse(&e.name, "end", end, end_loc, d),
            // Presets define their own `end`; a test keeps them valid.
            (Some(end), None) => parsed = Some(ScheduleCron::parse(end).expect("preset ends are valid crons")),
        }
    }
    if e.max_replicas != s.max_replicas {
        d.push(
            Diagnostic::warning(
                Code::KedaCannotLowerCap,
                format!(
                    "schedule entry `{}` sets max_replicas {}, but KEDA cannot lower the cap below the pipeline's {}",
                    e.name, e.max_replicas, s.max_replicas
                ),
            )
            .at(loc)
            .label("KEDA windows are floors")
            .help("KEDA holds the highest trigger's count; use scheduled_hpa to change the cap by time"),
        );
    }
    parsed
}
