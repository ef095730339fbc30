//! Day-2 phase: operations on a running pipeline (savepoint, restore, suspend, resume, restart)
//! as reviewed git changes (SPEC §11). Nothing here contacts a cluster.
//!
//! In: the repository root, a [`Request`] (operation, pipeline, optional environment) and the
//! [`Compiled`] repository *before* the change (it holds the values in effect after
//! template → pipeline → overlay merging). Out: a [`Plan`] — the one TOML file that owns the
//! setting (the overlay's `[pipelines.<name>]` with an environment, else the pipeline file, never
//! its template), its bytes before and after a format-preserving edit (`toml_edit`: comments,
//! order and spacing stay; only the keys the operation names change), and a suggested commit
//! message. [`Plan::write`] and [`Plan::revert`] put the new bytes on disk and take them back; the
//! CLI regenerates `out/` in between, exactly as `generate` does, and reverts when the edited
//! repository does not compile.
//!
//! Where a key is written:
//! - pipeline file: the root `[job]` table (or `job` as dotted keys / an inline table, whatever
//!   the file already uses); a missing `[job]` table is created, before any `[[tasks]]`.
//! - overlay: the table `[pipelines.<name>]`, created (and the file too) when missing. The key goes
//!   into an existing `job` table of any form; otherwise as a dotted key `job.<key> = …` inside
//!   `[pipelines.<name>]` (the style of SPEC §8), unless that table only holds sub-tables
//!   (`[pipelines.<name>.resources]`), where a `[pipelines.<name>.job]` table fits better.
//!
//! Without an environment the edit lands in the pipeline file, so it reaches every environment
//! whose overlay does not override the key. A nonce becomes one more than the value in effect in
//! those environments (they all see the same value: the one the pipeline file and its template
//! give); environments whose overlay overrides the key are reported, and an edit that would reach
//! no environment at all is refused.

use std::collections::BTreeMap;
use std::path::Path;

use toml_edit::{DocumentMut, InlineTable, Item, Table, Value};

use crate::compile::Compiled;
use crate::diag::Diagnostics;
use crate::model::{JobState, Pipeline, UpgradeMode};
use crate::spec;
use crate::sync::{Change, Status};
use crate::validate::read::suggest;

/// What to do to the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// Bump `job.savepoint_nonce` (the operator takes a savepoint).
    Savepoint,
    /// Set `job.initial_savepoint` and bump `job.redeploy_nonce` (redeploy from that savepoint).
    Restore { from: String },
    /// Set `job.state = "suspended"`.
    Suspend,
    /// Set `job.state = "running"`.
    Resume,
    /// Bump `job.restart_nonce`.
    Restart,
}

impl Operation {
    /// The command name, as typed on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::Savepoint => "savepoint",
            Operation::Restore { .. } => "restore",
            Operation::Suspend => "suspend",
            Operation::Resume => "resume",
            Operation::Restart => "restart",
        }
    }

    /// The `[job]` keys this operation writes.
    pub fn keys(&self) -> &'static [&'static str] {
        match self {
            Operation::Savepoint => &["savepoint_nonce"],
            Operation::Restore { .. } => &["initial_savepoint", "redeploy_nonce"],
            Operation::Suspend | Operation::Resume => &["state"],
            Operation::Restart => &["restart_nonce"],
        }
    }
}

/// One day-2 command.
#[derive(Debug, Clone)]
pub struct Request {
    pub operation: Operation,
    /// The pipeline's name (its `name`, or its file stem).
    pub pipeline: String,
    /// `--env`: edit this environment's overlay instead of the pipeline file.
    pub env: Option<String>,
}

/// The file that owns the setting, found before anything is compiled.
#[derive(Debug, Clone)]
pub struct Target {
    /// The pipeline's declared name.
    pub pipeline: String,
    /// The environment named with `--env`.
    pub env: Option<String>,
    /// Repository-relative path of the file to edit.
    pub file: String,
    /// Whether `file` is an overlay (the key goes into `[pipelines.<name>]`).
    pub overlay: bool,
    /// Every environment of the repository.
    pub envs: Vec<String>,
    /// Environment → the `job` keys its overlay sets for this pipeline.
    pub overridden: BTreeMap<String, Vec<String>>,
}

/// A `[job]` key and the value written to it (TOML syntax).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub value: String,
}

/// The edit a day-2 command makes, computed but not yet written.
#[derive(Debug, Clone)]
pub struct Plan {
    pub target: Target,
    pub operation: Operation,
    /// The keys written, in order.
    pub settings: Vec<Setting>,
    /// The file's bytes before the edit; `None` when the edit creates it.
    pub old: Option<Vec<u8>>,
    pub new: Vec<u8>,
    /// Environments the edit reaches (where the written value is the one in effect).
    pub reached: Vec<String>,
    /// Environments whose overlay overrides a written key, so the edit does not reach them.
    pub shadowed: Vec<String>,
    /// Facts worth telling the operator (e.g. "stateless: suspend drops the state").
    pub notes: Vec<String>,
    /// One-line suggested commit message, e.g. `flink-realtime-features(prod): savepoint #4`.
    pub message: String,
}

/// What a day-2 command will do.
#[derive(Debug, Clone)]
pub enum Planned {
    Edit(Box<Plan>),
    /// The requested state is already in effect everywhere the edit would reach.
    AlreadyInEffect {
        pipeline: String,
        state: String,
        envs: Vec<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum Day2Error {
    #[error("unknown pipeline `{name}`")]
    UnknownPipeline { name: String, suggestion: Option<String>, known: Vec<String> },
    #[error("unknown environment `{name}`")]
    UnknownEnv { name: String, suggestion: Option<String>, known: Vec<String> },
    #[error("`--from {path}` is not a savepoint URI")]
    NotAUri { path: String },
    #[error("pipeline `{pipeline}` has no `flink.savepoint_dir` in {}: a savepoint needs somewhere to go", envs_phrase(envs))]
    NoSavepointDir { pipeline: String, envs: Vec<String> },
    #[error(
        "{} for pipeline `{pipeline}` in every environment ({}), so an edit of {file} would change nothing",
        overrides_phrase(keys),
        overlays.join(", ")
    )]
    Shadowed { pipeline: String, keys: Vec<String>, file: String, overlays: Vec<String> },
    #[error("`job.{key}` of pipeline `{pipeline}` is already {value}, the largest value a nonce can hold")]
    NonceExhausted { pipeline: String, key: String, value: i64 },
    #[error("cannot edit `{file}`: {reason}")]
    Uneditable { file: String, reason: String },
    #[error("pipeline `{pipeline}` is missing from the compiled environment `{env}`")]
    NotCompiled { pipeline: String, env: String },
    #[error("cannot {action} `{path}`: {source}")]
    Io { action: &'static str, path: String, source: std::io::Error },
}

fn envs_phrase(envs: &[String]) -> String {
    match envs {
        [one] => format!("env `{one}`"),
        many => format!("envs {}", many.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ")),
    }
}

fn overrides_phrase(keys: &[String]) -> String {
    let keys: Vec<String> = keys.iter().map(|k| format!("`job.{k}`")).collect();
    format!("the overlays set {}", keys.join(" or "))
}

impl Day2Error {
    /// A hint for the `= help:` line, when there is a useful one.
    pub fn help(&self) -> Option<String> {
        match self {
            Day2Error::UnknownPipeline { suggestion: Some(s), .. } | Day2Error::UnknownEnv { suggestion: Some(s), .. } => {
                Some(format!("did you mean `{s}`?"))
            }
            Day2Error::NotAUri { .. } => {
                Some("give the savepoint's full path with its scheme, e.g. s3://bucket/savepoints/savepoint-3f2a1b-8c1d2e3f4a5b".into())
            }
            Day2Error::NoSavepointDir { .. } => {
                Some("add `savepoint_dir = \"s3://flink/{env}/{name}/savepoints\"` to the pipeline's [flink] table".into())
            }
            Day2Error::Shadowed { overlays, .. } => Some(format!(
                "edit one environment with --env {}",
                overlays.iter().map(|o| o.split('/').nth(1).unwrap_or(o)).collect::<Vec<_>>().join(" or --env ")
            )),
            Day2Error::Uneditable { .. } => Some("fix the file by hand, or move the key into a `[job]` table".into()),
            _ => None,
        }
    }

    /// A fact for the `= note:` line: for an unknown name, the names there are.
    pub fn note(&self) -> Option<String> {
        match self {
            Day2Error::UnknownPipeline { known, .. } if known.is_empty() => Some("there is no pipeline under pipelines/".into()),
            Day2Error::UnknownPipeline { known, .. } => Some(format!("pipelines: {}", known.join(", "))),
            Day2Error::UnknownEnv { known, .. } => Some(format!("environments: {}", known.join(", "))),
            _ => None,
        }
    }

    /// Whether the error is the user's input (exit 2) rather than I/O or a bug (exit 3).
    pub fn is_invalid_input(&self) -> bool {
        !matches!(self, Day2Error::Io { .. } | Day2Error::NotCompiled { .. })
    }
}

pub use crate::validate::pipeline::is_uri;

/// Finds the pipeline, the environment and the file that owns the setting. Checks the names and
/// the `--from` path; reads the repository but compiles nothing.
pub fn locate(root: &Path, req: &Request) -> Result<Target, Day2Error> {
    let mut ignored = Diagnostics::default();
    let repo = spec::load(root, &mut ignored);

    // Environment first: it decides which overlay is read.
    let envs: Vec<String> = repo.envs.iter().map(|e| e.name.clone()).collect();
    if let Some(want) = &req.env
        && !envs.contains(want)
    {
        let refs: Vec<&str> = envs.iter().map(String::as_str).collect();
        return Err(Day2Error::UnknownEnv {
            name: want.clone(),
            suggestion: suggest(want, &refs).map(str::to_string),
            known: envs.clone(),
        });
    }

    // Pipelines by declared name, then by file stem. A pipeline file that does not parse is
    // still a pipeline (by its stem): the compile step reports what is wrong with it.
    let mut known: Vec<(String, String, String)> =
        repo.pipelines.iter().map(|p| (p.name.clone(), p.stem.clone(), repo.sources.path(p.file).to_string())).collect();
    if let Ok(rd) = std::fs::read_dir(root.join("pipelines")) {
        let mut unparsed = vec![];
        for e in rd.flatten() {
            let file = e.file_name().to_string_lossy().into_owned();
            if let Some(stem) = file.strip_suffix(".toml")
                && e.path().is_file()
                && !known.iter().any(|(_, s, _)| s == stem)
            {
                unparsed.push((stem.to_string(), stem.to_string(), format!("pipelines/{file}")));
            }
        }
        unparsed.sort();
        known.extend(unparsed);
    }
    let found = known.iter().find(|(n, _, _)| n == &req.pipeline).or_else(|| known.iter().find(|(_, s, _)| s == &req.pipeline));
    let Some((name, _, pipeline_file)) = found else {
        let mut names: Vec<String> = known.iter().map(|(n, _, _)| n.clone()).collect();
        names.sort();
        names.dedup();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        return Err(Day2Error::UnknownPipeline {
            name: req.pipeline.clone(),
            suggestion: suggest(&req.pipeline, &refs).map(str::to_string),
            known: names,
        });
    };

    if let Operation::Restore { from } = &req.operation
        && !is_uri(from)
    {
        return Err(Day2Error::NotAUri { path: from.clone() });
    }

    // Which job keys each overlay sets for this pipeline.
    let mut overridden = BTreeMap::new();
    for e in &repo.envs {
        let job =
            e.table.as_ref().and_then(|t| sub_table(t, "pipelines")).and_then(|t| sub_table(t, name)).and_then(|t| sub_table(t, "job"));
        if let Some(job) = job {
            overridden.insert(e.name.clone(), job.entries.keys().cloned().collect());
        }
    }

    // With --env, the overlay — unless the env is the implicit `base` of a repo without
    // overlays/, which has no overlay: its settings live in the pipeline file.
    let (file, overlay) = match &req.env {
        Some(env) if root.join("overlays").join(env).is_dir() => (format!("overlays/{env}/overlay.toml"), true),
        _ => (pipeline_file.clone(), false),
    };
    Ok(Target { pipeline: name.clone(), env: req.env.clone(), file, overlay, envs, overridden })
}

fn sub_table<'a>(t: &'a spec::Table, key: &str) -> Option<&'a spec::Table> {
    match t.get(key).map(|e| &e.node.value) {
        Some(spec::Value::Table(t)) => Some(t),
        _ => None,
    }
}

/// Computes the edit: the values in effect come from `before`, the repository compiled (for the
/// target's environment, or all of them) before the change.
pub fn plan(root: &Path, req: &Request, target: &Target, before: &Compiled) -> Result<Planned, Day2Error> {
    let keys: Vec<String> = req.operation.keys().iter().map(|k| k.to_string()).collect();

    // The environments the edit reaches.
    let (reached, shadowed): (Vec<String>, Vec<String>) = match &target.env {
        Some(env) => (vec![env.clone()], vec![]),
        None => {
            target.envs.iter().cloned().partition(|e| !target.overridden.get(e).is_some_and(|set| set.iter().any(|k| keys.contains(k))))
        }
    };
    if reached.is_empty() {
        return Err(Day2Error::Shadowed {
            pipeline: target.pipeline.clone(),
            keys,
            file: target.file.clone(),
            overlays: shadowed.iter().map(|e| format!("overlays/{e}/overlay.toml")).collect(),
        });
    }
    let mut in_effect: Vec<&Pipeline> = vec![];
    for env in &reached {
        let p = before.pipelines.iter().find(|p| p.name == target.pipeline && &p.env == env);
        in_effect.push(p.ok_or_else(|| Day2Error::NotCompiled { pipeline: target.pipeline.clone(), env: env.clone() })?);
    }

    let bump = |key: &str, get: fn(&Pipeline) -> i64| -> Result<i64, Day2Error> {
        let current = in_effect.iter().map(|p| get(p)).max().unwrap_or(0);
        current.checked_add(1).ok_or_else(|| Day2Error::NonceExhausted {
            pipeline: target.pipeline.clone(),
            key: key.to_string(),
            value: current,
        })
    };
    let scope = match &target.env {
        Some(env) => format!("{}({env})", target.pipeline),
        None => target.pipeline.clone(),
    };
    let mut notes = vec![];
    let (settings, message): (Vec<(&str, Value)>, String) = match &req.operation {
        Operation::Savepoint => {
            let missing: Vec<String> = in_effect.iter().filter(|p| p.flink.savepoint_dir.is_none()).map(|p| p.env.clone()).collect();
            if !missing.is_empty() {
                return Err(Day2Error::NoSavepointDir { pipeline: target.pipeline.clone(), envs: missing });
            }
            for p in in_effect.iter().filter(|p| p.job.state == JobState::Suspended) {
                notes.push(format!("env `{}`: job.state is \"suspended\" there, and the operator savepoints running jobs only", p.env));
            }
            let n = bump("savepoint_nonce", |p| p.job.savepoint_nonce)?;
            (vec![("savepoint_nonce", Value::from(n))], format!("{scope}: savepoint #{n}"))
        }
        Operation::Restore { from } => {
            let n = bump("redeploy_nonce", |p| p.job.redeploy_nonce)?;
            (
                vec![("initial_savepoint", Value::from(from.as_str())), ("redeploy_nonce", Value::from(n))],
                format!("{scope}: restore from {from} (#{n})"),
            )
        }
        Operation::Suspend | Operation::Resume => {
            let want = if req.operation == Operation::Suspend { JobState::Suspended } else { JobState::Running };
            let state = want.as_str();
            if in_effect.iter().all(|p| p.job.state == want) {
                return Ok(Planned::AlreadyInEffect { pipeline: target.pipeline.clone(), state: state.into(), envs: reached });
            }
            if req.operation == Operation::Suspend {
                for p in in_effect.iter().filter(|p| p.job.upgrade_mode == UpgradeMode::Stateless) {
                    notes.push(format!(
                        "env `{}`: upgrade_mode is stateless, so suspending drops the job's state; `resume` starts it from scratch{}",
                        p.env,
                        if p.job.initial_savepoint.is_some() { " (or from initial_savepoint)" } else { "" }
                    ));
                }
            }
            (vec![("state", Value::from(state))], format!("{scope}: {}", req.operation.name()))
        }
        Operation::Restart => {
            let n = bump("restart_nonce", |p| p.job.restart_nonce)?;
            (vec![("restart_nonce", Value::from(n))], format!("{scope}: restart #{n}"))
        }
    };

    let path = root.join(&target.file);
    let old = match std::fs::read(&path) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && target.overlay => None,
        Err(source) => return Err(Day2Error::Io { action: "read", path: target.file.clone(), source }),
    };
    let uneditable = |reason: String| Day2Error::Uneditable { file: target.file.clone(), reason };
    let text = match &old {
        Some(b) => String::from_utf8(b.clone()).map_err(|_| uneditable("it is not valid UTF-8".into()))?,
        None => String::new(),
    };
    let owner = if target.overlay { Owner::Overlay { pipeline: &target.pipeline } } else { Owner::PipelineFile };
    let new = edit(&text, owner, &settings).map_err(uneditable)?;

    Ok(Planned::Edit(Box::new(Plan {
        target: target.clone(),
        operation: req.operation.clone(),
        settings: settings.iter().map(|(k, v)| Setting { key: k.to_string(), value: raw(v) }).collect(),
        old,
        new: new.into_bytes(),
        reached,
        shadowed,
        notes,
        message,
    })))
}

impl Plan {
    /// Writes the edited file (atomically: a temporary file renamed into place).
    pub fn write(&self, root: &Path) -> Result<(), Day2Error> {
        write_atomically(root, &self.target.file, &self.new)
    }

    /// Puts the file back as it was: its old bytes, or no file at all when the edit created it.
    pub fn revert(&self, root: &Path) -> Result<(), Day2Error> {
        match &self.old {
            Some(old) => write_atomically(root, &self.target.file, old),
            None => std::fs::remove_file(root.join(&self.target.file))
                .or_else(|e| if e.kind() == std::io::ErrorKind::NotFound { Ok(()) } else { Err(io("remove", &self.target.file)(e)) }),
        }
    }

    /// The edit as a [`Change`], for [`crate::sync::unified_diff`].
    pub fn change(&self) -> Change {
        Change {
            path: self.target.file.clone(),
            status: if self.old.is_some() { Status::Modified } else { Status::Added },
            old: self.old.clone(),
            new: Some(self.new.clone()),
        }
    }

    /// `job.savepoint_nonce = 4`, `job.initial_savepoint = "s3://…", job.redeploy_nonce = 2`.
    pub fn summary(&self) -> String {
        self.settings.iter().map(|s| format!("job.{} = {}", s.key, s.value)).collect::<Vec<_>>().join(", ")
    }
}

fn io<'a>(action: &'static str, path: &'a str) -> impl FnOnce(std::io::Error) -> Day2Error + 'a {
    move |source| Day2Error::Io { action, path: path.to_string(), source }
}

fn write_atomically(root: &Path, rel: &str, bytes: &[u8]) -> Result<(), Day2Error> {
    let full = root.join(rel);
    let name = full.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = full.with_file_name(format!(".{name}.flinkops-tmp"));
    std::fs::write(&tmp, bytes).map_err(io("write", rel))?;
    if let Ok(meta) = std::fs::metadata(&full) {
        // Keep the file's permissions (a rename would otherwise give it the temporary's).
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, &full).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io("write", rel)(e)
    })
}

/// Which TOML file is edited.
#[derive(Debug, Clone, Copy)]
enum Owner<'a> {
    /// `pipelines/<file>.toml`: keys go to the root `[job]`.
    PipelineFile,
    /// `overlays/<env>/overlay.toml`: keys go to `[pipelines.<name>]` → `job`.
    Overlay { pipeline: &'a str },
}

/// A table that can hold the keys: a standard (or dotted) table, or an inline table.
enum Slot<'a> {
    Table(&'a mut Table),
    Inline(&'a mut InlineTable),
}

/// The TOML text of a value without its surrounding whitespace or comment.
fn raw(v: &Value) -> String {
    v.clone().decorated("", "").to_string()
}

/// Edits `text`, setting each key of the owner's `job` table; everything else stays byte for byte.
fn edit(text: &str, owner: Owner<'_>, settings: &[(&str, Value)]) -> Result<String, String> {
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| format!("invalid TOML: {}", e.message()))?;
    let mut slot = match owner {
        Owner::PipelineFile => pipeline_job(&mut doc)?,
        Owner::Overlay { pipeline } => overlay_job(&mut doc, pipeline)?,
    };
    for (key, value) in settings {
        set(&mut slot, key, value.clone())?;
    }
    let mut out = doc.to_string();
    if text.contains("\r\n") {
        // Lines we add follow the file's line endings.
        out = out.replace("\r\n", "\n").replace('\n', "\r\n");
    }
    if text.is_empty() {
        out = out.trim_start_matches('\n').to_string();
    }
    Ok(out)
}

/// Where a new root-level table goes so that it renders before the first `[[array]]` of tables
/// (`[[tasks]]`, `[[patches]]`), or at the end when there is none.
fn before_first_array(root: &Table) -> Option<isize> {
    root.iter()
        .filter_map(|(_, v)| v.as_array_of_tables())
        .flat_map(|a| a.iter().filter_map(Table::position).collect::<Vec<_>>())
        .min()
        .map(|p| p - 1)
}

fn pipeline_job(doc: &mut DocumentMut) -> Result<Slot<'_>, String> {
    let root = doc.as_table_mut();
    if !root.contains_key("job") {
        let mut t = Table::new();
        t.set_position(before_first_array(root));
        root.insert("job", Item::Table(t));
    }
    match root.get_mut("job") {
        Some(Item::Table(t)) => Ok(Slot::Table(t)),
        Some(Item::Value(Value::InlineTable(t))) => Ok(Slot::Inline(t)),
        _ => Err("`job` is not a table".into()),
    }
}

fn overlay_job<'a>(doc: &'a mut DocumentMut, pipeline: &str) -> Result<Slot<'a>, String> {
    // A file of comments only (an environment without overrides) keeps them as the document's
    // trailing text, which toml_edit would print after the new table: keep them on top.
    let mut header = None;
    if doc.as_table().is_empty() {
        let trailing = doc.trailing().as_str().unwrap_or_default().to_string();
        if !trailing.trim().is_empty() {
            doc.set_trailing("");
            header = Some(format!("{}\n\n", trailing.trim_end()));
        }
    }
    let root = doc.as_table_mut();
    let position = before_first_array(root);
    if !root.contains_key("pipelines") {
        let mut p = Table::new();
        p.set_implicit(true);
        root.insert("pipelines", Item::Table(p));
    }
    match root.get_mut("pipelines") {
        Some(Item::Table(p)) => {
            if !p.contains_key(pipeline) {
                let mut t = Table::new();
                // The first pipeline table goes before [[patches]]; later ones follow their siblings.
                if !p.iter().any(|(_, v)| v.is_table()) {
                    t.set_position(position);
                }
                if let Some(h) = header {
                    t.decor_mut().set_prefix(h);
                }
                p.insert(pipeline, Item::Table(t));
            }
            match p.get_mut(pipeline) {
                Some(Item::Table(t)) => job_in_table(t, pipeline),
                Some(Item::Value(Value::InlineTable(t))) => job_in_inline(t, pipeline),
                _ => Err(format!("`pipelines.{pipeline}` is not a table")),
            }
        }
        Some(Item::Value(Value::InlineTable(p))) => {
            if !p.contains_key(pipeline) {
                p.insert(pipeline, Value::InlineTable(InlineTable::new()));
            }
            match p.get_mut(pipeline) {
                Some(Value::InlineTable(t)) => job_in_inline(t, pipeline),
                _ => Err(format!("`pipelines.{pipeline}` is not a table")),
            }
        }
        _ => Err("`pipelines` is not a table".into()),
    }
}

/// The `job` table inside `[pipelines.<name>]`, created in the form that fits the table.
fn job_in_table<'a>(t: &'a mut Table, pipeline: &str) -> Result<Slot<'a>, String> {
    if !t.contains_key("job") {
        let only_subtables = !t.is_empty() && t.iter().all(|(_, v)| matches!(v, Item::Table(s) if !s.is_dotted()));
        let mut job = Table::new();
        job.set_dotted(t.is_dotted() || !only_subtables);
        t.insert("job", Item::Table(job));
    }
    match t.get_mut("job") {
        Some(Item::Table(j)) => Ok(Slot::Table(j)),
        Some(Item::Value(Value::InlineTable(j))) => Ok(Slot::Inline(j)),
        _ => Err(format!("`pipelines.{pipeline}.job` is not a table")),
    }
}

fn job_in_inline<'a>(t: &'a mut InlineTable, pipeline: &str) -> Result<Slot<'a>, String> {
    if !t.contains_key("job") {
        t.insert("job", Value::InlineTable(InlineTable::new()));
    }
    match t.get_mut("job") {
        Some(Value::InlineTable(j)) => Ok(Slot::Inline(j)),
        _ => Err(format!("`pipelines.{pipeline}.job` is not a table")),
    }
}

/// Sets one key, keeping an existing value's surrounding whitespace and comment, and the quote
/// style of a literal string ('…').
fn set(slot: &mut Slot<'_>, key: &str, mut value: Value) -> Result<(), String> {
    let existing: Option<&mut Value> = match slot {
        Slot::Table(t) => match t.get_mut(key) {
            Some(Item::Value(v)) => Some(v),
            Some(Item::None) | None => None,
            Some(_) => return Err(format!("`job.{key}` is a table, not a value")),
        },
        Slot::Inline(t) => t.get_mut(key),
    };
    match existing {
        Some(old) => {
            if let (Some(new), true) = (value.as_str(), raw(old).starts_with('\''))
                && !new.contains('\'')
                && !new.contains('\n')
                && let Ok(literal) = format!("'{new}'").parse::<Value>()
            {
                value = literal;
            }
            let decor = old.decor().clone();
            *value.decor_mut() = decor;
            *old = value;
        }
        None => match slot {
            Slot::Table(t) => {
                t.insert(key, Item::Value(value));
            }
            Slot::Inline(t) => {
                t.insert(key, value);
            }
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_all(text: &str, owner: Owner<'_>, settings: &[(&str, Value)]) -> String {
        edit(text, owner, settings).unwrap()
    }

    #[test]
    fn an_existing_key_keeps_its_spacing_and_comment() {
        let text = "[job]\nkind = \"python\"\nsavepoint_nonce   = 3  # three\n\n[resources]\nprofile = \"x\"\n";
        let out = set_all(text, Owner::PipelineFile, &[("savepoint_nonce", Value::from(4))]);
        assert_eq!(out, text.replace("= 3  #", "= 4  #"));
    }

    #[test]
    fn a_literal_string_stays_literal() {
        let text = "[job]\nstate = 'running' # why\n";
        let out = set_all(text, Owner::PipelineFile, &[("state", Value::from("suspended"))]);
        assert_eq!(out, "[job]\nstate = 'suspended' # why\n");
    }

    #[test]
    fn a_new_key_goes_at_the_end_of_the_job_table() {
        let text = "[job]\nkind = \"python\"\n\n# sizes\n[resources]\nprofile = \"x\"\n";
        let out = set_all(text, Owner::PipelineFile, &[("restart_nonce", Value::from(1))]);
        assert_eq!(out, "[job]\nkind = \"python\"\nrestart_nonce = 1\n\n# sizes\n[resources]\nprofile = \"x\"\n");
    }

    #[test]
    fn a_missing_job_table_is_created_before_the_tasks() {
        let text = "extends = \"templates/t.toml\"\n\n[flink]\nversion = \"2.2.1\"\n\n[[tasks]]\nname = \"a\"\n";
        let out = set_all(text, Owner::PipelineFile, &[("savepoint_nonce", Value::from(6))]);
        assert_eq!(
            out,
            "extends = \"templates/t.toml\"\n\n[flink]\nversion = \"2.2.1\"\n\n[job]\nsavepoint_nonce = 6\n\n[[tasks]]\nname = \"a\"\n"
        );
    }

    #[test]
    fn dotted_job_keys_at_the_root_stay_dotted() {
        let text = "job.kind = \"python\"\n\n[flink]\nversion = \"2.2.1\"\n";
        let out = set_all(text, Owner::PipelineFile, &[("state", Value::from("suspended"))]);
        assert_eq!(out, "job.kind = \"python\"\njob.state = \"suspended\"\n\n[flink]\nversion = \"2.2.1\"\n");
    }

    #[test]
    fn an_overlay_gets_a_dotted_key_in_its_pipeline_table() {
        let text = "[env]\nnamespace = \"x\"\n\n[pipelines.a]\nresources.profile = \"micro\"\n\n[[patches]]\nops = []\n";
        let out = set_all(text, Owner::Overlay { pipeline: "a" }, &[("savepoint_nonce", Value::from(1))]);
        assert_eq!(out, text.replace("\"micro\"\n", "\"micro\"\njob.savepoint_nonce = 1\n"));
    }

    #[test]
    fn an_overlay_job_subtable_is_used_when_present() {
        let text = "[pipelines.a.job]\nparallelism = 2 # small\n";
        let out = set_all(text, Owner::Overlay { pipeline: "a" }, &[("restart_nonce", Value::from(3))]);
        assert_eq!(out, "[pipelines.a.job]\nparallelism = 2 # small\nrestart_nonce = 3\n");
    }

    #[test]
    fn an_overlay_of_subtables_gets_a_job_subtable() {
        let text = "[pipelines.a.resources]\nprofile = \"micro\"\n";
        let out = set_all(text, Owner::Overlay { pipeline: "a" }, &[("restart_nonce", Value::from(1))]);
        assert_eq!(out, "[pipelines.a.resources]\nprofile = \"micro\"\n\n[pipelines.a.job]\nrestart_nonce = 1\n");
    }

    #[test]
    fn a_missing_overlay_pipeline_table_is_created_before_the_patches() {
        let text = "[env]\nnamespace = \"x\"\n\n# patches\n[[patches]]\nops = []\n";
        let out = set_all(text, Owner::Overlay { pipeline: "a" }, &[("state", Value::from("suspended"))]);
        assert_eq!(out, "[env]\nnamespace = \"x\"\n\n[pipelines.a]\njob.state = \"suspended\"\n\n# patches\n[[patches]]\nops = []\n");
    }

    #[test]
    fn a_second_overlay_pipeline_table_follows_the_first() {
        let text = "[pipelines.a]\nresources.profile = \"micro\"\n\n[[patches]]\nops = []\n";
        let out = set_all(text, Owner::Overlay { pipeline: "b" }, &[("restart_nonce", Value::from(1))]);
        assert_eq!(out, "[pipelines.a]\nresources.profile = \"micro\"\n\n[pipelines.b]\njob.restart_nonce = 1\n\n[[patches]]\nops = []\n");
    }

    #[test]
    fn an_empty_overlay_file_gets_just_the_table() {
        let out = set_all("", Owner::Overlay { pipeline: "a" }, &[("savepoint_nonce", Value::from(1))]);
        assert_eq!(out, "[pipelines.a]\njob.savepoint_nonce = 1\n");
    }

    #[test]
    fn an_overlay_of_comments_only_keeps_them_above_the_new_table() {
        let out = set_all("# Staging: no overrides.\n", Owner::Overlay { pipeline: "a" }, &[("savepoint_nonce", Value::from(1))]);
        assert_eq!(out, "# Staging: no overrides.\n\n[pipelines.a]\njob.savepoint_nonce = 1\n");
    }

    #[test]
    fn crlf_files_stay_crlf() {
        let text = "[job]\r\nkind = \"python\"\r\n";
        let out = set_all(text, Owner::PipelineFile, &[("restart_nonce", Value::from(1))]);
        assert_eq!(out, "[job]\r\nkind = \"python\"\r\nrestart_nonce = 1\r\n");
    }

    #[test]
    fn a_job_that_is_not_a_table_is_refused() {
        assert!(edit("job = 3\n", Owner::PipelineFile, &[("restart_nonce", Value::from(1))]).is_err());
    }

    #[test]
    fn uris_need_a_scheme() {
        assert!(is_uri("s3://bucket/savepoints/savepoint-1"));
        assert!(is_uri("file:///tmp/sp"));
        assert!(!is_uri("/tmp/savepoint-1"));
        assert!(!is_uri("bucket/savepoint"));
        assert!(!is_uri("s3://"));
        assert!(!is_uri("1s3://x"));
    }
}
