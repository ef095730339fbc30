//! `flinkops validate`: parse and check every spec and overlay; write nothing.

use super::{Exit, Global};

/// Parse and check every spec and overlay; write nothing
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args, g: &Global) -> Result<(), Exit> {
    let (_, c) = g.compile_into(&[], true, &flinkops::sync::Discard, flinkops::compile::Passes::CheckOnly)?;
    let (p, e) = (c.pipelines.len() / c.envs.len().max(1), c.envs.len());
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    g.info(format!("ok: {} in {}", plural(p, "pipeline"), plural(e, "environment")));
    Ok(())
}
