//! Latency per hour, per pool: time to first token and end-to-end time of the calls completed
//! in each hour, p50 and p99, on log axes (p99 is often ten times p50 or more).

use plotters::coord::Shift;
use plotters::coord::combinators::IntoLogRange;
use plotters::prelude::*;

use super::data::ChartRun;
use super::error::{Drawn, err};
use super::kind::ChartKind;
use super::style::{
    Key, Mark, Theme, axes, builder, clock, decades, hour_axis, line, pool_color, run_header,
    secs_tick, step_segments,
};
use super::utilization::all_pools;
use crate::hourly::HourRow;

type Pct = (&'static str, fn(&HourRow) -> f64);

const TTFT: [Pct; 2] = [("p50", |r| r.ttft_p50_s), ("p99", |r| r.ttft_p99_s)];
const E2E: [Pct; 2] = [("p50", |r| r.e2e_p50_s), ("p99", |r| r.e2e_p99_s)];

/// p99 is the pool's color, p50 a lighter shade of it (with one pool: blue and orange).
fn shade(pools: usize, pool: usize, q: usize) -> RGBColor {
    pool_color(pools, pool, if pools > 1 { 1 - q } else { q })
}

// Every chart draws with this signature (charts/draw.rs dispatches on the kind); only the
// bodies differ.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    t: &Theme,
    runs: &[ChartRun],
) -> Drawn {
    let pools = all_pools(runs);
    let mut keys = Vec::new();
    for (pi, p) in pools.iter().enumerate() {
        for (qi, (q, _)) in TTFT.iter().enumerate() {
            let label = if pools.len() > 1 {
                format!("{p} {q}")
            } else {
                q.to_string()
            };
            keys.push(Key::new(label, shade(pools.len(), pi, qi), Mark::Line));
        }
    }
    let area = run_header(
        root,
        t,
        ChartKind::Latency,
        "Percentiles of the calls completed in each hour, seconds on a log scale",
        keys,
        runs,
    )?;
    let (left, right) = area.split_horizontally(area.dim_in_pixel().0 / 2);
    panel(&left, t, runs, &pools, "Time to first token", &TTFT)?;
    panel(&right, t, runs, &pools, "End-to-end time", &E2E)
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    t: &Theme,
    runs: &[ChartRun],
    pools: &[String],
    caption: &str,
    pcts: &[Pct; 2],
) -> Drawn {
    let hours = ChartRun::max_hours(runs);
    let all = runs
        .iter()
        .flat_map(|r| r.rows.iter())
        .flat_map(|r| pcts.iter().map(move |(_, f)| f(r)));
    let range = decades(all);
    let mut chart = builder(area, t, Some(caption), 70.0)
        .build_cartesian_2d(hour_axis(hours, 7), range.log_scale())
        .map_err(err)?;
    axes(
        &mut chart,
        t,
        "hour of day (UTC)",
        "seconds",
        7,
        10,
        &clock,
        &secs_tick,
    )?;
    for (ri, run) in runs.iter().enumerate() {
        for (pi, p) in pools.iter().enumerate() {
            for (qi, (_, f)) in pcts.iter().enumerate() {
                for seg in step_segments(run.pool(p, *f)) {
                    line(&mut chart, t, seg, shade(pools.len(), pi, qi), ri > 0)?;
                }
            }
        }
    }
    Ok(())
}
