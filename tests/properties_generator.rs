//! The property tests' own test: are their random scenarios hard enough?
//!
//! `tests/properties_accounting.rs`, `tests/properties_limits.rs` and
//! `tests/properties_determinism.rs` check the invariants of docs/invariants.md on random small
//! scenarios (`tests/common/random_scenario`). They are only as good as those scenarios: a
//! generator that drifted into idle clusters would keep them green while testing nothing. On a
//! fixed sample of 40 scenarios (a fixed seed, so the sample is the same on every machine),
//! every mechanism the invariants must survive (rejections, rate limits, preemptions, calls in
//! flight at the horizon, compactions, sub-agents, retries, late calls, autoscaling, sampled
//! runs, several cells) must happen at least once, and every single-run invariant must hold.

mod common;

use common::checks;
use common::random_scenario::strategy::scenario;

/// The property test is only as good as its scenarios: on a fixed sample of them, every
/// mechanism the invariants must survive happens at least once.
#[test]
fn the_scenario_generator_exercises_every_mechanism() {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    use std::cell::RefCell;
    let config = Config {
        cases: 40,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let seen = RefCell::new(std::collections::BTreeMap::<&str, u64>::new());
    TestRunner::new_with_rng(config, rng)
        .run(&scenario(), |case| {
            let (setup, out) = checks::check_case(&case);
            let (t, total) = (&out.tally, out.ledger.total());
            let autoscaled = setup.pools.iter().enumerate().any(|(p, pool)| {
                pool.autoscale.is_some()
                    && out.ledger.pool_total(p).provisioned_ns
                        != out.replicas_simulated[p] as u128 * setup.horizon.ns() as u128
            });
            let mut seen = seen.borrow_mut();
            for (what, n) in [
                (
                    "queue-full rejections",
                    total.calls_rejected - total.calls_rate_limited,
                ),
                ("rate-limited calls", total.calls_rate_limited),
                ("preemptions", total.preemptions),
                ("calls in flight at the horizon", t.calls_in_flight),
                ("compactions", t.compactions),
                ("sub-agent calls", t.subagent_calls),
                ("retries", t.retries),
                ("late calls", total.calls_late),
                ("autoscaled pools", autoscaled as u64),
                ("sampled runs", (out.layout.sampled_fraction() < 1.0) as u64),
                ("several cells", (out.layout.simulated.len() > 1) as u64),
            ] {
                *seen.entry(what).or_default() += n;
            }
            Ok(())
        })
        .unwrap();
    let seen = seen.into_inner();
    let missing: Vec<_> = seen.iter().filter(|(_, n)| **n == 0).collect();
    assert!(missing.is_empty(), "never happened: {missing:?} ({seen:?})");
}
