//! Property tests of the books: on random small scenarios, calls, tokens and money add up.
//!
//! Invariants 1 and 2 of docs/invariants.md, on scenarios drawn by
//! `tests/common/random_scenario` (one run each, on one thread; every call sampled). Calls and
//! tokens are conserved (generated = completed + rejected + in flight, in the fleet, per
//! segment and per agent, and in the ledger's token classes); revenue is the sum over calls of
//! their tokens at the sheet's rates, by class and under every price set; SLA refunds are the
//! sum over late calls; hardware cost is the device-time at the quoted rate; and the summary's
//! totals are the sums of their parts. Every figure tokenfleet reports is drawn from these
//! books, so a call or a pico-dollar lost under some mix of mechanisms (retries, sub-agents,
//! preemption, sampling, time-of-day prices) would make them all silently wrong.

mod common;

use common::checks;
use common::random_scenario::{self, strategy::scenario};
use proptest::prelude::*;

proptest! {
    #![proptest_config(random_scenario::config())]

    #[test]
    fn calls_tokens_and_money_add_up_on_random_small_scenarios(case in scenario()) {
        let (setup, out) = checks::run_one(&case);
        checks::accounting::check(&case, &setup, &out);
    }
}
