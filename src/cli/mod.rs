//! The CLI edge: parses arguments (clap derive, one file per subcommand), runs the library and
//! renders its results. Diagnostics go to stderr, data (diffs, listings) to stdout.
//!
//! Exit codes (SPEC §11): 0 success; 1 `check` found drift; 2 invalid input (spec, overlay,
//! patch, CLI usage, or a warning under `--deny-warnings`); 3 I/O or internal error.

mod check;
mod day2;
mod diff;
mod explain;
mod generate;
mod images;
mod impact;
mod init;
mod schema;
mod validate;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use flinkops::compile::{self, Compiled};
use flinkops::diag::{self, Severity};
use flinkops::sync::Sink;

/// A GitOps compiler for Apache Flink on Kubernetes: pipeline TOML in, committed manifests out.
#[derive(Debug, Parser)]
#[command(name = "flinkops", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: Global,
}

/// Options every subcommand takes.
#[derive(Debug, clap::Args)]
pub struct Global {
    /// Repository root (default: the nearest ancestor holding flinkops.toml)
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Print only errors and data
    #[arg(long, short, global = true)]
    quiet: bool,
    /// When to color diagnostics
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    color: ColorChoice,
    /// Treat warnings as errors (exit code 2)
    #[arg(long, global = true)]
    deny_warnings: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    Generate(generate::Args),
    Check(check::Args),
    Diff(diff::Args),
    Validate(validate::Args),
    Explain(explain::Args),
    Init(init::Args),
    Images(images::Args),
    Schema(schema::Args),
    Savepoint(day2::SavepointArgs),
    Restore(day2::RestoreArgs),
    Suspend(day2::SuspendArgs),
    Resume(day2::ResumeArgs),
    Restart(day2::RestartArgs),
}

/// How a command ended.
pub enum Exit {
    Ok,
    Drift,
    Invalid,
    Internal,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(match e {
            Exit::Ok => 0,
            Exit::Drift => 1,
            Exit::Invalid => 2,
            Exit::Internal => 3,
        })
    }
}

impl Global {
    fn color(&self) -> bool {
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal(),
        }
    }

    /// Finds the repository root, or explains why there is none.
    fn root(&self) -> Result<PathBuf, Exit> {
        if let Some(r) = &self.root {
            if !r.join("flinkops.toml").is_file() {
                eprintln!("error: no flinkops.toml in --root {}", r.display());
                eprintln!("  = help: pass the folder that holds flinkops.toml, or run `flinkops init {}`", r.display());
                return Err(Exit::Invalid);
            }
            return Ok(r.clone());
        }
        let cwd = std::env::current_dir().map_err(|e| {
            eprintln!("error: cannot read the current directory: {e}");
            Exit::Internal
        })?;
        flinkops::spec::find_root(&cwd).ok_or_else(|| {
            eprintln!("error: no flinkops.toml in {} or any parent folder", cwd.display());
            eprintln!("  = help: run inside a flinkops repository, pass --root DIR, or create one with `flinkops init`");
            Exit::Invalid
        })
    }

    /// Compiles the repository into memory and prints its diagnostics; `Err` when the run must
    /// stop.
    fn compile(&self, envs: &[String]) -> Result<(PathBuf, Compiled), Exit> {
        let root = self.root()?;
        let c = compile::compile(&root, &compile::Options { envs: envs.to_vec(), ..Default::default() });
        self.report(root, c)
    }

    /// Compiles the repository, handing every file to `sink`, and prints its diagnostics; `Err`
    /// when the run must stop (then what the sink received must be dropped).
    fn compile_into(
        &self,
        envs: &[String],
        keep_pipelines: bool,
        sink: &dyn Sink,
        passes: compile::Passes,
    ) -> Result<(PathBuf, Compiled), Exit> {
        let root = self.root()?;
        let opts = compile::Options { envs: envs.to_vec(), keep_pipelines, deny_warnings: self.deny_warnings, ..Default::default() };
        let c = compile::compile_into(&root, &opts, sink, passes);
        self.report(root, c)
    }

    fn report(&self, root: PathBuf, c: Compiled) -> Result<(PathBuf, Compiled), Exit> {
        let shown: Vec<_> = c
            .diagnostics
            .items
            .iter()
            .filter(|d| !(self.quiet && d.severity == Severity::Warning && !self.deny_warnings))
            .cloned()
            .collect();
        if !shown.is_empty() {
            let list = diag::Diagnostics { items: shown };
            eprint!("{}", diag::render_all(&list, &c.sources, self.color()));
        }
        if c.has_errors() {
            return Err(Exit::Invalid);
        }
        if self.deny_warnings && c.diagnostics.count(Severity::Warning) > 0 {
            eprintln!("error: warnings are denied (--deny-warnings); nothing was written");
            return Err(Exit::Invalid);
        }
        Ok((root, c))
    }

    fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }
}

/// Parses the command line and runs the command.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Generate(a) => generate::run(a, &cli.global),
        Command::Check(a) => check::run(a, &cli.global),
        Command::Diff(a) => diff::run(a, &cli.global),
        Command::Validate(a) => validate::run(a, &cli.global),
        Command::Explain(a) => explain::run(a, &cli.global),
        Command::Init(a) => init::run(a, &cli.global),
        Command::Images(a) => images::run(a, &cli.global),
        Command::Schema(a) => schema::run(a, &cli.global),
        Command::Savepoint(a) => day2::run(a, &cli.global),
        Command::Restore(a) => day2::run(a, &cli.global),
        Command::Suspend(a) => day2::run(a, &cli.global),
        Command::Resume(a) => day2::run(a, &cli.global),
        Command::Restart(a) => day2::run(a, &cli.global),
    };
    match result {
        Ok(()) => Exit::Ok.into(),
        Err(e) => e.into(),
    }
}

/// Prints an I/O error from the sync phase and maps it to its exit code.
fn sync_error(e: flinkops::sync::SyncError) -> Exit {
    match e {
        flinkops::sync::SyncError::NotOwned => {
            eprintln!("error: {e}");
            eprintln!("  = help: move the files out of out/, or add the marker file out/.flinkops if out/ really is flinkops output");
            Exit::Invalid
        }
        e => {
            eprintln!("error: {e}");
            Exit::Internal
        }
    }
}
