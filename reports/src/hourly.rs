//! hourly.csv: one row per simulated hour and pool, scaled to the whole fleet.
//!
//! The rows are built once by [`rows`] and are also what the charts plot (see
//! [`crate::charts`]), so every number in a chart can be checked against this file. `tokenfleet
//! compare` reads the file back with [`read`] into the same [`HourRow`]s, so a chart drawn from a
//! run directory is the chart the run drew.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tokenfleet_fleet::run::RunOutput;
use tokenfleet_setup::Setup;

use crate::error::ReportError;
use crate::formats::{read_csv, write_csv};
use crate::num::{div, round, usd};
use crate::report::{Report, ReportContext};
use tokenfleet_fleet::scale::{row_cost, scale_u64};

pub struct HourlyCsv;

/// One (hour, pool) row of hourly.csv.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HourRow {
    pub hour: usize,
    pub pool: String,
    /// Mean replicas provisioned in the hour (whole pool).
    pub replicas: f64,
    pub calls_arrived: u64,
    pub calls_completed: u64,
    pub calls_rejected: u64,
    pub calls_rate_limited: u64,
    pub preemptions: u64,
    pub input_uncached: u64,
    pub input_cached: u64,
    pub output: u64,
    /// Input tokens a prefix cache could have served (shared with the agent's previous call).
    pub input_reusable: u64,
    pub utilization: f64,
    pub active: f64,
    /// KV held by running calls and retained prefixes, share of capacity.
    pub kv_occupancy: f64,
    /// KV held by running calls only.
    pub kv_running: f64,
    /// Cached input / reusable input.
    pub prefix_hit_rate: f64,
    pub queue_mean: f64,
    pub revenue_itemized_usd: f64,
    pub revenue_input_uncached_usd: f64,
    pub revenue_input_cached_usd: f64,
    pub revenue_output_usd: f64,
    pub revenue_blended_usd: f64,
    pub cost_hardware_usd: f64,
    pub cost_energy_usd: f64,
    pub cost_total_usd: f64,
    pub energy_kwh: f64,
    pub ttft_p50_s: f64,
    pub ttft_p99_s: f64,
    pub e2e_p50_s: f64,
    pub e2e_p99_s: f64,
}

fn ratio(a: u128, b: u128) -> f64 {
    round(div(a as f64, b as f64), 6)
}

fn q(h: &hdrhistogram::Histogram<u64>, p: f64) -> f64 {
    if h.is_empty() {
        0.0
    } else {
        h.value_at_quantile(p) as f64 / 1e6
    }
}

/// The rows of hourly.csv, hour by hour and, within an hour, pool by pool.
pub fn rows(setup: &Setup, run: &RunOutput) -> Vec<HourRow> {
    let ds = run.demand_scale(setup);
    let mut out = Vec::with_capacity(setup.hours * setup.pools.len());
    for h in 0..setup.hours {
        for (p, pool) in setup.pools.iter().enumerate() {
            let r = run.ledger.row(p, h);
            let c = row_cost(setup, run, p, h);
            let prov = r.provisioned_ns.max(1);
            let kv_area = prov * pool.perf.kv_capacity_tokens as u128;
            let (num, den) = run.pool_scale(setup, p);
            let replicas = r.provisioned_ns as f64 / 3_600e9 * num as f64 / den.max(1) as f64;
            out.push(HourRow {
                hour: h,
                pool: pool.name.clone(),
                replicas: round(replicas, 3),
                calls_arrived: scale_u64(r.calls_arrived, ds),
                calls_completed: scale_u64(r.calls_completed, ds),
                calls_rejected: scale_u64(r.calls_rejected, ds),
                calls_rate_limited: scale_u64(r.calls_rate_limited, ds),
                preemptions: scale_u64(r.preemptions, ds),
                input_uncached: scale_u64(r.input_uncached, ds),
                input_cached: scale_u64(r.input_cached, ds),
                output: scale_u64(r.output, ds),
                input_reusable: scale_u64(r.reusable, ds),
                utilization: ratio(r.busy_ns, prov),
                active: ratio(r.active_ns, prov),
                kv_occupancy: ratio(r.kv_used_area + r.kv_retained_area, kv_area),
                kv_running: ratio(r.kv_used_area, kv_area),
                prefix_hit_rate: ratio(r.input_cached as u128, r.reusable as u128),
                queue_mean: ratio(r.queue_area, prov),
                revenue_itemized_usd: usd(r.revenue_itemized().scale(ds.0, ds.1)),
                revenue_input_uncached_usd: usd(r.revenue_uncached.scale(ds.0, ds.1)),
                revenue_input_cached_usd: usd(r.revenue_cached.scale(ds.0, ds.1)),
                revenue_output_usd: usd(r.revenue_output.scale(ds.0, ds.1)),
                revenue_blended_usd: usd(r.revenue_blended.scale(ds.0, ds.1)),
                cost_hardware_usd: usd(c.hardware),
                cost_energy_usd: usd(c.energy),
                cost_total_usd: usd(c.total()),
                energy_kwh: round(c.energy_mj as f64 / 3.6e9, 3),
                ttft_p50_s: q(&r.ttft_us, 0.5),
                ttft_p99_s: q(&r.ttft_us, 0.99),
                e2e_p50_s: q(&r.e2e_us, 0.5),
                e2e_p99_s: q(&r.e2e_us, 0.99),
            });
        }
    }
    out
}

/// Reads hourly.csv back (for `tokenfleet compare`). A file from another version of tokenfleet
/// (a column missing or of another type) is an error naming the file, the line and the column.
pub fn read(path: &Path) -> Result<Vec<HourRow>, ReportError> {
    read_csv(path)
}

impl Report for HourlyCsv {
    fn file_name(&self) -> &'static str {
        "hourly.csv"
    }
    fn write(&self, ctx: &ReportContext, out: &mut dyn Write) -> Result<(), ReportError> {
        write_csv("hourly.csv", rows(ctx.setup, ctx.run), out)
    }
}
