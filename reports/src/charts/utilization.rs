//! Utilization per pool over the day: the share of provisioned replica-time spent iterating a
//! batch, hour by hour.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::ChartRun;
use super::error::{Drawn, err};
use super::kind::ChartKind;
use super::style::{
    Key, Mark, Theme, axes, builder, clock, color, hour_axis, line, pct_tick, run_header, steps,
};

// Every chart draws with this signature (charts/draw.rs dispatches on the kind); only the
// bodies differ.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    t: &Theme,
    runs: &[ChartRun],
) -> Drawn {
    let pools = all_pools(runs);
    let keys: Vec<Key> = pools
        .iter()
        .enumerate()
        .map(|(i, p)| Key::new(format!("pool {p}"), color(i), Mark::Line))
        .collect();
    let area = run_header(
        root,
        t,
        ChartKind::Utilization,
        "Busy share of provisioned replica-time, hour by hour (100% = every replica iterating all hour)",
        keys,
        runs,
    )?;
    let hours = ChartRun::max_hours(runs);
    let mut chart = builder(&area, t, None, 64.0)
        .build_cartesian_2d(hour_axis(hours, 13), 0.0..105.0)
        .map_err(err)?;
    axes(
        &mut chart,
        t,
        "hour of day (UTC)",
        "utilization (%)",
        13,
        8,
        &clock,
        &pct_tick,
    )?;
    for (ri, run) in runs.iter().enumerate() {
        for (pi, p) in pools.iter().enumerate() {
            let pts = steps(run.pool(p, |r| r.utilization * 100.0));
            line(&mut chart, t, pts, color(pi), ri > 0)?;
        }
    }
    Ok(())
}

/// Pools of all runs, in order of first appearance (colors stay the same across runs).
pub fn all_pools(runs: &[ChartRun]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in runs {
        for p in r.pools() {
            if !out.iter().any(|q| q == p) {
                out.push(p.to_string());
            }
        }
    }
    out
}
