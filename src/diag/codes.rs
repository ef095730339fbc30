//! Diagnostics: the stable codes every diagnostic carries (`error[E010]: …`).
//!
//! In: nothing. Out: [`Code`], one variant per kind of problem, with its id and a one-line
//! summary; `docs/reference.md` lists them all. An id, once given, keeps its meaning: scripts and
//! CI logs grep for it. Ranges, so that parts of the code can add codes without renumbering:
//! E001–E099 repository and files, E100–E199 `flinkops.toml` and overlays' `[env]`,
//! E200–E299 pipeline keys, job, image, resources and tasks, E300–E399 autoscaling and schedules,
//! E400–E449 Flink memory, E450–E499 overlay patches, E500–E599 cross-pipeline checks (names,
//! bundles, capacity, delivery), E600–E699 commands (lookups, day-2 edits, git revisions, `out/`),
//! E900–E999 I/O and internal errors; warnings W001–W999 likewise.

/// Declares [`Code`]: each variant's doc comment (one line) is its summary.
macro_rules! codes {
    ($( #[doc = $doc:literal] $name:ident = $id:literal, )*) => {
        /// The kind of a diagnostic, with a stable id.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Code {
            $( #[doc = $doc] $name, )*
        }

        impl Code {
            /// Every code, in id order.
            pub const ALL: &[Code] = &[$(Code::$name),*];

            /// The stable id, e.g. `E010`.
            pub fn id(self) -> &'static str {
                match self { $(Code::$name => $id,)* }
            }

            /// What the code means, in one line.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$name => $doc.trim(),)* }
            }
        }
    };
}

codes! {
    // --- E001–E099: repository and files ---
    /// A key the section does not have (with the closest known key, or the list of them).
    UnknownKey = "E010",
    /// A value of the wrong TOML type (a string where a number belongs, …).
    WrongType = "E011",
    /// A number outside the range its key allows.
    OutOfRange = "E012",
    /// A word that is not one of the key's closed set (modes, presets, profiles, …).
    NotOneOf = "E013",
    // --- E100–E199: `flinkops.toml` and overlays' `[env]` ---
    /// A name that must be a DNS-1123 label is not (project name, namespace, service account).
    InvalidName = "E100",
    /// `[project]` lacks a key it needs (`name`; `repo_url` unless delivery is `none`).
    MissingProjectKey = "E101",
    /// An operator, Kubernetes or Flux version flinkops does not support or cannot read.
    UnsupportedVersion = "E102",
    /// A time-zone name that is not in the IANA database.
    UnknownTimeZone = "E103",
    /// `[schedule] valid_from` is not a date between 1970-01-01 and 2099-12-31.
    InvalidDate = "E104",
    /// The scaler image is not pinned by a version tag or a digest.
    UnpinnedScalerImage = "E105",
    /// `[delivery] flux_interval` is not a duration Flux understands.
    InvalidFluxInterval = "E106",
    /// A `[cluster]` budget without `cpu` or `memory`.
    ClusterIncomplete = "E107",
    /// A `[cluster]` memory that is not a memory size.
    InvalidCapacity = "E108",
    /// A label key or value Kubernetes refuses, or one flinkops sets itself.
    InvalidLabel = "E109",
    /// An overlay names a task its pipeline does not have.
    UnknownOverlayTask = "E110",
    // --- W100–W199: `flinkops.toml` and overlays ---
    /// `[delivery] flux_shards` is set but the delivery tool is not Flux.
    FluxShardsIgnored = "W100",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_well_formed_and_in_order() {
        let ids: Vec<&str> = Code::ALL.iter().map(|c| c.id()).collect();
        for id in &ids {
            assert!(id.len() == 4 && (id.starts_with('E') || id.starts_with('W')), "{id}");
            assert!(id[1..].chars().all(|c| c.is_ascii_digit()), "{id}");
        }
        let mut sorted = ids.clone();
        sorted.sort_by_key(|id| (id.starts_with('W'), id.to_string()));
        assert_eq!(ids, sorted, "codes are declared in id order, errors first");
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len(), "an id is used twice");
    }

    #[test]
    fn every_code_has_a_one_line_summary() {
        for c in Code::ALL {
            assert!(!c.summary().is_empty() && !c.summary().contains('\n'), "{c:?}");
        }
    }
}
