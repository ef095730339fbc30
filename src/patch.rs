//! Patch phase: an environment's `[[patches]]` (RFC 6902 JSON Patch) and `[[merge_patches]]`
//! (RFC 7396 JSON Merge Patch) applied to the objects rendered for that environment (SPEC §8).
//!
//! In: the overlay's spanned table and the env's rendered [`Resource`]s. Out: the patched
//! resources, or diagnostics: a target that matches nothing, a malformed operation, or a failing
//! one (naming the overlay file, the patch, the operation index and the JSON pointer). All
//! `[[patches]]` apply in file order, then all `[[merge_patches]]`.

use std::path::Path;

use serde_json::Value as Json;

use crate::diag::{Code, Diagnostic, Diagnostics, Loc};
use crate::render::Resource;
use crate::spec::{Node, Table, Value};
use crate::validate::read::{check_keys, opt_str, opt_table};

// From the raw overlay types (spec::raw), like the overlay's JSON Schema and docs/reference.md.
const PATCH_KEYS: &[&str] = crate::spec::raw::Patch::FIELDS;
const MERGE_KEYS: &[&str] = crate::spec::raw::MergePatch::FIELDS;
const TARGET_KEYS: &[&str] = crate::spec::raw::PatchTarget::FIELDS;

/// Which resources a patch applies to; every given field must match.
#[derive(Debug, Default)]
struct Target {
    group: Option<String>,
    version: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    labels: Vec<(String, String)>,
}

impl Target {
    fn matches(&self, r: &Resource) -> bool {
        let (group, version) = r.api_version.rsplit_once('/').unwrap_or(("", r.api_version.as_str()));
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        let labels = &r.body["metadata"]["labels"];
        eq(&self.group, group)
            && eq(&self.version, version)
            && eq(&self.kind, &r.kind)
            && eq(&self.name, &r.name)
            && eq(&self.namespace, r.namespace.as_deref().unwrap_or(""))
            && self.labels.iter().all(|(k, v)| labels.get(k).and_then(Json::as_str) == Some(v))
    }
}

fn target(t: &Table, d: &mut Diagnostics) -> Target {
    check_keys(t, "a patch target", TARGET_KEYS, d);
    let s = |k: &str, d: &mut Diagnostics| opt_str(t, k, "a patch target", d).map(|v| v.value);
    let mut labels = vec![];
    if let Some(l) = opt_table(t, "labels", "a patch target", d) {
        for (k, e) in &l.entries {
            match &e.node.value {
                Value::String(v) => labels.push((k.clone(), v.clone())),
                other => d.push(
                    Diagnostic::error(
                        Code::WrongType,
                        format!("label `{k}` in a patch target must be a string, found {}", other.type_name()),
                    )
                    .at(&e.node.loc)
                    .label("expected a string"),
                ),
            }
        }
    }
    Target { group: s("group", d), version: s("version", d), kind: s("kind", d), name: s("name", d), namespace: s("namespace", d), labels }
}

/// Converts a spanned TOML node into JSON (for patch values).
pub fn to_json(n: &Node) -> Json {
    match &n.value {
        Value::String(s) | Value::Datetime(s) => Json::String(s.clone()),
        Value::Integer(i) => Json::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::Boolean(b) => Json::Bool(*b),
        Value::Array(a) => Json::Array(a.iter().map(to_json).collect()),
        Value::Table(t) => Json::Object(t.entries.iter().map(|(k, e)| (k.clone(), to_json(&e.node))).collect()),
    }
}

/// Fields that identify an object; a patch that changes them would break file names and pruning.
const IDENTITY: [&str; 4] = ["/apiVersion", "/kind", "/metadata/name", "/metadata/namespace"];

fn identity(v: &Json) -> [Json; 4] {
    IDENTITY.map(|p| v.pointer(p).cloned().unwrap_or(Json::Null))
}

/// What one patch does to a matching object.
enum Action {
    Json(Vec<json_patch::PatchOperation>),
    Merge(Json),
}

/// One checked patch, with how many objects it has matched so far.
struct Prepared {
    label: String,
    at: Loc,
    target: Target,
    action: Action,
    matched: usize,
}

/// An overlay's patches, read and checked once, then applied to the env's objects batch by batch
/// (so an env never has to be in memory whole) and finally checked for targets that matched
/// nothing.
pub struct PatchSet {
    overlay_file: String,
    patches: Vec<Prepared>,
}

impl PatchSet {
    /// Reads `[[patches]]` and `[[merge_patches]]`; malformed entries become diagnostics.
    /// `overlay_dir` is the overlay folder (repository-relative), `overlay_file` its
    /// `overlay.toml` path for messages and headers.
    pub fn prepare(root: &Path, overlay_dir: &str, overlay_file: &str, t: &Table, d: &mut Diagnostics) -> PatchSet {
        let mut patches = vec![];
        for (key, known, what) in [("patches", PATCH_KEYS, "[[patches]]"), ("merge_patches", MERGE_KEYS, "[[merge_patches]]")] {
            let Some(e) = t.get(key) else { continue };
            let Value::Array(items) = &e.node.value else {
                d.push(
                    Diagnostic::error(Code::WrongType, format!("`{key}` must be an array of tables ({what})"))
                        .at(&e.node.loc)
                        .label("not an array"),
                );
                continue;
            };
            for (i, n) in items.iter().enumerate() {
                let Value::Table(p) = &n.value else {
                    d.push(
                        Diagnostic::error(Code::WrongType, format!("each {what} entry must be a table")).at(&n.loc).label("not a table"),
                    );
                    continue;
                };
                check_keys(p, what, known, d);
                let label = format!("{overlay_file}: {what} #{}", i + 1);
                let action = if key == "patches" {
                    match patch_ops(root, overlay_dir, p, d) {
                        Some(ops) => Action::Json(ops),
                        None => continue,
                    }
                } else {
                    match p.get("patch") {
                        Some(patch) => Action::Merge(to_json(&patch.node)),
                        None => {
                            d.push(
                                Diagnostic::error(Code::PatchIncomplete, "[[merge_patches]] needs `patch`")
                                    .at(&p.loc)
                                    .help("e.g. patch = { spec = { suspend = true } }"),
                            );
                            continue;
                        }
                    }
                };
                let tgt = match opt_table(p, "target", "a patch", d) {
                    Some(t) => target(t, d),
                    None => {
                        d.push(
                            Diagnostic::error(Code::PatchIncomplete, format!("{label} needs a `target`"))
                                .at(&p.loc)
                                .help("e.g. target = { kind = \"FlinkDeployment\", name = \"my-pipeline\" }"),
                        );
                        continue;
                    }
                };
                let at = p.get("target").map_or(&p.loc, |e| &e.node.loc).clone();
                patches.push(Prepared { label, at, target: tgt, action, matched: 0 });
            }
        }
        PatchSet { overlay_file: overlay_file.to_string(), patches }
    }

    /// Whether the overlay has no (well-formed) patch at all.
    pub fn is_empty(&self) -> bool {
        self.patches.is_empty()
    }

    /// Applies every patch, in order, to the objects of a batch (both cores: each object is
    /// patched on its own).
    pub fn apply(&mut self, resources: &mut [Resource], d: &mut Diagnostics) {
        use rayon::prelude::*;
        let results: Vec<(Vec<usize>, Vec<Diagnostic>)> = resources.par_iter_mut().map(|r| self.apply_one(r)).collect();
        // Diagnostics in object order; `Diagnostics::sort` orders them by patch.
        for (matched, diags) in results {
            for i in matched {
                self.patches[i].matched += 1;
            }
            for x in diags {
                d.push(x);
            }
        }
    }

    /// Applies every matching patch to one object: which patches matched, and what failed.
    fn apply_one(&self, r: &mut Resource) -> (Vec<usize>, Vec<Diagnostic>) {
        let (mut matched, mut diags) = (vec![], vec![]);
        for (i, p) in self.patches.iter().enumerate() {
            // Matched against the object as the earlier patches left it.
            if !p.target.matches(r) {
                continue;
            }
            matched.push(i);
            let before = identity(&r.body);
            // In place: json-patch leaves the document unchanged when an operation fails.
            let doc = &mut r.body;
            let result = match &p.action {
                Action::Json(ops) => json_patch::patch(doc, ops).map_err(|e| (e.operation, e.path.to_string(), e.kind.to_string())),
                Action::Merge(m) => {
                    json_patch::merge(doc, m);
                    Ok(())
                }
            };
            if let Err((op, pointer, why)) = result {
                diags.push(
                    Diagnostic::error(
                        Code::PatchOperationFailed,
                        format!("{}, operation #{op} at `{pointer}` failed on {} `{}`: {why}", p.label, r.kind, r.name),
                    )
                    .at(&p.at)
                    .label("this patch")
                    .help("check the path against the generated object in out/ (JSON pointers are /-separated, ~1 escapes a `/`)"),
                );
                continue;
            }
            if identity(doc) != before {
                diags.push(
                    Diagnostic::error(
                        Code::PatchChangesIdentity,
                        format!("{} changes the identity (apiVersion, kind, name or namespace) of {} `{}`", p.label, r.kind, r.name),
                    )
                    .at(&p.at)
                    .label("identity fields cannot be patched")
                    .help("change the name or namespace in the pipeline spec or the overlay's [env] instead"),
                );
                continue;
            }
            if !r.sources.contains(&self.overlay_file) {
                r.sources.push(self.overlay_file.clone());
                r.sources.sort();
            }
        }
        (matched, diags)
    }

    /// Reports every patch that matched no object in the whole env.
    pub fn finish(self, d: &mut Diagnostics) {
        for p in self.patches.iter().filter(|p| p.matched == 0) {
            d.push(
                Diagnostic::error(Code::PatchMatchesNothing, format!("{} matches no resource", p.label))
                    .at(&p.at)
                    .label("no generated object has all of these fields")
                    .note("kustomize silently ignores such a patch; flinkops does not")
                    .help("check kind, name, namespace and labels against the files in out/<env>/"),
            );
        }
    }
}

/// Reads the operations of one `[[patches]]` entry: inline `ops` or a JSON/YAML `file`.
fn patch_ops(root: &Path, overlay_dir: &str, p: &Table, d: &mut Diagnostics) -> Option<Vec<json_patch::PatchOperation>> {
    let (json, loc): (Json, Loc) = match (p.get("ops"), opt_str(p, "file", "[[patches]]", d)) {
        (Some(_), Some(f)) => {
            d.push(Diagnostic::error(Code::PatchIncomplete, "a patch has either `ops` or `file`, not both").at(&f.loc).label("remove one"));
            return None;
        }
        (Some(ops), None) => (to_json(&ops.node), ops.node.loc.clone()),
        (None, Some(f)) => {
            let rel = match crate::spec::normalize_repo_path(&format!("{overlay_dir}/{}", f.value)) {
                Ok(r) => r,
                Err(why) => {
                    d.push(
                        Diagnostic::error(Code::PatchFileOutsideRepository, format!("patch file {:?} {why}", f.value))
                            .at(&f.loc)
                            .label("must stay inside the repository"),
                    );
                    return None;
                }
            };
            let text = match std::fs::read_to_string(root.join(&rel)) {
                Ok(t) => t,
                Err(e) => {
                    d.push(
                        Diagnostic::error(Code::PatchFileUnreadable, format!("cannot read patch file `{rel}`: {e}"))
                            .at(&f.loc)
                            .label("relative to the overlay's folder"),
                    );
                    return None;
                }
            };
            match serde_saphyr::from_str::<Json>(&text) {
                Ok(v) => (v, f.loc.clone()),
                Err(e) => {
                    d.push(
                        Diagnostic::error(Code::PatchFileUnreadable, format!("patch file `{rel}` is not JSON or YAML: {e}"))
                            .at(&f.loc)
                            .label("unreadable patch file"),
                    );
                    return None;
                }
            }
        }
        (None, None) => {
            d.push(
                Diagnostic::error(Code::PatchIncomplete, "[[patches]] needs `ops` or `file`")
                    .at(&p.loc)
                    .help("ops = [ { op = \"add\", path = \"/spec/…\", value = … } ]"),
            );
            return None;
        }
    };
    let Json::Array(items) = &json else {
        d.push(
            Diagnostic::error(Code::PatchOperationInvalid, "patch operations must be a list")
                .at(&loc)
                .label("expected a list of RFC 6902 operations"),
        );
        return None;
    };
    let mut ops = vec![];
    for (i, op) in items.iter().enumerate() {
        match serde_json::from_value::<json_patch::PatchOperation>(op.clone()) {
            Ok(o) => ops.push(o),
            Err(e) => {
                d.push(
                    Diagnostic::error(Code::PatchOperationInvalid, format!("operation #{i} is not a valid RFC 6902 operation: {e}"))
                        .at(&loc)
                        .label("in these operations")
                        .help("each operation has `op` (add, remove, replace, move, copy, test), `path`, and `value` or `from`"),
                );
                return None;
            }
        }
    }
    Some(ops)
}
