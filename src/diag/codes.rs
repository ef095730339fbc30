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
    /// No `flinkops.toml` where the repository root should be (`--root`, or the current folder and its parents).
    NoRepository = "E001",
    /// A file the repository needs, or one it references (`extends`, `flinkops.toml`), does not exist.
    FileNotFound = "E002",
    /// A spec or overlay file is not valid UTF-8.
    NotUtf8 = "E003",
    /// A spec or overlay file is not valid TOML.
    TomlSyntax = "E004",
    /// A number TOML can write but flinkops cannot hold (an integer beyond 64 bits, an invalid float).
    NumberNotRepresentable = "E005",
    /// A TOML file where flinkops would never read it (a pipeline in a subfolder, a misnamed overlay).
    IgnoredFile = "E006",
    /// A folder under `overlays/` without `overlay.toml`: an environment with every setting silently defaulted.
    EnvWithoutOverlay = "E007",
    /// An environment folder name that is not a DNS-1123 label.
    EnvNameNotDnsLabel = "E008",
    /// A key the section does not have (with the closest known key, or the list of them).
    UnknownKey = "E010",
    /// A value of the wrong TOML type (a string where a number belongs, …).
    WrongType = "E011",
    /// A number outside the range its key allows.
    OutOfRange = "E012",
    /// A word that is not one of the key's closed set (modes, presets, profiles, …).
    NotOneOf = "E013",
    /// An environment folder name that flinkops output already uses (`out/<name>/`).
    ReservedEnvName = "E050",
    /// An `extends` path that is absolute, empty or leaves the repository.
    ExtendsOutsideRepository = "E051",
    /// An `extends` chain that comes back to a file it already extends.
    ExtendsCycle = "E052",
    // --- E400–E449: Flink memory ---
    /// A memory option in `flinkConfiguration` is not a size Flink can parse.
    MemoryInvalidSize = "E400",
    /// A memory fraction in `flinkConfiguration` is not a number.
    MemoryInvalidFraction = "E401",
    /// A memory `*.min` option is larger than its `*.max` option.
    MemoryMinAboveMax = "E402",
    /// The process memory is too small for Flink's memory model.
    MemoryTooSmall = "E403",
    /// The process memory is too large for the Flink memory fixed in `flinkConfiguration`.
    MemoryTooLarge = "E404",
    /// Memory options in `flinkConfiguration` contradict each other, whatever the process memory.
    MemoryInconsistent = "E405",
    /// No process memory works with the memory options in `flinkConfiguration`.
    MemoryUnsatisfiable = "E406",
    // --- E450–E499: overlay patches ---
    /// A `[[patches]]` or `[[merge_patches]]` entry without what it needs, or with both `ops` and `file`.
    PatchIncomplete = "E450",
    /// A patch `file` path that is absolute or leaves the repository.
    PatchFileOutsideRepository = "E451",
    /// A patch file that cannot be read, or is neither JSON nor YAML.
    PatchFileUnreadable = "E452",
    /// Patch operations that are not a list of RFC 6902 operations.
    PatchOperationInvalid = "E453",
    /// A patch operation that fails on the generated object it targets (a missing path, a failed `test`).
    PatchOperationFailed = "E454",
    /// A patch that changes an object's apiVersion, kind, name or namespace.
    PatchChangesIdentity = "E455",
    /// A patch whose target matches no generated object in its environment.
    PatchMatchesNothing = "E456",
    // --- E500–E599: cross-pipeline checks ---
    /// Two pipelines with the same name.
    DuplicatePipelineName = "E500",
    /// Two pipelines (or environments) that build the same bundle image differently.
    BundleConflict = "E501",
    /// A pipeline needs a bundle image but `defaults.registry` is not set.
    RegistryMissing = "E502",
    /// An overlay's `[pipelines.<name>]` names a pipeline that does not exist.
    OverlayUnknownPipeline = "E503",
    // --- E600–E699: commands and out/ ---
    /// A command names a pipeline the environment does not have (`explain`).
    LookupUnknownPipeline = "E600",
    /// A command names an environment the repository does not have (`explain`).
    LookupUnknownEnv = "E601",
    /// The repository has several environments and the command names none (`explain`).
    LookupEnvRequired = "E602",
    /// A day-2 command names a pipeline the repository does not have.
    Day2UnknownPipeline = "E620",
    /// A day-2 command's `--env` names an environment the repository does not have.
    Day2UnknownEnv = "E621",
    /// `restore --from` is not a savepoint URI with a scheme.
    Day2NotAUri = "E622",
    /// `savepoint` for a pipeline without `flink.savepoint_dir`.
    Day2NoSavepointDir = "E623",
    /// Every environment's overlay overrides the key, so editing the pipeline file changes nothing.
    Day2Shadowed = "E624",
    /// A nonce is already at the largest value it can hold.
    Day2NonceExhausted = "E625",
    /// The file that owns the setting cannot be edited (not TOML, not UTF-8, `job` not a table).
    Day2Uneditable = "E626",
    /// The pipeline is missing from the compiled environment (an internal error).
    Day2NotCompiled = "E627",
    /// A file could not be read or written during a day-2 command.
    Day2Io = "E628",
    /// The repository has errors (or denied warnings) before the edit, so nothing is changed.
    Day2Blocked = "E629",
    /// `out/` is not up to date with the specs, so the edit's commit would carry other changes.
    Day2StaleOut = "E630",
    /// Regenerating `out/` after the edit failed, so the edit was taken back.
    Day2NotApplied = "E631",
    /// The edited file could not be put back after regenerating failed.
    Day2RevertFailed = "E632",
    /// `--env` names an environment the repository does not have.
    UnknownEnvironment = "E650",
    /// `out/` holds files but no `out/.flinkops` marker, so flinkops will not prune it.
    OutNotOwned = "E651",
    /// `out/` differs from what the specs generate (`check`).
    OutOfDate = "E652",
    /// A change has an impact that `--deny` forbids.
    ImpactDenied = "E653",
    /// `--against` outside a git repository.
    NotAGitRepository = "E654",
    /// `--against` names a revision the clone does not have.
    UnknownRevision = "E655",
    /// `init` would overwrite an existing repository or file.
    AlreadyExists = "E656",
    /// Warnings were found and `--deny-warnings` treats them as errors.
    WarningsDenied = "E657",
    // --- E900–E999: I/O and internal errors ---
    /// A file or folder that cannot be read or written (permissions, a full disk, …).
    Io = "E900",
    /// `git` cannot be run, or fails for a reason other than the user's input.
    GitFailed = "E901",
    // --- W400–W449: Flink memory ---
    /// The JobManager's JVM heap is below Flink's recommended minimum (128m).
    MemoryHeapBelowRecommended = "W400",
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
