//! What the price-table importers share: their error, and each imported figure sourced to the
//! table and entry it came from, so an imported sheet cites its origin like a catalog sheet.

use crate::hardware::{Source, Sourced};
use crate::units::UsdPerMTok;

/// Why a public price table could not be imported.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{what}: {reason}")]
pub struct ImportError {
    pub what: String,
    pub reason: String,
}

/// Why an imported figure cannot be a price.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error(
    "price ${0}/M is not a finite number from 0 to the ${max}/M accepted",
    max = crate::units::MAX_USD_PER_MTOK
)]
pub(super) struct InvalidPrice(f64);

pub(super) fn sourced(
    usd_per_mtok: f64,
    source: &str,
) -> Result<Sourced<UsdPerMTok>, InvalidPrice> {
    if !(usd_per_mtok.is_finite() && (0.0..=crate::units::MAX_USD_PER_MTOK).contains(&usd_per_mtok))
    {
        return Err(InvalidPrice(usd_per_mtok));
    }
    Ok(Sourced {
        value: UsdPerMTok::new(usd_per_mtok),
        source: Some(Source {
            source: source.to_string(),
            date: String::new(),
        }),
    })
}
