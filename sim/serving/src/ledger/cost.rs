//! The cost of a ledger row: hardware and energy, priced once at the end of the run.
//!
//! Nothing is posted as money while simulating: the row's integer provisioned and powered
//! replica-nanoseconds are multiplied by the pool's prices here, which is the same sum over
//! device-intervals done once, rounded once to the pico-dollar.

use super::pool_hour::PoolHour;
use tokenfleet_models::Money;
use tokenfleet_setup::Pool;

/// The cost of one (pool, hour) row: hardware from provisioned device-time, energy from the
/// power model over provisioned and active time, each rounded once to the pico-dollar. Energy is
/// always measured (`energy_mj`) but billed only when the pool pays for its power.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PoolHourCost {
    pub hardware: Money,
    pub energy: Money,
    /// Facility energy (after PUE), millijoules.
    pub energy_mj: u128,
}

impl PoolHourCost {
    /// The cost of `row`, the pool's row for simulated `hour`.
    pub fn of(row: &PoolHour, pool: &Pool, hour: usize) -> PoolHourCost {
        let devices = pool.perf.devices as u128;
        let hardware = pool.device_rate.over_ns(row.provisioned_ns * devices);
        // Idle power whenever provisioned, plus the dynamic part of the power curve.
        let joules_device = pool.power.idle_w * (row.provisioned_ns as f64 / 1e9)
            + pool.power.dynamic_joules(row.powered_ns as f64 / 1e9);
        let energy_mj = (joules_device * devices as f64 * pool.pue * 1000.0).round() as u128;
        // pico$/kWh * mJ / (3.6e9 mJ/kWh), rounded to the nearest pico-dollar. Rented devices'
        // hourly price already includes their power, so it is counted but not billed again.
        let energy = if pool.pay_energy {
            Money::from_pico(
                (pool.electricity_pico_per_kwh[hour % 24] * energy_mj as i128 + 1_800_000_000)
                    / 3_600_000_000,
            )
        } else {
            Money::ZERO
        };
        PoolHourCost {
            hardware,
            energy,
            energy_mj,
        }
    }

    pub fn total(&self) -> Money {
        self.hardware + self.energy
    }
}
