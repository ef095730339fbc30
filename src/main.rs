//! The `flinkops` binary: everything is in the library and the CLI module; this only maps the
//! outcome to the process exit code.

mod cli;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    #[cfg(unix)]
    // SAFETY: called first thing, before any thread starts; restoring a signal's default
    // disposition has no other effect on the process.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    cli::run()
}
