//! Test helpers shared by the price tests.

use super::sheet::{PriceSheet, Usage};
use super::spec::PriceSheetSpec;

pub(super) fn sheet(s: &str) -> PriceSheet {
    toml::from_str::<PriceSheetSpec>(s)
        .unwrap()
        .resolve()
        .unwrap()
}

pub(super) fn usage(uncached: u64, cached: u64, output: u64) -> Usage {
    Usage {
        input_uncached: uncached,
        input_cached: cached,
        output,
        reasoning: 0,
    }
}
