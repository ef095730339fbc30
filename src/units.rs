//! Units: memory sizes and number formatting shared by every phase (model, validate, render,
//! explain), so that none of them depends on another for them.
//!
//! In: text such as `"1024m"`, `"4Gi"`, or an `f64`. Out: a [`MemorySize`] in bytes, Flink's
//! notation and Kubernetes quantities, and numbers printed without a needless `.0`.

use std::fmt;
use std::str::FromStr;

pub(crate) const KIB: u64 = 1 << 10;
pub(crate) const MIB: u64 = 1 << 20;
pub(crate) const GIB: u64 = 1 << 30;
pub(crate) const TIB: u64 = 1 << 40;
pub(crate) const PIB: u64 = 1 << 50;
pub(crate) const EIB: u64 = 1 << 60;
/// Flink stores sizes in a Java `long`.
pub(crate) const MAX_BYTES: u64 = i64::MAX as u64;

// ---------------------------------------------------------------------------------------------
// MemorySize
// ---------------------------------------------------------------------------------------------

/// A memory size in bytes (at most `i64::MAX`, Flink's limit).
///
/// Printed forms are exact and canonical: whole mebibytes when possible (the spec's notation,
/// `1024m`, so profile values round-trip unchanged and `2g` prints as `2048m`), else whole
/// kibibytes, else bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MemorySize(pub u64);

/// Why a memory size could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemorySizeError {
    /// Nothing but whitespace.
    #[error("the memory size is empty")]
    Empty,
    /// No leading digits (this includes negative numbers).
    #[error("{input:?} does not start with a whole number of bytes, kibibytes, mebibytes, ...")]
    NoNumber { input: String },
    /// `1.5g`: Flink has no fractional sizes.
    #[error("{input:?} is not a whole number; memory sizes are integers (write e.g. 1536m for 1.5g)")]
    Fractional { input: String },
    /// A unit that is neither Flink's nor a Kubernetes binary suffix.
    #[error("{input:?} has the unknown unit {unit:?}; {units}", units = UNITS_HELP)]
    UnknownUnit { input: String, unit: String },
    /// A Kubernetes quantity where only Flink notation is read (inside `flinkConfiguration`).
    #[error("{input:?} is a Kubernetes quantity, which Flink does not accept in flinkConfiguration; write {suggestion}")]
    KubernetesQuantity { input: String, suggestion: String },
    /// More than `i64::MAX` bytes.
    #[error("{input:?} is larger than Flink can represent (2^63 - 1 bytes)")]
    Overflow { input: String },
}

const UNITS_HELP: &str = "use Flink units b, k/kb, m/mb, g/gb, t/tb (any case, all binary: 1m = 1 MiB, e.g. 1024m) \
     or, for resource memory, a Kubernetes binary suffix Ki, Mi, Gi, Ti, Pi, Ei (e.g. 1Gi)";

/// Flink's unit names (`MemorySize.MemoryUnit`), matched after lower-casing.
const FLINK_UNITS: &[(&str, u64)] = &[
    ("", 1),
    ("b", 1),
    ("bytes", 1),
    ("k", KIB),
    ("kb", KIB),
    ("kibibytes", KIB),
    ("m", MIB),
    ("mb", MIB),
    ("mebibytes", MIB),
    ("g", GIB),
    ("gb", GIB),
    ("gibibytes", GIB),
    ("t", TIB),
    ("tb", TIB),
    ("tebibytes", TIB),
];

/// Kubernetes binary suffixes, case-sensitive as Kubernetes has them.
const K8S_UNITS: &[(&str, u64)] = &[("Ki", KIB), ("Mi", MIB), ("Gi", GIB), ("Ti", TIB), ("Pi", PIB), ("Ei", EIB)];

impl MemorySize {
    /// Zero bytes.
    pub const ZERO: MemorySize = MemorySize(0);

    /// `mib` mebibytes.
    pub const fn from_mib(mib: u64) -> MemorySize {
        MemorySize(mib * MIB)
    }

    /// The size in bytes.
    pub const fn bytes(self) -> u64 {
        self.0
    }

    /// Parses a resource memory value: Flink notation or a Kubernetes binary quantity.
    ///
    /// Flink notation is what `MemorySize.parse` accepts: a whole number, optional whitespace and
    /// an optional unit `b`/`bytes`, `k`/`kb`/`kibibytes`, `m`/`mb`/`mebibytes`,
    /// `g`/`gb`/`gibibytes`, `t`/`tb`/`tebibytes`, case-insensitive, all binary multiples; no unit
    /// means bytes. Kubernetes binary quantities are a whole number directly followed by `Ki`,
    /// `Mi`, `Gi`, `Ti`, `Pi` or `Ei`.
    ///
    /// Upper-case single letters (`1G`, `1024M`) are decimal units to Kubernetes but binary to
    /// Flink. They are accepted with Flink's (binary) meaning, because that is what the operator
    /// does too: it tries Flink's parser first and only falls back to Kubernetes quantities, so
    /// `memory: 1G` has always meant 1 GiB in a FlinkDeployment. flinkops then writes the
    /// canonical form, so the ambiguity does not reach the manifests. Decimal suffixes Flink
    /// lacks (`P`, `E`), fractions (`1.5Gi`) and exponents (`1e9`) are rejected.
    pub fn parse(s: &str) -> Result<MemorySize, MemorySizeError> {
        parse_size(s, true)
    }

    /// Parses a value exactly as Flink reads a `flinkConfiguration` memory option
    /// (`MemorySize.parse`): Flink notation only. `256Mi` is rejected, as Flink rejects it.
    pub fn parse_flink(s: &str) -> Result<MemorySize, MemorySizeError> {
        parse_size(s, false)
    }

    /// Canonical Flink notation: `<n>m` for whole mebibytes (`2g` → `2048m`), else `<n>k`, else
    /// plain bytes (which Flink reads as bytes).
    pub fn to_flink_string(&self) -> String {
        self.in_largest_unit("m", "k")
    }

    /// Exact Kubernetes quantity with the same unit choice as [`Self::to_flink_string`]:
    /// `1024m` → `1024Mi`, `2g` → `2048Mi`, else `<n>Ki`, else plain bytes.
    pub fn to_k8s_quantity(&self) -> String {
        self.in_largest_unit("Mi", "Ki")
    }

    /// Whole mebibytes with `mib`, else whole kibibytes with `kib`, else plain bytes.
    fn in_largest_unit(&self, mib: &str, kib: &str) -> String {
        let b = self.0;
        if b.is_multiple_of(MIB) {
            format!("{}{mib}", b / MIB)
        } else if b.is_multiple_of(KIB) {
            format!("{}{kib}", b / KIB)
        } else {
            b.to_string()
        }
    }
}

impl fmt::Display for MemorySize {
    /// The canonical Flink notation ([`MemorySize::to_flink_string`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_flink_string())
    }
}

impl FromStr for MemorySize {
    type Err = MemorySizeError;

    /// Same as [`MemorySize::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MemorySize::parse(s)
    }
}

fn parse_size(input: &str, allow_k8s: bool) -> Result<MemorySize, MemorySizeError> {
    // Flink trims the whole text, reads leading ASCII digits, then trims and lower-cases the rest.
    let text = input.trim();
    if text.is_empty() {
        return Err(MemorySizeError::Empty);
    }
    let digits_end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, rest) = text.split_at(digits_end);
    let owned = || input.to_string();
    if number.is_empty() {
        return Err(MemorySizeError::NoNumber { input: owned() });
    }
    if rest.starts_with(['.', ',']) && rest[1..].starts_with(|c: char| c.is_ascii_digit()) {
        return Err(MemorySizeError::Fractional { input: owned() });
    }
    let k8s = K8S_UNITS.iter().find(|(unit, _)| *unit == rest).map(|&(_, m)| m);
    let multiplier = match k8s {
        Some(m) if allow_k8s => m,
        Some(m) => {
            // Suggest the Flink spelling of the same amount, when it is representable.
            let suggestion = number
                .parse::<u64>()
                .ok()
                .and_then(|n| n.checked_mul(m))
                .filter(|&b| b <= MAX_BYTES)
                .map(|b| MemorySize(b).to_flink_string())
                .unwrap_or_else(|| "Flink notation such as 1024m".to_string());
            return Err(MemorySizeError::KubernetesQuantity { input: owned(), suggestion });
        }
        None => {
            let unit = rest.trim().to_ascii_lowercase();
            match FLINK_UNITS.iter().find(|(name, _)| *name == unit) {
                Some(&(_, m)) => m,
                None => {
                    return Err(MemorySizeError::UnknownUnit { input: owned(), unit: rest.trim().to_string() });
                }
            }
        }
    };
    // Java's Long.parseLong fails above i64::MAX; so does the product check after it.
    let value: u64 = number.parse().map_err(|_| MemorySizeError::Overflow { input: owned() })?;
    match value.checked_mul(multiplier) {
        Some(bytes) if bytes <= MAX_BYTES => Ok(MemorySize(bytes)),
        _ => Err(MemorySizeError::Overflow { input: owned() }),
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------------------

/// A number as a person writes it: `2` rather than `2.0`, `0.5` as is.
pub fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { format!("{x}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(n: u64) -> MemorySize {
        MemorySize::from_mib(n)
    }

    #[test]
    fn parses_flink_notation() {
        let p = |s: &str| MemorySize::parse(s).unwrap().0;
        assert_eq!(p("1024m"), 1024 * MIB);
        assert_eq!(p("1024 mb"), 1024 * MIB);
        assert_eq!(p("1024MB"), 1024 * MIB);
        assert_eq!(p("  2g "), 2 * GIB);
        assert_eq!(p("2 gibibytes"), 2 * GIB);
        assert_eq!(p("512k"), 512 * KIB);
        assert_eq!(p("512kb"), 512 * KIB);
        assert_eq!(p("1t"), TIB);
        assert_eq!(p("1 TB"), TIB);
        assert_eq!(p("100"), 100);
        assert_eq!(p("100b"), 100);
        assert_eq!(p("100 bytes"), 100);
        assert_eq!(p("0"), 0);
        // Upper-case single letters keep Flink's binary meaning (the operator reads them so too).
        assert_eq!(p("1G"), GIB);
        assert_eq!(p("1024M"), 1024 * MIB);
    }

    #[test]
    fn parses_kubernetes_binary_quantities() {
        let p = |s: &str| MemorySize::parse(s).unwrap().0;
        assert_eq!(p("1024Mi"), 1024 * MIB);
        assert_eq!(p("2Gi"), 2 * GIB);
        assert_eq!(p("64Ki"), 64 * KIB);
        assert_eq!(p("1Ti"), TIB);
        assert_eq!(p("1Pi"), PIB);
        assert_eq!(p("7Ei"), 7 * EIB);
    }

    #[test]
    fn rejects_bad_sizes() {
        use MemorySizeError::*;
        let e = |s: &str| MemorySize::parse(s).unwrap_err();
        assert_eq!(e(""), Empty);
        assert_eq!(e("   "), Empty);
        assert!(matches!(e("m"), NoNumber { .. }));
        assert!(matches!(e("-1m"), NoNumber { .. }));
        assert!(matches!(e("1.5g"), Fractional { .. }));
        assert!(matches!(e("1.5Gi"), Fractional { .. }));
        assert!(matches!(e("1e9"), UnknownUnit { .. }));
        assert!(matches!(e("1P"), UnknownUnit { .. }));
        assert!(matches!(e("1E"), UnknownUnit { .. }));
        assert!(matches!(e("1mi"), UnknownUnit { .. }));
        assert!(matches!(e("1MI"), UnknownUnit { .. }));
        assert!(matches!(e("1 Gi"), UnknownUnit { .. }));
        assert!(matches!(e("1gib"), UnknownUnit { .. }));
        assert!(matches!(e("8Ei"), Overflow { .. }));
        assert!(matches!(e("8388608t"), Overflow { .. }));
        assert!(matches!(e("99999999999999999999"), Overflow { .. }));
        assert_eq!(MemorySize::parse("9223372036854775807").unwrap().0, MAX_BYTES);
        // Flink-only parsing refuses Kubernetes quantities.
        assert!(matches!(MemorySize::parse_flink("2Gi"), Err(KubernetesQuantity { .. })));
        assert_eq!(MemorySize::parse_flink("2g").unwrap(), MemorySize(2 * GIB));
    }

    #[test]
    fn prints_canonical_forms() {
        assert_eq!(m(1024).to_flink_string(), "1024m");
        assert_eq!(MemorySize(GIB).to_flink_string(), "1024m");
        assert_eq!(MemorySize(2 * GIB).to_k8s_quantity(), "2048Mi");
        assert_eq!(MemorySize::parse("1024m").unwrap().to_k8s_quantity(), "1024Mi");
        assert_eq!(MemorySize(512 * KIB).to_flink_string(), "512k");
        assert_eq!(MemorySize(512 * KIB).to_k8s_quantity(), "512Ki");
        assert_eq!(MemorySize(1000).to_flink_string(), "1000");
        assert_eq!(MemorySize(1000).to_k8s_quantity(), "1000");
        assert_eq!(m(982).to_string(), "982m");
        assert_eq!("2Gi".parse::<MemorySize>().unwrap(), m(2048));
        // Round trip through both printed forms.
        for s in ["1m", "1536m", "3k", "12345"] {
            let v = MemorySize::parse(s).unwrap();
            assert_eq!(MemorySize::parse(&v.to_flink_string()).unwrap(), v);
            assert_eq!(MemorySize::parse(&v.to_k8s_quantity()).unwrap(), v);
        }
    }

    #[test]
    fn numbers_print_without_a_needless_fraction() {
        assert_eq!(format_number(2.0), "2");
        assert_eq!(format_number(0.5), "0.5");
        assert_eq!(format_number(-3.0), "-3");
    }
}
