//! Spec phase: the spanned value tree that every TOML file is read into.
//!
//! In: the text of a TOML file. Out: a [`Table`] whose every key and value remembers the file and
//! byte span it came from. Layers (templates, pipeline file, overlay) are deep-merged on this tree
//! ([`Table::merge`]) before anything is typed, so a value that came from a template still points
//! at the template's line in an error, and `explain` can say where each setting came from.

use indexmap::IndexMap;
use toml::de::{DeTable, DeValue};

use crate::diag::{Code, Diagnostic, Diagnostics, FileId, Loc};

/// A TOML value with the place it was written.
#[derive(Clone, Debug)]
pub struct Node {
    pub value: Value,
    pub loc: Loc,
}

#[derive(Clone, Debug)]
pub enum Value {
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    /// TOML date-times are kept as written (RFC 3339 text).
    Datetime(String),
    Array(Vec<Node>),
    Table(Table),
}

impl Value {
    /// The TOML type name, for "expected a string, found an integer" messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Boolean(_) => "a boolean",
            Value::Datetime(_) => "a date-time",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }
}

/// One key of a table: where the key was written, and its value.
#[derive(Clone, Debug)]
pub struct Entry {
    pub key_loc: Loc,
    pub node: Node,
}

/// A TOML table in source order.
#[derive(Clone, Debug)]
pub struct Table {
    pub entries: IndexMap<String, Entry>,
    /// Where the table itself was written (the `[header]`, the inline table, or the whole file).
    pub loc: Loc,
}

impl Table {
    pub fn empty(loc: Loc) -> Self {
        Table { entries: IndexMap::new(), loc }
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.get(key)
    }

    /// Deep merge: tables merge key by key, arrays and scalars of `over` replace those of `self`.
    pub fn merge(&mut self, over: &Table) {
        for (k, e) in &over.entries {
            match (self.entries.get_mut(k), &e.node.value) {
                (Some(mine), Value::Table(theirs)) => {
                    if let Value::Table(t) = &mut mine.node.value {
                        t.merge(theirs);
                    } else {
                        *mine = e.clone();
                    }
                }
                (Some(mine), _) => *mine = e.clone(),
                (None, _) => {
                    self.entries.insert(k.clone(), e.clone());
                }
            }
        }
    }

    /// Every file that contributed a value to this table (for provenance headers).
    pub fn files(&self, out: &mut Vec<FileId>) {
        fn walk(n: &Node, out: &mut Vec<FileId>) {
            out.push(n.loc.file);
            match &n.value {
                Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
                Value::Table(t) => t.files(out),
                _ => {}
            }
        }
        for e in self.entries.values() {
            out.push(e.key_loc.file);
            walk(&e.node, out);
        }
    }
}

/// Parses TOML text into a spanned table; syntax errors become diagnostics.
pub fn parse(file: FileId, text: &str, diags: &mut Diagnostics) -> Option<Table> {
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        for e in errors {
            let span = e.span().unwrap_or(0..0);
            diags.push(
                Diagnostic::error(Code::TomlSyntax, format!("invalid TOML: {}", e.message().trim_end()))
                    .at(&Loc { file, span })
                    .label("here")
                    .help("fix the TOML syntax (see https://toml.io)"),
            );
        }
        return None;
    }
    let span = 0..text.len();
    Some(convert_table(file, doc.get_ref(), span, diags))
}

fn convert_table(file: FileId, t: &DeTable<'_>, span: std::ops::Range<usize>, diags: &mut Diagnostics) -> Table {
    let mut out = Table::empty(Loc { file, span });
    for (k, v) in t {
        let key_loc = Loc { file, span: k.span() };
        let node = convert(file, v.get_ref(), v.span(), diags);
        out.entries.insert(k.get_ref().to_string(), Entry { key_loc, node });
    }
    out
}

fn convert(file: FileId, v: &DeValue<'_>, span: std::ops::Range<usize>, diags: &mut Diagnostics) -> Node {
    let loc = Loc { file, span: span.clone() };
    let value = match v {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(i) => match i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()) {
            Ok(n) => Value::Integer(n),
            Err(_) => {
                diags.push(
                    Diagnostic::error(Code::NumberNotRepresentable, "integer does not fit in 64 bits")
                        .at(&loc)
                        .label("too large")
                        .help("use a value between -9223372036854775808 and 9223372036854775807"),
                );
                Value::Integer(0)
            }
        },
        DeValue::Float(f) => match f.as_str().replace('_', "").parse::<f64>() {
            Ok(x) => Value::Float(x),
            Err(_) => {
                diags.push(Diagnostic::error(Code::NumberNotRepresentable, "invalid float").at(&loc).label("here"));
                Value::Float(0.0)
            }
        },
        DeValue::Boolean(b) => Value::Boolean(*b),
        DeValue::Datetime(d) => Value::Datetime(d.to_string()),
        DeValue::Array(a) => Value::Array(a.iter().map(|x| convert(file, x.get_ref(), x.span(), diags)).collect()),
        DeValue::Table(t) => Value::Table(convert_table(file, t, span, diags)),
    };
    Node { value, loc }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str, file: u32) -> Table {
        let mut d = Diagnostics::default();
        let t = parse(FileId(file), text, &mut d).expect("valid toml");
        assert!(!d.has_errors());
        t
    }

    #[test]
    fn merge_is_deep_for_tables_and_replaces_arrays_and_scalars() {
        let mut base = table("a = 1\nlist = [1, 2]\n[t]\nx = 1\ny = 2\n", 0);
        let over = table("list = [3]\n[t]\ny = 3\nz = 4\n", 1);
        base.merge(&over);
        let Value::Table(t) = &base.get("t").unwrap().node.value else { panic!() };
        let ints = |k: &str| match t.get(k).unwrap().node.value {
            Value::Integer(n) => n,
            _ => panic!(),
        };
        assert_eq!((ints("x"), ints("y"), ints("z")), (1, 3, 4));
        assert_eq!(t.get("y").unwrap().node.loc.file, FileId(1), "the override remembers its file");
        let Value::Array(l) = &base.get("list").unwrap().node.value else { panic!() };
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn syntax_errors_are_diagnostics_with_a_place() {
        let mut d = Diagnostics::default();
        assert!(parse(FileId(0), "a = \n", &mut d).is_none());
        assert!(d.has_errors());
        assert!(d.items[0].loc.is_some());
    }

    #[test]
    fn spans_point_at_keys_and_values() {
        let text = "[flink]\nversion = \"2.2.1\"\n";
        let t = table(text, 0);
        let Value::Table(f) = &t.get("flink").unwrap().node.value else { panic!() };
        let e = f.get("version").unwrap();
        assert_eq!(&text[e.key_loc.span.clone()], "version");
        assert_eq!(&text[e.node.loc.span.clone()], "\"2.2.1\"");
    }
}
