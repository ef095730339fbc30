//! Strict schema oracle for every manifest flinkops emits (test support, not part of the crate).
//!
//! Include it from an integration test with
//!
//! ```ignore
//! #[path = "support/schemas.rs"]
//! mod schemas;
//! use schemas::Operator;
//!
//! schemas::validate(&doc, Operator::V1_15).unwrap();            // one serde_json::Value
//! schemas::validate_yaml_file(path, Operator::V1_15).unwrap();  // one YAML file
//! let failures = schemas::validate_tree(out_dir, Operator::V1_15);
//! assert!(failures.is_empty(), "{}", schemas::report(&failures));
//! ```
//!
//! Dev-dependencies used: `jsonschema` (0.61, default features off: no network, no file
//! retrieval), `serde_json`, `serde-saphyr`. Nothing from the `flinkops` library.
//!
//! The schemas are the unmodified upstream files under `tests/schemas/` (see its README.md),
//! found through `env!("CARGO_MANIFEST_DIR")`, so `cargo test` works from a clean clone. Each
//! schema is loaded, transformed and compiled at most once per test binary (`OnceLock`), lazily,
//! the first time a document of that kind is validated.
//!
//! What "strict" means here (what a real API server accepts, minus silent pruning):
//!
//! * The schema is chosen from `apiVersion` + `kind`; an unknown pair, a missing or non-string
//!   `apiVersion`/`kind`, or a kind without a schema for the chosen [`Operator`] is an error, so a
//!   manifest can never skip validation.
//! * `metadata.name` must be a non-empty string (the API server rejects objects without a name;
//!   `generateName` does not work with `kubectl apply`/GitOps).
//! * Built-in kinds (ConfigMap, Namespace, Secret, ServiceAccount, CronJob, HPA autoscaling/v2,
//!   Role, RoleBinding) use the Kubernetes 1.30 "strict" JSON Schemas from `kubernetes-validate`:
//!   they already close every object with `additionalProperties: false`. Their
//!   `$ref: "/api/_definitions.json#/$defs/..."` resolves against their `$id`
//!   (`https://kubernetes.io/api/<kind>/...`) to `https://kubernetes.io/api/_definitions.json`,
//!   the `$id` of `kubernetes-v1.30/_definitions.json`, which is put in a `jsonschema::Registry`
//!   under that URI (no retrieval ever happens).
//! * CRD kinds use `spec.versions[name == <version of apiVersion>].schema.openAPIV3Schema`
//!   (the CRD's group and kind are checked against the apiVersion/kind too), turned into a
//!   structural, closed JSON Schema (draft 2020-12):
//!   - every object schema that declares `properties` and has neither `additionalProperties`
//!     nor `x-kubernetes-preserve-unknown-fields: true` gets `additionalProperties: false`
//!     (recursively through `properties`, `items` and `additionalProperties`). This is what the
//!     API server silently prunes and what kubeconform's `-strict` reports.
//!     Inside `allOf`/`anyOf`/`oneOf`/`not` the schemas are value validations only (Kubernetes
//!     structural-schema rules; the API server prunes according to the outer schema), so they
//!     are transformed for nullable / int-or-string but NOT closed: closing a branch would
//!     reject fields declared by its parent. (None of the vendored CRDs declares properties in
//!     a branch today.)
//!   - root `apiVersion`/`kind` are `type: string`, and root `metadata` is replaced by a
//!     `$ref` to the strict Kubernetes `ObjectMeta` from `_definitions.json` (CRDs declare it
//!     as bare `type: object` or not at all, yet the API server validates it as ObjectMeta),
//!     so `metadata.lables` fails. Nested `metadata` (for example a podTemplate's) keeps what
//!     the CRD declares.
//!   - `x-kubernetes-int-or-string: true` without a `type` gets `type: [integer, string]`.
//!   - `nullable: true` admits `null`; without it `null` is rejected (the API server would
//!     prune it, which flinkops must not rely on).
//!   - other `x-kubernetes-*` keywords (list types, CEL `x-kubernetes-validations`, ...) are
//!     ignored; `format` is an annotation only (draft 2020-12 default), as Kubernetes formats
//!     (`int32`, `int64`, `byte`, Go-style durations) differ from JSON Schema's.
//!
//! Errors are strings `"<JSON pointer of the instance location>: <message>"`, sorted; the root
//! is written `(root)`. An unknown field is reported at its own pointer, e.g.
//! `/spec/taskManager/resources: unknown field "resources" ...`.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, OnceLock};

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, Registry, Validator};
use serde_json::{Map, Value, json};

/// Root of the vendored schemas: `<package>/tests/schemas`.
pub const SCHEMA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemas");

/// URI under which `kubernetes-v1.30/_definitions.json` is registered (its own `$id`).
pub const K8S_DEFINITIONS_URI: &str = "https://kubernetes.io/api/_definitions.json";

/// Strict Kubernetes ObjectMeta, used for the top-level `metadata` of every custom resource.
pub const OBJECT_META_REF: &str = "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// Which Flink Kubernetes operator CRDs to validate `flink.apache.org` kinds against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operator {
    /// release-1.15.0: `resource: {cpu, memory, ephemeralStorage}` only, flinkVersion <= v2_2.
    /// Only the FlinkDeployment CRD is vendored for this release.
    V1_15,
    /// operator `main` (1.16-SNAPSHOT): adds `resources: {requests, limits, claims}`,
    /// flinkVersion up to v2_4; FlinkDeployment, FlinkSessionJob and FlinkStateSnapshot.
    V1_16,
}

#[derive(Clone, Copy, Debug)]
enum Source {
    /// A CustomResourceDefinition file (YAML), relative to [`SCHEMA_DIR`].
    Crd(&'static str),
    /// A Kubernetes JSON Schema file, relative to [`SCHEMA_DIR`].
    Kubernetes(&'static str),
}

struct Entry {
    api_version: &'static str,
    kind: &'static str,
    /// `None`: the same schema whatever the operator version.
    operator: Option<Operator>,
    source: Source,
}

const FLINK_DEPLOYMENT_1_15: &str = "flink-operator/release-1.15.0/flinkdeployments.flink.apache.org-v1.yml";
const FLINK_DEPLOYMENT_1_16: &str = "flink-operator/flinkdeployments.flink.apache.org-v1.yml";

/// Every (apiVersion, kind) that has a schema. Anything else is rejected.
const ENTRIES: &[Entry] = &[
    Entry {
        api_version: "flink.apache.org/v1beta1",
        kind: "FlinkDeployment",
        operator: Some(Operator::V1_15),
        source: Source::Crd(FLINK_DEPLOYMENT_1_15),
    },
    Entry {
        api_version: "flink.apache.org/v1beta1",
        kind: "FlinkDeployment",
        operator: Some(Operator::V1_16),
        source: Source::Crd(FLINK_DEPLOYMENT_1_16),
    },
    Entry {
        api_version: "flink.apache.org/v1beta1",
        kind: "FlinkSessionJob",
        operator: Some(Operator::V1_16),
        source: Source::Crd("flink-operator/flinksessionjobs.flink.apache.org-v1.yml"),
    },
    Entry {
        api_version: "flink.apache.org/v1beta1",
        kind: "FlinkStateSnapshot",
        operator: Some(Operator::V1_16),
        source: Source::Crd("flink-operator/flinkstatesnapshots.flink.apache.org-v1.yml"),
    },
    Entry { api_version: "keda.sh/v1alpha1", kind: "ScaledObject", operator: None, source: Source::Crd("keda/keda.sh_scaledobjects.yaml") },
    Entry {
        api_version: "argoproj.io/v1alpha1",
        kind: "Application",
        operator: None,
        source: Source::Crd("gitops/argocd-application-crd.yaml"),
    },
    Entry {
        api_version: "kustomize.toolkit.fluxcd.io/v1",
        kind: "Kustomization",
        operator: None,
        source: Source::Crd("gitops/flux-kustomize.toolkit.fluxcd.io_kustomizations.yaml"),
    },
    Entry { api_version: "v1", kind: "ConfigMap", operator: None, source: Source::Kubernetes("kubernetes-v1.30/configmap-v1.json") },
    Entry { api_version: "v1", kind: "Namespace", operator: None, source: Source::Kubernetes("kubernetes-v1.30/namespace-v1.json") },
    Entry { api_version: "v1", kind: "Secret", operator: None, source: Source::Kubernetes("kubernetes-v1.30/secret-v1.json") },
    Entry {
        api_version: "v1",
        kind: "ServiceAccount",
        operator: None,
        source: Source::Kubernetes("kubernetes-v1.30/serviceaccount-v1.json"),
    },
    Entry {
        api_version: "batch/v1",
        kind: "CronJob",
        operator: None,
        source: Source::Kubernetes("kubernetes-v1.30/cronjob-batch-v1.json"),
    },
    Entry {
        api_version: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        operator: None,
        source: Source::Kubernetes("kubernetes-v1.30/horizontalpodautoscaler-autoscaling-v2.json"),
    },
    Entry {
        api_version: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        operator: None,
        source: Source::Kubernetes("kubernetes-v1.30/role-rbac-v1.json"),
    },
    Entry {
        api_version: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        operator: None,
        source: Source::Kubernetes("kubernetes-v1.30/rolebinding-rbac-v1.json"),
    },
];

/// The (apiVersion, kind) pairs [`validate`] accepts for `operator`.
pub fn supported_kinds(operator: Operator) -> Vec<(&'static str, &'static str)> {
    ENTRIES.iter().filter(|e| e.operator.is_none_or(|o| o == operator)).map(|e| (e.api_version, e.kind)).collect()
}

/// The schema file (relative to [`SCHEMA_DIR`]) that `apiVersion`/`kind` is validated against.
pub fn schema_file(api_version: &str, kind: &str, operator: Operator) -> Option<&'static str> {
    find_entry(api_version, kind, operator).map(|(_, e)| match e.source {
        Source::Crd(file) | Source::Kubernetes(file) => file,
    })
}

fn find_entry(api_version: &str, kind: &str, operator: Operator) -> Option<(usize, &'static Entry)> {
    ENTRIES.iter().enumerate().find(|(_, e)| e.api_version == api_version && e.kind == kind && e.operator.is_none_or(|o| o == operator))
}

/// Validates one Kubernetes object strictly. `Err` holds every problem found, each prefixed
/// with the JSON pointer of the offending instance location.
pub fn validate(doc: &Value, operator: Operator) -> Result<(), Vec<String>> {
    let api_version = doc.get("apiVersion").and_then(Value::as_str);
    let kind = doc.get("kind").and_then(Value::as_str);
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        return Err(vec![format!(
            "(root): a Kubernetes object needs string `apiVersion` and `kind` (got apiVersion {}, kind {})",
            doc.get("apiVersion").map_or("<missing>".to_owned(), Value::to_string),
            doc.get("kind").map_or("<missing>".to_owned(), Value::to_string),
        )]);
    };
    let Some((index, _)) = find_entry(api_version, kind, operator) else {
        let known = supported_kinds(operator).iter().map(|(a, k)| format!("{a} {k}")).collect::<Vec<_>>().join(", ");
        return Err(vec![format!(
            "(root): no schema for apiVersion `{api_version}` kind `{kind}` with operator {operator:?}; \
             known: {known}"
        )]);
    };
    let validator = compiled(index).map_err(|e| vec![e.clone()])?;

    let mut errors = BTreeSet::new();
    for error in validator.iter_errors(doc) {
        let pointer = error.instance_path().to_string();
        match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for field in unexpected {
                    let mut at = pointer.clone();
                    at.push('/');
                    at.push_str(&field.replace('~', "~0").replace('/', "~1"));
                    errors.insert(format!(
                        "{at}: unknown field \"{field}\" (not declared by the schema; \
                         the API server would drop it silently)"
                    ));
                }
            }
            _ => {
                let at = if pointer.is_empty() { "(root)".to_owned() } else { pointer };
                errors.insert(format!("{at}: {error}"));
            }
        }
    }
    match doc.pointer("/metadata/name") {
        Some(Value::String(name)) if !name.is_empty() => {}
        _ => {
            errors.insert("/metadata/name: a non-empty string `metadata.name` is required".to_owned());
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors.into_iter().collect()) }
}

/// Parses one YAML document (comments allowed) into JSON.
pub fn parse_yaml(text: &str) -> Result<Value, String> {
    serde_saphyr::from_str::<Value>(text).map_err(|e| format!("not a single valid YAML document: {e}"))
}

/// Parses one YAML document and validates it with [`validate`].
pub fn validate_yaml_str(text: &str, operator: Operator) -> Result<(), Vec<String>> {
    let doc = parse_yaml(text).map_err(|e| vec![e])?;
    validate(&doc, operator)
}

/// Reads one YAML file (one document, possibly with leading `# ...` comments) and validates it.
pub fn validate_yaml_file(path: &Path, operator: Operator) -> Result<(), Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| vec![format!("cannot read {}: {e}", path.display())])?;
    validate_yaml_str(&text, operator)
}

/// The manifests [`validate_tree`] checks: every `*.yaml` / `*.yml` file under `dir`
/// (recursively, sorted), except kustomize's `kustomization.yaml` / `kustomization.yml`.
pub fn manifest_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
                if yaml && name != "kustomization.yaml" && name != "kustomization.yml" {
                    out.push(path);
                }
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    Ok(files)
}

/// Validates every manifest under `dir` (see [`manifest_files`]) and returns the failing files
/// with their errors; empty means all valid. An unreadable `dir`, or one without any manifest,
/// is reported as a failure of `dir` itself, so a wrong path cannot pass vacuously.
pub fn validate_tree(dir: &Path, operator: Operator) -> Vec<(PathBuf, Vec<String>)> {
    let files = match manifest_files(dir) {
        Ok(files) => files,
        Err(e) => {
            return vec![(dir.to_path_buf(), vec![format!("cannot walk {}: {e}", dir.display())])];
        }
    };
    if files.is_empty() {
        return vec![(dir.to_path_buf(), vec![format!("no *.yaml manifests under {}", dir.display())])];
    }
    files.into_iter().filter_map(|path| validate_yaml_file(&path, operator).err().map(|errors| (path, errors))).collect()
}

/// Human-readable listing of [`validate_tree`] failures, for assertion messages.
pub fn report(failures: &[(PathBuf, Vec<String>)]) -> String {
    let mut out = String::new();
    for (path, errors) in failures {
        let _ = writeln!(out, "{}:", path.display());
        for error in errors {
            let _ = writeln!(out, "  {error}");
        }
    }
    out
}

/// The JSON Schema a document of this apiVersion/kind is validated against, after the strict
/// transformation (CRDs) or as vendored (built-in kinds). For inspecting the oracle in tests.
pub fn effective_schema(api_version: &str, kind: &str, operator: Operator) -> Result<Value, String> {
    let (_, entry) =
        find_entry(api_version, kind, operator).ok_or_else(|| format!("no schema for {api_version} {kind} with operator {operator:?}"))?;
    load(entry)
}

// ---------------------------------------------------------------------------------------------

static REGISTRY: LazyLock<Registry<'static>> = LazyLock::new(|| {
    let definitions = read_json("kubernetes-v1.30/_definitions.json").unwrap_or_else(|e| panic!("schema oracle: {e}"));
    assert_eq!(
        definitions.get("$id").and_then(Value::as_str),
        Some(K8S_DEFINITIONS_URI),
        "kubernetes-v1.30/_definitions.json changed its $id"
    );
    Registry::new()
        .add(K8S_DEFINITIONS_URI, definitions)
        .and_then(|builder| builder.prepare())
        .unwrap_or_else(|e| panic!("schema oracle: cannot register _definitions.json: {e}"))
});

static COMPILED: [OnceLock<Result<Validator, String>>; ENTRIES.len()] = [const { OnceLock::new() }; ENTRIES.len()];

fn compiled(index: usize) -> Result<&'static Validator, &'static String> {
    COMPILED[index]
        .get_or_init(|| {
            let entry = &ENTRIES[index];
            let schema = load(entry)?;
            jsonschema::options()
                .with_draft(Draft::Draft202012)
                .with_registry(&REGISTRY)
                .build(&schema)
                .map_err(|e| format!("(root): cannot compile the schema for {} {}: {e}", entry.api_version, entry.kind))
        })
        .as_ref()
}

fn load(entry: &Entry) -> Result<Value, String> {
    match entry.source {
        Source::Kubernetes(file) => read_json(file),
        Source::Crd(file) => {
            let text = read(file)?;
            let crd = serde_saphyr::from_str::<Value>(&text).map_err(|e| format!("cannot parse {SCHEMA_DIR}/{file}: {e}"))?;
            crd_version_schema(&crd, entry.api_version, entry.kind).map(strict_crd_schema).map_err(|e| format!("{SCHEMA_DIR}/{file}: {e}"))
        }
    }
}

fn read(file: &str) -> Result<String, String> {
    let path = Path::new(SCHEMA_DIR).join(file);
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn read_json(file: &str) -> Result<Value, String> {
    serde_json::from_str(&read(file)?).map_err(|e| format!("cannot parse {SCHEMA_DIR}/{file}: {e}"))
}

/// `spec.versions[name == version].schema.openAPIV3Schema` of a CRD, after checking that the
/// CRD defines `kind` in the group of `api_version` and serves that version.
pub fn crd_version_schema(crd: &Value, api_version: &str, kind: &str) -> Result<Value, String> {
    let (group, version) =
        api_version.split_once('/').ok_or_else(|| format!("`{api_version}` has no group, so it is not a custom resource"))?;
    let spec = crd.get("spec").ok_or("not a CustomResourceDefinition: no spec")?;
    let crd_group = spec.get("group").and_then(Value::as_str);
    let crd_kind = spec.pointer("/names/kind").and_then(Value::as_str);
    if crd_group != Some(group) || crd_kind != Some(kind) {
        return Err(format!("CRD defines group {crd_group:?} kind {crd_kind:?}, not {group:?} {kind:?}"));
    }
    let versions = spec.get("versions").and_then(Value::as_array).ok_or("CRD has no spec.versions")?;
    let entry = versions.iter().find(|v| v.get("name").and_then(Value::as_str) == Some(version)).ok_or_else(|| {
        let names: Vec<_> = versions.iter().filter_map(|v| v.get("name")).collect();
        format!("CRD has no version {version:?} (it has {names:?})")
    })?;
    if entry.get("served").and_then(Value::as_bool) != Some(true) {
        return Err(format!("CRD version {version:?} is not served"));
    }
    entry.pointer("/schema/openAPIV3Schema").cloned().ok_or_else(|| format!("CRD version {version:?} has no schema.openAPIV3Schema"))
}

/// Turns a CRD `openAPIV3Schema` into the strict JSON Schema described in the module docs.
pub fn strict_crd_schema(mut schema: Value) -> Value {
    if let Some(root) = schema.as_object_mut() {
        let properties = root.entry("properties").or_insert_with(|| Value::Object(Map::new()));
        if let Some(properties) = properties.as_object_mut() {
            properties.entry("apiVersion").or_insert_with(|| json!({"type": "string"}));
            properties.entry("kind").or_insert_with(|| json!({"type": "string"}));
            properties.insert("metadata".to_owned(), json!({ "$ref": OBJECT_META_REF }));
        }
        root.entry("type").or_insert_with(|| json!("object"));
    }
    structural(&mut schema, false);
    schema
}

/// Recursive part of [`strict_crd_schema`]. `in_branch`: inside allOf/anyOf/oneOf/not.
fn structural(node: &mut Value, in_branch: bool) {
    let Some(object) = node.as_object_mut() else {
        return;
    };

    if let Some(Value::Object(properties)) = object.get_mut("properties") {
        for child in properties.values_mut() {
            structural(child, in_branch);
        }
    }
    match object.get_mut("items") {
        Some(Value::Array(items)) => items.iter_mut().for_each(|item| structural(item, in_branch)),
        Some(item) => structural(item, in_branch),
        None => {}
    }
    if let Some(additional) = object.get_mut("additionalProperties") {
        structural(additional, in_branch);
    }
    for keyword in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = object.get_mut(keyword) {
            branches.iter_mut().for_each(|branch| structural(branch, true));
        }
    }
    if let Some(not) = object.get_mut("not") {
        structural(not, true);
    }

    let preserve_unknown = object.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    if !in_branch && object.contains_key("properties") && !object.contains_key("additionalProperties") && !preserve_unknown {
        object.insert("additionalProperties".to_owned(), Value::Bool(false));
    }

    if object.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) && !object.contains_key("type") {
        object.insert("type".to_owned(), json!(["integer", "string"]));
    }

    if object.remove("nullable") == Some(Value::Bool(true)) {
        admit_null(node);
    }
}

/// Makes a schema also accept `null` (OpenAPI `nullable: true`).
fn admit_null(node: &mut Value) {
    let Some(object) = node.as_object_mut() else {
        return;
    };
    let combinator = ["allOf", "anyOf", "oneOf", "not"].iter().any(|k| object.contains_key(*k));
    match object.get_mut("type") {
        Some(Value::String(t)) if !combinator => {
            let t = std::mem::take(t);
            object.insert("type".to_owned(), json!([t, "null"]));
            if let Some(Value::Array(options)) = object.get_mut("enum") {
                options.push(Value::Null);
            }
        }
        _ => {
            let inner = std::mem::take(node);
            *node = json!({ "anyOf": [{ "type": "null" }, inner] });
        }
    }
}
