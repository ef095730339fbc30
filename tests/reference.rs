//! `docs/reference.md` is generated from the raw input types (src/spec/raw/) (SPEC §17): this test fails when the
//! committed file differs from what the registry generates now, and rewrites it under
//! `FLINKOPS_BLESS=1` (`FLINKOPS_BLESS=1 cargo test --test reference`).

use std::path::PathBuf;

fn committed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/reference.md")
}

#[test]
fn docs_reference_md_is_generated_from_the_key_registry_and_up_to_date() {
    let generated = flinkops::schema::reference();
    let path = committed();
    if std::env::var_os("FLINKOPS_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    if on_disk != generated {
        let diff = similar::TextDiff::from_lines(&on_disk, &generated);
        panic!(
            "docs/reference.md is stale; regenerate it with `FLINKOPS_BLESS=1 cargo test --test reference`:\n{}",
            diff.unified_diff().context_radius(2).header("docs/reference.md (committed)", "generated")
        );
    }
}

/// Every key of every schema appears in the reference, in the table of its section, with the
/// schema's type and its description's meaning: the two outputs come from one registry.
#[test]
fn the_reference_documents_every_key_of_the_three_schemas() {
    let text = flinkops::schema::reference();
    for file in flinkops::schema::File::ALL {
        let s = flinkops::schema::schema(file);
        let mut missing = vec![];
        fn walk(s: &serde_json::Value, text: &str, missing: &mut Vec<String>) {
            match s {
                serde_json::Value::Object(o) => {
                    if let Some(serde_json::Value::Object(props)) = o.get("properties") {
                        for (k, p) in props {
                            let desc = p["description"].as_str().unwrap_or("");
                            // The meaning is the description up to its default.
                            let meaning = desc.split(" Default: ").next().unwrap().split(" Required").next().unwrap();
                            if !text.lines().any(|l| l.starts_with(&format!("| `{k}` |")) && l.contains(meaning)) {
                                missing.push(format!("{k}: {meaning}"));
                            }
                        }
                    }
                    o.values().for_each(|v| walk(v, text, missing));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, text, missing)),
                _ => {}
            }
        }
        walk(&s, &text, &mut missing);
        assert!(missing.is_empty(), "{} keys missing from docs/reference.md: {missing:#?}", file.word());
    }
    // Keys from SPEC §13.2, §13.4, §14 that the validator accepts are documented too.
    for row in ["| `manage_namespaces` |", "| `flux_shards` |", "| `bounded` |", "| `argocd_server` |", "| `flux_interval` |"] {
        assert!(text.contains(row), "{row}");
    }
}
