//! tokenfleet: token-economics simulator and capacity planner for fleets of LLM agents.
//! The commands live in `cli`; the work in the tokenfleet-models, -sim and -reports crates.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
