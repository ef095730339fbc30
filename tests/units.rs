//! Delivery units (SPEC §14, §13.2): every unit folder builds with kustomize — the oracle Argo
//! CD and Flux run — and the units of an env together hold every object file exactly once;
//! names, shards, the namespaces unit, pruning and `--env` on the new layout.
//!
//! The kustomize tests need `kubectl` (kustomize 5.5 in kubectl 1.32, as in Argo CD). Without it
//! they print why they skip — except under CI (`CI` set), where a missing kubectl is a failure:
//! `.ci/run` installs it.

mod support;
#[path = "../benches/synth.rs"]
mod synth;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use flinkops::compile::{Options, compile};
use serde_json::Value;
use support::*;

/// apiVersion, kind, namespace, name.
type Id = (String, String, String, String);

fn id(doc: &Value) -> Id {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    (s(&doc["apiVersion"]), s(&doc["kind"]), s(&doc["metadata"]["namespace"]), s(&doc["metadata"]["name"]))
}

/// Whether kubectl can run here; panics under CI when it cannot.
fn kubectl_available(test: &str) -> bool {
    let ok = Command::new("kubectl").args(["version", "--client"]).output().is_ok_and(|o| o.status.success());
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "{test}: kubectl is required in CI (.ci/run installs it with apt)");
        eprintln!("SKIPPED {test}: kubectl is not installed, so kustomize cannot build the units (install kubectl to run it)");
    }
    ok
}

/// `kubectl kustomize DIR`, parsed into documents.
fn kustomize(dir: &Path) -> Vec<Value> {
    let o = Command::new("kubectl").arg("kustomize").arg(dir).output().unwrap();
    assert!(o.status.success(), "kubectl kustomize {} failed:\n{}", dir.display(), String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    text.split("\n---\n").filter(|d| !d.trim().is_empty()).map(|d| serde_saphyr::from_str::<Value>(d).unwrap()).collect()
}

/// The unit folders an env's kustomization lists, in order.
fn listed_units(env_dir: &Path) -> Vec<String> {
    let k: Value = serde_saphyr::from_str(&std::fs::read_to_string(env_dir.join("kustomization.yaml")).unwrap()).unwrap();
    k["resources"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

/// Every object file under `env_dir` (not the kustomizations), by identity.
fn object_files(env_dir: &Path) -> BTreeMap<Id, PathBuf> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(env_dir) {
        let e = e.unwrap();
        if !e.file_type().is_file() || e.file_name() == "kustomization.yaml" {
            continue;
        }
        let doc: Value = serde_saphyr::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap();
        let prev = out.insert(id(&doc), e.path().to_path_buf());
        assert!(prev.is_none(), "two files hold {:?}: {prev:?} and {}", id(&doc), e.path().display());
    }
    out
}

/// Builds every unit of `out/<env>` with kustomize (both cores) and checks that the union of
/// their objects is exactly the object files under `out/<env>/`, none twice, and that the unit
/// folders on disk are exactly the ones the env's kustomization lists (`_namespaces` first,
/// then the pipelines sorted). Returns how many units were built.
fn check_env_units(env_dir: &Path) -> usize {
    let units = listed_units(env_dir);
    let on_disk: BTreeSet<String> = std::fs::read_dir(env_dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(units.iter().cloned().collect::<BTreeSet<_>>(), on_disk, "{}: listed units vs folders", env_dir.display());
    let pipelines: Vec<&String> = units.iter().filter(|u| *u != "_namespaces").collect();
    let mut sorted = pipelines.clone();
    sorted.sort();
    assert_eq!(pipelines, sorted, "{}: pipelines sorted", env_dir.display());
    assert!(!units.iter().skip(1).any(|u| u == "_namespaces"), "{}: _namespaces comes first", env_dir.display());

    let built: Vec<(String, Vec<Value>)> = std::thread::scope(|s| {
        let half = units.len().div_ceil(2).max(1);
        let handles: Vec<_> = units
            .chunks(half)
            .map(|chunk| s.spawn(move || chunk.iter().map(|u| (u.clone(), kustomize(&env_dir.join(u)))).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let mut seen: BTreeMap<Id, String> = BTreeMap::new();
    for (unit, docs) in &built {
        assert!(!docs.is_empty(), "{}: unit {unit} builds to nothing", env_dir.display());
        for d in docs {
            if let Some(other) = seen.insert(id(d), unit.clone()) {
                panic!("{}: {:?} is built by both {other} and {unit}", env_dir.display(), id(d));
            }
        }
    }
    let files = object_files(env_dir);
    let built_ids: BTreeSet<&Id> = seen.keys().collect();
    let file_ids: BTreeSet<&Id> = files.keys().collect();
    let lost: Vec<_> = file_ids.difference(&built_ids).collect();
    let extra: Vec<_> = built_ids.difference(&file_ids).collect();
    assert!(lost.is_empty() && extra.is_empty(), "{}: in no unit: {lost:?}; built but no file: {extra:?}", env_dir.display());
    units.len()
}

/// Every `out/<env>` folder of a generated repository.
fn env_dirs(root: &Path) -> Vec<PathBuf> {
    let c = compile(root, &Options::default());
    assert!(!c.has_errors(), "{}", flinkops::diag::render_all(&c.diagnostics, &c.sources, false));
    c.envs.iter().map(|e| root.join("out").join(&e.name)).collect()
}

#[test]
fn every_unit_of_a_300_pipeline_env_builds_and_together_they_hold_every_object_once() {
    if !kubectl_available("every_unit_of_a_300_pipeline_env_builds_and_together_they_hold_every_object_once") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    synth::write_repo(dir.path(), 300).unwrap();
    let o = flinkops(dir.path(), &["generate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let env = dir.path().join("out/prod");
    assert_eq!(check_env_units(&env), 301, "300 pipelines and the namespaces unit");
    // The env-level kustomization (for `kubectl apply -k` by hand) builds the same objects.
    let all: BTreeSet<Id> = kustomize(&env).iter().map(id).collect();
    let files: BTreeSet<Id> = object_files(&env).into_keys().collect();
    assert_eq!(all, files);
}

#[test]
fn kustomize_builds_every_unit_of_the_example_and_of_every_golden_fixture() {
    if !kubectl_available("kustomize_builds_every_unit_of_the_example_and_of_every_golden_fixture") {
        return;
    }
    let mut repos = vec![project_root()];
    let fixtures = project_root().join("tests/fixtures");
    let mut names: Vec<PathBuf> = std::fs::read_dir(fixtures).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    repos.extend(names.into_iter().filter(|p| p.join("flinkops.toml").is_file()));
    let mut built = 0;
    for repo in &repos {
        for env in env_dirs(repo) {
            built += check_env_units(&env);
            // The env folder itself builds too (`kubectl apply -k out/<env>`).
            kustomize(&env);
        }
    }
    assert!(built >= 20, "only {built} units built");
}

#[test]
fn names_over_63_characters_keep_a_prefix_and_end_in_8_hex_of_the_full_names_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "flinkops.toml",
        "[project]\nname = \"lemo-recommender\"\nrepo_url = \"https://git.example.com/x.git\"\n[defaults]\nregistry = \"r.example.com/x\"\n",
    );
    write(root, "overlays/staging-eu-west/overlay.toml", "");
    write(root, "jobs/j/main.py", "print(1)\n");
    let pipeline = "realtime-features-with-a-rather-long-name";
    write(
        root,
        &format!("pipelines/{pipeline}.toml"),
        "[flink]\nversion = \"2.2.1\"\n[job]\nkind = \"python\"\nscript = \"jobs/j/main.py\"\nparallelism = 1\n",
    );
    let c = compile(root, &Options::default());
    assert!(!c.has_errors(), "{}", flinkops::diag::render_all(&c.diagnostics, &c.sources, false));
    let app: Value = serde_saphyr::from_slice(&c.files[&format!("out/argocd/staging-eu-west/{pipeline}.yaml")]).unwrap();
    // The full name `lemo-recommender-staging-eu-west-realtime-features-with-a-rather-long-name`
    // has 74 characters; its sha256 starts c20e4869 (Python: hashlib.sha256(full.encode())).
    // 63 - 9 = 54 characters of prefix.
    assert_eq!(app["metadata"]["name"], "lemo-recommender-staging-eu-west-realtime-features-wit-c20e4869");
    assert_eq!(app["metadata"]["name"].as_str().unwrap().len(), 63);
    // Short names are kept whole.
    let ns: Value = serde_saphyr::from_slice(&c.files["out/argocd/staging-eu-west/_namespaces.yaml"]).unwrap();
    assert_eq!(ns["metadata"]["name"], "lemo-recommender-staging-eu-west-namespaces");
    let root_app: Value = serde_saphyr::from_slice(&c.files["out/argocd/staging-eu-west.yaml"]).unwrap();
    assert_eq!(root_app["metadata"]["name"], "lemo-recommender-staging-eu-west");
}

#[test]
fn flux_shard_labels_follow_the_first_four_sha256_bytes_mod_n() {
    // Expected shards computed independently with Python:
    //   int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") % 3
    // flink-realtime-features → 0xb2f31434 % 3 = 1; user-features-backfill-2024-10 → 0x51675aab % 3 = 1.
    let dir = example_copy();
    let cfg = dir.path().join("flinkops.toml");
    let text = std::fs::read_to_string(&cfg).unwrap().replace("tool = \"argocd\"", "tool = \"flux\"\nflux_shards = 3");
    std::fs::write(&cfg, text).unwrap();
    let c = compile(dir.path(), &Options::default());
    assert!(!c.has_errors(), "{}", flinkops::diag::render_all(&c.diagnostics, &c.sources, false));
    let label = |f: &str| -> Value {
        let k: Value = serde_saphyr::from_slice(&c.files[f]).unwrap();
        k["metadata"]["labels"]["sharding.fluxcd.io/key"].clone()
    };
    assert_eq!(label("out/flux/prod/flink-realtime-features.yaml"), "shard1");
    assert_eq!(label("out/flux/prod/user-features-backfill-2024-10.yaml"), "shard1");
    // Only the pipelines' Kustomizations are sharded: the root and the namespaces unit stay
    // with the main controller.
    assert_eq!(label("out/flux/prod.yaml"), Value::Null);
    assert_eq!(label("out/flux/prod/_namespaces.yaml"), Value::Null);
    // A different N moves them as the formula says: 0xb2f31434 % 7 = 5, 0x51675aab % 7 = 6.
    let text = std::fs::read_to_string(&cfg).unwrap().replace("flux_shards = 3", "flux_shards = 7");
    std::fs::write(&cfg, text).unwrap();
    let c = compile(dir.path(), &Options::default());
    let k: Value = serde_saphyr::from_slice(&c.files["out/flux/dev/flink-realtime-features.yaml"]).unwrap();
    assert_eq!(k["metadata"]["labels"]["sharding.fluxcd.io/key"], "shard5");
    let k: Value = serde_saphyr::from_slice(&c.files["out/flux/dev/user-features-backfill-2024-10.yaml"]).unwrap();
    assert_eq!(k["metadata"]["labels"]["sharding.fluxcd.io/key"], "shard6");
    assert_eq!(k["spec"]["dependsOn"][0]["name"], "lemo-recommender-dev-namespaces");
    assert!(k["spec"].get("targetNamespace").is_none());
}

#[test]
fn a_removed_pipeline_loses_its_unit_and_its_delivery_file_and_env_limits_the_prune() {
    let dir = example_copy();
    let root = dir.path();
    // A second backfill that the overlays do not name, generated and then removed from git.
    let gone = "user-features-backfill-2024-11";
    std::fs::copy(root.join("pipelines/user-features-backfill-2024-10.toml"), root.join(format!("pipelines/{gone}.toml"))).unwrap();
    let o = flinkops(root, &["generate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in [format!("out/dev/{gone}/kustomization.yaml"), format!("out/argocd/dev/{gone}.yaml"), format!("out/argocd/prod/{gone}.yaml")] {
        assert!(root.join(&f).is_file(), "{f}");
    }
    std::fs::remove_file(root.join(format!("pipelines/{gone}.toml"))).unwrap();

    // --env dev: dev's unit and Application go; prod's stay untouched.
    let o = flinkops(root, &["generate", "--env", "dev"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!root.join(format!("out/dev/{gone}")).exists(), "dev unit folder pruned");
    assert!(!root.join(format!("out/argocd/dev/{gone}.yaml")).exists(), "dev Application pruned");
    assert!(!std::fs::read_to_string(root.join("out/dev/kustomization.yaml")).unwrap().contains(gone));
    assert!(root.join(format!("out/prod/{gone}/kustomization.yaml")).exists(), "--env dev must not touch prod");
    assert!(root.join(format!("out/argocd/prod/{gone}.yaml")).exists(), "--env dev must not touch prod");
    // check --env dev passes; a full check still sees prod's stale unit.
    assert_eq!(flinkops(root, &["check", "--env", "dev"]).status.code(), Some(0));
    let o = flinkops(root, &["check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains(&format!("out/argocd/prod/{gone}.yaml")), "{}", stdout(&o));

    // diff --env prod names exactly prod's removed files.
    let o = flinkops(root, &["diff", "--env", "prod", "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let removed: BTreeSet<String> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "removed")
        .map(|c| c["path"].as_str().unwrap().to_string())
        .collect();
    assert!(removed.contains(&format!("out/argocd/prod/{gone}.yaml")), "{removed:?}");
    assert!(removed.contains(&format!("out/prod/{gone}/kustomization.yaml")), "{removed:?}");
    assert!(
        removed.iter().all(|p| p.starts_with(&format!("out/prod/{gone}/")) || p == &format!("out/argocd/prod/{gone}.yaml")),
        "{removed:?}"
    );
    assert!(v["changes"].as_array().unwrap().iter().all(|c| c["env"] == "prod"), "{v}");

    // A full generate prunes prod too, folders included.
    let o = flinkops(root, &["generate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!root.join(format!("out/prod/{gone}")).exists());
    assert!(!root.join(format!("out/argocd/prod/{gone}.yaml")).exists());
    assert_eq!(flinkops(root, &["check"]).status.code(), Some(0));
}

#[test]
fn switching_to_flux_moves_every_delivery_file_and_leaves_no_argocd_object() {
    let dir = example_copy();
    let root = dir.path();
    let cfg = root.join("flinkops.toml");
    std::fs::write(&cfg, std::fs::read_to_string(&cfg).unwrap().replace("tool = \"argocd\"", "tool = \"flux\"")).unwrap();
    let o = flinkops(root, &["generate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!root.join("out/argocd").exists(), "out/argocd pruned");
    for f in ["out/flux/prod.yaml", "out/flux/prod/_namespaces.yaml", "out/flux/prod/flink-realtime-features.yaml"] {
        assert!(root.join(f).is_file(), "{f}");
    }
    let k: Value = serde_saphyr::from_str(&std::fs::read_to_string(root.join("out/flux/prod.yaml")).unwrap()).unwrap();
    assert_eq!(k["spec"]["path"], "./out/flux/prod");
}

#[test]
fn tool_none_writes_the_kustomizations_and_no_gitops_object() {
    let dir = example_copy();
    let root = dir.path();
    let cfg = root.join("flinkops.toml");
    std::fs::write(&cfg, std::fs::read_to_string(&cfg).unwrap().replace("tool = \"argocd\"", "tool = \"none\"")).unwrap();
    let c = compile(root, &Options::default());
    assert!(!c.has_errors());
    assert!(c.files.keys().all(|p| !p.starts_with("out/argocd") && !p.starts_with("out/flux")));
    for f in
        ["out/prod/kustomization.yaml", "out/prod/_namespaces/kustomization.yaml", "out/prod/flink-realtime-features/kustomization.yaml"]
    {
        assert!(c.files.contains_key(f), "{f}");
    }
}

#[test]
fn each_namespace_gets_one_service_account_role_and_binding_per_flink_service_account() {
    let dir = example_copy();
    let root = dir.path();
    let p = root.join("pipelines/user-features-backfill-2024-10.toml");
    let text = std::fs::read_to_string(&p).unwrap();
    let text = if text.contains("[flink]\n") {
        text.replacen("[flink]\n", "[flink]\nservice_account = \"flink-backfill\"\n", 1)
    } else {
        format!("{text}\n[flink]\nservice_account = \"flink-backfill\"\n")
    };
    std::fs::write(&p, text).unwrap();
    let c = compile(root, &Options::default());
    assert!(!c.has_errors(), "{}", flinkops::diag::render_all(&c.diagnostics, &c.sources, false));
    let unit: Vec<&str> = c.files.keys().filter_map(|k| k.strip_prefix("out/prod/_namespaces/")).map(|s| s as &str).collect();
    assert_eq!(
        unit,
        [
            "kustomization.yaml",
            "lemo-prod/namespace-lemo-prod.yaml",
            "lemo-prod/role-flink-backfill.yaml",
            "lemo-prod/role-flink.yaml",
            "lemo-prod/rolebinding-flink-backfill.yaml",
            "lemo-prod/rolebinding-flink.yaml",
            "lemo-prod/serviceaccount-flink-backfill.yaml",
            "lemo-prod/serviceaccount-flink.yaml",
        ]
    );
    let rb: Value = serde_saphyr::from_slice(&c.files["out/prod/_namespaces/lemo-prod/rolebinding-flink-backfill.yaml"]).unwrap();
    assert_eq!(rb["roleRef"]["name"], "flink-backfill");
    assert_eq!(rb["subjects"][0]["name"], "flink-backfill");
    assert_eq!(rb["subjects"][0]["namespace"], "lemo-prod");
    // Labels of §10 without the pipeline label: the objects are shared by pipelines.
    assert!(rb["metadata"]["labels"].get("flinkops.dev/pipeline").is_none());
    assert_eq!(rb["metadata"]["labels"]["flinkops.dev/env"], "prod");
}

#[test]
fn manage_namespaces_false_drops_the_namespaces_unit_where_it_applies() {
    let dir = example_copy();
    let root = dir.path();
    // In one overlay: only that env loses the unit (and its Application).
    let ov = root.join("overlays/dev/overlay.toml");
    let text = std::fs::read_to_string(&ov).unwrap();
    assert!(text.contains("[env]\n"));
    std::fs::write(&ov, text.replacen("[env]\n", "[env]\nmanage_namespaces = false\n", 1)).unwrap();
    let c = compile(root, &Options::default());
    assert!(!c.has_errors(), "{}", flinkops::diag::render_all(&c.diagnostics, &c.sources, false));
    assert!(!c.files.keys().any(|k| k.starts_with("out/dev/_namespaces/") || k == "out/argocd/dev/_namespaces.yaml"));
    assert!(!String::from_utf8_lossy(&c.files["out/dev/kustomization.yaml"]).contains("_namespaces"));
    assert!(c.files.contains_key("out/prod/_namespaces/lemo-prod/namespace-lemo-prod.yaml"));
    assert!(c.files.contains_key("out/argocd/prod/_namespaces.yaml"));
    // Argo CD still creates the namespace.
    assert!(String::from_utf8_lossy(&c.files["out/argocd/dev/flink-realtime-features.yaml"]).contains("CreateNamespace=true"));

    // In [defaults]: every env, unless an overlay turns it back on.
    std::fs::write(&ov, text.replacen("[env]\n", "[env]\nmanage_namespaces = true\n", 1)).unwrap();
    let cfg = root.join("flinkops.toml");
    std::fs::write(&cfg, std::fs::read_to_string(&cfg).unwrap().replacen("[defaults]\n", "[defaults]\nmanage_namespaces = false\n", 1))
        .unwrap();
    let c = compile(root, &Options::default());
    assert!(!c.has_errors(), "{}", flinkops::diag::render_all(&c.diagnostics, &c.sources, false));
    assert!(!c.files.keys().any(|k| k.starts_with("out/prod/_namespaces/")));
    assert!(c.files.contains_key("out/dev/_namespaces/kustomization.yaml"));

    // With Flux, no namespaces unit means no dependsOn.
    std::fs::write(&cfg, std::fs::read_to_string(&cfg).unwrap().replace("tool = \"argocd\"", "tool = \"flux\"")).unwrap();
    let c = compile(root, &Options::default());
    let k: Value = serde_saphyr::from_slice(&c.files["out/flux/prod/flink-realtime-features.yaml"]).unwrap();
    assert!(k["spec"].get("dependsOn").is_none(), "{k}");
    let k: Value = serde_saphyr::from_slice(&c.files["out/flux/dev/flink-realtime-features.yaml"]).unwrap();
    assert_eq!(k["spec"]["dependsOn"][0]["name"], "lemo-recommender-dev-namespaces");
}
