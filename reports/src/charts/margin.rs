//! Cumulative margin over the day (revenue minus cost, running total at the end of each hour),
//! itemized and blended side by side with their own scales: for agent traffic the blended
//! figure is often an order of magnitude larger and of the other sign.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::ChartRun;
use super::error::{Drawn, err};
use super::kind::ChartKind;
use super::style::{
    Key, Mark, Theme, axes, builder, clock, color, hour_axis, line, run_header, usd_tick,
};
use crate::hourly::HourRow;

const ITEMIZED: usize = 2;
const BLENDED: usize = 0;

/// Running totals at the end of each hour, starting from 0 at 00:00.
pub fn cumulative(run: &ChartRun, revenue: fn(&HourRow) -> f64) -> Vec<(f64, f64)> {
    let rev = run.fleet(revenue);
    let cost = run.fleet(|r| r.cost_total_usd);
    let mut acc = 0.0;
    let mut out = vec![(0.0, 0.0)];
    for (h, (r, c)) in rev.iter().zip(&cost).enumerate() {
        acc += r - c;
        out.push((h as f64 + 1.0, acc));
    }
    out
}

// Every chart draws with this signature (charts/draw.rs dispatches on the kind); only the
// bodies differ.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    t: &Theme,
    runs: &[ChartRun],
) -> Drawn {
    let keys = vec![
        Key::new("itemized margin", color(ITEMIZED), Mark::Line),
        Key::new("blended margin", color(BLENDED), Mark::Line),
        Key::new("break-even", super::style::AXIS, Mark::Line),
    ];
    let area = run_header(
        root,
        t,
        ChartKind::Margin,
        "Revenue minus cost since 00:00 UTC, whole fleet, in US dollars",
        keys,
        runs,
    )?;
    let (left, right) = area.split_horizontally(area.dim_in_pixel().0 / 2);
    panel(
        &left,
        t,
        runs,
        "Itemized pricing",
        |r| r.revenue_itemized_usd,
        ITEMIZED,
    )?;
    panel(
        &right,
        t,
        runs,
        "Blended pricing",
        |r| r.revenue_blended_usd,
        BLENDED,
    )
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    t: &Theme,
    runs: &[ChartRun],
    caption: &str,
    revenue: fn(&HourRow) -> f64,
    c: usize,
) -> Drawn {
    let hours = ChartRun::max_hours(runs);
    let series: Vec<Vec<(f64, f64)>> = runs.iter().map(|r| cumulative(r, revenue)).collect();
    let (lo, hi) = series
        .iter()
        .flatten()
        .fold((0.0f64, 0.0f64), |(lo, hi), &(_, y)| (lo.min(y), hi.max(y)));
    let pad = ((hi - lo) * 0.08).max(1.0);
    let y = (if lo < 0.0 { lo - pad } else { 0.0 })..(if hi > 0.0 { hi + pad } else { pad });
    let mut chart = builder(area, t, Some(caption), 80.0)
        .build_cartesian_2d(hour_axis(hours, 7), y)
        .map_err(err)?;
    axes(
        &mut chart,
        t,
        "hour of day (UTC)",
        "cumulative margin (US$)",
        7,
        6,
        &clock,
        &usd_tick,
    )?;
    chart
        .draw_series(LineSeries::new(
            [(0.0, 0.0), (hours as f64, 0.0)],
            super::style::AXIS.stroke_width(t.w(1.0)),
        ))
        .map_err(err)?;
    for (ri, s) in series.into_iter().enumerate() {
        line(&mut chart, t, s, color(c), ri > 0)?;
    }
    Ok(())
}
