//! Property tests of determinism: on random small scenarios, the outputs do not depend on the
//! thread count or on how the cells are split into shards.
//!
//! Invariant 5 of docs/invariants.md, on scenarios drawn by `tests/common/random_scenario`:
//! each case is run on one thread, on two threads, and as two or three shards merged in
//! reverse order (every other shard read back from partial.json, as `tokenfleet merge` reads
//! it), and summary.json (up to its wall-clock fields), hourly.csv and calls_sample.csv must be
//! the same bytes every time. A figure that changed with the machine would not be a result;
//! and sharding is how large fleets are run, so a merge must give what one process would.

mod common;

use common::checks;
use common::random_scenario::{self, strategy::scenario};
use proptest::prelude::*;

proptest! {
    #![proptest_config(random_scenario::config())]

    #[test]
    fn outputs_are_the_same_on_any_threads_and_shards_on_random_small_scenarios(case in scenario()) {
        let (setup, one) = checks::run_one(&case);
        checks::determinism::check(&case, &setup, &one);
    }
}
