//! validate phase, Flink memory model: the pass that words the derivation's numbers.
//!
//! In: a [`Derivation`] or a [`Failure`] (typed steps and reasons, sizes in bytes) and the sizes
//! the search found. Out: the public [`Breakdown`] and [`MemoryModelError`] with their sentences
//! (`derivation` lines, `reason`, the arithmetic notes), the `Display` of the public error and
//! warning types, and the [`Diagnostic`] of an error. Every sentence about memory is built here.

use std::fmt;

use super::derivation::{Breach, Clamp, Component, Derivation, Failure, FlinkTotal, Origin, Part, Reason, Rest, Side, Step};
use super::{Breakdown, MemoryModelError, MemoryWarning, Role};
use crate::diag::Diagnostic;
use crate::units::{MIB, MemorySize};

/// Mebibytes with at most one decimal, half up: `25.6m`, `982m`. Tiny non-zero values are shown
/// in bytes so that they do not read as nothing.
fn mib(bytes: u64) -> String {
    let tenths = (u128::from(bytes) * 10 + u128::from(MIB) / 2) / u128::from(MIB);
    if tenths == 0 && bytes > 0 {
        format!("{bytes} bytes")
    } else if tenths % 10 == 0 {
        format!("{}m", tenths / 10)
    } else {
        format!("{}.{}m", tenths / 10, tenths % 10)
    }
}

/// A fraction as a percentage with at most two decimals: 0.1f → `10%`, 0.125 → `12.5%`.
fn pct(fraction: f64) -> String {
    let hundredths = (fraction * 10_000.0).round() / 100.0;
    format!("{hundredths}%")
}

/// The name of a component, as `explain` and the messages show it.
pub(super) fn name(c: Component) -> &'static str {
    match c {
        Component::FrameworkHeap => "framework heap",
        Component::TaskHeap => "task heap",
        Component::FrameworkOffHeap => "framework off-heap",
        Component::TaskOffHeap => "task off-heap",
        Component::Managed => "managed",
        Component::Network => "network",
        Component::JvmHeap => "JVM heap",
        Component::OffHeap => "off-heap",
        Component::JvmMetaspace => "JVM metaspace",
        Component::JvmOverhead => "JVM overhead",
    }
}

/// "managed 25.6m (40% of 64m)", "task heap 512m (`taskmanager.memory.task.heap.size`)",
/// "network 64m (10% of 64m = 6.4m, raised to the 64m minimum)", "task heap 1m (the rest)".
fn part(p: &Part) -> String {
    let head = format!("{} {}", name(p.component), mib(p.value));
    match p.origin {
        Origin::Plain => head,
        Origin::Option(key) => format!("{head} (`{key}`)"),
        Origin::Share { derived, range, base, inverse } => {
            let f = range.fraction.value;
            let share = if inverse {
                format!("{} of Flink memory: {}/{} of {}", pct(f), pct(f), pct(1.0 - f), mib(base))
            } else {
                format!("{} of {}", pct(f), mib(base))
            };
            let note = match derived.clamp {
                Clamp::None => share,
                Clamp::RaisedToMin => format!("{share} = {}, raised to the {} minimum", mib(derived.raw), mib(range.min.value)),
                Clamp::CappedAtMax => format!("{share} = {}, capped at the {} maximum", mib(derived.raw), mib(range.max.value)),
            };
            format!("{head} ({note})")
        }
        Origin::Rest(None) => format!("{head} (the rest)"),
        Origin::Rest(Some(key)) => format!("{head} (the rest of `{key}`)"),
    }
}

fn parts(ps: &[Part]) -> String {
    ps.iter().map(part).collect::<Vec<_>>().join(" + ")
}

/// "Flink memory" for a total that follows from the process memory (its value comes later in
/// the sentence), "Flink memory 1280m (`taskmanager.memory.flink.size`)" for a fixed one.
fn flink_label(f: &FlinkTotal) -> String {
    match f.option {
        None => "Flink memory".to_string(),
        Some(key) => format!("Flink memory {} (`{key}`)", mib(f.value)),
    }
}

/// The total with its value: "Flink memory 576m", or the fixed label.
fn flink_value(f: &FlinkTotal) -> String {
    match f.option {
        None => format!("Flink memory {}", mib(f.value)),
        Some(_) => flink_label(f),
    }
}

/// "below the network minimum", "above the JVM overhead maximum".
fn breach_words(b: &Breach) -> String {
    let (side, bound) = match b.side {
        Side::Below => ("below", "minimum"),
        Side::Above => ("above", "maximum"),
    };
    format!("{side} the {} {bound}", name(b.component))
}

/// ", below the network minimum 64m (`taskmanager.memory.network.min`)" when there is a breach.
fn breach_suffix(b: Option<&Breach>) -> String {
    b.map_or_else(String::new, |b| format!(", {} {} (`{}`)", breach_words(b), mib(b.bound.value), b.bound.key))
}

/// One step of the derivation as one line of arithmetic.
fn step(s: &Step) -> String {
    match s {
        Step::JvmExceedsProcess { process, metaspace, overhead, total } => {
            format!("{} + {} = {}, more than the process memory {}", part(metaspace), part(overhead), mib(*total), mib(*process))
        }
        Step::FlinkFromProcess { process, metaspace, overhead, flink } => {
            format!("process memory {} − {} − {} = Flink memory {}", mib(*process), part(metaspace), part(overhead), mib(*flink))
        }
        Step::ProcessBelowFixedFlink { process, flink, metaspace, needed, overhead_min } => format!(
            "process memory {} < Flink memory {} + JVM metaspace {} = {}, and JVM overhead needs at least {} on top",
            mib(*process),
            mib(*flink),
            mib(*metaspace),
            mib(*needed),
            mib(*overhead_min)
        ),
        Step::OverheadFromFixedFlink { process, flink, metaspace, overhead, breach } => format!(
            "process memory {} − Flink memory {} − JVM metaspace {} = JVM overhead {}{}",
            mib(*process),
            mib(*flink),
            mib(*metaspace),
            mib(*overhead),
            breach_suffix(breach.as_ref())
        ),
        Step::NetworkRest { flink, parts: ps, rest } => {
            let tail = match rest {
                Rest::Negative { parts } => format!("< 0: the parts alone are {}", mib(*parts)),
                Rest::Network { value, breach } => format!("= network {}{}", mib(*value), breach_suffix(breach.as_ref())),
            };
            format!("{} − ({}) {tail}", flink_value(flink), parts(ps))
        }
        Step::PartsExceedFlink { flink, parts: ps, sum, network_min } => {
            let over = sum - flink.value;
            match network_min {
                Some(min) => format!(
                    "{} must hold {} = {} and network (at least {}), but the parts alone exceed {} by {}",
                    flink_label(flink),
                    parts(ps),
                    mib(*sum),
                    mib(*min),
                    mib(flink.value),
                    mib(over)
                ),
                None => {
                    format!("{} must hold {} = {}, {} more than {}", flink_label(flink), parts(ps), mib(*sum), mib(over), mib(flink.value))
                }
            }
        }
        Step::Split { flink, parts: ps } => format!("{} = {}", flink_value(flink), parts(ps)),
        Step::HeapPlusOffHeapMismatch { heap, off_heap, sum, flink } => {
            format!("{} + {} = {}, but `{}` is {}", part(heap), part(off_heap), mib(*sum), flink.key, mib(flink.value))
        }
        Step::HeapExceedsFlinkSize { heap, flink } => {
            format!("{} is more than Flink memory {} (`{}`)", part(heap), mib(flink.value), flink.key)
        }
        Step::NoHeapLeft { flink, off_heap } => format!(
            "JVM heap = {} − {} leaves no heap: Flink requires Flink memory to be larger than off-heap memory",
            flink_value(flink),
            part(off_heap)
        ),
    }
}

fn steps(ss: &[Step]) -> Vec<String> {
    ss.iter().map(step).collect()
}

/// The reason as the tail of the error's one line.
fn reason(r: &Reason) -> String {
    match r {
        Reason::JvmExceedsProcess { metaspace, overhead, total } => {
            format!("JVM metaspace {} and JVM overhead {} alone need {}", mib(*metaspace), mib(*overhead), mib(*total))
        }
        Reason::ProcessBelowFixedFlink { flink, metaspace } => {
            format!("it is less than the fixed Flink memory {} plus JVM metaspace {}", mib(*flink), mib(*metaspace))
        }
        Reason::LeftOver { value, breach } => {
            let what = match breach.component {
                Component::Network => "network memory".to_string(),
                c => name(c).to_string(),
            };
            format!("the {what} left over, {}, is {} {}", mib(*value), breach_words(breach), mib(breach.bound.value))
        }
        Reason::FixedPartsExceedFlinkSize { sum, flink } => {
            format!("the fixed parts add up to {}, more than `{}` {}", mib(*sum), flink.key, mib(flink.value))
        }
        Reason::CannotHoldFixedAndDerived { flink, sum } => {
            format!("its Flink memory {} cannot hold the {} of fixed and derived parts", mib(*flink), mib(*sum))
        }
        Reason::CannotHoldParts { flink, sum } => format!("its Flink memory {} cannot hold the {} its parts need", mib(*flink), mib(*sum)),
        Reason::HeapPlusOffHeapMismatch { heap, off_heap, flink } => format!("`{heap}` + `{off_heap}` must equal `{flink}`"),
        Reason::HeapExceedsFlinkSize { heap, flink } => {
            format!("`{}` {} exceeds `{}` {}", heap.key, mib(heap.value), flink.key, mib(flink.value))
        }
        Reason::NoHeapLeft { flink, off_heap } => {
            format!("its Flink memory {} is not larger than its off-heap memory {}, leaving no JVM heap", mib(*flink), mib(*off_heap))
        }
        Reason::FractionsLeaveNoRoom { managed, network } => format!(
            "managed memory ({} of Flink memory) and network memory ({} of Flink memory) leave no room for the framework and task memory",
            pct(*managed),
            pct(*network)
        ),
        Reason::NoWholeMebibyte => "no whole number of mebibytes meets every bound of this configuration".to_string(),
    }
}

/// The public breakdown of an accepted process size.
pub(super) fn breakdown(role: Role, d: Derivation) -> Breakdown {
    Breakdown {
        role,
        process: MemorySize(d.process),
        jvm_metaspace: MemorySize(d.metaspace),
        jvm_overhead: MemorySize(d.overhead),
        flink: MemorySize(d.flink),
        parts: d.parts,
        derivation: steps(&d.steps),
        warnings: d.warnings,
    }
}

/// A process size below what the configuration needs. `no_room` is given when no size works
/// because of the fractions alone; it is added to the arithmetic.
pub(super) fn too_small(
    role: Role,
    process: MemorySize,
    f: Failure,
    minimum: Option<MemorySize>,
    no_room: Option<Reason>,
) -> MemoryModelError {
    let mut lines = steps(&f.steps);
    lines.extend(no_room.as_ref().map(reason));
    MemoryModelError::TooSmall { role, process, reason: reason(&f.reason), lines, minimum }
}

/// A process size above what a fixed Flink memory (or a capped network) allows.
pub(super) fn too_large(
    role: Role,
    process: MemorySize,
    f: Failure,
    minimum: Option<MemorySize>,
    maximum: Option<MemorySize>,
) -> MemoryModelError {
    MemoryModelError::TooLarge { role, process, reason: reason(&f.reason), lines: steps(&f.steps), minimum, maximum }
}

/// Options that contradict each other whatever the process size.
pub(super) fn inconsistent(role: Role, f: &Failure) -> MemoryModelError {
    MemoryModelError::Inconsistent { role, reason: reason(&f.reason), lines: steps(&f.steps) }
}

/// No process size works; `steps` show the bound that fails at the smallest conceivable size.
pub(super) fn unsatisfiable(role: Role, r: Reason, ss: &[Step]) -> MemoryModelError {
    MemoryModelError::Unsatisfiable { role, reason: reason(&r), lines: steps(ss) }
}

fn minimum_line(minimum: Option<MemorySize>) -> String {
    match minimum {
        Some(m) => format!("the smallest process memory that works with this configuration is {}", mib(m.0)),
        None => "no process memory that is a whole number of mebibytes works with this configuration".to_string(),
    }
}

impl MemoryModelError {
    /// The multi-line explanation: the arithmetic Flink would do, then the smallest (and, where
    /// there is one, largest) process memory that works. Lines are separated by `\n`; there is
    /// no trailing newline.
    pub fn arithmetic(&self) -> String {
        match self {
            MemoryModelError::InvalidSize { .. } => "Flink reads memory options as a whole number with an optional unit \
                 b, k/kb, m/mb, g/gb, t/tb (any case, binary multiples), e.g. 1024m; Kubernetes quantities \
                 such as 1Gi are not accepted in flinkConfiguration"
                .to_string(),
            MemoryModelError::InvalidFraction { .. } | MemoryModelError::FractionOutOfRange { .. } => {
                "memory fractions are decimal numbers of at least 0 and below 1, e.g. 0.4".to_string()
            }
            MemoryModelError::MinAboveMax { .. } => "set min <= max; set both to the same value to fix the size exactly".to_string(),
            MemoryModelError::TooSmall { lines, minimum, .. } => {
                let mut out = lines.clone();
                out.push(minimum_line(*minimum));
                out.join("\n")
            }
            MemoryModelError::TooLarge { lines, minimum, maximum, .. } => {
                let mut out = lines.clone();
                out.push(match (minimum, maximum) {
                    (Some(lo), Some(hi)) => {
                        format!("with this configuration the process memory must lie between {} and {}", mib(lo.0), mib(hi.0))
                    }
                    _ => minimum_line(None),
                });
                out.join("\n")
            }
            MemoryModelError::Inconsistent { lines, .. } | MemoryModelError::Unsatisfiable { lines, .. } => lines.join("\n"),
        }
    }

    /// The error as a diagnostic with its code: the one line as the message and the arithmetic
    /// as notes. The caller adds the place and the help, which depend on where the memory was set.
    pub fn diagnostic(&self) -> Diagnostic {
        self.arithmetic().lines().fold(Diagnostic::error(self.code(), self.to_string()), |d, line| d.note(line))
    }
}

impl fmt::Display for MemoryModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemoryModelError::InvalidSize { key, value, source } => {
                write!(f, "flinkConfiguration `{key}` = {value:?} is not a memory size Flink accepts: {source}")
            }
            MemoryModelError::InvalidFraction { key, value } => write!(f, "flinkConfiguration `{key}` = {value:?} is not a number"),
            MemoryModelError::FractionOutOfRange { key, value } => {
                write!(f, "flinkConfiguration `{key}` = {value:?} is outside [0, 1), the range Flink allows for a memory fraction")
            }
            MemoryModelError::MinAboveMax { min_key, min, max_key, max } => {
                write!(f, "flinkConfiguration `{min_key}` = {min} is larger than `{max_key}` = {max}")
            }
            MemoryModelError::TooSmall { role, process, reason, .. } => {
                write!(f, "{role} memory {process} is too small for Flink's memory model: {reason}")
            }
            MemoryModelError::TooLarge { role, process, reason, .. } => {
                write!(f, "{role} memory {process} is too large for the memory fixed in flinkConfiguration: {reason}")
            }
            MemoryModelError::Inconsistent { role, reason, .. } => {
                write!(f, "{role} memory options in flinkConfiguration contradict each other: {reason}")
            }
            MemoryModelError::Unsatisfiable { role, reason, .. } => {
                write!(f, "no {role} process memory works with this flinkConfiguration: {reason}")
            }
        }
    }
}

impl std::error::Error for MemoryModelError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MemoryModelError::InvalidSize { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl fmt::Display for MemoryWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemoryWarning::JobManagerHeapBelowRecommended { heap, recommended } => {
                write!(f, "the JobManager's JVM heap {} is below Flink's recommended minimum {}", mib(heap.0), mib(recommended.0))
            }
        }
    }
}

impl std::error::Error for MemoryWarning {}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::TaskManager => "TaskManager",
            Role::JobManager => "JobManager",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers_for_messages() {
        assert_eq!(mib(64 * MIB), "64m");
        assert_eq!(mib(26843546), "25.6m");
        assert_eq!(mib(0), "0m");
        assert_eq!(mib(8), "8 bytes");
        assert_eq!(pct(f64::from(0.1f32)), "10%");
        assert_eq!(pct(0.125), "12.5%");
    }

    #[test]
    fn an_error_becomes_a_coded_diagnostic_with_its_arithmetic_as_notes() {
        let config = indexmap::IndexMap::new();
        let err = super::super::check(Role::JobManager, MemorySize::from_mib(576), &config).unwrap_err();
        let d = err.diagnostic();
        assert_eq!(d.code, crate::diag::Code::MemoryTooSmall);
        assert_eq!(d.message, err.to_string());
        assert_eq!(d.notes.join("\n"), err.arithmetic());
        assert!(d.notes.last().is_some_and(|n| n.ends_with("is 577m")), "{:?}", d.notes);
    }
}
