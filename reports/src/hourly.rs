//! hourly.csv: one row per simulated hour and pool, scaled to the whole fleet.

use std::io::Write;

use serde::Serialize;

use crate::summary::{row_cost, scale_u64, usd};
use crate::{Report, ReportContext, ReportError};

pub struct HourlyCsv;

#[derive(Serialize)]
struct Row<'a> {
    hour: usize,
    pool: &'a str,
    /// Mean replicas provisioned in the hour (whole pool).
    replicas: f64,
    calls_arrived: u64,
    calls_completed: u64,
    calls_rejected: u64,
    calls_rate_limited: u64,
    preemptions: u64,
    input_uncached: u64,
    input_cached: u64,
    output: u64,
    utilization: f64,
    active: f64,
    kv_occupancy: f64,
    queue_mean: f64,
    revenue_itemized_usd: f64,
    revenue_blended_usd: f64,
    cost_hardware_usd: f64,
    cost_energy_usd: f64,
    cost_total_usd: f64,
    energy_kwh: f64,
    ttft_p50_s: f64,
    ttft_p99_s: f64,
    e2e_p50_s: f64,
    e2e_p99_s: f64,
}

fn ratio(a: u128, b: u128) -> f64 {
    if b == 0 {
        0.0
    } else {
        ((a as f64 / b as f64) * 1e6).round() / 1e6
    }
}

fn q(h: &hdrhistogram::Histogram<u64>, p: f64) -> f64 {
    if h.is_empty() {
        0.0
    } else {
        h.value_at_quantile(p) as f64 / 1e6
    }
}

impl Report for HourlyCsv {
    fn file_name(&self) -> &'static str {
        "hourly.csv"
    }
    fn write(&self, ctx: &ReportContext, out: &mut dyn Write) -> Result<(), ReportError> {
        let err = |e: csv::Error| ReportError::Format {
            file: "hourly.csv",
            message: e.to_string(),
        };
        let (setup, run) = (ctx.setup, ctx.run);
        let ds = run.demand_scale(setup);
        let mut w = csv::Writer::from_writer(out);
        for h in 0..setup.hours {
            for (p, pool) in setup.pools.iter().enumerate() {
                let r = run.ledger.row(p, h);
                let c = row_cost(setup, run, p, h);
                let prov = r.provisioned_ns.max(1);
                w.serialize(Row {
                    hour: h,
                    pool: &pool.name,
                    replicas: {
                        let (num, den) = run.pool_scale(setup, p);
                        let r =
                            r.provisioned_ns as f64 / (3_600e9) * num as f64 / den.max(1) as f64;
                        (r * 1e3).round() / 1e3
                    },
                    calls_arrived: scale_u64(r.calls_arrived, ds),
                    calls_completed: scale_u64(r.calls_completed, ds),
                    calls_rejected: scale_u64(r.calls_rejected, ds),
                    calls_rate_limited: scale_u64(r.calls_rate_limited, ds),
                    preemptions: scale_u64(r.preemptions, ds),
                    input_uncached: scale_u64(r.input_uncached, ds),
                    input_cached: scale_u64(r.input_cached, ds),
                    output: scale_u64(r.output, ds),
                    utilization: ratio(r.busy_ns, prov),
                    active: ratio(r.active_ns, prov),
                    kv_occupancy: ratio(
                        r.kv_used_area + r.kv_retained_area,
                        prov * pool.perf.kv_capacity_tokens as u128,
                    ),
                    queue_mean: ratio(r.queue_area, prov),
                    revenue_itemized_usd: usd(r.revenue_itemized().scale(ds.0, ds.1)),
                    revenue_blended_usd: usd(r.revenue_blended.scale(ds.0, ds.1)),
                    cost_hardware_usd: usd(c.hardware),
                    cost_energy_usd: usd(c.energy),
                    cost_total_usd: usd(c.total()),
                    energy_kwh: (c.energy_mj as f64 / 3.6e9 * 1e3).round() / 1e3,
                    ttft_p50_s: q(&r.ttft_us, 0.5),
                    ttft_p99_s: q(&r.ttft_us, 0.99),
                    e2e_p50_s: q(&r.e2e_us, 0.5),
                    e2e_p99_s: q(&r.e2e_us, 0.99),
                })
                .map_err(err)?;
            }
        }
        w.flush().map_err(|e| err(e.into()))
    }
}
