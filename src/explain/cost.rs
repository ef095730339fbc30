//! Explain phase, cost: average TaskManagers and cpu-hours over the week of bounds, against a
//! deployment fixed at the pipeline's cap.
//!
//! In: a [`Pipeline`] (its cpu requests and bounds) and its [`Week`]. Out: a [`Cost`], whose
//! methods do the cpu-hour arithmetic the text prints.

use super::{Segment, WEEK_MINUTES, Week, uses_bounds};
use crate::model::Pipeline;

/// Average TaskManagers and cpu-hours over the week, against a fixed deployment at the cap.
#[derive(Debug, Clone, PartialEq)]
pub struct Cost {
    /// Time-weighted average TaskManagers at the floor (min bounds).
    pub floor_avg: f64,
    /// Time-weighted average TaskManagers at the cap (max bounds).
    pub cap_avg: f64,
    /// Whether floor and cap are one number (fixed count or `scheduled`).
    pub single: bool,
    /// TaskManager count of the comparison deployment (the pipeline's max all week).
    pub fixed_max: u32,
    /// cpu of one TaskManager.
    pub tm_cpu: f64,
    /// cpu of the JobManager (one replica).
    pub jm_cpu: f64,
}

impl Cost {
    /// cpu-hours per week with `avg` TaskManagers: (avg × TM cpu + JM cpu) × 168.
    pub fn cpu_hours(&self, avg: f64) -> f64 {
        (avg * self.tm_cpu + self.jm_cpu) * 168.0
    }
    /// cpu-hours per week of the fixed-max deployment.
    pub fn fixed_cpu_hours(&self) -> f64 {
        self.cpu_hours(f64::from(self.fixed_max))
    }
    /// Saving against the fixed-max deployment, in percent.
    pub fn saving(&self, avg: f64) -> f64 {
        let fixed = self.fixed_cpu_hours();
        if fixed <= 0.0 { 0.0 } else { (fixed - self.cpu_hours(avg)) / fixed * 100.0 }
    }
}

/// The cost of `p` over the week `w`: averages weighted by how long each segment lasts.
pub fn cost(p: &Pipeline, w: &Week) -> Cost {
    let a = &p.autoscaling;
    let avg = |f: fn(&Segment) -> u32| -> f64 {
        w.segments.iter().map(|s| f64::from(f(s)) * f64::from(s.end - s.start)).sum::<f64>() / f64::from(WEEK_MINUTES)
    };
    Cost {
        floor_avg: avg(|s| s.min),
        cap_avg: avg(|s| s.max),
        single: w.fixed,
        fixed_max: if uses_bounds(a.mode) { a.max_replicas } else { a.replicas },
        tm_cpu: p.resources.taskmanager.cpu,
        jm_cpu: p.resources.jobmanager.cpu,
    }
}
