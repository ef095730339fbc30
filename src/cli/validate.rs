//! `flinkops validate`: parse and check every spec and overlay; write nothing.

use super::{Exit, Global};

/// Parse and check every spec and overlay; write nothing
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args, g: &Global) -> Result<(), Exit> {
    let (_, c) = g.compile(&[])?;
    g.info(format!("ok: {} pipelines in {} environments", c.pipelines.len() / c.envs.len().max(1), c.envs.len()));
    Ok(())
}
