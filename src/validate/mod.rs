//! Validate phase: spanned TOML trees in, checked model types out.
//!
//! Each submodule checks one concern and pushes every problem it finds as a diagnostic, so a
//! run reports all problems at once. Only values that passed every check reach the model.

pub mod capacity;
pub mod delivery;
pub mod flinkconf;
pub mod image;
pub mod memory;
pub mod names;
pub mod overlay;
pub mod pipeline;
pub mod project;
pub mod read;
pub mod repository;
pub mod schedule;
pub mod secrets;
