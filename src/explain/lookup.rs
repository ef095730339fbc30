//! Explain phase, first step: picking one pipeline of one environment out of a compiled
//! repository by the names a person typed.
//!
//! In: a [`Compiled`] result (its envs and kept pipelines), a pipeline name and an optional env.
//! Out: the [`Pipeline`], or a [`LookupError`] with a "did you mean" and the names that exist —
//! convertible into a coded [`Diagnostic`] for the one renderer.

use crate::compile::Compiled;
use crate::diag::{Code, Diagnostic};
use crate::model::Pipeline;

/// Why a pipeline could not be picked out of a compiled repository.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// No pipeline of that name in the environment.
    #[error("unknown pipeline `{name}` (env: {env})")]
    UnknownPipeline {
        name: String,
        /// The environment searched (every environment, comma-separated, when none was named).
        env: String,
        /// The nearest known name, if any is close.
        suggestion: Option<String>,
        /// Every pipeline of the environment, sorted.
        known: Vec<String>,
    },
    /// No environment of that name.
    #[error("unknown environment `{name}`")]
    UnknownEnv {
        name: String,
        /// The nearest known environment, if any is close.
        suggestion: Option<String>,
        /// Every environment of the run.
        known: Vec<String>,
    },
    /// The repository has several environments and none was named.
    #[error("the repository has {} environments ({}): say which one with --env", .envs.len(), .envs.join(", "))]
    EnvRequired { envs: Vec<String> },
}

impl LookupError {
    /// `help:` lines for the CLI (a "did you mean" and the names that exist).
    pub fn help(&self) -> Vec<String> {
        match self {
            LookupError::UnknownPipeline { suggestion, known, .. } | LookupError::UnknownEnv { suggestion, known, .. } => {
                let mut out = vec![];
                if let Some(s) = suggestion {
                    out.push(format!("did you mean `{s}`?"));
                }
                out.push(format!("known: {}", known.join(", ")));
                out
            }
            LookupError::EnvRequired { envs } => vec![format!("e.g. `--env {}`", envs[0])],
        }
    }

    /// The stable code of the problem.
    pub fn code(&self) -> Code {
        match self {
            LookupError::UnknownPipeline { .. } => Code::LookupUnknownPipeline,
            LookupError::UnknownEnv { .. } => Code::LookupUnknownEnv,
            LookupError::EnvRequired { .. } => Code::LookupEnvRequired,
        }
    }

    /// The error as a diagnostic (no location: the names come from the command line).
    pub fn to_diagnostic(&self) -> Diagnostic {
        self.help().into_iter().fold(Diagnostic::error(self.code(), self.to_string()), Diagnostic::help)
    }
}

/// The nearest of `known` to `name` (Jaro-Winkler), when it is at all plausible.
fn nearest(name: &str, known: &[String]) -> Option<String> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(name, k), k))
        .filter(|(s, _)| *s >= 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.clone())
}

/// Picks pipeline `name` in `env` (or in the only environment) out of a compiled repository.
pub fn find<'a>(c: &'a Compiled, name: &str, env: Option<&str>) -> Result<&'a Pipeline, LookupError> {
    let envs: Vec<String> = c.envs.iter().map(|e| e.name.clone()).collect();
    let env = match env {
        Some(e) if envs.iter().any(|x| x == e) => e.to_string(),
        Some(e) => return Err(LookupError::UnknownEnv { name: e.into(), suggestion: nearest(e, &envs), known: envs }),
        None if envs.len() == 1 => envs[0].clone(),
        None => {
            // An unknown name is the more useful error, even before the missing --env.
            if !c.pipelines.iter().any(|p| p.name == name) {
                let mut known: Vec<String> = c.pipelines.iter().map(|p| p.name.clone()).collect();
                known.sort();
                known.dedup();
                let suggestion = nearest(name, &known);
                return Err(LookupError::UnknownPipeline { name: name.into(), env: envs.join(", "), suggestion, known });
            }
            return Err(LookupError::EnvRequired { envs });
        }
    };
    let in_env: Vec<&Pipeline> = c.pipelines.iter().filter(|p| p.env == env).collect();
    if let Some(p) = in_env.iter().find(|p| p.name == name) {
        return Ok(p);
    }
    let mut known: Vec<String> = in_env.iter().map(|p| p.name.clone()).collect();
    known.sort();
    Err(LookupError::UnknownPipeline { name: name.into(), env, suggestion: nearest(name, &known), known })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_error_becomes_a_coded_diagnostic_with_its_help() {
        let e = LookupError::UnknownEnv {
            name: "prd".into(),
            suggestion: nearest("prd", &["dev".into(), "prod".into()]),
            known: vec!["dev".into(), "prod".into()],
        };
        let d = e.to_diagnostic();
        assert_eq!(d.code, Code::LookupUnknownEnv);
        assert_eq!(d.message, "unknown environment `prd`");
        assert_eq!(d.help, ["did you mean `prod`?", "known: dev, prod"]);
        let required = LookupError::EnvRequired { envs: vec!["dev".into(), "prod".into()] }.to_diagnostic();
        assert_eq!(required.code, Code::LookupEnvRequired);
        assert_eq!(required.help, ["e.g. `--env dev`"]);
    }
}
