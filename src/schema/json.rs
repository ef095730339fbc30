//! JSON Schema (draft 2020-12) generation from the raw types of `crate::spec::raw`.
//!
//! In: a [`File`]. Out: its schema, derived by schemars from the types validation reads: closed
//! tables (`deny_unknown_fields` → `additionalProperties: false`), a `description` on every key
//! (its doc comment: meaning, then default), types, enum words, ranges and patterns. Two
//! adjustments make it describe TOML rather than Rust: no `null` (an `Option` is a key that may
//! be left out, never a null value), and a key whose description ends in "Required." is listed
//! in its table's `required`.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::File;
use crate::spec::raw;

/// The schema `flinkops schema` prints: every table inline, as editors read it best.
pub fn file_schema(file: File) -> Value {
    let mut v = generate(file, true);
    strip_forms(&mut v);
    let mut out = Map::new();
    out.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
    out.insert("$id".into(), json!(format!("https://flinkops.dev/schema/{}.json", file.word())));
    out.insert("title".into(), json!(file.title()));
    if let Value::Object(o) = v {
        out.extend(o.into_iter().filter(|(k, _)| k != "$schema" && k != "title"));
    }
    Value::Object(out)
}

/// The schema of `file` as schemars derives it, tidied; `inline: false` keeps each table in
/// `$defs` (with its title and what it is for), which the reference documents one by one.
pub fn generate(file: File, inline: bool) -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.inline_subschemas = inline;
    let g = settings.into_generator();
    let schema = match file {
        File::Project => g.into_root_schema_for::<raw::ProjectFile>(),
        File::Pipeline => g.into_root_schema_for::<raw::Pipeline>(),
        File::Overlay => g.into_root_schema_for::<raw::OverlayFile>(),
    };
    let mut v = schema.to_value();
    tidy(&mut v);
    v
}

/// Removes `null` (TOML has none) and fills `required` from the descriptions.
fn tidy(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(Value::Array(types)) = o.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let t = types.remove(0);
                    o.insert("type".into(), t);
                }
            }
            if let Some(Value::Array(words)) = o.get_mut("enum") {
                words.retain(|w| !w.is_null());
            }
            if let Some(Value::Array(any)) = o.get_mut("anyOf") {
                let before = any.len();
                any.retain(|s| s.get("type") != Some(&json!("null")));
                // `Option<T>` of a table: `anyOf: [T, null]` becomes T itself.
                if before != any.len() && any.len() == 1 {
                    let Value::Object(only) = any.remove(0) else { unreachable!("a schema is an object") };
                    o.remove("anyOf");
                    for (k, x) in only {
                        o.entry(k).or_insert(x);
                    }
                }
            }
            if let Some(Value::Object(props)) = o.get("properties") {
                let required: Vec<Value> = props
                    .iter()
                    .filter(|(_, p)| p.get("description").and_then(Value::as_str).is_some_and(|d| d.ends_with(" Required.")))
                    .map(|(k, _)| json!(k))
                    .collect();
                if !required.is_empty() {
                    o.insert("required".into(), Value::Array(required));
                }
            }
            o.values_mut().for_each(tidy);
        }
        Value::Array(a) => a.iter_mut().for_each(tidy),
        _ => {}
    }
}

/// Removes the `x-form` annotations, which only the reference reads.
fn strip_forms(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.remove("x-form");
            o.values_mut().for_each(strip_forms);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_forms),
        _ => {}
    }
}
