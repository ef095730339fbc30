//! Validate phase: rules for Flink configuration keys (SPEC §7).
//!
//! In: the user's `[flink.config]` keys and the Flink minor. Out: the keys rewritten to their
//! current names (each rewrite reported as a warning), and errors for keys the operator owns,
//! for overlapping prefixes (FLINK-37405) and for secret-looking keys. Also Flink duration
//! syntax, shared by every duration-valued spec field.

use crate::versions::FlinkMinor;

/// Keys the operator sets itself; a user value would be overwritten or break the deployment.
pub const FORBIDDEN_KEYS: &[&str] = &["kubernetes.namespace", "kubernetes.cluster-id", "high-availability.cluster-id"];

/// The current name of a deprecated key on `minor`, if `key` is deprecated there.
pub fn current_name(key: &str, minor: &FlinkMinor) -> Option<&'static str> {
    let always = match key {
        "state.backend" => Some("state.backend.type"),
        "high-availability" => Some("high-availability.type"),
        "restart-strategy" => Some("restart-strategy.type"),
        "high-availability.zookeeper.storageDir" => Some("high-availability.storageDir"),
        _ => None,
    };
    if always.is_some() {
        return always;
    }
    // 1.20 deprecated the state.* names of checkpoint/savepoint settings.
    let keys = &minor.keys;
    match key {
        "state.checkpoints.dir" | "execution.checkpointing.dir" => Some(keys.checkpoint_dir),
        "state.savepoints.dir" | "execution.checkpointing.savepoint-dir" => Some(keys.savepoint_dir),
        "state.backend.incremental" | "execution.checkpointing.incremental" => Some(keys.incremental),
        _ => None,
    }
    .filter(|current| *current != key)
}

/// Pairs `(shorter, longer)` where `shorter` is a dotted prefix of `longer`
/// (`metrics.reporter.prom` and `metrics.reporter.prom.port`). Input order does not matter;
/// output is sorted.
pub fn overlapping_prefixes<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<(&'a str, &'a str)> {
    let mut sorted: Vec<&str> = keys.into_iter().collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = vec![];
    // After sorting, every key that extends `k` with a '.' follows `k` contiguously among keys
    // starting with `k`, so a forward scan per key finds all overlaps.
    for (i, k) in sorted.iter().enumerate() {
        for longer in &sorted[i + 1..] {
            if !longer.starts_with(k) {
                break;
            }
            if longer.as_bytes().get(k.len()) == Some(&b'.') {
                out.push((*k, *longer));
            }
        }
    }
    out
}

/// Checks Flink duration syntax (`60s`, `10 min`, `1h`, `500ms`, `2d`; a bare number is
/// milliseconds). Returns the duration in milliseconds.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    if num.is_empty() {
        return Err(format!("{s:?} is not a duration: it must start with a whole number"));
    }
    let n: u64 = num.parse().map_err(|_| format!("{s:?}: number too large"))?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 1,
        "s" | "sec" | "secs" | "second" | "seconds" => 1000,
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
        "h" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        other => return Err(format!("{s:?} has an unknown unit {other:?}; use ms, s, min, h or d")),
    };
    n.checked_mul(factor).ok_or_else(|| format!("{s:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minor(a: u32, b: u32) -> &'static FlinkMinor {
        FlinkMinor::find(a, b).unwrap()
    }

    #[test]
    fn deprecated_keys_get_their_current_names_per_minor() {
        assert_eq!(current_name("state.backend", minor(2, 2)), Some("state.backend.type"));
        assert_eq!(current_name("restart-strategy", minor(1, 19)), Some("restart-strategy.type"));
        assert_eq!(current_name("state.checkpoints.dir", minor(1, 20)), Some("execution.checkpointing.dir"));
        assert_eq!(current_name("state.checkpoints.dir", minor(1, 19)), None, "still current on 1.19");
        assert_eq!(current_name("execution.checkpointing.dir", minor(1, 19)), Some("state.checkpoints.dir"));
        assert_eq!(current_name("pipeline.max-parallelism", minor(2, 2)), None);
    }

    #[test]
    fn overlapping_prefixes_need_a_dot_boundary() {
        let keys = ["metrics.reporter.prom.port", "metrics.reporter.prom", "metrics.reporter.promx", "a.b"];
        assert_eq!(overlapping_prefixes(keys), vec![("metrics.reporter.prom", "metrics.reporter.prom.port")]);
        assert!(overlapping_prefixes(["state.backend.type", "state.backend.incremental"]).is_empty());
        assert_eq!(overlapping_prefixes(["state.backend", "state.backend.type"]).len(), 1);
    }

    #[test]
    fn durations_use_flink_units() {
        assert_eq!(parse_duration("60s"), Ok(60_000));
        assert_eq!(parse_duration("10 min"), Ok(600_000));
        assert_eq!(parse_duration("1h"), Ok(3_600_000));
        assert_eq!(parse_duration("500"), Ok(500));
        assert!(parse_duration("1 fortnight").is_err());
        assert!(parse_duration("s").is_err());
    }
}
