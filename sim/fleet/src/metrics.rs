//! A run's headline figures, scaled to the whole fleet, computed in one place: [`cost`] (each
//! pool's and the cluster's hardware, energy and facility energy), [`revenue`] (billed itemized
//! and blended revenue and SLA refunds) and [`headline`], the plain numbers capacity plans,
//! sweeps and sensitivity analyses compare and check their targets against. summary.json is
//! built on the same [`cost`] and [`revenue`], in exact money, so a plan's cost is the cost its
//! run's report shows.
//!
//! Two power figures, because planners ask two questions. `power_mw_installed` is what the
//! site must be built for: every device that may be provisioned at TDP, times PUE (the
//! figure a power cap constrains). `power_mw_peak_hour` is the busiest simulated hour's average
//! draw at the facility meter.

use serde::{Deserialize, Serialize};
use tokenfleet_models::Money;
use tokenfleet_setup::Setup;

use crate::run::RunOutput;
use crate::scale::{row_cost, scale_u64};

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

/// A pool's (or the whole cluster's) cost over the run, scaled to the fleet, in exact money.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cost {
    pub hardware: Money,
    pub energy: Money,
    /// Facility energy (after PUE), millijoules.
    pub energy_mj: u128,
}

impl Cost {
    pub fn total(&self) -> Money {
        self.hardware + self.energy
    }
}

/// What the run cost: per pool, per simulated hour (all pools) and for the whole cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct RunCost {
    pub pools: Vec<Cost>,
    pub hours: Vec<Cost>,
    pub cluster: Cost,
}

/// Each (pool, hour) row's cost scaled to its whole pool, summed by pool, by hour and in all.
pub fn cost(setup: &Setup, run: &RunOutput) -> RunCost {
    let mut pools = vec![Cost::default(); setup.pools.len()];
    let mut hours = vec![Cost::default(); setup.hours];
    for (p, pool) in pools.iter_mut().enumerate() {
        for (h, hour) in hours.iter_mut().enumerate() {
            let c = row_cost(setup, run, p, h);
            for sum in [&mut *pool, &mut *hour] {
                sum.hardware += c.hardware;
                sum.energy += c.energy;
                sum.energy_mj += c.energy_mj;
            }
        }
    }
    let mut cluster = Cost::default();
    for p in &pools {
        cluster.hardware += p.hardware;
        cluster.energy += p.energy;
        cluster.energy_mj += p.energy_mj;
    }
    RunCost {
        pools,
        hours,
        cluster,
    }
}

/// What the fleet's calls earned under the billed price set, scaled to the fleet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Revenue {
    /// Itemized revenue before SLA refunds.
    pub itemized: Money,
    /// SLA refunds of late calls.
    pub penalty: Money,
    pub blended: Money,
}

impl Revenue {
    /// Itemized revenue after SLA refunds: what the fleet is paid.
    pub fn billed(&self) -> Money {
        self.itemized - self.penalty
    }
}

pub fn revenue(setup: &Setup, run: &RunOutput) -> Revenue {
    let (num, den) = run.demand_scale(setup);
    let total = run.ledger.total();
    Revenue {
        itemized: total.revenue_itemized().scale(num, den),
        penalty: total.penalty.scale(num, den),
        blended: total.revenue_blended.scale(num, den),
    }
}

/// A latency quantile of a microsecond histogram, in seconds (0 when empty).
pub fn quantile_s(h: &hdrhistogram::Histogram<u64>, p: f64) -> f64 {
    if h.is_empty() {
        0.0
    } else {
        h.value_at_quantile(p) as f64 / 1e6
    }
}

/// The headline of `run`.
pub fn headline(setup: &Setup, run: &RunOutput) -> Headline {
    let ds = run.demand_scale(setup);
    let total = run.ledger.total();
    let c = cost(setup, run);
    let r = revenue(setup, run);
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
    let power_mw_peak_hour = c
        .hours
        .iter()
        .map(|h| h.energy_mj as f64 / hour_ms / 1e6)
        .fold(0.0, f64::max);
    let revenue_itemized = r.billed().usd();
    let revenue_blended = r.blended.usd();
    let cost = c.cluster.total().usd();
    let tokens = scale_u64(total.input_uncached + total.input_cached + total.output, ds) as f64;
    let generated = run.tally.calls_generated.max(1) as f64;
    Headline {
        calls_completed: scale_u64(total.calls_completed, ds) as f64,
        calls_rejected: scale_u64(total.calls_rejected, ds) as f64,
        rejected_share: run.tally.calls_rejected as f64 / generated,
        tokens,
        ttft_p99_s: quantile_s(&total.ttft_us, 0.99),
        tpot_p99_s: quantile_s(&total.tpot_us, 0.99),
        e2e_p99_s: quantile_s(&total.e2e_us, 0.99),
        revenue_itemized_usd: revenue_itemized,
        revenue_blended_usd: revenue_blended,
        cost_usd: cost,
        hardware_usd: c.cluster.hardware.usd(),
        energy_usd: c.cluster.energy.usd(),
        energy_kwh: c.cluster.energy_mj as f64 / 3.6e9,
        margin_itemized_usd: (r.billed() - c.cluster.total()).usd(),
        margin_blended_usd: (r.blended - c.cluster.total()).usd(),
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
