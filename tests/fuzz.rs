//! Fuzzing the whole parse → validate → render → emit path with proptest: random mutations of
//! valid specs and overlays (lines deleted, duplicated or truncated, values swapped for hostile
//! ones, random bytes inserted) must never panic; whatever compiles must emit YAML that parses.
//!
//! CI runs a modest number of cases. The long run (documented in the README):
//! `PROPTEST_CASES=20000 cargo test --release --test fuzz`. Crashes it finds are added as
//! regression cases to `tests/bad_inputs.rs`.

mod support;

use flinkops::compile::{Options, compile};
use proptest::prelude::*;
use support::*;

const PROJECT: &str = r#"[project]
name = "fuzz"
repo_url = "https://git.example.com/fuzz.git"
[defaults]
registry = "registry.example.com/fuzz"
timezone = "America/New_York"
[scaler]
image = "registry.example.com/kubectl:1.30.4@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
[cluster]
cpu = 64
memory = "256Gi"
"#;

const PIPELINE: &str = r#"extends = "templates/base.toml"
name = "orders"
labels = { team = "shop" }
[flink]
version = "2.2.1"
slots = 2
checkpoint_dir = "s3://c/{env}/{name}"
savepoint_dir = "s3://s/{env}/{name}"
[flink.config]
"pipeline.max-parallelism" = "128"
[flink.env]
TOKEN = { secret = "t", key = "token" }
[job]
kind = "python"
script = "jobs/orders/main.py"
parallelism = 4
upgrade_mode = "savepoint"
requirements = ["redis==5.2.1"]
connectors = ["kafka"]
[resources]
profile = "medium"
[resources.taskmanager]
memory = "2g"
[autoscaling]
mode = "scheduled_hpa"
schedule_strategy = "guarded"
min_replicas = 1
max_replicas = 12
[[autoscaling.schedule]]
name = "open"
cron = "30 9 * * 1-5"
min_replicas = 4
max_replicas = 12
[[autoscaling.schedule]]
name = "close"
cron = "0 17 * * 1-5"
min_replicas = 1
max_replicas = 4
[[tasks]]
name = "t1"
[tasks.params]
window = "1h"
auth = { password = { secret = "p", key = "k" } }
"#;

const TEMPLATE: &str = "description = \"base\"\n[flink]\nstate_backend = \"rocksdb\"\n";

const OVERLAY: &str = r#"[env]
namespace = "prod"
[pipelines.orders]
resources.profile = "large"
[[patches]]
target = { kind = "FlinkDeployment" }
ops = [ { op = "add", path = "/metadata/annotations", value = { a = "b" } } ]
[[merge_patches]]
target = { kind = "HorizontalPodAutoscaler" }
patch = { spec = { maxReplicas = 12 } }
"#;

const HOSTILE: &[&str] = &[
    "\"\"",
    "0",
    "-1",
    "99999999999999999999",
    "1e309",
    "nan",
    "\"latest\"",
    "true",
    "[]",
    "{}",
    "\"😀\"",
    "\"0 0 30 2 *\"",
    "\"../../etc/passwd\"",
    "\"@every 5m\"",
    "\"Mars/Olympus\"",
    "{ secret = 1 }",
    "\"1.2\"",
    "[[]]",
];

#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    ReplaceValue(usize, usize),
    InsertBytes(usize, Vec<u8>),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(l, v)| Mutation::ReplaceValue(l, v)),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8)).prop_map(|(p, b)| Mutation::InsertBytes(p, b)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(text: &str, m: &Mutation) -> Vec<u8> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.is_empty() && matches!(m, Mutation::DeleteLine(_) | Mutation::DuplicateLine(_) | Mutation::ReplaceValue(..)) {
        // An earlier mutation emptied the file: nothing to pick a line from.
        return text.as_bytes().to_vec();
    }
    match m {
        Mutation::DeleteLine(i) => {
            let i = i % lines.len();
            lines.remove(i);
        }
        Mutation::DuplicateLine(i) => {
            let i = i % lines.len();
            let l = lines[i].clone();
            lines.insert(i, l);
        }
        Mutation::ReplaceValue(i, v) => {
            let i = i % lines.len();
            if let Some((k, _)) = lines[i].split_once(" = ") {
                lines[i] = format!("{k} = {}", HOSTILE[v % HOSTILE.len()]);
            }
        }
        Mutation::InsertBytes(p, bytes) => {
            let mut b = text.as_bytes().to_vec();
            let p = p % (b.len() + 1);
            b.splice(p..p, bytes.iter().copied());
            return b;
        }
        Mutation::Truncate(p) => return text.as_bytes()[..p % (text.len() + 1)].to_vec(),
    }
    (lines.join("\n") + "\n").into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn no_input_makes_the_compiler_panic(which in 0usize..4, ms in proptest::collection::vec(mutation(), 1..4)) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let files = [("flinkops.toml", PROJECT), ("pipelines/orders.toml", PIPELINE), ("templates/base.toml", TEMPLATE), ("overlays/prod/overlay.toml", OVERLAY)];
        for (i, (rel, text)) in files.iter().enumerate() {
            let mut bytes = text.as_bytes().to_vec();
            if i == which {
                for m in &ms {
                    bytes = apply(&String::from_utf8_lossy(&bytes), m);
                }
            }
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        write(root, "jobs/orders/main.py", "print(1)\n");
        let c = compile(root, &Options::default());
        // Rendering diagnostics never panics either.
        let _ = flinkops::diag::render_all(&c.diagnostics, &c.sources, false);
        if !c.has_errors() {
            for (path, bytes) in &c.files {
                if path.ends_with(".yaml") {
                    let text = std::str::from_utf8(bytes).unwrap();
                    let parsed: Result<serde_json::Value, _> = serde_saphyr::from_str(text);
                    prop_assert!(parsed.is_ok(), "{path} does not parse back: {parsed:?}");
                }
            }
        }
    }
}

#[test]
fn the_unmutated_fuzz_base_compiles() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (rel, text) in [
        ("flinkops.toml", PROJECT),
        ("pipelines/orders.toml", PIPELINE),
        ("templates/base.toml", TEMPLATE),
        ("overlays/prod/overlay.toml", OVERLAY),
        ("jobs/orders/main.py", "print(1)\n"),
    ] {
        write(root, rel, text);
    }
    let c = compile(root, &Options::default());
    assert!(!c.has_errors(), "{}", flinkops::diag::render_all(&c.diagnostics, &c.sources, false));
}
