//! Command-line parsing and dispatch. Errors are reported here, once, with their causes.

mod batch;
mod calibrate;
mod catalog;
mod compare;
mod fit;
mod made;
mod merge;
mod output;
mod perf;
mod plan;
mod progress;
mod run;
mod sensitivity;
mod sweep;
mod validate;
mod values;

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
    /// Predict TTFT, TPOT and throughput of a closed loop of requests on one replica.
    Perf(perf::PerfArgs),
    /// Fit the performance model on measured data (writes models/catalog/calibration.toml).
    Calibrate(calibrate::CalibrateArgs),
    /// List the built-in hardware, models and price sheets.
    Catalog(catalog::CatalogArgs),
    /// Combine the partial results of `run --shard I/N` into one run's reports.
    Merge(merge::MergeArgs),
    /// Find the cheapest cluster that meets latency, rejection, power and capex targets.
    Plan(plan::PlanArgs),
    /// Vary fields over a grid with several seeds: curves with uncertainty bands.
    Sweep(sweep::SweepArgs),
    /// Move each key input down and up: which moves the margin and the cost most.
    Sensitivity(sensitivity::SensitivityArgs),
    /// Compare two runs (output directories, or scenario files to run first).
    Compare(compare::CompareArgs),
    /// Fit distributions to a trace and print them as a scenario fragment.
    Fit(fit::FitArgs),
}

/// The exit code of a run stopped by a signal (128 + SIGINT, as shells report Ctrl-C).
const EXIT_INTERRUPTED: u8 = 130;

/// How long a stop may take before the process exits without waiting for its loops.
const STOP_GRACE_SECONDS: u64 = 5;

/// What an interrupted command leaves behind, in words.
fn interrupted_message(removed: &[std::path::PathBuf]) -> String {
    if removed.is_empty() {
        "interrupted: no outputs written (partial work in memory discarded)".into()
    } else {
        let dirs: Vec<String> = removed.iter().map(|p| p.display().to_string()).collect();
        format!(
            "interrupted: no outputs written (partial work in {} removed)",
            dirs.join(", ")
        )
    }
}

/// Ctrl-C (and SIGTERM, SIGHUP) asks the command to stop: loops poll the flag, nothing is
/// renamed into place afterwards, and `main` reports it. A second signal, or the first once
/// [`STOP_GRACE_SECONDS`] have passed, does not wait: it removes the temporary outputs being
/// filled and exits.
fn install_interrupt_handler() {
    use std::sync::atomic::{AtomicU32, Ordering};
    static SIGNALS: AtomicU32 = AtomicU32::new(0);
    fn stop_now() -> ! {
        let (removed, _held) = tokenfleet_engine::interrupt::remove_partials_and_hold();
        eprintln!("{}", interrupted_message(&removed));
        std::process::exit(EXIT_INTERRUPTED.into());
    }
    let installed = ctrlc::set_handler(|| {
        if SIGNALS.fetch_add(1, Ordering::SeqCst) == 0 {
            tokenfleet_engine::interrupt::request();
            eprintln!("\nstopping (press Ctrl-C again to stop at once) ...");
            // Loops that do not poll the flag must not make a signal ignorable (a batch
            // system's SIGTERM most of all): a run that has not stopped by then is stopped.
            std::thread::spawn(|| {
                std::thread::sleep(std::time::Duration::from_secs(STOP_GRACE_SECONDS));
                stop_now()
            });
        } else {
            stop_now()
        }
    });
    if let Err(e) = installed {
        // Without a handler a signal ends the process at once: outputs are still renamed into
        // place whole or not at all, but temporary directories may be left.
        eprintln!("warning: cannot catch Ctrl-C ({e})");
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    install_interrupt_handler();
    let result = match cli.command {
        Command::Run(a) => run::run(*a),
        Command::Validate(a) => validate::validate(a),
        Command::Perf(a) => perf::perf(a),
        Command::Calibrate(a) => calibrate::calibrate(a),
        Command::Catalog(a) => catalog::catalog(a),
        Command::Merge(a) => merge::merge(a),
        Command::Plan(a) => plan::run(a),
        Command::Sweep(a) => sweep::run(a),
        Command::Sensitivity(a) => sensitivity::run(a),
        Command::Compare(a) => compare::compare(a),
        Command::Fit(a) => fit::fit(a),
    };
    if tokenfleet_engine::interrupt::requested() {
        eprintln!(
            "{}",
            interrupted_message(&tokenfleet_engine::interrupt::removed())
        );
        return ExitCode::from(EXIT_INTERRUPTED);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
