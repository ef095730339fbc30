//! `flinkops schema [pipeline|project|overlay]` (SPEC §17): each schema is a valid JSON Schema,
//! accepts every file of its kind in this repository (the worked example, every fixture, the
//! `init` scaffold), rejects a misspelt key in each file, and describes every key.

mod support;

use std::path::Path;

use serde_json::Value;
use support::*;

fn schema(which: &str) -> Value {
    let o = flinkops(&project_root(), &["schema", which]);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn validator(which: &str) -> jsonschema::Validator {
    let s = schema(which);
    jsonschema::meta::validate(&s).unwrap_or_else(|e| panic!("`flinkops schema {which}` is not a valid JSON Schema: {e}"));
    jsonschema::validator_for(&s).unwrap()
}

/// TOML as an editor's language server sees it: dates and times are strings (Taplo checks them
/// against `format`). `toml`'s own serde mapping would turn them into private tables.
fn to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        toml::Value::Table(t) => Value::Object(t.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}

fn parse(text: &str) -> Value {
    to_json(&toml::Value::Table(toml::from_str(text).unwrap()))
}

/// Which schema a repository file falls under, if any.
fn kind(rel: &Path) -> Option<&'static str> {
    if rel.extension().is_none_or(|x| x != "toml") {
        return None;
    }
    let parent = rel.parent().and_then(|p| p.file_name()).and_then(|p| p.to_str());
    match (rel.file_name()?.to_str()?, parent) {
        ("flinkops.toml", _) => Some("project"),
        ("overlay.toml", _) => Some("overlay"),
        (_, Some("pipelines" | "templates")) => Some("pipeline"),
        _ => None,
    }
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

fn check_tree(root: &Path, validators: &[(&str, jsonschema::Validator)], counts: &mut std::collections::BTreeMap<&'static str, usize>) {
    let walk = walkdir::WalkDir::new(root).into_iter().filter_entry(|e| {
        let n = e.file_name();
        n != "target" && n != ".git" && n != "out" && n != "node_modules"
    });
    for e in walk {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(root).unwrap();
        let Some(k) = kind(rel) else { continue };
        let v = &validators.iter().find(|(w, _)| *w == k).unwrap().1;
        let instance = parse(&std::fs::read_to_string(e.path()).unwrap());
        let errs = errors(v, &instance);
        assert!(errs.is_empty(), "{} ({k} schema): {errs:?}", e.path().display());
        *counts.entry(k).or_default() += 1;
    }
}

fn all_validators() -> Vec<(&'static str, jsonschema::Validator)> {
    ["project", "pipeline", "overlay"].into_iter().map(|w| (w, validator(w))).collect()
}

#[test]
fn each_schema_accepts_every_file_of_its_kind_in_the_repository_and_its_fixtures() {
    let validators = all_validators();
    let mut counts = Default::default();
    check_tree(&project_root(), &validators, &mut counts);
    // The example, six fixtures and the day-2 fixture; their pipelines and templates; their overlays.
    assert!(counts["project"] >= 8, "{counts:?}");
    assert!(counts["pipeline"] >= 14, "{counts:?}");
    assert!(counts["overlay"] >= 6, "{counts:?}");
}

#[test]
fn each_schema_accepts_the_init_scaffold() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("repo");
    let o = flinkops(dir.path(), &["init", target.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut counts = Default::default();
    check_tree(&target, &all_validators(), &mut counts);
    assert!(counts["project"] == 1 && counts["pipeline"] >= 1 && counts["overlay"] >= 2, "{counts:?}");
}

/// `good` is valid and `bad` (the same text with one key misspelt, or a value out of its set)
/// is not.
fn accepts_and_rejects(which: &str, good: &str, bad: &str) {
    let v = validator(which);
    let errs = errors(&v, &parse(good));
    assert!(errs.is_empty(), "{which}: {good}\n{errs:?}");
    assert!(!v.is_valid(&parse(bad)), "{which} schema accepted:\n{bad}");
}

#[test]
fn the_project_schema_rejects_misspelt_keys_and_values() {
    let base = "[project]\nname = \"p\"\nrepo_url = \"https://git.example.com/p.git\"\n";
    accepts_and_rejects("project", &format!("{base}[delivery]\nflux_shards = 4\n"), &format!("{base}[delivery]\nflux_shard = 4\n"));
    accepts_and_rejects(
        "project",
        &format!("{base}[defaults]\nmanage_namespaces = false\n"),
        &format!("{base}[defaults]\nmanage_namespace = false\n"),
    );
    accepts_and_rejects("project", &format!("{base}[delivery]\ntool = \"flux\"\n"), &format!("{base}[delivery]\ntool = \"fluxcd\"\n"));
    accepts_and_rejects("project", &format!("{base}[delivery]\nflux_shards = 0\n"), &format!("{base}[delivery]\nflux_shards = -1\n"));
    accepts_and_rejects("project", base, &format!("{base}[projet]\nname = \"q\"\n"));
    // [project] name is required in every flinkops.toml.
    accepts_and_rejects("project", base, "[project]\nrepo_url = \"https://git.example.com/p.git\"\n");
}

#[test]
fn the_pipeline_schema_rejects_misspelt_keys_and_values() {
    let base = "[flink]\nversion = \"2.2.1\"\n[job]\nkind = \"python\"\nscript = \"jobs/x/main.py\"\n";
    accepts_and_rejects("pipeline", base, &base.replace("version", "versoin"));
    accepts_and_rejects("pipeline", &format!("{base}bounded = true\n"), &format!("{base}bouned = true\n"));
    accepts_and_rejects(
        "pipeline",
        &format!("{base}[autoscaling]\nmode = \"scheduled\"\n[[autoscaling.schedule]]\nname = \"a\"\ncron = \"0 9 * * *\"\nreplicas = 3\n"),
        &format!("{base}[autoscaling]\nmode = \"scheduled\"\n[[autoscaling.schedule]]\nname = \"a\"\ncron = \"0 9 * * *\"\nreplica = 3\n"),
    );
    accepts_and_rejects(
        "pipeline",
        &format!("{base}[autoscaling]\nmode = \"hpa_reactive\"\n"),
        &format!("{base}[autoscaling]\nmode = \"hpa-reactive\"\n"),
    );
    accepts_and_rejects(
        "pipeline",
        &format!("{base}[flink.env]\nPASSWORD = {{ secret = \"s\", key = \"k\" }}\n"),
        &format!("{base}[flink.env]\nPASSWORD = {{ secret = \"s\", kee = \"k\" }}\n"),
    );
    accepts_and_rejects(
        "pipeline",
        &format!("{base}[resources]\nprofile = \"large\"\n"),
        &format!("{base}[resources]\nprofile = \"huge\"\n"),
    );
    // Templates are partial pipelines: nothing is required at the top.
    accepts_and_rejects("pipeline", "[job]\nparallelism = 8\n", "[job]\nparallelism = 0\n");
}

#[test]
fn the_overlay_schema_rejects_misspelt_keys_and_values() {
    accepts_and_rejects("overlay", "[env]\nmanage_namespaces = false\n", "[env]\nmanage_namespace = false\n");
    // `[pipelines.<name>]` is a partial pipeline, checked as closely as a pipeline file.
    accepts_and_rejects("overlay", "[pipelines.orders]\njob.parallelism = 4\n", "[pipelines.orders]\njob.paralelism = 4\n");
    // Its tasks are a table keyed by task name, with `enabled` and `params` only (SPEC §13.5).
    accepts_and_rejects(
        "overlay",
        "[pipelines.orders.tasks.etl]\nenabled = false\nparams = { topic = \"dev\" }\n",
        "[pipelines.orders.tasks.etl]\nname = \"other\"\n",
    );
    accepts_and_rejects("overlay", "[pipelines.orders.tasks.etl]\nenabled = false\n", "[[pipelines.orders.tasks]]\nname = \"etl\"\n");
    let patch = "[[patches]]\ntarget = { kind = \"FlinkDeployment\", name = \"orders\" }\n";
    accepts_and_rejects(
        "overlay",
        &format!("{patch}ops = [ {{ op = \"remove\", path = \"/spec/job\" }} ]\n"),
        &format!("{patch}opps = [ {{ op = \"remove\", path = \"/spec/job\" }} ]\n"),
    );
    // A patch has `ops` or `file`, not both and not neither.
    accepts_and_rejects("overlay", &format!("{patch}file = \"p.yaml\"\n"), &format!("{patch}file = \"p.yaml\"\nops = []\n"));
    accepts_and_rejects("overlay", &format!("{patch}file = \"p.yaml\"\n"), patch);
    accepts_and_rejects(
        "overlay",
        "[[merge_patches]]\ntarget = { kind = \"CronJob\", labels = { a = \"b\" } }\npatch = { spec = { suspend = true } }\n",
        "[[merge_patches]]\ntarget = { knd = \"CronJob\" }\npatch = { spec = { suspend = true } }\n",
    );
}

/// Calls `f` with the path and schema of every property of every object in `s`.
fn walk(s: &Value, path: &str, f: &mut dyn FnMut(&str, &Value)) {
    match s {
        Value::Object(o) => {
            if let Some(Value::Object(props)) = o.get("properties") {
                for (k, p) in props {
                    f(&format!("{path}.{k}"), p);
                }
            }
            for (k, v) in o {
                walk(v, &format!("{path}/{k}"), f);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                walk(v, &format!("{path}/{i}"), f);
            }
        }
        _ => {}
    }
}

#[test]
fn every_key_of_every_schema_has_a_description_and_every_table_is_closed() {
    for which in ["project", "pipeline", "overlay"] {
        let s = schema(which);
        let mut keys = 0;
        walk(&s, which, &mut |path, p| {
            keys += 1;
            let d = p.get("description").and_then(Value::as_str).unwrap_or("");
            assert!(d.trim().len() > 10, "{path} has no description: {p}");
        });
        assert!(keys >= 20, "{which}: only {keys} keys");
        // Every table with named keys is closed, except RFC 6902 operations (other members are
        // ignored, as the RFC says).
        let mut open = vec![];
        fn tables(s: &Value, path: &str, open: &mut Vec<String>) {
            if let Value::Object(o) = s {
                if o.contains_key("properties") && o.get("additionalProperties") != Some(&Value::Bool(false)) {
                    open.push(path.to_string());
                }
                for (k, v) in o {
                    tables(v, &format!("{path}/{k}"), open);
                }
            } else if let Value::Array(a) = s {
                for (i, v) in a.iter().enumerate() {
                    tables(v, &format!("{path}/{i}"), open);
                }
            }
        }
        tables(&s, "", &mut open);
        let expected: Vec<String> = if which == "overlay" { vec!["/properties/patches/items/properties/ops/items".into()] } else { vec![] };
        assert_eq!(open, expected, "{which}");
    }
}

#[test]
fn schema_without_an_argument_is_the_pipeline_schema_and_an_unknown_kind_is_a_usage_error() {
    let o = flinkops(&project_root(), &["schema"]);
    assert!(o.status.success());
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s, schema("pipeline"));
    assert_eq!(s["$id"], "https://flinkops.dev/schema/pipeline.json");
    let o = flinkops(&project_root(), &["schema", "overlays"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("invalid value 'overlays'") && stderr(&o).contains("pipeline, project, overlay"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn schema_help() {
    let o = flinkops(&project_root(), &["schema", "--help"]);
    insta::assert_snapshot!("schema_help", stdout(&o));
}

/// Every closed set of words the schemas offer (`[flink] mode`, `[delivery] tool`, …): the
/// file, the dotted key, the words, and whether the key holds a list of them.
fn word_keys() -> Vec<(&'static str, String, Vec<String>, bool)> {
    fn words(s: &Value) -> Option<Vec<String>> {
        s.get("enum")?.as_array().map(|w| w.iter().filter_map(Value::as_str).map(String::from).collect())
    }
    fn walk(file: &'static str, prefix: &str, s: &Value, out: &mut Vec<(&'static str, String, Vec<String>, bool)>) {
        let Some(Value::Object(props)) = s.get("properties") else { return };
        for (k, p) in props {
            let path = if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") };
            if let Some(w) = words(p) {
                out.push((file, path, w, false));
            } else if let Some(w) = p.get("items").and_then(words) {
                out.push((file, path, w, true));
            } else if p.get("type") == Some(&Value::from("object")) {
                walk(file, &path, p, out);
            }
        }
    }
    let mut out = vec![];
    walk("flinkops.toml", "", &schema("project"), &mut out);
    walk("pipelines/p.toml", "", &schema("pipeline"), &mut out);
    out
}

/// Compiles a one-pipeline repository whose files are written with dotted keys (so one more
/// key is one more line) and returns its error messages.
fn errors_with(file: &str, line: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let mut project = "project.name = \"p\"\nproject.repo_url = \"https://git.example.com/p.git\"\n\
                       defaults.registry = \"registry.example.com/p\"\nscaler.image = \"registry.example.com/kubectl:1.30.4\"\n"
        .to_string();
    let mut pipeline = "flink.version = \"2.2.1\"\njob.script = \"jobs/p/main.py\"\n".to_string();
    let target = if file == "flinkops.toml" { &mut project } else { &mut pipeline };
    target.push_str(line);
    if !line.starts_with("job.kind ") {
        pipeline.push_str("job.kind = \"python\"\n");
    }
    if line.starts_with("autoscaling.preset ") {
        // Presets are read only by the modes that use a schedule.
        pipeline.push_str("autoscaling.mode = \"scheduled_hpa\"\n");
    }
    std::fs::create_dir_all(r.join("pipelines")).unwrap();
    std::fs::create_dir_all(r.join("jobs/p")).unwrap();
    std::fs::write(r.join("jobs/p/main.py"), "print('hi')\n").unwrap();
    std::fs::write(r.join("flinkops.toml"), project).unwrap();
    std::fs::write(r.join("pipelines/p.toml"), pipeline).unwrap();
    let c = flinkops::compile::compile(r, &Default::default());
    c.diagnostics.items.iter().filter(|d| d.severity == flinkops::diag::Severity::Error).map(|d| d.message.clone()).collect()
}

/// Whether the validator refused `word` as a value of its key.
fn refused(errors: &[String], word: &str) -> bool {
    let quoted = format!("{word:?}");
    errors.iter().any(|m| m.contains(&quoted) && ["cannot be", "unknown", "unsupported"].iter().any(|w| m.contains(w)))
}

#[test]
fn every_word_the_schemas_offer_is_accepted_by_the_validator_and_others_are_refused() {
    let keys = word_keys();
    assert!(keys.len() >= 12, "{keys:?}");
    for (file, path, words, list) in keys {
        let line = |w: &str| if list { format!("{path} = [{w:?}]\n") } else { format!("{path} = {w:?}\n") };
        for w in &words {
            let errors = errors_with(file, &line(w));
            assert!(!refused(&errors, w), "{file}: `{path} = {w:?}` is in the schema but the validator refuses it: {errors:?}");
        }
        let errors = errors_with(file, &line("zzz-not-a-word"));
        assert!(refused(&errors, "zzz-not-a-word"), "{file}: `{path}` accepts a word outside the schema's set: {errors:?}");
    }
}

#[test]
fn every_patch_operation_the_overlay_schema_offers_is_one_json_patch_reads() {
    let words = schema("overlay")["properties"]["patches"]["items"]["properties"]["ops"]["items"]["properties"]["op"]["enum"].clone();
    let words = words.as_array().expect("op is a set of words");
    assert_eq!(words.len(), 6);
    for w in words {
        let v = serde_json::json!({ "op": w, "path": "/a", "from": "/b", "value": 1 });
        assert!(serde_json::from_value::<json_patch::PatchOperation>(v).is_ok(), "{w}");
    }
    let v = serde_json::json!({ "op": "append", "path": "/a", "value": 1 });
    assert!(serde_json::from_value::<json_patch::PatchOperation>(v).is_err());
}
