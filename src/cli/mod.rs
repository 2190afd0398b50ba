//! Command-line parsing and dispatch. Errors are reported here, once, with their causes.

mod fit;
mod run;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Token-economics simulator and capacity planner for fleets of LLM agents.
#[derive(Parser)]
#[command(name = "tokenfleet", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a day of an agent fleet on an inference cluster and write the reports.
    Run(Box<run::RunArgs>),
    /// Check a scenario file without running it.
    Validate(validate::ValidateArgs),
    /// Fit distributions to a trace and print them as a scenario fragment.
    Fit(fit::FitArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => run::run(*a),
        Command::Validate(a) => validate::validate(a),
        Command::Fit(a) => fit::fit(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
