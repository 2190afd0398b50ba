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
        rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads.unwrap_or(0))
            .build()
            .context("cannot start worker threads")
    }
}
