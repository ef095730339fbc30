//! SPEC §13: what the operator, Flink and the cluster do with `out/`. Each test reads the
//! committed output of the worked example and of every golden fixture (kept current by
//! `tests/golden.rs` and `flinkops check`), or compiles a small repository, and checks one rule
//! against the behaviour of the real tools, which each test names.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::*;

/// The example's root and every fixture's: the trees whose `out/` is committed.
fn trees() -> Vec<PathBuf> {
    let root = project_root();
    let mut v = vec![root.clone()];
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(root.join("tests/fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("flinkops.toml").is_file())
        .collect();
    fixtures.sort();
    v.extend(fixtures);
    v
}

/// Every manifest under `dir` (any depth: the rules hold whatever the unit layout), by path.
fn manifests(dir: &Path) -> BTreeMap<PathBuf, Value> {
    let mut m = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.unwrap();
        if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "yaml") {
            let text = std::fs::read_to_string(e.path()).unwrap();
            let v: Value = serde_saphyr::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", e.path().display()));
            m.insert(e.path().to_path_buf(), v);
        }
    }
    m
}

fn of_kind<'a>(m: &'a BTreeMap<PathBuf, Value>, kind: &str) -> impl Iterator<Item = (&'a PathBuf, &'a Value)> {
    m.iter().filter(move |(_, v)| v["kind"] == kind)
}

fn conf<'a>(fd: &'a Value, key: &str) -> Option<&'a str> {
    fd["spec"]["flinkConfiguration"][key].as_str()
}

/// The Dockerfile of the bundle an emitted FlinkDeployment runs, if flinkops wrote one.
fn dockerfile_of(root: &Path, fd: &Value) -> Option<String> {
    let image = fd["spec"]["image"].as_str()?;
    let bundle = image.rsplit_once('/')?.1.split(':').next()?;
    std::fs::read_to_string(root.join("out/images").join(bundle).join("Dockerfile")).ok()
}

/// The destinations of the Dockerfile's COPY instructions.
fn copied_paths(dockerfile: &str) -> Vec<String> {
    dockerfile.lines().filter(|l| l.starts_with("COPY ")).filter_map(|l| l.split_whitespace().last().map(str::to_string)).collect()
}

/// Paths inside the image that a FlinkDeployment's job refers to: `local://` jar, `-py`, `-pyfs`
/// and the sql runner's `--sql` argument.
fn job_paths(fd: &Value) -> Vec<String> {
    let job = &fd["spec"]["job"];
    let mut out = vec![];
    if let Some(jar) = job["jarURI"].as_str().and_then(|u| u.strip_prefix("local://")) {
        out.push(jar.to_string());
    }
    let args: Vec<&str> = job["args"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    for w in args.windows(2) {
        if matches!(w[0], "-py" | "-pyfs" | "--sql") {
            out.push(w[1].to_string());
        }
    }
    out
}

/// SPEC §13.1. In standalone application mode the operator sets `pipeline.classpaths` from
/// `jarURI` and its `UserLibMountDecorator` (flink-kubernetes-standalone, operator
/// release-1.15.0, `kubeclient/decorators/UserLibMountDecorator.java`) mounts an emptyDir over
/// `/opt/flink/usrlib` on the JobManager: anything bundled there is hidden and the job cannot
/// start. So no emitted path may lie there, and every path the job names must be in its image.
#[test]
fn no_job_path_lies_under_usrlib_and_every_job_path_is_copied_into_the_image() {
    let mut checked = 0;
    for root in trees() {
        for (path, fd) in of_kind(&manifests(&root.join("out")), "FlinkDeployment") {
            let paths = job_paths(fd);
            for p in &paths {
                assert!(!p.starts_with("/opt/flink/usrlib"), "{}: job path {p} is hidden by the operator's usrlib mount", path.display());
            }
            let Some(dockerfile) = dockerfile_of(&root, fd) else { continue };
            let copied = copied_paths(&dockerfile);
            for c in &copied {
                assert!(!c.starts_with("/opt/flink/usrlib"), "{}: the image copies {c} under usrlib", root.display());
            }
            for p in paths.iter().filter(|p| !p.starts_with("/opt/flink/opt/")) {
                let present = copied.iter().any(|c| c == p || c.starts_with(&format!("{p}/")));
                assert!(present, "{}: the job names {p}, which its Dockerfile does not copy:\n{dockerfile}", path.display());
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "too few job paths checked ({checked}): did the trees move?");
}

/// SPEC §13.3: the tasks ConfigMap is pruned only with the same confirmation as its
/// FlinkDeployment (Argo CD `Prune=confirm`), so a removed pipeline keeps its mounted
/// configuration while the FlinkDeployment waits.
#[test]
fn the_tasks_configmap_is_prune_protected_exactly_like_its_flinkdeployment() {
    let option = |v: &Value| v["metadata"]["annotations"]["argocd.argoproj.io/sync-options"].as_str().map(str::to_string);
    let mut confirmed = 0;
    for root in trees() {
        let m = manifests(&root.join("out"));
        let configmaps: BTreeMap<(String, String), &Value> = of_kind(&m, "ConfigMap")
            .map(|(_, v)| ((v["metadata"]["namespace"].as_str().unwrap().into(), v["metadata"]["name"].as_str().unwrap().into()), v))
            .collect();
        for (path, fd) in of_kind(&m, "FlinkDeployment") {
            let Some(volumes) = fd["spec"]["podTemplate"]["spec"]["volumes"].as_array() else { continue };
            for cm in volumes.iter().filter_map(|v| v["configMap"]["name"].as_str()) {
                let ns = fd["metadata"]["namespace"].as_str().unwrap().to_string();
                let c = configmaps.get(&(ns, cm.to_string())).unwrap_or_else(|| panic!("{}: ConfigMap {cm} not emitted", path.display()));
                assert_eq!(option(c), option(fd), "{}: ConfigMap {cm} and its FlinkDeployment disagree on pruning", path.display());
                confirmed += usize::from(option(fd).as_deref() == Some("Prune=confirm"));
            }
        }
    }
    assert!(confirmed >= 2, "the example's stateful pipeline should be covered ({confirmed})");
}

/// SPEC §13.4: the example's backfill is bounded: Flink runs it in BATCH mode (no checkpoints),
/// stateless, at a fixed size, and `diff` can tell from the annotation that the operator would
/// run it again on any change.
#[test]
fn the_example_backfill_is_a_bounded_batch_job_in_every_env() {
    let m = manifests(&project_root().join("out"));
    let backfills: Vec<&Value> =
        of_kind(&m, "FlinkDeployment").map(|(_, v)| v).filter(|v| v["metadata"]["name"] == "user-features-backfill-2024-10").collect();
    assert_eq!(backfills.len(), 2, "one per env (dev, prod)");
    for fd in backfills {
        assert_eq!(fd["metadata"]["annotations"]["flinkops.dev/bounded"], "true");
        assert_eq!(conf(fd, "execution.runtime-mode"), Some("BATCH"));
        assert_eq!(conf(fd, "execution.checkpointing.interval"), None, "BATCH jobs do not checkpoint");
        assert_eq!(conf(fd, "kubernetes.operator.periodic.savepoint.interval"), None);
        assert_eq!(fd["spec"]["job"]["upgradeMode"], "stateless");
    }
    for kind in ["HorizontalPodAutoscaler", "CronJob", "ScaledObject"] {
        assert!(
            of_kind(&m, kind).all(|(_, v)| v["metadata"]["labels"]["flinkops.dev/pipeline"] != "user-features-backfill-2024-10"),
            "a bounded job does not scale ({kind})"
        );
    }
}

/// Every string under the keys that name a place (hosts, URLs, topics, consumer groups,
/// databases, paths, secrets), with the key path.
fn endpoints(v: &Value, path: &str, out: &mut BTreeSet<String>) {
    const PLACES: &[&str] = &["bootstrap_servers", "topic", "group_id", "host", "url", "uri", "database", "path", "job"];
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if let (true, Some(s)) = (PLACES.contains(&k.as_str()), x.as_str()) {
                    out.insert(s.to_string());
                }
                endpoints(x, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| endpoints(x, path, out)),
        _ => {}
    }
}

/// SPEC §13.5: dev's tasks read and write only development infrastructure: no production
/// host, topic, consumer group (that would commit production offsets), database or store.
#[test]
fn dev_tasks_share_no_source_sink_or_consumer_group_with_prod() {
    let m = manifests(&project_root().join("out"));
    let mut by_env: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (_, cm) in of_kind(&m, "ConfigMap") {
        let Some(text) = cm["data"]["tasks.json"].as_str() else { continue };
        let tasks: Value = serde_json::from_str(text).unwrap();
        let env = cm["metadata"]["labels"]["flinkops.dev/env"].as_str().unwrap().to_string();
        let pipeline = cm["metadata"]["labels"]["flinkops.dev/pipeline"].as_str().unwrap().to_string();
        for (task, t) in tasks["tasks"].as_object().unwrap() {
            let mut places = BTreeSet::new();
            endpoints(&t["params"], task, &mut places);
            assert!(!places.is_empty(), "{env}/{pipeline}/{task} names no source or sink");
            by_env.entry(env.clone()).or_default().insert(format!("{pipeline}/{task}"), places);
        }
    }
    let (dev, prod) = (&by_env["dev"], &by_env["prod"]);
    assert_eq!(dev.keys().collect::<Vec<_>>(), prod.keys().collect::<Vec<_>>(), "the same tasks run in both envs");
    let prod_places: BTreeSet<&String> = prod.values().flatten().collect();
    for (task, places) in dev {
        let shared: Vec<&String> = places.iter().filter(|p| prod_places.contains(p)).collect();
        assert!(shared.is_empty(), "dev task {task} uses production {shared:?}");
    }
    // The Flink containers' own Kafka address, and the Secrets behind the tasks' credentials
    // (tasks.json names only the variable, the same in every env).
    let mut task_secrets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, fd) in of_kind(&m, "FlinkDeployment") {
        let env = fd["metadata"]["labels"]["flinkops.dev/env"].as_str().unwrap();
        let containers = fd["spec"]["podTemplate"]["spec"]["containers"].as_array().unwrap();
        for var in containers.iter().flat_map(|c| c["env"].as_array().cloned().unwrap_or_default()) {
            if var["name"] == "KAFKA_BOOTSTRAP" {
                assert_eq!(var["value"] == "kafka.data:9092", env == "prod", "{env}: KAFKA_BOOTSTRAP {}", var["value"]);
            }
            if var["name"].as_str().is_some_and(|n| n.starts_with("FLINKOPS_SECRET_")) {
                let secret = var["valueFrom"]["secretKeyRef"]["name"].as_str().unwrap().to_string();
                task_secrets.entry(env.to_string()).or_default().insert(secret);
            }
        }
    }
    let shared: Vec<&String> = task_secrets["dev"].intersection(&task_secrets["prod"]).collect();
    assert!(shared.is_empty(), "dev tasks use production credentials {shared:?}");
}

/// SPEC §13.6: a python job runs the interpreter its Dockerfile installed PyFlink into, not
/// whatever `python` is first on PATH; and a python image is built for linux/amd64, since
/// `apache-flink` publishes no Linux aarch64 wheels (an arm64 build fails in `pip install`).
#[test]
fn python_jobs_run_the_interpreter_their_dockerfile_installs_pyflink_into() {
    let mut checked = 0;
    for root in trees() {
        for (path, fd) in of_kind(&manifests(&root.join("out")), "FlinkDeployment") {
            let python = fd["spec"]["job"]["entryClass"] == "org.apache.flink.client.python.PythonDriver";
            let Some(dockerfile) = dockerfile_of(&root, fd) else {
                // An explicit image: flinkops cannot know its interpreter and sets none.
                assert_eq!(conf(fd, "python.executable"), None, "{}", path.display());
                continue;
            };
            let from = dockerfile.lines().find(|l| l.starts_with("FROM ")).unwrap();
            assert_eq!(from.contains("--platform=linux/amd64"), python, "{}: {from}", path.display());
            if !python {
                assert_eq!(conf(fd, "python.executable"), None, "{}", path.display());
                continue;
            }
            // `python3 -m venv DIR` then `DIR/bin/pip install … apache-flink==X.Y.Z`.
            let venv = dockerfile
                .lines()
                .find_map(|l| l.trim().strip_prefix("python3 -m venv ").map(|r| r.trim_end_matches(['\\', ';', ' ']).to_string()))
                .unwrap_or_else(|| panic!("{}: no venv in\n{dockerfile}", path.display()));
            let pip = format!("{venv}/bin/pip install");
            assert!(dockerfile.lines().any(|l| l.contains(&pip) && l.contains("apache-flink==")), "PyFlink goes into {venv}");
            let interpreter = format!("{venv}/bin/python");
            assert_eq!(conf(fd, "python.executable"), Some(interpreter.as_str()), "{}", path.display());
            assert_eq!(conf(fd, "python.client.executable"), Some(interpreter.as_str()), "{}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 5, "too few python deployments checked ({checked})");
}

const PROJECT: &str =
    "[project]\nname = \"shop\"\nrepo_url = \"https://git.example.com/shop.git\"\n[defaults]\nregistry = \"r.example.com/shop\"\n";

/// Generates a one-pipeline repository and returns its FlinkDeployment.
fn flinkdeployment(pipeline: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "flinkops.toml", PROJECT);
    write(dir.path(), "pipelines/orders.toml", pipeline);
    write(dir.path(), "jobs/orders/main.py", "print('orders')\n");
    let o = flinkops(dir.path(), &["generate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = manifests(&dir.path().join("out"));
    of_kind(&m, "FlinkDeployment").next().map(|(_, v)| v.clone()).expect("a FlinkDeployment")
}

fn pipeline(flink: &str, job: &str, autoscaling: &str) -> String {
    format!(
        "[flink]\nversion = \"2.2.1\"\ncheckpoint_dir = \"s3://b/c\"\nsavepoint_dir = \"s3://b/s\"\n{flink}\n\
         [job]\nkind = \"python\"\nscript = \"jobs/orders/main.py\"\nupgrade_mode = \"savepoint\"\n{job}\n[autoscaling]\n{autoscaling}\n"
    )
}

const PERIODIC: &str = "kubernetes.operator.periodic.savepoint.interval";

/// SPEC §13.6: standalone without HA loses its state when the JobManager pod restarts (the
/// operator has no HA metadata to recover from), so such a deployment with a savepoint
/// directory takes a savepoint every hour unless told otherwise; others keep no default.
#[test]
fn standalone_without_ha_takes_hourly_savepoints_unless_the_spec_says_otherwise() {
    let reactive = "mode = \"reactive\"";
    assert_eq!(conf(&flinkdeployment(&pipeline("", "", reactive)), PERIODIC), Some("1h"));
    assert_eq!(conf(&flinkdeployment(&pipeline("", "periodic_savepoint = \"6h\"", reactive)), PERIODIC), Some("6h"));
    assert_eq!(conf(&flinkdeployment(&pipeline("", "periodic_savepoint = \"0\"", reactive)), PERIODIC), None, "\"0\" turns it off");
    // Native mode recovers through the operator's last-state / savepoint machinery itself.
    assert_eq!(conf(&flinkdeployment(&pipeline("", "", "mode = \"disabled\"")), PERIODIC), None);
    // Standalone without a savepoint directory has nowhere to put one.
    let no_dir = pipeline("", "", reactive).replace("savepoint_dir = \"s3://b/s\"\n", "").replace("upgrade_mode = \"savepoint\"", "");
    assert_eq!(conf(&flinkdeployment(&no_dir), PERIODIC), None);
}

/// SPEC §13.6: full RocksDB checkpoints copy the whole state at every interval; incremental ones
/// upload only new SST files. On by default for RocksDB; a user's own setting wins; other
/// backends are left alone.
#[test]
fn rocksdb_checkpoints_are_incremental_unless_the_spec_says_otherwise() {
    let key = "execution.checkpointing.incremental";
    assert_eq!(conf(&flinkdeployment(&pipeline("state_backend = \"rocksdb\"", "", "")), key), Some("true"));
    assert_eq!(conf(&flinkdeployment(&pipeline("", "", "")), key), Some("true"), "rocksdb is the default backend");
    let off = pipeline("state_backend = \"rocksdb\"\n[flink.config]\n\"execution.checkpointing.incremental\" = \"false\"", "", "");
    assert_eq!(conf(&flinkdeployment(&off), key), Some("false"));
    assert_eq!(conf(&flinkdeployment(&pipeline("state_backend = \"hashmap\"", "", "")), key), None);
}

/// SPEC §13.4: `bounded = true` alone (no upgrade mode, no autoscaling given) is a valid BATCH
/// job: stateless by default, no checkpoint interval, the `flinkops.dev/bounded` annotation.
#[test]
fn a_bounded_job_defaults_to_stateless_batch_without_checkpoints() {
    let p = "[flink]\nversion = \"2.2.1\"\n[job]\nkind = \"python\"\nscript = \"jobs/orders/main.py\"\nbounded = true\n";
    let fd = flinkdeployment(p);
    assert_eq!(conf(&fd, "execution.runtime-mode"), Some("BATCH"));
    assert_eq!(conf(&fd, "execution.checkpointing.interval"), None);
    assert_eq!(conf(&fd, "execution.checkpointing.incremental"), None, "a BATCH job does not checkpoint");
    assert_eq!(fd["spec"]["job"]["upgradeMode"], "stateless");
    assert_eq!(fd["metadata"]["annotations"]["flinkops.dev/bounded"], "true");
    let unbounded = flinkdeployment(&p.replace("bounded = true\n", ""));
    assert_eq!(conf(&unbounded, "execution.checkpointing.interval"), Some("60s"), "unbounded jobs keep the 60s default");
    assert_eq!(conf(&unbounded, "execution.runtime-mode"), None);
}

/// SPEC §13.2: every FlinkDeployment's namespace and service account exist in its env's
/// `_namespaces` unit (unless the env opts out), with the job role of the operator's Helm chart —
/// `helm/flink-kubernetes-operator/templates/rbac/_helpers.tpl`, `flink-operator.jobRbacRules`,
/// at release-1.15.0, copied here from the chart, not from flinkops — and a Namespace that
/// neither Argo CD nor Flux prunes. Without them every Flink pod of a namespace the chart does not
/// watch fails.
#[test]
fn every_flinkdeployment_finds_its_namespace_and_its_service_account_with_the_charts_job_role() {
    let verbs = ["get", "list", "watch", "create", "update", "patch", "delete"];
    let chart_rules = serde_json::json!([
        { "apiGroups": [""], "resources": ["pods", "configmaps"], "verbs": verbs },
        { "apiGroups": ["apps"], "resources": ["deployments", "deployments/finalizers"], "verbs": verbs },
    ]);
    let mut checked = 0;
    for root in trees() {
        let m = manifests(&root.join("out"));
        let find = |env: &str, kind: &str, ns: Option<&str>, name: &str| {
            m.iter().find(|(path, v)| {
                path.to_string_lossy().contains(&format!("/out/{env}/_namespaces/"))
                    && v["kind"] == kind
                    && v["metadata"]["name"] == name
                    && ns.is_none_or(|ns| v["metadata"]["namespace"] == ns)
            })
        };
        for (path, fd) in of_kind(&m, "FlinkDeployment") {
            let env = fd["metadata"]["labels"]["flinkops.dev/env"].as_str().unwrap();
            let ns = fd["metadata"]["namespace"].as_str().unwrap();
            let sa = fd["spec"]["serviceAccount"].as_str().unwrap();
            let Some((_, namespace)) = find(env, "Namespace", None, ns) else {
                // Only an env that opts out has no namespace unit at all.
                let unit = root.join(format!("out/{env}/_namespaces"));
                assert!(!unit.exists(), "{}: namespace {ns} missing from {}", path.display(), unit.display());
                let overlay = std::fs::read_to_string(root.join(format!("overlays/{env}/overlay.toml"))).unwrap_or_default()
                    + &std::fs::read_to_string(root.join("flinkops.toml")).unwrap();
                assert!(overlay.contains("manage_namespaces = false"), "{env} has no namespace unit but does not opt out");
                continue;
            };
            let a = &namespace["metadata"]["annotations"];
            assert_eq!(a["argocd.argoproj.io/sync-options"], "Prune=false", "{ns}");
            assert_eq!(a["kustomize.toolkit.fluxcd.io/prune"], "disabled", "{ns}");
            assert!(find(env, "ServiceAccount", Some(ns), sa).is_some(), "{}: ServiceAccount {ns}/{sa}", path.display());
            let (_, role) = find(env, "Role", Some(ns), sa).unwrap_or_else(|| panic!("{}: Role {ns}/{sa}", path.display()));
            assert_eq!(role["rules"], chart_rules, "Role {ns}/{sa}");
            let (_, binding) =
                find(env, "RoleBinding", Some(ns), sa).unwrap_or_else(|| panic!("{}: RoleBinding {ns}/{sa}", path.display()));
            assert_eq!(binding["roleRef"], serde_json::json!({ "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": sa }));
            assert_eq!(binding["subjects"], serde_json::json!([{ "kind": "ServiceAccount", "name": sa, "namespace": ns }]));
            checked += 1;
        }
    }
    assert!(checked >= 10, "too few FlinkDeployments checked ({checked})");
}
