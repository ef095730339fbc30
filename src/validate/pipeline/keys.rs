//! Validate phase: the top-level keys of one pipeline: `name`, `namespace`, `description`,
//! `labels` (`extends` was resolved when the file was read, see [`crate::spec`]).
//!
//! In: the pipeline as read ([`raw::Pipeline`]), the file stem, the environment and project defaults. Out: the
//! pipeline's name, namespace, description and labels (the environment's merged under its own);
//! every problem pushed as a diagnostic.

use indexmap::IndexMap;

use super::Ctx;
use crate::diag::{Code, Diagnostic, Diagnostics, Loc};
use crate::spec::raw;
use crate::validate::names::{is_dns1123_label, not_a_label};
use crate::validate::project::labels;

/// The pipeline's identity and metadata.
pub(super) struct Top {
    pub name: String,
    pub namespace: String,
    pub description: Option<String>,
    pub labels: IndexMap<String, String>,
}

/// `file`: the whole pipeline, the place of a name taken from the file stem.
pub(super) fn top(p: &raw::Pipeline, file: &Loc, cx: &Ctx<'_>, d: &mut Diagnostics) -> Top {
    let name = match &p.name {
        Some(n) => {
            check_name(&n.value, Some(&n.loc), None, d);
            n.value.clone()
        }
        None => {
            check_name(cx.stem, None, Some(&Loc { file: file.file, span: file.span.start..file.span.start }), d);
            cx.stem.to_string()
        }
    };
    let namespace = match &p.namespace {
        Some(n) if is_dns1123_label(&n.value) => n.value.clone(),
        Some(n) => {
            d.push(not_a_label("namespace", &n.value).at(&n.loc).label("invalid namespace"));
            n.value.clone()
        }
        None => cx.env.namespace.clone().unwrap_or_else(|| cx.project.defaults.namespace.clone()),
    };
    let description = p.description.as_ref().map(|s| s.value.clone());
    let mut all_labels = cx.env.labels.clone();
    if let Some(l) = p.labels.as_ref().and_then(|l| l.table()) {
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
