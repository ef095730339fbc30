//! Emit phase: Kubernetes objects in, file bytes out.
//!
//! In: rendered [`Resource`]s and bundle specs. Out: the exact bytes of each file under `out/`.
//! The YAML emitter configuration is pinned here and nowhere else: 2-space indent, compact
//! lists, YAML 1.1-ambiguous strings (`on`, `yes`, `no`, `y`, `0777`, `1e3`) quoted because
//! Kubernetes reads YAML 1.1, no folding of long lines, literal blocks for multi-line strings.
//!
//! The layout (indentation, compact lists, `{}`/`[]`, where a nested node starts) is written by
//! a small writer here, and serde-saphyr decides every scalar it cannot prove plain: generic
//! emitting was a third of `check`'s CPU time. The writer's output is byte-identical to
//! serde-saphyr's for every `Value` (a property test holds it to that).

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::render::Resource;

/// The pinned serializer options.
fn options() -> serde_saphyr::SerializerOptions {
    let mut o = serde_saphyr::SerializerOptions::default();
    o.indent_step = 2;
    o.compact_list_indent = true;
    // Multi-line strings (tasks.json, scripts) as `|` blocks; never fold a long line with `>`
    // (a folded URL or command is hard to read and to grep).
    o.prefer_block_scalars = true;
    o.folded_wrap_chars = usize::MAX;
    o.min_fold_chars = usize::MAX;
    // YAML 1.1 quoting rules: Kubernetes reads `on`/`yes`/`no` as booleans.
    o.yaml_12 = false;
    o.quote_all = false;
    o
}

/// Serializes a value as YAML with the pinned options; always ends in a newline.
pub fn yaml(v: &Value) -> String {
    let mut s = String::new();
    write_yaml(&mut s, v);
    s
}

/// Appends `v` as YAML to `out`: [`yaml`] without a String of its own.
fn write_yaml(out: &mut String, v: &Value) {
    match v {
        Value::Object(m) if !m.is_empty() => write_map(out, m, 0, false),
        // Never emitted for a file (every file is an object), so left to the generic emitter.
        _ => out.push_str(&generic(v)),
    }
}

/// serde-saphyr with the pinned options; always ends in a newline.
fn generic<T: serde::Serialize>(v: &T) -> String {
    let mut s = serde_saphyr::to_string_with_options(v, options()).expect("JSON values always serialize to YAML");
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

fn indent(out: &mut String, col: usize) {
    const SPACES: &str = "                                                                ";
    match SPACES.get(..col) {
        Some(spaces) => out.push_str(spaces),
        None => out.extend(std::iter::repeat_n(' ', col)),
    }
}

/// A block mapping whose keys sit at column `col`; `inline_first`: the first key goes right
/// after a `- ` already written.
fn write_map(out: &mut String, m: &Map<String, Value>, col: usize, inline_first: bool) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 || !inline_first {
            indent(out, col);
        }
        write_key(out, k);
        out.push(':');
        match v {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                write_map(out, inner, col + 2, false);
            }
            // Compact lists: the dashes of a list under a key sit at the key's column.
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                write_seq(out, items, col, false);
            }
            _ => {
                out.push(' ');
                write_scalar(out, v, col);
            }
        }
    }
}

/// A block sequence whose dashes sit at column `col`; `inline_first` as for [`write_map`].
fn write_seq(out: &mut String, items: &[Value], col: usize, inline_first: bool) {
    for (i, v) in items.iter().enumerate() {
        if i > 0 || !inline_first {
            indent(out, col);
        }
        out.push_str("- ");
        match v {
            Value::Object(inner) if !inner.is_empty() => write_map(out, inner, col + 2, true),
            Value::Array(inner) if !inner.is_empty() => write_seq(out, inner, col + 2, true),
            _ => write_scalar(out, v, col),
        }
    }
}

/// A scalar (or empty collection) and its line end; a block scalar's body goes two columns
/// right of `col`, the column of its key or dash.
fn write_scalar(out: &mut String, v: &Value, col: usize) {
    match v {
        Value::String(s) if plain_value(s) => out.push_str(s),
        Value::String(s) if plain_block(s) => return write_block(out, s, col),
        Value::String(s) if !s.contains('\n') => MEMO.with_borrow_mut(|m| out.push_str(m.scalar(s))),
        Value::String(s) => {
            // How serde-saphyr writes this string as a value: depends on the string alone, except
            // for the indentation of a block scalar's body, which is 2 here (key at column 0).
            let one = generic(&std::collections::BTreeMap::from([("k", s.as_str())]));
            let text = one.strip_prefix("k: ").expect("a one-entry mapping starts with its key");
            let mut lines = text.split_inclusive('\n');
            out.push_str(lines.next().unwrap_or_default());
            for line in lines {
                if line != "\n" {
                    indent(out, col);
                }
                out.push_str(line);
            }
            return;
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => write!(out, "{u}").expect("writing to a String cannot fail"),
            (_, Some(i), _) => write!(out, "{i}").expect("writing to a String cannot fail"),
            (_, _, Some(f)) => MEMO.with_borrow_mut(|m| out.push_str(m.float(f))),
            _ => out.push_str(generic(n).trim_end_matches('\n')),
        },
        Value::Null => out.push_str("null"),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
    out.push('\n');
}

/// serde-saphyr's text for the single-line strings and the floats [`write_scalar`] does not
/// write itself, per thread: the same few (`"true"`, `"1"`, `60s`, `-c`, `0.5`) come back in
/// every object. Cleared when it grows past [`Memo::MAX`], so unique strings cannot pile up.
#[derive(Default)]
struct Memo {
    strings: std::collections::HashMap<String, String>,
    floats: std::collections::HashMap<u64, String>,
}

impl Memo {
    const MAX: usize = 4096;

    fn scalar(&mut self, s: &str) -> &str {
        if self.strings.len() >= Self::MAX {
            self.strings.clear();
        }
        if !self.strings.contains_key(s) {
            let one = generic(&std::collections::BTreeMap::from([("k", s)]));
            let text = one.strip_prefix("k: ").expect("a one-entry mapping starts with its key");
            self.strings.insert(s.to_string(), text.trim_end_matches('\n').to_string());
        }
        &self.strings[s]
    }

    fn float(&mut self, f: f64) -> &str {
        if self.floats.len() >= Self::MAX {
            self.floats.clear();
        }
        self.floats.entry(f.to_bits()).or_insert_with(|| generic(&f).trim_end_matches('\n').to_string())
    }
}

thread_local! {
    static MEMO: std::cell::RefCell<Memo> = std::cell::RefCell::new(Memo::default());
}

/// Multi-line strings serde-saphyr writes as a literal block without an indentation indicator:
/// printable ASCII and newlines only (`quoting::is_block_scalar_content_safe`), the first line
/// neither empty nor starting with a space (no indicator needed).
fn plain_block(s: &str) -> bool {
    let b = s.as_bytes();
    b.first().is_some_and(|c| *c != b' ' && *c != b'\n') && s.contains('\n') && b.iter().all(|c| (0x20..=0x7e).contains(c) || *c == b'\n')
}

/// A [`plain_block`] string as serde-saphyr writes it: `|` with the chomping its trailing
/// newlines need, then each line two columns right of `col`, empty lines left empty.
fn write_block(out: &mut String, s: &str, col: usize) {
    let content = s.trim_end_matches('\n');
    let trailing = s.len() - content.len();
    out.push_str(match trailing {
        0 => "|-\n",
        1 => "|\n",
        _ => "|+\n",
    });
    for line in content.split('\n') {
        if !line.is_empty() {
            indent(out, col + 2);
            out.push_str(line);
        }
        out.push('\n');
    }
    for _ in 1..trailing {
        out.push('\n');
    }
}

/// A mapping key: plain when [`plain_key`] proves serde-saphyr writes it plain, else as it
/// writes it (double-quoted; a key never becomes a block).
fn write_key(out: &mut String, k: &str) {
    if plain_key(k) {
        out.push_str(k);
    } else {
        let one = generic(&std::collections::BTreeMap::from([(k, true)]));
        out.push_str(one.strip_suffix(": true\n").expect("a one-entry mapping ends with its value"));
    }
}

/// Words a YAML 1.1 or 1.2 reader takes for a boolean, null or float, in any case: serde-saphyr
/// quotes them.
const AMBIGUOUS_WORDS: [&str; 11] = ["y", "yes", "n", "no", "on", "off", "true", "false", "null", "nan", "inf"];

/// Bytes a [`plain_value`] may hold: ASCII letters and digits, `-._/=@+*,:` and space.
const VALUE_BYTES: [bool; 256] = byte_table(b"-._/=@+*,: ");
/// Bytes a [`plain_key`] may hold: no `:` or `,` (a key must also be plain in flow style), no
/// space.
const KEY_BYTES: [bool; 256] = byte_table(b"-._/=@+*");

const fn byte_table(extra: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 128 {
        t[c] = (c as u8).is_ascii_alphanumeric();
        c += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
}

/// A letter no number, date or time can hold: numbers hold only the radix prefixes `0x`/`0o`/`0b`,
/// hex digits and the exponent `e`; YAML 1.1 timestamps only `T`/`t` and `Z`/`z`. A string
/// starting with a digit and holding one of these is no number, date or base-60 value
/// (`quoting::is_numeric`, `is_yaml11_timestamp`, `is_yaml11_sexagesimal`): `60s`, `1024m`.
fn decisive(c: u8) -> bool {
    c.is_ascii_alphabetic() && !matches!(c.to_ascii_lowercase(), b'a'..=b'f' | b'o' | b'x' | b't' | b'z')
}

/// A conservative subset of the strings serde-saphyr writes plain as a value
/// (`quoting::is_plain_value_safe` with `yaml_12 = false`, no newline, not `.`/`#`/`-`): it starts
/// with a letter or `/`, or with a digit and holds a [`decisive`] letter (so it cannot read as a
/// number, date, indicator or document marker),
/// holds only [`VALUE_BYTES`] (no control character, no `#` to start a comment), has no `: `,
/// does not end in a space or `:`, and is no ambiguous word.
fn plain_value(s: &str) -> bool {
    plain_with(s, &VALUE_BYTES)
}

/// A conservative subset of the keys serde-saphyr writes plain (`is_plain_safe` and
/// `is_plain_value_safe` in flow style): what [`plain_value`] accepts, made of [`KEY_BYTES`].
fn plain_key(k: &str) -> bool {
    plain_with(k, &KEY_BYTES)
}

fn plain_with(s: &str, allowed: &[bool; 256]) -> bool {
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else { return false };
    let starts_well = first.is_ascii_alphabetic() || first == b'/' || (first.is_ascii_digit() && b.iter().any(|c| decisive(*c)));
    if !starts_well || last == b' ' || last == b':' {
        return false;
    }
    // One pass without early exit: most strings are plain, and this is the emitter's hot loop.
    let mut ok = true;
    let mut prev = 0u8;
    for &c in b {
        ok &= allowed[c as usize] & !(prev == b':' && c == b' ');
        prev = c;
    }
    ok && !(s.len() <= 5 && AMBIGUOUS_WORDS.iter().any(|w| w.eq_ignore_ascii_case(s)))
}

/// `# Generated by flinkops from <sources>. Do not edit.`
pub fn header(sources: &[String]) -> String {
    format!("# Generated by flinkops from {}. Do not edit.\n", sources.join(", "))
}

/// A resource file: the header comment, then the object.
pub fn resource(r: &Resource) -> String {
    let mut s = header(&r.sources);
    s.reserve(2048);
    write_yaml(&mut s, &r.body);
    s
}

/// A unit's `kustomization.yaml` (SPEC §14): its files, sorted.
pub fn kustomization(files: &[String], sources: &[String]) -> String {
    let mut files = files.to_vec();
    files.sort();
    kustomization_in_order(&files, sources)
}

/// A `kustomization.yaml` listing `resources` in the order given: the env-level one lists
/// `_namespaces` first, then the pipelines (a digit sorts before `_`).
pub fn kustomization_in_order(resources: &[String], sources: &[String]) -> String {
    let v = serde_json::json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    });
    let mut s = header(sources);
    write_yaml(&mut s, &v);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_1_1_ambiguous_strings_are_quoted() {
        let words = ["on", "off", "yes", "no", "y", "n", "true", "null", "~", "0777", "1e3", "0x1F", "1_000", "12:30", "2024-10-01"];
        let v = json!(words.iter().map(|w| (w.to_string(), json!(w))).collect::<serde_json::Map<_, _>>());
        let text = yaml(&v);
        for w in words {
            let quoted_value = text.contains(&format!(": '{w}'")) || text.contains(&format!(": \"{w}\""));
            assert!(quoted_value, "value {w:?} must be quoted in:\n{text}");
        }
    }

    #[test]
    fn plain_strings_stay_plain_and_numbers_stay_numbers() {
        let text = yaml(&json!({"a": "60s", "b": 4, "c": 0.5, "d": "rocksdb", "e": true}));
        assert_eq!(text, "a: 60s\nb: 4\nc: 0.5\nd: rocksdb\ne: true\n");
    }

    #[test]
    fn long_lines_are_not_folded() {
        let long = "word ".repeat(40).trim_end().to_string();
        let text = yaml(&json!({ "k": long }));
        assert_eq!(text.lines().count(), 1, "{text}");
    }

    #[test]
    fn multi_line_strings_are_literal_blocks() {
        let text = yaml(&json!({ "data": { "tasks.json": "{\n  \"a\": 1\n}\n" } }));
        assert!(text.contains("tasks.json: |"), "{text}");
        // Round trip: the block must read back as exactly the same string.
        let back: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back["data"]["tasks.json"], "{\n  \"a\": 1\n}\n");
    }

    /// Strings built from pieces that hit every quoting rule: YAML 1.1/1.2 words, numbers,
    /// dates, indicators, comment and mapping markers, edge spaces, control and Unicode
    /// separators, newlines (block scalars with every chomping and an indentation indicator).
    fn nasty_string() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let pieces = prop::sample::select(vec![
            "a",
            "Z",
            "p00004",
            "app.kubernetes.io/name",
            "/tmp",
            "y",
            "No",
            "ON",
            "off",
            "null",
            "Null",
            "~",
            "true",
            "nan",
            ".inf",
            "-inf",
            "0",
            "12",
            "0777",
            "1e3",
            "0x1F",
            "1_000",
            "12:30",
            "2024-10-01",
            "0.5",
            "+1",
            "-",
            ".",
            "#",
            "?",
            "---",
            "...",
            "<<",
            "=",
            " ",
            "  ",
            ":",
            ": ",
            " #",
            "#x",
            ",",
            "[",
            "]",
            "{",
            "}",
            "*",
            "&",
            "!",
            "|",
            ">",
            "%",
            "@",
            "`",
            "'",
            "\"",
            "\\",
            "\t",
            "\r",
            "\n",
            "\n\n",
            "é",
            "字",
            "\u{2028}",
            "\u{85}",
            "\u{feff}",
            "\u{0}",
            "\u{7f}",
            "60s",
            "1024m",
            "1h",
            "3349cc",
            "1g",
            "0xg",
            "2024-10-01Tg",
            "set -eu",
            "kubectl patch x -p '{\"spec\":{}}'",
            "30 7 * * *",
            "Prune=confirm",
            "a: b",
            "k=v,w",
        ]);
        prop::collection::vec(pieces, 0..6).prop_map(|v| v.concat())
    }

    fn nasty_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            4 => nasty_string().prop_map(Value::String),
            1 => any::<i64>().prop_map(Value::from),
            1 => any::<u64>().prop_map(Value::from),
            1 => any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()).prop_map(Value::from),
            1 => any::<bool>().prop_map(Value::Bool),
            1 => Just(Value::Null),
        ];
        leaf.prop_recursive(5, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec((nasty_string(), inner), 0..5).prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
        /// The hand-written layout writer is byte-identical to serde-saphyr on any object.
        #[test]
        fn writer_matches_serde_saphyr(entries in proptest::collection::vec((nasty_string(), nasty_value()), 1..6)) {
            let v = Value::Object(entries.into_iter().collect());
            proptest::prop_assert_eq!(yaml(&v), generic(&v));
        }
    }

    #[test]
    fn the_plain_subset_is_written_plain_by_serde_saphyr() {
        for s in [
            "a",
            "p00004-peak",
            "/tmp",
            "Prune=confirm",
            "a b * c",
            "registry.example.com/x:1.2@sha256:0f",
            "a:b",
            "yes-no",
            "60s",
            "1024m",
            "2h30m",
            "1g",
        ] {
            assert!(plain_value(s), "{s}");
            assert_eq!(generic(&json!({ "k": s })), format!("k: {s}\n"));
        }
        for s in [
            "",
            "y",
            "Off",
            "NULL",
            "nan",
            "a ",
            "a:",
            "a: b",
            "a #b",
            "1a",
            "1e3",
            "0x1F",
            "0o17",
            "2024-10-01T10:00:00Z",
            "12:30",
            "-a",
            ".a",
            "a\nb",
            "é",
        ] {
            assert!(!plain_value(s), "{s:?}");
        }
    }

    #[test]
    fn key_order_is_insertion_order() {
        let text = yaml(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}));
        assert_eq!(text, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n");
    }
}
