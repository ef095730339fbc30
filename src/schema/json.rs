//! JSON Schema (draft 2020-12) generation from the key registry.
//!
//! In: a [`File`]'s registry section. Out: its schema: closed tables (`additionalProperties:
//! false`), a `description` on every key (its meaning and default, which editors show on hover),
//! types, words, ranges and patterns.

use serde_json::{Map, Value, json};

use super::File;
use super::keys::{Key, Section, Ty};

/// Kubernetes' DNS-1123 label (RFC 1123), as validate/names.rs checks it.
const DNS_LABEL: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

pub fn file_schema(file: File) -> Value {
    let mut out = Map::new();
    out.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
    out.insert("$id".into(), json!(format!("https://flinkops.dev/schema/{}.json", file.word())));
    out.insert("title".into(), json!(file.title()));
    out.extend(object(file.root()));
    Value::Object(out)
}

/// What editors show for a key: its meaning, then its default.
pub fn description(k: &Key) -> String {
    let mut s = k.meaning.to_string();
    if k.required {
        s.push_str(" Required.");
    } else if let Some(rest) = k.default.strip_prefix("required") {
        // Required only in some cases (a kind, after merging templates): say when.
        s.push_str(&format!(" Required{rest}."));
    } else if !k.default.is_empty() && k.default != "none" {
        s.push_str(&format!(" Default: {}.", k.default));
    }
    s
}

fn object(s: &Section) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("type".into(), json!("object"));
    o.insert("description".into(), json!(s.about));
    if !s.open {
        o.insert("additionalProperties".into(), json!(false));
    }
    let keys = s.all_keys();
    o.insert("properties".into(), Value::Object(keys.iter().map(|k| (k.name.to_string(), property(k))).collect()));
    let required: Vec<&str> = keys.iter().filter(|k| k.required).map(|k| k.name).collect();
    if !required.is_empty() {
        o.insert("required".into(), json!(required));
    }
    if !s.one_of.is_empty() {
        o.insert("oneOf".into(), Value::Array(s.one_of.iter().map(|k| json!({ "required": [k] })).collect()));
    }
    o
}

fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 1e15 { json!(x as i64) } else { json!(x) }
}

fn property(k: &Key) -> Value {
    let mut p = ty(&k.ty);
    p.insert("description".into(), json!(description(k)));
    if let Some(min) = k.min {
        p.insert(if k.exclusive_min { "exclusiveMinimum" } else { "minimum" }.into(), number(min));
    }
    if let Some(max) = k.max {
        p.insert("maximum".into(), number(max));
    }
    Value::Object(p)
}

fn ty(t: &Ty) -> Map<String, Value> {
    let v = match t {
        Ty::Str | Ty::Duration | Ty::Memory | Ty::Zone | Ty::Cron | Ty::Path | Ty::Uri => json!({ "type": "string" }),
        Ty::Dns(max) => json!({ "type": "string", "pattern": DNS_LABEL, "maxLength": max }),
        Ty::Pattern(re, _) => json!({ "type": "string", "pattern": re }),
        // Taplo checks a TOML date against `format: date`; a quoted "YYYY-MM-DD" passes too.
        Ty::Date => json!({ "type": "string", "format": "date" }),
        Ty::Int => json!({ "type": "integer" }),
        Ty::Num => json!({ "type": "number" }),
        Ty::Bool => json!({ "type": "boolean" }),
        Ty::Words(w) => json!({ "type": "string", "enum": w }),
        Ty::List(item) => json!({ "type": "array", "items": Value::Object(ty(item)) }),
        Ty::Table(s) => return object(s),
        Ty::Tables(s) => json!({ "type": "array", "items": Value::Object(object(s)) }),
        Ty::Map(value) => json!({ "type": "object", "additionalProperties": Value::Object(ty(value)) }),
        Ty::AnyOf(ts) => json!({ "anyOf": ts.iter().map(|t| Value::Object(ty(t))).collect::<Vec<_>>() }),
        Ty::FreeTable => json!({ "type": "object" }),
        Ty::Value => json!({}),
    };
    // Every arm above builds an object.
    if let Value::Object(m) = v { m } else { Map::new() }
}
