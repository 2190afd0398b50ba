//! What a device costs by the hour when no scenario says: its catalog rent, else its catalog
//! price written off straight-line over [`DEPRECIATION_YEARS`] (no overhead, no cost of
//! capital), and what that makes a million output tokens. Devices sold but not rented (the
//! LPU, some accelerators) are costed this way by `tokenfleet perf`.
//!
//! The write-off period is the scenario parser's default too
//! ([`tokenfleet_setup::DEFAULT_DEPRECIATION_YEARS`]).

use tokenfleet_models::Hardware;

/// Straight-line depreciation when a device has a price but no rent.
pub const DEPRECIATION_YEARS: f64 = tokenfleet_setup::DEFAULT_DEPRECIATION_YEARS;

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

#[cfg(test)]
mod tests {
    use super::*;
    use tokenfleet_models::Catalog;

    #[test]
    fn a_device_costs_its_rent_else_its_price_over_five_years() {
        let c = Catalog::builtin().unwrap();
        let h100 = c.hardware("h100-sxm").unwrap();
        assert_eq!(
            usd_per_device_hour(h100),
            Some(h100.rent.unwrap().usd_per_hour)
        );
        let lpu = c.hardware("groq-lpu").unwrap();
        assert!(lpu.rent.is_none());
        let hourly = usd_per_device_hour(lpu).unwrap();
        let five_years_h = 5.0 * 365.25 * 24.0;
        assert!((hourly * five_years_h - lpu.price_usd.unwrap()).abs() < 1e-6);
        // $2/h for 8 devices making 1000 tokens/s: $16 per 3.6 M tokens.
        let per_m = usd_per_million_output_tokens(2.0, 8, 1000.0);
        assert!((per_m - 16.0 / 3.6).abs() < 1e-12, "{per_m}");
    }
}
