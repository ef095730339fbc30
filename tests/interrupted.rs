//! An interrupted `generate` must never leave a tree that `check` accepts: every prefix of the
//! write sequence, with or without a half-written file left behind, is rejected until the run
//! completes, and the next `generate` repairs it.

mod common;

use common::*;
use flinkops::compile::{Options, compile};
use flinkops::sync;

#[test]
fn every_partial_write_sequence_is_rejected_by_check_and_repaired_by_generate() {
    let repo = example_copy();
    let root = repo.path();
    // Start from a stale tree: the committed out/ of a spec that has since changed.
    let pipeline = root.join("pipelines/flink-realtime-features.toml");
    let text = std::fs::read_to_string(&pipeline).unwrap();
    std::fs::write(&pipeline, text.replace("parallelism = 4", "parallelism = 8")).unwrap();
    // A removed env: its whole folder must be pruned.
    std::fs::remove_dir_all(root.join("overlays/dev")).unwrap();
    let c = compile(root, &Options::default());
    assert!(!c.has_errors());
    let changes = sync::plan(root, &c.files, &c.scope).unwrap();
    assert!(changes.len() >= 3, "the scenario needs several writes and removals: {}", changes.len());
    let pristine = snapshot_tree(&root.join("out"));
    for k in 0..changes.len() {
        // Restore the stale tree, then apply only the first k changes (a kill after k steps).
        std::fs::remove_dir_all(root.join("out")).unwrap();
        for (rel, bytes) in &pristine {
            write(root, &format!("out/{rel}"), std::str::from_utf8(bytes).unwrap());
        }
        sync::apply(root, &changes[..k]).unwrap();
        assert!(!sync::plan(root, &c.files, &c.scope).unwrap().is_empty(), "check accepted a tree interrupted after {k} steps");
        // A kill in the middle of the next write leaves its temporary file behind.
        let next = &changes[k];
        let dir = root.join(&next.path).parent().unwrap().to_path_buf();
        std::fs::create_dir_all(&dir).unwrap();
        let name = std::path::Path::new(&next.path).file_name().unwrap().to_string_lossy().into_owned();
        std::fs::write(dir.join(format!(".{name}.flinkops-tmp")), "half a fi").unwrap();
        let o = flinkops(root, &["check"]);
        assert_eq!(o.status.code(), Some(1), "after {k} steps: {}", stderr(&o));
    }
    let o = flinkops(root, &["generate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = flinkops(root, &["check"]);
    assert!(o.status.success(), "generate repairs the tree: {}{}", stdout(&o), stderr(&o));
}
