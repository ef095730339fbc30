//! Spec phase: reads a flinkops repository from disk into spanned TOML trees.
//!
//! In: the repository root. Out: a [`Repo`] holding every source file (for diagnostics and
//! provenance), the project table of `flinkops.toml`, each pipeline's name and resolved `extends`
//! chain, and the environments found under `overlays/`. A pipeline's merged table (templates
//! first, the pipeline file on top) is rebuilt from the kept text on demand
//! ([`Repo::pipeline_table`]): a monorepo's spanned trees would otherwise be the largest thing in
//! memory, and the compiler only needs a batch of them at a time. Nothing here knows what a key
//! means; that is the validate phase.

pub mod raw;
pub mod value;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::diag::{Diagnostic, Diagnostics, FileId, Loc, Sources};
pub use value::{Entry, Node, Table, Value};

/// Environment folder names that would collide with other folders of `out/`.
pub const RESERVED_ENV_NAMES: &[&str] = &["images", "argocd", "flux"];

/// The environment used when there is no overlay folder.
pub const BASE_ENV: &str = "base";

/// Everything read from a repository.
#[derive(Debug)]
pub struct Repo {
    pub root: PathBuf,
    pub sources: Sources,
    /// `flinkops.toml`; `None` when it could not be read or parsed (a diagnostic says why).
    pub project: Option<Table>,
    pub project_file: Option<FileId>,
    pub pipelines: Vec<PipelineSource>,
    pub envs: Vec<EnvSource>,
    /// Every template some pipeline extends, parsed, its own `extends` removed.
    templates: BTreeMap<FileId, Table>,
}

impl Repo {
    /// The pipeline's table with its `extends` chain merged in, re-parsed from the text `load`
    /// read (the same text, so the same tree). Parse problems were reported by `load`: a
    /// pipeline is only listed when its file parsed.
    pub fn pipeline_table(&self, ps: &PipelineSource) -> Table {
        let mut ignored = Diagnostics::default();
        let mut own = value::parse(ps.file, &self.sources.get(ps.file).text, &mut ignored)
            .unwrap_or_else(|| Table::empty(Loc { file: ps.file, span: 0..0 }));
        own.entries.shift_remove("extends");
        let (_, templates) = ps.chain.split_last().expect("a chain ends with the pipeline file");
        let mut layers = templates.iter().filter_map(|f| self.templates.get(f));
        let Some(first) = layers.next() else { return own };
        let mut merged = first.clone();
        for t in layers.chain(std::iter::once(&own)) {
            merged.merge(t);
            merged.loc = t.loc.clone();
        }
        merged
    }
}

/// One `pipelines/*.toml` file with its `extends` chain merged in.
#[derive(Debug, Clone)]
pub struct PipelineSource {
    pub file: FileId,
    /// The file name without `.toml`: the pipeline's default name.
    pub stem: String,
    /// The name the merged table declares (`name = …`), or the stem.
    pub name: String,
    /// The files merged into the pipeline's table: templates first (outermost first), the
    /// pipeline file last.
    pub chain: Vec<FileId>,
}

/// One environment: an `overlays/<env>/` folder, or the implicit `base`.
#[derive(Debug, Clone)]
pub struct EnvSource {
    pub name: String,
    /// `overlays/<env>/overlay.toml`, if the environment has one.
    pub file: Option<FileId>,
    pub table: Option<Table>,
    /// Where the env's name was found, for errors about the folder itself.
    pub loc: Option<Loc>,
}

/// Finds the nearest ancestor of `start` (itself included) that holds `flinkops.toml`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|d| d.join("flinkops.toml").is_file()).map(Path::to_path_buf)
}

/// Reads the whole repository. Every problem is pushed to `diags`; the returned `Repo` holds
/// whatever could be read so that later phases can still report their own problems.
pub fn load(root: &Path, diags: &mut Diagnostics) -> Repo {
    let mut repo = Repo {
        root: root.to_path_buf(),
        sources: Sources::default(),
        project: None,
        project_file: None,
        pipelines: vec![],
        envs: vec![],
        templates: BTreeMap::new(),
    };
    if let Some((id, t)) = read_toml(&mut repo.sources, root, "flinkops.toml", None, diags) {
        repo.project_file = Some(id);
        repo.project = t;
    }
    load_pipelines(&mut repo, diags);
    load_envs(&mut repo, diags);
    repo
}

fn load_pipelines(repo: &mut Repo, diags: &mut Diagnostics) {
    let dir = repo.root.join("pipelines");
    let mut names = match list_dir(&dir) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => vec![],
        Err(e) => {
            diags.push(Diagnostic::error(crate::diag::Code::Io, format!("cannot read pipelines/: {e}")));
            return;
        }
    };
    // SPEC §17: a pipeline in a subfolder would be silently dropped; say so instead.
    let mut folders: Vec<&String> = names.iter().filter(|n| !n.starts_with('.') && dir.join(n.as_str()).is_dir()).collect();
    folders.sort();
    for f in folders {
        for rel in toml_files_under(&repo.root, &format!("pipelines/{f}")) {
            ignored_file(
                repo,
                &rel,
                "flinkops reads only the files directly in pipelines/",
                format!("move it to pipelines/ (e.g. pipelines/{f}-{}), or to templates/ if other pipelines `extends` it", file_name(&rel)),
                diags,
            );
        }
    }
    names.retain(|n| n.ends_with(".toml") && dir.join(n).is_file());
    names.sort();
    // Read and parse on both cores; register, resolve `extends` and report in file order.
    use rayon::prelude::*;
    let read: Vec<(String, Result<ReadText, std::io::Error>)> = names
        .par_iter()
        .map(|name| {
            let rel = format!("pipelines/{name}");
            let text = read_text(&repo.root.join(&rel));
            (rel, text)
        })
        .collect();
    let registered: Vec<(String, Option<(FileId, bool)>)> = read
        .into_iter()
        .zip(&names)
        .map(|((rel, text), name)| (name.clone(), register(&mut repo.sources, &rel, text, None, diags)))
        .collect();
    // Templates are read once even when many pipelines extend them.
    let mut templates: BTreeMap<String, Option<(FileId, Table)>> = BTreeMap::new();
    // Parsed a chunk at a time: only the names and chains are kept, and a monorepo's trees
    // would be the largest thing in memory.
    for chunk in registered.chunks(256) {
        let parsed: Vec<Option<(FileId, Option<Table>, Diagnostics)>> = chunk
            .par_iter()
            .map(|(_, r)| {
                // Not read, or not UTF-8 (`register` reported it): nothing to parse.
                let (id, true) = (*r)? else { return None };
                let mut d = Diagnostics::default();
                let table = value::parse(id, &repo.sources.get(id).text, &mut d);
                Some((id, table, d))
            })
            .collect();
        for ((name, _), parsed) in chunk.iter().zip(parsed) {
            let Some((file, table, parse_diags)) = parsed else { continue };
            diags.extend(parse_diags);
            let Some(table) = table else { continue };
            let mut chain = vec![];
            let mut stack = vec![format!("pipelines/{name}")];
            let merged = resolve_extends(repo, table, &mut stack, &mut chain, &mut templates, diags);
            chain.push(file);
            let stem = name.trim_end_matches(".toml").to_string();
            let name = match merged.get("name").map(|e| &e.node.value) {
                Some(Value::String(s)) => s.clone(),
                _ => stem.clone(),
            };
            repo.pipelines.push(PipelineSource { file, stem, name, chain });
        }
    }
    repo.templates = templates
        .into_values()
        .flatten()
        .map(|(id, mut t)| {
            t.entries.shift_remove("extends");
            (id, t)
        })
        .collect();
}

/// Merges the `extends` chain under `table`. `stack` holds the files being resolved (cycle
/// detection); `chain` receives the template files, outermost first.
fn resolve_extends(
    repo: &mut Repo,
    mut table: Table,
    stack: &mut Vec<String>,
    chain: &mut Vec<FileId>,
    templates: &mut BTreeMap<String, Option<(FileId, Table)>>,
    diags: &mut Diagnostics,
) -> Table {
    let Some(entry) = table.entries.shift_remove("extends") else { return table };
    let Value::String(path) = &entry.node.value else {
        diags.push(
            Diagnostic::error(crate::diag::Code::WrongType, format!("`extends` must be a string, found {}", entry.node.value.type_name()))
                .at(&entry.node.loc)
                .label("expected a path such as \"templates/streaming.toml\""),
        );
        return table;
    };
    let rel = match normalize_repo_path(path) {
        Ok(r) => r,
        Err(why) => {
            diags.push(
                Diagnostic::error(crate::diag::Code::ExtendsOutsideRepository, format!("`extends` path {path:?} {why}"))
                    .at(&entry.node.loc)
                    .label("outside the repository")
                    .help("name a file under templates/, relative to the repository root"),
            );
            return table;
        }
    };
    if stack.contains(&rel) {
        let mut cycle = stack.clone();
        cycle.push(rel.clone());
        diags.push(
            Diagnostic::error(crate::diag::Code::ExtendsCycle, format!("`extends` cycle: {}", cycle.join(" → ")))
                .at(&entry.node.loc)
                .label("this extends a file that is already being extended")
                .help("remove one `extends` so the chain ends in a template that extends nothing"),
        );
        return table;
    }
    if !templates.contains_key(&rel) {
        let read = read_toml(&mut repo.sources, &repo.root, &rel, Some(&entry.node.loc), diags).and_then(|(id, t)| t.map(|t| (id, t)));
        templates.insert(rel.clone(), read);
    }
    let Some((tfile, ttable)) = templates.get(&rel).cloned().flatten() else { return table };
    stack.push(rel);
    let mut base = resolve_extends(repo, ttable, stack, chain, templates, diags);
    stack.pop();
    chain.push(tfile);
    base.merge(&table);
    base.loc = table.loc.clone();
    table = base;
    table
}

fn load_envs(repo: &mut Repo, diags: &mut Diagnostics) {
    let dir = repo.root.join("overlays");
    let mut names = match list_dir(&dir) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => vec![],
        Err(e) => {
            diags.push(Diagnostic::error(crate::diag::Code::Io, format!("cannot read overlays/: {e}")));
            vec![]
        }
    };
    names.retain(|n| !n.starts_with('.') && dir.join(n).is_dir());
    names.sort();
    if names.is_empty() {
        repo.envs.push(EnvSource { name: BASE_ENV.to_string(), file: None, table: None, loc: None });
        return;
    }
    for name in names {
        let rel = format!("overlays/{name}/overlay.toml");
        if RESERVED_ENV_NAMES.contains(&name.as_str()) {
            // Located at its overlay.toml when there is one (the folder itself has no place).
            let at = repo.root.join(&rel).is_file().then(|| file_start(repo, &rel));
            diags.push(
                Diagnostic::error(crate::diag::Code::ReservedEnvName, format!("environment name `{name}` is reserved"))
                    .at_opt(at.as_ref())
                    .label("this environment's folder name")
                    .note(format!("out/{name}/ already holds flinkops output ({})", RESERVED_ENV_NAMES.join(", ")))
                    .help(format!("rename overlays/{name}/ to another name, e.g. `{name}-env`")),
            );
            continue;
        }
        if !crate::names::is_dns1123_label(&name) {
            let at = folder_at(repo, &name);
            diags.push(
                Diagnostic::error(crate::diag::Code::InvalidName, format!("environment folder `overlays/{name}` is not a DNS-1123 label"))
                    .at_opt(at.as_ref())
                    .label("in this environment's folder")
                    .help("environment names appear in object names and labels: use lower-case letters, digits and `-`"),
            );
            continue;
        }
        let has_overlay = repo.root.join(&rel).is_file();
        // SPEC §17: any other TOML file in the environment's folder would be silently ignored
        // (a misnamed `overlays.toml` would even make an environment without its settings).
        let others: Vec<String> = toml_files_under(&repo.root, &format!("overlays/{name}")).into_iter().filter(|r| *r != rel).collect();
        for other in &others {
            let help = if has_overlay {
                format!("merge its settings into {rel} and delete it (patch files are JSON or YAML)")
            } else {
                format!("rename it to {rel}")
            };
            ignored_file(repo, other, "an environment's settings are read only from its overlay.toml", help, diags);
        }
        // A misnamed overlay was reported above, with the fix.
        if !has_overlay && others.is_empty() {
            let at = folder_at(repo, &name);
            diags.push(
                Diagnostic::error(crate::diag::Code::EnvWithoutOverlay, format!("environment folder `overlays/{name}` has no overlay.toml"))
                    .at_opt(at.as_ref())
                    .label("in this environment's folder")
                    .note("every folder under overlays/ is an environment; without overlay.toml its namespace and settings would silently be the defaults")
                    .help(format!("create {rel} (an empty file is enough for an environment without overrides), or remove the folder")),
            );
        }
        let (file, table) = if has_overlay {
            match read_toml(&mut repo.sources, &repo.root, &rel, None, diags) {
                Some((id, t)) => (Some(id), t),
                None => (None, None),
            }
        } else {
            (None, None)
        };
        repo.envs.push(EnvSource { name, file, table, loc: None });
    }
}

/// The `.toml` files under `rel` (recursively, hidden entries skipped), repository-relative and sorted.
fn toml_files_under(root: &Path, rel: &str) -> Vec<String> {
    let mut out: Vec<String> = walkdir::WalkDir::new(root.join(rel))
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "toml"))
        .filter_map(|e| repo_relative(root, e.path()))
        .collect();
    out.sort();
    out
}

fn file_name(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap_or(rel)
}

/// The start of a file that is not otherwise read (a problem about the file, or about the folder
/// holding it), registered as a source so that the problem is located there. Its text is decoded
/// lossily: it only has to show line 1.
fn file_start(repo: &mut Repo, rel: &str) -> Loc {
    let text = std::fs::read(repo.root.join(rel)).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    Loc { file: repo.sources.add(rel, text), span: 0..0 }
}

/// Where a problem about the environment folder `overlays/<name>/` itself is located: the start
/// of its first file (in path order, hidden entries skipped), since a folder has no line of its
/// own (SPEC §17 wants every problem located).
///
/// `None` only for a folder without any file. Such a folder cannot be committed — git tracks
/// files, not folders, so a clone never has an empty one — and so exists only in a working
/// copy, where an unlocated error naming the folder is as precise as anything could be.
fn folder_at(repo: &mut Repo, name: &str) -> Option<Loc> {
    let rel = walkdir::WalkDir::new(repo.root.join("overlays").join(name))
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(Result::ok)
        .find(|e| e.file_type().is_file())
        .and_then(|e| repo_relative(&repo.root, e.path()))?;
    Some(file_start(repo, &rel))
}

/// A path under `root` as a repository-relative path with `/` separators.
fn repo_relative(root: &Path, path: &Path) -> Option<String> {
    let p = path.strip_prefix(root).ok()?;
    Some(p.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"))
}

/// Reports a file flinkops would otherwise ignore, located at the file itself (SPEC §17).
fn ignored_file(repo: &mut Repo, rel: &str, why: &str, help: String, diags: &mut Diagnostics) {
    let at = file_start(repo, rel);
    diags.push(
        Diagnostic::error(crate::diag::Code::IgnoredFile, format!("`{rel}` would be ignored"))
            .at(&at)
            .label("flinkops never reads this file")
            .note(why.to_string())
            .help(help),
    );
}

fn list_dir(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if let Some(n) = e.file_name().to_str() {
            out.push(n.to_string());
        }
    }
    Ok(out)
}

/// A file's text: valid UTF-8, or (for the error message) decoded lossily with the offset of
/// the first invalid byte.
enum ReadText {
    Utf8(String),
    Invalid { lossy: String, at: usize },
}

fn read_text(path: &Path) -> std::io::Result<ReadText> {
    let bytes = std::fs::read(path)?;
    Ok(match String::from_utf8(bytes) {
        Ok(t) => ReadText::Utf8(t),
        Err(e) => ReadText::Invalid { at: e.utf8_error().valid_up_to(), lossy: String::from_utf8_lossy(e.as_bytes()).into_owned() },
    })
}

/// Registers what was read as a source file and reports what went wrong. Returns the file id
/// (when the file could be read) and whether its text is valid UTF-8 (worth parsing). `from` is
/// where the file was referenced, for "missing file".
fn register(
    sources: &mut Sources,
    rel: &str,
    read: std::io::Result<ReadText>,
    from: Option<&Loc>,
    diags: &mut Diagnostics,
) -> Option<(FileId, bool)> {
    match read {
        Ok(ReadText::Utf8(text)) => Some((sources.add(rel, text), true)),
        Ok(ReadText::Invalid { lossy, at }) => {
            let id = sources.add(rel, lossy);
            diags.push(
                Diagnostic::error(crate::diag::Code::NotUtf8, format!("`{rel}` is not valid UTF-8"))
                    .at(&Loc { file: id, span: at..at + 1 })
                    .label("invalid byte")
                    .help("TOML files must be UTF-8: re-save the file with UTF-8 encoding"),
            );
            Some((id, false))
        }
        Err(e) => {
            let (what, code) = if e.kind() == std::io::ErrorKind::NotFound {
                (format!("file `{rel}` not found"), crate::diag::Code::FileNotFound)
            } else {
                (format!("cannot read `{rel}`: {e}"), crate::diag::Code::Io)
            };
            let mut d = Diagnostic::error(code, what).at_opt(from).label("referenced here");
            if rel == "flinkops.toml" {
                d = d.help("run `flinkops init` to scaffold a repository, or pass --root DIR");
            }
            diags.push(d);
            None
        }
    }
}

/// Reads and parses one TOML file. Returns the file id (when the file could be read) and the
/// table (when it also parsed). `from` is where the file was referenced, for "missing file".
fn read_toml(
    sources: &mut Sources,
    root: &Path,
    rel: &str,
    from: Option<&Loc>,
    diags: &mut Diagnostics,
) -> Option<(FileId, Option<Table>)> {
    let (id, utf8) = register(sources, rel, read_text(&root.join(rel)), from, diags)?;
    let table = if utf8 { value::parse(id, &sources.get(id).text, diags) } else { None };
    Some((id, table))
}

/// Checks that a user-written path is relative and stays inside the repository; returns it
/// normalized (no `.`, no `..`, `/` separators).
pub fn normalize_repo_path(path: &str) -> Result<String, &'static str> {
    let p = Path::new(path);
    if path.is_empty() {
        return Err("is empty");
    }
    let mut parts: Vec<String> = vec![];
    for c in p.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err("leaves the repository");
                }
            }
            Component::RootDir | Component::Prefix(_) => return Err("is absolute; paths are relative to the repository root"),
        }
    }
    if parts.is_empty() {
        return Err("names the repository root, not a file");
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_paths_must_stay_inside_the_repository() {
        assert_eq!(normalize_repo_path("templates/a.toml"), Ok("templates/a.toml".into()));
        assert_eq!(normalize_repo_path("./templates/../templates/a.toml"), Ok("templates/a.toml".into()));
        assert!(normalize_repo_path("../other/a.toml").is_err());
        assert!(normalize_repo_path("/etc/passwd").is_err());
        assert!(normalize_repo_path("templates/../../a.toml").is_err());
    }
}
