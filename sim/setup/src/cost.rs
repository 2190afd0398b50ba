//! How a pool's devices are paid for: rented by the device-hour, or bought and depreciated
//! with a capital charge.

use serde::Serialize;

/// How long an owned device is written off over when nothing says otherwise: a scenario's
/// `own` without `depreciation`, a device with a catalog price but no rent, and `tokenfleet
/// perf` (docs/REFERENCE.md §7: 5 years is the sensible default; some argue 3).
pub const DEFAULT_DEPRECIATION_YEARS: f64 = 5.0;

/// How a pool's devices are paid for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum CostMode {
    Rent {
        usd_per_device_hour: f64,
    },
    Own {
        price_usd: f64,
        depreciation_years: f64,
        overhead: f64,
        cost_of_capital: f64,
    },
}

impl CostMode {
    /// Hardware cost per device-hour, USD.
    pub fn usd_per_device_hour(&self) -> f64 {
        match *self {
            CostMode::Rent {
                usd_per_device_hour,
            } => usd_per_device_hour,
            CostMode::Own {
                price_usd,
                depreciation_years,
                overhead,
                cost_of_capital,
            } => {
                price_usd * (1.0 + overhead) * capital_recovery(cost_of_capital, depreciation_years)
                    / (365.25 * 24.0)
            }
        }
    }
    /// Capex per device (owned) including overhead, USD.
    pub fn capex_per_device(&self) -> Option<f64> {
        match *self {
            CostMode::Own {
                price_usd,
                overhead,
                ..
            } => Some(price_usd * (1.0 + overhead)),
            CostMode::Rent { .. } => None,
        }
    }
}

/// The capital recovery factor: the yearly payment that repays 1 over `years` at rate `r`
/// (1/years without interest).
pub fn capital_recovery(r: f64, years: f64) -> f64 {
    if r <= 0.0 {
        1.0 / years
    } else {
        r / (1.0 - (1.0 + r).powf(-years))
    }
}
