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
    /// A key the section does not have (with the closest known key, or the list of them).
    UnknownKey = "E010",
    /// A value of the wrong TOML type (a string where a number belongs, …).
    WrongType = "E011",
    /// A number outside the range its key allows.
    OutOfRange = "E012",
    /// A word that is not one of the key's closed set (modes, presets, profiles, …).
    NotOneOf = "E013",
    /// A name that must be a DNS-1123 label (pipeline, environment, namespace, service account, Secret) is not.
    InvalidName = "E014",
    /// An environment folder name that flinkops output already uses (`out/<name>/`).
    ReservedEnvName = "E050",
    /// An `extends` path that is absolute, empty or leaves the repository.
    ExtendsOutsideRepository = "E051",
    /// An `extends` chain that comes back to a file it already extends.
    ExtendsCycle = "E052",
    // --- E100–E199: `flinkops.toml` and overlays ---
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
    /// An overlay's `[pipelines.<name>]` sets `name` or `extends`, which only the pipeline file can.
    OverlayPipelineFileKey = "E111",
    // --- E200–E299: pipeline keys, job, image, resources, tasks ---
    /// A required key is missing (`flink.version`, `job.kind`, a schedule entry's `cron`, …).
    MissingKey = "E200",
    /// A `flink.version` flinkops cannot use: not X.Y.Z, below 1.19, unknown or not released.
    UnsupportedFlinkVersion = "E202",
    /// A Flink version whose `flinkVersion` the targeted operator's CRD rejects.
    FlinkNeedsNewerOperator = "E203",
    /// A setting with no release for the pipeline's Flink version (a Java version, ForSt, a connector).
    NotForThisFlink = "E204",
    /// An image or a PyFlink requirement that names another Flink version than `flink.version`.
    FlinkVersionMismatch = "E205",
    /// An image or a Python requirement that is not pinned to an exact version.
    NotPinned = "E206",
    /// `flink.mode = "native"` with a scaling mode that needs a standalone cluster.
    DeploymentModeConflict = "E207",
    /// High availability in standalone mode on Flink 2.x with operator 1.15 (FLINK-38795).
    StandaloneHaBroken = "E208",
    /// A setting a bounded (BATCH) job cannot have: checkpoints, savepoints, stateful upgrades, scaling.
    BoundedJobConflict = "E209",
    /// A setting that needs another the spec lacks (HA without `ha_dir`, savepoints without a directory, …).
    NeedsSetting = "E210",
    /// A value that is not a Flink duration (`60s`, `10 min`, `1h`).
    InvalidDuration = "E211",
    /// A state or savepoint location that is not a URI with a scheme (`s3://…`).
    NotAUri = "E212",
    /// A `[flink.config]` key that the Flink Kubernetes Operator sets itself.
    OperatorOwnedKey = "E213",
    /// A `[flink.config]` key that flinkops sets from a typed spec field.
    TypedFieldKey = "E214",
    /// A `[flink.config]` key set twice, once under a deprecated name.
    DuplicateConfigKey = "E215",
    /// A `[flink.config]` key that is a dotted prefix of another (FLINK-37405).
    OverlappingConfigKeys = "E216",
    /// A secret-looking key whose value is written in plain text instead of `{ secret, key }`.
    SecretInPlainText = "E217",
    /// A `[flink.env]` name that is not a usable environment variable name.
    InvalidEnvName = "E218",
    /// Two secret task parameters that map to the same environment variable.
    SecretEnvCollision = "E219",
    /// A job file path that leaves the repository or names no file.
    InvalidRepoPath = "E220",
    /// A job file that does not exist in the repository.
    RepoFileMissing = "E221",
    /// A `[job]` key that does not apply to the job's kind (`requirements` of a jar job).
    NotForJobKind = "E222",
    /// An `exclude` pattern that is not a valid glob.
    InvalidGlob = "E223",
    /// A container `memory` that is not a Flink memory size.
    InvalidMemorySize = "E224",
    /// Two tasks or two schedule entries of one pipeline with the same name.
    DuplicateName = "E225",
    /// A task parameter that JSON cannot represent (NaN, infinity).
    ParamNotJson = "E226",
    // --- E300–E399: autoscaling and schedules ---
    /// `preset` and `[[autoscaling.schedule]]` entries together.
    PresetWithEntries = "E300",
    /// A scheduled scaling mode without a preset or schedule entries.
    MissingSchedule = "E301",
    /// `min_replicas` above `max_replicas` (the pipeline's or an entry's).
    MinAboveMax = "E302",
    /// A schedule entry whose counts lie outside the pipeline's bounds.
    EntryOutsideBounds = "E303",
    /// A starting `replicas` outside `min_replicas..max_replicas`.
    ReplicasOutsideBounds = "E304",
    /// Two schedule entries that fire at the same local minute (SPEC §17).
    SameMinuteEntries = "E305",
    /// A cron (or a KEDA `end`) that Kubernetes would not accept.
    InvalidCron = "E306",
    /// A CronJob scaling mode without `[scaler] image` in `flinkops.toml`.
    ScalerImageMissing = "E307",
    /// `schedule_strategy = "native"` on Kubernetes before 1.27 (no CronJob `spec.timeZone`).
    NativeStrategyNeedsTimeZone = "E308",
    /// A schedule flinkops cannot lower for its strategy (no exact UTC form, no firing in the horizon).
    ScheduleNotLowerable = "E309",
    /// A schedule entry whose CronJob name is the pipeline's reconcile job's.
    ReservedEntryName = "E310",
    /// A KEDA entry that raises the floor but has no `end`.
    KedaWindowWithoutEnd = "E311",
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
    /// An environment's pipelines at maximum scale need more cpu or memory than its `[cluster]` budget.
    CapacityExceeded = "E504",
    /// A pipeline's autoscaling needs a newer Flux than `delivery.flux_version` (Flux ignores the replica count only from 2.9).
    FluxTooOld = "E505",
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
    // --- W100–W199: `flinkops.toml` and overlays ---
    /// `[delivery] flux_shards` is set but the delivery tool is not Flux.
    FluxShardsIgnored = "W100",
    // --- W200–W299: pipeline keys, job, image, resources, tasks ---
    /// A Flink minor that is no longer maintained upstream.
    FlinkUnmaintained = "W200",
    /// A deprecated `[flink.config]` key, rewritten to its current name.
    DeprecatedConfigKey = "W201",
    // --- W300–W399: autoscaling and schedules ---
    /// Native mode: an explicit `replicas` × slots overrides `job.parallelism`.
    ReplicasOverrideParallelism = "W300",
    /// Reactive modes: `max_replicas` × slots above `pipeline.max-parallelism`, so slots idle.
    SlotsAboveMaxParallelism = "W301",
    /// CronJobs without `spec.timeZone` (Kubernetes before 1.27) that assume a UTC controller manager.
    CronJobZoneAssumedUtc = "W302",
    /// A CronJob-scaled pipeline that gets no reconcile job (SPEC §16).
    NoReconcileJob = "W303",
    /// A KEDA entry's `max_replicas`, which KEDA cannot apply (its windows are floors).
    KedaCannotLowerCap = "W304",
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
