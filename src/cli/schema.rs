//! `flinkops schema`: print the JSON Schema of a pipeline spec (for editors).

use super::{Exit, Global};

/// Print the JSON Schema of a pipeline spec (for editors)
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args, _g: &Global) -> Result<(), Exit> {
    let s = flinkops::schema::pipeline_schema();
    println!("{}", serde_json::to_string_pretty(&s).expect("JSON values always serialize"));
    Ok(())
}
