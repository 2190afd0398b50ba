//! Command-line parsing and dispatch. Errors are reported here, once, with their causes.

mod calibrate;
mod perf;
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
    Run(run::RunArgs),
    /// Check a scenario file without running it.
    Validate(validate::ValidateArgs),
    /// Predict TTFT, TPOT and throughput of a closed loop of requests on one replica.
    Perf(perf::PerfArgs),
    /// Fit the performance model on measured data (writes models/catalog/calibration.toml).
    Calibrate(calibrate::CalibrateArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => run::run(a),
        Command::Validate(a) => validate::validate(a),
        Command::Perf(a) => perf::perf(a),
        Command::Calibrate(a) => calibrate::calibrate(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
