//! Property tests of physical limits: on random small scenarios, no cluster does more than it
//! can, time runs forward, and Little's law holds.
//!
//! Invariants 3, 4 and 7 of docs/invariants.md, on scenarios drawn by
//! `tests/common/random_scenario` (one run each, on one thread). KV tokens never exceed a
//! replica's cache, at any moment or on average; busy time stays within provisioned time and
//! roofline-active time within busy time; each device's energy lies between idle and full power
//! over its time; no event is scheduled in the past, no first token comes after its call's end
//! and nothing completes after the horizon; and per pool the time-integral of calls in the pool
//! equals their time in it, exactly, so L = λW up to the calls in flight at the horizon. These
//! are what make the latency, utilization and energy figures physically possible: overloaded
//! pools, small caches that preempt and autoscaling are where they would break first.

mod common;

use common::checks;
use common::random_scenario::{self, strategy::scenario};
use proptest::prelude::*;

proptest! {
    #![proptest_config(random_scenario::config())]

    #[test]
    fn capacity_time_and_littles_law_hold_on_random_small_scenarios(case in scenario()) {
        let (setup, out) = checks::run_one(&case);
        checks::limits::check(&setup, &out);
    }
}
