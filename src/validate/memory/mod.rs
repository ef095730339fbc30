//! validate phase: Flink memory model of TaskManager and JobManager processes (SPEC §5).
//!
//! In: a [`Role`], the process memory flinkops writes as the FlinkDeployment's `memory` (the Flink
//! Kubernetes operator copies it into `taskmanager.memory.process.size` /
//! `jobmanager.memory.process.size`, overriding any value in `flinkConfiguration`), and the
//! effective `flinkConfiguration` as flat `key → value` strings.
//! Out: a [`Breakdown`] of every component Flink derives at start-up, or a [`MemoryModelError`]
//! whose `Display` is one line (what is wrong) and whose [`MemoryModelError::arithmetic`] shows
//! the computation plus the smallest process memory that works. [`minimum_process_size`] gives
//! that smallest size on its own (for help texts). Also re-exports [`MemorySize`], the parser and
//! printer of memory values (Flink notation and Kubernetes binary quantities).
//!
//! The parts, one concern each: `options.rs` reads the options with Flink's defaults and
//! fallbacks; `derivation.rs` does Flink's arithmetic and returns numbers and typed failure
//! reasons; `search.rs` finds the smallest (and largest) process memory that works;
//! `explanation.rs` words the numbers (every sentence of the errors and of
//! [`Breakdown::derivation`]); `size.rs` holds Flink's byte arithmetic (`MemorySize.multiply`).
//!
//! The derivation mirrors Flink 1.19–2.2 (`ProcessMemoryUtils`, `TaskExecutorFlinkMemoryUtils`,
//! `JobManagerFlinkMemoryUtils`, `RangeFraction`, `MemorySize` in flink-runtime / flink-core):
//!
//! * Which inputs drive the derivation, in Flink's order: (1) the fine-grained options (TM: task
//!   heap *and* managed size; JM: heap) → Flink memory is their sum; (2) else
//!   `*.memory.flink.size`; (3) else the process size. In (1) and (2) the process size is still
//!   set by the operator, so Flink derives JVM overhead = process − Flink − metaspace and
//!   requires it to lie within the overhead min/max: the process memory then has an upper bound
//!   as well as a lower one.
//! * Defaults: metaspace 256m; JVM overhead 10% of process memory within [192m, 1g]; TM
//!   framework heap 128m, framework off-heap 128m, task off-heap 0, managed 40% of Flink memory,
//!   network 10% of Flink memory within [64m, **unlimited**] (the 1g cap was dropped in Flink
//!   1.17, FLINK-30472); JM off-heap 128m.
//! * Fractions are Java `float`s widened to `double`, and `MemorySize.multiply` multiplies by the
//!   decimal `Double.toString` of that double and truncates. So 40% of 1280m is 536870920 bytes,
//!   not 536870912; `multiply` below reproduces this to the byte.
//! * Failures Flink raises (`IllegalConfigurationException`): metaspace + overhead > process;
//!   TM components (all but task heap, or all but network when task heap is set) > Flink memory;
//!   derived network outside its min/max; JM Flink memory <= off-heap (an empty heap); derived
//!   overhead outside its min/max when Flink memory is fixed; fixed parts that contradict
//!   `*.memory.flink.size`; a fraction outside [0, 1) or a min above its max.
//! * A JM heap below 128m is only a warning in Flink (`MIN_JVM_HEAP_SIZE`); it is reported in
//!   [`Breakdown::warnings`], not as an error.
//!
//! Not modelled: the legacy `taskmanager.network.numberOfBuffers` (deprecated, only used by Flink
//! when no `taskmanager.memory.network.*` key is set; flinkops ignores it) and the pre-1.10 heap
//! options (only read when no new memory option is set, which never happens under the operator).
//! Stricter than Flink on one point: an unparseable value of a memory key is an error even on a
//! derivation path where Flink would not read that key.

use indexmap::IndexMap;

use crate::diag::Code;
use crate::units::{MAX_BYTES, MIB};
pub use crate::units::{MemorySize, MemorySizeError};

mod derivation;
mod explanation;
mod options;
mod search;
mod size;
#[cfg(test)]
mod tests;

use derivation::{Component, FailKind, Reason};
use options::Settings;

// ---------------------------------------------------------------------------------------------
// Public model types
// ---------------------------------------------------------------------------------------------

/// Which Flink process the memory is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A TaskManager (`taskmanager.memory.*`).
    TaskManager,
    /// The JobManager (`jobmanager.memory.*`).
    JobManager,
}

/// Every memory component Flink derives for one process (all sizes exact, in bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakdown {
    /// The process this is for.
    pub role: Role,
    /// Total process memory (the container memory).
    pub process: MemorySize,
    /// JVM metaspace (`-XX:MaxMetaspaceSize`).
    pub jvm_metaspace: MemorySize,
    /// JVM overhead: native memory outside Flink's accounting (thread stacks, code cache, ...).
    pub jvm_overhead: MemorySize,
    /// Total Flink memory: process − metaspace − overhead.
    pub flink: MemorySize,
    /// The role-specific split of the Flink memory.
    pub parts: FlinkParts,
    /// How each value was derived, one line per step, in the notation of the error messages
    /// (for `explain`).
    pub derivation: Vec<String>,
    /// Things Flink only logs a warning about.
    pub warnings: Vec<MemoryWarning>,
}

/// The split of the total Flink memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlinkParts {
    /// A TaskManager's six components; they add up to the total Flink memory.
    TaskManager {
        framework_heap: MemorySize,
        task_heap: MemorySize,
        framework_off_heap: MemorySize,
        task_off_heap: MemorySize,
        managed: MemorySize,
        network: MemorySize,
    },
    /// The JobManager's JVM heap and off-heap memory; they add up to the total Flink memory.
    JobManager { heap: MemorySize, off_heap: MemorySize },
}

impl Breakdown {
    /// All components with their labels, from the Flink parts to the JVM parts, for `explain`.
    pub fn components(&self) -> Vec<(&'static str, MemorySize)> {
        let mut out = match self.parts {
            FlinkParts::TaskManager { framework_heap, task_heap, framework_off_heap, task_off_heap, managed, network } => vec![
                (Component::FrameworkHeap, framework_heap),
                (Component::TaskHeap, task_heap),
                (Component::FrameworkOffHeap, framework_off_heap),
                (Component::TaskOffHeap, task_off_heap),
                (Component::Managed, managed),
                (Component::Network, network),
            ],
            FlinkParts::JobManager { heap, off_heap } => vec![(Component::JvmHeap, heap), (Component::OffHeap, off_heap)],
        };
        out.push((Component::JvmMetaspace, self.jvm_metaspace));
        out.push((Component::JvmOverhead, self.jvm_overhead));
        out.into_iter().map(|(c, size)| (explanation::name(c), size)).collect()
    }

    /// The JVM heap (`-Xmx`): framework + task heap for a TaskManager, the heap for a JobManager.
    pub fn jvm_heap(&self) -> MemorySize {
        match self.parts {
            FlinkParts::TaskManager { framework_heap, task_heap, .. } => MemorySize(framework_heap.0 + task_heap.0),
            FlinkParts::JobManager { heap, .. } => heap,
        }
    }
}

/// A condition Flink accepts but logs a warning about. `Display` (in `explanation.rs`) is one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryWarning {
    /// Flink's `MIN_JVM_HEAP_SIZE`: a JobManager heap below 128m starts, but may not run.
    JobManagerHeapBelowRecommended { heap: MemorySize, recommended: MemorySize },
}

impl MemoryWarning {
    /// The stable diagnostic code.
    pub fn code(&self) -> Code {
        match self {
            MemoryWarning::JobManagerHeapBelowRecommended { .. } => Code::MemoryHeapBelowRecommended,
        }
    }
}

/// A memory setting Flink would refuse at start-up.
///
/// `Display` is one line; [`MemoryModelError::arithmetic`] adds the computation and
/// [`MemoryModelError::diagnostic`] makes both a diagnostic (all worded in `explanation.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemoryModelError {
    /// A memory option in `flinkConfiguration` is not a size Flink can parse.
    InvalidSize { key: String, value: String, source: MemorySizeError },
    /// A fraction option in `flinkConfiguration` is not a number.
    InvalidFraction { key: String, value: String },
    /// A fraction outside [0, 1), which Flink's `RangeFraction` refuses.
    FractionOutOfRange { key: String, value: String },
    /// A min option above its max option.
    MinAboveMax { min_key: String, min: MemorySize, max_key: String, max: MemorySize },
    /// The process memory is below what the configuration needs.
    TooSmall {
        role: Role,
        process: MemorySize,
        reason: String,
        /// The computation, one step per line.
        lines: Vec<String>,
        /// The smallest whole-mebibyte process memory that works, if any does.
        minimum: Option<MemorySize>,
    },
    /// The process memory is above what a configuration with a fixed Flink memory (or a capped
    /// network memory) allows.
    TooLarge {
        role: Role,
        process: MemorySize,
        reason: String,
        lines: Vec<String>,
        minimum: Option<MemorySize>,
        /// The largest whole-mebibyte process memory that works, if any does.
        maximum: Option<MemorySize>,
    },
    /// `flinkConfiguration` memory options contradict each other, whatever the process memory.
    Inconsistent { role: Role, reason: String, lines: Vec<String> },
    /// No process memory works (from [`minimum_process_size`] only).
    Unsatisfiable { role: Role, reason: String, lines: Vec<String> },
}

impl MemoryModelError {
    /// The smallest whole-mebibyte process memory that works, when the error is about size.
    pub fn minimum(&self) -> Option<MemorySize> {
        match self {
            MemoryModelError::TooSmall { minimum, .. } | MemoryModelError::TooLarge { minimum, .. } => *minimum,
            _ => None,
        }
    }

    /// The stable diagnostic code.
    pub fn code(&self) -> Code {
        match self {
            MemoryModelError::InvalidSize { .. } => Code::MemoryInvalidSize,
            MemoryModelError::InvalidFraction { .. } => Code::MemoryInvalidFraction,
            MemoryModelError::FractionOutOfRange { .. } => Code::OutOfRange,
            MemoryModelError::MinAboveMax { .. } => Code::MemoryMinAboveMax,
            MemoryModelError::TooSmall { .. } => Code::MemoryTooSmall,
            MemoryModelError::TooLarge { .. } => Code::MemoryTooLarge,
            MemoryModelError::Inconsistent { .. } => Code::MemoryInconsistent,
            MemoryModelError::Unsatisfiable { .. } => Code::MemoryUnsatisfiable,
        }
    }
}

/// Checks `process` memory for `role` against Flink's memory model under `flink_config`.
///
/// `flink_config` holds the effective `flinkConfiguration`; keys that are not memory options are
/// ignored, and so is `*.memory.process.size` (the operator overwrites it with `process`).
pub fn check(role: Role, process: MemorySize, flink_config: &IndexMap<String, String>) -> Result<Breakdown, MemoryModelError> {
    let settings = Settings::read(role, flink_config)?;
    let process_bytes = process.0.min(MAX_BYTES);
    let failure = match settings.evaluate(process_bytes) {
        Ok(derivation) => return Ok(explanation::breakdown(role, derivation)),
        Err(failure) => failure,
    };
    Err(match failure.kind {
        FailKind::TooSmall => {
            let minimum = settings.minimum_mib().map(MemorySize::from_mib);
            let no_room = if minimum.is_none() { settings.impossibility() } else { None };
            explanation::too_small(role, process, failure, minimum, no_room)
        }
        FailKind::TooLarge => {
            let minimum = settings.minimum_mib();
            let maximum = minimum.and_then(|lo| settings.maximum_mib(lo, process_bytes / MIB));
            explanation::too_large(role, process, failure, minimum.map(MemorySize::from_mib), maximum.map(MemorySize::from_mib))
        }
        FailKind::Inconsistent => explanation::inconsistent(role, &failure),
    })
}

/// The smallest whole-mebibyte process memory for `role` that [`check`] accepts under
/// `flink_config` (982m for a TaskManager and 577m for a JobManager with Flink's defaults).
///
/// Errors: an invalid option value, contradicting options, or no size working at all (e.g.
/// managed + network fractions of 1 or more leave no room for the fixed parts).
pub fn minimum_process_size(role: Role, flink_config: &IndexMap<String, String>) -> Result<MemorySize, MemoryModelError> {
    let settings = Settings::read(role, flink_config)?;
    if let Some(mib) = settings.minimum_mib() {
        return Ok(MemorySize::from_mib(mib));
    }
    // Explain: a contradiction no size can fix, fractions that leave no room, or else the bound
    // that fails at the smallest conceivable size.
    let probe = settings.lower_bound().div_ceil(MIB).max(1) * MIB;
    let failure = settings.evaluate(probe).err();
    if let Some(f) = &failure
        && f.kind == FailKind::Inconsistent
    {
        return Err(explanation::inconsistent(role, f));
    }
    Err(match settings.impossibility() {
        Some(why) => explanation::unsatisfiable(role, why, &[]),
        None => explanation::unsatisfiable(role, Reason::NoWholeMebibyte, failure.as_ref().map_or(&[], |f| &f.steps)),
    })
}
