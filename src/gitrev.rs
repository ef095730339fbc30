//! The old side of `diff --against REF` (SPEC §15): the `out/` of a git revision, read through
//! git — `git ls-tree` for the file list, one `git cat-file --batch` process for the contents —
//! with no checkout and no change to the working tree or the index.
//!
//! In: the repository root (which may be a subfolder of the git work tree), a revision, and the
//! files of a run handed over as they are emitted ([`Sink`]). Out: the same [`Outcome`] as
//! [`crate::sync::Disk::compare`], with the revision's `out/` as the old side. Like the disk
//! sink, it keeps only the files that differ.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use crate::diag::{Code, Diagnostic};
use crate::sync::{Change, Outcome, Scope, Sink, Status};

/// Why the revision's `out/` cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("`{0}` is not inside a git repository, so `--against` has no history to read")]
    NotARepository(String),
    #[error("unknown git revision `{0}`")]
    UnknownRevision(String),
    #[error("cannot run git: {0}")]
    Spawn(std::io::Error),
    #[error("git failed: {0}")]
    Failed(String),
}

impl GitError {
    /// The stable code: the user's input (E6xx, exit 2) or the machine (E9xx, exit 3).
    pub fn code(&self) -> Code {
        match self {
            GitError::NotARepository(_) => Code::NotAGitRepository,
            GitError::UnknownRevision(_) => Code::UnknownRevision,
            GitError::Spawn(_) | GitError::Failed(_) => Code::GitFailed,
        }
    }
}

impl From<GitError> for Diagnostic {
    fn from(e: GitError) -> Diagnostic {
        let d = Diagnostic::error(e.code(), e.to_string());
        match e {
            GitError::NotARepository(_) => d.help("run inside a git clone, or leave out --against to compare with out/ on disk"),
            GitError::UnknownRevision(_) => {
                d.help("name a branch, tag or commit this clone has (in CI, fetch it first, e.g. `git fetch origin main`)")
            }
            GitError::Spawn(_) | GitError::Failed(_) => d,
        }
    }
}

fn git(root: &Path) -> Command {
    let mut c = Command::new("git");
    // Plain, locale-independent output; no pager, no prompts.
    c.current_dir(root).env("LC_ALL", "C").env("GIT_TERMINAL_PROMPT", "0").env_remove("GIT_DIR").env_remove("GIT_WORK_TREE");
    c
}

fn run(root: &Path, args: &[&str]) -> Result<std::process::Output, GitError> {
    git(root).args(args).stdin(Stdio::null()).output().map_err(GitError::Spawn)
}

/// One blob of the revision's `out/`.
#[derive(Debug, Clone)]
struct Entry {
    oid: String,
}

/// A running `git cat-file --batch`: one request, one answer (git flushes after each object).
struct CatFile {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl CatFile {
    fn start(root: &Path) -> Result<CatFile, GitError> {
        let mut child = git(root)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(GitError::Spawn)?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        Ok(CatFile { child, stdin, stdout })
    }

    fn read(&mut self, oid: &str) -> Result<Vec<u8>, GitError> {
        let failed = |e: std::io::Error| GitError::Failed(format!("git cat-file: {e}"));
        writeln!(self.stdin, "{oid}").and_then(|_| self.stdin.flush()).map_err(failed)?;
        let mut header = String::new();
        self.stdout.read_line(&mut header).map_err(failed)?;
        // `<oid> blob <size>`, or `<oid> missing`.
        let size: usize = match header.split_whitespace().collect::<Vec<_>>()[..] {
            [_, "blob", size] => size.parse().map_err(|_| GitError::Failed(format!("git cat-file: bad header `{}`", header.trim())))?,
            _ => return Err(GitError::Failed(format!("git cat-file: `{}`", header.trim()))),
        };
        let mut bytes = vec![0; size + 1];
        self.stdout.read_exact(&mut bytes).map_err(failed)?;
        bytes.pop(); // the newline after the contents
        Ok(bytes)
    }
}

impl Drop for CatFile {
    fn drop(&mut self) {
        // git would end at the end of its input; killing it is as safe (it only reads) and
        // cannot block. Wait so that no zombie is left.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Compares each file with the revision's `out/` as it arrives; keeps only the differences.
pub struct GitCompare {
    tree: HashMap<String, Entry>,
    cat: Mutex<Option<CatFile>>,
    root: std::path::PathBuf,
    produced: Mutex<HashSet<String>>,
    changes: Mutex<Vec<Change>>,
    error: Mutex<Option<GitError>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl GitCompare {
    /// Lists `out/` at `rev` for the repository rooted at `root`. A revision without `out/`
    /// has an empty old side (everything is added).
    pub fn open(root: &Path, rev: &str) -> Result<GitCompare, GitError> {
        let prefix = run(root, &["rev-parse", "--show-prefix"])?;
        if !prefix.status.success() {
            return Err(GitError::NotARepository(root.display().to_string()));
        }
        let prefix = String::from_utf8_lossy(&prefix.stdout).trim_end_matches('\n').to_string();
        // `--end-of-options` keeps a revision starting with `-` from being read as an option.
        let commit = run(root, &["rev-parse", "--verify", "--quiet", "--end-of-options", &format!("{rev}^{{commit}}")])?;
        if !commit.status.success() || rev.is_empty() {
            return Err(GitError::UnknownRevision(rev.to_string()));
        }
        let commit = String::from_utf8_lossy(&commit.stdout).trim().to_string();
        let mut tree = HashMap::new();
        let out_tree = format!("{commit}:{prefix}out");
        let has_out = run(root, &["rev-parse", "--verify", "--quiet", &out_tree])?.status.success();
        if has_out {
            // `--full-tree`: in a subfolder, ls-tree would otherwise list only paths under that subfolder.
            let ls = run(root, &["ls-tree", "--full-tree", "-r", "-z", &out_tree])?;
            if !ls.status.success() {
                return Err(GitError::Failed(String::from_utf8_lossy(&ls.stderr).trim().to_string()));
            }
            for rec in ls.stdout.split(|b| *b == 0).filter(|r| !r.is_empty()) {
                // `<mode> SP <type> SP <oid> TAB <path>`
                let rec = String::from_utf8_lossy(rec);
                let Some((meta, path)) = rec.split_once('\t') else { continue };
                let fields: Vec<&str> = meta.split(' ').collect();
                if let [_, "blob", oid] = fields[..] {
                    tree.insert(format!("out/{path}"), Entry { oid: oid.to_string() });
                }
            }
        }
        Ok(GitCompare {
            tree,
            cat: Mutex::new(None),
            root: root.to_path_buf(),
            produced: Mutex::new(HashSet::new()),
            changes: Mutex::new(vec![]),
            error: Mutex::new(None),
        })
    }

    fn blob(&self, oid: &str) -> Result<Vec<u8>, GitError> {
        let mut cat = lock(&self.cat);
        if cat.is_none() {
            *cat = Some(CatFile::start(&self.root)?);
        }
        cat.as_mut().expect("started").read(oid)
    }

    /// The changes, sorted by path: files the revision lacks (added), holds with other bytes
    /// (modified), and holds inside `scope` but the run did not produce (removed).
    pub fn finish(self, scope: &Scope) -> Result<Outcome, GitError> {
        if let Some(e) = lock(&self.error).take() {
            return Err(e);
        }
        let produced = std::mem::take(&mut *lock(&self.produced));
        let mut changes = std::mem::take(&mut *lock(&self.changes));
        let mut stray: Vec<(&String, &Entry)> = self.tree.iter().filter(|(p, _)| !produced.contains(*p) && scope.owns(p)).collect();
        stray.sort_by(|a, b| a.0.cmp(b.0));
        for (path, e) in stray {
            let old = self.blob(&e.oid)?;
            changes.push(Change { path: path.clone(), status: Status::Removed, old: Some(old), new: None });
        }
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Outcome { changes, files: produced.len() })
    }
}

impl Sink for GitCompare {
    fn put(&self, path: String, bytes: Vec<u8>) {
        lock(&self.produced).insert(path.clone());
        let change = match self.tree.get(&path) {
            None => Change { path, status: Status::Added, old: None, new: Some(bytes) },
            Some(e) => match self.blob(&e.oid) {
                Ok(old) if old == bytes => return,
                Ok(old) => Change { path, status: Status::Modified, old: Some(old), new: Some(bytes) },
                Err(err) => {
                    lock(&self.error).get_or_insert(err);
                    return;
                }
            },
        };
        lock(&self.changes).push(change);
    }
}

/// Hands every file to two sinks (`check --against`: the drift check and the impacts).
pub struct Tee<'a>(pub &'a dyn Sink, pub &'a dyn Sink);

impl Sink for Tee<'_> {
    fn put(&self, path: String, bytes: Vec<u8>) {
        self.0.put(path.clone(), bytes.clone());
        self.1.put(path, bytes);
    }
}
