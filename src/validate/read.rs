//! Validate phase: typed access to spanned TOML tables.
//!
//! In: a [`Table`] and the list of keys its section allows. Out: typed values with their
//! locations, and a diagnostic (with a "did you mean" suggestion) for every unknown key or wrong
//! type. Getters never stop the run: a wrong value yields `None` plus a diagnostic.

use crate::diag::{Code, Diagnostic, Diagnostics, Loc};
use crate::spec::{Node, Table, Value};

/// A value with the place it was written.
#[derive(Debug, Clone)]
pub struct Sp<T> {
    pub value: T,
    pub loc: Loc,
}

/// The closest known key to `unknown`, if any is close enough to be a plausible typo.
pub fn suggest<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(unknown, k), *k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// Reports every key of `t` that is not in `known`. `section` names the table in messages,
/// e.g. "[flink]" or "the pipeline".
pub fn check_keys(t: &Table, section: &str, known: &[&str], d: &mut Diagnostics) {
    for (k, e) in &t.entries {
        if known.contains(&k.as_str()) {
            continue;
        }
        let mut diag =
            Diagnostic::error(format!("unknown key `{k}` in {section}")).code(Code::UnknownKey).at(&e.key_loc).label("unknown key");
        diag = match suggest(k, known) {
            Some(s) => diag.help(format!("did you mean `{s}`?")),
            None => diag.help(format!("the keys of {section} are: {}", known.join(", "))),
        };
        d.push(diag);
    }
}

fn type_error(key: &str, section: &str, expected: &str, n: &Node, d: &mut Diagnostics) {
    d.push(
        Diagnostic::error(format!("`{key}` in {section} must be {expected}, found {}", n.value.type_name()))
            .code(Code::WrongType)
            .at(&n.loc)
            .label(format!("expected {expected}")),
    );
}

pub fn opt_str(t: &Table, key: &str, section: &str, d: &mut Diagnostics) -> Option<Sp<String>> {
    let e = t.get(key)?;
    match &e.node.value {
        Value::String(s) => Some(Sp { value: s.clone(), loc: e.node.loc.clone() }),
        _ => {
            type_error(key, section, "a string", &e.node, d);
            None
        }
    }
}

/// A non-empty string; an empty string counts as "not set" (the spec shows `image = ""`).
pub fn opt_nonempty_str(t: &Table, key: &str, section: &str, d: &mut Diagnostics) -> Option<Sp<String>> {
    opt_str(t, key, section, d).filter(|s| !s.value.is_empty())
}

pub fn opt_bool(t: &Table, key: &str, section: &str, d: &mut Diagnostics) -> Option<Sp<bool>> {
    let e = t.get(key)?;
    match &e.node.value {
        Value::Boolean(b) => Some(Sp { value: *b, loc: e.node.loc.clone() }),
        _ => {
            type_error(key, section, "true or false", &e.node, d);
            None
        }
    }
}

pub fn opt_int(t: &Table, key: &str, section: &str, d: &mut Diagnostics) -> Option<Sp<i64>> {
    let e = t.get(key)?;
    match &e.node.value {
        Value::Integer(i) => Some(Sp { value: *i, loc: e.node.loc.clone() }),
        _ => {
            type_error(key, section, "an integer", &e.node, d);
            None
        }
    }
}

/// An integer within `min..=max`.
pub fn opt_int_in(t: &Table, key: &str, section: &str, min: i64, max: i64, d: &mut Diagnostics) -> Option<Sp<i64>> {
    let v = opt_int(t, key, section, d)?;
    if v.value < min || v.value > max {
        d.push(
            Diagnostic::error(format!("`{key}` in {section} is {}, out of range", v.value))
                .code(Code::OutOfRange)
                .at(&v.loc)
                .label(format!("must be between {min} and {max}")),
        );
        return None;
    }
    Some(v)
}

/// A number: integers are accepted where a float is expected (`cpu = 1`).
pub fn opt_number(t: &Table, key: &str, section: &str, d: &mut Diagnostics) -> Option<Sp<f64>> {
    let e = t.get(key)?;
    match &e.node.value {
        Value::Float(f) => Some(Sp { value: *f, loc: e.node.loc.clone() }),
        Value::Integer(i) => Some(Sp { value: *i as f64, loc: e.node.loc.clone() }),
        _ => {
            type_error(key, section, "a number", &e.node, d);
            None
        }
    }
}

pub fn opt_table<'t>(t: &'t Table, key: &str, section: &str, d: &mut Diagnostics) -> Option<&'t Table> {
    let e = t.get(key)?;
    match &e.node.value {
        Value::Table(x) => Some(x),
        _ => {
            type_error(key, section, "a table", &e.node, d);
            None
        }
    }
}

pub fn opt_array<'t>(t: &'t Table, key: &str, section: &str, d: &mut Diagnostics) -> Option<(&'t [Node], &'t Loc)> {
    let e = t.get(key)?;
    match &e.node.value {
        Value::Array(a) => Some((a.as_slice(), &e.node.loc)),
        _ => {
            type_error(key, section, "an array", &e.node, d);
            None
        }
    }
}

pub fn opt_str_list(t: &Table, key: &str, section: &str, d: &mut Diagnostics) -> Option<Vec<Sp<String>>> {
    let (items, _) = opt_array(t, key, section, d)?;
    let mut out = vec![];
    for n in items {
        match &n.value {
            Value::String(s) => out.push(Sp { value: s.clone(), loc: n.loc.clone() }),
            _ => type_error(key, section, "an array of strings", n, d),
        }
    }
    Some(out)
}

/// A string that must be one of `choices`.
pub fn opt_choice(t: &Table, key: &str, section: &str, choices: &[&str], d: &mut Diagnostics) -> Option<Sp<String>> {
    let v = opt_str(t, key, section, d)?;
    if choices.contains(&v.value.as_str()) {
        return Some(v);
    }
    let mut diag = Diagnostic::error(format!("`{key}` in {section} cannot be {:?}", v.value))
        .code(Code::NotOneOf)
        .at(&v.loc)
        .label(format!("expected one of: {}", choices.join(", ")));
    if let Some(s) = suggest(&v.value, choices) {
        diag = diag.help(format!("did you mean {s:?}?"));
    }
    d.push(diag);
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_find_plausible_typos_only() {
        let known = ["version", "java", "slots", "state_backend"];
        assert_eq!(suggest("versoin", &known), Some("version"));
        assert_eq!(suggest("slot", &known), Some("slots"));
        assert_eq!(suggest("zzz", &known), None);
    }
}
