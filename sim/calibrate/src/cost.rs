//! What a device costs by the hour when no scenario says: its catalog rent, else its catalog
//! price written off straight-line over [`DEPRECIATION_YEARS`] (no overhead, no cost of
//! capital), and what that makes a million output tokens. Devices sold but not rented (the
//! LPU, some accelerators) are costed this way by `tokenfleet perf`.
//!
//! The scenario parser has the same 5-year default for owned devices (sim/scenario:
//! `default_depreciation` in lib.rs and the catalog-price fallback in resolve.rs); the one
//! constant belongs in tokenfleet-setup (sim/setup/src/cost.rs, beside `CostMode`), which
//! both crates depend on.

use tokenfleet_models::Hardware;

/// Straight-line depreciation when a device has a price but no rent (REFERENCE.md §7:
/// 5 years is the sensible default).
pub const DEPRECIATION_YEARS: f64 = 5.0;

/// USD per device-hour of `hw`: its rent, else its price over [`DEPRECIATION_YEARS`]; `None`
/// if the catalog has neither.
pub fn usd_per_device_hour(hw: &Hardware) -> Option<f64> {
    hw.rent.map(|x| x.usd_per_hour).or_else(|| {
        hw.price_usd
            .map(|p| p / (DEPRECIATION_YEARS * 365.25 * 24.0))
    })
}

/// USD per million output tokens of a replica of `devices` devices at `usd_per_device_hour`
/// each that produces `output_tokens_per_s`.
pub fn usd_per_million_output_tokens(
    usd_per_device_hour: f64,
    devices: u32,
    output_tokens_per_s: f64,
) -> f64 {
    usd_per_device_hour * devices as f64 / 3600.0 / output_tokens_per_s.max(1e-12) * 1e6
}
