//! Criterion benchmarks of the render path on a synthetic repository (`benches/synth.rs`):
//! the whole in-memory compile (spec → validate → bundle → render → patch → emit), the streaming
//! compile `generate` runs (two passes, files handed to a sink), and the emitter, which dominates
//! at scale. `cargo bench --bench render`.

mod synth;

use criterion::{Criterion, criterion_group, criterion_main};
use flinkops::compile::{Options, Passes, compile, compile_into};

fn compile_synthetic(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    synth::write_repo(dir.path(), 200).expect("synthetic repository");
    let mut g = c.benchmark_group("compile");
    g.sample_size(10);
    g.bench_function("200 pipelines x 3 envs", |b| {
        b.iter(|| {
            let out = compile(dir.path(), &Options::default());
            assert!(!out.has_errors());
            out.files.len()
        })
    });
    g.bench_function("200 pipelines x 3 envs, streaming, both passes", |b| {
        b.iter(|| {
            let out = compile_into(dir.path(), &Options::default(), &flinkops::sync::Discard, Passes::CheckFirst);
            assert!(!out.has_errors());
        })
    });
    g.finish();

    let out = compile(dir.path(), &Options::default());
    let fd = out.files.iter().find(|(p, _)| p.ends_with(".yaml") && p.contains("flinkdeployment")).expect("a FlinkDeployment").1;
    let value: serde_json::Value = serde_saphyr::from_str(std::str::from_utf8(fd).expect("utf-8")).expect("yaml");
    c.bench_function("emit one FlinkDeployment", |b| b.iter(|| flinkops::emit::yaml(&value).len()));
}

criterion_group!(benches, compile_synthetic);
criterion_main!(benches);
