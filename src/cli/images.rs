//! `flinkops images`: every bundle image with its full reference, Dockerfile and users — what a
//! CI job builds and pushes.
//!
//! JSON shape (stable): `{"images": [{"name", "image", "tag", "dockerfile", "dockerignore",
//! "context": ".", "used_by": [{"pipeline", "env"}]}]}`, sorted by name.

use serde_json::json;

use super::{Exit, Global};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

/// List every bundle image: name, reference with tag, Dockerfile, and the pipelines/envs using it
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub fn run(args: &Args, g: &Global) -> Result<(), Exit> {
    let (_, c) = g.compile_into(&[], true, &flinkops::sync::Discard, flinkops::compile::Passes::CheckOnly)?;
    let registry = c.project.as_ref().and_then(|p| p.defaults.registry.clone()).unwrap_or_default();
    let images: Vec<serde_json::Value> = c
        .bundles
        .values()
        .map(|b| {
            let mut users: Vec<(String, String)> = c
                .pipelines
                .iter()
                .filter(|p| p.flink.image.is_none() && p.job.bundle == b.name)
                .map(|p| (p.name.clone(), p.env.clone()))
                .collect();
            users.sort();
            json!({
                "name": b.name,
                "image": b.reference(&registry),
                "tag": b.tag,
                "dockerfile": format!("out/images/{}/Dockerfile", b.name),
                "dockerignore": format!("out/images/{}/Dockerfile.dockerignore", b.name),
                "context": ".",
                "used_by": users.iter().map(|(p, e)| json!({"pipeline": p, "env": e})).collect::<Vec<_>>(),
            })
        })
        .collect();
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&json!({ "images": images })).expect("JSON values always serialize")),
        Format::Text => {
            for i in &images {
                println!("{}", i["name"].as_str().unwrap_or_default());
                println!("  image:      {}", i["image"].as_str().unwrap_or_default());
                println!("  dockerfile: {} (build context: repository root)", i["dockerfile"].as_str().unwrap_or_default());
                let users: Vec<String> = i["used_by"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|u| format!("{} ({})", u["pipeline"].as_str().unwrap_or_default(), u["env"].as_str().unwrap_or_default()))
                    .collect();
                println!("  used by:    {}", users.join(", "));
            }
            if images.is_empty() {
                g.info("no bundle images (every pipeline sets flink.image)");
            }
        }
    }
    Ok(())
}
