//! Day-2 phase, locate: which pipeline, environment and file a day-2 command edits.
//!
//! In: the repository root and a [`Request`]. Out: a [`Target`], the one TOML file that owns the
//! setting (the overlay with `--env`, else the pipeline file, never its template) and which
//! overlays override the `job` keys; or a [`Day2Error`] for an unknown pipeline or environment
//! (with the nearest name) or a `--from` that is not a URI. Reads the repository, compiles
//! nothing.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Day2Error, Operation, Request, is_uri};
use crate::diag::Diagnostics;
use crate::spec;
use crate::validate::read::suggest;

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

#[cfg(test)]
mod tests {
    use super::*;

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
