//! Helpers shared by the integration tests.
//!
//! `random_scenario` and `checks` serve the property tests (`tests/properties_*.rs`), `fuzz`
//! the fuzzers (`tests/fuzz_*.rs`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use tokenfleet_fleet::RunOutput;
use tokenfleet_fleet::results::{CallRecord, minute_of_day};
use tokenfleet_models::Money;
use tokenfleet_models::prices::Usage;
use tokenfleet_scenario::Origin;
use tokenfleet_scenario::Scenario;
use tokenfleet_setup::Setup;

pub mod checks;
pub mod fuzz;
pub mod random_scenario;

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
    pool.install(|| tokenfleet_fleet::run(setup, setup.seed, None, &|_| {}))
}

pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Invariant 1: calls and tokens are conserved (generated = completed + rejected + in flight),
/// the ledger agrees with the tally, and no event was scheduled in the past.
pub fn check_conservation(out: &RunOutput) {
    let t = &out.tally;
    assert_eq!(
        t.calls_generated,
        t.calls_completed + t.calls_rejected + t.calls_in_flight,
        "calls"
    );
    assert_eq!(
        t.input_generated,
        t.input_completed + t.input_rejected + t.input_in_flight,
        "input tokens"
    );
    assert_eq!(
        t.output_generated,
        t.output_completed + t.output_rejected + t.output_in_flight,
        "output tokens"
    );
    // The ledger's token classes add up to what the tally says completed.
    let total = out.ledger.total();
    assert_eq!(total.calls_completed, t.calls_completed);
    assert_eq!(total.calls_rejected, t.calls_rejected);
    assert_eq!(total.input_uncached + total.input_cached, t.input_completed);
    assert_eq!(total.input_cached, t.input_cached_completed);
    assert_eq!(total.output, t.output_completed);
    assert_eq!(total.calls_arrived, t.calls_generated);
    // Every completed call was admitted once; admitted calls not completed are in flight.
    assert!(
        total.calls_started >= total.calls_completed,
        "calls started"
    );
    assert!(total.calls_started <= total.calls_completed + t.calls_in_flight);
    assert!(total.calls_waited <= total.calls_started);
    assert_eq!(t.past_schedules, 0, "events scheduled in the past");
}

/// What a sampled call pays under price set `set`, recomputed from its tokens and start time.
/// Its reasoning tokens (part of `output`) are billed at the output rate, which is right for
/// sheets that give reasoning no rate of its own.
pub fn call_charge(setup: &Setup, c: &CallRecord, set: usize) -> Money {
    let served = &setup.served[setup.pools[c.pool as usize].model];
    let usage = Usage {
        input_uncached: c.input_uncached as u64,
        input_cached: c.input_cached as u64,
        output: c.output as u64,
        reasoning: 0,
    };
    served.prices[set]
        .sheet
        .charge(&usage, minute_of_day(c.issued))
        .total()
}

/// The values of a bad-input file's `# KEY: value` header lines (`# command:`, `# args:`,
/// `# expect:`), read by the bad-input test and the golden outputs alike.
pub fn header(text: &str, key: &str) -> Vec<String> {
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| l.strip_prefix(&format!("# {key}: ")))
        .map(str::to_string)
        .collect()
}
