//! The shape of the three files a user writes, from one registry ([`keys`]): the JSON Schemas
//! that `flinkops schema [pipeline|project|overlay]` prints for editors (e.g. Taplo / Even Better
//! TOML: completion, hover text, typos flagged while typing), and `docs/reference.md`.
//!
//! In: nothing (the registry is static data). Out: JSON Schema (draft 2020-12) values and the
//! reference text. Validation proper is the validate phase, which takes its key lists from the
//! same registry: these schemas state the shape (keys, types, words, ranges), not the rules that
//! tie keys together.

mod json;
pub mod keys;
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

    /// The registry section of the whole file.
    pub fn root(self) -> &'static keys::Section {
        match self {
            File::Project => &keys::PROJECT_FILE,
            File::Pipeline => &keys::PIPELINE,
            File::Overlay => &keys::OVERLAY_FILE,
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

#[cfg(test)]
mod tests {
    use super::keys::{self, Section};

    fn sorted(k: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = k.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    }

    fn names(s: &Section) -> Vec<String> {
        sorted(&s.names())
    }

    // Every validator key list is computed from the registry (`key_names!`); these tests guard
    // that each section is wired to the right registry section.
    #[test]
    fn the_project_validator_accepts_exactly_the_registry_keys() {
        use crate::validate::project as v;
        for (section, known) in [
            (&keys::PROJECT_FILE, v::TOP_KEYS),
            (&keys::PROJECT, v::PROJECT_KEYS),
            (&keys::TARGET, v::TARGET_KEYS),
            (&keys::DEFAULTS, v::DEFAULTS_KEYS),
            (&keys::SCHEDULE, v::SCHEDULE_KEYS),
            (&keys::SCALER, v::SCALER_KEYS),
            (&keys::DELIVERY, v::DELIVERY_KEYS),
            (&keys::CLUSTER, v::CLUSTER_KEYS),
            (&keys::OVERLAY_FILE, v::OVERLAY_KEYS),
            (&keys::ENV, v::ENV_KEYS),
        ] {
            assert_eq!(names(section), sorted(known), "{}", section.title);
        }
    }

    #[test]
    fn the_pipeline_and_patch_validators_accept_exactly_the_registry_keys() {
        use crate::validate::pipeline as p;
        for (section, known) in [
            (&keys::PIPELINE, p::PIPELINE_KEYS),
            (&keys::FLINK, p::FLINK_KEYS),
            (&keys::JOB, p::JOB_KEYS),
            (&keys::RESOURCES, p::RESOURCES_KEYS),
            (&keys::CONTAINER, p::CONTAINER_KEYS),
            (&keys::AUTOSCALING, p::AUTOSCALING_KEYS),
            (&keys::ENTRY, p::ENTRY_KEYS),
            (&keys::OPERATOR, p::OPERATOR_KEYS),
            (&keys::TASK, p::TASK_KEYS),
        ] {
            assert_eq!(names(section), sorted(known), "{}", section.title);
        }
        // The overlay's partial pipeline has the pipeline's keys, with its own `tasks`.
        assert_eq!(names(&keys::OVERLAY_PIPELINE), sorted(p::PIPELINE_KEYS));
        assert!(matches!(keys::OVERLAY_PIPELINE.key("tasks").unwrap().ty, keys::Ty::Map(_)));
    }

    #[test]
    fn no_section_names_a_key_twice_and_every_key_has_a_meaning() {
        fn walk(s: &'static Section, seen: &mut Vec<&'static str>) {
            if seen.contains(&s.title) {
                return;
            }
            seen.push(s.title);
            let mut names = s.names();
            names.sort();
            let n = names.len();
            names.dedup();
            assert_eq!(names.len(), n, "{}", s.title);
            assert!(s.keys.iter().all(|k| s.base.is_some() || s.keys.iter().filter(|o| o.name == k.name).count() == 1), "{}", s.title);
            for k in s.all_keys() {
                assert!(!k.meaning.trim().is_empty(), "{}.{}", s.title, k.name);
                assert!(k.meaning.ends_with('.'), "{}.{}: a sentence ends with a full stop", s.title, k.name);
                for child in keys::children(&k.ty) {
                    walk(child, seen);
                }
            }
        }
        let mut seen = vec![];
        for f in super::File::ALL {
            walk(f.root(), &mut seen);
        }
        assert!(seen.len() >= 25, "{seen:?}");
    }
}
