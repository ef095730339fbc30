//! Validate phase: the `[resources]` section of one pipeline (SPEC §5).
//!
//! In: the `[resources]` table, and later the final `[flink.config]` (which may change Flink's
//! memory fractions). Out: the profile and each container's CPU and memory, with the profile's
//! values where the spec gives none, and every process size checked against Flink's memory
//! model; every problem pushed as a diagnostic.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::*;
use crate::spec::{Table, Value};
use crate::validate::memory::{self, MemorySize, Role};
use crate::validate::read::*;

/// The keys of `[resources]`, from the key registry (like the JSON Schemas and docs/reference.md).
pub const RESOURCES_KEYS: &[&str] = crate::spec::raw::Resources::FIELDS;
/// The keys of `[resources.taskmanager]` and `[resources.jobmanager]`, from the key registry (like the JSON Schemas and docs/reference.md).
pub const CONTAINER_KEYS: &[&str] = crate::spec::raw::Container::FIELDS;

/// A resource profile of SPEC §5.
pub struct Profile {
    pub name: &'static str,
    pub tm_cpu: f64,
    pub tm_memory: &'static str,
    pub min_replicas: u32,
    pub max_replicas: u32,
}

/// The resource profiles of SPEC §5; `small` is the default.
pub const PROFILES: &[Profile] = &[
    Profile { name: crate::spec::raw::Profile::Micro.word(), tm_cpu: 0.2, tm_memory: "1024m", min_replicas: 1, max_replicas: 2 },
    Profile { name: crate::spec::raw::Profile::Small.word(), tm_cpu: 0.5, tm_memory: "1024m", min_replicas: 1, max_replicas: 3 },
    Profile { name: crate::spec::raw::Profile::Medium.word(), tm_cpu: 1.0, tm_memory: "2048m", min_replicas: 2, max_replicas: 5 },
    Profile { name: crate::spec::raw::Profile::Large.word(), tm_cpu: 2.0, tm_memory: "4096m", min_replicas: 2, max_replicas: 10 },
    Profile { name: crate::spec::raw::Profile::Xlarge.word(), tm_cpu: 4.0, tm_memory: "8192m", min_replicas: 3, max_replicas: 20 },
];
const JM_CPU: f64 = 0.5;
const JM_MEMORY: &str = "1024m";

pub(super) fn resources(t: &Table, d: &mut Diagnostics) -> Option<Resources> {
    let names: Vec<&str> = PROFILES.iter().map(|p| p.name).collect();
    let profile_v = opt_choice(t, "profile", "[resources]", &names, d);
    let profile = PROFILES.iter().find(|p| Some(p.name) == profile_v.as_ref().map(|v| v.value.as_str())).unwrap_or(&PROFILES[1]);
    let empty = Table::empty(t.loc.clone());
    let read = |key: &str, cpu: f64, mem: &str, d: &mut Diagnostics| -> Option<ContainerResources> {
        let c = match opt_table(t, key, "[resources]", d) {
            Some(c) => {
                check_keys(c, &format!("[resources.{key}]"), CONTAINER_KEYS, d);
                c
            }
            None => &empty,
        };
        let section = format!("[resources.{key}]");
        let cpu = match opt_number(c, "cpu", &section, d) {
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
        let memory = match opt_str(c, "memory", &section, d) {
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
    let tm = read("taskmanager", profile.tm_cpu, profile.tm_memory, d);
    let jm = read("jobmanager", JM_CPU, JM_MEMORY, d);
    Some(Resources { profile: profile.name.to_string(), jobmanager: jm?, taskmanager: tm? })
}

/// Checks both process sizes against Flink's memory model; `t` is the whole pipeline, the
/// place of last resort.
pub(super) fn check_memory(res: &Resources, res_t: &Table, config: &indexmap::IndexMap<String, String>, t: &Table, d: &mut Diagnostics) {
    for (role, c, key) in [(Role::TaskManager, &res.taskmanager, "taskmanager"), (Role::JobManager, &res.jobmanager, "jobmanager")] {
        if let Err(e) = memory::check(role, c.memory, config) {
            let loc = res_t
                .get(key)
                .and_then(|e| if let Value::Table(t) = &e.node.value { t.get("memory").map(|m| m.node.loc.clone()) } else { None })
                .or_else(|| res_t.get("profile").map(|p| p.node.loc.clone()))
                .unwrap_or_else(|| t.loc.clone());
            let diag = e.diagnostic().at(&loc).label("Flink would refuse to start with this memory").help(format!(
                "use at least {} for the {key}, or a larger resources.profile",
                memory::minimum_process_size(role, config).map(|m| m.to_flink_string()).unwrap_or_else(|_| "more memory".into())
            ));
            d.push(diag);
        }
    }
}
