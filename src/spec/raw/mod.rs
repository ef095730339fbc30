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
        }
    };
}
pub(crate) use words;

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

impl<T: JsonSchema> JsonSchema for Sp<T> {
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

impl<T: JsonSchema, const TABLE: bool> JsonSchema for Raw<T, TABLE> {
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

/// The keys `T` accepts, as serde hands them to a deserializer: for a section declared with
/// `section!` this is its `FIELDS`; the tests check the two agree.
#[cfg(test)]
pub(crate) fn serde_fields<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    de::fields_of::<T>()
}
