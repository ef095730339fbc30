//! The shape of the three files a user writes, derived from the raw types the validator reads
//! (`crate::spec::raw`): the JSON Schemas that `flinkops schema [pipeline|project|overlay]`
//! prints for editors (e.g. Taplo / Even Better TOML: completion, hover text, typos flagged
//! while typing), and `docs/reference.md`.
//!
//! In: nothing (the types are the data). Out: JSON Schema (draft 2020-12) values and the
//! reference text. They state the shape (keys, types, words, ranges), not the rules that tie
//! keys together, which are the validate phase's.

mod json;
mod reference;

use serde_json::Value;

pub use reference::reference;

/// One of the three kinds of file flinkops reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum File {
    /// `flinkops.toml`.
    Project,
    /// `pipelines/*.toml`, and templates (partial pipelines).
    Pipeline,
    /// `overlays/<env>/overlay.toml`.
    Overlay,
}

impl File {
    /// In the order the reference documents them.
    pub const ALL: [File; 3] = [File::Project, File::Pipeline, File::Overlay];

    /// The word `flinkops schema` takes.
    pub fn word(self) -> &'static str {
        match self {
            File::Project => "project",
            File::Pipeline => "pipeline",
            File::Overlay => "overlay",
        }
    }

    /// Where such files live in a repository.
    pub fn paths(self) -> &'static str {
        match self {
            File::Project => "flinkops.toml",
            File::Pipeline => "pipelines/*.toml, templates/*.toml",
            File::Overlay => "overlays/*/overlay.toml",
        }
    }

    fn title(self) -> &'static str {
        match self {
            File::Project => "flinkops project settings (flinkops.toml)",
            File::Pipeline => "flinkops pipeline spec (pipelines/*.toml, templates/*.toml)",
            File::Overlay => "flinkops environment overlay (overlays/<env>/overlay.toml)",
        }
    }
}

/// The JSON Schema of one kind of file.
pub fn schema(file: File) -> Value {
    json::file_schema(file)
}

/// The schema of `pipelines/*.toml` (and templates, which are partial pipelines).
pub fn pipeline_schema() -> Value {
    schema(File::Pipeline)
}

/// The schema of `flinkops.toml`.
pub fn project_schema() -> Value {
    schema(File::Project)
}

/// The schema of `overlays/<env>/overlay.toml`.
pub fn overlay_schema() -> Value {
    schema(File::Overlay)
}
