//! The `flinkops` binary: everything is in the library and the CLI module; this only maps the
//! outcome to the process exit code.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
