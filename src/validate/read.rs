//! Validate phase: typed access to spanned TOML tables by key, for the parts not yet read
//! through the raw types of [`crate::spec::raw`] (whose deserializer words every message the
//! same way).
//!
//! In: a [`Table`] and the list of keys its section allows. Out: typed values with their
//! locations, and a diagnostic (with a "did you mean" suggestion) for every unknown key or wrong
//! type. Getters never stop the run: a wrong value yields `None` plus a diagnostic.

use crate::diag::{Code, Diagnostic, Diagnostics, Loc};
use crate::spec::{Node, Table, Value};

pub use crate::spec::raw::{Sp, suggest};

/// Reports every key of `t` that is not in `known`. `section` names the table in messages,
/// e.g. "[flink]" or "the pipeline". Worded as the raw types' deserializer words it.
pub fn check_keys(t: &Table, section: &str, known: &[&str], d: &mut Diagnostics) {
    crate::spec::raw::unknown_keys(t, section, known, d);
}

fn type_error(key: &str, section: &str, expected: &str, n: &Node, d: &mut Diagnostics) {
    crate::spec::raw::de::type_error(key, section, expected, n, d);
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
            Diagnostic::error(Code::OutOfRange, format!("`{key}` in {section} is {}, out of range", v.value))
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
    crate::spec::raw::de::not_one_of(key, section, &v.value, choices, &v.loc, d);
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
