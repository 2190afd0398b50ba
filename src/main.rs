//! tokenfleet: token-economics simulator and capacity planner for fleets of LLM agents.
//! The commands live in `cli`; the work in the tokenfleet-models, -sim and -reports crates.

mod cli;

fn main() -> std::process::ExitCode {
    restore_sigpipe();
    cli::main()
}

/// Rust starts programs with SIGPIPE ignored, so a print to a closed pipe
/// (`tokenfleet catalog | head -1`) is an error, and `println!` panics on it. A command-line
/// tool should end quietly instead, as `cat` does: the default action, killed by the signal
/// (exit status 141 in a shell). Files are written before anything is printed, so no output
/// is cut by it.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first in main, before any thread starts; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
