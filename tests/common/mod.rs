//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use tokenfleet_sim::scenario::Origin;
use tokenfleet_sim::{RunOutput, Scenario, Setup};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn scenario_path(name: &str) -> PathBuf {
    root().join("scenarios").join(name)
}

/// Loads and resolves a shipped scenario with overrides.
pub fn setup(name: &str, overrides: &[&str]) -> Setup {
    let sets: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let (s, origin): (Scenario, Origin) =
        Scenario::load(Some(&scenario_path(name)), &sets).unwrap();
    s.resolve(&origin).unwrap()
}

/// Runs a setup on a pool of `threads` threads.
pub fn run(setup: &Setup, threads: usize) -> RunOutput {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| tokenfleet_sim::run(setup, setup.seed, None, &|_| {}))
}

pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
