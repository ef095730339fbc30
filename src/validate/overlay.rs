//! Validate phase: an overlay's `[pipelines.<name>]` table merged over a pipeline's table
//! (SPEC §3's last layer, §13.5).
//!
//! In: the pipeline's merged spanned table (templates and pipeline file) and the overlay's table
//! for it. Out: the table validation reads, plus a diagnostic for every task the overlay names
//! that the pipeline does not have. Everything deep-merges as [`Table::merge`] does, except
//! `tasks`: the pipeline writes tasks as an array (`[[tasks]]`), the overlay as a table keyed by
//! task name (`[pipelines.<name>.tasks.<task>]`), which is merged into the task of that name —
//! `enabled` replaces, `params` merges table by table (a secret reference `{ secret, key }` is a
//! table, so it replaces a plain value and a plain value replaces it).

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::spec::raw::{self, OverlayTask, suggest};
use crate::spec::{Node, Table, Value};

/// The keys an overlay may set on a task (its name is its identity).
const OVERLAY_TASK_KEYS: &[&str] = OverlayTask::FIELDS;

/// Merges the overlay's `over` (its `[pipelines.<pipeline>]`) into `table`.
pub fn merge(table: &mut Table, over: &Table, pipeline: &str, d: &mut Diagnostics) {
    let mut rest = Table::empty(over.loc.clone());
    for (k, e) in &over.entries {
        if let Some(why) = pipeline_file_only(k) {
            // Merged, `name` would rename the pipeline in this environment alone (other object
            // names, another bundle, the overlay no longer keyed by it); `extends` was resolved
            // with the pipeline file and would do nothing.
            d.push(
                Diagnostic::error(Code::OverlayPipelineFileKey, format!("`{k}` cannot be set in an overlay's [pipelines.{pipeline}]"))
                    .at(&e.key_loc)
                    .label(why.0)
                    .help(why.1),
            );
            continue;
        }
        if k != "tasks" {
            rest.entries.insert(k.clone(), e.clone());
            continue;
        }
        let Value::Table(tasks) = &e.node.value else {
            d.push(
                Diagnostic::error(
                    Code::WrongType,
                    format!("`pipelines.{pipeline}.tasks` must be a table of task names, found {}", e.node.value.type_name()),
                )
                .at(&e.node.loc)
                .label("expected a table")
                .help(format!("write `[pipelines.{pipeline}.tasks.<task>]` with `enabled` and/or `params`")),
            );
            continue;
        };
        merge_tasks(table, tasks, pipeline, d);
    }
    table.merge(&rest);
}

/// Why a key of a pipeline file cannot be set by an overlay (label, help), if it cannot.
fn pipeline_file_only(key: &str) -> Option<(&'static str, &'static str)> {
    match key {
        "name" => Some((
            "a pipeline's name is the same in every environment",
            "rename the pipeline in its own file; the overlay's table is keyed by that name",
        )),
        "extends" => Some((
            "templates are merged into the pipeline file, before any overlay",
            "set the template's keys here directly, or add `extends` to the pipeline file",
        )),
        _ => None,
    }
}

/// Reports the keys of an overlay's task table that [`OverlayTask`] does not have. Only those:
/// the values are checked after the merge, as the pipeline's task's, where a wrong one is
/// reported once, at the place it was written.
fn check_task_keys(node: &Node, pipeline: &str, task: &str, d: &mut Diagnostics) {
    let mut all = Diagnostics::default();
    let _: Option<OverlayTask> =
        raw::from_node(node, task, &format!("[pipelines.{pipeline}.tasks]"), &format!("pipelines.{pipeline}.tasks.{task}"), &mut all);
    d.items.extend(all.items.into_iter().filter(|x| x.code == Code::UnknownKey));
}

/// The pipeline's task names, in file order.
fn task_names(table: &Table) -> Vec<String> {
    let Some(Value::Array(items)) = table.get("tasks").map(|e| &e.node.value) else { return vec![] };
    items
        .iter()
        .filter_map(|n| match &n.value {
            Value::Table(t) => match t.get("name").map(|e| &e.node.value) {
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn merge_tasks(table: &mut Table, over: &Table, pipeline: &str, d: &mut Diagnostics) {
    let names = task_names(table);
    for (task, e) in &over.entries {
        let Value::Table(changes) = &e.node.value else {
            d.push(
                Diagnostic::error(
                    Code::WrongType,
                    format!("`pipelines.{pipeline}.tasks.{task}` must be a table, found {}", e.node.value.type_name()),
                )
                .at(&e.node.loc)
                .label("expected a table")
                .help("give `enabled = true|false` and/or a `params` table"),
            );
            continue;
        };
        check_task_keys(&e.node, pipeline, task, d);
        let Some(index) = names.iter().position(|n| n == task) else {
            let known: Vec<&str> = names.iter().map(String::as_str).collect();
            let mut diag = Diagnostic::error(Code::UnknownOverlayTask, format!("pipeline `{pipeline}` has no task `{task}`"))
                .at(&e.key_loc)
                .label("no [[tasks]] entry of this name");
            diag = match (suggest(task, &known), known.is_empty()) {
                (Some(s), _) => diag.help(format!("did you mean `{s}`?")),
                (None, true) => diag.help(format!("pipeline `{pipeline}` has no [[tasks]]; remove this table")),
                (None, false) => diag.help(format!("its tasks are: {}", known.join(", "))),
            };
            d.push(diag);
            continue;
        };
        let mut allowed = Table::empty(changes.loc.clone());
        for (k, v) in &changes.entries {
            if OVERLAY_TASK_KEYS.contains(&k.as_str()) {
                allowed.entries.insert(k.clone(), v.clone());
            }
        }
        let Some(entry) = table.entries.get_mut("tasks") else { continue };
        let Value::Array(items) = &mut entry.node.value else { continue };
        // `names` holds only table items with a string name; find the same item again.
        let item = items
            .iter_mut()
            .filter_map(|n| match &mut n.value {
                Value::Table(t) if matches!(t.get("name").map(|e| &e.node.value), Some(Value::String(_))) => Some(t),
                _ => None,
            })
            .nth(index);
        if let Some(t) = item {
            t.merge(&allowed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Sources;
    use crate::spec::value::parse;

    fn merged(pipeline: &str, overlay: &str) -> (Table, Vec<String>) {
        let mut sources = Sources::default();
        let mut d = Diagnostics::default();
        let mut t = parse(sources.add("pipelines/p.toml", pipeline), pipeline, &mut d).unwrap();
        let o = parse(sources.add("overlays/dev/overlay.toml", overlay), overlay, &mut d).unwrap();
        merge(&mut t, &o, "p", &mut d);
        (t, d.items.iter().map(|x| format!("{x:?}")).collect())
    }

    fn task(t: &Table, i: usize) -> &Table {
        let Value::Array(items) = &t.get("tasks").unwrap().node.value else { panic!("tasks is not an array") };
        let Value::Table(t) = &items[i].value else { panic!("task is not a table") };
        t
    }

    fn get<'t>(t: &'t Table, path: &[&str]) -> &'t Value {
        let mut t = t;
        for (i, k) in path.iter().enumerate() {
            let v = &t.get(k).unwrap_or_else(|| panic!("no {k}")).node.value;
            if i + 1 == path.len() {
                return v;
            }
            let Value::Table(next) = v else { panic!("{k} is not a table") };
            t = next;
        }
        unreachable!()
    }

    const PIPELINE: &str = r#"
[autoscaling]
mode = "scheduled"
[[tasks]]
name = "etl"
enabled = true
[tasks.params]
source = { kind = "kafka", topic = "events", group_id = "prod" }
hosts = ["a", "b"]
password = "plain"
[[tasks]]
name = "metrics"
enabled = true
"#;

    #[test]
    fn overlay_task_params_merge_table_by_table_and_replace_scalars_and_arrays() {
        let (t, d) = merged(
            PIPELINE,
            r#"
autoscaling.mode = "disabled"
[tasks.etl.params]
source = { group_id = "dev" }
hosts = ["c"]
"#,
        );
        assert!(d.is_empty(), "{d:?}");
        let etl = task(&t, 0);
        assert!(matches!(get(etl, &["params", "source", "group_id"]), Value::String(s) if s == "dev"));
        assert!(matches!(get(etl, &["params", "source", "topic"]), Value::String(s) if s == "events"), "siblings survive");
        assert!(matches!(get(etl, &["params", "hosts"]), Value::Array(a) if a.len() == 1), "arrays replace");
        assert!(matches!(get(&t, &["autoscaling", "mode"]), Value::String(s) if s == "disabled"), "other keys still merge");
        assert!(matches!(get(task(&t, 1), &["enabled"]), Value::Boolean(true)), "other tasks untouched");
    }

    #[test]
    fn overlay_can_disable_a_task_and_swap_a_plain_value_for_a_secret() {
        let (t, d) = merged(
            PIPELINE,
            r#"
[tasks.metrics]
enabled = false
[tasks.etl.params]
password = { secret = "dev-auth", key = "password" }
"#,
        );
        assert!(d.is_empty(), "{d:?}");
        assert!(matches!(get(task(&t, 1), &["enabled"]), Value::Boolean(false)));
        assert!(matches!(get(task(&t, 0), &["params", "password", "secret"]), Value::String(s) if s == "dev-auth"));
    }

    #[test]
    fn unknown_task_in_an_overlay_names_the_nearest_one() {
        let (_, msgs) = merged(PIPELINE, "[tasks.metric]\nenabled = false\n");
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        assert!(msgs[0].contains("pipeline `p` has no task `metric`") && msgs[0].contains("did you mean `metrics`?"), "{msgs:?}");
    }

    #[test]
    fn an_overlay_may_not_rename_a_task_or_set_unknown_keys() {
        let (t, d) = merged(PIPELINE, "[tasks.etl]\nname = \"other\"\n");
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].contains("unknown key `name`"), "{d:?}");
        assert!(matches!(get(task(&t, 0), &["name"]), Value::String(s) if s == "etl"));
    }
}
