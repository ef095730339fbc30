//! validate phase, Flink memory model: the `flinkConfiguration` options that take part, with
//! Flink's defaults and deprecated fallback keys.
//!
//! In: a [`Role`] and the effective `flinkConfiguration` (flat `key → value` strings).
//! Out: [`Settings`], every option the derivation reads, parsed as Flink's `Configuration` parses
//! it (sizes in bytes, `float` fractions widened to `double`), each remembering the key it came
//! from; or a [`MemoryModelError`] for a value Flink cannot parse or a range Flink refuses.

use indexmap::IndexMap;

use super::{MemoryModelError, Role};
use crate::units::{GIB, MAX_BYTES, MIB, MemorySize};

/// A size option: the key it came from (or the main key, for a default) and whether the user set it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Size {
    pub key: &'static str,
    pub value: u64,
    pub explicit: bool,
}

/// A fraction option, already widened from Java `float` to `double` as Flink does.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fraction {
    pub value: f64,
}

/// Flink's `RangeFraction`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Range {
    pub min: Size,
    pub max: Size,
    pub fraction: Fraction,
}

/// The JVM parts outside the Flink memory.
#[derive(Debug, Clone, Copy)]
pub(super) struct Jvm {
    pub metaspace: Size,
    pub overhead: Range,
}

/// A TaskManager's options (`taskmanager.memory.*`).
#[derive(Debug, Clone, Copy)]
pub(super) struct TmSettings {
    pub jvm: Jvm,
    pub flink: Option<Size>,
    pub framework_heap: Size,
    pub framework_off_heap: Size,
    pub task_heap: Option<Size>,
    pub task_off_heap: Size,
    pub managed: Option<Size>,
    pub managed_range: Range,
    pub network: Range,
}

/// The JobManager's options (`jobmanager.memory.*`).
#[derive(Debug, Clone, Copy)]
pub(super) struct JmSettings {
    pub jvm: Jvm,
    pub flink: Option<Size>,
    pub heap: Option<Size>,
    pub off_heap: Size,
}

/// Every option of one role that the derivation reads.
#[derive(Debug, Clone, Copy)]
#[allow(clippy::large_enum_variant, reason = "built once per check and never stored")]
pub(super) enum Settings {
    Tm(TmSettings),
    Jm(JmSettings),
}

/// Flink's `MIN_JVM_HEAP_SIZE` for the JobManager (a warning threshold only).
pub(super) const JM_RECOMMENDED_MIN_HEAP: u64 = 128 * MIB;

/// Metaspace, overhead min, max and fraction keys, in that order.
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

impl Settings {
    /// Reads `role`'s options from `config`; keys of the other role and non-memory keys are
    /// ignored, and so is `*.memory.process.size` (the operator overwrites it).
    pub(super) fn read(role: Role, config: &IndexMap<String, String>) -> Result<Settings, MemoryModelError> {
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

    /// The JVM options (metaspace and overhead).
    pub(super) fn jvm(&self) -> &Jvm {
        match self {
            Settings::Tm(s) => &s.jvm,
            Settings::Jm(s) => &s.jvm,
        }
    }
}
