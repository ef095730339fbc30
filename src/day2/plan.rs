//! Day-2 phase, plan: what a day-2 command changes, before anything is written.
//!
//! In: the [`Request`], its [`Target`] and the repository compiled before the change (the values
//! in effect after template → pipeline → overlay merging). Out: a [`Plan`]: the keys and values
//! to write (a nonce one more than the value in effect), the file's bytes before and after the
//! edit, the environments the edit reaches and those an overlay shields, notes, and a suggested
//! commit message; or [`Planned::AlreadyInEffect`]. [`Plan::write`] and [`Plan::revert`] put the
//! bytes on disk and take them back.

use std::path::Path;

use toml_edit::Value;

use super::edit::{Owner, edit, raw};
use super::{Day2Error, Operation, Request, Target};
use crate::compile::Compiled;
use crate::model::{JobState, Pipeline, UpgradeMode};
use crate::sync::{Change, Status};

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
