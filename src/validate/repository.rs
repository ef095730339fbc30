//! Validate phase, repository-wide checks: what no single pipeline file can tell — `--env`
//! naming an environment that does not exist, an overlay naming a pipeline that does not exist,
//! two pipelines with one name, two pipelines building one bundle image differently, a bundle
//! image without a registry — and where the repository-wide settings other checks point at
//! (the capacity budget, the Flux version) are written.
//!
//! In: what the compiler holds while it walks the repository (the loaded [`Repo`], one env's
//! source, each checked [`Pipeline`] as it comes). Out: diagnostics pushed into the caller's
//! list, and places ([`Loc`]). The compiler only orchestrates: it calls these as it goes, batch by
//! batch, and keeps the state they need (the names seen so far, the bundles built so far).

use std::collections::HashMap;

use crate::diag::{Code, Diagnostic, Diagnostics, Loc};
use crate::model::{Pipeline, Project};
use crate::spec::{EnvSource, Repo, Table, Value};
use crate::validate::read::suggest;

/// Reports every `--env` that names no environment of the repository.
pub fn unknown_envs(wanted: &[String], repo: &Repo, d: &mut Diagnostics) {
    let names: Vec<&str> = repo.envs.iter().map(|e| e.name.as_str()).collect();
    for want in wanted.iter().filter(|w| !names.contains(&w.as_str())) {
        let mut diag = Diagnostic::error(Code::UnknownEnvironment, format!("unknown environment `{want}`"))
            .note(format!("environments: {}", names.join(", ")));
        if let Some(s) = suggest(want, &names) {
            diag = diag.help(format!("did you mean `{s}`?"));
        }
        d.push(diag);
    }
}

/// The overlay's `[pipelines.<name>]` tables of one environment, after checking that
/// `pipelines` is a table and that every name in it is a pipeline of the repository.
pub fn overlay_pipelines(es: &EnvSource, repo: &Repo, d: &mut Diagnostics) -> Option<Table> {
    let entry = es.table.as_ref()?.get("pipelines")?;
    let Value::Table(overlay) = &entry.node.value else {
        d.push(
            Diagnostic::error(Code::WrongType, "`pipelines` in an overlay must be a table of tables")
                .at(&entry.node.loc)
                .label("expected [pipelines.<name>]"),
        );
        return None;
    };
    let names: Vec<&str> = repo.pipelines.iter().map(|p| p.name.as_str()).collect();
    for (k, e) in &overlay.entries {
        if !names.contains(&k.as_str()) {
            let diag = Diagnostic::error(Code::OverlayUnknownPipeline, format!("overlay names pipeline `{k}`, which does not exist"))
                .at(&e.key_loc)
                .label("no such pipeline");
            d.push(match suggest(k, &names) {
                Some(s) => diag.help(format!("did you mean `{s}`?")),
                None => diag.help(format!("pipelines: {}", names.join(", "))),
            });
        }
    }
    Some(overlay.clone())
}

/// The pipelines of one environment seen so far, by name: each one's file and where its name
/// comes from.
pub type SeenNames = HashMap<String, (String, Loc)>;

/// Records pipeline `p` (read from `file`, whose start is `file_start`) among the names `seen`
/// in its environment; reports it and returns `false` when another pipeline already has its name.
pub fn unique_name(seen: &mut SeenNames, p: &Pipeline, file: String, file_start: Loc, d: &mut Diagnostics) -> bool {
    // The name comes from `name = …` or, without one, from the file name itself.
    let here = p.places.name.clone().unwrap_or(file_start);
    if let Some((other, there)) = seen.get(&p.name) {
        d.push(
            Diagnostic::error(Code::DuplicatePipelineName, format!("two pipelines are named `{}`: {other} and {file}", p.name))
                .at(&here)
                .label(if p.places.name.is_some() { "this name" } else { "named after its file" })
                .note_at(there, format!("the other `{}` is", p.name))
                .help("pipeline names must be unique: rename one file or set `name`"),
        );
        return false;
    }
    seen.insert(p.name.clone(), (file, here));
    true
}

/// Who builds a bundle image: a pipeline in an environment, and where its `[job]` is.
pub struct Builder<'a> {
    pub pipeline: &'a str,
    pub env: &'a str,
    pub at: &'a Loc,
}

impl Builder<'_> {
    /// How the diagnostics name the builder.
    pub fn who(&self) -> String {
        format!("pipeline `{}` in env `{}`", self.pipeline, self.env)
    }
}

/// The error for bundle `bundle`, which `first` (the first pipeline to build it, described by
/// its [`Builder::who`]) builds differently from `second`; `difference` says how.
pub fn bundle_conflict(bundle: &str, difference: &str, first: (&str, &Loc), second: &Builder) -> Diagnostic {
    let (first, there) = first;
    Diagnostic::error(
        Code::BundleConflict,
        format!("bundle `{bundle}` is built differently by {first} and by {}: {difference}", second.who()),
    )
    .at(second.at)
    .label("builds the image differently")
    .note_at(there, format!("{first} builds it at"))
    .note("an image is built once and promoted through every environment, so everything it contains must agree")
    .help(format!("give one of them its own `job.bundle` (e.g. `bundle = \"{}-{}\"`)", second.pipeline, second.env))
}

/// The registry pipeline `p`'s bundle image is pushed to, or an error when `defaults.registry`
/// is not set.
pub fn registry<'a>(project: &'a Project, repo: &Repo, p: &Pipeline, d: &mut Diagnostics) -> Option<&'a str> {
    if let Some(r) = &project.defaults.registry {
        return Some(r);
    }
    let defaults = repo.project.as_ref().and_then(|t| t.get("defaults")).map(|e| e.key_loc.clone());
    let project_start = repo.project_file.map(|file| Loc { file, span: 0..0 });
    d.push(
        Diagnostic::error(Code::RegistryMissing, format!("`defaults.registry` is required: pipeline `{}` needs a bundle image", p.name))
            .at_opt(defaults.as_ref().or(project_start.as_ref()))
            .label("no `registry` here")
            .note_at(p.places.job.as_ref().unwrap_or(&p.places.file), format!("pipeline `{}` bundles its job at", p.name))
            .help("add `registry = \"registry.example.com/team\"` under [defaults] in flinkops.toml, or set `flink.image`"),
    );
    None
}

/// Where the capacity budget in force for an environment is written: the overlay's `[cluster]`,
/// else flinkops.toml's.
pub fn budget_at(es: &EnvSource, repo: &Repo) -> Option<Loc> {
    es.table
        .as_ref()
        .and_then(|t| t.get("cluster"))
        .or_else(|| repo.project.as_ref().and_then(|t| t.get("cluster")))
        .map(|c| c.key_loc.clone())
}

/// Where `delivery.flux_version` is written, if it is.
pub fn flux_version_at(repo: &Repo) -> Option<Loc> {
    let delivery = repo.project.as_ref()?.get("delivery")?;
    let Value::Table(t) = &delivery.node.value else { return None };
    t.get("flux_version").map(|e| e.node.loc.clone())
}
