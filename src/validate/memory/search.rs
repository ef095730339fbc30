//! validate phase, Flink memory model: the search for the smallest (and largest) whole-mebibyte
//! process memory that Flink accepts.
//!
//! In: [`Settings`]. Out: sizes in mebibytes, found by running the derivation
//! ([`Settings::evaluate`]) at candidate sizes, or the typed [`Reason`] why fractions alone rule
//! every size out.

use super::derivation::{FailKind, Reason};
use super::options::Settings;
use crate::units::{MAX_BYTES, MIB};

impl Settings {
    /// Why no process memory can work, when the fractions make it impossible: managed and network
    /// shares of 100% or more of the Flink memory leave nothing for the fixed parts (unless a
    /// network maximum caps the network share, which the minimum search handles).
    pub(super) fn impossibility(&self) -> Option<Reason> {
        let Settings::Tm(s) = self else { return None };
        let managed = s.managed_range.fraction.value;
        let network = s.network.fraction.value;
        let unlimited = s.network.max.value == MAX_BYTES;
        (s.managed.is_none() && s.task_heap.is_none() && unlimited && managed + network >= 1.0)
            .then_some(Reason::FractionsLeaveNoRoom { managed, network })
    }

    /// No process memory below this passes: metaspace + minimum overhead + a floor of the Flink
    /// memory (every TM part that has one; for a JM the fixed heap or Flink size, else just
    /// more than the off-heap). Starting the minimum search here keeps it short.
    pub(super) fn lower_bound(&self) -> u64 {
        let jvm = self.jvm();
        let parts: Vec<u64> = match self {
            Settings::Tm(s) => vec![
                s.framework_heap.value,
                s.framework_off_heap.value,
                s.task_off_heap.value,
                s.task_heap.map_or(0, |t| t.value),
                s.managed.map_or(0, |m| m.value),
                s.network.min.value,
            ],
            Settings::Jm(s) => vec![match (s.heap, s.flink) {
                (Some(heap), _) => heap.value,
                (None, Some(flink)) => flink.value,
                (None, None) => s.off_heap.value.saturating_add(1),
            }],
        };
        parts.into_iter().fold(jvm.metaspace.value.saturating_add(jvm.overhead.min.value), u64::saturating_add).min(MAX_BYTES)
    }

    /// Smallest whole-mebibyte process memory that passes. "Too small" turns false once and stays
    /// false as the process grows whenever managed + network fractions leave room (every
    /// configuration Flink can start with, short of degenerate ones), so gallop up from the lower
    /// bound and bisect; then confirm that size really passes (it may be too large instead when
    /// the sizes that work lie between two whole mebibytes).
    pub(super) fn minimum_mib(&self) -> Option<u64> {
        let max_mib = MAX_BYTES / MIB;
        let too_small = |m: u64| matches!(self.evaluate(m * MIB), Err(ref f) if f.kind == FailKind::TooSmall);
        let start = self.lower_bound().div_ceil(MIB).clamp(1, max_mib);
        let found = if !too_small(start) {
            start
        } else {
            let (mut below, mut step) = (start, 1u64);
            let above = loop {
                let next = start.saturating_add(step).min(max_mib);
                if !too_small(next) {
                    break next;
                }
                if next == max_mib {
                    return None;
                }
                below = next;
                step = step.saturating_mul(2);
            };
            // Invariant: too_small(below) && !too_small(hi).
            let mut hi = above;
            while hi - below > 1 {
                let mid = below + (hi - below) / 2;
                if too_small(mid) {
                    below = mid;
                } else {
                    hi = mid;
                }
            }
            hi
        };
        self.evaluate(found * MIB).is_ok().then_some(found)
    }

    /// Largest whole-mebibyte process memory in `[lo, hi]` that is not too large; `lo` passes.
    pub(super) fn maximum_mib(&self, lo: u64, hi: u64) -> Option<u64> {
        let too_large = |m: u64| matches!(self.evaluate(m * MIB), Err(ref f) if f.kind == FailKind::TooLarge);
        if too_large(lo) {
            return None;
        }
        let (mut ok, mut bad) = (lo, hi.max(lo));
        if !too_large(bad) {
            return Some(bad);
        }
        while bad - ok > 1 {
            let mid = ok + (bad - ok) / 2;
            if too_large(mid) {
                bad = mid;
            } else {
                ok = mid;
            }
        }
        Some(ok)
    }
}
