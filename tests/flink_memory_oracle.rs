//! Oracle test of the memory check (validate phase, SPEC §5; issue #18, "Proof, with real tools"):
//! Flink's own memory code must agree with `flinkops::validate::memory`.
//!
//! In: the PyFlink 2.2.1 distribution (`bin/bash-java-utils.jar`, `lib/flink-dist-*.jar`) found
//! through `FLINKOPS_PYFLINK_HOME` (the `pyflink` package folder) or else the stream-job e2e venv
//! (`FLINKOPS_E2E_VENV`, default `${TMPDIR:-/tmp}/flinkops-e2e-venv`, created by
//! `.ci/stream-job-e2e`), plus `java` and `javac` (from `JAVA_HOME` or `PATH`).
//! Out: pass/fail. Flink's verdict comes from `BashJavaUtils` (`GET_TM_RESOURCE_PARAMS` /
//! `GET_JM_RESOURCE_PARAMS`), the class `bin/config.sh` runs before a JobManager or TaskManager
//! JVM starts: it exits non-zero (and the process never starts) exactly where Flink refuses the
//! memory configuration, and otherwise prints the JVM parameters and every derived component.
//! `tests/flink_memory/BashJavaUtilsBatch.java`, compiled here with `javac`, calls
//! `BashJavaUtils.main` once per case inside one JVM (a JVM start costs ~0.5-1 s; there are about
//! 1,500 cases); one test also runs the plain command line the way `bin/config.sh` does and
//! checks that the batch driver prints the same.
//!
//! 1. Every FlinkDeployment the worked example (`out/`) and the golden fixtures
//!    (`tests/fixtures/*/out`) emit: its `flinkConfiguration` as `config.yaml` plus its process
//!    sizes, set as the operator sets them, must start (both roles), and flinkops' breakdown must
//!    equal Flink's to the byte.
//! 2. Random memory settings (fixed seed) over every key `validate/memory/options.rs` reads, each at a
//!    random process size and at the sizes flinkops names as the smallest (and largest) that work
//!    and one mebibyte beyond: accept/refuse must agree, and accepted ones must agree to the byte.
//!
//! When PyFlink, `java` or `javac` is missing the tests print why and pass, except under
//! `CI=true`, where they fail: CI installs all three (`.ci/stream-job-e2e`).

use flinkops::validate::memory::{self, Breakdown, FlinkParts, MemoryModelError, MemorySize, Role};
use indexmap::IndexMap;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const MIB: u64 = 1 << 20;

// ---------------------------------------------------------------------------------------------
// Finding and preparing Flink
// ---------------------------------------------------------------------------------------------

/// Flink's BashJavaUtils, ready to run: the compiled batch driver and the classpath that
/// `bin/config.sh` builds (`bin/bash-java-utils.jar:<lib/flink-dist-*.jar>`).
struct Flink {
    java: PathBuf,
    /// `bash-java-utils.jar:flink-dist.jar`, as `parseResourceParamsAndExportLogs` passes it.
    util_classpath: String,
    /// The driver's class folder in front of `util_classpath`.
    driver_classpath: String,
    /// A log4j2 configuration that silences BashJavaUtils' INFO logging (only the result lines matter).
    log_config: PathBuf,
    /// Where cases write their `config.yaml` folders.
    work: PathBuf,
}

fn tool(name: &str) -> Result<PathBuf, String> {
    let from_home = std::env::var_os("JAVA_HOME").map(|h| PathBuf::from(h).join("bin").join(name)).filter(|p| p.is_file());
    let path = from_home.unwrap_or_else(|| PathBuf::from(name));
    match Command::new(&path).arg("-version").output() {
        Ok(o) if o.status.success() => Ok(path),
        Ok(o) => Err(format!("`{} -version` failed: {}", path.display(), String::from_utf8_lossy(&o.stderr).trim())),
        Err(e) => Err(format!("`{name}` cannot be run ({e}); install a JDK 11 or 17 (e.g. openjdk-17-jdk-headless)")),
    }
}

/// The `pyflink` package folder: `FLINKOPS_PYFLINK_HOME`, else the e2e venv's site-packages.
fn pyflink_home() -> Result<PathBuf, String> {
    if let Some(home) = std::env::var_os("FLINKOPS_PYFLINK_HOME") {
        return Ok(PathBuf::from(home));
    }
    let venv = std::env::var_os("FLINKOPS_E2E_VENV").map(PathBuf::from).unwrap_or_else(|| std::env::temp_dir().join("flinkops-e2e-venv"));
    let lib = venv.join("lib");
    let entries = std::fs::read_dir(&lib).map_err(|e| {
        format!(
            "no PyFlink: FLINKOPS_PYFLINK_HOME is not set and {} cannot be read ({e}); run `bash .ci/stream-job-e2e` once",
            lib.display()
        )
    })?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("python"))
        .map(|e| e.path().join("site-packages").join("pyflink"))
        .filter(|p| p.is_dir())
        .collect();
    found.sort();
    found.pop().ok_or_else(|| format!("no PyFlink in {} (no lib/python*/site-packages/pyflink)", venv.display()))
}

fn prepare() -> Result<Flink, String> {
    let home = pyflink_home()?;
    let bash_java_utils = home.join("bin").join("bash-java-utils.jar");
    if !bash_java_utils.is_file() {
        return Err(format!("{} is missing", bash_java_utils.display()));
    }
    // bin/bash-java-utils.sh `findFlinkDistJar`: exactly one lib/flink-dist*.jar.
    let lib = home.join("lib");
    let dist: Vec<PathBuf> = std::fs::read_dir(&lib)
        .map_err(|e| format!("{} cannot be read: {e}", lib.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("flink-dist") && n.ends_with(".jar")
        })
        .map(|e| e.path())
        .collect();
    let [dist] = dist.as_slice() else {
        return Err(format!("expected exactly one flink-dist*.jar in {}, found {}", lib.display(), dist.len()));
    };
    let java = tool("java")?;
    let javac = tool("javac")?;
    let util_classpath = format!("{}:{}", bash_java_utils.display(), dist.display());

    // One folder per test process (the tests of this file share it); folders that earlier runs
    // left behind for more than an hour are removed.
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    if let Ok(entries) = std::fs::read_dir(&tmp) {
        for e in entries.filter_map(|e| e.ok()) {
            let stale = e.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok()).is_some_and(|age| age.as_secs() > 3600);
            if stale && e.file_name().to_string_lossy().starts_with("flink-memory-oracle-") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let work = tmp.join(format!("flink-memory-oracle-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let classes = work.join("classes");
    std::fs::create_dir_all(&classes).map_err(|e| e.to_string())?;
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/flink_memory/BashJavaUtilsBatch.java");
    let out = Command::new(&javac)
        .arg("-nowarn")
        .arg("-d")
        .arg(&classes)
        .arg("-cp")
        .arg(&util_classpath)
        .arg(&source)
        .output()
        .map_err(|e| format!("javac could not be run: {e}"))?;
    if !out.status.success() {
        return Err(format!("javac {} failed:\n{}", source.display(), String::from_utf8_lossy(&out.stderr)));
    }
    let log_config = work.join("log4j2-off.properties");
    std::fs::write(&log_config, "rootLogger.level = OFF\n").map_err(|e| e.to_string())?;
    Ok(Flink { java, driver_classpath: format!("{}:{util_classpath}", classes.display()), util_classpath, log_config, work })
}

/// Flink, or `None` (after printing why) when it is not installed outside CI. Under `CI=true` a
/// missing Flink fails the test: CI must run this oracle, not skip it.
fn flink() -> Option<&'static Flink> {
    static FLINK: OnceLock<Result<Flink, String>> = OnceLock::new();
    match FLINK.get_or_init(prepare) {
        Ok(f) => Some(f),
        Err(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but Flink's memory oracle cannot run: {why}")
        }
        Err(why) => {
            println!("SKIPPED: Flink memory oracle not run: {why} (set FLINKOPS_PYFLINK_HOME to a pyflink folder)");
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Running cases through BashJavaUtils
// ---------------------------------------------------------------------------------------------

/// One BashJavaUtils run: a role, a `config.yaml` and the process size.
struct Case {
    label: String,
    role: Role,
    /// The effective `flinkConfiguration` (written to `config.yaml`, read by flinkops).
    config: IndexMap<String, String>,
    /// `config.yaml`'s folder (shared by cases with the same configuration).
    conf_dir: PathBuf,
    /// The process size as flinkops reads it.
    process: MemorySize,
    /// The BashJavaUtils argument that sets the process size: `-D<key>=<value>`, or
    /// `-R<key>=<resource memory>` for the operator's conversion (see the driver).
    process_arg: String,
}

impl Case {
    fn describe(&self) -> String {
        let mut s = format!("{} — {} process memory {} ({})", self.label, self.role, self.process, self.process_arg);
        for (k, v) in &self.config {
            let _ = write!(s, "\n      {k}: {v}");
        }
        s
    }
}

/// What Flink did with a case.
#[derive(Debug, Clone)]
enum FlinkVerdict {
    /// The process would start: the JVM parameters and the dynamic memory configuration.
    Started { jvm: BTreeMap<String, u64>, dynamic: BTreeMap<String, String> },
    /// `bin/config.sh` would exit 1: Flink's exception chain.
    Refused(String),
}

fn command(role: Role) -> &'static str {
    match role {
        Role::TaskManager => "GET_TM_RESOURCE_PARAMS",
        Role::JobManager => "GET_JM_RESOURCE_PARAMS",
    }
}

fn process_key(role: Role) -> &'static str {
    match role {
        Role::TaskManager => "taskmanager.memory.process.size",
        Role::JobManager => "jobmanager.memory.process.size",
    }
}

/// Writes `config` as a Flink `config.yaml` (flat keys, single-quoted string values: the operator
/// hands Flink string values) into a new folder under `work`.
fn write_conf_dir(work: &Path, name: &str, config: &IndexMap<String, String>) -> PathBuf {
    let dir = work.join("conf").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let mut yaml = String::new();
    for (k, v) in config {
        let _ = writeln!(yaml, "{k}: '{}'", v.replace('\'', "''"));
    }
    std::fs::write(dir.join("config.yaml"), yaml).unwrap();
    dir
}

/// The JVM parameters line: `-Xmx<n> -Xms<n> [-XX:MaxDirectMemorySize=<n>] -XX:MaxMetaspaceSize=<n>`.
fn parse_jvm(line: &str) -> Result<BTreeMap<String, u64>, String> {
    let mut out = BTreeMap::new();
    for tok in line.split_whitespace() {
        let (name, value) = if let Some(v) = tok.strip_prefix("-Xmx") {
            ("Xmx", v)
        } else if let Some(v) = tok.strip_prefix("-Xms") {
            ("Xms", v)
        } else if let Some((n, v)) = tok.strip_prefix("-XX:").and_then(|t| t.split_once('=')) {
            (n, v)
        } else {
            return Err(format!("unexpected JVM parameter {tok:?} in {line:?}"));
        };
        let bytes = value.parse::<u64>().map_err(|_| format!("JVM parameter {tok:?} is not a byte count"))?;
        out.insert(name.to_string(), bytes);
    }
    Ok(out)
}

/// The dynamic configuration line: `-D key=value -D key=value ...`.
fn parse_dynamic(line: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut tokens = line.split_whitespace();
    while let Some(tok) = tokens.next() {
        if tok != "-D" {
            return Err(format!("expected -D, got {tok:?} in {line:?}"));
        }
        let kv = tokens.next().ok_or_else(|| format!("-D without a value in {line:?}"))?;
        let (k, v) = kv.split_once('=').ok_or_else(|| format!("-D {kv:?} has no '='"))?;
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

fn parse_result_fields(fields: &[&str]) -> Result<FlinkVerdict, String> {
    match fields {
        ["ok", jvm, dynamic] => Ok(FlinkVerdict::Started { jvm: parse_jvm(jvm)?, dynamic: parse_dynamic(dynamic)? }),
        ["ok", rest @ ..] => Err(format!("BashJavaUtils printed {} result lines, expected 2: {rest:?}", rest.len())),
        ["err", message] => Ok(FlinkVerdict::Refused(message.to_string())),
        other => Err(format!("unexpected driver output {other:?}")),
    }
}

/// Runs every case through BashJavaUtils in one JVM; the verdicts come back in case order.
fn run_flink(flink: &Flink, cases: &[Case], batch: &str) -> Vec<FlinkVerdict> {
    let mut input = String::new();
    for (i, c) in cases.iter().enumerate() {
        let _ = writeln!(input, "{i}\t{}\t--configDir\t{}\t{}", command(c.role), c.conf_dir.display(), c.process_arg);
    }
    let cases_file = flink.work.join(format!("{batch}-cases.tsv"));
    let results_file = flink.work.join(format!("{batch}-results.tsv"));
    std::fs::write(&cases_file, input).unwrap();
    let out = Command::new(&flink.java)
        .arg(format!("-Dlog4j2.configurationFile={}", flink.log_config.display()))
        .arg("-cp")
        .arg(&flink.driver_classpath)
        .arg("BashJavaUtilsBatch")
        .arg(&cases_file)
        .arg(&results_file)
        .output()
        .expect("java runs");
    assert!(
        out.status.success(),
        "the BashJavaUtils batch driver failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&results_file).unwrap();
    let mut verdicts: Vec<Option<FlinkVerdict>> = vec![None; cases.len()];
    for line in text.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let i: usize = fields[0].parse().unwrap();
        let verdict = parse_result_fields(&fields[1..]).unwrap_or_else(|e| panic!("case {}: {e}", cases[i].describe()));
        verdicts[i] = Some(verdict);
    }
    verdicts.into_iter().enumerate().map(|(i, v)| v.unwrap_or_else(|| panic!("no result for case {i}"))).collect()
}

// ---------------------------------------------------------------------------------------------
// Comparing flinkops with Flink
// ---------------------------------------------------------------------------------------------

fn size_value(dynamic: &BTreeMap<String, String>, key: &str) -> Result<u64, String> {
    let v = dynamic.get(key).ok_or_else(|| format!("Flink's output has no {key}"))?;
    v.strip_suffix('b').unwrap_or(v).parse().map_err(|_| format!("Flink's {key} = {v:?} is not a byte count"))
}

/// flinkops' breakdown against what Flink derived, to the byte; `Err` lists every difference.
fn compare_numbers(case: &Case, b: &Breakdown, jvm: &BTreeMap<String, u64>, dynamic: &BTreeMap<String, String>) -> Result<(), String> {
    let (prefix, mut expected): (&str, Vec<(&str, u64)>) = match b.parts {
        FlinkParts::TaskManager { framework_heap, task_heap, framework_off_heap, task_off_heap, managed, network } => (
            "taskmanager.memory.",
            vec![
                ("framework.heap.size", framework_heap.0),
                ("task.heap.size", task_heap.0),
                ("framework.off-heap.size", framework_off_heap.0),
                ("task.off-heap.size", task_off_heap.0),
                ("managed.size", managed.0),
                // Flink pins the derived network size as min = max.
                ("network.min", network.0),
                ("network.max", network.0),
            ],
        ),
        FlinkParts::JobManager { heap, off_heap } => ("jobmanager.memory.", vec![("heap.size", heap.0), ("off-heap.size", off_heap.0)]),
    };
    expected.extend([
        ("jvm-metaspace.size", b.jvm_metaspace.0),
        // ... and the derived overhead as min = max.
        ("jvm-overhead.min", b.jvm_overhead.0),
        ("jvm-overhead.max", b.jvm_overhead.0),
    ]);
    let mut diffs = Vec::new();
    for (suffix, want) in expected {
        let key = format!("{prefix}{suffix}");
        match size_value(dynamic, &key) {
            Ok(got) if got == want => {}
            Ok(got) => diffs.push(format!("{key}: flinkops {want}, Flink {got}")),
            Err(e) => diffs.push(e),
        }
    }
    // The JVM command line: heap (-Xmx = -Xms), metaspace, and the direct-memory limit (always
    // for a TaskManager; for a JobManager only with jobmanager.memory.enable-jvm-direct-memory-limit).
    let heap = b.jvm_heap().0;
    let mut want_jvm =
        BTreeMap::from([("Xmx".to_string(), heap), ("Xms".to_string(), heap), ("MaxMetaspaceSize".to_string(), b.jvm_metaspace.0)]);
    match b.parts {
        FlinkParts::TaskManager { framework_off_heap, task_off_heap, network, .. } => {
            want_jvm.insert("MaxDirectMemorySize".into(), framework_off_heap.0 + task_off_heap.0 + network.0);
        }
        FlinkParts::JobManager { off_heap, .. } => {
            let limit = case.config.get("jobmanager.memory.enable-jvm-direct-memory-limit").is_some_and(|v| v.trim() == "true");
            if limit {
                want_jvm.insert("MaxDirectMemorySize".into(), off_heap.0);
            }
        }
    }
    if &want_jvm != jvm {
        diffs.push(format!("JVM parameters: flinkops implies {want_jvm:?}, Flink printed {jvm:?}"));
    }
    // The parts add up to the process size Flink was given.
    let sum: u64 = b.components().iter().map(|(_, v)| v.0).sum();
    if sum != b.process.0 {
        diffs.push(format!("flinkops' components add up to {sum}, not the process size {}", b.process.0));
    }
    if diffs.is_empty() { Ok(()) } else { Err(diffs.join("\n    ")) }
}

fn flinkops_verdict(r: &Result<Breakdown, MemoryModelError>) -> String {
    match r {
        Ok(b) => {
            let parts: Vec<String> = b.components().iter().map(|(l, v)| format!("{l} {}", v.0)).collect();
            format!("accepts: {}", parts.join(", "))
        }
        Err(e) => format!("refuses: {e}"),
    }
}

/// `None` when flinkops and Flink agree; else the disagreement, config included.
fn disagreement(case: &Case, ours: &Result<Breakdown, MemoryModelError>, flink: &FlinkVerdict) -> Option<String> {
    let problem = match (ours, flink) {
        (Ok(b), FlinkVerdict::Started { jvm, dynamic }) => {
            compare_numbers(case, b, jvm, dynamic).err().map(|d| format!("different numbers:\n    {d}"))
        }
        (Err(_), FlinkVerdict::Refused(_)) => None,
        (Ok(_), FlinkVerdict::Refused(why)) => Some(format!("flinkops accepts what Flink refuses to start: {why}")),
        (Err(e), FlinkVerdict::Started { .. }) => Some(format!("flinkops refuses what Flink starts: {e}")),
    }?;
    Some(format!("{}\n  {problem}\n  flinkops {}\n  Flink {:?}", case.describe(), flinkops_verdict(ours), flink))
}

// ---------------------------------------------------------------------------------------------
// 1. Every emitted FlinkDeployment
// ---------------------------------------------------------------------------------------------

fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A role's resource memory as the operator reads it: `resource.memory` (1.15,
/// FlinkConfigBuilder.setResource) or `resources.requests.memory`, else `resources.limits.memory`
/// (operator main, FlinkConfigBuilder.setResourceRequirements / ResourceConfigUtils.getRequestOrLimit).
fn resource_memory(spec_role: &Value) -> Option<String> {
    spec_role
        .pointer("/resource/memory")
        .or_else(|| spec_role.pointer("/resources/requests/memory"))
        .or_else(|| spec_role.pointer("/resources/limits/memory"))
        .map(scalar_string)
}

/// Every FlinkDeployment under the example's `out/` and each fixture's `out/`, with its file.
fn emitted_flink_deployments() -> Vec<(String, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut outs = vec![root.join("out")];
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(root.join("tests/fixtures"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("out"))
        .filter(|p| p.is_dir())
        .collect();
    fixtures.sort();
    outs.extend(fixtures);
    let mut found = Vec::new();
    for out in outs {
        let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&out)
            .into_iter()
            .filter_map(|e| e.ok())
            .map(|e| e.into_path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            if !text.contains("FlinkDeployment") {
                continue;
            }
            let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let rel = file.strip_prefix(root).unwrap().display().to_string();
            for doc in docs {
                if doc["kind"] == "FlinkDeployment" && doc["apiVersion"].as_str().is_some_and(|a| a.starts_with("flink.apache.org/")) {
                    found.push((rel.clone(), doc));
                }
            }
        }
    }
    found
}

#[test]
fn flink_starts_every_emitted_flink_deployment_with_the_breakdown_flinkops_computes() {
    let Some(flink) = flink() else { return };
    let deployments = emitted_flink_deployments();
    // The example alone has a stream job and a backfill in two environments.
    assert!(deployments.len() >= 10, "only {} FlinkDeployments found under out/ and tests/fixtures/*/out", deployments.len());
    let mut cases = Vec::new();
    for (n, (file, doc)) in deployments.iter().enumerate() {
        let config: IndexMap<String, String> = doc
            .pointer("/spec/flinkConfiguration")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), scalar_string(v))).collect())
            .unwrap_or_default();
        let conf_dir = write_conf_dir(&flink.work, &format!("emitted-{n}"), &config);
        for (role, field) in [(Role::JobManager, "jobManager"), (Role::TaskManager, "taskManager")] {
            let memory = resource_memory(&doc["spec"][field]).unwrap_or_else(|| panic!("{file}: spec.{field} has no memory"));
            let process = MemorySize::parse(&memory).unwrap_or_else(|e| panic!("{file}: spec.{field} memory {memory:?}: {e}"));
            cases.push(Case {
                label: format!("{file} spec.{field}"),
                role,
                config: config.clone(),
                conf_dir: conf_dir.clone(),
                process,
                // The operator copies the resource memory into *.memory.process.size, over any
                // value in flinkConfiguration (FlinkConfigBuilder.setResource, operator
                // release-1.15.0; setResourceRequirements on operator main for `resources`).
                process_arg: format!("-R{}={memory}", process_key(role)),
            });
        }
    }
    let verdicts = run_flink(flink, &cases, "emitted");
    let mut failures = Vec::new();
    for (case, verdict) in cases.iter().zip(&verdicts) {
        if let FlinkVerdict::Refused(why) = verdict {
            failures.push(format!("{}\n  Flink refuses to start: {why}", case.describe()));
            continue;
        }
        let ours = memory::check(case.role, case.process, &case.config);
        if let Some(d) = disagreement(case, &ours, verdict) {
            failures.push(d);
        }
    }
    println!("{} FlinkDeployments, {} processes: Flink starts each", deployments.len(), cases.len());
    assert!(failures.is_empty(), "{} of {} emitted processes fail:\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}

/// The batch driver is only a loop: for one emitted TaskManager and JobManager, the command line
/// `bin/config.sh` runs (`runBashJavaUtilsCmd`: `java -classpath bash-java-utils.jar:flink-dist.jar
/// org.apache.flink.runtime.util.bash.BashJavaUtils <command> --configDir <dir> -D...`) exits 0
/// and prints the same two result lines.
#[test]
fn the_batch_driver_prints_what_the_bash_java_utils_command_line_prints() {
    let Some(flink) = flink() else { return };
    let (file, doc) = emitted_flink_deployments().into_iter().next().expect("a FlinkDeployment in out/");
    let config: IndexMap<String, String> = doc
        .pointer("/spec/flinkConfiguration")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), scalar_string(v))).collect())
        .unwrap_or_default();
    let conf_dir = write_conf_dir(&flink.work, "command-line", &config);
    // Refusals too: a TaskManager far too small for Flink's defaults.
    let mut cases = Vec::new();
    for (role, field) in [(Role::JobManager, "jobManager"), (Role::TaskManager, "taskManager")] {
        let memory = resource_memory(&doc["spec"][field]).unwrap();
        let process = MemorySize::parse(&memory).unwrap();
        let arg = format!("-D{}={}b", process_key(role), process.0);
        cases.push(Case {
            label: format!("{file} spec.{field}"),
            role,
            config: config.clone(),
            conf_dir: conf_dir.clone(),
            process,
            process_arg: arg,
        });
    }
    let tiny = MemorySize::from_mib(600);
    cases.push(Case {
        label: "600m TaskManager".into(),
        role: Role::TaskManager,
        config: config.clone(),
        conf_dir: conf_dir.clone(),
        process: tiny,
        process_arg: format!("-Dtaskmanager.memory.process.size={}b", tiny.0),
    });
    let batch = run_flink(flink, &cases, "command-line");
    for (case, in_process) in cases.iter().zip(&batch) {
        let out = Command::new(&flink.java)
            .arg(format!("-Dlog4j2.configurationFile={}", flink.log_config.display()))
            .arg("-classpath")
            .arg(&flink.util_classpath)
            .arg("org.apache.flink.runtime.util.bash.BashJavaUtils")
            .arg(command(case.role))
            .arg("--configDir")
            .arg(&case.conf_dir)
            .arg(&case.process_arg)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = stdout.lines().filter_map(|l| l.strip_prefix("BASH_JAVA_UTILS_EXEC_RESULT:")).map(str::trim).collect();
        match in_process {
            FlinkVerdict::Started { .. } => {
                assert!(
                    out.status.success(),
                    "{}: BashJavaUtils exited {:?}: {}",
                    case.describe(),
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                );
                let mut fields = vec!["ok"];
                fields.extend(&lines);
                let cli = parse_result_fields(&fields).unwrap();
                assert_eq!(format!("{cli:?}"), format!("{in_process:?}"), "{}", case.describe());
            }
            FlinkVerdict::Refused(why) => {
                assert!(!out.status.success(), "{}: the command line starts what the batch refused ({why})", case.describe());
                assert!(lines.is_empty(), "{}: a refusal printed results {lines:?}", case.describe());
                let first = why.split(" | ").next().unwrap();
                assert!(String::from_utf8_lossy(&out.stderr).contains(first), "{}: stderr lacks {first:?}", case.describe());
            }
        }
    }
    assert!(matches!(batch[2], FlinkVerdict::Refused(_)), "Flink starts a 600m TaskManager: {:?}", batch[2]);
}

// ---------------------------------------------------------------------------------------------
// 2. Random memory settings
// ---------------------------------------------------------------------------------------------

/// SplitMix64: a small, seeded, reproducible generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next() as usize % items.len()]
    }
}

/// A size in one of the notations Flink reads (`MemorySize.parse`): mostly mebibytes, sometimes
/// with a kibibyte remainder, in bytes, or as gibibytes.
fn size_text(rng: &mut Rng, mib: u64) -> String {
    let roll = rng.range(0, 99);
    match roll {
        0..=59 => format!("{mib}m"),
        60..=64 => format!("{mib} mb"),
        65..=69 => format!("{mib}MB"),
        70..=74 => format!("{}k", mib * 1024 + rng.range(0, 1023)),
        75..=79 => format!("{}", mib * MIB + rng.range(0, MIB - 1)),
        80..=84 => format!("{}b", mib * MIB),
        85..=89 if mib.is_multiple_of(1024) && mib > 0 => format!("{}g", mib / 1024),
        85..=89 => format!("{}kb", mib * 1024),
        _ => format!("{mib}mebibytes"),
    }
}

/// A fraction as a decimal that Java's `Float.parseFloat` reads: shortest form (`0.1`, `0`),
/// three decimals (`0.100`), or with Java's float suffix (`0.1f`).
fn fraction_text(rng: &mut Rng, lo_permille: u64, hi_permille: u64) -> String {
    let value = rng.range(lo_permille, hi_permille) as f64 / 1000.0;
    match rng.range(0, 9) {
        0..=6 => format!("{value}"),
        7 | 8 => format!("{value:.3}"),
        _ => format!("{value}f"),
    }
}

/// An invalid value for a size or fraction key (both sides must refuse it, or Flink must not read
/// the key at all on that derivation path; see `documented_stricter`).
fn invalid_value(rng: &mut Rng, fraction: bool) -> String {
    if fraction { rng.pick(&["1.0", "1.5", "-0.1", "lots"]).to_string() } else { rng.pick(&["256Mi", "1.5g", "lots", "-1m"]).to_string() }
}

/// With `percent` % probability sets `key` to a size of `lo..=hi` mebibytes (2% of those: an
/// invalid value; 5% of the rest: an edge value).
fn put_size(rng: &mut Rng, c: &mut IndexMap<String, String>, key: &str, percent: u64, lo: u64, hi: u64) {
    if rng.chance(percent) {
        let v = if rng.chance(2) {
            invalid_value(rng, false)
        } else if rng.chance(5) {
            // Edges: nothing, one byte, blanks and upper case, sizes whose sums overflow a long.
            rng.pick(&["0", "0m", "1", " 64m ", "64M", "1G", "1t", "8388607t", "9223372036854775807"]).to_string()
        } else {
            let mib = rng.range(lo, hi);
            size_text(rng, mib)
        };
        c.insert(key.to_string(), v);
    }
}

/// With `percent` % probability sets `key` to a fraction of `lo..=hi` per mille (3% of those: an
/// invalid value; 5% of the rest: an edge value).
fn put_fraction(rng: &mut Rng, c: &mut IndexMap<String, String>, key: &str, percent: u64, lo: u64, hi: u64) {
    if rng.chance(percent) {
        let v = if rng.chance(3) {
            invalid_value(rng, true)
        } else if rng.chance(5) {
            // Edges of RangeFraction's [0, 1) and Java float spellings.
            rng.pick(&["0", "0.0", "0.999", "0.9999999", " 0.25 ", "0.25d", "0.25F", ".5", "1e-1"]).to_string()
        } else {
            fraction_text(rng, lo, hi)
        };
        c.insert(key.to_string(), v);
    }
}

/// Random TaskManager memory options: each key that `validate/memory/options.rs` reads, present with
/// some probability, over ranges that produce both starting and refused processes on every
/// derivation path (fine-grained, `flink.size`, process size).
fn random_tm_config(rng: &mut Rng) -> IndexMap<String, String> {
    let mut c = IndexMap::new();
    let path = rng.range(0, 9);
    // Path (1): task heap and managed size both set (40%); path (2): flink.size (25%).
    if path < 4 {
        put_size(rng, &mut c, "taskmanager.memory.task.heap.size", 100, 0, 3072);
        let key = if rng.chance(90) { "taskmanager.memory.managed.size" } else { "taskmanager.memory.size" };
        put_size(rng, &mut c, key, 100, 0, 3072);
    } else {
        put_size(rng, &mut c, "taskmanager.memory.task.heap.size", 20, 0, 2048);
        put_size(rng, &mut c, "taskmanager.memory.managed.size", 20, 0, 2048);
    }
    if (4..7).contains(&path) || rng.chance(15) {
        put_size(rng, &mut c, "taskmanager.memory.flink.size", 100, 256, 6144);
    }
    put_size(rng, &mut c, "taskmanager.memory.jvm-metaspace.size", 30, 16, 640);
    put_size(rng, &mut c, "taskmanager.memory.jvm-overhead.min", 25, 0, 640);
    put_size(rng, &mut c, "taskmanager.memory.jvm-overhead.max", 25, 64, 2048);
    put_size(rng, &mut c, "taskmanager.memory.framework.heap.size", 20, 0, 512);
    put_size(rng, &mut c, "taskmanager.memory.framework.off-heap.size", 20, 0, 512);
    put_size(rng, &mut c, "taskmanager.memory.task.off-heap.size", 25, 0, 1024);
    let new_network = rng.chance(85);
    let (nmin, nmax, nfrac) = if new_network {
        ("taskmanager.memory.network.min", "taskmanager.memory.network.max", "taskmanager.memory.network.fraction")
    } else {
        ("taskmanager.network.memory.min", "taskmanager.network.memory.max", "taskmanager.network.memory.fraction")
    };
    put_size(rng, &mut c, nmin, 30, 0, 512);
    put_size(rng, &mut c, nmax, 30, 16, 2048);
    put_fraction(rng, &mut c, nfrac, 35, 0, 500);
    put_fraction(rng, &mut c, "taskmanager.memory.managed.fraction", 35, 0, 900);
    put_fraction(rng, &mut c, "taskmanager.memory.jvm-overhead.fraction", 30, 0, 500);
    // Deprecated keys beside their replacements (the new key wins), and a process size in the
    // configuration, which the operator's value (-D here) overrides and flinkops ignores.
    put_size(rng, &mut c, "taskmanager.network.memory.min", 5, 0, 512);
    put_fraction(rng, &mut c, "taskmanager.network.memory.fraction", 5, 0, 500);
    put_size(rng, &mut c, "taskmanager.memory.size", 3, 0, 2048);
    put_size(rng, &mut c, "taskmanager.memory.process.size", 5, 0, 8192);
    c
}

/// Random JobManager memory options (heap, flink.size, off-heap, metaspace, overhead).
fn random_jm_config(rng: &mut Rng) -> IndexMap<String, String> {
    let mut c = IndexMap::new();
    put_size(rng, &mut c, "jobmanager.memory.heap.size", 35, 1, 3072);
    put_size(rng, &mut c, "jobmanager.memory.flink.size", 35, 64, 4096);
    put_size(rng, &mut c, "jobmanager.memory.off-heap.size", 35, 0, 1024);
    put_size(rng, &mut c, "jobmanager.memory.jvm-metaspace.size", 30, 16, 640);
    put_size(rng, &mut c, "jobmanager.memory.jvm-overhead.min", 25, 0, 640);
    put_size(rng, &mut c, "jobmanager.memory.jvm-overhead.max", 25, 64, 2048);
    put_fraction(rng, &mut c, "jobmanager.memory.jvm-overhead.fraction", 30, 0, 500);
    put_size(rng, &mut c, "jobmanager.memory.process.size", 5, 0, 8192);
    if rng.chance(10) {
        // Adds -XX:MaxDirectMemorySize (= off-heap) to the JobManager's JVM parameters.
        c.insert("jobmanager.memory.enable-jvm-direct-memory-limit".into(), "true".into());
    }
    c
}

/// Which derivation path a configuration takes (for the coverage table).
fn path_of(role: Role, c: &IndexMap<String, String>) -> &'static str {
    let has = |k: &str| c.contains_key(k);
    match role {
        Role::TaskManager
            if has("taskmanager.memory.task.heap.size") && (has("taskmanager.memory.managed.size") || has("taskmanager.memory.size")) =>
        {
            "TM fine-grained"
        }
        Role::TaskManager if has("taskmanager.memory.flink.size") => "TM flink.size",
        Role::TaskManager => "TM process size",
        Role::JobManager if has("jobmanager.memory.heap.size") => "JM heap",
        Role::JobManager if has("jobmanager.memory.flink.size") => "JM flink.size",
        Role::JobManager => "JM process size",
    }
}

/// flinkops is documented as stricter than Flink on one point (the validate/memory module header): an
/// unparseable or out-of-range value is an error even for a key Flink does not read on the
/// configuration's derivation path. Such a case is not a disagreement when flinkops, with that
/// one key removed, accepts with exactly Flink's numbers (so Flink really ignored the key).
fn documented_stricter(case: &Case, ours: &Result<Breakdown, MemoryModelError>, flink: &FlinkVerdict) -> bool {
    let (Err(e), FlinkVerdict::Started { .. }) = (ours, flink) else { return false };
    let key = match e {
        MemoryModelError::InvalidSize { key, .. }
        | MemoryModelError::InvalidFraction { key, .. }
        | MemoryModelError::FractionOutOfRange { key, .. } => key,
        _ => return false,
    };
    let mut without = case.config.clone();
    without.shift_remove(key);
    let again = memory::check(case.role, case.process, &without);
    disagreement(case, &again, flink).is_none()
}

/// Why a random case has its process size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    Random,
    /// `memory::minimum_process_size`: Flink must start.
    Minimum,
    /// One mebibyte less: Flink must refuse.
    BelowMinimum,
    /// The largest size a `TooLarge` error names: Flink must start.
    Maximum,
    /// One mebibyte more: Flink must refuse.
    AboveMaximum,
}

#[test]
fn flink_and_the_memory_check_agree_on_random_memory_settings() {
    let Some(flink) = flink() else { return };
    // Fixed by default; FLINKOPS_MEMORY_ORACLE_SEED / _CONFIGS explore further by hand.
    let env_u64 = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let seed = env_u64("FLINKOPS_MEMORY_ORACLE_SEED", 0x5EED_F11C_0000_0018);
    let configs = env_u64("FLINKOPS_MEMORY_ORACLE_CONFIGS", 420);
    let mut rng = Rng(seed);
    let mut cases = Vec::new();
    let mut probes = Vec::new();
    for n in 0..configs {
        let role = if n % 5 < 3 { Role::TaskManager } else { Role::JobManager };
        let config = match role {
            Role::TaskManager => random_tm_config(&mut rng),
            Role::JobManager => random_jm_config(&mut rng),
        };
        // A random size (mostly 512m-4g), then the sizes flinkops names as bounds and their
        // neighbours: the smallest that works and 1m less, the largest (when the configuration
        // fixes the Flink memory) and 1m more.
        let mut sizes = vec![(if rng.chance(75) { rng.range(512, 4096) } else { rng.range(128, 12288) }, Probe::Random)];
        if let Ok(min) = memory::minimum_process_size(role, &config) {
            let min = min.0 / MIB;
            sizes.push((min, Probe::Minimum));
            if min > 1 {
                sizes.push((min - 1, Probe::BelowMinimum));
            }
        }
        // A fixed Flink memory bounds the process from above: probe the largest size as well.
        if let Err(MemoryModelError::TooLarge { maximum: Some(max), .. }) = memory::check(role, MemorySize::from_mib(65536), &config) {
            let max = max.0 / MIB;
            sizes.extend([(max, Probe::Maximum), (max + 1, Probe::AboveMaximum)]);
        }
        let conf_dir = write_conf_dir(&flink.work, &format!("random-{n}"), &config);
        for (mib, probe) in sizes {
            // Whole mebibytes (as `<n>m` or `<n>g`), and some random sizes with a kibibyte remainder.
            let (bytes, text) = if probe == Probe::Random && rng.chance(15) {
                let kib = mib * 1024 + rng.range(1, 1023);
                (kib * 1024, format!("{kib}k"))
            } else if mib.is_multiple_of(1024) && rng.chance(50) {
                (mib * MIB, format!("{}g", mib / 1024))
            } else {
                (mib * MIB, format!("{mib}m"))
            };
            probes.push(probe);
            cases.push(Case {
                label: format!("random #{n}"),
                role,
                config: config.clone(),
                conf_dir: conf_dir.clone(),
                process: MemorySize(bytes),
                process_arg: format!("-D{}={text}", process_key(role)),
            });
        }
    }
    let verdicts = run_flink(flink, &cases, "random");

    let mut failures = Vec::new();
    let mut stricter = 0;
    // path → (Flink starts, Flink refuses)
    let mut coverage: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    let mut bounds_probed = 0;
    for ((case, verdict), probe) in cases.iter().zip(&verdicts).zip(&probes) {
        // The smallest / largest process memory flinkops names (in its "use at least ..." help
        // and its arithmetic) must be Flink's too, to the mebibyte.
        let bound_ok = match probe {
            Probe::Random => true,
            Probe::Minimum | Probe::Maximum => matches!(verdict, FlinkVerdict::Started { .. }),
            Probe::BelowMinimum | Probe::AboveMaximum => matches!(verdict, FlinkVerdict::Refused(_)),
        };
        if *probe != Probe::Random {
            bounds_probed += 1;
        }
        if !bound_ok {
            failures.push(format!(
                "{}\n  flinkops names this size {probe:?} (smallest / largest that works, or 1m beyond), but Flink {verdict:?}",
                case.describe()
            ));
        }
        let ours = memory::check(case.role, case.process, &case.config);
        let entry = coverage.entry(path_of(case.role, &case.config)).or_default();
        match verdict {
            FlinkVerdict::Started { .. } => entry.0 += 1,
            FlinkVerdict::Refused(_) => entry.1 += 1,
        }
        if let Some(d) = disagreement(case, &ours, verdict) {
            if documented_stricter(case, &ours, verdict) {
                stricter += 1;
            } else {
                failures.push(d);
            }
        }
    }
    println!("seed {seed}: {} cases from {configs} configurations; Flink starts / refuses by derivation path:", cases.len());
    for (path, (ok, refused)) in &coverage {
        println!("  {path:<16} {ok:>4} / {refused:>4}");
    }
    println!("  {bounds_probed} cases probe flinkops' smallest / largest process memory and 1m beyond");
    println!("  {stricter} refused by flinkops only for an invalid value of a key Flink does not read there");
    assert!(
        failures.is_empty(),
        "flinkops and Flink disagree on {} of {} memory settings:\n\n{}",
        failures.len(),
        cases.len(),
        failures.iter().take(25).cloned().collect::<Vec<_>>().join("\n\n")
    );
    // The generator must exercise both outcomes on every path, or agreement would prove little.
    for (path, (ok, refused)) in &coverage {
        assert!(*ok >= 10 && *refused >= 10, "too little coverage of {path}: Flink starts {ok}, refuses {refused}");
    }
    assert_eq!(coverage.len(), 6, "every derivation path is exercised: {coverage:?}");
}
