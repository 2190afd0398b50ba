//! The options every many-run command (sweep, sensitivity) shares.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;

#[derive(Args)]
pub struct BatchArgs {
    /// Override a field of the scenario, e.g. --set fleet.agents=2000000 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// The first seed (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Simulate this fraction of cells in every run.
    #[arg(long, value_name = "F")]
    pub sample: Option<f64>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Output directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl BatchArgs {
    /// Checks the flags and starts the worker pool.
    pub fn pool(&self) -> Result<rayon::ThreadPool> {
        if let Some(f) = self.sample
            && !(f > 0.0 && f <= 1.0)
        {
            bail!("--sample {f}: must be a fraction in (0, 1]");
        }
        thread_pool(self.threads)
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
