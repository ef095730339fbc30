//! The synthetic repository used by the benchmarks (`benches/render.rs`, `benches/cli.sh`):
//! deterministic for a given N, so runs compare like with like.

use std::path::Path;

const ZONES: &[&str] = &["Asia/Shanghai", "Asia/Kolkata", "America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC"];
const CRONS: &[(&str, &str)] = &[("0 9 * * 1-5", "0 18 * * 1-5"), ("30 7 * * *", "0 22 * * *"), ("0 0 * * 6", "0 0 * * 1")];

fn write(root: &Path, rel: &str, text: &str) -> std::io::Result<()> {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("relative path has a parent"))?;
    std::fs::write(p, text)
}

/// One pipeline's TOML; `i` selects its mode, zone and strategy.
pub fn pipeline(i: usize) -> String {
    let mode = ["disabled", "reactive", "hpa", "operator", "scheduled_hpa", "scheduled", "keda", "scheduled_hpa"][i % 8];
    let zone = ZONES[i % ZONES.len()];
    // Zones with DST have no exact UTC form for these crons: they use native or guarded.
    let strategy = match zone {
        "America/New_York" | "Europe/Berlin" | "Australia/Sydney" => ["native", "guarded"][i % 2],
        _ => "utc",
    };
    let (up, down) = CRONS[i % CRONS.len()];
    let mut s = format!(
        r#"description = "synthetic pipeline {i}"
labels = {{ team = "team-{team}" }}

[flink]
version = "2.2.1"
slots = {slots}
checkpoint_dir = "s3://ckpt/{{env}}/{{name}}"
savepoint_dir = "s3://svp/{{env}}/{{name}}"

[flink.config]
"pipeline.max-parallelism" = "1024"

[flink.env]
KAFKA_BOOTSTRAP = "kafka:9092"
SINK_PASSWORD = {{ secret = "sink-{i}", key = "password" }}

[job]
kind = "python"
script = "jobs/job{bundle}/main.py"
bundle = "bundle-{bundle}"
parallelism = {par}
upgrade_mode = "savepoint"
requirements = ["redis==5.2.1"]
connectors = ["kafka"]

[resources]
profile = "{profile}"

[autoscaling]
mode = "{mode}"
timezone = "{zone}"
schedule_strategy = "{strategy}"
min_replicas = 1
max_replicas = 8

[[tasks]]
name = "main"
[tasks.params]
window = "1h"
password = {{ secret = "task-{i}", key = "password" }}
"#,
        team = i % 17,
        slots = 1 + i % 4,
        bundle = i % 20,
        par = 2 + i % 6,
        profile = ["small", "medium", "large"][i % 3],
    );
    if matches!(mode, "scheduled_hpa" | "scheduled" | "keda") {
        s.push_str(&format!(
            "\n[[autoscaling.schedule]]\nname = \"peak\"\ncron = \"{up}\"\nend = \"{down}\"\nmin_replicas = 4\nmax_replicas = 8\n\n[[autoscaling.schedule]]\nname = \"quiet\"\ncron = \"{down}\"\nmin_replicas = 1\nmax_replicas = {}\n",
            if mode == "keda" { 8 } else { 3 }
        ));
    }
    s
}

/// Writes the whole repository.
pub fn write_repo(root: &Path, n: usize) -> std::io::Result<()> {
    write(
        root,
        "flinkops.toml",
        r#"[project]
name = "synthetic"
repo_url = "https://git.example.com/synthetic.git"
[defaults]
registry = "registry.example.com/synthetic"
[scaler]
image = "registry.example.com/kubectl:1.30.4@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
"#,
    )?;
    for b in 0..20 {
        write(root, &format!("jobs/job{b}/main.py"), &format!("print('job {b}')\n"))?;
    }
    for i in 0..n {
        write(root, &format!("pipelines/p{i:05}.toml"), &pipeline(i))?;
    }
    for env in ["dev", "staging", "prod"] {
        write(
            root,
            &format!("overlays/{env}/overlay.toml"),
            &format!(
                r#"[env]
namespace = "synthetic-{env}"
[env.labels]
env = "{env}"

[[patches]]
target = {{ kind = "FlinkDeployment" }}
ops = [ {{ op = "add", path = "/metadata/annotations", value = {{ "example.com/env" = "{env}" }} }} ]

[[merge_patches]]
target = {{ kind = "HorizontalPodAutoscaler" }}
patch = {{ spec = {{ behavior = {{ scaleDown = {{ stabilizationWindowSeconds = 600 }} }} }} }}
"#
            ),
        )?;
    }
    Ok(())
}
