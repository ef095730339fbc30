//! The whole compiler: repository in, the complete `out/` tree (in memory) out.
//!
//! Runs the phases in order — spec (read, merge `extends` and overlays) → validate (every
//! diagnostic collected) → bundle (image specs) → render → emit — and returns either the files
//! or the diagnostics. Nothing here touches `out/`; `sync` does that, and only when there is no
//! error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::bundle::{self, Bundle};
use crate::diag::{Diagnostic, Diagnostics, Sources};
use crate::emit;
use crate::patch;
use crate::model::{DeliveryTool, Env, Pipeline, Project};
use crate::render::{self, Resource, delivery};
use crate::spec::{self, Table, Value};
use crate::sync::{MARKER, MARKER_TEXT, Scope};
use crate::validate;
use rayon::prelude::*;

/// Pipelines rendered, patched and emitted together: bounds the objects in memory at once.
const RENDER_BATCH: usize = 256;

/// What to compile.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only these environments (`--env`); empty means all.
    pub envs: Vec<String>,
}

/// The result of compiling a repository.
#[derive(Debug)]
pub struct Compiled {
    pub sources: Sources,
    pub diagnostics: Diagnostics,
    /// Repository-relative path → bytes; empty when there are errors.
    pub files: BTreeMap<String, Vec<u8>>,
    pub scope: Scope,
    pub project: Option<Project>,
    pub envs: Vec<Env>,
    /// Every pipeline of every compiled env.
    pub pipelines: Vec<Pipeline>,
    /// Bundle name → spec.
    pub bundles: BTreeMap<String, Bundle>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.has_errors()
    }
}

/// The name a pipeline file declares (`name = …`) or its file stem.
fn declared_name(t: &Table, stem: &str) -> String {
    match t.get("name").map(|e| &e.node.value) {
        Some(Value::String(s)) => s.clone(),
        _ => stem.to_string(),
    }
}

/// Compiles the repository at `root`.
pub fn compile(root: &Path, opts: &Options) -> Compiled {
    let mut d = Diagnostics::default();
    let repo = spec::load(root, &mut d);
    let mut c = Compiled {
        sources: Sources::default(),
        diagnostics: Diagnostics::default(),
        files: BTreeMap::new(),
        scope: Scope::all(),
        project: None,
        envs: vec![],
        pipelines: vec![],
        bundles: BTreeMap::new(),
    };
    let project = repo.project.as_ref().and_then(|t| validate::project::project(t, &mut d));
    let project_path = repo.project_file.map_or_else(|| "flinkops.toml".to_string(), |f| repo.sources.path(f).to_string());

    // Environments, filtered by --env.
    for want in &opts.envs {
        if !repo.envs.iter().any(|e| &e.name == want) {
            let names: Vec<&str> = repo.envs.iter().map(|e| e.name.as_str()).collect();
            let mut diag = Diagnostic::error(format!("unknown environment `{want}`")).note(format!("environments: {}", names.join(", ")));
            if let Some(s) = validate::read::suggest(want, &names) {
                diag = diag.help(format!("did you mean `{s}`?"));
            }
            d.push(diag);
        }
    }
    let env_sources: Vec<_> = repo.envs.iter().filter(|e| opts.envs.is_empty() || opts.envs.contains(&e.name)).collect();
    if !opts.envs.is_empty() {
        let mut prefixes = vec![];
        for e in &env_sources {
            prefixes.push(format!("out/{}/", e.name));
            prefixes.push(format!("out/argocd/{}.yaml", e.name));
            prefixes.push(format!("out/flux/{}.yaml", e.name));
        }
        c.scope = Scope { prefixes };
    }

    let Some(project) = project else {
        d.sort(&repo.sources);
        c.diagnostics = d;
        c.sources = repo.sources;
        return c;
    };

    let mut per_env: Vec<(Env, Vec<Pipeline>)> = vec![];
    let cache = crate::schedule::ConversionCache::new();
    for es in &env_sources {
        let env = validate::project::env(es, &repo.sources, &mut d);
        let overlay_pipelines = es.table.as_ref().and_then(|t| t.get("pipelines")).and_then(|e| match &e.node.value {
            Value::Table(t) => Some(t.clone()),
            _ => {
                d.push(Diagnostic::error("`pipelines` in an overlay must be a table of tables").at(&e.node.loc).label("expected [pipelines.<name>]"));
                None
            }
        });
        // An overlay may only name pipelines that exist.
        if let Some(op) = &overlay_pipelines {
            let names: Vec<String> = repo.pipelines.iter().map(|p| declared_name(&p.table, &p.stem)).collect();
            for (k, e) in &op.entries {
                if !names.contains(k) {
                    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                    let mut diag = Diagnostic::error(format!("overlay names pipeline `{k}`, which does not exist"))
                        .at(&e.key_loc)
                        .label("no such pipeline");
                    diag = match validate::read::suggest(k, &refs) {
                        Some(s) => diag.help(format!("did you mean `{s}`?")),
                        None => diag.help(format!("pipelines: {}", names.join(", "))),
                    };
                    d.push(diag);
                }
            }
        }
        let mut pipelines = vec![];
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        // Pipelines validate independently (both cores), each into its own diagnostics, merged
        // in file order so the report does not depend on scheduling.
        let checked: Vec<(Option<Pipeline>, Diagnostics)> = repo
            .pipelines
            .par_iter()
            .map(|ps| {
                let mut d = Diagnostics::default();
                let name = declared_name(&ps.table, &ps.stem);
                let mut table = ps.table.clone();
                let mut sources: Vec<String> = ps.chain.iter().map(|f| repo.sources.path(*f).to_string()).collect();
                if let Some(entry) = overlay_pipelines.as_ref().and_then(|op| op.get(&name)) {
                    match &entry.node.value {
                        Value::Table(o) => {
                            table.merge(o);
                            sources.extend(env.file.clone());
                        }
                        other => d.push(
                            Diagnostic::error(format!("`pipelines.{name}` must be a table, found {}", other.type_name()))
                                .at(&entry.node.loc)
                                .label("expected a table"),
                        ),
                    }
                }
                let cx = validate::pipeline::Ctx { project: &project, env: &env, root, sources, stem: &ps.stem, cache: &cache };
                (validate::pipeline::pipeline(&table, &cx, &mut d), d)
            })
            .collect();
        for (ps, (p, pd)) in repo.pipelines.iter().zip(checked) {
            d.extend(pd);
            let Some(p) = p else { continue };
            let file = repo.sources.path(ps.file).to_string();
            if let Some(other) = seen.insert(p.name.clone(), file.clone()) {
                d.push(
                    Diagnostic::error(format!("two pipelines are named `{}`: {other} and {file}", p.name))
                        .help("pipeline names must be unique: rename one file or set `name`"),
                );
                continue;
            }
            pipelines.push(p);
        }
        validate::capacity::check(&project, &env, &pipelines, &mut d);
        validate::delivery::check(&project, &pipelines, &mut d);
        per_env.push((env, pipelines));
    }

    // Bundles: one image per bundle name, the same in every pipeline and environment.
    let mut bundles: BTreeMap<String, (Bundle, String)> = BTreeMap::new();
    let mut images: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut built_bundles: std::collections::HashMap<String, Bundle> = std::collections::HashMap::new();
    for (env, pipelines) in &per_env {
        for p in pipelines {
            if let Some(img) = &p.flink.image {
                images.insert((env.name.clone(), p.name.clone()), img.clone());
                continue;
            }
            // Pipelines sharing a bundle usually share every input: build each distinct one once.
            let key = bundle::inputs_key(p);
            let built = match built_bundles.get(&key) {
                Some(b) => Ok(b.clone()),
                None => bundle::build(root, p).inspect(|b| {
                    built_bundles.insert(key, b.clone());
                }),
            };
            let b = match built {
                Ok(b) => b,
                Err(e) => {
                    d.push(Diagnostic::error(format!("cannot read the job files of pipeline `{}`: {e}", p.name)));
                    continue;
                }
            };
            let who = format!("pipeline `{}` in env `{}`", p.name, env.name);
            match bundles.get(&b.name) {
                Some((existing, first)) => {
                    if let Some(diff) = existing.difference(&b) {
                        d.push(
                            Diagnostic::error(format!("bundle `{}` is built differently by {first} and by {who}: {diff}", b.name))
                                .note("an image is built once and promoted through every environment, so everything it contains must agree")
                                .help(format!("give one of them its own `job.bundle` (e.g. `bundle = \"{}-{}\"`)", p.name, env.name)),
                        );
                    }
                }
                None => {
                    bundles.insert(b.name.clone(), (b.clone(), who));
                }
            }
            match &project.defaults.registry {
                Some(r) => {
                    images.insert((env.name.clone(), p.name.clone()), b.reference(r));
                }
                None => d.push(
                    Diagnostic::error(format!("`defaults.registry` is required: pipeline `{}` needs a bundle image", p.name))
                        .help("add `registry = \"registry.example.com/team\"` under [defaults] in flinkops.toml, or set `flink.image`"),
                ),
            }
        }
    }

    // Render every env and apply its overlay's patches before deciding: patches can fail too.
    // Pipelines are rendered, patched and emitted in batches, so only one batch of objects is in
    // memory at a time (the bytes are kept; nothing is written while there may be errors).
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    if !d.has_errors() {
        for (env, pipelines) in &per_env {
            let src = env_sources.iter().find(|e| e.name == env.name);
            let mut patches = match (src.and_then(|e| e.table.as_ref()), &env.file) {
                (Some(t), Some(file)) => Some(patch::PatchSet::prepare(root, &format!("overlays/{}", env.name), file, t, &mut d)),
                _ => None,
            };
            let mut env_files = vec![];
            let mut namespaces: BTreeSet<String> = BTreeSet::new();
            let mut header_sources: BTreeSet<String> = BTreeSet::new();
            header_sources.insert(project_path.clone());
            header_sources.extend(env.file.clone());
            let mut emit_batch = |resources: &[Resource], files: &mut BTreeMap<String, Vec<u8>>| {
                let emitted: Vec<(String, Vec<u8>)> = resources.par_iter().map(|r| (r.file_name(), emit::resource(r).into_bytes())).collect();
                for r in resources {
                    header_sources.extend(r.sources.iter().cloned());
                }
                for (rel, bytes) in emitted {
                    files.insert(format!("out/{}/{rel}", env.name), bytes);
                    env_files.push(rel);
                }
            };
            for batch in pipelines.chunks(RENDER_BATCH) {
                // Pipelines render independently: both cores, order kept.
                let mut resources: Vec<Resource> = batch
                    .par_iter()
                    .flat_map_iter(|p| render::pipeline(&project, p, &images[&(env.name.clone(), p.name.clone())]))
                    .collect();
                if let Some(ps) = &mut patches {
                    ps.apply(&mut resources, &mut d);
                }
                namespaces.extend(resources.iter().filter_map(|r| r.namespace.clone()));
                emit_batch(&resources, &mut files);
            }
            if let Some(ps) = patches {
                ps.finish(&mut d);
            }
            emit_batch(&delivery::namespaces(&project, env, &namespaces, &project_path), &mut files);
            let header: Vec<String> = header_sources.into_iter().collect();
            files.insert(format!("out/{}/kustomization.yaml", env.name), emit::kustomization(&env_files, &header).into_bytes());
            let gitops = match project.delivery.tool {
                DeliveryTool::ArgoCd => Some(("argocd", delivery::argocd(&project, env, &namespaces, pipelines, &project_path))),
                DeliveryTool::Flux => Some(("flux", delivery::flux(&project, env, &namespaces, pipelines, &project_path))),
                DeliveryTool::None => None,
            };
            if let Some((dir, r)) = gitops {
                files.insert(format!("out/{dir}/{}.yaml", env.name), emit::resource(&r).into_bytes());
            }
        }
    }

    d.sort(&repo.sources);
    c.diagnostics = d;
    c.sources = repo.sources;
    c.bundles = bundles.into_iter().map(|(k, (b, _))| (k, b)).collect();
    if c.diagnostics.has_errors() {
        c.project = Some(project);
        c.envs = per_env.into_iter().map(|(e, _)| e).collect();
        return c;
    }

    files.insert(MARKER.into(), MARKER_TEXT.as_bytes().to_vec());
    let registry = project.defaults.registry.clone().unwrap_or_default();
    for b in c.bundles.values() {
        files.insert(format!("out/images/{}/Dockerfile", b.name), b.dockerfile.clone().into_bytes());
        files.insert(format!("out/images/{}/Dockerfile.dockerignore", b.name), b.dockerignore.clone().into_bytes());
        files.insert(format!("out/images/{}/image.json", b.name), b.image_json(&registry).into_bytes());
        if b.sql_runner {
            files.insert(bundle::sql_runner_path(&b.name), bundle::SQL_RUNNER.as_bytes().to_vec());
        }
    }
    c.files = files;
    c.project = Some(project);
    for (e, ps) in per_env {
        c.envs.push(e);
        c.pipelines.extend(ps);
    }
    c
}
