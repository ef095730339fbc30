//! `docs/reference.md`, generated from the raw types (through their JSON Schemas): per file,
//! per table, key | type | default | meaning; then every diagnostic code.
//!
//! In: the schemas of [`json::generate`] with each table in `$defs`, and
//! [`Code::ALL`](crate::diag::Code::ALL). Out: Markdown text (deterministic: field order).
//! `tests/reference.rs` fails when the committed file differs, and rewrites it under
//! `FLINKOPS_BLESS=1`.

use std::fmt::Write;

use serde_json::Value;

use super::{File, json};
use crate::diag::Code;

/// The whole reference.
pub fn reference() -> String {
    let mut out = String::new();
    out.push_str(
        "<!-- Generated from src/spec/raw/ by `FLINKOPS_BLESS=1 cargo test --test reference`. Do not edit. -->\n\
         # flinkops reference\n\n\
         Every key of the three files flinkops reads, with its type, default and meaning. Unknown keys are \
         errors (with the nearest valid key suggested). The JSON Schemas that `flinkops schema project`, \
         `flinkops schema pipeline` and `flinkops schema overlay` print for editors come from the same \
         types the validator reads. \"—\" in the default column: unset unless written. Precedence of a \
         setting that can come from several places, lowest first: built-in default, \
         `flinkops.toml [defaults]`, the overlay's `[env]`, the pipeline file (with its `extends` chain), \
         the overlay's `[pipelines.<name>]`.\n\n",
    );
    let schemas: Vec<(File, Value)> = File::ALL.iter().map(|f| (*f, json::generate(*f, false))).collect();
    for (f, s) in &schemas {
        let _ = writeln!(out, "- [{}](#file-{}) (`flinkops schema {}`)", title(s), f.word(), f.word());
    }
    out.push_str("- [Diagnostic codes](#codes)\n");
    // A table shared by two files (`[cluster]`, the pipeline's tables under an overlay's
    // `[pipelines.<name>]`) is documented where it first appears, and linked to after.
    let mut seen: Vec<String> = vec![];
    for (f, s) in &schemas {
        file(&mut out, *f, s, &mut seen);
    }
    codes(&mut out);
    out
}

fn title(s: &Value) -> &str {
    s["title"].as_str().unwrap_or("")
}

fn file(out: &mut String, f: File, s: &Value, seen: &mut Vec<String>) {
    let _ = write!(out, "\n<a id=\"file-{}\"></a>\n\n## {}\n\n", f.word(), title(s));
    let _ = writeln!(out, "`{}` — JSON Schema: `flinkops schema {}`.\n\n{}", f.paths(), f.word(), s["description"].as_str().unwrap_or(""));
    out.push_str("\n### Top level\n");
    let defs = s.get("$defs").cloned().unwrap_or(Value::Null);
    table(out, s, &defs);
    let mut queue = refs(s);
    while let Some(name) = queue.first().cloned() {
        queue.remove(0);
        if seen.contains(&name) {
            continue;
        }
        seen.push(name.clone());
        let def = &defs[&name];
        let _ = write!(out, "\n<a id=\"{}\"></a>\n\n### {}\n\n{}\n", anchor(&name), title(def), def["description"].as_str().unwrap_or(""));
        if let Some(Value::Array(one_of)) = def.get("oneOf") {
            let keys: Vec<String> = one_of.iter().filter_map(|o| o["required"][0].as_str()).map(|k| format!("`{k}`")).collect();
            let _ = writeln!(out, "\nExactly one of {} must be given.", keys.join(", "));
        }
        if def.get("additionalProperties") != Some(&Value::Bool(false)) {
            out.push_str("\nOther members are allowed and ignored.\n");
        }
        table(out, def, &defs);
        // Depth first, in field order: a table's sub-tables follow it.
        let mut next = refs(def);
        next.append(&mut queue);
        queue = next;
    }
}

/// The `$defs` a table's keys refer to, in field order.
fn refs(s: &Value) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                if let Some(r) = o.get("$ref").and_then(Value::as_str) {
                    let name = r.trim_start_matches("#/$defs/").to_string();
                    if !out.contains(&name) {
                        out.push(name);
                    }
                }
                o.values().for_each(|x| walk(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = vec![];
    if let Some(props) = s.get("properties") {
        walk(props, &mut out);
    }
    out
}

fn table(out: &mut String, s: &Value, defs: &Value) {
    out.push_str("\n| key | type | default | meaning |\n|---|---|---|---|\n");
    let Some(Value::Object(props)) = s.get("properties") else { return };
    for (k, p) in props {
        let desc = p["description"].as_str().unwrap_or("");
        let (meaning, default) = split_description(desc);
        let _ = writeln!(out, "| `{k}` | {} | {} | {} |", cell(&type_text(p, defs)), cell(&default), cell(meaning));
    }
}

/// A description is the meaning, then "Default: …." or "Required…." (see `spec::raw`).
fn split_description(d: &str) -> (&str, String) {
    if let Some((meaning, default)) = d.split_once(" Default: ") {
        return (meaning, default.strip_suffix('.').unwrap_or(default).to_string());
    }
    if let Some((meaning, rest)) = d.split_once(" Required") {
        return (meaning, format!("required{}", rest.strip_suffix('.').unwrap_or(rest)));
    }
    (d, "—".into())
}

fn anchor(def: &str) -> String {
    let mut a = String::new();
    for (i, c) in def.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            a.push('-');
        }
        a.push(c.to_ascii_lowercase());
    }
    a
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn num(v: &Value) -> String {
    match v.as_f64() {
        Some(x) if x.fract() == 0.0 => format!("{}", x as i64),
        Some(x) => format!("{x}"),
        None => v.to_string(),
    }
}

fn link(r: &str, defs: &Value) -> String {
    let name = r.trim_start_matches("#/$defs/");
    format!("[{}](#{})", title(&defs[name]), anchor(name))
}

fn type_text(p: &Value, defs: &Value) -> String {
    let mut t = shape(p, defs);
    let range = match (p.get("minimum"), p.get("exclusiveMinimum"), p.get("maximum")) {
        (_, Some(a), Some(b)) => format!("> {}, ≤ {}", num(a), num(b)),
        (Some(a), None, Some(b)) => format!("{}–{}", num(a), num(b)),
        (_, Some(a), None) => format!("> {}", num(a)),
        (Some(a), None, None) => format!("≥ {}", num(a)),
        (None, None, Some(b)) => format!("≤ {}", num(b)),
        (None, None, None) => String::new(),
    };
    if !range.is_empty() {
        t = format!("{t}, {range}");
    }
    t
}

fn shape(p: &Value, defs: &Value) -> String {
    if let Some(r) = p.get("$ref").and_then(Value::as_str) {
        return format!("table: {}", link(r, defs));
    }
    if let Some(Value::Array(any)) = p.get("anyOf") {
        return any.iter().map(|x| shape(x, defs)).collect::<Vec<_>>().join(" or ");
    }
    if let Some(Value::Array(words)) = p.get("enum") {
        let w: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
        return format!("one of {}", w.join(", "));
    }
    match p.get("type").and_then(Value::as_str) {
        Some("string") => match p.get("x-form").and_then(Value::as_str) {
            Some(form) => format!("string: {form}"),
            None => "string".into(),
        },
        Some("integer") => "integer".into(),
        Some("number") => "number".into(),
        Some("boolean") => "boolean".into(),
        Some("array") => {
            let items = &p["items"];
            match items.get("$ref").and_then(Value::as_str) {
                Some(r) => format!("array of tables: {}", link(r, defs)),
                None if items.get("type") == Some(&Value::from("string"))
                    && items.get("enum").is_none()
                    && items.get("x-form").is_none() =>
                {
                    "array of strings".into()
                }
                None => format!("array of ({})", shape(items, defs)),
            }
        }
        Some("object") => match p.get("additionalProperties") {
            Some(Value::Object(v)) if !v.is_empty() => format!("table of name → {}", shape(&Value::Object(v.clone()), defs)),
            _ => "table (free-form)".into(),
        },
        _ => "any value".into(),
    }
}

/// Every diagnostic code, with its summary.
fn codes(out: &mut String) {
    out.push_str(
        "\n<a id=\"codes\"></a>\n\n## Diagnostic codes\n\n\
         Every diagnostic carries a stable code (`error[E010]: …`); an id, once given, keeps its meaning.\n\n\
         | code | meaning |\n|---|---|\n",
    );
    for c in Code::ALL {
        let _ = writeln!(out, "| `{}` | {} |", c.id(), cell(c.summary()));
    }
}
