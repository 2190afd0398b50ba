//! The per-pool block of summary.json: each pool's shape, how busy it was, its queueing
//! figures (Little's law) and its cost and energy, scaled to the whole pool.

use tokenfleet_fleet::metrics::RunCost;
use tokenfleet_fleet::run::RunOutput;
use tokenfleet_setup::Setup;

use super::types::{Cost, PoolSummary};
use crate::num::{div, round, usd};
use tokenfleet_fleet::scale::{scale_f, scale_u64};

/// The per-pool block, from each pool's cost as `tokenfleet_fleet::metrics::cost` sums it.
pub(super) fn pool_summaries(setup: &Setup, run: &RunOutput, cost: &RunCost) -> Vec<PoolSummary> {
    let ds = run.demand_scale(setup);
    let mut pools = Vec::new();
    let horizon_ns = setup.horizon.ns() as f64;
    for (p, pool) in setup.pools.iter().enumerate() {
        let (hw, en, mj) = (
            cost.pools[p].hardware,
            cost.pools[p].energy,
            cost.pools[p].energy_mj,
        );
        let pt = run.ledger.pool_total(p);
        let prov = pt.provisioned_ns as f64;
        pools.push(PoolSummary {
            name: pool.name.clone(),
            hardware: pool.hardware.id.clone(),
            model: setup.served[pool.model].id.clone(),
            replicas: pool.replicas,
            replicas_mean: round(
                div(prov, setup.horizon.ns() as f64) * scale_f(run.pool_scale(setup, p)),
                3,
            ),
            replicas_max: pool.replicas_max,
            devices: pool.devices(),
            devices_per_replica: pool.perf.devices,
            tp: pool.perf.shape.tp,
            pp: pool.perf.shape.pp,
            weights: pool.perf.shape.weights.to_string(),
            kv_cache: pool.perf.shape.kv.to_string(),
            kv_capacity_tokens: pool.perf.kv_capacity_tokens,
            cost_mode: pool.cost,
            utilization: round(div(pt.busy_ns as f64, prov), 6),
            active: round(div(pt.active_ns as f64, prov), 6),
            kv_occupancy: round(
                div(
                    (pt.kv_used_area + pt.kv_retained_area) as f64,
                    prov * pool.perf.kv_capacity_tokens as f64,
                ),
                6,
            ),
            kv_running: round(
                div(
                    pt.kv_used_area as f64,
                    prov * pool.perf.kv_capacity_tokens as f64,
                ),
                6,
            ),
            queue_mean: round(div(pt.queue_area as f64, prov), 6),
            kv_peak: round(
                div(
                    pt.kv_peak_tokens as f64,
                    pool.perf.kv_capacity_tokens as f64,
                ),
                6,
            ),
            mean_in_system: round(div(pt.in_system_area as f64, horizon_ns) * scale_f(ds), 6),
            arrival_rate_per_s: round(
                div(
                    (pt.calls_arrived - pt.calls_rejected) as f64,
                    horizon_ns / 1e9,
                ) * scale_f(ds),
                6,
            ),
            mean_time_in_system_s: round(
                div(pt.e2e_sum_ns as f64 / 1e9, pt.calls_completed as f64),
                6,
            ),
            calls_completed: scale_u64(pt.calls_completed, ds),
            calls_rejected: scale_u64(pt.calls_rejected, ds),
            calls_in_flight: scale_u64(pt.in_flight, ds),
            calls_rate_limited: scale_u64(pt.calls_rate_limited, ds),
            preemptions: scale_u64(pt.preemptions, ds),
            recompute_share: round(
                div(
                    pt.prefill_tokens.saturating_sub(pt.input_uncached) as f64,
                    pt.prefill_tokens as f64,
                ),
                6,
            ),
            cost_usd: Cost {
                total: usd(hw + en),
                hardware: usd(hw),
                energy: usd(en),
            },
            energy_kwh: round(mj as f64 / 3.6e9, 3),
            power_w_per_device: round(
                pool.power.power_at_share(div(pt.powered_ns as f64, prov)),
                1,
            ),
        });
    }
    pools
}
