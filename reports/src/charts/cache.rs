//! KV cache occupancy and prefix-cache hit rate per hour, per pool. Occupancy counts the KV
//! held by running calls and by retained prefixes (agents' contexts kept for their next call);
//! the hit rate is cached input over the input a prefix cache could have served.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::ChartRun;
use super::error::{Drawn, err};
use super::kind::ChartKind;
use super::style::{
    Key, Mark, Theme, axes, builder, clock, color, hour_axis, line, pct_tick, pool_color,
    run_header, steps,
};
use super::utilization::all_pools;
use crate::hourly::HourRow;

type Metric = (&'static str, fn(&HourRow) -> f64);

const KV: [Metric; 2] = [
    ("KV in use (running + retained)", |r| r.kv_occupancy * 100.0),
    ("KV of running calls", |r| r.kv_running * 100.0),
];
const HIT: [Metric; 1] = [("prefix-cache hit rate", |r| r.prefix_hit_rate * 100.0)];

// Every chart draws with this signature (charts/draw.rs dispatches on the kind); only the
// bodies differ.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    t: &Theme,
    runs: &[ChartRun],
) -> Drawn {
    let pools = all_pools(runs);
    let mut keys = Vec::new();
    if pools.len() > 1 {
        for (pi, p) in pools.iter().enumerate() {
            keys.push(Key::new(
                format!("{p}: KV in use, hit rate"),
                pool_color(pools.len(), pi, 0),
                Mark::Line,
            ));
            keys.push(Key::new(
                format!("{p}: KV of running calls"),
                pool_color(pools.len(), pi, 1),
                Mark::Line,
            ));
        }
    } else {
        for (mi, (m, _)) in KV.iter().chain(&HIT).enumerate() {
            keys.push(Key::new(*m, color(mi), Mark::Line));
        }
    }
    let area = run_header(
        root,
        t,
        ChartKind::Cache,
        "Per pool and hour: KV occupancy as a share of KV capacity; hit rate as cached / reusable input",
        keys,
        runs,
    )?;
    let (left, right) = area.split_horizontally(area.dim_in_pixel().0 / 2);
    panel(&left, t, runs, &pools, "KV cache occupancy", &KV, 0)?;
    panel(
        &right,
        t,
        runs,
        &pools,
        "Prefix-cache hit rate",
        &HIT,
        KV.len(),
    )
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    t: &Theme,
    runs: &[ChartRun],
    pools: &[String],
    caption: &str,
    metrics: &[Metric],
    first_color: usize,
) -> Drawn {
    let hours = ChartRun::max_hours(runs);
    let mut chart = builder(area, t, Some(caption), 64.0)
        .build_cartesian_2d(hour_axis(hours, 7), 0.0..105.0)
        .map_err(err)?;
    axes(
        &mut chart,
        t,
        "hour of day (UTC)",
        "percent",
        7,
        8,
        &clock,
        &pct_tick,
    )?;
    for (ri, run) in runs.iter().enumerate() {
        for (pi, p) in pools.iter().enumerate() {
            for (mi, (_, f)) in metrics.iter().enumerate() {
                let c = if pools.len() > 1 {
                    pool_color(pools.len(), pi, mi)
                } else {
                    color(first_color + mi)
                };
                line(&mut chart, t, steps(run.pool(p, *f)), c, ri > 0)?;
            }
        }
    }
    Ok(())
}
