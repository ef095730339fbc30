//! The streaming compiler: pipelines are compiled batch by batch and each file goes to a sink as
//! soon as it is emitted. These tests protect what batching must not change — the files, the
//! diagnostics, the checks that need every pipeline (duplicate names, patches that match nothing,
//! kustomization lists) — and that `generate` still writes nothing when an error only shows up in
//! a late batch.

mod support;
#[path = "../benches/synth.rs"]
#[allow(dead_code)]
mod synth;

use flinkops::compile::{Options, Passes, compile, compile_into};
use flinkops::diag::render_all;
use flinkops::sync::Memory;
use std::collections::BTreeMap;
use std::path::Path;
use support::{assert_same_tree, flinkops, snapshot_tree, stderr, write};

/// Compiles with the given batch size into memory: (files, rendered diagnostics).
fn compiled(root: &Path, batch: usize) -> (BTreeMap<String, Vec<u8>>, String) {
    let sink = Memory::default();
    let c = compile_into(root, &Options { batch, ..Default::default() }, &sink, Passes::One);
    let files = if c.has_errors() { BTreeMap::new() } else { sink.into_files() };
    (files, render_all(&c.diagnostics, &c.sources, false))
}

fn synthetic(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    synth::write_repo(dir.path(), n).unwrap();
    dir
}

#[test]
fn the_batch_size_changes_neither_files_nor_diagnostics() {
    let dir = synthetic(23);
    let (reference, diags) = compiled(dir.path(), 0);
    assert!(reference.len() > 23 * 3 * 3, "every pipeline of every env is emitted: {} files", reference.len());
    for batch in [1, 4, 22] {
        let (files, d) = compiled(dir.path(), batch);
        assert_same_tree(&reference, &files);
        assert_eq!(d, diags, "batch size {batch}");
    }
    // The in-memory compile used by tests and day-2 commands agrees with the streaming one.
    let c = compile(dir.path(), &Options::default());
    assert_same_tree(&reference, &c.files);
    // What needs every pipeline is gathered across batches: the env's kustomization lists the
    // namespaces unit, then the first and the last pipeline's units.
    let k = String::from_utf8(reference["out/prod/kustomization.yaml"].clone()).unwrap();
    let units: Vec<&str> = k.lines().filter_map(|l| l.strip_prefix("- ")).collect();
    let expected: Vec<String> = std::iter::once("_namespaces".to_string()).chain((0..23).map(|i| format!("p{i:05}"))).collect();
    assert_eq!(units, expected, "{k}");
}

#[test]
fn errors_that_need_every_pipeline_are_found_across_batches() {
    let dir = synthetic(12);
    // The last pipeline takes the first one's name; with batches of one they never meet in a
    // batch.
    let last = dir.path().join("pipelines/p00011.toml");
    let text = std::fs::read_to_string(&last).unwrap();
    std::fs::write(&last, format!("name = \"p00000\"\n{text}")).unwrap();
    let (_, reference) = compiled(dir.path(), 0);
    assert!(reference.contains("two pipelines are named `p00000`: pipelines/p00000.toml and pipelines/p00011.toml"), "{reference}");
    for batch in [1, 5] {
        assert_eq!(compiled(dir.path(), batch).1, reference, "batch size {batch}");
    }
}

/// Appends a patch to the prod overlay that fails on one pipeline's FlinkDeployment only.
fn break_patch_for(root: &Path, pipeline: &str) {
    let overlay = root.join("overlays/prod/overlay.toml");
    let mut text = std::fs::read_to_string(&overlay).unwrap();
    text.push_str(&format!(
        "\n[[patches]]\ntarget = {{ kind = \"FlinkDeployment\", name = \"{pipeline}\" }}\nops = [ {{ op = \"test\", path = \"/spec/flinkVersion\", value = \"v1_0\" }} ]\n"
    ));
    std::fs::write(&overlay, text).unwrap();
}

#[test]
fn a_patch_that_fails_in_a_late_batch_is_reported_whatever_the_batch_size() {
    let dir = synthetic(9);
    break_patch_for(dir.path(), "p00008");
    let (files, reference) = compiled(dir.path(), 0);
    assert!(files.is_empty());
    assert!(reference.contains("operation #0 at `/spec/flinkVersion` failed on FlinkDeployment `p00008`"), "{reference}");
    for batch in [1, 2] {
        assert_eq!(compiled(dir.path(), batch).1, reference, "batch size {batch}");
    }
}

#[test]
fn generate_writes_nothing_when_a_patch_fails_after_the_first_batch() {
    // More pipelines than one default batch (256), so the failing object is rendered long after
    // the first files could have been written.
    let dir = synthetic(300);
    let root = dir.path();
    let o = flinkops(root, &["generate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = flinkops(root, &["check"]);
    assert!(o.status.success(), "a multi-batch generate is complete: {}", stderr(&o));
    let before = snapshot_tree(&root.join("out"));

    // A change that would rewrite files of early batches, plus a patch failing in the last one.
    write(
        root,
        "overlays/dev/overlay.toml",
        &std::fs::read_to_string(root.join("overlays/dev/overlay.toml")).unwrap().replace("env = \"dev\"", "env = \"development\""),
    );
    break_patch_for(root, "p00299");
    let o = flinkops(root, &["generate"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("failed on FlinkDeployment `p00299`"), "{}", stderr(&o));
    assert_same_tree(&before, &snapshot_tree(&root.join("out")));
}
