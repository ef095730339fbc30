//! flinkops: a GitOps compiler for Apache Flink on Kubernetes.
//!
//! Phases, data flowing one way: [`spec`] (TOML in, with spans; [`spec::raw`] types per
//! section) → [`validate`] (checked [`model`] types, every diagnostic collected) → [`bundle`]
//! (image specs) → [`render`] (Kubernetes objects) → [`patch`] (overlays) → [`emit`] (file
//! bytes) → [`sync`] (diff against `out/`, write, prune) → [`impact`] (what each
//! FlinkDeployment change makes the operator do). [`compile`] runs them in order; [`explain`]
//! reads the compiled model; [`day2`] turns operations (savepoint, restore, suspend, resume,
//! restart) into format-preserving edits of the owning TOML file and regenerates. Leaf modules
//! every phase may use: [`diag`] (diagnostics and their codes), [`units`] (memory sizes, numbers),
//! [`names`] (Kubernetes naming rules), [`versions`], [`schedule`] (cron and time zones),
//! [`layout`] (where files go in `out/`). The library never prints: it returns values and
//! diagnostics, and the CLI renders them.

pub mod bundle;
pub mod compile;
pub mod day2;
pub mod diag;
pub mod emit;
pub mod explain;
pub mod gitrev;
pub mod impact;
pub mod layout;
pub mod model;
pub mod names;
pub mod patch;
pub mod render;
pub mod schedule;
pub mod schema;
pub mod spec;
pub mod sync;
pub mod units;
pub mod validate;
pub mod versions;
