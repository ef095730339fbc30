//! Validate phase: the top-level keys of one pipeline: `name`, `namespace`, `description`,
//! `labels` (`extends` was resolved when the file was read, see [`crate::spec`]).
//!
//! In: the pipeline table, the file stem, the environment and project defaults. Out: the
//! pipeline's name, namespace, description and labels (the environment's merged under its own);
//! every problem pushed as a diagnostic.

use indexmap::IndexMap;

use super::Ctx;
use crate::diag::{Code, Diagnostic, Diagnostics, Loc};
use crate::spec::Table;
use crate::validate::names::{is_dns1123_label, not_a_label};
use crate::validate::project::labels;
use crate::validate::read::*;

/// The keys of the pipeline file, from the key registry (like the JSON Schemas and docs/reference.md).
pub const PIPELINE_KEYS: &[&str] = crate::spec::raw::Pipeline::FIELDS;

/// The pipeline's identity and metadata.
pub(super) struct Top {
    pub name: String,
    pub namespace: String,
    pub description: Option<String>,
    pub labels: IndexMap<String, String>,
}

pub(super) fn top(t: &Table, cx: &Ctx<'_>, d: &mut Diagnostics) -> Top {
    let name = match opt_str(t, "name", "the pipeline", d) {
        Some(n) => {
            check_name(&n.value, Some(&n.loc), None, d);
            n.value
        }
        None => {
            check_name(cx.stem, None, Some(&Loc { file: t.loc.file, span: t.loc.span.start..t.loc.span.start }), d);
            cx.stem.to_string()
        }
    };
    let namespace = match opt_str(t, "namespace", "the pipeline", d) {
        Some(n) if is_dns1123_label(&n.value) => n.value,
        Some(n) => {
            d.push(not_a_label("namespace", &n.value).at(&n.loc).label("invalid namespace"));
            n.value
        }
        None => cx.env.namespace.clone().unwrap_or_else(|| cx.project.defaults.namespace.clone()),
    };
    let description = opt_str(t, "description", "the pipeline", d).map(|s| s.value);
    let mut all_labels = cx.env.labels.clone();
    if let Some(l) = opt_table(t, "labels", "the pipeline", d) {
        all_labels.extend(labels(l, "[labels]", d));
    }
    all_labels.sort_keys();
    Top { name, namespace, description, labels: all_labels }
}

/// `loc`: the `name = …` value; `file`: the start of the file whose stem is the name.
fn check_name(name: &str, loc: Option<&Loc>, file: Option<&Loc>, d: &mut Diagnostics) {
    if is_dns1123_label(name) && name.len() <= 45 {
        return;
    }
    let mut diag = Diagnostic::error(Code::InvalidName, format!("pipeline name {name:?} is not a DNS-1123 label of at most 45 characters"))
        .at_opt(loc.or(file))
        .label(if loc.is_some() { "invalid pipeline name" } else { "the file name is the pipeline name" })
        .note("the name prefixes every object name (e.g. `<name>-scaler`, CronJob `<name>-<entry>`), so it must stay short");
    if loc.is_none() {
        diag = diag.help("rename the file, or set `name = \"...\"` in it: lower-case letters, digits and `-`");
    }
    d.push(diag);
}
