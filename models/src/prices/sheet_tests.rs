//! Tests of what resolved sheets charge, written as the sheets a scenario would hold.

use super::sheet::Usage;
use super::testing::{sheet, usage};
use crate::money::Money;

#[test]
fn itemized_charge_by_class() {
    let s = sheet(
        "input = \"$5/M\"\ncached_input = \"$0.50/M\"\noutput = \"$25/M\"\nreasoning = \"$30/M\"",
    );
    let c = s.charge(
        &Usage {
            input_uncached: 4_000,
            input_cached: 96_000,
            output: 200,
            reasoning: 100,
        },
        0,
    );
    assert_eq!(c.input_uncached, Money::from_usd(0.02));
    assert_eq!(c.input_cached, Money::from_usd(0.048));
    assert_eq!(c.output, Money::from_usd(0.005));
    assert_eq!(c.reasoning, Money::from_usd(0.003));
}

#[test]
fn long_context_tier_reprices_the_whole_call() {
    let s = sheet(
        "input = \"$5/M\"\ncached_input = \"$0.50/M\"\noutput = \"$25/M\"\n[[tier]]\nabove = \"200k\"\ninput = \"$10/M\"\ncached_input = \"$1/M\"\noutput = \"$37.5/M\"",
    );
    assert_eq!(
        s.charge(&usage(1, 199_999, 0), 0).input_cached,
        Money::from_usd(0.199999 * 0.5)
    );
    let c = s.charge(&usage(1, 200_000, 1_000_000), 0);
    assert_eq!(c.input_cached, Money::from_usd(0.2));
    assert_eq!(c.output, Money::from_usd(37.5));
}

#[test]
fn periods_replace_rates_in_their_window_even_across_midnight() {
    let s = sheet(
        "input = \"$0.27/M\"\noutput = \"$1.10/M\"\n[[period]]\nstart = \"16:30\"\nend = \"00:30\"\ninput = \"$0.135/M\"\noutput = \"$0.55/M\"",
    );
    let at = |h: u32, m: u32| s.charge(&usage(1_000_000, 0, 0), h * 60 + m).input_uncached;
    assert_eq!(at(12, 0), Money::from_usd(0.27));
    assert_eq!(at(16, 30), Money::from_usd(0.135));
    assert_eq!(at(23, 59), Money::from_usd(0.135));
    assert_eq!(at(0, 29), Money::from_usd(0.135));
    assert_eq!(at(0, 30), Money::from_usd(0.27));
}

#[test]
fn missing_cache_price_bills_as_input_and_cache_writes_are_opt_in() {
    let s = sheet("input = \"$0.59/M\"\noutput = \"$0.79/M\"");
    assert_eq!(
        s.charge(&usage(0, 1_000_000, 0), 0).input_cached,
        Money::from_usd(0.59)
    );
    let mut w = sheet("input = \"$5/M\"\ncache_write = \"$6.25/M\"\noutput = \"$25/M\"");
    assert_eq!(
        w.charge(&usage(1_000_000, 0, 0), 0).input_uncached,
        Money::from_usd(5.0)
    );
    w.bill_cache_writes = true;
    assert_eq!(
        w.charge(&usage(1_000_000, 0, 0), 0).input_uncached,
        Money::from_usd(6.25)
    );
}
