//! Golden fixtures: each folder under tests/fixtures/ is a small flinkops repository whose
//! committed `out/` is the expected output. The test compiles each in memory and compares byte
//! for byte; every expected file was reviewed by hand when it was blessed, and every manifest is
//! also validated against the upstream schemas (an oracle we did not write).
//!
//! To re-bless after an intended change: `FLINKOPS_BLESS=1 cargo test --test golden`, then
//! review `git diff tests/fixtures`.

#[path = "support/schemas.rs"]
mod schemas;
mod support;

use std::path::{Path, PathBuf};

use flinkops::compile::{Options, compile};
use flinkops::sync;
use flinkops::versions::Operator;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.join("flinkops.toml").is_file()).collect();
    v.sort();
    v
}

fn schema_operator(op: Operator) -> schemas::Operator {
    match op {
        Operator::V1_15 => schemas::Operator::V1_15,
        Operator::V1_16 => schemas::Operator::V1_16,
    }
}

/// Compiles a repository and compares (or, when blessing, writes) its out/.
fn check_repo(root: &Path) -> Result<schemas::Operator, String> {
    let c = compile(root, &Options::default());
    if c.has_errors() {
        return Err(format!("{}: {}", root.display(), flinkops::diag::render_all(&c.diagnostics, &c.sources, false)));
    }
    let changes = sync::plan(root, &c.files, &c.scope).unwrap();
    if std::env::var_os("FLINKOPS_BLESS").is_some() {
        sync::apply(root, &changes).unwrap();
    } else if !changes.is_empty() {
        let diffs: String = changes.iter().map(sync::unified_diff).collect();
        return Err(format!("{} differs from its expected out/:\n{diffs}", root.display()));
    }
    Ok(schema_operator(c.project.unwrap().operator))
}

#[test]
fn every_fixture_renders_exactly_its_expected_out() {
    let mut failures = vec![];
    for f in fixtures() {
        if let Err(e) = check_repo(&f) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_fixture_manifest_validates_strictly_against_the_upstream_schemas() {
    let mut failures = vec![];
    for f in fixtures() {
        // A fixture that does not compile cannot say which operator's schemas apply: that is a
        // failure of its own (reported by the test above too), never a default.
        let op = check_repo(&f).unwrap_or_else(|e| panic!("{e}"));
        failures.extend(schemas::validate_tree(&f.join("out"), op));
    }
    assert!(failures.is_empty(), "{}", schemas::report(&failures));
}

#[test]
fn the_example_out_validates_strictly_against_the_upstream_schemas() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let c = compile(root, &Options::default());
    assert!(!c.has_errors(), "{}", flinkops::diag::render_all(&c.diagnostics, &c.sources, false));
    let op = schema_operator(c.project.expect("a project without errors").operator);
    let failures = schemas::validate_tree(&root.join("out"), op);
    assert!(failures.is_empty(), "{}", schemas::report(&failures));
}

#[test]
fn the_same_spec_validates_in_both_operator_shapes() {
    // The 1.16 fixture rendered for operator 1.15 must use `resource`, and pass the 1.15 CRD.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jar-operator-1-16-flux");
    let dir = tempfile::tempdir().unwrap();
    support::copy_specs(&src, dir.path());
    let toml = std::fs::read_to_string(dir.path().join("flinkops.toml")).unwrap();
    std::fs::write(dir.path().join("flinkops.toml"), toml.replace("operator = \"1.16\"", "operator = \"1.15\"")).unwrap();
    let pipe = dir.path().join("pipelines/enricher.toml");
    let text = std::fs::read_to_string(&pipe).unwrap();
    std::fs::write(&pipe, text.replace("version = \"2.3.0\"", "version = \"2.2.1\"")).unwrap();
    let c = compile(dir.path(), &Options::default());
    assert!(!c.has_errors(), "{}", flinkops::diag::render_all(&c.diagnostics, &c.sources, false));
    let fd = &c.files["out/base/enricher/flinkdeployment-enricher.yaml"];
    let text = String::from_utf8(fd.clone()).unwrap();
    assert!(text.contains("    resource:\n      cpu: 2.0\n      memory: 4096m\n"), "{text}");
    schemas::validate_yaml_str(&text, schemas::Operator::V1_15).unwrap();
    assert!(schemas::validate_yaml_str(&text.replace("resource:", "resources:"), schemas::Operator::V1_15).is_err());
}
