//! Spec phase: a serde `Deserializer` over the spanned tree ([`Node`], [`Table`]) that reports
//! problems as diagnostics instead of stopping at the first.
//!
//! In: a table or node, the name of its section for messages ("flinkops.toml", "the pipeline"),
//! and the diagnostics to push to. Out: a value of a raw type. Unknown keys are reported (from
//! the `fields` serde hands to `deserialize_struct`) and never reach the type, so
//! `deny_unknown_fields` never stops a struct; a wrong type or a word outside an enum is
//! reported where it was written and fails only that value, which the raw types' `lenient`
//! fields and [`List`](super::List) items turn into "unset". Messages are worded as the
//! validate phase always worded them: "unknown key `x` in [flink]", "`slots` in [flink] must be
//! an integer, found a string", "`mode` in [autoscaling] cannot be \"x\"".
//!
//! Spans travel beside serde's data model: [`Sp`](super::Sp) and [`Raw`](super::Raw) ask for a
//! newtype struct of a reserved name, and this deserializer leaves the place (or the whole
//! node) in a thread-local slot the visitor takes it from. Another deserializer cannot fill
//! them, so these types are read from the spanned tree only.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use serde::{Deserialize, Deserializer};

use crate::diag::{Code, Diagnostic, Diagnostics, Loc};
use crate::spec::{Node, Table, Value};

pub(crate) const SPANNED: &str = "$flinkops::Sp";
pub(crate) const RAW: &str = "$flinkops::Raw";
pub(crate) const RAW_TABLE: &str = "$flinkops::RawTable";
pub(crate) const ONLY_OURS: &str = "flinkops' raw types are read from the spanned tree only";

/// The message of an error whose diagnostic was already pushed.
const REPORTED: &str = "\u{1}reported";

/// Structs that accept other keys (RFC 6902 operations: other members are ignored, as the RFC
/// says).
const OPEN: &[&str] = &["PatchOp"];

thread_local! {
    static SLOT: RefCell<Option<Slot>> = const { RefCell::new(None) };
}

enum Slot {
    Loc(Loc),
    Node(Node),
}

pub(crate) fn take_loc() -> Option<Loc> {
    SLOT.with(|s| match s.borrow_mut().take() {
        Some(Slot::Loc(l)) => Some(l),
        _ => None,
    })
}

pub(crate) fn take_node() -> Option<Node> {
    SLOT.with(|s| match s.borrow_mut().take() {
        Some(Slot::Node(n)) => Some(n),
        _ => None,
    })
}

fn put(slot: Slot) {
    SLOT.with(|s| *s.borrow_mut() = Some(slot));
}

/// The deserializer's error. Almost always "already reported": the diagnostic is in the sink.
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

fn reported() -> Error {
    Error(REPORTED.into())
}

fn is_reported(e: &impl fmt::Display) -> bool {
    e.to_string() == REPORTED
}

/// `deserialize_with` of every section field: a value that was reported reads as unset, so the
/// struct around it goes on with its other keys.
pub fn lenient<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    match T::deserialize(d) {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_reported(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// An array item: `None` when it was reported.
pub(crate) struct Lenient<T>(pub Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient(d).map(Lenient)
    }
}

/// Reads `t` as a `T`. `section` names the table in messages ("flinkops.toml", "the pipeline",
/// "overlays/dev/overlay.toml"); its sub-tables are named by their path (`[flink]`,
/// `[resources.taskmanager]`, `[[tasks]]`). Every problem is pushed to `d`; what could not be
/// read is left at its default (`None`).
pub fn from_table<T: DeserializeOwned + Default>(t: &Table, section: &str, d: &mut Diagnostics) -> T {
    let node = Node { value: Value::Table(t.clone()), loc: t.loc.clone() };
    let sink = RefCell::new(Diagnostics::default());
    let cx = Cx { sink: &sink, root: section, section: section.to_string(), key: String::new(), path: String::new(), item: false };
    let out = T::deserialize(NodeDe { node: &node, cx });
    d.extend(sink.into_inner());
    out.unwrap_or_else(|e| {
        unexpected(&e, &t.loc, d);
        T::default()
    })
}

/// Reads the value `node` of `key` in `section` as a `T`; `None` (reported) when it cannot be.
/// `path` is the value's dotted path, which names the tables inside it (`"flink"` for
/// `[flink]`, `""` for the file itself).
pub fn from_node<T: DeserializeOwned>(node: &Node, key: &str, section: &str, path: &str, d: &mut Diagnostics) -> Option<T> {
    let sink = RefCell::new(Diagnostics::default());
    let cx = Cx { sink: &sink, root: section, section: section.to_string(), key: key.to_string(), path: path.to_string(), item: false };
    let out = T::deserialize(NodeDe { node, cx });
    d.extend(sink.into_inner());
    match out {
        Ok(v) => Some(v),
        Err(e) => {
            unexpected(&e, &node.loc, d);
            None
        }
    }
}

/// An error serde raised itself (not one of ours): a raw type that does not fit the tree.
fn unexpected(e: &Error, loc: &Loc, d: &mut Diagnostics) {
    if !is_reported(e) {
        d.push(Diagnostic::error(Code::WrongType, format!("cannot read this value: {e}")).at(loc).label("here"));
    }
}

/// The keys serde hands a deserializer for `T` (a struct's fields).
#[cfg(test)]
pub(crate) fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Probe;
    thread_local! {
        static SEEN: RefCell<&'static [&'static str]> = const { RefCell::new(&[]) };
    }
    impl<'de> Deserializer<'de> for Probe {
        type Error = Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
            Err(reported())
        }
        fn deserialize_struct<V: Visitor<'de>>(self, _: &'static str, fields: &'static [&'static str], _: V) -> Result<V::Value, Error> {
            SEEN.with(|s| *s.borrow_mut() = fields);
            Err(reported())
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let _ = T::deserialize(Probe);
    SEEN.with(|s| *s.borrow())
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
pub fn unknown_keys(t: &Table, section: &str, known: &[&str], d: &mut Diagnostics) {
    for (k, e) in &t.entries {
        if known.contains(&k.as_str()) {
            continue;
        }
        let mut diag = Diagnostic::error(Code::UnknownKey, format!("unknown key `{k}` in {section}")).at(&e.key_loc).label("unknown key");
        diag = match suggest(k, known) {
            Some(s) => diag.help(format!("did you mean `{s}`?")),
            None => diag.help(format!("the keys of {section} are: {}", known.join(", "))),
        };
        d.push(diag);
    }
}

/// "`key` in section must be EXPECTED, found a TYPE".
pub fn type_error(key: &str, section: &str, expected: &str, n: &Node, d: &mut Diagnostics) {
    d.push(
        Diagnostic::error(Code::WrongType, format!("`{key}` in {section} must be {expected}, found {}", n.value.type_name()))
            .at(&n.loc)
            .label(format!("expected {expected}")),
    );
}

/// "`key` in section cannot be \"word\"", with the words and the nearest one.
pub fn not_one_of(key: &str, section: &str, word: &str, choices: &[&str], loc: &Loc, d: &mut Diagnostics) {
    let mut diag = Diagnostic::error(Code::NotOneOf, format!("`{key}` in {section} cannot be {word:?}"))
        .at(loc)
        .label(format!("expected one of: {}", choices.join(", ")));
    if let Some(s) = suggest(word, choices) {
        diag = diag.help(format!("did you mean {s:?}?"));
    }
    d.push(diag);
}

/// Where a value sits: for messages, and to name the tables below it.
#[derive(Clone)]
struct Cx<'s> {
    sink: &'s RefCell<Diagnostics>,
    /// The name of the whole file's table.
    root: &'s str,
    /// The name of the table holding this value.
    section: String,
    /// This value's key.
    key: String,
    /// This value's dotted path from the file's table ("" for the file itself).
    path: String,
    /// The value is an item of an array.
    item: bool,
}

impl Cx<'_> {
    /// The name of this value as a table: the file, `[a.b]`, or `[[a.b]]` for an array item.
    fn table_name(&self) -> String {
        if self.path.is_empty() {
            self.root.to_string()
        } else if self.item {
            format!("[[{}]]", self.path)
        } else {
            format!("[{}]", self.path)
        }
    }

    fn child(&self, key: &str, section: String) -> Self {
        let path = if self.path.is_empty() { key.to_string() } else { format!("{}.{key}", self.path) };
        Cx { sink: self.sink, root: self.root, section, key: key.to_string(), path, item: false }
    }

    fn wrong_type(&self, expected: &str, n: &Node) -> Error {
        if self.item && expected == "a table" {
            // An array of tables is written `[[a.b]]`: its items are its entries.
            self.sink.borrow_mut().push(
                Diagnostic::error(Code::WrongType, format!("each [[{}]] entry must be a table", self.path)).at(&n.loc).label("not a table"),
            );
            return reported();
        }
        let expected = if self.item {
            let plural = match expected {
                "a string" => "strings",
                "an integer" => "integers",
                "a number" => "numbers",
                "true or false" => "booleans",
                "a table" => "tables",
                "an array" => "arrays",
                other => other,
            };
            format!("an array of {plural}")
        } else {
            expected.to_string()
        };
        type_error(&self.key, &self.section, &expected, n, &mut self.sink.borrow_mut());
        reported()
    }
}

struct NodeDe<'a, 's> {
    node: &'a Node,
    cx: Cx<'s>,
}

impl<'de> Deserializer<'de> for NodeDe<'_, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::String(s) | Value::Datetime(s) => v.visit_str(s),
            Value::Integer(i) => v.visit_i64(*i),
            Value::Float(f) => v.visit_f64(*f),
            Value::Boolean(b) => v.visit_bool(*b),
            Value::Array(_) => self.deserialize_seq(v),
            Value::Table(_) => self.deserialize_map(v),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.node.value {
            Value::Boolean(b) => v.visit_bool(b),
            _ => Err(self.cx.wrong_type("true or false", self.node)),
        }
    }

    fn deserialize_i64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.node.value {
            Value::Integer(i) => v.visit_i64(i),
            _ => Err(self.cx.wrong_type("an integer", self.node)),
        }
    }

    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        // Integers are accepted where a number is expected (`cpu = 1`).
        match self.node.value {
            Value::Float(f) => v.visit_f64(f),
            Value::Integer(i) => v.visit_f64(i as f64),
            _ => Err(self.cx.wrong_type("a number", self.node)),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::String(s) => v.visit_str(s),
            _ => Err(self.cx.wrong_type("a string", self.node)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.deserialize_str(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, v: V) -> Result<V::Value, Error> {
        match name {
            SPANNED => {
                put(Slot::Loc(self.node.loc.clone()));
                v.visit_newtype_struct(self)
            }
            RAW_TABLE if !matches!(self.node.value, Value::Table(_)) => Err(self.cx.wrong_type("a table", self.node)),
            RAW | RAW_TABLE => {
                put(Slot::Node(self.node.clone()));
                v.visit_unit()
            }
            _ => v.visit_newtype_struct(self),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Array(items) => {
                let cx = Cx { item: true, ..self.cx.clone() };
                v.visit_seq(Seq { items: items.iter(), cx })
            }
            _ => Err(self.cx.wrong_type("an array", self.node)),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Table(t) => {
                let section = self.cx.table_name();
                v.visit_map(Map { entries: t.entries.iter().collect::<Vec<_>>().into_iter(), next: None, cx: self.cx, section })
            }
            _ => Err(self.cx.wrong_type("a table", self.node)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(self, name: &'static str, fields: &'static [&'static str], v: V) -> Result<V::Value, Error> {
        let Value::Table(t) = &self.node.value else { return Err(self.cx.wrong_type("a table", self.node)) };
        let section = self.cx.table_name();
        let open = OPEN.contains(&name);
        if !open {
            unknown_keys(t, &section, fields, &mut self.cx.sink.borrow_mut());
        }
        let entries: Vec<_> = t.entries.iter().filter(|(k, _)| open || fields.contains(&k.as_str())).collect();
        v.visit_map(Map { entries: entries.into_iter(), next: None, cx: self.cx, section })
    }

    fn deserialize_enum<V: Visitor<'de>>(self, _: &'static str, variants: &'static [&'static str], v: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::String(s) if variants.contains(&s.as_str()) => v.visit_enum(s.as_str().into_deserializer()),
            Value::String(s) => {
                not_one_of(&self.cx.key, &self.cx.section, s, variants, &self.node.loc, &mut self.cx.sink.borrow_mut());
                Err(reported())
            }
            _ => Err(self.cx.wrong_type("a string", self.node)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i128 u8 u16 u32 u64 u128 f32 char bytes byte_buf unit unit_struct tuple tuple_struct identifier
    }
}

struct Seq<'a, 's> {
    items: std::slice::Iter<'a, Node>,
    cx: Cx<'s>,
}

impl<'de> de::SeqAccess<'de> for Seq<'_, '_> {
    type Error = Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        match self.items.next() {
            Some(node) => seed.deserialize(NodeDe { node, cx: self.cx.clone() }).map(Some),
            None => Ok(None),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Map<'a, 's> {
    entries: std::vec::IntoIter<(&'a String, &'a crate::spec::Entry)>,
    next: Option<(&'a String, &'a crate::spec::Entry)>,
    /// The table's own place.
    cx: Cx<'s>,
    /// The table's name, which its values are "in".
    section: String,
}

impl<'de> de::MapAccess<'de> for Map<'_, '_> {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        let Some((k, e)) = self.entries.next() else { return Ok(None) };
        self.next = Some((k, e));
        seed.deserialize(KeyDe { key: k, loc: &e.key_loc }).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (k, e) = self.next.take().expect("serde asks for a key before its value");
        seed.deserialize(NodeDe { node: &e.node, cx: self.cx.child(k, self.section.clone()) })
    }
}

/// A table key: a string, with its place for `Sp<String>` keys.
struct KeyDe<'a> {
    key: &'a str,
    loc: &'a Loc,
}

impl<'de> Deserializer<'de> for KeyDe<'_> {
    type Error = Error;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_str(self.key)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, v: V) -> Result<V::Value, Error> {
        if name == SPANNED {
            put(Slot::Loc(self.loc.clone()));
        }
        v.visit_newtype_struct(self)
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}
