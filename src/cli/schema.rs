//! `flinkops schema [pipeline|project|overlay]`: print the JSON Schema of one of the three files
//! (for editors).

use super::{Exit, Global};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Which {
    /// pipelines/*.toml (and templates)
    Pipeline,
    /// flinkops.toml
    Project,
    /// overlays/<env>/overlay.toml
    Overlay,
}

/// Print the JSON Schema of a pipeline spec, flinkops.toml or an overlay (for editors)
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which file's schema
    #[arg(value_enum, default_value_t = Which::Pipeline)]
    which: Which,
}

pub fn run(args: &Args, _g: &Global) -> Result<(), Exit> {
    let s = match args.which {
        Which::Pipeline => flinkops::schema::pipeline_schema(),
        Which::Project => flinkops::schema::project_schema(),
        Which::Overlay => flinkops::schema::overlay_schema(),
    };
    println!("{}", serde_json::to_string_pretty(&s).expect("JSON values always serialize"));
    Ok(())
}
