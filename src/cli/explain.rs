//! `flinkops explain PIPELINE`: what one pipeline in one environment emits and why, its week of
//! replica bounds, schedules, DST transitions, cost estimate, day-2 state and where each resolved
//! value came from (text on stdout); `--svg FILE` also draws the week's bounds as a step chart.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use flinkops::diag::{Code, Diagnostic};
use flinkops::explain::{self, Options};

use super::{Exit, Global};

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| format!("expected a date YYYY-MM-DD: {e}"))
}

/// RFC 3339 (`2026-03-09T08:00:00+08:00`, `…Z`), or a date and time without an offset, read as UTC.
fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    // Without seconds RFC 3339 does not parse; a trailing `Z` then says UTC, as no offset does.
    let naive = s.strip_suffix(['Z', 'z']).unwrap_or(s);
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(naive, f).ok())
        .map(|t| t.and_utc())
        .ok_or_else(|| "expected an instant such as 2026-03-09T08:00:00+08:00, 2026-03-09T00:00Z or 2026-03-09 00:00 (UTC)".to_string())
}

/// Explain a pipeline: what it emits and why, its scaling week, schedules, cost
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The pipeline to explain
    #[arg(value_name = "PIPELINE")]
    pipeline: String,
    /// The environment (required when the repository has several)
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    /// First day of the window, 00:00 in the schedule's zone [default: today, UTC]
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    from: Option<NaiveDate>,
    /// Length of the window in days (DST transitions inside it are listed)
    #[arg(long, value_name = "N", default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=3660))]
    days: u32,
    /// Next firings listed per schedule entry
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=1000))]
    firings: u32,
    /// Show the schedule entry in force at this instant (RFC 3339; without an offset: UTC) [default: now]
    #[arg(long, value_name = "DATETIME", value_parser = parse_instant)]
    at: Option<DateTime<Utc>>,
    /// Also write the week's min/max replica bounds as an SVG step chart to FILE
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

pub fn run(args: &Args, g: &Global) -> Result<(), Exit> {
    let envs: Vec<String> = args.env.iter().cloned().collect();
    let (_, c) = g.compile(&envs)?;
    let p = explain::find(&c, &args.pipeline, args.env.as_deref()).map_err(|e| super::fail(e.to_diagnostic()))?;
    // Interactive defaults: from today, in force now. The library's own defaults (valid_from, no
    // instant) keep it deterministic.
    let today = chrono::Utc::now().date_naive();
    let at = args.at.unwrap_or_else(chrono::Utc::now);
    let opts = Options { from: Some(args.from.unwrap_or(today)), days: args.days, firings: args.firings as usize, at: Some(at) };
    let x = explain::explain(&c, p, &opts);
    print!("{}", x.to_text());
    if let Some(file) = &args.svg {
        std::fs::write(file, x.to_svg()).map_err(|e| {
            // An I/O error (E9xx): exit code 3.
            super::fail(Diagnostic::error(Code::Io, format!("cannot write {}: {e}", file.display())))
        })?;
        g.info(format!("wrote {}", file.display()));
    }
    Ok(())
}
