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

pub(super) fn sourced(usd_per_mtok: f64, source: &str) -> Result<Sourced<UsdPerMTok>, String> {
    if !(usd_per_mtok.is_finite() && usd_per_mtok >= 0.0) {
        return Err(format!(
            "price {usd_per_mtok} is not a finite non-negative number"
        ));
    }
    Ok(Sourced {
        value: UsdPerMTok::new(usd_per_mtok),
        source: Some(Source {
            source: source.to_string(),
            date: String::new(),
        }),
    })
}
