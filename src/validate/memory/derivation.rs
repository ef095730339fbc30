//! validate phase, Flink memory model: Flink's derivation of every memory component from the
//! process memory and the options (`ProcessMemoryUtils`, `TaskExecutorFlinkMemoryUtils`,
//! `JobManagerFlinkMemoryUtils`).
//!
//! In: [`Settings`] and a process size in bytes. Out: a [`Derivation`] (every component, plus
//! the [`Step`]s that produced them) or a [`Failure`] (what Flink would refuse, as a typed
//! [`Reason`] and the steps up to it). Only numbers and typed records: `explanation.rs` words
//! them, so the minimum search can run this hundreds of times without formatting a line.

use super::options::{JM_RECOMMENDED_MIN_HEAP, JmSettings, Jvm, Range, Settings, Size, TmSettings};
use super::size::{multiply, sum};
use super::{FlinkParts, MemoryWarning};
use crate::units::MemorySize;

/// How a fraction-derived size related to its min/max (`capToMinMax`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Clamp {
    None,
    RaisedToMin,
    CappedAtMax,
}

/// A size derived from a fraction: the value used, the product before clamping, and the clamp.
#[derive(Debug, Clone, Copy)]
pub(super) struct Derived {
    pub value: u64,
    pub raw: u64,
    pub clamp: Clamp,
}

fn cap_to_min_max(raw: u64, range: &Range) -> Derived {
    let (value, clamp) = if raw > range.max.value {
        (range.max.value, Clamp::CappedAtMax)
    } else if raw < range.min.value {
        (range.min.value, Clamp::RaisedToMin)
    } else {
        (raw, Clamp::None)
    };
    Derived { value, raw, clamp }
}

/// `ProcessMemoryUtils.deriveWithFraction`.
fn derive_with_fraction(base: u64, range: &Range) -> Derived {
    cap_to_min_max(multiply(base, range.fraction.value), range)
}

/// `ProcessMemoryUtils.deriveWithInverseFraction`: the share that makes up `fraction` of
/// `base + share`.
fn derive_with_inverse_fraction(base: u64, range: &Range) -> Derived {
    let f = range.fraction.value;
    cap_to_min_max(multiply(base, f / (1.0 - f)), range)
}

/// A component of Flink's memory model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Component {
    FrameworkHeap,
    TaskHeap,
    FrameworkOffHeap,
    TaskOffHeap,
    Managed,
    Network,
    /// The JobManager's JVM heap.
    JvmHeap,
    /// The JobManager's off-heap memory.
    OffHeap,
    JvmMetaspace,
    JvmOverhead,
}

/// Where a value of the derivation came from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Origin {
    /// A default or a fixed part that the step does not attribute to an option.
    Plain,
    /// The option the user set.
    Option(&'static str),
    /// A fraction of `base` (`deriveWithFraction`), or with `inverse` the share that makes up
    /// the fraction of `base` + share (`deriveWithInverseFraction`); maybe clamped to `range`.
    Share { derived: Derived, range: Range, base: u64, inverse: bool },
    /// What the Flink memory (or the option named) leaves after the other parts.
    Rest(Option<&'static str>),
}

/// One component's value and origin, as a step of the derivation uses it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Part {
    pub component: Component,
    pub value: u64,
    pub origin: Origin,
}

impl Part {
    fn plain(component: Component, value: u64) -> Part {
        Part { component, value, origin: Origin::Plain }
    }

    /// A size the user set, attributed to its key.
    fn option(component: Component, size: &Size) -> Part {
        Part { component, value: size.value, origin: Origin::Option(size.key) }
    }

    /// A size attributed to its key when the user set it, shown plain when it is the default.
    fn size(component: Component, size: &Size) -> Part {
        if size.explicit { Part::option(component, size) } else { Part::plain(component, size.value) }
    }

    fn share(component: Component, derived: Derived, range: &Range, base: u64, inverse: bool) -> Part {
        Part { component, value: derived.value, origin: Origin::Share { derived, range: *range, base, inverse } }
    }
}

/// A total Flink memory that a split starts from: the rest of the process memory, or the
/// option that fixes it.
#[derive(Debug, Clone, Copy)]
pub(super) struct FlinkTotal {
    pub value: u64,
    pub option: Option<&'static str>,
}

/// Which side of its range a left-over size fell on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Below,
    Above,
}

/// A left-over size outside its min/max (`bound` is the min or max option it broke).
#[derive(Debug, Clone, Copy)]
pub(super) struct Breach {
    /// [`Component::JvmOverhead`] or [`Component::Network`].
    pub component: Component,
    pub side: Side,
    pub bound: Size,
}

/// What the Flink memory leaves for the network after the other parts.
#[derive(Debug, Clone, Copy)]
pub(super) enum Rest {
    /// Nothing: the parts alone add up to this much more than the Flink memory holds.
    Negative { parts: u64 },
    /// This much, maybe outside the network range.
    Network { value: u64, breach: Option<Breach> },
}

/// One step of the derivation (one line of the explanation).
#[derive(Debug, Clone)]
pub(super) enum Step {
    /// Metaspace and overhead alone exceed the process memory.
    JvmExceedsProcess { process: u64, metaspace: Part, overhead: Part, total: u64 },
    /// Flink memory = process − metaspace − overhead.
    FlinkFromProcess { process: u64, metaspace: Part, overhead: Part, flink: u64 },
    /// The process memory cannot hold a fixed Flink memory plus metaspace (`needed`) and the
    /// overhead minimum.
    ProcessBelowFixedFlink { process: u64, flink: u64, metaspace: u64, needed: u64, overhead_min: u64 },
    /// Overhead = process − fixed Flink memory − metaspace, maybe outside its range.
    OverheadFromFixedFlink { process: u64, flink: u64, metaspace: u64, overhead: u64, breach: Option<Breach> },
    /// The Flink memory minus the other parts is the network memory.
    NetworkRest { flink: FlinkTotal, parts: Vec<Part>, rest: Rest },
    /// The parts (`sum` in all) exceed the Flink memory; `network_min` is what the network
    /// needs on top when it is the part left over.
    PartsExceedFlink { flink: FlinkTotal, parts: Vec<Part>, sum: u64, network_min: Option<u64> },
    /// The Flink memory is the sum of its parts.
    Split { flink: FlinkTotal, parts: Vec<Part> },
    /// The JobManager heap and off-heap options do not add up to the Flink size option.
    HeapPlusOffHeapMismatch { heap: Part, off_heap: Part, sum: u64, flink: Size },
    /// The JobManager heap option exceeds the Flink size option.
    HeapExceedsFlinkSize { heap: Part, flink: Size },
    /// The JobManager's Flink memory is not larger than its off-heap memory.
    NoHeapLeft { flink: FlinkTotal, off_heap: Part },
}

/// Why Flink refuses a configuration, or why no process memory works.
#[derive(Debug, Clone, Copy)]
pub(super) enum Reason {
    /// Metaspace and overhead alone need `total`.
    JvmExceedsProcess { metaspace: u64, overhead: u64, total: u64 },
    /// The process memory is below the fixed Flink memory plus metaspace.
    ProcessBelowFixedFlink { flink: u64, metaspace: u64 },
    /// A left-over size (`value`) is outside its range.
    LeftOver { value: u64, breach: Breach },
    /// Fixed TaskManager parts (`sum`) exceed the Flink size option.
    FixedPartsExceedFlinkSize { sum: u64, flink: Size },
    /// With the task heap set, fixed and derived parts (`sum`) exceed the Flink memory.
    CannotHoldFixedAndDerived { flink: u64, sum: u64 },
    /// With the task heap derived, the other parts (`sum`) exceed the Flink memory.
    CannotHoldParts { flink: u64, sum: u64 },
    /// JobManager heap + off-heap options must equal the Flink size option.
    HeapPlusOffHeapMismatch { heap: &'static str, off_heap: &'static str, flink: &'static str },
    /// The JobManager heap option exceeds the Flink size option.
    HeapExceedsFlinkSize { heap: Size, flink: Size },
    /// The JobManager's Flink memory is not larger than its off-heap memory.
    NoHeapLeft { flink: u64, off_heap: u64 },
    /// Managed and network fractions (unclamped) take all of the Flink memory.
    FractionsLeaveNoRoom { managed: f64, network: f64 },
    /// Every bound can be met, but not by a whole number of mebibytes.
    NoWholeMebibyte,
}

/// What a step of the derivation failed on; decides the public error variant and guides the
/// minimum search (only `TooSmall` shrinks as the process memory grows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FailKind {
    TooSmall,
    TooLarge,
    Inconsistent,
}

/// A configuration Flink refuses at this process size.
#[derive(Debug, Clone)]
pub(super) struct Failure {
    pub kind: FailKind,
    pub reason: Reason,
    /// The steps up to and including the one that failed.
    pub steps: Vec<Step>,
}

fn fail(kind: FailKind, reason: Reason, steps: Vec<Step>) -> Failure {
    Failure { kind, reason, steps }
}

/// Every component Flink derives for one process size, and how.
#[derive(Debug, Clone)]
pub(super) struct Derivation {
    pub process: u64,
    pub metaspace: u64,
    pub overhead: u64,
    pub flink: u64,
    pub parts: FlinkParts,
    pub steps: Vec<Step>,
    pub warnings: Vec<MemoryWarning>,
}

/// A finished Flink-memory split, before the JVM parts are known.
struct FlinkSplit {
    total: u64,
    parts: FlinkParts,
    steps: Vec<Step>,
}

impl Settings {
    /// Flink's `ProcessMemoryUtils.memoryProcessSpecFromConfig` with the process size set.
    pub(super) fn evaluate(&self, process: u64) -> Result<Derivation, Failure> {
        let jvm = self.jvm();
        let (split, metaspace, overhead, steps) = match self.fixed_flink_split()? {
            // (1) fine-grained options or (2) total Flink memory: Flink memory first, then the
            // JVM parts from what is left of the process memory.
            Some(split) => {
                let (metaspace, overhead, step) = overhead_from_fixed_flink(jvm, process, &split)?;
                let mut steps = split.steps.clone();
                steps.push(step);
                (split, metaspace, overhead, steps)
            }
            // (3) process memory: JVM parts first, Flink memory is the rest.
            None => {
                let (metaspace, overhead, step) = jvm_from_process(jvm, process)?;
                let flink = FlinkTotal { value: process - metaspace - overhead, option: None };
                let split = match self {
                    Settings::Tm(s) => tm_from_total_flink(s, flink, vec![step])?,
                    Settings::Jm(s) => jm_from_total_flink(s, flink, vec![step])?,
                };
                let steps = split.steps.clone();
                (split, metaspace, overhead, steps)
            }
        };
        let mut warnings = Vec::new();
        if let FlinkParts::JobManager { heap, .. } = split.parts
            && heap.0 < JM_RECOMMENDED_MIN_HEAP
        {
            warnings.push(MemoryWarning::JobManagerHeapBelowRecommended { heap, recommended: MemorySize(JM_RECOMMENDED_MIN_HEAP) });
        }
        Ok(Derivation { process, metaspace, overhead, flink: split.total, parts: split.parts, steps, warnings })
    }

    /// The Flink memory split when the configuration fixes it independently of the process
    /// memory (derivation paths 1 and 2); `None` when it follows from the process memory.
    /// Failures here are `Inconsistent`: no process memory can fix them.
    fn fixed_flink_split(&self) -> Result<Option<FlinkSplit>, Failure> {
        match self {
            Settings::Tm(s) => match (s.task_heap, s.managed) {
                (Some(task_heap), Some(managed)) => tm_fine_grained(s, task_heap, managed).map(Some),
                _ => match s.flink {
                    Some(f) => tm_from_total_flink(s, FlinkTotal { value: f.value, option: Some(f.key) }, Vec::new()).map(Some),
                    None => Ok(None),
                },
            },
            Settings::Jm(s) => match (s.heap, s.flink) {
                (Some(heap), flink) => jm_fine_grained(s, heap, flink).map(Some),
                (None, Some(f)) => jm_from_total_flink(s, FlinkTotal { value: f.value, option: Some(f.key) }, Vec::new()).map(Some),
                (None, None) => Ok(None),
            },
        }
    }
}

/// `deriveJvmMetaspaceAndOverheadWithTotalProcessMemory`: overhead is a capped fraction of the
/// process memory; metaspace + overhead must fit in it.
fn jvm_from_process(jvm: &Jvm, process: u64) -> Result<(u64, u64, Step), Failure> {
    let metaspace = jvm.metaspace.value;
    let derived = derive_with_fraction(process, &jvm.overhead);
    let metaspace_part = Part::plain(Component::JvmMetaspace, metaspace);
    let overhead_part = Part::share(Component::JvmOverhead, derived, &jvm.overhead, process, false);
    let total = metaspace.saturating_add(derived.value);
    if total > process {
        return Err(fail(
            FailKind::TooSmall,
            Reason::JvmExceedsProcess { metaspace, overhead: derived.value, total },
            vec![Step::JvmExceedsProcess { process, metaspace: metaspace_part, overhead: overhead_part, total }],
        ));
    }
    let step = Step::FlinkFromProcess { process, metaspace: metaspace_part, overhead: overhead_part, flink: process - total };
    Ok((metaspace, derived.value, step))
}

/// `deriveJvmMetaspaceAndOverheadFromTotalFlinkMemory` with the process size set: overhead is
/// what remains and must lie within its min/max.
fn overhead_from_fixed_flink(jvm: &Jvm, process: u64, split: &FlinkSplit) -> Result<(u64, u64, Step), Failure> {
    let metaspace = jvm.metaspace.value;
    let flink = split.total;
    let needed = flink.saturating_add(metaspace);
    let (min, max) = (jvm.overhead.min, jvm.overhead.max);
    let mut steps = split.steps.clone();
    if process < needed {
        steps.push(Step::ProcessBelowFixedFlink { process, flink, metaspace, needed, overhead_min: min.value });
        return Err(fail(FailKind::TooSmall, Reason::ProcessBelowFixedFlink { flink, metaspace }, steps));
    }
    let overhead = process - needed;
    let breach = if overhead < min.value {
        Some((FailKind::TooSmall, Breach { component: Component::JvmOverhead, side: Side::Below, bound: min }))
    } else if overhead > max.value {
        Some((FailKind::TooLarge, Breach { component: Component::JvmOverhead, side: Side::Above, bound: max }))
    } else {
        None
    };
    let step = |breach| Step::OverheadFromFixedFlink { process, flink, metaspace, overhead, breach };
    if let Some((kind, breach)) = breach {
        steps.push(step(Some(breach)));
        return Err(fail(kind, Reason::LeftOver { value: overhead, breach }, steps));
    }
    Ok((metaspace, overhead, step(None)))
}

/// The three TaskManager parts that are never derived: framework heap and off-heap, task off-heap.
fn tm_fixed_parts(s: &TmSettings) -> [Part; 3] {
    [
        Part::plain(Component::FrameworkHeap, s.framework_heap.value),
        Part::plain(Component::FrameworkOffHeap, s.framework_off_heap.value),
        Part::plain(Component::TaskOffHeap, s.task_off_heap.value),
    ]
}

fn tm_parts(s: &TmSettings, task_heap: u64, managed: u64, network: u64) -> FlinkParts {
    FlinkParts::TaskManager {
        framework_heap: MemorySize(s.framework_heap.value),
        task_heap: MemorySize(task_heap),
        framework_off_heap: MemorySize(s.framework_off_heap.value),
        task_off_heap: MemorySize(s.task_off_heap.value),
        managed: MemorySize(managed),
        network: MemorySize(network),
    }
}

/// TaskManager path (1): task heap and managed memory both set; network is derived from them (or
/// is what `taskmanager.memory.flink.size` leaves).
fn tm_fine_grained(s: &TmSettings, task_heap: Size, managed: Size) -> Result<FlinkSplit, Failure> {
    let excl_network = sum(&[s.framework_heap.value, s.framework_off_heap.value, task_heap.value, s.task_off_heap.value, managed.value]);
    let mut parts: Vec<Part> = tm_fixed_parts(s).to_vec();
    parts.extend([Part::option(Component::TaskHeap, &task_heap), Part::option(Component::Managed, &managed)]);
    let network = match s.flink {
        Some(f) => {
            let flink = FlinkTotal { value: f.value, option: Some(f.key) };
            if excl_network > f.value {
                return Err(fail(
                    FailKind::Inconsistent,
                    Reason::FixedPartsExceedFlinkSize { sum: excl_network, flink: f },
                    vec![Step::NetworkRest { flink, parts, rest: Rest::Negative { parts: excl_network } }],
                ));
            }
            let network = f.value - excl_network;
            check_network_range(s, flink, &parts, network, FailKind::Inconsistent, FailKind::Inconsistent, Vec::new())?;
            Part { component: Component::Network, value: network, origin: Origin::Rest(Some(f.key)) }
        }
        None => Part::share(Component::Network, derive_with_inverse_fraction(excl_network, &s.network), &s.network, excl_network, true),
    };
    let total = sum(&[excl_network, network.value]);
    let split = tm_parts(s, task_heap.value, managed.value, network.value);
    parts.push(network);
    Ok(FlinkSplit { total, parts: split, steps: vec![Step::Split { flink: FlinkTotal { value: total, option: None }, parts }] })
}

/// Flink's `sanityCheckNetworkMemory`: a network size left over by fixed parts must lie within
/// the network min/max. `steps` are the steps before this one.
fn check_network_range(
    s: &TmSettings,
    flink: FlinkTotal,
    parts: &[Part],
    network: u64,
    below_kind: FailKind,
    above_kind: FailKind,
    mut steps: Vec<Step>,
) -> Result<(), Failure> {
    let (min, max) = (s.network.min, s.network.max);
    let (kind, side, bound) = if network < min.value {
        (below_kind, Side::Below, min)
    } else if network > max.value {
        (above_kind, Side::Above, max)
    } else {
        return Ok(());
    };
    let breach = Breach { component: Component::Network, side, bound };
    steps.push(Step::NetworkRest { flink, parts: parts.to_vec(), rest: Rest::Network { value: network, breach: Some(breach) } });
    Err(fail(kind, Reason::LeftOver { value: network, breach }, steps))
}

/// `TaskExecutorFlinkMemoryUtils.deriveFromTotalFlinkMemory`. A total that came from the process
/// memory makes shortfalls `TooSmall`; one fixed by `taskmanager.memory.flink.size` makes them
/// `Inconsistent`.
fn tm_from_total_flink(s: &TmSettings, flink: FlinkTotal, mut steps: Vec<Step>) -> Result<FlinkSplit, Failure> {
    let from_process = flink.option.is_none();
    let short = if from_process { FailKind::TooSmall } else { FailKind::Inconsistent };
    let long = if from_process { FailKind::TooLarge } else { FailKind::Inconsistent };
    let total = flink.value;
    let managed = match s.managed {
        Some(m) => Part::option(Component::Managed, &m),
        None => Part::share(Component::Managed, derive_with_fraction(total, &s.managed_range), &s.managed_range, total, false),
    };
    let fixed = sum(&[s.framework_heap.value, s.framework_off_heap.value, s.task_off_heap.value]);
    let mut parts: Vec<Part> = tm_fixed_parts(s).to_vec();
    let (task_heap, network) = match s.task_heap {
        // Task heap set: managed first, network is the rest and must respect its min/max.
        Some(th) => {
            let excl_network = sum(&[fixed, th.value, managed.value]);
            parts.extend([Part::option(Component::TaskHeap, &th), managed]);
            if excl_network > total {
                steps.push(Step::PartsExceedFlink { flink, parts, sum: excl_network, network_min: Some(s.network.min.value) });
                return Err(fail(short, Reason::CannotHoldFixedAndDerived { flink: total, sum: excl_network }, steps));
            }
            let network = total - excl_network;
            check_network_range(s, flink, &parts, network, short, long, steps.clone())?;
            parts.push(Part { component: Component::Network, value: network, origin: Origin::Rest(None) });
            (th.value, network)
        }
        // Task heap derived: managed and network from fractions, task heap is the rest.
        None => {
            let network = Part::share(Component::Network, derive_with_fraction(total, &s.network), &s.network, total, false);
            let excl_task_heap = sum(&[fixed, managed.value, network.value]);
            parts.extend([managed, network]);
            if excl_task_heap > total {
                steps.push(Step::PartsExceedFlink { flink, parts, sum: excl_task_heap, network_min: None });
                return Err(fail(short, Reason::CannotHoldParts { flink: total, sum: excl_task_heap }, steps));
            }
            let task_heap = total - excl_task_heap;
            parts.push(Part { component: Component::TaskHeap, value: task_heap, origin: Origin::Rest(None) });
            (task_heap, network.value)
        }
    };
    steps.push(Step::Split { flink, parts });
    Ok(FlinkSplit { total, parts: tm_parts(s, task_heap, managed.value, network), steps })
}

/// JobManager path (1): heap set. Off-heap is its option (default 128m) or, when only
/// `jobmanager.memory.flink.size` is also set, what that leaves.
fn jm_fine_grained(s: &JmSettings, heap: Size, flink: Option<Size>) -> Result<FlinkSplit, Failure> {
    let heap_part = Part::option(Component::JvmHeap, &heap);
    let off_heap = match flink {
        Some(f) if s.off_heap.explicit => {
            let off_heap = Part::option(Component::OffHeap, &s.off_heap);
            let both = sum(&[heap.value, s.off_heap.value]);
            if both != f.value {
                return Err(fail(
                    FailKind::Inconsistent,
                    Reason::HeapPlusOffHeapMismatch { heap: heap.key, off_heap: s.off_heap.key, flink: f.key },
                    vec![Step::HeapPlusOffHeapMismatch { heap: heap_part, off_heap, sum: both, flink: f }],
                ));
            }
            off_heap
        }
        Some(f) => {
            if f.value < heap.value {
                return Err(fail(
                    FailKind::Inconsistent,
                    Reason::HeapExceedsFlinkSize { heap, flink: f },
                    vec![Step::HeapExceedsFlinkSize { heap: heap_part, flink: f }],
                ));
            }
            Part { component: Component::OffHeap, value: f.value - heap.value, origin: Origin::Rest(Some(f.key)) }
        }
        None => Part::size(Component::OffHeap, &s.off_heap),
    };
    let total = sum(&[heap.value, off_heap.value]);
    Ok(FlinkSplit {
        total,
        parts: FlinkParts::JobManager { heap: MemorySize(heap.value), off_heap: MemorySize(off_heap.value) },
        steps: vec![Step::Split { flink: FlinkTotal { value: total, option: None }, parts: vec![heap_part, off_heap] }],
    })
}

/// `JobManagerFlinkMemoryUtils.deriveFromTotalFlinkMemory`: heap = Flink memory − off-heap, and
/// Flink requires Flink memory to be strictly larger than off-heap.
fn jm_from_total_flink(s: &JmSettings, flink: FlinkTotal, mut steps: Vec<Step>) -> Result<FlinkSplit, Failure> {
    let off = s.off_heap.value;
    let off_heap = Part::size(Component::OffHeap, &s.off_heap);
    if flink.value <= off {
        steps.push(Step::NoHeapLeft { flink, off_heap });
        let kind = if flink.option.is_none() { FailKind::TooSmall } else { FailKind::Inconsistent };
        return Err(fail(kind, Reason::NoHeapLeft { flink: flink.value, off_heap: off }, steps));
    }
    let heap = flink.value - off;
    steps.push(Step::Split {
        flink,
        parts: vec![Part { component: Component::JvmHeap, value: heap, origin: Origin::Rest(None) }, off_heap],
    });
    Ok(FlinkSplit { total: flink.value, parts: FlinkParts::JobManager { heap: MemorySize(heap), off_heap: MemorySize(off) }, steps })
}
