//! From the simulated cells to the whole fleet: demand-side figures (calls, tokens, revenue)
//! scale by fleet agents / simulated agents, a pool's cost and energy by its replicas /
//! simulated replicas (see [`crate::run`]).
//!
//! The headline figures ([`crate::metrics`]), summary.json, hourly.csv and the economics block
//! all scale through these functions, so their fleet totals agree.

use crate::run::RunOutput;
use tokenfleet_serving::ledger::PoolHourCost;
use tokenfleet_setup::Setup;

/// `x * num / den`, rounded to the nearest integer.
pub fn scale_u64(x: u64, (num, den): (u64, u64)) -> u64 {
    let n = x as u128 * num as u128;
    ((2 * n + den as u128) / (2 * den as u128)) as u64
}

/// The factor `num / den` (a zero `den` read as 1).
pub fn scale_f((num, den): (u64, u64)) -> f64 {
    num as f64 / den.max(1) as f64
}

/// Cost of pool `pool`'s row for `hour`, scaled to the whole pool.
pub fn row_cost(setup: &Setup, run: &RunOutput, pool: usize, hour: usize) -> PoolHourCost {
    let c = PoolHourCost::of(run.ledger.row(pool, hour), &setup.pools[pool], hour);
    let s = run.pool_scale(setup, pool);
    PoolHourCost {
        hardware: c.hardware.scale(s.0, s.1),
        energy: c.energy.scale(s.0, s.1),
        energy_mj: (c.energy_mj * s.0 as u128 + s.1 as u128 / 2) / s.1 as u128,
    }
}
