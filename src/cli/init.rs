//! `flinkops init [DIR]`: scaffold a working repository — flinkops.toml, one pipeline with its
//! job, two overlays and a CI workflow — and generate its out/.

use std::path::PathBuf;

use super::{Exit, Global, fail, report};
use flinkops::compile::{Options, compile};
use flinkops::diag::{Code, Diagnostic};
use flinkops::sync;

/// Scaffold a working repo (flinkops.toml, one pipeline, two overlays, CI workflow)
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to create it (default: the current directory)
    #[arg(value_name = "DIR", default_value = ".")]
    dir: PathBuf,
}

fn project_name(dir: &std::path::Path) -> String {
    let raw = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "flink-pipelines".into());
    let mut s: String = raw.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    s = s.trim_matches('-').to_string();
    s.truncate(40);
    let s = s.trim_end_matches('-').to_string();
    if s.is_empty() || !s.starts_with(|c: char| c.is_ascii_alphanumeric()) { "flink-pipelines".into() } else { s }
}

const PIPELINE: &str = r#"# One streaming pipeline. Every key is described in the flinkops README and `flinkops schema`.
description = "Counts events per key"
labels = { team = "data" }

[flink]
version = "2.2.1"
slots = 2
checkpoint_dir = "s3://flink/{env}/{name}/checkpoints"
savepoint_dir = "s3://flink/{env}/{name}/savepoints"

[job]
kind = "python"
script = "jobs/event_counts/main.py"
parallelism = 2
upgrade_mode = "savepoint"

[resources]
profile = "small"

[autoscaling]
mode = "hpa"              # an HPA on CPU, paired with Flink's reactive mode
min_replicas = 1
max_replicas = 3
"#;

const JOB: &str = r#""""Counts events per key: a minimal PyFlink job to start from."""
from pyflink.datastream import StreamExecutionEnvironment


def main() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_collection([("a", 1), ("b", 1), ("a", 1)]).key_by(lambda e: e[0]).reduce(
        lambda x, y: (x[0], x[1] + y[1])
    ).print()
    env.execute("event-counts")


if __name__ == "__main__":
    main()
"#;

/// The CI workflows a new repository gets (drift check + PR diff comment; image builds).
const WORKFLOW: &str = include_str!("init/flinkops.yml");
const IMAGES_WORKFLOW: &str = include_str!("init/images.yml");

pub fn run(args: &Args, g: &Global) -> Result<(), Exit> {
    let dir = &args.dir;
    if dir.join("flinkops.toml").exists() {
        return Err(fail(Diagnostic::error(
            Code::AlreadyExists,
            format!("{} already holds a flinkops.toml; nothing was written", dir.display()),
        )));
    }
    let name = project_name(dir);
    let project = format!(
        r#"[project]
name = "{name}"
repo_url = "https://git.example.com/team/{name}.git"   # what Argo CD pulls: change it
revision = "main"

[target]
operator = "1.15"
kubernetes = "1.30"

[defaults]
namespace = "flink-jobs"
timezone = "UTC"
registry = "registry.example.com/team"                 # where bundle images are pushed: change it

# manage_namespaces = false                            # when a platform team provides namespaces and the Flink service account

[delivery]
# One delivery unit per pipeline (out/<env>/<pipeline>/), each with its own Argo CD Application in
# out/argocd/<env>/, created by one root Application per env. Bootstrap once per env:
#   kubectl apply -n argocd -f out/argocd/dev.yaml
# With tool = "flux": kubectl apply -f out/flux/dev.yaml (or point a Flux Kustomization at ./out/flux/dev).
tool = "argocd"
"#
    );
    let files: [(&str, String); 7] = [
        ("flinkops.toml", project),
        ("pipelines/event-counts.toml", PIPELINE.to_string()),
        ("jobs/event_counts/main.py", JOB.to_string()),
        ("overlays/dev/overlay.toml", "[env]\nnamespace = \"flink-dev\"\n\n[pipelines.event-counts]\nresources.profile = \"micro\"\nautoscaling.mode = \"disabled\"\n".to_string()),
        ("overlays/prod/overlay.toml", "[env]\nnamespace = \"flink-prod\"\n\n[pipelines.event-counts]\nresources.profile = \"medium\"\nautoscaling.max_replicas = 5\n".to_string()),
        (".github/workflows/flinkops.yml", WORKFLOW.to_string()),
        (".github/workflows/images.yml", IMAGES_WORKFLOW.to_string()),
    ];
    for (rel, _) in &files {
        let path = dir.join(rel);
        if path.exists() {
            return Err(fail(Diagnostic::error(
                Code::AlreadyExists,
                format!("{} already exists; nothing more was written", path.display()),
            )));
        }
    }
    for (rel, text) in &files {
        let path = dir.join(rel);
        let written = path.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| std::fs::write(&path, text));
        if let Err(e) = written {
            return Err(fail(Diagnostic::error(Code::Io, format!("cannot write {}: {e}", path.display()))));
        }
    }
    let c = compile(dir, &Options::default());
    // The scaffold is ours: a problem in it is a bug in flinkops, not in the user's input.
    report(&c.diagnostics, &c.sources).map_err(|_| Exit::Internal)?;
    let changes = sync::plan(dir, &c.files, &c.scope).map_err(fail)?;
    sync::apply(dir, &changes).map_err(fail)?;
    g.info(format!("created a flinkops repository in {} ({} files in out/)", dir.display(), c.files.len()));
    g.info("next: edit flinkops.toml (repo_url, registry), then `flinkops generate` after every change");
    g.info(
        "layout: out/<env>/<pipeline>/ is one delivery unit per pipeline, out/<env>/_namespaces/ the namespaces and Flink \
         service accounts, out/argocd/<env>/ one Application per unit",
    );
    g.info("deploy: once the repository is pushed, `kubectl apply -n argocd -f out/argocd/dev.yaml` (and prod): that root Application creates the others");
    Ok(())
}
