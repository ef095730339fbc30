//! Model phase (images): the bundled stream-job image of each pipeline (SPEC §9.1).
//!
//! In: a checked pipeline and the repository on disk. Out: a [`Bundle`]: the Dockerfile, the
//! `Dockerfile.dockerignore` allow-list, `image.json`, and the content-addressed tag
//! `<flink version>-<12 hex of sha256(Dockerfile, every bundled file's path and bytes)>`.
//! Pipelines (and environments) that share a bundle must produce the same one.

use std::path::Path;

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::model::{JobKind, Pipeline};

/// Where bundled job files live inside the image (SPEC §13.1): never `/opt/flink/usrlib`. In
/// standalone application mode the operator sets `pipeline.classpaths` from `jarURI` and its
/// `UserLibMountDecorator` (flink-kubernetes-standalone, operator release-1.15.0,
/// `kubeclient/decorators/UserLibMountDecorator.java`) mounts an empty directory over
/// `/opt/flink/usrlib` on the JobManager, hiding whatever the image put there.
pub const JOB_DIR: &str = "/opt/flink/job";
/// The Python interpreter PyFlink is installed into (`python.executable`, SPEC §13.6).
pub const PYTHON: &str = "/opt/flink/pyenv/bin/python";
/// `apache-flink` publishes no Linux aarch64 wheels: a python image is always built for amd64.
pub const PYTHON_PLATFORM: &str = "linux/amd64";

/// The uid of the `flink` user in the official images.
pub const FLINK_UID: u32 = 9999;
/// Where the Python virtual environment of python jobs lives in the image.
pub const PYENV: &str = "/opt/flink/pyenv";

/// The runner of `sql` jobs: executes a SQL file's statements with PyFlink's TableEnvironment
/// (all INSERTs as one statement set). flinkops writes it next to the bundle's Dockerfile.
pub const SQL_RUNNER: &str = include_str!("bundle/sql_runner.py");
/// Where the runner lives in the image.
pub const SQL_RUNNER_IN_IMAGE: &str = "/opt/flink/job/flinkops/sql_runner.py";

/// `out/images/<bundle>/sql_runner.py`: the runner's place in the repository (the build context).
pub fn sql_runner_path(bundle: &str) -> String {
    format!("out/images/{bundle}/sql_runner.py")
}

/// One file copied into the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleFile {
    /// Repository-relative path, `/`-separated.
    pub path: String,
    pub sha256: String,
}

/// The image spec of one bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub name: String,
    pub tag: String,
    pub dockerfile: String,
    pub dockerignore: String,
    pub files: Vec<BundleFile>,
    /// `image.json` content (without the full reference, which needs the registry).
    pub base_image: String,
    pub flink_version: String,
    pub java: u32,
    pub pyflink: Option<String>,
    pub requirements: Vec<String>,
    pub connectors: Vec<(String, String, String)>,
    /// Whether the bundle carries the SQL runner (written to `out/images/<bundle>/sql_runner.py`).
    pub sql_runner: bool,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Files that never go into an image: hidden files and folders, Python caches.
fn always_excluded(name: &str) -> bool {
    name.starts_with('.') || name == "__pycache__" || name.ends_with(".pyc") || name.ends_with(".pyo")
}

/// The repository-relative paths a job bundles, sorted.
pub fn bundled_paths(root: &Path, p: &Pipeline) -> std::io::Result<Vec<String>> {
    let mut globs = globset::GlobSetBuilder::new();
    for g in &p.job.exclude {
        if let Ok(g) = globset::Glob::new(g) {
            globs.add(g);
        }
    }
    let exclude = globs.build().unwrap_or_else(|_| globset::GlobSet::empty());
    let mut out = vec![];
    match &p.job.kind {
        JobKind::Python { script } => {
            let folder = script.rsplit_once('/').map(|(d, _)| d);
            match folder {
                // A script at the repository root bundles itself alone, never the whole repository.
                None => out.push(script.clone()),
                Some(folder) => {
                    let walker = walkdir::WalkDir::new(root.join(folder))
                        .sort_by_file_name()
                        .into_iter()
                        .filter_entry(|e| e.depth() == 0 || !always_excluded(&e.file_name().to_string_lossy()));
                    for e in walker {
                        let e = e.map_err(std::io::Error::other)?;
                        if !e.file_type().is_file() {
                            continue;
                        }
                        let rel = e.path().strip_prefix(root).map_err(std::io::Error::other)?;
                        let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                        if !exclude.is_match(&rel) {
                            out.push(rel);
                        }
                    }
                }
            }
        }
        JobKind::Jar { jar, .. } => out.push(jar.clone()),
        JobKind::Sql { sql } => out.push(sql.clone()),
    }
    out.sort();
    Ok(out)
}

fn dockerfile(p: &Pipeline, files: &[String]) -> String {
    let v = p.flink.version;
    let mut s = format!("# Generated by flinkops for bundle {}. Do not edit.\n", p.job.bundle);
    let python = matches!(p.job.kind, JobKind::Python { .. } | JobKind::Sql { .. });
    if python {
        s.push_str(&format!("FROM --platform={PYTHON_PLATFORM} {}\n", v.base_image(p.flink.java)));
    } else {
        s.push_str(&format!("FROM {}\n", v.base_image(p.flink.java)));
    }
    s.push_str("USER root\n");
    if python {
        // A virtual environment: the newer base images are Ubuntu releases whose system Python
        // refuses `pip install` (PEP 668). `python` on PATH is what PyFlink starts.
        let mut pkgs = vec![format!("apache-flink=={v}")];
        pkgs.extend(p.job.requirements.iter().cloned());
        s.push_str("RUN set -eux; \\\n");
        s.push_str("    apt-get update; \\\n");
        s.push_str("    apt-get install -y --no-install-recommends python3 python3-venv; \\\n");
        s.push_str("    rm -rf /var/lib/apt/lists/*; \\\n");
        s.push_str(&format!("    python3 -m venv {PYENV}; \\\n"));
        s.push_str(&format!("    {PYENV}/bin/pip install --no-cache-dir {}\n", pkgs.join(" ")));
        s.push_str(&format!("ENV PATH={PYENV}/bin:$PATH\n"));
    }
    for c in &p.job.connectors {
        // Remote ADDs default to mode 600 (root only); the job runs as the flink user.
        s.push_str(&format!("ADD --chmod=0644 {} /opt/flink/lib/\n", c.url()));
    }
    for f in files {
        s.push_str(&format!("COPY --chmod=0644 {f} {JOB_DIR}/{f}\n"));
    }
    if matches!(p.job.kind, JobKind::Sql { .. }) {
        s.push_str(&format!("COPY --chmod=0644 {} {SQL_RUNNER_IN_IMAGE}\n", sql_runner_path(&p.job.bundle)));
    }
    s.push_str(&format!("USER {FLINK_UID}\n"));
    s
}

fn dockerignore(bundle: &str, files: &[String], sql: bool) -> String {
    let mut s = format!("# Generated by flinkops for bundle {bundle}. Do not edit.\n# The build sees only the bundled files.\n*\n");
    for f in files {
        s.push_str(&format!("!{f}\n"));
    }
    if sql {
        s.push_str(&format!("!{}\n", sql_runner_path(bundle)));
    }
    s
}

/// Everything [`build`] reads from a pipeline: equal keys build equal bundles.
pub fn inputs_key(p: &Pipeline) -> String {
    format!(
        "{}|{}|{}|{:?}|{:?}|{:?}|{:?}",
        p.job.bundle, p.flink.version, p.flink.java, p.job.kind, p.job.requirements, p.job.connectors, p.job.exclude
    )
}

/// Builds the bundle of one pipeline from the files on disk.
pub fn build(root: &Path, p: &Pipeline) -> std::io::Result<Bundle> {
    let paths = bundled_paths(root, p)?;
    let dockerfile = dockerfile(p, &paths);
    let mut tag_hash = Sha256::new();
    tag_hash.update(dockerfile.as_bytes());
    let mut files = vec![];
    for path in &paths {
        let bytes = std::fs::read(root.join(path))?;
        // Path, NUL, length, bytes: unambiguous even when one file's bytes look like a path.
        tag_hash.update(path.as_bytes());
        tag_hash.update([0]);
        tag_hash.update((bytes.len() as u64).to_le_bytes());
        tag_hash.update(&bytes);
        files.push(BundleFile { path: path.clone(), sha256: hex(&Sha256::digest(&bytes)) });
    }
    let sql = matches!(p.job.kind, JobKind::Sql { .. });
    if sql {
        // The runner is part of the image: a new flinkops runner means a new tag.
        let path = sql_runner_path(&p.job.bundle);
        tag_hash.update(path.as_bytes());
        tag_hash.update([0]);
        tag_hash.update((SQL_RUNNER.len() as u64).to_le_bytes());
        tag_hash.update(SQL_RUNNER.as_bytes());
        files.push(BundleFile { path, sha256: hex(&Sha256::digest(SQL_RUNNER.as_bytes())) });
    }
    let digest = hex(&tag_hash.finalize());
    let v = p.flink.version.to_string();
    Ok(Bundle {
        name: p.job.bundle.clone(),
        tag: format!("{v}-{}", &digest[..12]),
        dockerignore: dockerignore(&p.job.bundle, &paths, sql),
        dockerfile,
        files,
        base_image: p.flink.version.base_image(p.flink.java),
        flink_version: v.clone(),
        java: p.flink.java,
        pyflink: matches!(p.job.kind, JobKind::Python { .. } | JobKind::Sql { .. }).then(|| v.clone()),
        requirements: p.job.requirements.clone(),
        connectors: p.job.connectors.iter().map(|c| (c.name.to_string(), c.version.to_string(), c.url())).collect(),
        sql_runner: sql,
    })
}

impl Bundle {
    /// `<registry>/<bundle>:<tag>`
    pub fn reference(&self, registry: &str) -> String {
        format!("{registry}/{}:{}", self.name, self.tag)
    }

    /// `image.json`: what CI builds and what is inside.
    pub fn image_json(&self, registry: &str) -> String {
        let v = json!({
            "generated_by": "flinkops",
            "name": self.name,
            "image": self.reference(registry),
            "tag": self.tag,
            "base_image": self.base_image,
            "flink_version": self.flink_version,
            "java": self.java,
            "pyflink_version": self.pyflink,
            "requirements": self.requirements,
            "connectors": self.connectors.iter().map(|(n, v, u)| json!({"name": n, "version": v, "url": u})).collect::<Vec<_>>(),
            "files": self.files.iter().map(|f| json!({"path": f.path, "sha256": f.sha256})).collect::<Vec<_>>(),
        });
        let mut s = serde_json::to_string_pretty(&v).expect("JSON values always serialize");
        s.push('\n');
        s
    }

    /// What differs between two specs of the same bundle, for the "pipelines disagree" error.
    pub fn difference(&self, other: &Bundle) -> Option<String> {
        if self.flink_version != other.flink_version {
            return Some(format!("flink.version {} vs {}", self.flink_version, other.flink_version));
        }
        if self.java != other.java {
            return Some(format!("flink.java {} vs {}", self.java, other.java));
        }
        if self.requirements != other.requirements {
            return Some(format!("job.requirements [{}] vs [{}]", self.requirements.join(", "), other.requirements.join(", ")));
        }
        if self.connectors != other.connectors {
            let names = |b: &Bundle| b.connectors.iter().map(|c| c.0.clone()).collect::<Vec<_>>().join(", ");
            return Some(format!("job.connectors [{}] vs [{}]", names(self), names(other)));
        }
        if self.files != other.files {
            return Some("the bundled job files (job kind, script, jar or exclude)".into());
        }
        (self.dockerfile != other.dockerfile).then(|| "the image recipe".into())
    }
}
