//! A run's headline figures as plain numbers, scaled to the whole fleet: what capacity plans,
//! sweeps and sensitivity analyses compare and what their targets are checked against.
//!
//! Two power figures, because planners ask two questions. `power_mw_installed` is what the
//! site must be built for: every device that may be provisioned at TDP, times PUE (the
//! figure a power cap constrains). `power_mw_peak_hour` is the busiest simulated hour's average
//! draw at the facility meter.

use serde::{Deserialize, Serialize};

use crate::run::RunOutput;
use tokenfleet_serving::ledger::PoolHourCost;
use tokenfleet_setup::Setup;

/// Fleet-level figures of one run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    pub calls_completed: f64,
    pub calls_rejected: f64,
    /// Rejected calls / calls generated.
    pub rejected_share: f64,
    pub tokens: f64,
    pub ttft_p99_s: f64,
    pub tpot_p99_s: f64,
    pub e2e_p99_s: f64,
    /// Billed itemized revenue after SLA refunds.
    pub revenue_itemized_usd: f64,
    pub revenue_blended_usd: f64,
    pub cost_usd: f64,
    pub hardware_usd: f64,
    pub energy_usd: f64,
    pub energy_kwh: f64,
    pub margin_itemized_usd: f64,
    pub margin_blended_usd: f64,
    /// Busy share of provisioned replica-time.
    pub utilization: f64,
    /// Most devices the cluster may provision.
    pub devices: u64,
    /// What those devices cost to buy (catalog or scenario price), whether rented or owned.
    pub purchase_value_usd: f64,
    pub power_mw_installed: f64,
    pub power_mw_peak_hour: f64,
    pub cost_usd_per_mtok: f64,
}

fn scaled(x: u64, (num, den): (u64, u64)) -> f64 {
    x as f64 * num as f64 / den.max(1) as f64
}

/// The headline of `run`.
pub fn headline(setup: &Setup, run: &RunOutput) -> Headline {
    let ds = run.demand_scale(setup);
    let total = run.ledger.total();
    let (mut hardware, mut energy, mut energy_mj) = (0.0, 0.0, 0.0);
    let mut peak_hour_mj = vec![0.0; setup.hours];
    for (p, _) in setup.pools.iter().enumerate() {
        let (num, den) = run.pool_scale(setup, p);
        let s = num as f64 / den.max(1) as f64;
        for (h, slot) in peak_hour_mj.iter_mut().enumerate() {
            let c = PoolHourCost::of(run.ledger.row(p, h), &setup.pools[p], h);
            hardware += c.hardware.usd() * s;
            energy += c.energy.usd() * s;
            energy_mj += c.energy_mj as f64 * s;
            *slot += c.energy_mj as f64 * s;
        }
    }
    let devices: u64 = setup
        .pools
        .iter()
        .map(|p| p.replicas_max * p.perf.devices as u64)
        .sum();
    let purchase_value_usd = setup
        .pools
        .iter()
        .map(|p| {
            let per_device = p
                .cost
                .capex_per_device()
                .or(p.hardware.price_usd)
                .unwrap_or(0.0);
            per_device * (p.replicas_max * p.perf.devices as u64) as f64
        })
        .sum();
    let power_mw_installed = setup
        .pools
        .iter()
        .map(|p| (p.replicas_max * p.perf.devices as u64) as f64 * p.hardware.tdp_w * p.pue / 1e6)
        .sum();
    // mJ in an hour / 3.6e9 ms = W; a full hour's row only (the last may be partial).
    let hour_ms = 3.6e9;
    let power_mw_peak_hour = peak_hour_mj
        .iter()
        .map(|mj| mj / hour_ms / 1e6)
        .fold(0.0, f64::max);
    let penalty = total.penalty.usd();
    let revenue_itemized =
        (total.revenue_itemized().usd() - penalty) * ds.0 as f64 / ds.1.max(1) as f64;
    let revenue_blended = scaled(1, ds) * total.revenue_blended.usd();
    let cost = hardware + energy;
    let tokens = scaled(total.input_uncached + total.input_cached + total.output, ds);
    let q = |h: &hdrhistogram::Histogram<u64>, p: f64| {
        if h.is_empty() {
            0.0
        } else {
            h.value_at_quantile(p) as f64 / 1e6
        }
    };
    let generated = run.tally.calls_generated.max(1) as f64;
    Headline {
        calls_completed: scaled(total.calls_completed, ds),
        calls_rejected: scaled(total.calls_rejected, ds),
        rejected_share: run.tally.calls_rejected as f64 / generated,
        tokens,
        ttft_p99_s: q(&total.ttft_us, 0.99),
        tpot_p99_s: q(&total.tpot_us, 0.99),
        e2e_p99_s: q(&total.e2e_us, 0.99),
        revenue_itemized_usd: revenue_itemized,
        revenue_blended_usd: revenue_blended,
        cost_usd: cost,
        hardware_usd: hardware,
        energy_usd: energy,
        energy_kwh: energy_mj / 3.6e9,
        margin_itemized_usd: revenue_itemized - cost,
        margin_blended_usd: revenue_blended - cost,
        utilization: if total.provisioned_ns > 0 {
            total.busy_ns as f64 / total.provisioned_ns as f64
        } else {
            0.0
        },
        devices,
        purchase_value_usd,
        power_mw_installed,
        power_mw_peak_hour,
        cost_usd_per_mtok: if tokens > 0.0 {
            cost / (tokens / 1e6)
        } else {
            0.0
        },
    }
}
