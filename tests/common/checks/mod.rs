//! The invariants of docs/invariants.md, checked on runs of random small scenarios
//! ([`super::random_scenario`]): one family per file, so that each `tests/properties_*.rs`
//! checks one family on its own random cases, and `tests/properties_generator.rs` checks them
//! all on a fixed sample.

use std::sync::OnceLock;

use tokenfleet_fleet::run::RunOutput;
use tokenfleet_setup::Setup;

use super::random_scenario::Case;

pub mod accounting;
pub mod determinism;
pub mod limits;

/// A one-thread and a two-thread pool, built once per test binary.
pub fn pools() -> &'static (rayon::ThreadPool, rayon::ThreadPool) {
    static POOLS: OnceLock<(rayon::ThreadPool, rayon::ThreadPool)> = OnceLock::new();
    POOLS.get_or_init(|| {
        let make = |n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
        };
        (make(1), make(2))
    })
}

/// A case's scenario, resolved from its TOML text, and its run on one thread: the run every
/// family checks.
pub fn run_one(case: &Case) -> (Setup, RunOutput) {
    let setup = case.setup();
    let one = pools()
        .0
        .install(|| tokenfleet_fleet::run(&setup, setup.seed, None, &|_| {}));
    (setup, one)
}

/// Every invariant of one run of a case (the thread and shard comparisons of [`determinism`]
/// aside).
pub fn check_case(case: &Case) -> (Setup, RunOutput) {
    let (setup, one) = run_one(case);
    accounting::check(case, &setup, &one);
    limits::check(&setup, &one);
    (setup, one)
}
