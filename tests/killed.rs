//! `generate` killed with SIGKILL at many points while it writes: afterwards `check` never
//! accepts an incomplete tree, and a rerun of `generate` repairs it.

mod support;

use std::time::Duration;

use support::*;

#[test]
fn sigkill_at_any_point_never_leaves_a_tree_that_check_accepts() {
    let repo = example_copy();
    let root = repo.path();
    let complete = {
        let o = flinkops(root, &["generate"]);
        assert!(o.status.success());
        snapshot_tree(&root.join("out"))
    };
    // Make every file change: the project name is in a label of every object.
    let text = std::fs::read_to_string(root.join("flinkops.toml")).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("flinkops");
    let mut accepted_complete = 0;
    let mut rejected = 0;
    for step in 0..24u64 {
        // Alternate between a changed spec (every file rewritten) and the original (rewritten back).
        let name = if step % 2 == 0 { "lemo-recommender-b" } else { "lemo-recommender" };
        std::fs::write(root.join("flinkops.toml"), text.replace("name = \"lemo-recommender\"", &format!("name = \"{name}\""))).unwrap();
        let mut child = std::process::Command::new(&bin).arg("--quiet").arg("generate").current_dir(root).spawn().unwrap();
        std::thread::sleep(Duration::from_micros(step * 1200));
        let _ = child.kill();
        child.wait().unwrap();
        let o = flinkops(root, &["check"]);
        match o.status.code() {
            Some(0) => {
                // Accepted: then it must be exactly what a complete run produces.
                let fresh = tempfile::tempdir().unwrap();
                copy_tree(root, fresh.path());
                std::fs::remove_dir_all(fresh.path().join("out")).unwrap();
                assert!(flinkops(fresh.path(), &["generate"]).status.success());
                assert_same_tree(&snapshot_tree(&fresh.path().join("out")), &snapshot_tree(&root.join("out")));
                accepted_complete += 1;
            }
            Some(1) => rejected += 1,
            other => panic!("check exited {other:?}: {}", stderr(&o)),
        }
        // The next generate always repairs the tree.
        let o = flinkops(root, &["generate"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(flinkops(root, &["check"]).status.success());
    }
    // Both outcomes must have been exercised for the test to mean anything.
    assert!(rejected > 0, "no kill landed mid-write ({accepted_complete} complete runs)");
    std::fs::write(root.join("flinkops.toml"), text).unwrap();
    assert!(flinkops(root, &["generate"]).status.success());
    assert_same_tree(&complete, &snapshot_tree(&root.join("out")));
}
