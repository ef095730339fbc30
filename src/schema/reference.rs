//! `docs/reference.md`, generated from the key registry: per file, per section, a table of
//! key | type | default | meaning.
//!
//! In: the registry. Out: Markdown text (deterministic: registry order). `tests/reference.rs`
//! fails when the committed file differs, and rewrites it under `FLINKOPS_BLESS=1`.

use std::fmt::Write;

use super::File;
use super::keys::{self, Key, Section, Ty};

/// The whole reference.
pub fn reference() -> String {
    let mut out = String::new();
    out.push_str(
        "<!-- Generated from src/schema/keys.rs by `FLINKOPS_BLESS=1 cargo test --test reference`. Do not edit. -->\n\
         # flinkops reference\n\n\
         Every key of the three files flinkops reads, with its type, default and meaning. Unknown keys are \
         errors (with the nearest valid key suggested). The JSON Schemas that `flinkops schema project`, \
         `flinkops schema pipeline` and `flinkops schema overlay` print for editors come from the same \
         registry, and so do the key lists the validator accepts. \"—\" in the default column: unset unless \
         written. Precedence of a setting that can come from several places, lowest first: built-in default, \
         `flinkops.toml [defaults]`, the overlay's `[env]`, the pipeline file (with its `extends` chain), the \
         overlay's `[pipelines.<name>]`.\n\n",
    );
    for f in File::ALL {
        let _ = writeln!(out, "- [{}](#{}) (`flinkops schema {}`)", f.root().title, anchor(f, f.root()), f.word());
    }
    for f in File::ALL {
        file(&mut out, f);
    }
    out
}

fn file(out: &mut String, f: File) {
    let root = f.root();
    let _ = write!(out, "\n<a id=\"{}\"></a>\n\n## {}\n\n", anchor(f, root), root.title);
    let _ = writeln!(out, "`{}` — JSON Schema: `flinkops schema {}`.\n\n{}", f.paths(), f.word(), root.about);
    let mut seen = vec![];
    sections(out, f, root, &mut seen, true);
}

/// Documents `s` (unless this file's reference already has it), then the sections its keys hold.
fn sections(out: &mut String, f: File, s: &'static Section, seen: &mut Vec<&'static str>, root: bool) {
    // Titles are unique within a file (a section shared by two keys is documented once).
    if seen.contains(&s.title) {
        return;
    }
    seen.push(s.title);
    if !root {
        let _ = write!(out, "\n<a id=\"{}\"></a>\n\n### {}\n\n{}\n", anchor(f, s), s.title, s.about);
    } else {
        out.push_str("\n### Top level\n");
    }
    if let Some(base) = s.base {
        let base_file = if base.title == keys::PIPELINE.title { File::Pipeline } else { f };
        let _ = writeln!(out, "\nEvery key of [{}](#{}), except:", base.title, anchor(base_file, base));
    }
    if !s.one_of.is_empty() {
        let list: Vec<String> = s.one_of.iter().map(|k| format!("`{k}`")).collect();
        let _ = writeln!(out, "\nExactly one of {} must be given.", list.join(", "));
    }
    if s.open {
        out.push_str("\nOther members are allowed and ignored.\n");
    }
    out.push_str("\n| key | type | default | meaning |\n|---|---|---|---|\n");
    for k in s.keys {
        let _ = writeln!(out, "| `{}` | {} | {} | {} |", k.name, cell(&type_text(f, k)), cell(&default_text(k)), cell(k.meaning));
    }
    // Only this section's own keys: a base is documented where it belongs.
    for k in s.keys {
        for child in keys::children(&k.ty) {
            sections(out, f, child, seen, false);
        }
    }
}

/// A stable anchor: the file's word and the section title's letters and digits.
fn anchor(f: File, s: &Section) -> String {
    let mut a = f.word().to_string();
    let mut dash = true;
    for c in s.title.chars() {
        if c.is_ascii_alphanumeric() {
            if dash {
                a.push('-');
            }
            a.push(c.to_ascii_lowercase());
            dash = false;
        } else {
            dash = true;
        }
    }
    a
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn default_text(k: &Key) -> String {
    if k.required {
        "required".into()
    } else if k.default.is_empty() {
        "—".into()
    } else {
        k.default.to_string()
    }
}

fn num(x: f64) -> String {
    if x.fract() == 0.0 { format!("{}", x as i64) } else { format!("{x}") }
}

fn type_text(f: File, k: &Key) -> String {
    let mut t = ty(f, &k.ty);
    let range = match (k.min, k.max) {
        (Some(a), Some(b)) if k.exclusive_min => format!("> {}, ≤ {}", num(a), num(b)),
        (Some(a), Some(b)) => format!("{}–{}", num(a), num(b)),
        (Some(a), None) if k.exclusive_min => format!("> {}", num(a)),
        (Some(a), None) => format!("≥ {}", num(a)),
        (None, Some(b)) => format!("≤ {}", num(b)),
        (None, None) => String::new(),
    };
    if !range.is_empty() {
        t = format!("{t}, {range}");
    }
    t
}

fn link(f: File, s: &Section) -> String {
    format!("[{}](#{})", s.title, anchor(f, s))
}

fn ty(f: File, t: &Ty) -> String {
    match t {
        Ty::Str => "string".into(),
        Ty::Dns(max) => format!("string: DNS-1123 label, at most {max} characters"),
        Ty::Pattern(_, form) => format!("string: {form}"),
        Ty::Duration => "string: duration, e.g. \"60s\", \"10m\", \"1h\"".into(),
        Ty::Memory => "string: memory size, e.g. \"2048m\", \"4g\"".into(),
        Ty::Zone => "string: IANA time-zone name".into(),
        Ty::Cron => "string: cron, 5 fields or an @-shortcut".into(),
        Ty::Path => "string: path".into(),
        Ty::Uri => "string: URI, e.g. \"s3://bucket/{env}/{name}\"".into(),
        Ty::Date => "date (YYYY-MM-DD)".into(),
        Ty::Int => "integer".into(),
        Ty::Num => "number".into(),
        Ty::Bool => "boolean".into(),
        Ty::Words(w) => {
            let w: Vec<String> = w.iter().map(|w| format!("`\"{w}\"`")).collect();
            format!("one of {}", w.join(", "))
        }
        Ty::List(Ty::Str) => "array of strings".into(),
        Ty::List(Ty::Table(s)) => format!("array of tables: {}", link(f, s)),
        Ty::List(item) => format!("array of ({})", ty(f, item)),
        Ty::Table(s) => format!("table: {}", link(f, s)),
        Ty::Tables(s) => format!("array of tables: {}", link(f, s)),
        Ty::Map(value) => format!("table of name → {}", ty(f, value)),
        Ty::AnyOf(ts) => ts.iter().map(|t| ty(f, t)).collect::<Vec<_>>().join(" or "),
        Ty::FreeTable => "table (free-form)".into(),
        Ty::Value => "any value".into(),
    }
}
