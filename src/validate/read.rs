//! Validate phase: access to spanned TOML tables by key, for the parts not read through the raw
//! types of [`crate::spec::raw`] (patches, read by the patch phase), worded as the raw types'
//! deserializer words its messages; and `suggest`, the nearest known word.
//!
//! In: a [`Table`] and the list of keys its section allows. Out: values with their locations,
//! and a diagnostic (with a "did you mean" suggestion) for every unknown key or wrong type.
//! Getters never stop the run: a wrong value yields `None` plus a diagnostic.

use crate::diag::Diagnostics;
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

/// The string at `key`, if any; a value of another type is reported.
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

/// The table at `key`, if any; a value of another type is reported.
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
