//! validate phase, Flink memory model: the byte arithmetic of Flink's `MemorySize` that
//! [`crate::units`] does not need elsewhere.
//!
//! In: sizes in bytes and `double` factors. Out: bytes, computed as flink-core computes them.
//! Parsing and printing sizes is [`crate::units::MemorySize`]'s job; this file only multiplies
//! and adds.

use crate::units::MAX_BYTES;

/// `bytes × factor` as Flink's `MemorySize.multiply(double)` computes it: the exact product of
/// `bytes` and the decimal that `Double.toString(factor)` prints (`BigDecimal.valueOf`),
/// truncated towards zero. Rust's shortest round-trip formatting prints the same digits as Java
/// for these values (Java before 19 can print a longer string in rare cases; the product would
/// then differ by at most a byte). Saturates at `i64::MAX`, where Flink would throw.
pub(super) fn multiply(bytes: u64, factor: f64) -> u64 {
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

/// Sum of sizes, saturating: absurd option values (near 2^63 each) make Flink throw on overflow;
/// here they saturate and then fail the comparison they are part of.
pub(super) fn sum(parts: &[u64]) -> u64 {
    parts.iter().fold(0, |acc, &p| acc.saturating_add(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiply_matches_flink_bigdecimal_semantics() {
        assert_eq!(multiply(1342177280, f64::from(0.4f32)), 536870920);
        assert_eq!(multiply(1073741824, f64::from(0.1f32)), 107374184);
        assert_eq!(multiply(1024, 0.5), 512);
        assert_eq!(multiply(1024, 0.0), 0);
        assert_eq!(multiply(3, 1.5), 4);
    }

    #[test]
    fn sum_saturates_instead_of_wrapping() {
        assert_eq!(sum(&[1, 2, 3]), 6);
        assert_eq!(sum(&[u64::MAX - 1, 5]), u64::MAX);
    }
}
