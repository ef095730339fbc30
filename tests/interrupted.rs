//! An interrupted `generate` must never leave a tree that `check` accepts: killed after any
//! number of files — the last one half-written, as a kill during an in-place write leaves it —
//! the tree is rejected until a run completes, and the next `generate` repairs it.
//!
//! This drives the write path `generate` itself uses: `compile_into` with `Passes::CheckFirst`
//! streaming into a [`sync::Disk::write`] sink, stopped after `k` files and dropped without
//! [`sync::Disk::finish`] (so nothing is pruned), exactly what a kill does to that run.

mod support;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use flinkops::compile::{Options, Passes, compile_into};
use flinkops::sync::{self, Sink};
use support::*;

/// Forwards the first `limit` files to the real sink; the next one is written half (a kill in
/// the middle of its write); everything after is lost.
struct KilledAfter<'a> {
    inner: &'a sync::Disk,
    root: &'a std::path::Path,
    limit: usize,
    seen: AtomicUsize,
    half: Mutex<Option<String>>,
}

impl Sink for KilledAfter<'_> {
    fn put(&self, path: String, bytes: Vec<u8>) {
        let n = self.seen.fetch_add(1, Ordering::SeqCst);
        if n < self.limit {
            self.inner.put(path, bytes);
        } else if n == self.limit {
            let full = self.root.join(&path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, &bytes[..bytes.len() / 2]).unwrap();
            *self.half.lock().unwrap() = Some(path);
        }
    }
}

/// How many files a complete run hands to its sink.
fn files_per_run(root: &std::path::Path) -> usize {
    let counted = sync::Memory::default();
    let c = compile_into(root, &Options::default(), &counted, Passes::CheckFirst);
    assert!(!c.has_errors());
    counted.into_files().len()
}

#[test]
fn a_generate_killed_after_any_file_is_rejected_by_check_and_repaired_by_generate() {
    let repo = example_copy();
    let root = repo.path();
    // Start from a stale tree: the committed out/ of a spec that has since changed (several
    // files of both envs change) and of an env that was removed (its folder must be pruned).
    let pipeline = root.join("pipelines/flink-realtime-features.toml");
    let text = std::fs::read_to_string(&pipeline).unwrap();
    std::fs::write(&pipeline, text.replace("parallelism = 4", "parallelism = 8").replace("top_n = 1000", "top_n = 500")).unwrap();
    std::fs::remove_dir_all(root.join("overlays/dev")).unwrap();
    let pristine = snapshot_tree(&root.join("out"));
    let total = files_per_run(root);
    assert!(total >= 10, "the scenario needs several files: {total}");
    for k in 0..total {
        // Restore the stale tree, then run generate's write path and kill it after k files.
        std::fs::remove_dir_all(root.join("out")).unwrap();
        for (rel, bytes) in &pristine {
            write(root, &format!("out/{rel}"), std::str::from_utf8(bytes).unwrap());
        }
        let disk = sync::Disk::write(root);
        let killed = KilledAfter { inner: &disk, root, limit: k, seen: AtomicUsize::new(0), half: Mutex::new(None) };
        let c = compile_into(root, &Options::default(), &killed, Passes::CheckFirst);
        assert!(!c.has_errors());
        let half = killed.half.lock().unwrap().clone();
        drop(disk); // killed: queued writes land, nothing is pruned, no marker of completion
        let o = flinkops(root, &["check"]);
        assert_eq!(o.status.code(), Some(1), "check accepted a generate killed after {k} files (half-written: {half:?}): {}", stderr(&o));
    }
    let o = flinkops(root, &["generate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = flinkops(root, &["check"]);
    assert!(o.status.success(), "generate repairs the tree: {}{}", stdout(&o), stderr(&o));
}
