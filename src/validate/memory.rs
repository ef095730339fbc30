//! validate phase: Flink memory model of TaskManager and JobManager processes (SPEC §5).
//!
//! In: a [`Role`], the process memory flinkops writes as the FlinkDeployment's `memory` (the Flink
//! Kubernetes operator copies it into `taskmanager.memory.process.size` /
//! `jobmanager.memory.process.size`, overriding any value in `flinkConfiguration`), and the
//! effective `flinkConfiguration` as flat `key → value` strings.
//! Out: a [`Breakdown`] of every component Flink derives at start-up, or a [`MemoryModelError`]
//! whose `Display` is one line (what is wrong) and whose [`MemoryModelError::arithmetic`] shows
//! the computation plus the smallest process memory that works. [`minimum_process_size`] gives
//! that smallest size on its own (for help texts). Also [`MemorySize`], the parser and printer of
//! memory values (Flink notation and Kubernetes binary quantities).
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
use std::fmt;

use crate::units::{GIB, MAX_BYTES, MIB};
pub use crate::units::{MemorySize, MemorySizeError};

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

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::TaskManager => "TaskManager",
            Role::JobManager => "JobManager",
        })
    }
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
            FlinkParts::TaskManager { framework_heap, task_heap, framework_off_heap, task_off_heap, managed, network } => {
                vec![
                    ("framework heap", framework_heap),
                    ("task heap", task_heap),
                    ("framework off-heap", framework_off_heap),
                    ("task off-heap", task_off_heap),
                    ("managed", managed),
                    ("network", network),
                ]
            }
            FlinkParts::JobManager { heap, off_heap } => vec![("JVM heap", heap), ("off-heap", off_heap)],
        };
        out.push(("JVM metaspace", self.jvm_metaspace));
        out.push(("JVM overhead", self.jvm_overhead));
        out
    }

    /// The JVM heap (`-Xmx`): framework + task heap for a TaskManager, the heap for a JobManager.
    pub fn jvm_heap(&self) -> MemorySize {
        match self.parts {
            FlinkParts::TaskManager { framework_heap, task_heap, .. } => MemorySize(framework_heap.0 + task_heap.0),
            FlinkParts::JobManager { heap, .. } => heap,
        }
    }
}

/// A condition Flink accepts but logs a warning about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MemoryWarning {
    /// Flink's `MIN_JVM_HEAP_SIZE`: a JobManager heap below 128m starts, but may not run.
    #[error(
        "the JobManager's JVM heap {} is below Flink's recommended minimum {}",
        mib(.heap.0),
        mib(.recommended.0)
    )]
    JobManagerHeapBelowRecommended { heap: MemorySize, recommended: MemorySize },
}

/// A memory setting Flink would refuse at start-up.
///
/// `Display` is one line; [`MemoryModelError::arithmetic`] adds the computation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemoryModelError {
    /// A memory option in `flinkConfiguration` is not a size Flink can parse.
    #[error("flinkConfiguration `{key}` = {value:?} is not a memory size Flink accepts: {source}")]
    InvalidSize { key: String, value: String, source: MemorySizeError },
    /// A fraction option in `flinkConfiguration` is not a number.
    #[error("flinkConfiguration `{key}` = {value:?} is not a number")]
    InvalidFraction { key: String, value: String },
    /// A fraction outside [0, 1), which Flink's `RangeFraction` refuses.
    #[error("flinkConfiguration `{key}` = {value:?} is outside [0, 1), the range Flink allows for a memory fraction")]
    FractionOutOfRange { key: String, value: String },
    /// A min option above its max option.
    #[error("flinkConfiguration `{min_key}` = {min} is larger than `{max_key}` = {max}")]
    MinAboveMax { min_key: String, min: MemorySize, max_key: String, max: MemorySize },
    /// The process memory is below what the configuration needs.
    #[error("{role} memory {process} is too small for Flink's memory model: {reason}")]
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
    #[error("{role} memory {process} is too large for the memory fixed in flinkConfiguration: {reason}")]
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
    #[error("{role} memory options in flinkConfiguration contradict each other: {reason}")]
    Inconsistent { role: Role, reason: String, lines: Vec<String> },
    /// No process memory works (from [`minimum_process_size`] only).
    #[error("no {role} process memory works with this flinkConfiguration: {reason}")]
    Unsatisfiable { role: Role, reason: String, lines: Vec<String> },
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

    /// The smallest whole-mebibyte process memory that works, when the error is about size.
    pub fn minimum(&self) -> Option<MemorySize> {
        match self {
            MemoryModelError::TooSmall { minimum, .. } | MemoryModelError::TooLarge { minimum, .. } => *minimum,
            _ => None,
        }
    }
}

fn minimum_line(minimum: Option<MemorySize>) -> String {
    match minimum {
        Some(m) => format!("the smallest process memory that works with this configuration is {}", mib(m.0)),
        None => "no process memory that is a whole number of mebibytes works with this configuration".to_string(),
    }
}

/// Checks `process` memory for `role` against Flink's memory model under `flink_config`.
///
/// `flink_config` holds the effective `flinkConfiguration`; keys that are not memory options are
/// ignored, and so is `*.memory.process.size` (the operator overwrites it with `process`).
pub fn check(role: Role, process: MemorySize, flink_config: &IndexMap<String, String>) -> Result<Breakdown, MemoryModelError> {
    let settings = Settings::read(role, flink_config)?;
    let process_bytes = process.0.min(MAX_BYTES);
    match settings.evaluate(process_bytes) {
        Ok(breakdown) => Ok(breakdown),
        Err(failure) => Err(match failure.kind {
            FailKind::TooSmall => {
                let minimum = settings.minimum_mib().map(MemorySize::from_mib);
                let mut lines = failure.lines;
                if minimum.is_none() {
                    lines.extend(settings.impossibility());
                }
                MemoryModelError::TooSmall { role, process, reason: failure.reason, lines, minimum }
            }
            FailKind::TooLarge => {
                let minimum = settings.minimum_mib();
                let maximum = minimum.and_then(|lo| settings.maximum_mib(lo, process_bytes / MIB));
                MemoryModelError::TooLarge {
                    role,
                    process,
                    reason: failure.reason,
                    lines: failure.lines,
                    minimum: minimum.map(MemorySize::from_mib),
                    maximum: maximum.map(MemorySize::from_mib),
                }
            }
            FailKind::Inconsistent => MemoryModelError::Inconsistent { role, reason: failure.reason, lines: failure.lines },
        }),
    }
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
        return Err(MemoryModelError::Inconsistent { role, reason: f.reason.clone(), lines: f.lines.clone() });
    }
    let (reason, lines) = match settings.impossibility() {
        Some(why) => (why, Vec::new()),
        None => (
            "no whole number of mebibytes meets every bound of this configuration".to_string(),
            failure.map(|f| f.lines).unwrap_or_default(),
        ),
    };
    Err(MemoryModelError::Unsatisfiable { role, reason, lines })
}

// ---------------------------------------------------------------------------------------------
// Flink arithmetic
// ---------------------------------------------------------------------------------------------

/// `bytes × factor` as Flink's `MemorySize.multiply(double)` computes it: the exact product of
/// `bytes` and the decimal that `Double.toString(factor)` prints (`BigDecimal.valueOf`),
/// truncated towards zero. Rust's shortest round-trip formatting prints the same digits as Java
/// for these values (Java before 19 can print a longer string in rare cases; the product would
/// then differ by at most a byte). Saturates at `i64::MAX`, where Flink would throw.
fn multiply(bytes: u64, factor: f64) -> u64 {
    if factor.is_nan() || factor <= 0.0 || bytes == 0 {
        return 0;
    }
    let sci = format!("{factor:e}"); // e.g. "4.000000059604645e-1"
    let (mantissa, exponent) = sci.split_once('e').expect("`{:e}` always has an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` exponent is an integer");
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: u128 = format!("{int_part}{frac_part}").parse().expect("mantissa digits");
    let scale = exponent - frac_part.len() as i32; // factor = digits × 10^scale
    let product = u128::from(bytes) * digits; // < 2^63 × 10^17 < 2^120
    let result = if scale >= 0 {
        10u128.checked_pow(scale as u32).and_then(|p| product.checked_mul(p)).unwrap_or(u128::MAX)
    } else {
        match 10u128.checked_pow(scale.unsigned_abs()) {
            Some(p) => product / p,
            None => 0,
        }
    };
    result.min(u128::from(MAX_BYTES)) as u64
}

/// How a fraction-derived size related to its min/max (`capToMinMax`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clamp {
    None,
    RaisedToMin,
    CappedAtMax,
}

#[derive(Debug, Clone, Copy)]
struct Derived {
    value: u64,
    raw: u64,
    clamp: Clamp,
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

// ---------------------------------------------------------------------------------------------
// Formatting for messages
// ---------------------------------------------------------------------------------------------

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

/// "10% of 512m = 51.2m, raised to the 192m minimum" and the like, for a fraction-derived value.
fn fraction_note(d: &Derived, range: &Range, base: u64) -> String {
    let head = format!("{} of {}", pct(range.fraction.value), mib(base));
    match d.clamp {
        Clamp::None => head,
        Clamp::RaisedToMin => format!("{head} = {}, raised to the {} minimum", mib(d.raw), mib(range.min.value)),
        Clamp::CappedAtMax => format!("{head} = {}, capped at the {} maximum", mib(d.raw), mib(range.max.value)),
    }
}

// ---------------------------------------------------------------------------------------------
// Settings read from flinkConfiguration
// ---------------------------------------------------------------------------------------------

/// A size option: the key it came from (or the main key, for a default) and whether the user set it.
#[derive(Debug, Clone, Copy)]
struct Size {
    key: &'static str,
    value: u64,
    explicit: bool,
}

/// A fraction option, already widened from Java `float` to `double` as Flink does.
#[derive(Debug, Clone, Copy)]
struct Fraction {
    value: f64,
}

/// Flink's `RangeFraction`.
#[derive(Debug, Clone, Copy)]
struct Range {
    min: Size,
    max: Size,
    fraction: Fraction,
}

#[derive(Debug, Clone, Copy)]
struct Jvm {
    metaspace: Size,
    overhead: Range,
}

#[derive(Debug, Clone, Copy)]
struct TmSettings {
    jvm: Jvm,
    flink: Option<Size>,
    framework_heap: Size,
    framework_off_heap: Size,
    task_heap: Option<Size>,
    task_off_heap: Size,
    managed: Option<Size>,
    managed_range: Range,
    network: Range,
}

#[derive(Debug, Clone, Copy)]
struct JmSettings {
    jvm: Jvm,
    flink: Option<Size>,
    heap: Option<Size>,
    off_heap: Size,
}

#[derive(Debug, Clone, Copy)]
#[allow(clippy::large_enum_variant, reason = "built once per check and never stored")]
enum Settings {
    Tm(TmSettings),
    Jm(JmSettings),
}

/// Flink's `MIN_JVM_HEAP_SIZE` for the JobManager (a warning threshold only).
const JM_RECOMMENDED_MIN_HEAP: u64 = 128 * MIB;

/// Reads option values the way Flink's `Configuration` does: the main key first, then its
/// deprecated keys in order.
struct Reader<'a> {
    config: &'a IndexMap<String, String>,
}

impl Reader<'_> {
    fn raw(&self, keys: &[&'static str]) -> Option<(&'static str, &str)> {
        keys.iter().find_map(|&k| self.config.get(k).map(|v| (k, v.as_str())))
    }

    fn size(&self, keys: &[&'static str]) -> Result<Option<Size>, MemoryModelError> {
        match self.raw(keys) {
            None => Ok(None),
            Some((key, value)) => match MemorySize::parse_flink(value) {
                Ok(m) => Ok(Some(Size { key, value: m.0, explicit: true })),
                Err(source) => Err(MemoryModelError::InvalidSize { key: key.to_string(), value: value.to_string(), source }),
            },
        }
    }

    fn size_or(&self, keys: &[&'static str], default: u64) -> Result<Size, MemoryModelError> {
        Ok(self.size(keys)?.unwrap_or(Size { key: keys[0], value: default, explicit: false }))
    }

    /// A `float` option: Java's `Float.parseFloat` (trimmed, optional `f`/`d` suffix), widened.
    fn fraction(&self, keys: &[&'static str], default: f32) -> Result<Fraction, MemoryModelError> {
        let Some((key, value)) = self.raw(keys) else {
            return Ok(Fraction { value: f64::from(default) });
        };
        let text = value.trim();
        let text = text.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(text);
        let invalid = || MemoryModelError::InvalidFraction { key: key.to_string(), value: value.to_string() };
        // Rust also reads "inf"/"nan", which Java spells differently; the range check below
        // rejects them either way, so only plain numbers get through.
        let parsed: f32 = text.parse().map_err(|_| invalid())?;
        let widened = f64::from(parsed);
        // RangeFraction: `fraction >= 0 && fraction < 1` (false for NaN).
        if !(0.0..1.0).contains(&widened) {
            return Err(MemoryModelError::FractionOutOfRange { key: key.to_string(), value: value.to_string() });
        }
        Ok(Fraction { value: widened })
    }

    fn range(&self, min: Size, max: Size, fraction: Fraction) -> Result<Range, MemoryModelError> {
        if min.value > max.value {
            return Err(MemoryModelError::MinAboveMax {
                min_key: min.key.to_string(),
                min: MemorySize(min.value),
                max_key: max.key.to_string(),
                max: MemorySize(max.value),
            });
        }
        Ok(Range { min, max, fraction })
    }

    fn jvm(&self, role: Role) -> Result<Jvm, MemoryModelError> {
        let keys = match role {
            Role::TaskManager => &TM_JVM_KEYS,
            Role::JobManager => &JM_JVM_KEYS,
        };
        let metaspace = self.size_or(&[keys[0]], 256 * MIB)?;
        let min = self.size_or(&[keys[1]], 192 * MIB)?;
        let max = self.size_or(&[keys[2]], GIB)?;
        let fraction = self.fraction(&[keys[3]], 0.1)?;
        Ok(Jvm { metaspace, overhead: self.range(min, max, fraction)? })
    }
}

const TM_JVM_KEYS: [&str; 4] = [
    "taskmanager.memory.jvm-metaspace.size",
    "taskmanager.memory.jvm-overhead.min",
    "taskmanager.memory.jvm-overhead.max",
    "taskmanager.memory.jvm-overhead.fraction",
];
const JM_JVM_KEYS: [&str; 4] = [
    "jobmanager.memory.jvm-metaspace.size",
    "jobmanager.memory.jvm-overhead.min",
    "jobmanager.memory.jvm-overhead.max",
    "jobmanager.memory.jvm-overhead.fraction",
];

/// What a step of the derivation failed on; decides the public error variant and guides the
/// minimum search (only `TooSmall` shrinks as the process memory grows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailKind {
    TooSmall,
    TooLarge,
    Inconsistent,
}

#[derive(Debug, Clone)]
struct Failure {
    kind: FailKind,
    reason: String,
    lines: Vec<String>,
}

fn fail(kind: FailKind, reason: String, lines: Vec<String>) -> Failure {
    Failure { kind, reason, lines }
}

/// A finished Flink-memory split, before the JVM parts are known.
struct FlinkSplit {
    total: u64,
    parts: FlinkParts,
    lines: Vec<String>,
}

impl Settings {
    fn read(role: Role, config: &IndexMap<String, String>) -> Result<Settings, MemoryModelError> {
        let r = Reader { config };
        Ok(match role {
            Role::TaskManager => {
                let jvm = r.jvm(role)?;
                let managed_fraction = r.fraction(&["taskmanager.memory.managed.fraction"], 0.4)?;
                // Managed memory's RangeFraction is [0, MAX]; only its fraction can be wrong.
                let managed_range = Range {
                    min: Size { key: "taskmanager.memory.managed.size", value: 0, explicit: false },
                    max: Size { key: "taskmanager.memory.managed.size", value: MAX_BYTES, explicit: false },
                    fraction: managed_fraction,
                };
                let net_min = r.size_or(&["taskmanager.memory.network.min", "taskmanager.network.memory.min"], 64 * MIB)?;
                // Unlimited since Flink 1.17 (FLINK-30472); it was 1g before.
                let net_max = r.size_or(&["taskmanager.memory.network.max", "taskmanager.network.memory.max"], MAX_BYTES)?;
                let net_fraction = r.fraction(&["taskmanager.memory.network.fraction", "taskmanager.network.memory.fraction"], 0.1)?;
                Settings::Tm(TmSettings {
                    jvm,
                    flink: r.size(&["taskmanager.memory.flink.size"])?,
                    framework_heap: r.size_or(&["taskmanager.memory.framework.heap.size"], 128 * MIB)?,
                    framework_off_heap: r.size_or(&["taskmanager.memory.framework.off-heap.size"], 128 * MIB)?,
                    task_heap: r.size(&["taskmanager.memory.task.heap.size"])?,
                    task_off_heap: r.size_or(&["taskmanager.memory.task.off-heap.size"], 0)?,
                    managed: r.size(&["taskmanager.memory.managed.size", "taskmanager.memory.size"])?,
                    managed_range,
                    network: r.range(net_min, net_max, net_fraction)?,
                })
            }
            Role::JobManager => Settings::Jm(JmSettings {
                jvm: r.jvm(role)?,
                flink: r.size(&["jobmanager.memory.flink.size"])?,
                heap: r.size(&["jobmanager.memory.heap.size"])?,
                off_heap: r.size_or(&["jobmanager.memory.off-heap.size"], 128 * MIB)?,
            }),
        })
    }

    fn role(&self) -> Role {
        match self {
            Settings::Tm(_) => Role::TaskManager,
            Settings::Jm(_) => Role::JobManager,
        }
    }

    fn jvm(&self) -> &Jvm {
        match self {
            Settings::Tm(s) => &s.jvm,
            Settings::Jm(s) => &s.jvm,
        }
    }

    /// Why no process memory can work, when the fractions make it impossible: managed and network
    /// shares of 100% or more of the Flink memory leave nothing for the fixed parts (unless a
    /// network maximum caps the network share, which the minimum search handles).
    fn impossibility(&self) -> Option<String> {
        let Settings::Tm(s) = self else { return None };
        let managed = s.managed_range.fraction.value;
        let network = s.network.fraction.value;
        let unlimited = s.network.max.value == MAX_BYTES;
        (s.managed.is_none() && s.task_heap.is_none() && unlimited && managed + network >= 1.0).then(|| {
            format!(
                "managed memory ({} of Flink memory) and network memory ({} of Flink memory) leave no room for the framework and task memory",
                pct(managed),
                pct(network)
            )
        })
    }

    /// No process memory below this passes: metaspace + minimum overhead + a floor of the Flink
    /// memory (every TM part that has one; for a JM the fixed heap or Flink size, else just
    /// more than the off-heap). Starting the minimum search here keeps it short.
    fn lower_bound(&self) -> u64 {
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
    fn minimum_mib(&self) -> Option<u64> {
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
    fn maximum_mib(&self, lo: u64, hi: u64) -> Option<u64> {
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

    /// Flink's `ProcessMemoryUtils.memoryProcessSpecFromConfig` with the process size set.
    fn evaluate(&self, process: u64) -> Result<Breakdown, Failure> {
        let role = self.role();
        let jvm = self.jvm();
        let (split, metaspace, overhead, lines) = match self.fixed_flink_split()? {
            // (1) fine-grained options or (2) total Flink memory: Flink memory first, then the
            // JVM parts from what is left of the process memory.
            Some(split) => {
                let (metaspace, overhead, line) = overhead_from_fixed_flink(jvm, process, &split)?;
                let mut lines = split.lines.clone();
                lines.push(line);
                (split, metaspace, overhead, lines)
            }
            // (3) process memory: JVM parts first, Flink memory is the rest.
            None => {
                let (metaspace, overhead, line) = jvm_from_process(jvm, process)?;
                let flink = process - metaspace - overhead;
                let split = match self {
                    Settings::Tm(s) => tm_from_total_flink(s, flink, "Flink memory", true, vec![line.clone()])?,
                    Settings::Jm(s) => jm_from_total_flink(s, flink, "Flink memory", true, vec![line.clone()])?,
                };
                let lines = split.lines.clone();
                (split, metaspace, overhead, lines)
            }
        };
        let mut warnings = Vec::new();
        // A plain `if let` (no let chain): the crate's rust-version is 1.85.
        if let FlinkParts::JobManager { heap, .. } = split.parts
            && heap.0 < JM_RECOMMENDED_MIN_HEAP
        {
            warnings.push(MemoryWarning::JobManagerHeapBelowRecommended { heap, recommended: MemorySize(JM_RECOMMENDED_MIN_HEAP) });
        }
        Ok(Breakdown {
            role,
            process: MemorySize(process),
            jvm_metaspace: MemorySize(metaspace),
            jvm_overhead: MemorySize(overhead),
            flink: MemorySize(split.total),
            parts: split.parts,
            derivation: lines,
            warnings,
        })
    }

    /// The Flink memory split when the configuration fixes it independently of the process
    /// memory (derivation paths 1 and 2); `None` when it follows from the process memory.
    /// Failures here are `Inconsistent`: no process memory can fix them.
    fn fixed_flink_split(&self) -> Result<Option<FlinkSplit>, Failure> {
        match self {
            Settings::Tm(s) => match (s.task_heap, s.managed) {
                (Some(task_heap), Some(managed)) => tm_fine_grained(s, task_heap, managed).map(Some),
                _ => match s.flink {
                    Some(f) => {
                        let label = format!("Flink memory {} (`{}`)", mib(f.value), f.key);
                        tm_from_total_flink(s, f.value, &label, false, Vec::new()).map(Some)
                    }
                    None => Ok(None),
                },
            },
            Settings::Jm(s) => match (s.heap, s.flink) {
                (Some(heap), flink) => jm_fine_grained(s, heap, flink).map(Some),
                (None, Some(f)) => {
                    let label = format!("Flink memory {} (`{}`)", mib(f.value), f.key);
                    jm_from_total_flink(s, f.value, &label, false, Vec::new()).map(Some)
                }
                (None, None) => Ok(None),
            },
        }
    }
}

/// `deriveJvmMetaspaceAndOverheadWithTotalProcessMemory`: overhead is a capped fraction of the
/// process memory; metaspace + overhead must fit in it.
fn jvm_from_process(jvm: &Jvm, process: u64) -> Result<(u64, u64, String), Failure> {
    let metaspace = jvm.metaspace.value;
    let overhead = derive_with_fraction(process, &jvm.overhead);
    let overhead_text = format!("JVM overhead {} ({})", mib(overhead.value), fraction_note(&overhead, &jvm.overhead, process));
    let jvm_total = metaspace.saturating_add(overhead.value);
    if jvm_total > process {
        return Err(fail(
            FailKind::TooSmall,
            format!("JVM metaspace {} and JVM overhead {} alone need {}", mib(metaspace), mib(overhead.value), mib(jvm_total)),
            vec![format!(
                "JVM metaspace {} + {overhead_text} = {}, more than the process memory {}",
                mib(metaspace),
                mib(jvm_total),
                mib(process)
            )],
        ));
    }
    let line = format!(
        "process memory {} − JVM metaspace {} − {overhead_text} = Flink memory {}",
        mib(process),
        mib(metaspace),
        mib(process - jvm_total)
    );
    Ok((metaspace, overhead.value, line))
}

/// `deriveJvmMetaspaceAndOverheadFromTotalFlinkMemory` with the process size set: overhead is
/// what remains and must lie within its min/max.
fn overhead_from_fixed_flink(jvm: &Jvm, process: u64, split: &FlinkSplit) -> Result<(u64, u64, String), Failure> {
    let metaspace = jvm.metaspace.value;
    let flink = split.total;
    let needed = flink.saturating_add(metaspace);
    let (min, max) = (jvm.overhead.min, jvm.overhead.max);
    let mut lines = split.lines.clone();
    if process < needed {
        lines.push(format!(
            "process memory {} < Flink memory {} + JVM metaspace {} = {}, and JVM overhead needs at least {} on top",
            mib(process),
            mib(flink),
            mib(metaspace),
            mib(needed),
            mib(min.value)
        ));
        return Err(fail(
            FailKind::TooSmall,
            format!("it is less than the fixed Flink memory {} plus JVM metaspace {}", mib(flink), mib(metaspace)),
            lines,
        ));
    }
    let overhead = process - needed;
    let line = format!(
        "process memory {} − Flink memory {} − JVM metaspace {} = JVM overhead {}",
        mib(process),
        mib(flink),
        mib(metaspace),
        mib(overhead)
    );
    if overhead < min.value || overhead > max.value {
        let (kind, bound, word, key) = if overhead < min.value {
            (FailKind::TooSmall, min.value, "below the JVM overhead minimum", min.key)
        } else {
            (FailKind::TooLarge, max.value, "above the JVM overhead maximum", max.key)
        };
        lines.push(format!("{line}, {word} {} (`{key}`)", mib(bound)));
        return Err(fail(kind, format!("the JVM overhead left over, {}, is {word} {}", mib(overhead), mib(bound)), lines));
    }
    Ok((metaspace, overhead, line))
}

/// Sum of sizes, saturating: absurd option values (near 2^63 each) make Flink throw on overflow;
/// here they saturate and then fail the comparison they are part of.
fn sum(parts: &[u64]) -> u64 {
    parts.iter().fold(0, |acc, &p| acc.saturating_add(p))
}

fn tm_fixed_text(s: &TmSettings) -> String {
    format!(
        "framework heap {} + framework off-heap {} + task off-heap {}",
        mib(s.framework_heap.value),
        mib(s.framework_off_heap.value),
        mib(s.task_off_heap.value)
    )
}

fn explicit_text(name: &str, size: &Size) -> String {
    format!("{name} {} (`{}`)", mib(size.value), size.key)
}

/// TaskManager path (1): task heap and managed memory both set; network is derived from them (or
/// is what `taskmanager.memory.flink.size` leaves).
fn tm_fine_grained(s: &TmSettings, task_heap: Size, managed: Size) -> Result<FlinkSplit, Failure> {
    let excl_network = sum(&[s.framework_heap.value, s.framework_off_heap.value, task_heap.value, s.task_off_heap.value, managed.value]);
    let parts_text = format!("{} + {} + {}", tm_fixed_text(s), explicit_text("task heap", &task_heap), explicit_text("managed", &managed));
    let (network, network_text) = match s.flink {
        Some(f) => {
            let lines = |tail: String| vec![format!("Flink memory {} (`{}`) − ({parts_text}) {tail}", mib(f.value), f.key)];
            if excl_network > f.value {
                return Err(fail(
                    FailKind::Inconsistent,
                    format!("the fixed parts add up to {}, more than `{}` {}", mib(excl_network), f.key, mib(f.value)),
                    lines(format!("< 0: the parts alone are {}", mib(excl_network))),
                ));
            }
            let network = f.value - excl_network;
            check_network_range(s, network, FailKind::Inconsistent, FailKind::Inconsistent, lines(format!("= network {}", mib(network))))?;
            (network, format!("network {} (the rest of `{}`)", mib(network), f.key))
        }
        None => {
            let d = derive_with_inverse_fraction(excl_network, &s.network);
            let f = s.network.fraction.value;
            let note = format!("{} of Flink memory: {}/{} of {}", pct(f), pct(f), pct(1.0 - f), mib(excl_network));
            let note = match d.clamp {
                Clamp::None => note,
                Clamp::RaisedToMin => format!("{note} = {}, raised to the {} minimum", mib(d.raw), mib(s.network.min.value)),
                Clamp::CappedAtMax => format!("{note} = {}, capped at the {} maximum", mib(d.raw), mib(s.network.max.value)),
            };
            (d.value, format!("network {} ({note})", mib(d.value)))
        }
    };
    let total = sum(&[excl_network, network]);
    Ok(FlinkSplit {
        total,
        parts: FlinkParts::TaskManager {
            framework_heap: MemorySize(s.framework_heap.value),
            task_heap: MemorySize(task_heap.value),
            framework_off_heap: MemorySize(s.framework_off_heap.value),
            task_off_heap: MemorySize(s.task_off_heap.value),
            managed: MemorySize(managed.value),
            network: MemorySize(network),
        },
        lines: vec![format!("Flink memory {} = {parts_text} + {network_text}", mib(total))],
    })
}

/// Flink's `sanityCheckNetworkMemory`: a network size left over by fixed parts must lie within
/// the network min/max.
fn check_network_range(
    s: &TmSettings,
    network: u64,
    below_kind: FailKind,
    above_kind: FailKind,
    mut lines: Vec<String>,
) -> Result<(), Failure> {
    let (min, max) = (s.network.min, s.network.max);
    let (kind, word, bound) = if network < min.value {
        (below_kind, "below the network minimum", min)
    } else if network > max.value {
        (above_kind, "above the network maximum", max)
    } else {
        return Ok(());
    };
    if let Some(last) = lines.last_mut() {
        last.push_str(&format!(", {word} {} (`{}`)", mib(bound.value), bound.key));
    }
    Err(fail(kind, format!("the network memory left over, {}, is {word} {}", mib(network), mib(bound.value)), lines))
}

/// `TaskExecutorFlinkMemoryUtils.deriveFromTotalFlinkMemory`. `from_process` says whether the
/// total came from the process memory (then shortfalls are `TooSmall`) or from
/// `taskmanager.memory.flink.size` (then they are `Inconsistent`).
fn tm_from_total_flink(s: &TmSettings, flink: u64, label: &str, from_process: bool, mut lines: Vec<String>) -> Result<FlinkSplit, Failure> {
    // "Flink memory 576m" when derived here; a configured label already carries its value.
    let label_value = if from_process { format!("{label} {}", mib(flink)) } else { label.to_string() };
    let short = if from_process { FailKind::TooSmall } else { FailKind::Inconsistent };
    let long = if from_process { FailKind::TooLarge } else { FailKind::Inconsistent };
    let (managed, managed_text) = match s.managed {
        Some(m) => (m.value, explicit_text("managed", &m)),
        None => {
            let d = derive_with_fraction(flink, &s.managed_range);
            (d.value, format!("managed {} ({})", mib(d.value), fraction_note(&d, &s.managed_range, flink)))
        }
    };
    let fixed = sum(&[s.framework_heap.value, s.framework_off_heap.value, s.task_off_heap.value]);
    let (task_heap, network, text) = match s.task_heap {
        // Task heap set: managed first, network is the rest and must respect its min/max.
        Some(th) => {
            let excl_network = sum(&[fixed, th.value, managed]);
            let parts_text = format!("{} + {} + {managed_text}", tm_fixed_text(s), explicit_text("task heap", &th));
            if excl_network > flink {
                lines.push(format!(
                    "{label} must hold {parts_text} = {} and network (at least {}), but the parts alone exceed {} by {}",
                    mib(excl_network),
                    mib(s.network.min.value),
                    mib(flink),
                    mib(excl_network - flink)
                ));
                return Err(fail(
                    short,
                    format!("its Flink memory {} cannot hold the {} of fixed and derived parts", mib(flink), mib(excl_network)),
                    lines,
                ));
            }
            let network = flink - excl_network;
            let mut with_line = lines.clone();
            with_line.push(format!("{label_value} − ({parts_text}) = network {}", mib(network)));
            check_network_range(s, network, short, long, with_line)?;
            (th.value, network, format!("{parts_text} + network {} (the rest)", mib(network)))
        }
        // Task heap derived: managed and network from fractions, task heap is the rest.
        None => {
            let n = derive_with_fraction(flink, &s.network);
            let network_text = format!("network {} ({})", mib(n.value), fraction_note(&n, &s.network, flink));
            let excl_task_heap = sum(&[fixed, managed, n.value]);
            let parts_text = format!("{} + {managed_text} + {network_text}", tm_fixed_text(s));
            if excl_task_heap > flink {
                lines.push(format!(
                    "{label} must hold {parts_text} = {}, {} more than {}",
                    mib(excl_task_heap),
                    mib(excl_task_heap - flink),
                    mib(flink)
                ));
                return Err(fail(
                    short,
                    format!("its Flink memory {} cannot hold the {} its parts need", mib(flink), mib(excl_task_heap)),
                    lines,
                ));
            }
            let task_heap = flink - excl_task_heap;
            (task_heap, n.value, format!("{parts_text} + task heap {} (the rest)", mib(task_heap)))
        }
    };
    lines.push(format!("{label_value} = {text}"));
    Ok(FlinkSplit {
        total: flink,
        parts: FlinkParts::TaskManager {
            framework_heap: MemorySize(s.framework_heap.value),
            task_heap: MemorySize(task_heap),
            framework_off_heap: MemorySize(s.framework_off_heap.value),
            task_off_heap: MemorySize(s.task_off_heap.value),
            managed: MemorySize(managed),
            network: MemorySize(network),
        },
        lines,
    })
}

/// JobManager path (1): heap set. Off-heap is its option (default 128m) or, when only
/// `jobmanager.memory.flink.size` is also set, what that leaves.
fn jm_fine_grained(s: &JmSettings, heap: Size, flink: Option<Size>) -> Result<FlinkSplit, Failure> {
    let heap_text = explicit_text("JVM heap", &heap);
    let (off_heap, off_text) = match flink {
        Some(f) if s.off_heap.explicit => {
            if sum(&[heap.value, s.off_heap.value]) != f.value {
                return Err(fail(
                    FailKind::Inconsistent,
                    format!("`{}` + `{}` must equal `{}`", heap.key, s.off_heap.key, f.key),
                    vec![format!(
                        "{heap_text} + {} = {}, but `{}` is {}",
                        explicit_text("off-heap", &s.off_heap),
                        mib(sum(&[heap.value, s.off_heap.value])),
                        f.key,
                        mib(f.value)
                    )],
                ));
            }
            (s.off_heap.value, explicit_text("off-heap", &s.off_heap))
        }
        Some(f) => {
            if f.value < heap.value {
                return Err(fail(
                    FailKind::Inconsistent,
                    format!("`{}` {} exceeds `{}` {}", heap.key, mib(heap.value), f.key, mib(f.value)),
                    vec![format!("{heap_text} is more than Flink memory {} (`{}`)", mib(f.value), f.key)],
                ));
            }
            let off = f.value - heap.value;
            (off, format!("off-heap {} (the rest of `{}`)", mib(off), f.key))
        }
        None => (
            s.off_heap.value,
            if s.off_heap.explicit { explicit_text("off-heap", &s.off_heap) } else { format!("off-heap {}", mib(s.off_heap.value)) },
        ),
    };
    let total = sum(&[heap.value, off_heap]);
    Ok(FlinkSplit {
        total,
        parts: FlinkParts::JobManager { heap: MemorySize(heap.value), off_heap: MemorySize(off_heap) },
        lines: vec![format!("Flink memory {} = {heap_text} + {off_text}", mib(total))],
    })
}

/// `JobManagerFlinkMemoryUtils.deriveFromTotalFlinkMemory`: heap = Flink memory − off-heap, and
/// Flink requires Flink memory to be strictly larger than off-heap.
fn jm_from_total_flink(s: &JmSettings, flink: u64, label: &str, from_process: bool, mut lines: Vec<String>) -> Result<FlinkSplit, Failure> {
    let off = s.off_heap.value;
    let label_value = if from_process { format!("{label} {}", mib(flink)) } else { label.to_string() };
    let off_text = if s.off_heap.explicit { explicit_text("off-heap", &s.off_heap) } else { format!("off-heap {}", mib(off)) };
    if flink <= off {
        lines.push(format!(
            "JVM heap = {label_value} − {off_text} leaves no heap: Flink requires Flink memory to be larger than off-heap memory"
        ));
        return Err(fail(
            if from_process { FailKind::TooSmall } else { FailKind::Inconsistent },
            format!("its Flink memory {} is not larger than its off-heap memory {}, leaving no JVM heap", mib(flink), mib(off)),
            lines,
        ));
    }
    let heap = flink - off;
    lines.push(format!("{label_value} = JVM heap {} (the rest) + {off_text}", mib(heap)));
    Ok(FlinkSplit { total: flink, parts: FlinkParts::JobManager { heap: MemorySize(heap), off_heap: MemorySize(off) }, lines })
}

#[cfg(test)]
mod tests {
    //! Expected values are worked out by hand in the comments (Java float fractions widened to
    //! double: 0.1f = 0.10000000149011612, 0.4f = 0.4000000059604645, 0.2f = 0.20000000298023224;
    //! Flink truncates each product). 1m = 1048576 bytes.

    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> IndexMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn m(n: u64) -> MemorySize {
        MemorySize::from_mib(n)
    }

    fn tm_parts(b: &Breakdown) -> (u64, u64, u64, u64, u64, u64) {
        match b.parts {
            FlinkParts::TaskManager { framework_heap, task_heap, framework_off_heap, task_off_heap, managed, network } => {
                (framework_heap.0, task_heap.0, framework_off_heap.0, task_off_heap.0, managed.0, network.0)
            }
            FlinkParts::JobManager { .. } => panic!("not a TaskManager breakdown"),
        }
    }

    fn jm_parts(b: &Breakdown) -> (u64, u64) {
        match b.parts {
            FlinkParts::JobManager { heap, off_heap } => (heap.0, off_heap.0),
            FlinkParts::TaskManager { .. } => panic!("not a JobManager breakdown"),
        }
    }

    #[test]
    fn tm_1024m_passes_with_defaults() {
        // overhead: 1073741824 × 0.10000000149011612 = 107374184 (< 192m) → raised to 192m.
        // Flink memory F = 1024m − 256m − 192m = 576m = 603979776.
        // managed = ⌊603979776 × 0.4000000059604645⌋ = 241591914.
        // network = ⌊603979776 × 0.10000000149011612⌋ = 60397978 (< 64m) → 67108864.
        // task heap = 603979776 − 128m − 128m − 0 − 241591914 − 67108864 = 26843542.
        let b = check(Role::TaskManager, m(1024), &cfg(&[])).unwrap();
        assert_eq!(b.jvm_metaspace, m(256));
        assert_eq!(b.jvm_overhead, m(192));
        assert_eq!(b.flink, m(576));
        assert_eq!(tm_parts(&b), (128 * MIB, 26843542, 128 * MIB, 0, 241591914, 64 * MIB));
        assert!(b.warnings.is_empty());
        assert_eq!(b.jvm_heap(), MemorySize(128 * MIB + 26843542));
    }

    #[test]
    fn tm_1728m_matches_flinks_own_default_split() {
        // Flink's shipped default TaskManager (1728m): F = 1728m − 256m − 192m = 1280m = 1342177280;
        // managed = ⌊1342177280 × 0.4000000059604645⌋ = 536870920 (Flink's own error messages show
        // "Managed Memory (512.000mb (536870920 bytes))" for this F);
        // network = ⌊1342177280 × 0.10000000149011612⌋ = 134217730;
        // task heap = 1342177280 − 268435456 − 536870920 − 134217730 = 402653174 (384m − 10 bytes).
        let b = check(Role::TaskManager, m(1728), &cfg(&[])).unwrap();
        assert_eq!(tm_parts(&b), (128 * MIB, 402653174, 128 * MIB, 0, 536870920, 134217730));
    }

    #[test]
    fn tm_512m_fails_and_shows_the_arithmetic() {
        // F = 512m − 256m − 192m = 64m; needs 128m + 128m + 0 + 25.6m (40% of 64m) + 64m = 345.6m.
        let err = check(Role::TaskManager, m(512), &cfg(&[])).unwrap_err();
        assert!(matches!(err, MemoryModelError::TooSmall { .. }), "{err:?}");
        let line = err.to_string();
        assert!(!line.contains('\n'));
        assert!(line.starts_with("TaskManager memory 512m is too small"), "{line}");
        let text = err.arithmetic();
        assert!(
            text.contains(
                "process memory 512m − JVM metaspace 256m − JVM overhead 192m \
                 (10% of 512m = 51.2m, raised to the 192m minimum) = Flink memory 64m"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "Flink memory must hold framework heap 128m + framework off-heap 128m + task off-heap 0m \
                 + managed 25.6m (40% of 64m) + network 64m (10% of 64m = 6.4m, raised to the 64m minimum) \
                 = 345.6m, 281.6m more than 64m"
            ),
            "{text}"
        );
        assert!(text.ends_with("the smallest process memory that works with this configuration is 982m"), "{text}");
        assert_eq!(err.minimum(), Some(m(982)));
    }

    #[test]
    fn tm_minimum_is_982m_and_981m_fails() {
        // Below 640m of Flink memory network sits at its 64m floor, and below 1920m of process
        // memory the overhead at its 192m floor, so F = P − 448m must hold 320m + ⌊0.4000000059604645·F⌋:
        // 982m: F = 534m = 559939584, managed 223975836, 335544320 + 223975836 = 559520156 <= F ✓
        //       (task heap 419428 bytes).
        // 981m: F = 533m = 558891008, managed 223556406, 335544320 + 223556406 = 559100726 > F ✗.
        assert_eq!(minimum_process_size(Role::TaskManager, &cfg(&[])).unwrap(), m(982));
        let b = check(Role::TaskManager, m(982), &cfg(&[])).unwrap();
        assert_eq!(tm_parts(&b).1, 419428);
        let err = check(Role::TaskManager, m(981), &cfg(&[])).unwrap_err();
        assert!(matches!(err, MemoryModelError::TooSmall { minimum: Some(min), .. } if min == m(982)), "{err:?}");
    }

    #[test]
    fn tm_below_metaspace_plus_overhead() {
        // 400m < metaspace 256m + overhead 192m = 448m.
        let err = check(Role::TaskManager, m(400), &cfg(&[])).unwrap_err();
        let text = err.arithmetic();
        assert!(
            text.contains(
                "JVM metaspace 256m + JVM overhead 192m (10% of 400m = 40m, raised to the 192m minimum) = 448m, \
                 more than the process memory 400m"
            ),
            "{text}"
        );
        assert_eq!(err.minimum(), Some(m(982)));
    }

    #[test]
    fn managed_fraction_override_changes_the_minimum() {
        // managed 0.2 (0.20000000298023224): need 320m + ⌊0.2000…·F⌋ <= F, F = P − 448m.
        // 848m: F = 400m = 419430400, managed = ⌊83886080 + 1.25⌋ = 83886081 → 419430401 > F ✗ (by 1 byte).
        // 849m: F = 401m = 420478976, managed 84095796 → 419640116 <= F ✓.
        let c = cfg(&[("taskmanager.memory.managed.fraction", "0.2")]);
        assert_eq!(minimum_process_size(Role::TaskManager, &c).unwrap(), m(849));
        assert!(check(Role::TaskManager, m(849), &c).is_ok());
        assert!(check(Role::TaskManager, m(848), &c).is_err());
    }

    #[test]
    fn overrides_of_fixed_parts_and_jvm_parts() {
        // metaspace 128m, task off-heap 64m, network min 32m, managed.size 100m:
        // 1024m: overhead 192m; F = 1024 − 128 − 192 = 704m; network = ⌊0.1…·704m⌋ = 70.4m (≥ 32m);
        // task heap = 704 − 128 − 128 − 64 − 100 − 70.4 = 213.6m.
        let c = cfg(&[
            ("taskmanager.memory.jvm-metaspace.size", "128m"),
            ("taskmanager.memory.task.off-heap.size", "64 mb"),
            ("taskmanager.memory.network.min", "32m"),
            ("taskmanager.memory.managed.size", "100m"),
        ]);
        let b = check(Role::TaskManager, m(1024), &c).unwrap();
        assert_eq!(b.flink, m(704));
        let (_, task_heap, _, task_off, managed, network) = tm_parts(&b);
        // network = ⌊738197504 × 0.10000000149011612⌋ = 73819751.
        assert_eq!((task_off, managed, network), (64 * MIB, 100 * MIB, 73819751));
        assert_eq!(task_heap, 738197504 - 256 * MIB - 64 * MIB - 100 * MIB - 73819751);
    }

    #[test]
    fn deprecated_network_keys_are_read_and_the_new_key_wins() {
        // Network min 256m via the deprecated key: at 1024m F = 576m, 128+128+230.4+256 = 742.4m > 576m.
        let old = cfg(&[("taskmanager.network.memory.min", "256m")]);
        assert!(check(Role::TaskManager, m(1024), &old).is_err());
        let both = cfg(&[("taskmanager.network.memory.min", "256m"), ("taskmanager.memory.network.min", "64m")]);
        assert!(check(Role::TaskManager, m(1024), &both).is_ok());
    }

    #[test]
    fn network_max_is_unlimited_by_default() {
        // 20g: overhead 1g (capped), F = 20480 − 256 − 1024 = 19200m; network = ⌊0.1…·F⌋ ≈ 1920m
        // (more than the pre-1.17 1g cap).
        let b = check(Role::TaskManager, m(20480), &cfg(&[])).unwrap();
        assert_eq!(b.jvm_overhead, m(1024));
        let network = tm_parts(&b).5;
        assert!(network > 1920 * MIB && network < 1921 * MIB, "{network}");
    }

    #[test]
    fn explicit_task_heap_leaves_network_as_the_rest() {
        // Task heap 512m at 2048m: overhead ⌊2147483648 × 0.10000000149011612⌋ = 214748368;
        // F = 2147483648 − 268435456 − 214748368 = 1664299824; managed ⌊F × 0.4000000059604645⌋ = 665719939;
        // network = F − 128m − 128m − 512m − 665719939 = 193273517 (>= 64m ✓).
        let c = cfg(&[("taskmanager.memory.task.heap.size", "512m")]);
        let b = check(Role::TaskManager, m(2048), &c).unwrap();
        assert_eq!(tm_parts(&b), (128 * MIB, 512 * MIB, 128 * MIB, 0, 665719939, 193273517));
        // At 1024m: F = 576m, managed 241591914, 768m + 241591914 > 576m → too small.
        let err = check(Role::TaskManager, m(1024), &c).unwrap_err();
        assert!(matches!(err, MemoryModelError::TooSmall { .. }), "{err:?}");
        // The rest must reach the 64m network floor: network(P) = F − 768m − ⌊0.4000000059604645·F⌋
        // with F = P − 256m − 192m (P < 1920m): 1834m → F = 1386m, network 66689425 bytes (63.6m) ✗;
        // 1835m → F = 1387m, network 67318571 bytes (64.2m) ✓.
        assert_eq!(minimum_process_size(Role::TaskManager, &c).unwrap(), m(1835));
        // With network.max 128m the rest must also stay <= 128m: the last size is 1943m
        // (overhead 203738319, F = 1565209393, network 133819259 = 127.6m; 1944m gives 128.2m).
        let capped = cfg(&[("taskmanager.memory.task.heap.size", "512m"), ("taskmanager.memory.network.max", "128m")]);
        let err = check(Role::TaskManager, m(4096), &capped).unwrap_err();
        assert!(
            matches!(err, MemoryModelError::TooLarge { minimum: Some(lo), maximum: Some(hi), .. }
                if lo == m(1835) && hi == m(1943)),
            "{err:?}"
        );
    }

    #[test]
    fn flink_size_fixes_flink_memory_and_bounds_the_process() {
        // taskmanager.memory.flink.size 1280m: Flink memory is fixed, the overhead is what the
        // process leaves after 1280m + 256m and must lie in [192m, 1g]: P in [1728m, 2560m].
        let c = cfg(&[("taskmanager.memory.flink.size", "1280m")]);
        let b = check(Role::TaskManager, m(1728), &c).unwrap();
        assert_eq!((b.flink, b.jvm_overhead), (m(1280), m(192)));
        assert_eq!(tm_parts(&b).4, 536870920);
        let small = check(Role::TaskManager, m(1727), &c).unwrap_err();
        assert!(matches!(small, MemoryModelError::TooSmall { minimum: Some(min), .. } if min == m(1728)), "{small:?}");
        let large = check(Role::TaskManager, m(2561), &c).unwrap_err();
        assert!(
            matches!(large, MemoryModelError::TooLarge { maximum: Some(max), minimum: Some(min), .. }
                if max == m(2560) && min == m(1728)),
            "{large:?}"
        );
        assert!(large.arithmetic().contains("between 1728m and 2560m"), "{}", large.arithmetic());
    }

    #[test]
    fn fine_grained_tm_derives_network_by_inverse_fraction() {
        // task heap 256m + managed 256m + framework 128m + 128m = 768m = 805306368; network is the
        // share that makes 10% of the total: 768m × f/(1 − f) with f = 0.10000000149011612, i.e.
        // 805306368 × 0.11111111295076065 = 89478486.81… → 89478486 (≈ 85.3m, above the 64m floor).
        // P must be total + 256m + an overhead in [192m, 1g]; the minimum is that with 192m, rounded up.
        let c = cfg(&[("taskmanager.memory.task.heap.size", "256m"), ("taskmanager.memory.managed.size", "256m")]);
        let min = minimum_process_size(Role::TaskManager, &c).unwrap();
        let total = 768 * MIB + 89478486;
        assert_eq!(min.0, (total + 256 * MIB + 192 * MIB).div_ceil(MIB) * MIB);
        let b = check(Role::TaskManager, min, &c).unwrap();
        assert_eq!(tm_parts(&b).5, 89478486);
    }

    #[test]
    fn inconsistent_fixed_parts_are_reported_whatever_the_process() {
        // flink.size 512m cannot hold framework 256m + managed 40% (204.8m) + network 64m = 524.8m.
        let c = cfg(&[("taskmanager.memory.flink.size", "512m")]);
        let err = check(Role::TaskManager, m(4096), &c).unwrap_err();
        assert!(matches!(err, MemoryModelError::Inconsistent { .. }), "{err:?}");
        assert!(matches!(minimum_process_size(Role::TaskManager, &c), Err(MemoryModelError::Inconsistent { .. })));
    }

    #[test]
    fn impossible_fractions_have_no_minimum() {
        // managed 0.6 + network 0.5 of F plus 256m fixed never fit (network max unlimited).
        let c = cfg(&[("taskmanager.memory.managed.fraction", "0.6"), ("taskmanager.memory.network.fraction", "0.5")]);
        assert!(matches!(minimum_process_size(Role::TaskManager, &c), Err(MemoryModelError::Unsatisfiable { .. })));
        let err = check(Role::TaskManager, m(4096), &c).unwrap_err();
        assert_eq!(err.minimum(), None);
        assert!(err.arithmetic().ends_with("no process memory that is a whole number of mebibytes works with this configuration"));
    }

    #[test]
    fn jm_1024m_and_1600m_pass() {
        // 1024m: overhead 192m (102.4m raised), F = 576m, heap = 576m − 128m = 448m.
        let b = check(Role::JobManager, m(1024), &cfg(&[])).unwrap();
        assert_eq!((b.jvm_metaspace, b.jvm_overhead, b.flink), (m(256), m(192), m(576)));
        assert_eq!(jm_parts(&b), (448 * MIB, 128 * MIB));
        assert!(b.warnings.is_empty());
        // Flink's default JobManager (1600m) runs with -Xmx1073741824: F = 1600 − 256 − 192 = 1152m, heap 1024m.
        let b = check(Role::JobManager, m(1600), &cfg(&[])).unwrap();
        assert_eq!(b.jvm_heap(), MemorySize(1073741824));
    }

    #[test]
    fn jm_too_small_and_its_minimum() {
        // 576m: F = 576 − 256 − 192 = 128m = off-heap → no heap → Flink refuses.
        // 577m: F = 129m, heap 1m → accepted, with Flink's below-128m warning.
        let err = check(Role::JobManager, m(576), &cfg(&[])).unwrap_err();
        assert!(matches!(err, MemoryModelError::TooSmall { minimum: Some(min), .. } if min == m(577)), "{err:?}");
        assert!(err.arithmetic().contains("leaves no heap"), "{}", err.arithmetic());
        assert_eq!(minimum_process_size(Role::JobManager, &cfg(&[])).unwrap(), m(577));
        let b = check(Role::JobManager, m(577), &cfg(&[])).unwrap();
        assert_eq!(jm_parts(&b).0, MIB);
        assert_eq!(b.warnings, vec![MemoryWarning::JobManagerHeapBelowRecommended { heap: m(1), recommended: m(128) }]);
        // 704m: F = 256m, heap exactly 128m → no warning.
        assert!(check(Role::JobManager, m(704), &cfg(&[])).unwrap().warnings.is_empty());
        // 256m: below metaspace + overhead (448m).
        assert!(matches!(check(Role::JobManager, m(256), &cfg(&[])), Err(MemoryModelError::TooSmall { .. })));
    }

    #[test]
    fn jm_heap_override_paths() {
        // heap 512m + default off-heap 128m = 640m; P in [640 + 256 + 192, 640 + 256 + 1024] = [1088m, 1920m].
        let c = cfg(&[("jobmanager.memory.heap.size", "512m")]);
        assert_eq!(minimum_process_size(Role::JobManager, &c).unwrap(), m(1088));
        assert!(check(Role::JobManager, m(1920), &c).is_ok());
        assert!(matches!(check(Role::JobManager, m(1921), &c), Err(MemoryModelError::TooLarge { .. })));
        // heap 512m with flink.size 600m and no off-heap → off-heap = 88m.
        let c = cfg(&[("jobmanager.memory.heap.size", "512m"), ("jobmanager.memory.flink.size", "600m")]);
        let b = check(Role::JobManager, m(1048), &c).unwrap();
        assert_eq!(jm_parts(&b), (512 * MIB, 88 * MIB));
        // heap 1m + flink.size 10m (off-heap 9m): P = 10m + 256m + overhead in [192m, 1g] → minimum 458m.
        let c = cfg(&[("jobmanager.memory.heap.size", "1m"), ("jobmanager.memory.flink.size", "10m")]);
        assert_eq!(minimum_process_size(Role::JobManager, &c).unwrap(), m(458));
        // ... and with an explicit off-heap that does not add up → inconsistent.
        let c = cfg(&[
            ("jobmanager.memory.heap.size", "512m"),
            ("jobmanager.memory.flink.size", "600m"),
            ("jobmanager.memory.off-heap.size", "128m"),
        ]);
        assert!(matches!(check(Role::JobManager, m(2048), &c), Err(MemoryModelError::Inconsistent { .. })));
    }

    #[test]
    fn invalid_override_values_are_errors() {
        let bad = |k: &str, v: &str| check(Role::TaskManager, m(2048), &cfg(&[(k, v)])).unwrap_err();
        assert!(matches!(bad("taskmanager.memory.managed.fraction", "lots"), MemoryModelError::InvalidFraction { .. }));
        assert!(matches!(bad("taskmanager.memory.managed.fraction", "1.0"), MemoryModelError::FractionOutOfRange { .. }));
        assert!(matches!(bad("taskmanager.memory.network.fraction", "-0.1"), MemoryModelError::FractionOutOfRange { .. }));
        assert!(matches!(bad("taskmanager.memory.jvm-overhead.fraction", "NaN"), MemoryModelError::FractionOutOfRange { .. }));
        let err = bad("taskmanager.memory.jvm-metaspace.size", "256Mi");
        assert!(
            matches!(&err, MemoryModelError::InvalidSize { source: MemorySizeError::KubernetesQuantity { suggestion, .. }, .. }
                if suggestion == "256m"),
            "{err:?}"
        );
        assert!(matches!(bad("taskmanager.memory.framework.heap.size", "lots"), MemoryModelError::InvalidSize { .. }));
        let err = check(
            Role::TaskManager,
            m(2048),
            &cfg(&[("taskmanager.memory.network.min", "512m"), ("taskmanager.memory.network.max", "256m")]),
        )
        .unwrap_err();
        assert!(matches!(err, MemoryModelError::MinAboveMax { .. }), "{err:?}");
        // Java's Float.parseFloat accepts a trailing f/d and surrounding blanks.
        assert!(check(Role::TaskManager, m(2048), &cfg(&[("taskmanager.memory.managed.fraction", " 0.3f ")])).is_ok());
        // JobManager keys are not read for a TaskManager.
        assert!(check(Role::TaskManager, m(2048), &cfg(&[("jobmanager.memory.heap.size", "lots")])).is_ok());
    }

    #[test]
    fn multiply_matches_flink_bigdecimal_semantics() {
        assert_eq!(multiply(1342177280, f64::from(0.4f32)), 536870920);
        assert_eq!(multiply(1073741824, f64::from(0.1f32)), 107374184);
        assert_eq!(multiply(1024, 0.5), 512);
        assert_eq!(multiply(1024, 0.0), 0);
        assert_eq!(multiply(3, 1.5), 4);
    }

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
    fn breakdown_lists_components_for_explain() {
        let b = check(Role::JobManager, m(1024), &cfg(&[])).unwrap();
        let labels: Vec<_> = b.components().into_iter().map(|(l, _)| l).collect();
        assert_eq!(labels, ["JVM heap", "off-heap", "JVM metaspace", "JVM overhead"]);
        let sum: u64 = b.components().into_iter().map(|(_, v)| v.0).sum();
        assert_eq!(sum, b.process.0);
        let b = check(Role::TaskManager, m(4096), &cfg(&[])).unwrap();
        let sum: u64 = b.components().into_iter().map(|(_, v)| v.0).sum();
        assert_eq!(sum, b.process.0);
        assert!(b.derivation.iter().any(|l| l.contains("task heap")), "{:?}", b.derivation);
    }
}
