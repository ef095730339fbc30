//! The CLI edge: parses arguments (clap derive, one file per subcommand), runs the library and
//! renders its results. Diagnostics go to stderr, data (diffs, listings) to stdout.
//!
//! Exit codes (SPEC §11): 0 success; 1 `check` found drift; 2 invalid input (spec, overlay,
//! patch, CLI usage, or a warning under `--deny-warnings`); 3 I/O or internal error.
//!
//! Every problem, the library's and the commands' own, is a [`Diagnostic`] with a stable code,
//! printed by the one renderer below, so `--color`, `--quiet` and `--deny-warnings` mean the same
//! in every command:
//! - [`report`]: a run's diagnostics (with their sources) and the summary line; `Err` when the
//!   command must stop (errors, or warnings under `--deny-warnings`).
//! - [`fail`]: one error without a source file (a library error such as `SyncError` or
//!   `GitError` converts with `Into<Diagnostic>`), printed, and its exit code: 3 for I/O and
//!   internal errors (`E9xx`), 2 for the rest. `.map_err(fail)` is the usual call.
//! - [`emit`]: one diagnostic whose exit the command decides (drift and denied impacts exit 1).
//!
//! Informational lines (`ok: …`, progress) are not diagnostics: [`Global::info`], silenced by
//! `--quiet`.

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
use std::sync::OnceLock;

use clap::{Parser, Subcommand, ValueEnum};
use flinkops::compile::{self, Compiled};
use flinkops::diag::{self, Code, Diagnostic, Diagnostics, Severity, Sources};
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
                return Err(fail(
                    Diagnostic::error(Code::NoRepository, format!("no flinkops.toml in --root {}", r.display()))
                        .help(format!("pass the folder that holds flinkops.toml, or run `flinkops init {}`", r.display())),
                ));
            }
            return Ok(r.clone());
        }
        let cwd =
            std::env::current_dir().map_err(|e| fail(Diagnostic::error(Code::Io, format!("cannot read the current directory: {e}"))))?;
        flinkops::spec::find_root(&cwd).ok_or_else(|| {
            fail(
                Diagnostic::error(Code::NoRepository, format!("no flinkops.toml in {} or any parent folder", cwd.display()))
                    .help("run inside a flinkops repository, pass --root DIR, or create one with `flinkops init`"),
            )
        })
    }

    /// Compiles the repository into memory and prints its diagnostics; `Err` when the run must
    /// stop.
    fn compile(&self, envs: &[String]) -> Result<(PathBuf, Compiled), Exit> {
        let root = self.root()?;
        let c = compile::compile(&root, &compile::Options { envs: envs.to_vec(), ..Default::default() });
        report(&c.diagnostics, &c.sources)?;
        Ok((root, c))
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
        report(&c.diagnostics, &c.sources)?;
        Ok((root, c))
    }

    fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }
}

/// How diagnostics are shown, from the global options; set once, before the command runs.
#[derive(Debug, Clone, Copy, Default)]
struct Output {
    color: bool,
    quiet: bool,
    deny_warnings: bool,
}

static OUTPUT: OnceLock<Output> = OnceLock::new();

fn output() -> Output {
    OUTPUT.get().copied().unwrap_or_default()
}

impl Output {
    /// `--quiet` hides warnings, unless `--deny-warnings` makes them count.
    fn shows(&self, d: &Diagnostic) -> bool {
        !(self.quiet && d.severity == Severity::Warning && !self.deny_warnings)
    }
}

/// Prints a run's diagnostics (every spec or overlay problem, located in `sources`) and the
/// summary line to stderr. `Err(Exit::Invalid)` when the command must stop: an error, or a
/// warning under `--deny-warnings`.
pub fn report(diags: &Diagnostics, sources: &Sources) -> Result<(), Exit> {
    let o = output();
    let shown = Diagnostics { items: diags.items.iter().filter(|d| o.shows(d)).cloned().collect() };
    if !shown.items.is_empty() {
        eprint!("{}", diag::render_all(&shown, sources, o.color));
    }
    if diags.has_errors() {
        return Err(Exit::Invalid);
    }
    if o.deny_warnings && diags.count(Severity::Warning) > 0 {
        return Err(fail(Diagnostic::error(Code::WarningsDenied, "warnings are denied (--deny-warnings); nothing was written")));
    }
    Ok(())
}

/// Prints one diagnostic that has no source file (a command's own problem, a library error).
pub fn emit(d: &Diagnostic) {
    let o = output();
    if o.shows(d) {
        eprintln!("{}\n", diag::render(d, &Sources::default(), o.color));
    }
}

/// Prints one error (see [`emit`]) and returns its exit code: 3 for I/O and internal errors
/// (`E9xx`), 2 for every other error (the user's input).
pub fn fail(e: impl Into<Diagnostic>) -> Exit {
    let d = e.into();
    emit(&d);
    if d.code.id().starts_with("E9") { Exit::Internal } else { Exit::Invalid }
}

/// Parses the command line and runs the command.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let g = &cli.global;
    OUTPUT.get_or_init(|| Output { color: g.color(), quiet: g.quiet, deny_warnings: g.deny_warnings });
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

#[cfg(test)]
mod tests {
    use super::*;
    use flinkops::sync::SyncError;

    #[test]
    fn an_errors_code_decides_its_exit() {
        let io = SyncError::Io { action: "write", path: "out/x".into(), source: std::io::Error::other("disk full") };
        assert!(matches!(fail(io), Exit::Internal));
        assert!(matches!(fail(SyncError::NotOwned), Exit::Invalid));
        assert!(matches!(fail(Diagnostic::error(Code::UnknownKey, "input")), Exit::Invalid));
    }

    #[test]
    fn quiet_hides_warnings_unless_they_are_denied() {
        let w = Diagnostic::warning(Code::FluxShardsIgnored, "w");
        let e = Diagnostic::error(Code::UnknownKey, "e");
        let quiet = Output { quiet: true, ..Output::default() };
        assert!(!quiet.shows(&w) && quiet.shows(&e));
        assert!(Output { deny_warnings: true, ..quiet }.shows(&w));
        assert!(Output::default().shows(&w));
    }
}
