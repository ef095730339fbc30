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
    let err =
        check(Role::TaskManager, m(2048), &cfg(&[("taskmanager.memory.network.min", "512m"), ("taskmanager.memory.network.max", "256m")]))
            .unwrap_err();
    assert!(matches!(err, MemoryModelError::MinAboveMax { .. }), "{err:?}");
    // Java's Float.parseFloat accepts a trailing f/d and surrounding blanks.
    assert!(check(Role::TaskManager, m(2048), &cfg(&[("taskmanager.memory.managed.fraction", " 0.3f ")])).is_ok());
    // JobManager keys are not read for a TaskManager.
    assert!(check(Role::TaskManager, m(2048), &cfg(&[("jobmanager.memory.heap.size", "lots")])).is_ok());
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
