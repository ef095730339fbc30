//! Spec phase: the typed raw input — one serde type per section of the three files a user
//! writes (`flinkops.toml`, pipeline files and templates, `overlays/<env>/overlay.toml`).
//!
//! In: a spanned [`Table`] (templates and overlays already merged into it). Out: these types,
//! through [`from_table`], with every problem of shape — unknown keys, wrong types, words
//! outside a closed set — reported as a diagnostic (all of them, not the first); a value that is
//! wrong becomes `None`, as if it were unset, so its siblings are still read. Nothing here
//! checks what a value means (ranges, names, cross-key rules): that is the validate phase.
//!
//! The same types are the source of the JSON Schemas and of `docs/reference.md`
//! (`crate::schema`): the doc comment of a field is its description there (its meaning, then
//! `Default: …` or `Required.`), and every closed set of words is an enum here, spelt once.

pub mod de;
mod overlay;
mod pipeline;
mod project;

use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer};

use crate::diag::Loc;
use crate::spec::Node;

pub use de::{from_node, from_table, suggest, unknown_keys};
pub use overlay::*;
pub use pipeline::*;
pub use project::*;

/// Kubernetes' DNS-1123 label (RFC 1123), as `validate::names` checks it.
pub(crate) const DNS_LABEL: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

// What a string holds, for people: the schema's `x-form` annotation, which docs/reference.md
// shows in its type column (JSON Schema validators ignore unknown keywords).
pub(crate) const FORM_DURATION: &str = "duration, e.g. \"60s\", \"10m\", \"1h\"";
pub(crate) const FORM_MEMORY: &str = "memory size, e.g. \"2048m\", \"4g\"";
pub(crate) const FORM_ZONE: &str = "IANA time-zone name";
pub(crate) const FORM_CRON: &str = "cron, 5 fields or an @-shortcut";
pub(crate) const FORM_PATH: &str = "path";
pub(crate) const FORM_URI: &str = "URI, e.g. \"s3://bucket/{env}/{name}\"";
pub(crate) const FORM_DATE: &str = "date (YYYY-MM-DD)";

/// Declares a section: a struct whose every field is optional (a wrong value reads as `None`,
/// reported), closed to unknown keys, with [`FIELDS`](Project::FIELDS) listing its keys.
macro_rules! section {
    ($(#[$m:meta])* pub struct $name:ident { $( $(#[$fm:meta])* pub $f:ident : $t:ty, )* }) => {
        #[derive(Debug, Clone, Default, serde::Deserialize, schemars::JsonSchema)]
        #[serde(deny_unknown_fields)]
        $(#[$m])*
        pub struct $name {
            $( $(#[$fm])* #[serde(default, deserialize_with = "crate::spec::raw::de::lenient")] pub $f: $t, )*
        }
        impl $name {
            /// The keys of this table, in declaration order.
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($f)),*];
        }
    };
}
pub(crate) use section;

/// Declares a closed set of words: each variant spelt once, as the word the user writes.
macro_rules! words {
    ($(#[$m:meta])* pub enum $name:ident { $( $v:ident = $w:literal, )* }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, schemars::JsonSchema)]
        #[schemars(inline)]
        $(#[$m])*
        pub enum $name { $( #[serde(rename = $w)] $v, )* }
        impl $name {
            /// Every value, in the order the documentation lists them.
            pub const ALL: &'static [$name] = &[$($name::$v),*];
            /// The words, in the order of [`Self::ALL`].
            pub const WORDS: &'static [&'static str] = &[$($w),*];
            /// The word the user writes.
            pub const fn word(self) -> &'static str {
                match self { $($name::$v => $w),* }
            }
            /// The value the user's word names, if it is one of [`Self::WORDS`].
            pub fn from_word(word: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.word() == word)
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(self.word())
            }
        }
    };
}
pub(crate) use words;

/// A wrapper ([`Sp`], [`Written`], [`Raw`]) is described to the JSON Schema as the `T` it wraps.
macro_rules! schema_is_inner {
    ([$($generics:tt)*] $ty:ty) => {
        impl<$($generics)*> JsonSchema for $ty {
            fn inline_schema() -> bool {
                true
            }
            fn schema_name() -> std::borrow::Cow<'static, str> {
                T::schema_name()
            }
            fn json_schema(g: &mut SchemaGenerator) -> Schema {
                g.subschema_for::<T>()
            }
        }
    };
}

/// A value with the place it was written (file and byte span). Its JSON Schema is `T`'s.
#[derive(Debug, Clone)]
pub struct Sp<T> {
    pub value: T,
    pub loc: Loc,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sp<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
            type Value = Sp<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value of the spanned tree")
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Sp<T>, D::Error> {
                let loc = de::take_loc().ok_or_else(|| serde::de::Error::custom(de::ONLY_OURS))?;
                Ok(Sp { value: T::deserialize(d)?, loc })
            }
        }
        d.deserialize_newtype_struct(de::SPANNED, V(PhantomData))
    }
}

schema_is_inner!([T: JsonSchema] Sp<T>);

/// A value that was written, but maybe wrongly: `Bad` when it could not be read (the problem is
/// already reported). Inside an `Option` it tells "not written" (`None`) from "written, but
/// unusable", for the rules that apply only to an absent key (`job.kind` is required).
#[derive(Debug, Clone)]
pub enum Written<T> {
    Ok(T),
    Bad,
}

impl<T> Written<T> {
    /// The value, when it could be read.
    pub fn ok(&self) -> Option<&T> {
        match self {
            Written::Ok(v) => Some(v),
            Written::Bad => None,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Written<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(de::lenient(d)?.map_or(Written::Bad, Written::Ok))
    }
}

schema_is_inner!([T: JsonSchema] Written<T>);

/// An array whose items are read one by one: an item of the wrong type is reported and left
/// out, and the items after it are still read.
#[derive(Debug, Clone)]
pub struct List<T>(pub Vec<T>);

impl<T> std::ops::Deref for List<T> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.0
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
            type Value = List<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<List<T>, A::Error> {
                let mut out = vec![];
                while let Some(item) = seq.next_element::<de::Lenient<T>>()? {
                    out.extend(item.0);
                }
                Ok(List(out))
            }
        }
        d.deserialize_seq(V(PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for List<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        Vec::<T>::schema_name()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        Vec::<T>::json_schema(g)
    }
}

/// A value kept as its spanned tree, for the phase that gives it meaning (free-form tables
/// such as `[flink.config]` and labels, or parts another phase validates, such as an overlay's
/// patches); described to the JSON Schema as `T`. `TABLE`: the value must be a table (a wrong
/// type is reported like any other).
#[derive(Debug, Clone)]
pub struct Raw<T, const TABLE: bool = false> {
    pub node: Node,
    _shape: PhantomData<fn() -> T>,
}

/// A [`Raw`] value that must be a table.
pub type RawTable<T> = Raw<T, true>;

impl<T, const TABLE: bool> Raw<T, TABLE> {
    /// The table, when the value is one (always, for a [`RawTable`]).
    pub fn table(&self) -> Option<&crate::spec::Table> {
        match &self.node.value {
            crate::spec::Value::Table(t) => Some(t),
            _ => None,
        }
    }
}

impl<'de, T, const TABLE: bool> Deserialize<'de> for Raw<T, TABLE> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value of the spanned tree")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Node, E> {
                de::take_node().ok_or_else(|| E::custom(de::ONLY_OURS))
            }
        }
        let name = if TABLE { de::RAW_TABLE } else { de::RAW };
        Ok(Raw { node: d.deserialize_newtype_struct(name, V)?, _shape: PhantomData })
    }
}

schema_is_inner!([T: JsonSchema, const TABLE: bool] Raw<T, TABLE>);

/// The keys `T` accepts, as serde hands them to a deserializer: for a section declared with
/// `section!` this is its `FIELDS`; the tests check the two agree.
#[cfg(test)]
pub(crate) fn serde_fields<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    de::fields_of::<T>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Code, Diagnostics, Sources};
    use crate::spec::Table;

    fn parse(text: &str) -> Table {
        let mut sources = Sources::default();
        let mut d = Diagnostics::default();
        let t = crate::spec::value::parse(sources.add("p.toml", text), text, &mut d).expect("valid TOML");
        assert!(d.items.is_empty());
        t
    }

    fn messages(d: &Diagnostics) -> Vec<String> {
        d.items.iter().map(|x| format!("{:?} {} | {:?}", x.code, x.message, x.help)).collect()
    }

    #[test]
    fn fields_are_the_keys_serde_reads() {
        fn check<T: serde::de::DeserializeOwned>(fields: &[&str]) {
            assert_eq!(serde_fields::<T>(), fields, "{}", std::any::type_name::<T>());
        }
        check::<ProjectFile>(ProjectFile::FIELDS);
        check::<Project>(Project::FIELDS);
        check::<Delivery>(Delivery::FIELDS);
        check::<Pipeline>(Pipeline::FIELDS);
        check::<Flink>(Flink::FIELDS);
        check::<Job>(Job::FIELDS);
        check::<ScheduleEntry>(ScheduleEntry::FIELDS);
        check::<OverlayFile>(OverlayFile::FIELDS);
        check::<OverlayPipeline>(OverlayPipeline::FIELDS);
        let file_only = ["extends", "name"];
        let shared: Vec<&str> = Pipeline::FIELDS.iter().copied().filter(|k| !file_only.contains(k)).collect();
        assert_eq!(OverlayPipeline::FIELDS, shared, "an overlay's pipeline has a pipeline's keys but `extends` and `name`");
    }

    /// Every pipeline file and template of the repository and its fixtures reads without a
    /// diagnostic.
    #[test]
    fn the_example_pipelines_and_templates_read_cleanly() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("pipelines"), root.join("templates")];
        for f in std::fs::read_dir(root.join("tests/fixtures")).unwrap() {
            let f = f.unwrap().path();
            dirs.push(f.join("pipelines"));
            dirs.push(f.join("templates"));
        }
        let mut read = 0;
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for e in entries {
                let path = e.unwrap().path();
                if path.extension().is_none_or(|x| x != "toml") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let mut d = Diagnostics::default();
                let p: Pipeline = from_table(&parse(&text), "the pipeline", &mut d);
                assert!(d.items.is_empty(), "{}: {:?}", path.display(), messages(&d));
                assert!(p.flink.is_some() || p.job.is_some() || p.autoscaling.is_some() || p.extends.is_some(), "{}", path.display());
                read += 1;
            }
        }
        assert!(read >= 14, "{read}");
    }

    /// A typo'd key, a wrong type and an unknown word are worded as the validate phase always
    /// worded them (the helpers below are the ones the key-by-key readers used), and one bad
    /// value does not hide its siblings'.
    #[test]
    fn problems_are_worded_as_the_validate_phase_words_them() {
        let text = "versoin = 1\n[flink]\nslots = \"two\"\nmode = \"standalon\"\nhigh_availability = true\n\
                    [job]\nargs = [\"a\", 2, \"c\"]\n[[tasks]]\nname = \"etl\"\nenabeld = true\n[[tasks]]\n";
        let t = parse(text);
        let mut d = Diagnostics::default();
        let p: Pipeline = from_table(&t, "the pipeline", &mut d);

        let node = |key: &str| &t.get(key).unwrap().node;
        let table = |n: &Node| match &n.value {
            crate::spec::Value::Table(t) => t.clone(),
            _ => panic!(),
        };
        let (flink, job) = (table(node("flink")), table(node("job")));
        let crate::spec::Value::Array(tasks) = &node("tasks").value else { panic!() };
        let crate::spec::Value::Array(args) = &job.get("args").unwrap().node.value else { panic!() };
        let mut expected = Diagnostics::default();
        unknown_keys(&t, "the pipeline", Pipeline::FIELDS, &mut expected);
        de::type_error("slots", "[flink]", "an integer", &flink.get("slots").unwrap().node, &mut expected);
        let mode = &flink.get("mode").unwrap().node;
        de::not_one_of("mode", "[flink]", "standalon", DeployMode::WORDS, &mode.loc, &mut expected);
        de::type_error("args", "[job]", "an array of strings", &args[1], &mut expected);
        unknown_keys(&table(&tasks[0]), "[[tasks]]", Task::FIELDS, &mut expected);

        let (mut got, mut want) = (messages(&d), messages(&expected));
        got.sort();
        want.sort();
        assert_eq!(got, want);
        let codes: Vec<Code> = d.items.iter().map(|x| x.code).collect();
        for c in [Code::UnknownKey, Code::WrongType, Code::NotOneOf] {
            assert!(codes.contains(&c), "{codes:?}");
        }
        // The siblings of the bad values are read.
        let flink = p.flink.unwrap().value;
        assert!(flink.slots.is_none() && flink.mode.is_none());
        assert!(flink.high_availability.unwrap().value);
        let args: Vec<String> = p.job.unwrap().value.args.unwrap().iter().map(|a| a.value.clone()).collect();
        assert_eq!(args, ["a", "c"]);
        let tasks = p.tasks.unwrap();
        assert_eq!(tasks[0].value.name.as_ref().unwrap().value, "etl");
        // Each item has its own place.
        assert_eq!(tasks.len(), 2);
        assert!(tasks[1].loc.span.start > tasks[0].loc.span.start);
    }

    /// An item of an array of tables that is not a table reads as `[[…]]` entries always read.
    #[test]
    fn an_array_of_tables_names_a_bad_item_as_an_entry() {
        let mut d = Diagnostics::default();
        let p: Pipeline = from_table(&parse("tasks = [\"etl\", { name = \"load\" }]\n"), "the pipeline", &mut d);
        assert_eq!(messages(&d), ["WrongType each [[tasks]] entry must be a table | []"]);
        assert_eq!(p.tasks.unwrap().len(), 1);
    }

    /// `Written` tells a key that was not written from one written wrongly.
    #[test]
    fn written_tells_absent_from_unusable() {
        let mut d = Diagnostics::default();
        let p: Pipeline = from_table(&parse("[job]\nkind = \"pyhton\"\n"), "the pipeline", &mut d);
        assert!(matches!(p.job.unwrap().value.kind, Some(Written::Bad)));
        assert_eq!(d.items.len(), 1);
        let p: Pipeline = from_table(&parse("[job]\nkind = \"jar\"\n"), "the pipeline", &mut d);
        assert_eq!(p.job.unwrap().value.kind.unwrap().ok().unwrap().value, JobKind::Jar);
        let p: Pipeline = from_table(&parse("[job]\n"), "the pipeline", &mut d);
        assert!(p.job.unwrap().value.kind.is_none());
        assert_eq!(d.items.len(), 1);
    }

    #[test]
    fn spans_point_at_values_and_words_read_as_enums() {
        let text = "[autoscaling]\nmode = \"hpa\"\npreset = \"24x7_peak\"\n";
        let mut d = Diagnostics::default();
        let p: Pipeline = from_table(&parse(text), "the pipeline", &mut d);
        assert!(d.items.is_empty());
        let a = p.autoscaling.unwrap();
        assert_eq!(&text[a.loc.span.clone()], "[autoscaling]", "a section is placed at its header");
        let mode = a.value.mode.unwrap();
        assert_eq!(mode.value, AutoscalingMode::Hpa);
        assert_eq!(&text[mode.loc.span.clone()], "\"hpa\"");
        assert_eq!(Preset::from_word(&a.value.preset.unwrap().value), Some(Preset::Peak24x7));
        assert_eq!(Preset::Peak24x7.to_string(), "24x7_peak");
    }
}
