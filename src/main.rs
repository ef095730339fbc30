//! The `flinkops` binary: everything is in the library and the CLI module; this only maps the
//! outcome to the process exit code.

mod cli;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::run()
}
