//! Validate phase: the `[resources]` section of one pipeline (SPEC §5).
//!
//! In: `[resources]` as read ([`raw::Resources`]), and later the final `[flink.config]` (which
//! may change Flink's memory fractions). Out: the profile and each container's CPU and memory,
//! with the profile's values where the spec gives none, and every process size checked against
//! Flink's memory model; every problem pushed as a diagnostic.

use crate::diag::{Code, Diagnostic, Diagnostics, Loc};
use crate::model::*;
use crate::spec::raw;
use crate::validate::memory::{self, MemorySize, Role};

/// What a resource profile of SPEC §5 stands for.
pub struct ProfileSize {
    pub tm_cpu: f64,
    pub tm_memory: &'static str,
    pub min_replicas: u32,
    pub max_replicas: u32,
}

/// The numbers of each profile of SPEC §5 (`small` is the default).
pub const fn profile_size(p: Profile) -> ProfileSize {
    let (tm_cpu, tm_memory, min_replicas, max_replicas) = match p {
        Profile::Micro => (0.2, "1024m", 1, 2),
        Profile::Small => (0.5, "1024m", 1, 3),
        Profile::Medium => (1.0, "2048m", 2, 5),
        Profile::Large => (2.0, "4096m", 2, 10),
        Profile::Xlarge => (4.0, "8192m", 3, 20),
    };
    ProfileSize { tm_cpu, tm_memory, min_replicas, max_replicas }
}
const JM_CPU: f64 = 0.5;
const JM_MEMORY: &str = "1024m";

pub(super) fn resources(r: &raw::Resources, d: &mut Diagnostics) -> Option<Resources> {
    let profile = r.profile.as_ref().map_or(Profile::Small, |p| p.value);
    let size = profile_size(profile);
    let read = |c: &Option<raw::Container>, key: &str, cpu: f64, mem: &str, d: &mut Diagnostics| -> Option<ContainerResources> {
        let section = format!("[resources.{key}]");
        let c = c.as_ref();
        let cpu = match c.and_then(|c| c.cpu.as_ref()) {
            Some(v) if v.value > 0.0 && v.value <= 1024.0 => v.value,
            Some(v) => {
                d.push(
                    Diagnostic::error(Code::OutOfRange, format!("`cpu` in {section} must be between 0 and 1024"))
                        .at(&v.loc)
                        .label("out of range"),
                );
                return None;
            }
            None => cpu,
        };
        let memory = match c.and_then(|c| c.memory.as_ref()) {
            Some(m) => match MemorySize::parse(&m.value) {
                Ok(x) => x,
                Err(e) => {
                    d.push(
                        Diagnostic::error(Code::InvalidMemorySize, format!("`memory` in {section}: {e}"))
                            .at(&m.loc)
                            .label("not a memory size")
                            .help("write Flink notation such as \"2048m\" or \"4g\" (binary units)"),
                    );
                    return None;
                }
            },
            None => MemorySize::parse(mem).expect("profile memory sizes are valid"),
        };
        Some(ContainerResources { cpu, memory })
    };
    let tm = read(&r.taskmanager, "taskmanager", size.tm_cpu, size.tm_memory, d);
    let jm = read(&r.jobmanager, "jobmanager", JM_CPU, JM_MEMORY, d);
    Some(Resources { profile, jobmanager: jm?, taskmanager: tm? })
}

/// Checks both process sizes against Flink's memory model; `file` is the whole pipeline, the
/// place of last resort.
pub(super) fn check_memory(
    res: &Resources,
    r: &raw::Resources,
    config: &indexmap::IndexMap<String, String>,
    file: &Loc,
    d: &mut Diagnostics,
) {
    for (role, c, key, written) in [
        (Role::TaskManager, &res.taskmanager, "taskmanager", &r.taskmanager),
        (Role::JobManager, &res.jobmanager, "jobmanager", &r.jobmanager),
    ] {
        if let Err(e) = memory::check(role, c.memory, config) {
            let loc =
                written.as_ref().and_then(|w| w.memory.as_ref()).map(|m| &m.loc).or(r.profile.as_ref().map(|p| &p.loc)).unwrap_or(file);
            let diag = e.diagnostic().at(loc).label("Flink would refuse to start with this memory").help(format!(
                "use at least {} for the {key}, or a larger resources.profile",
                memory::minimum_process_size(role, config).map(|m| m.to_flink_string()).unwrap_or_else(|_| "more memory".into())
            ));
            d.push(diag);
        }
    }
}
