//! Day-2 phase, edit: the format-preserving edit of one TOML file (`toml_edit`).
//!
//! In: the file's text, which table owns the keys ([`Owner`]) and the `job` keys with their new
//! values. Out: the edited text, in which only those keys changed (comments, order, spacing,
//! quote style and line endings stay), or why the file cannot be edited that way. No I/O.

use toml_edit::{DocumentMut, InlineTable, Item, Table, Value};

/// Which TOML file is edited.
#[derive(Debug, Clone, Copy)]
pub(super) enum Owner<'a> {
    /// `pipelines/<file>.toml`: keys go to the root `[job]`.
    PipelineFile,
    /// `overlays/<env>/overlay.toml`: keys go to `[pipelines.<name>]` → `job`.
    Overlay { pipeline: &'a str },
}

/// A table that can hold the keys: a standard (or dotted) table, or an inline table.
enum Slot<'a> {
    Table(&'a mut Table),
    Inline(&'a mut InlineTable),
}

/// The TOML text of a value without its surrounding whitespace or comment.
pub(super) fn raw(v: &Value) -> String {
    v.clone().decorated("", "").to_string()
}

/// Edits `text`, setting each key of the owner's `job` table; everything else stays byte for byte.
pub(super) fn edit(text: &str, owner: Owner<'_>, settings: &[(&str, Value)]) -> Result<String, String> {
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| format!("invalid TOML: {}", e.message()))?;
    let mut slot = match owner {
        Owner::PipelineFile => pipeline_job(&mut doc)?,
        Owner::Overlay { pipeline } => overlay_job(&mut doc, pipeline)?,
    };
    for (key, value) in settings {
        set(&mut slot, key, value.clone())?;
    }
    let mut out = doc.to_string();
    if text.contains("\r\n") {
        // Lines we add follow the file's line endings.
        out = out.replace("\r\n", "\n").replace('\n', "\r\n");
    }
    if text.is_empty() {
        out = out.trim_start_matches('\n').to_string();
    }
    Ok(out)
}

/// Where a new root-level table goes so that it renders before the first `[[array]]` of tables
/// (`[[tasks]]`, `[[patches]]`), or at the end when there is none.
fn before_first_array(root: &Table) -> Option<isize> {
    root.iter()
        .filter_map(|(_, v)| v.as_array_of_tables())
        .flat_map(|a| a.iter().filter_map(Table::position).collect::<Vec<_>>())
        .min()
        .map(|p| p - 1)
}

fn pipeline_job(doc: &mut DocumentMut) -> Result<Slot<'_>, String> {
    let root = doc.as_table_mut();
    if !root.contains_key("job") {
        let mut t = Table::new();
        t.set_position(before_first_array(root));
        root.insert("job", Item::Table(t));
    }
    match root.get_mut("job") {
        Some(Item::Table(t)) => Ok(Slot::Table(t)),
        Some(Item::Value(Value::InlineTable(t))) => Ok(Slot::Inline(t)),
        _ => Err("`job` is not a table".into()),
    }
}

fn overlay_job<'a>(doc: &'a mut DocumentMut, pipeline: &str) -> Result<Slot<'a>, String> {
    // A file of comments only (an environment without overrides) keeps them as the document's
    // trailing text, which toml_edit would print after the new table: keep them on top.
    let mut header = None;
    if doc.as_table().is_empty() {
        let trailing = doc.trailing().as_str().unwrap_or_default().to_string();
        if !trailing.trim().is_empty() {
            doc.set_trailing("");
            header = Some(format!("{}\n\n", trailing.trim_end()));
        }
    }
    let root = doc.as_table_mut();
    let position = before_first_array(root);
    if !root.contains_key("pipelines") {
        let mut p = Table::new();
        p.set_implicit(true);
        root.insert("pipelines", Item::Table(p));
    }
    match root.get_mut("pipelines") {
        Some(Item::Table(p)) => {
            if !p.contains_key(pipeline) {
                let mut t = Table::new();
                // The first pipeline table goes before [[patches]]; later ones follow their siblings.
                if !p.iter().any(|(_, v)| v.is_table()) {
                    t.set_position(position);
                }
                if let Some(h) = header {
                    t.decor_mut().set_prefix(h);
                }
                p.insert(pipeline, Item::Table(t));
            }
            match p.get_mut(pipeline) {
                Some(Item::Table(t)) => job_in_table(t, pipeline),
                Some(Item::Value(Value::InlineTable(t))) => job_in_inline(t, pipeline),
                _ => Err(format!("`pipelines.{pipeline}` is not a table")),
            }
        }
        Some(Item::Value(Value::InlineTable(p))) => {
            if !p.contains_key(pipeline) {
                p.insert(pipeline, Value::InlineTable(InlineTable::new()));
            }
            match p.get_mut(pipeline) {
                Some(Value::InlineTable(t)) => job_in_inline(t, pipeline),
                _ => Err(format!("`pipelines.{pipeline}` is not a table")),
            }
        }
        _ => Err("`pipelines` is not a table".into()),
    }
}

/// The `job` table inside `[pipelines.<name>]`, created in the form that fits the table.
fn job_in_table<'a>(t: &'a mut Table, pipeline: &str) -> Result<Slot<'a>, String> {
    if !t.contains_key("job") {
        let only_subtables = !t.is_empty() && t.iter().all(|(_, v)| matches!(v, Item::Table(s) if !s.is_dotted()));
        let mut job = Table::new();
        job.set_dotted(t.is_dotted() || !only_subtables);
        t.insert("job", Item::Table(job));
    }
    match t.get_mut("job") {
        Some(Item::Table(j)) => Ok(Slot::Table(j)),
        Some(Item::Value(Value::InlineTable(j))) => Ok(Slot::Inline(j)),
        _ => Err(format!("`pipelines.{pipeline}.job` is not a table")),
    }
}

fn job_in_inline<'a>(t: &'a mut InlineTable, pipeline: &str) -> Result<Slot<'a>, String> {
    if !t.contains_key("job") {
        t.insert("job", Value::InlineTable(InlineTable::new()));
    }
    match t.get_mut("job") {
        Some(Value::InlineTable(j)) => Ok(Slot::Inline(j)),
        _ => Err(format!("`pipelines.{pipeline}.job` is not a table")),
    }
}

/// Sets one key, keeping an existing value's surrounding whitespace and comment, and the quote
/// style of a literal string ('…').
fn set(slot: &mut Slot<'_>, key: &str, mut value: Value) -> Result<(), String> {
    let existing: Option<&mut Value> = match slot {
        Slot::Table(t) => match t.get_mut(key) {
            Some(Item::Value(v)) => Some(v),
            Some(Item::None) | None => None,
            Some(_) => return Err(format!("`job.{key}` is a table, not a value")),
        },
        Slot::Inline(t) => t.get_mut(key),
    };
    match existing {
        Some(old) => {
            if let (Some(new), true) = (value.as_str(), raw(old).starts_with('\''))
                && !new.contains('\'')
                && !new.contains('\n')
                && let Ok(literal) = format!("'{new}'").parse::<Value>()
            {
                value = literal;
            }
            let decor = old.decor().clone();
            *value.decor_mut() = decor;
            *old = value;
        }
        None => match slot {
            Slot::Table(t) => {
                t.insert(key, Item::Value(value));
            }
            Slot::Inline(t) => {
                t.insert(key, value);
            }
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_all(text: &str, owner: Owner<'_>, settings: &[(&str, Value)]) -> String {
        edit(text, owner, settings).unwrap()
    }

    #[test]
    fn an_existing_key_keeps_its_spacing_and_comment() {
        let text = "[job]\nkind = \"python\"\nsavepoint_nonce   = 3  # three\n\n[resources]\nprofile = \"x\"\n";
        let out = set_all(text, Owner::PipelineFile, &[("savepoint_nonce", Value::from(4))]);
        assert_eq!(out, text.replace("= 3  #", "= 4  #"));
    }

    #[test]
    fn a_literal_string_stays_literal() {
        let text = "[job]\nstate = 'running' # why\n";
        let out = set_all(text, Owner::PipelineFile, &[("state", Value::from("suspended"))]);
        assert_eq!(out, "[job]\nstate = 'suspended' # why\n");
    }

    #[test]
    fn a_new_key_goes_at_the_end_of_the_job_table() {
        let text = "[job]\nkind = \"python\"\n\n# sizes\n[resources]\nprofile = \"x\"\n";
        let out = set_all(text, Owner::PipelineFile, &[("restart_nonce", Value::from(1))]);
        assert_eq!(out, "[job]\nkind = \"python\"\nrestart_nonce = 1\n\n# sizes\n[resources]\nprofile = \"x\"\n");
    }

    #[test]
    fn a_missing_job_table_is_created_before_the_tasks() {
        let text = "extends = \"templates/t.toml\"\n\n[flink]\nversion = \"2.2.1\"\n\n[[tasks]]\nname = \"a\"\n";
        let out = set_all(text, Owner::PipelineFile, &[("savepoint_nonce", Value::from(6))]);
        assert_eq!(
            out,
            "extends = \"templates/t.toml\"\n\n[flink]\nversion = \"2.2.1\"\n\n[job]\nsavepoint_nonce = 6\n\n[[tasks]]\nname = \"a\"\n"
        );
    }

    #[test]
    fn dotted_job_keys_at_the_root_stay_dotted() {
        let text = "job.kind = \"python\"\n\n[flink]\nversion = \"2.2.1\"\n";
        let out = set_all(text, Owner::PipelineFile, &[("state", Value::from("suspended"))]);
        assert_eq!(out, "job.kind = \"python\"\njob.state = \"suspended\"\n\n[flink]\nversion = \"2.2.1\"\n");
    }

    #[test]
    fn an_overlay_gets_a_dotted_key_in_its_pipeline_table() {
        let text = "[env]\nnamespace = \"x\"\n\n[pipelines.a]\nresources.profile = \"micro\"\n\n[[patches]]\nops = []\n";
        let out = set_all(text, Owner::Overlay { pipeline: "a" }, &[("savepoint_nonce", Value::from(1))]);
        assert_eq!(out, text.replace("\"micro\"\n", "\"micro\"\njob.savepoint_nonce = 1\n"));
    }

    #[test]
    fn an_overlay_job_subtable_is_used_when_present() {
        let text = "[pipelines.a.job]\nparallelism = 2 # small\n";
        let out = set_all(text, Owner::Overlay { pipeline: "a" }, &[("restart_nonce", Value::from(3))]);
        assert_eq!(out, "[pipelines.a.job]\nparallelism = 2 # small\nrestart_nonce = 3\n");
    }

    #[test]
    fn an_overlay_of_subtables_gets_a_job_subtable() {
        let text = "[pipelines.a.resources]\nprofile = \"micro\"\n";
        let out = set_all(text, Owner::Overlay { pipeline: "a" }, &[("restart_nonce", Value::from(1))]);
        assert_eq!(out, "[pipelines.a.resources]\nprofile = \"micro\"\n\n[pipelines.a.job]\nrestart_nonce = 1\n");
    }

    #[test]
    fn a_missing_overlay_pipeline_table_is_created_before_the_patches() {
        let text = "[env]\nnamespace = \"x\"\n\n# patches\n[[patches]]\nops = []\n";
        let out = set_all(text, Owner::Overlay { pipeline: "a" }, &[("state", Value::from("suspended"))]);
        assert_eq!(out, "[env]\nnamespace = \"x\"\n\n[pipelines.a]\njob.state = \"suspended\"\n\n# patches\n[[patches]]\nops = []\n");
    }

    #[test]
    fn a_second_overlay_pipeline_table_follows_the_first() {
        let text = "[pipelines.a]\nresources.profile = \"micro\"\n\n[[patches]]\nops = []\n";
        let out = set_all(text, Owner::Overlay { pipeline: "b" }, &[("restart_nonce", Value::from(1))]);
        assert_eq!(out, "[pipelines.a]\nresources.profile = \"micro\"\n\n[pipelines.b]\njob.restart_nonce = 1\n\n[[patches]]\nops = []\n");
    }

    #[test]
    fn an_empty_overlay_file_gets_just_the_table() {
        let out = set_all("", Owner::Overlay { pipeline: "a" }, &[("savepoint_nonce", Value::from(1))]);
        assert_eq!(out, "[pipelines.a]\njob.savepoint_nonce = 1\n");
    }

    #[test]
    fn an_overlay_of_comments_only_keeps_them_above_the_new_table() {
        let out = set_all("# Staging: no overrides.\n", Owner::Overlay { pipeline: "a" }, &[("savepoint_nonce", Value::from(1))]);
        assert_eq!(out, "# Staging: no overrides.\n\n[pipelines.a]\njob.savepoint_nonce = 1\n");
    }

    #[test]
    fn crlf_files_stay_crlf() {
        let text = "[job]\r\nkind = \"python\"\r\n";
        let out = set_all(text, Owner::PipelineFile, &[("restart_nonce", Value::from(1))]);
        assert_eq!(out, "[job]\r\nkind = \"python\"\r\nrestart_nonce = 1\r\n");
    }

    #[test]
    fn a_job_that_is_not_a_table_is_refused() {
        assert!(edit("job = 3\n", Owner::PipelineFile, &[("restart_nonce", Value::from(1))]).is_err());
    }
}
