//! Every field an HPA, KEDA or a scaling CronJob changes at run time must be covered by an
//! ignore rule in the delivery object of its unit — Argo CD `ignoreDifferences` and Flux
//! `spec.ignore` — or the GitOps controller and the autoscaler fight forever (SPEC §6.4). The changed fields are
//! read from the generated objects themselves (the HPA/ScaledObject target, the JSON merge patch
//! inside each CronJob's script), not from flinkops' own list.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use flinkops::compile::{Options, compile};
use serde_json::Value;

type Field = (String, String, String, String, String); // group, kind, name, namespace, pointer

fn yaml(bytes: &[u8]) -> Value {
    serde_saphyr::from_str(std::str::from_utf8(bytes).unwrap()).unwrap()
}

/// JSON pointers of every leaf of a merge patch.
fn leaves(v: &Value, prefix: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, x)| leaves(x, format!("{prefix}/{k}"), out)),
        _ => out.push(prefix),
    }
}

fn changed_at_run_time(files: &[(String, Value)]) -> BTreeSet<Field> {
    let mut out = BTreeSet::new();
    for (_, doc) in files {
        let ns = doc["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
        match doc["kind"].as_str() {
            Some("HorizontalPodAutoscaler") | Some("ScaledObject") => {
                let target = &doc["spec"]["scaleTargetRef"];
                assert_eq!(target["kind"], "FlinkDeployment");
                // The scale subresource of the FlinkDeployment CRD writes spec.taskManager.replicas.
                out.insert((
                    "flink.apache.org".into(),
                    "FlinkDeployment".into(),
                    target["name"].as_str().unwrap().into(),
                    ns.clone(),
                    "/spec/taskManager/replicas".into(),
                ));
            }
            Some("CronJob") => {
                let script = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"][2].as_str().unwrap();
                let line = script.lines().find(|l| l.starts_with("kubectl patch ")).unwrap();
                let words: Vec<&str> = line.split_whitespace().collect();
                let (kind, name) = (words[2], words[3]);
                let patches: Vec<&str> = if line.ends_with(" -p \"$p\"") {
                    // The reconcile job (SPEC §16) patches with the JSON of the entry in force,
                    // set in one `case` branch per entry: `1) n=…; want='…'; p='<json>' ;;`.
                    script.lines().filter_map(|l| l.split_once(" p='").map(|(_, r)| r.split_once('\'').unwrap().0)).collect()
                } else {
                    vec![line.rsplit_once(" -p '").unwrap().1.trim_end_matches('\'')]
                };
                assert!(!patches.is_empty(), "no patch in {script}");
                let (group, kind) = match kind {
                    "horizontalpodautoscaler" => ("autoscaling", "HorizontalPodAutoscaler"),
                    "flinkdeployment" => ("flink.apache.org", "FlinkDeployment"),
                    other => panic!("unexpected patch target {other}"),
                };
                let mut ptrs = vec![];
                for patch in patches {
                    leaves(&serde_json::from_str(patch).unwrap(), String::new(), &mut ptrs);
                }
                for p in ptrs {
                    out.insert((group.into(), kind.into(), name.into(), ns.clone(), p));
                }
            }
            _ => {}
        }
    }
    out
}

fn ignored_by_argocd(app: &Value) -> BTreeSet<Field> {
    let opts: Vec<&str> = app["spec"]["syncPolicy"]["syncOptions"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    if app["spec"]["ignoreDifferences"].is_array() {
        assert!(opts.contains(&"RespectIgnoreDifferences=true"), "without it a sync resets ignored fields");
    }
    let mut out = BTreeSet::new();
    for d in app["spec"]["ignoreDifferences"].as_array().into_iter().flatten() {
        for p in d["jsonPointers"].as_array().unwrap() {
            out.insert((
                d["group"].as_str().unwrap().into(),
                d["kind"].as_str().unwrap().into(),
                d["name"].as_str().unwrap().into(),
                d["namespace"].as_str().unwrap().into(),
                p.as_str().unwrap().into(),
            ));
        }
    }
    out
}

fn ignored_by_flux(k: &Value) -> BTreeSet<Field> {
    let mut out = BTreeSet::new();
    for r in k["spec"]["ignore"].as_array().into_iter().flatten() {
        let t = &r["target"];
        for p in r["paths"].as_array().unwrap() {
            out.insert((
                t["group"].as_str().unwrap().into(),
                t["kind"].as_str().unwrap().into(),
                t["name"].as_str().unwrap().into(),
                t["namespace"].as_str().unwrap().into(),
                p.as_str().unwrap().into(),
            ));
        }
    }
    out
}

/// `scaled_units`: how many units, over all envs, change fields at run time (HPA, KEDA,
/// CronJobs): the test must not pass because nothing was emitted to compare.
fn check(root: &Path, scaled_units: usize) {
    for tool in ["argocd", "flux"] {
        let mut scaled = 0;
        let dir = tempfile::tempdir().unwrap();
        support::copy_specs(root, dir.path());
        let cfg = dir.path().join("flinkops.toml");
        let text = std::fs::read_to_string(&cfg).unwrap();
        let text = match text.find("[delivery]") {
            Some(i) => format!("{}[delivery]\ntool = \"{tool}\"\n", &text[..i]),
            None => format!("{text}\n[delivery]\ntool = \"{tool}\"\n"),
        };
        std::fs::write(&cfg, text).unwrap();
        let c = compile(dir.path(), &Options::default());
        assert!(!c.has_errors(), "{}", flinkops::diag::render_all(&c.diagnostics, &c.sources, false));
        for env in &c.envs {
            // Each unit's Application / Kustomization ignores exactly what changes at run time
            // in that unit (SPEC §14): nothing of another pipeline, nothing missing.
            let units: BTreeSet<String> = c
                .files
                .keys()
                .filter_map(|p| p.strip_prefix(&format!("out/{}/", env.name))?.split_once('/').map(|(u, _)| u.to_string()))
                .collect();
            assert!(units.len() > 1, "{tool}, env {}: no units", env.name);
            for unit in &units {
                let prefix = format!("out/{}/{unit}/", env.name);
                let docs: Vec<(String, Value)> = c
                    .files
                    .iter()
                    .filter(|(p, _)| p.starts_with(&prefix) && !p.ends_with("kustomization.yaml"))
                    .map(|(p, b)| (p.clone(), yaml(b)))
                    .collect();
                let changed = changed_at_run_time(&docs);
                scaled += usize::from(!changed.is_empty());
                let delivery = yaml(&c.files[&format!("out/{tool}/{}/{unit}.yaml", env.name)]);
                let ignored = if tool == "argocd" { ignored_by_argocd(&delivery) } else { ignored_by_flux(&delivery) };
                let uncovered: Vec<_> = changed.difference(&ignored).collect();
                assert!(
                    uncovered.is_empty(),
                    "{tool}, env {}, unit {unit}: fields changed at run time but not ignored: {uncovered:?}",
                    env.name
                );
                assert_eq!(changed, ignored, "{tool}, env {}, unit {unit}: ignore rules for fields nothing in the unit changes", env.name);
            }
            // The root only creates the units: no ignore rules of its own.
            let root = yaml(&c.files[&format!("out/{tool}/{}.yaml", env.name)]);
            assert!(root["spec"].get("ignoreDifferences").is_none() && root["spec"].get("ignore").is_none(), "{tool} root: {root}");
        }
        assert_eq!(scaled, scaled_units, "{tool}: units whose objects change fields at run time");
    }
}

#[test]
fn every_run_time_change_is_ignored_by_argocd_and_flux_in_the_schedules_fixture() {
    // Every pipeline of the fixture scales (HPA, KEDA or CronJobs), in its one env.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schedules");
    let pipelines = std::fs::read_dir(root.join("pipelines")).unwrap().count();
    check(&root, pipelines);
}

#[test]
fn every_run_time_change_is_ignored_by_argocd_and_flux_in_the_example() {
    // Only the realtime feature service in prod scales (dev runs it at a fixed size).
    check(Path::new(env!("CARGO_MANIFEST_DIR")), 1);
}
