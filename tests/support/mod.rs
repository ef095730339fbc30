//! Helpers shared by the integration tests (`mod support;`): temporary copies of repositories
//! and running the built binary. The strict schema oracle beside it, `schemas.rs`, is included
//! only by the tests that validate manifests (`#[path = "support/schemas.rs"] mod schemas;`), so
//! the others do not compile it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

/// The project's own repository root (which is also the worked example).
pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(from).unwrap();
        let dest = to.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// Copies a repository's specs (everything but `out/`, `target/` and `.git/`).
pub fn copy_specs(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from).into_iter().filter_entry(|e| {
        let rel = e.path().strip_prefix(from).unwrap();
        !(rel.starts_with("out") || rel.starts_with("target") || rel.starts_with(".git"))
    }) {
        let e = e.unwrap();
        let dest = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// A temporary copy of the worked example (specs, jobs and the committed out/).
pub fn example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = project_root();
    for item in ["flinkops.toml", "pipelines", "templates", "overlays", "jobs", "out"] {
        let src = root.join(item);
        if src.is_dir() {
            copy_tree(&src, &dir.path().join(item));
        } else if src.is_file() {
            std::fs::copy(&src, dir.path().join(item)).unwrap();
        }
    }
    dir
}

/// Runs the flinkops binary with `args` in `cwd`.
pub fn flinkops(cwd: &Path, args: &[&str]) -> Output {
    assert_cmd::Command::cargo_bin("flinkops").unwrap().current_dir(cwd).args(args).env("NO_COLOR", "1").output().unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every file under `dir` with its bytes, keyed by relative path.
pub fn snapshot_tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut m = std::collections::BTreeMap::new();
    if !dir.exists() {
        return m;
    }
    for e in walkdir::WalkDir::new(dir) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
            m.insert(rel, std::fs::read(e.path()).unwrap());
        }
    }
    m
}

/// Writes `content` to `root/rel`, creating folders.
pub fn write(root: &Path, rel: &str, content: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

/// Asserts two trees are byte-identical, naming the files that differ (not dumping bytes).
#[track_caller]
pub fn assert_same_tree(a: &std::collections::BTreeMap<String, Vec<u8>>, b: &std::collections::BTreeMap<String, Vec<u8>>) {
    let mut diffs = vec![];
    for (k, v) in a {
        match b.get(k) {
            None => diffs.push(format!("only in the first: {k}")),
            Some(w) if w != v => diffs.push(format!("differs: {k}")),
            _ => {}
        }
    }
    diffs.extend(b.keys().filter(|k| !a.contains_key(*k)).map(|k| format!("only in the second: {k}")));
    assert!(diffs.is_empty(), "trees differ:\n{}", diffs.join("\n"));
}
