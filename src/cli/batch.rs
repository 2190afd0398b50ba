//! The options commands share, declared once: where a command writes, its seed and its threads
//! ([`RunnerArgs`], for run, plan, compare, sweep and sensitivity), and the scenario overrides
//! and sampling of the many-run commands ([`BatchArgs`], for sweep and sensitivity).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;

/// Where a command writes, the seed it starts from and the threads it runs on.
#[derive(Args, Clone, Default)]
pub struct RunnerArgs {
    /// Output directory (default: under out/, named after the scenario or the runs).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Random seed (default: the scenario's); many-run commands start from it.
    #[arg(long, allow_negative_numbers = true, value_parser = super::values::whole::<u64>(0, u64::MAX))]
    pub seed: Option<u64>,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long, allow_negative_numbers = true, value_parser = super::values::whole::<usize>(1, 1_000_000))]
    pub threads: Option<usize>,
}

impl RunnerArgs {
    /// Checks `--threads` and starts the worker pool.
    pub fn pool(&self) -> Result<rayon::ThreadPool> {
        thread_pool(self.threads)
    }
}

/// The options of the many-run commands (sweep, sensitivity).
#[derive(Args)]
pub struct BatchArgs {
    #[command(flatten)]
    pub runner: RunnerArgs,
    /// Override a field of the scenario, e.g. --set fleet.agents=2000000 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Simulate this fraction of cells in every run.
    #[arg(long, value_name = "F", allow_negative_numbers = true, value_parser = super::values::number(0.0, false, 1.0, true))]
    pub sample: Option<f64>,
}

impl BatchArgs {
    /// Checks the flags and starts the worker pool.
    pub fn pool(&self) -> Result<rayon::ThreadPool> {
        if let Some(f) = self.sample
            && !(f > 0.0 && f <= 1.0)
        {
            bail!("--sample {f}: must be a fraction in (0, 1]");
        }
        self.runner.pool()
    }
}

/// The worker pool of `--threads N` (default: one per core). Beyond 64 per core the stacks
/// alone exhaust memory (a thread that cannot get one aborts the process) for no speed.
pub fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    match threads {
        Some(0) => bail!("--threads 0: need at least one thread"),
        Some(n) if n > 64 * cores => bail!(
            "--threads {n}: at most {} (64 per core; this machine has {cores})",
            64 * cores
        ),
        _ => {}
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")
}
