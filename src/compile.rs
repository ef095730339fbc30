//! The whole compiler: repository in, every file of `out/` out, each handed to a [`Sink`] the
//! moment it is emitted.
//!
//! Runs the phases — spec (read, resolve `extends`) → validate (every diagnostic collected) →
//! bundle (image specs) → render → patch → emit — batch by batch: a batch of pipelines is parsed,
//! validated for every env, rendered, patched and emitted, then dropped. Memory holds one batch of
//! trees, models and objects however big the repository is; what needs every pipeline (duplicate
//! names, the capacity budget, patches that match nothing, the env's namespaces unit and its
//! kustomization listing the units) is gathered in small per-env summaries ([`EnvRun`]). Each
//! pipeline is its own delivery unit (SPEC §14): its kustomization and its Argo CD Application /
//! Flux Kustomization are emitted with its batch.
//!
//! A file handed to the sink is only final when the whole run has no error, and errors can turn
//! up in any batch (or only at the end). [`Passes::One`] suits callers that compare: they drop
//! what the sink saw when there are errors. A caller that writes (`generate`) uses
//! [`Passes::CheckFirst`]: a first pass validates everything and renders and patches — without
//! emitting — the envs that have patches, the only errors rendering can find; only when it is
//! clean does the second pass emit. Diagnostics are gathered per env and phase and merged in one
//! fixed order, so the report never depends on batching or scheduling.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use crate::bundle::{self, Bundle};
use crate::diag::{Code, Diagnostic, Diagnostics, Severity, Sources};
use crate::emit;
use crate::layout::{self, ARGOCD_DIR, FLUX_DIR, NAMESPACES_UNIT};
use crate::model::{DeliveryTool, EmittedObject, Env, KeyOrigins, Layer, Origin, Origins, Pipeline, Project};
use crate::patch;
use crate::render::{self, Resource, delivery};
use crate::spec::{self, EnvSource, Repo, Table, Value};
use crate::sync::{MARKER, MARKER_TEXT, Scope, Sink};
use crate::validate;
use rayon::prelude::*;

/// Pipelines parsed, validated, rendered, patched and emitted together: bounds what is in memory
/// at once, and is big enough to keep both cores busy.
const DEFAULT_BATCH: usize = 256;

/// What to compile.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only these environments (`--env`); empty means all.
    pub envs: Vec<String>,
    /// Keep every checked pipeline in [`Compiled::pipelines`] (explain, images, day-2 commands),
    /// with where its settings came from and the objects emitted for it.
    pub keep_pipelines: bool,
    /// With [`Passes::CheckFirst`], treat warnings like errors: emit nothing when there are any.
    pub deny_warnings: bool,
    /// Pipelines per batch; 0 means the default. Output never depends on it (tests check that
    /// with tiny batches).
    pub batch: usize,
}

/// How many passes over the pipelines, and what the last one does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passes {
    /// Validate, render, patch and emit in one pass; on errors the sink has seen part of a tree.
    One,
    /// Validate (and patch) first, emit in a second pass only when the first found no error.
    CheckFirst,
    /// Only the first pass of `CheckFirst`: every diagnostic, nothing emitted.
    CheckOnly,
}

/// The result of compiling a repository.
#[derive(Debug)]
pub struct Compiled {
    pub sources: Sources,
    pub diagnostics: Diagnostics,
    /// Repository-relative path → bytes; filled by [`compile`] only, and empty when there are
    /// errors. [`compile_into`] hands the files to its sink instead.
    pub files: BTreeMap<String, Vec<u8>>,
    pub scope: Scope,
    pub project: Option<Project>,
    pub envs: Vec<Env>,
    /// Every pipeline of every compiled env, when [`Options::keep_pipelines`] is set.
    pub pipelines: Vec<Pipeline>,
    /// Bundle name → spec.
    pub bundles: BTreeMap<String, Bundle>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.has_errors()
    }
}

/// Compiles the repository at `root` into memory, keeping every file and every pipeline.
pub fn compile(root: &Path, opts: &Options) -> Compiled {
    let sink = crate::sync::Memory::default();
    let opts = Options { keep_pipelines: true, ..opts.clone() };
    let mut c = compile_into(root, &opts, &sink, Passes::One);
    if !c.has_errors() {
        c.files = sink.into_files();
    }
    c
}

/// One environment's inputs, read once for every pass.
struct EnvInput<'a> {
    src: &'a EnvSource,
    env: Env,
    /// The overlay's `[pipelines.<name>]` tables.
    overlay: Option<Table>,
    /// Diagnostics about the env and its overlay itself.
    head: Diagnostics,
    /// Where the overlay's `[env]` keys are, when pipelines are kept.
    origins: Option<Arc<KeyOrigins>>,
}

/// What the passes share.
struct Ctx<'a> {
    root: &'a Path,
    repo: &'a Repo,
    project: &'a Project,
    project_path: &'a str,
    envs: Vec<EnvInput<'a>>,
    cache: crate::schedule::ConversionCache,
    files: validate::pipeline::FileChecks,
    keep_pipelines: bool,
    /// Where `flinkops.toml`'s keys are, when pipelines are kept.
    project_origins: Option<Arc<KeyOrigins>>,
    batch: usize,
}

/// What one pass does after validating a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    /// Render and patch the envs that have patches (their errors are the only ones rendering can
    /// find), emit nothing.
    PatchedEnvs,
    /// Render, patch and emit everything.
    Everything,
}

/// One env's state during a pass: diagnostics by phase (merged in a fixed order at the end) and
/// the summaries of the pipelines already seen.
#[derive(Default)]
struct EnvRun {
    validation: Diagnostics,
    /// Capacity and delivery checks: after every pipeline's own diagnostics.
    summary: Diagnostics,
    bundles: Diagnostics,
    render: Diagnostics,
    /// The pipeline names seen so far: duplicate names.
    seen: validate::repository::SeenNames,
    usage: Vec<validate::capacity::Usage>,
    patches: Option<patch::PatchSet>,
    /// Namespace → the service accounts of the FlinkDeployments in it (SPEC §13.2).
    namespaces: BTreeMap<String, BTreeSet<String>>,
    header_sources: BTreeSet<String>,
    /// The pipelines (units) emitted so far.
    units: Vec<String>,
    pipelines: Vec<Pipeline>,
}

/// Bundles seen so far: one image per bundle name, the same in every pipeline and environment.
#[derive(Default)]
struct Bundles {
    /// Name → (spec, who built it first, where that pipeline's `[job]` is).
    by_name: BTreeMap<String, (Bundle, String, crate::diag::Loc)>,
    /// Pipelines sharing a bundle usually share every input: each distinct one is built once,
    /// for all passes.
    built: HashMap<String, Bundle>,
}

/// Compiles the repository at `root`, handing every file to `sink`. Nothing here touches `out/`
/// itself.
pub fn compile_into(root: &Path, opts: &Options, sink: &dyn Sink, passes: Passes) -> Compiled {
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
    validate::repository::unknown_envs(&opts.envs, &repo, &mut d);
    let env_sources: Vec<&EnvSource> = repo.envs.iter().filter(|e| opts.envs.is_empty() || opts.envs.contains(&e.name)).collect();
    if !opts.envs.is_empty() {
        c.scope = Scope { prefixes: env_sources.iter().flat_map(|e| layout::env_scope(&e.name)).collect() };
    }

    let Some(project) = project else {
        d.sort(&repo.sources);
        c.diagnostics = d;
        c.sources = repo.sources;
        return c;
    };

    let mut envs: Vec<EnvInput> = env_sources.into_iter().map(|es| env_input(es, &repo)).collect();
    if opts.keep_pipelines {
        for e in &mut envs {
            e.origins = Some(Arc::new(env_origins(e.src)));
        }
    }
    let cx = Ctx {
        root,
        repo: &repo,
        project: &project,
        project_path: &project_path,
        envs,
        cache: crate::schedule::ConversionCache::new(),
        files: validate::pipeline::FileChecks::default(),
        keep_pipelines: opts.keep_pipelines,
        project_origins: opts.keep_pipelines.then(|| Arc::new(repo.project.as_ref().map(project_origins).unwrap_or_default())),
        batch: if opts.batch == 0 { DEFAULT_BATCH } else { opts.batch },
    };
    let mut bundles = Bundles::default();
    let first = match passes {
        Passes::One => Output::Everything,
        Passes::CheckFirst | Passes::CheckOnly => Output::PatchedEnvs,
    };
    let mut runs = cx.pass(first, sink, &mut bundles, &d);
    let mut report = merged(&d, &cx, &runs);
    let denied = |r: &Diagnostics| r.has_errors() || (opts.deny_warnings && r.count(Severity::Warning) > 0);
    if passes == Passes::CheckFirst && !denied(&report) {
        // The first pass was clean: the second one validates the same texts the same way and
        // emits. Its diagnostics (warnings only) replace the first pass's copies.
        bundles.by_name.clear();
        runs = cx.pass(Output::Everything, sink, &mut bundles, &d);
        report = merged(&d, &cx, &runs);
    }
    let emitted = passes != Passes::CheckOnly && !report.has_errors() && !(passes == Passes::CheckFirst && denied(&report));
    if emitted {
        sink.put(MARKER.into(), MARKER_TEXT.as_bytes().to_vec());
        let registry = project.defaults.registry.clone().unwrap_or_default();
        for (b, _, _) in bundles.by_name.values() {
            sink.put(format!("out/images/{}/Dockerfile", b.name), b.dockerfile.clone().into_bytes());
            sink.put(format!("out/images/{}/Dockerfile.dockerignore", b.name), b.dockerignore.clone().into_bytes());
            sink.put(format!("out/images/{}/image.json", b.name), b.image_json(&registry).into_bytes());
            if b.sql_runner {
                sink.put(bundle::sql_runner_path(&b.name), bundle::SQL_RUNNER.as_bytes().to_vec());
            }
        }
    }

    let env_models: Vec<Env> = cx.envs.into_iter().map(|e| e.env).collect();
    report.sort(&repo.sources);
    report.name_environments(&env_models.iter().map(|e| e.name.clone()).collect::<Vec<_>>());
    c.diagnostics = report;
    c.sources = repo.sources;
    c.bundles = bundles.by_name.into_iter().map(|(k, (b, _, _))| (k, b)).collect();
    c.project = Some(project);
    let failed = c.diagnostics.has_errors();
    for (e, run) in env_models.into_iter().zip(runs) {
        c.envs.push(e);
        if !failed {
            c.pipelines.extend(run.pipelines);
        }
    }
    c
}

/// Reads an env and checks that its overlay names only pipelines that exist.
fn env_input<'a>(es: &'a EnvSource, repo: &Repo) -> EnvInput<'a> {
    let mut d = Diagnostics::default();
    let env = validate::project::env(es, &repo.sources, &mut d);
    let overlay = validate::repository::overlay_pipelines(es, repo, &mut d);
    EnvInput { src: es, env, overlay, head: d, origins: None }
}

/// Every diagnostic of a pass in one fixed order: the repository's, then each env's own and its
/// pipelines' (env by env), then the bundles', then — only when all of those are clean — what
/// rendering and patching found.
fn merged(global: &Diagnostics, cx: &Ctx, runs: &[EnvRun]) -> Diagnostics {
    let mut d = global.clone();
    for (e, r) in cx.envs.iter().zip(runs) {
        let name = &e.env.name;
        d.extend(e.head.clone().in_env(name));
        d.extend(r.validation.clone().in_env(name));
        d.extend(r.summary.clone().in_env(name));
    }
    for r in runs {
        d.extend(r.bundles.clone());
    }
    if !d.has_errors() {
        for (e, r) in cx.envs.iter().zip(runs) {
            d.extend(r.render.clone().in_env(&e.env.name));
        }
    }
    d
}

impl Ctx<'_> {
    /// One pass over every pipeline, batch by batch. `before`: the diagnostics found before the
    /// pass. Rendering stops at the first error (its output would be dropped anyway); validation
    /// goes on, so that every problem is reported.
    fn pass(&self, out: Output, sink: &dyn Sink, bundles: &mut Bundles, before: &Diagnostics) -> Vec<EnvRun> {
        let mut runs: Vec<EnvRun> = self.envs.iter().map(|e| self.start(e)).collect();
        let mut failed = before.has_errors() || self.envs.iter().any(|e| e.head.has_errors());
        for batch in self.repo.pipelines.chunks(self.batch) {
            let tables: Vec<Table> = batch.par_iter().map(|ps| self.repo.pipeline_table(ps)).collect();
            for (e, run) in self.envs.iter().zip(runs.iter_mut()) {
                let mut models = self.validate_batch(e, run, batch, &tables);
                let images: Vec<Option<String>> = models.iter().map(|p| self.image(e, p, run, bundles)).collect();
                failed = failed || run.validation.has_errors() || run.bundles.has_errors();
                let wanted = out == Output::Everything || run.patches.is_some();
                if wanted && !failed {
                    self.render_batch(e, run, &mut models, &images, out, sink);
                    failed |= run.render.has_errors();
                }
                if self.keep_pipelines {
                    run.pipelines.extend(models);
                }
            }
        }
        for (e, run) in self.envs.iter().zip(runs.iter_mut()) {
            let budget_at = validate::repository::budget_at(e.src, self.repo);
            validate::capacity::check(self.project, &e.env, std::mem::take(&mut run.usage), budget_at.as_ref(), &mut run.summary);
            failed = failed || run.summary.has_errors();
        }
        if failed {
            return runs;
        }
        for (e, run) in self.envs.iter().zip(runs.iter_mut()) {
            if let Some(ps) = run.patches.take() {
                ps.finish(&mut run.render);
            }
            if out == Output::Everything {
                self.finish_env(e, run, sink);
            }
        }
        runs
    }

    fn start(&self, e: &EnvInput) -> EnvRun {
        let mut run = EnvRun::default();
        if let (Some(t), Some(file)) = (e.src.table.as_ref(), &e.env.file) {
            // Every pass reads the patches afresh; a malformed one is reported with the env's own
            // diagnostics (the report of a pass replaces the previous one's).
            run.patches = Some(patch::PatchSet::prepare(self.root, &format!("overlays/{}", e.env.name), file, t, &mut run.validation));
            if run.patches.as_ref().is_some_and(patch::PatchSet::is_empty) {
                run.patches = None;
            }
        }
        run.header_sources.insert(self.project_path.to_string());
        run.header_sources.extend(e.env.file.clone());
        run
    }

    /// Validates a batch of pipelines (both cores) for one env; the diagnostics go in file
    /// order, so the report does not depend on scheduling.
    fn validate_batch(&self, e: &EnvInput, run: &mut EnvRun, batch: &[spec::PipelineSource], tables: &[Table]) -> Vec<Pipeline> {
        let checked: Vec<(Option<Pipeline>, Diagnostics)> = batch
            .par_iter()
            .zip(tables)
            .map(|(ps, table)| {
                let mut d = Diagnostics::default();
                let mut sources: Vec<String> = ps.chain.iter().map(|f| self.repo.sources.path(*f).to_string()).collect();
                let mut table = Cow::Borrowed(table);
                if let Some(entry) = e.overlay.as_ref().and_then(|op| op.get(&ps.name)) {
                    match &entry.node.value {
                        Value::Table(o) => {
                            validate::overlay::merge(table.to_mut(), o, &ps.name, &mut d);
                            sources.extend(e.env.file.clone());
                        }
                        other => d.push(
                            Diagnostic::error(
                                Code::WrongType,
                                format!("`pipelines.{}` must be a table, found {}", ps.name, other.type_name()),
                            )
                            .at(&entry.node.loc)
                            .label("expected a table"),
                        ),
                    }
                }
                let cx = validate::pipeline::Ctx {
                    project: self.project,
                    env: &e.env,
                    root: self.root,
                    sources,
                    stem: &ps.stem,
                    cache: &self.cache,
                    files: &self.files,
                };
                let mut p = validate::pipeline::pipeline(&table, &cx, &mut d);
                if let Some(p) = p.as_mut().filter(|_| self.keep_pipelines) {
                    p.origins = Origins {
                        pipeline: pipeline_origins(&table, ps.file, e.src.file),
                        env: e.origins.clone(),
                        project: self.project_origins.clone(),
                    };
                }
                (p, d)
            })
            .collect();
        let mut models = vec![];
        for (ps, (p, pd)) in batch.iter().zip(checked) {
            run.validation.extend(pd);
            let Some(p) = p else { continue };
            let file = self.repo.sources.path(ps.file).to_string();
            let start = crate::diag::Loc { file: ps.file, span: 0..0 };
            if validate::repository::unique_name(&mut run.seen, &p, file, start, &mut run.validation) {
                models.push(p);
            }
        }
        run.usage.extend(models.iter().map(validate::capacity::usage));
        validate::delivery::check(self.project, &models, validate::repository::flux_version_at(self.repo).as_ref(), &mut run.summary);
        models
    }

    /// The image a pipeline runs: `flink.image`, or its bundle's reference (building the bundle
    /// spec, and checking that every pipeline of that bundle builds it the same way).
    fn image(&self, e: &EnvInput, p: &Pipeline, run: &mut EnvRun, bundles: &mut Bundles) -> Option<String> {
        if let Some(img) = &p.flink.image {
            return Some(img.clone());
        }
        let key = bundle::inputs_key(p);
        if !bundles.built.contains_key(&key) {
            match bundle::build(self.root, p) {
                Ok(b) => {
                    bundles.built.insert(key.clone(), b);
                }
                Err(err) => {
                    run.bundles.push(Diagnostic::error(Code::Io, format!("cannot read the job files of pipeline `{}`: {err}", p.name)));
                    return None;
                }
            }
        }
        let b = &bundles.built[&key];
        let here = p.places.job.clone().unwrap_or_else(|| p.places.file.clone());
        let builder = validate::repository::Builder { pipeline: &p.name, env: &e.env.name, at: &here };
        match bundles.by_name.get(&b.name) {
            Some((existing, first, there)) => {
                if let Some(diff) = existing.difference(b) {
                    run.bundles.push(validate::repository::bundle_conflict(&b.name, &diff, (first, there), &builder));
                }
            }
            None => {
                bundles.by_name.insert(b.name.clone(), (b.clone(), builder.who(), here.clone()));
            }
        }
        validate::repository::registry(self.project, self.repo, p, &mut run.bundles).map(|r| b.reference(r))
    }

    /// Renders and patches a batch for one env (both cores, order kept) and, for
    /// [`Output::Everything`], emits it.
    fn render_batch(
        &self,
        e: &EnvInput,
        run: &mut EnvRun,
        models: &mut [Pipeline],
        images: &[Option<String>],
        out: Output,
        sink: &dyn Sink,
    ) {
        let mut resources: Vec<Resource> = models
            .par_iter()
            .zip(images)
            .flat_map_iter(|(p, img)| render::pipeline(self.project, p, img.as_deref().unwrap_or_default()))
            .collect();
        if let Some(ps) = &mut run.patches {
            ps.apply(&mut resources, &mut run.render);
        }
        if self.keep_pipelines {
            keep_objects(models, &resources);
        }
        // After the patches: the namespaces unit follows the FlinkDeployments as emitted.
        for r in resources.iter().filter(|r| r.kind == "FlinkDeployment") {
            let sas = run.namespaces.entry(r.namespace.clone().unwrap_or_default()).or_default();
            sas.extend(r.body["spec"]["serviceAccount"].as_str().map(str::to_string));
        }
        if out == Output::Everything {
            emit_units(&e.env.name, resources, run, sink);
            self.emit_unit_objects(&e.env, models, sink);
        }
    }

    /// Each pipeline's Argo CD Application or Flux Kustomization, with exactly its own ignore
    /// rules.
    fn emit_unit_objects(&self, env: &Env, models: &[Pipeline], sink: &dyn Sink) {
        // Every pipeline has a FlinkDeployment, so a managed env with pipelines has the unit.
        let namespaces_unit = env.manages_namespaces(self.project);
        models.par_iter().for_each(|p| {
            let fields = delivery::runtime_fields(std::slice::from_ref(p));
            let (dir, r) = match self.project.delivery.tool {
                DeliveryTool::ArgoCd => (ARGOCD_DIR, delivery::argocd_pipeline(self.project, env, p, &fields, self.project_path)),
                DeliveryTool::Flux => {
                    (FLUX_DIR, delivery::flux_pipeline(self.project, env, p, &fields, namespaces_unit, self.project_path))
                }
                DeliveryTool::None => return,
            };
            sink.put(layout::unit_file(dir, &env.name, &p.name), emit::resource(&r).into_bytes());
        });
    }

    /// The env's files that need all its pipelines: the namespaces unit, the kustomization
    /// listing the units and the root Argo CD Application or Flux Kustomization.
    fn finish_env(&self, e: &EnvInput, run: &mut EnvRun, sink: &dyn Sink) {
        let env = &e.env;
        let mut units = vec![];
        if env.manages_namespaces(self.project) && !run.namespaces.is_empty() {
            emit_namespaces_unit(self.project, env, &run.namespaces, self.project_path, sink);
            units.push(NAMESPACES_UNIT.to_string());
        }
        run.units.sort();
        units.extend(run.units.iter().cloned());
        let header: Vec<String> = run.header_sources.iter().cloned().collect();
        sink.put(layout::env_kustomization(&env.name), emit::kustomization_in_order(&units, &header).into_bytes());
        let (dir, root, namespaces) = match self.project.delivery.tool {
            DeliveryTool::ArgoCd => (
                ARGOCD_DIR,
                delivery::argocd_root(self.project, env, self.project_path),
                delivery::argocd_namespaces(self.project, env, self.project_path),
            ),
            DeliveryTool::Flux => (
                FLUX_DIR,
                delivery::flux_root(self.project, env, self.project_path),
                delivery::flux_namespaces(self.project, env, self.project_path),
            ),
            DeliveryTool::None => return,
        };
        sink.put(layout::root_file(dir, &env.name), emit::resource(&root).into_bytes());
        if units.first().is_some_and(|u| u == NAMESPACES_UNIT) {
            sink.put(layout::unit_file(dir, &env.name, NAMESPACES_UNIT), emit::resource(&namespaces).into_bytes());
        }
    }
}

/// The `_namespaces` unit of an env (SPEC §13.2): `_namespaces/<namespace>/<kind>-<name>.yaml`
/// for each namespace holding a FlinkDeployment, and its kustomization.
fn emit_namespaces_unit(
    project: &Project,
    env: &Env,
    namespaces: &BTreeMap<String, BTreeSet<String>>,
    project_file: &str,
    sink: &dyn Sink,
) {
    let mut files = vec![];
    let mut header = BTreeSet::new();
    for (ns, sas) in namespaces {
        for r in delivery::namespace_objects(project, env, ns, sas, project_file) {
            let rel = format!("{ns}/{}-{}.yaml", r.kind.to_ascii_lowercase(), r.name);
            header.extend(r.sources.iter().cloned());
            sink.put(format!("{}/{rel}", layout::unit_dir(&env.name, NAMESPACES_UNIT)), emit::resource(&r).into_bytes());
            files.push(rel);
        }
    }
    let header: Vec<String> = header.into_iter().collect();
    sink.put(layout::unit_kustomization(&env.name, NAMESPACES_UNIT), emit::kustomization(&files, &header).into_bytes());
}

/// Emits the objects of a batch of pipelines (both cores) into the sink, and each pipeline's
/// kustomization listing its files; notes the units and sources for the env's kustomization.
/// The objects are consumed — and so freed — on the worker threads.
fn emit_units(env: &str, resources: Vec<Resource>, run: &mut EnvRun, sink: &dyn Sink) {
    // Pipeline → (its files relative to its folder, the sources of its objects).
    let mut units: BTreeMap<&str, (Vec<String>, BTreeSet<&str>)> = BTreeMap::new();
    let mut names = vec![];
    for r in &resources {
        let p = r.pipeline.as_deref().expect("pipeline objects belong to a pipeline");
        let unit = units.entry(p).or_default();
        unit.0.push(format!("{}-{}.yaml", r.kind.to_ascii_lowercase(), r.name));
        unit.1.extend(r.sources.iter().map(String::as_str));
    }
    for (p, (_, sources)) in &units {
        run.header_sources.extend(sources.iter().map(|s| s.to_string()));
        names.push(p.to_string());
    }
    // On both cores too: emitting and comparing 30,000 kustomizations one after another left the
    // second core idle for a tenth of `check`.
    let units: Vec<_> = units.into_iter().collect();
    units.par_iter().for_each(|(p, (files, sources))| {
        let header: Vec<String> = sources.iter().map(|s| s.to_string()).collect();
        sink.put(layout::unit_kustomization(env, p), emit::kustomization(files, &header).into_bytes());
    });
    drop(units);
    resources.into_par_iter().for_each(|r| sink.put(format!("out/{env}/{}", r.file_name()), emit::resource(&r).into_bytes()));
    run.units.extend(names);
}

/// Records every key of `t` under `prefix` (dotted paths; arrays as one value) with the layer
/// `layer` gives the file its value was written in.
fn record_keys(t: &Table, prefix: &str, layer: &dyn Fn(crate::diag::FileId) -> Layer, out: &mut KeyOrigins) {
    for (k, e) in &t.entries {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match &e.node.value {
            Value::Table(inner) => record_keys(inner, &path, layer, out),
            _ => {
                out.insert(path, Origin { layer: layer(e.node.loc.file), at: Some(e.node.loc.clone()) });
            }
        }
    }
}

/// Where the keys of a pipeline's merged table came from: the overlay, the pipeline file or a
/// template, told apart by the file each value was read from.
fn pipeline_origins(t: &Table, pipeline_file: crate::diag::FileId, overlay_file: Option<crate::diag::FileId>) -> KeyOrigins {
    let mut out = KeyOrigins::new();
    let layer = |f| {
        if Some(f) == overlay_file {
            Layer::OverlayPipeline
        } else if f == pipeline_file {
            Layer::PipelineFile
        } else {
            Layer::Template
        }
    };
    record_keys(t, "", &layer, &mut out);
    // A preset stands for the entries: they come from it, named where `preset` is written.
    let preset = t.get("autoscaling").and_then(|a| match &a.node.value {
        Value::Table(a) => a.get("preset"),
        _ => None,
    });
    if let Some(e) = preset
        && let Value::String(name) = &e.node.value
    {
        out.insert("autoscaling.schedule".into(), Origin { layer: Layer::Preset(name.clone()), at: Some(e.node.loc.clone()) });
    }
    out
}

/// Where the keys of an overlay's `[env]` table are.
fn env_origins(es: &EnvSource) -> KeyOrigins {
    let mut out = KeyOrigins::new();
    if let Some(Value::Table(t)) = es.table.as_ref().and_then(|t| t.get("env")).map(|e| &e.node.value) {
        record_keys(t, "", &|_| Layer::OverlayEnv, &mut out);
    }
    out
}

/// Where the keys of `flinkops.toml` are, as `section.key`.
fn project_origins(t: &Table) -> KeyOrigins {
    let mut out = KeyOrigins::new();
    for (section, e) in &t.entries {
        if let Value::Table(inner) = &e.node.value {
            record_keys(inner, section, &|_| Layer::Project(section.clone()), &mut out);
        }
    }
    out
}

/// Gives each pipeline of a batch the objects rendered for it (after the patches, which keep
/// kinds and names), in emit order.
fn keep_objects(models: &mut [Pipeline], resources: &[Resource]) {
    let index: HashMap<String, usize> = models.iter().enumerate().map(|(i, p)| (p.name.clone(), i)).collect();
    for r in resources {
        if let Some(&i) = r.pipeline.as_ref().and_then(|p| index.get(p)) {
            models[i].objects.push(EmittedObject { kind: r.kind.clone(), name: r.name.clone(), file: r.file_name() });
        }
    }
}
