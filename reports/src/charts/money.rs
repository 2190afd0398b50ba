//! Revenue and cost per hour, whole fleet. Two panels with their own scales, because the two
//! pricings differ by an order of magnitude for agent traffic: the top panel prices every
//! token class at the sheet's rate (itemized), the bottom one at one blended price. Cost is the
//! same in both, stacked by hardware and energy (drawn as a line when runs are overlaid).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::ChartRun;
use super::error::{Drawn, err};
use super::kind::ChartKind;
use super::style::{
    Key, Mark, Theme, axes, builder, clock, color, hour_axis, line, run_header, steps, upto,
    usd_tick,
};
use crate::hourly::HourRow;

/// Cost fills are light so that the revenue line and the grid stay readable over them.
const HARDWARE: RGBColor = RGBColor(191, 203, 219);
const ENERGY: RGBColor = RGBColor(251, 191, 116);
const COST_LINE: RGBColor = RGBColor(100, 116, 139);
const REVENUE: usize = 2;

// Every chart draws with this signature (charts/draw.rs dispatches on the kind); only the
// bodies differ.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    t: &Theme,
    runs: &[ChartRun],
) -> Drawn {
    let overlay = runs.len() > 1;
    let energy = runs
        .iter()
        .any(|r| r.rows.iter().any(|row| row.cost_energy_usd > 0.0));
    let mut keys = Vec::new();
    if overlay {
        keys.push(Key::new("cost (hardware + energy)", COST_LINE, Mark::Line));
    } else {
        keys.push(Key::new("cost: hardware", HARDWARE, Mark::Area));
        if energy {
            keys.push(Key::new("cost: energy", ENERGY, Mark::Area));
        }
    }
    keys.push(Key::new("revenue", color(REVENUE), Mark::Line));
    let subtitle = if energy {
        "Whole fleet, per simulated hour, in US dollars"
    } else {
        "Whole fleet, per simulated hour, in US dollars (no energy billed: rented devices include power)"
    };
    let area = run_header(root, t, ChartKind::RevenueCost, subtitle, keys, runs)?;
    let (top, bottom) = area.split_vertically(area.dim_in_pixel().1 / 2);
    panel(
        &top,
        t,
        runs,
        "Itemized: each token class at the price sheet's rate",
        |r| r.revenue_itemized_usd,
        "",
    )?;
    panel(
        &bottom,
        t,
        runs,
        "Blended: one price for every token",
        |r| r.revenue_blended_usd,
        "hour of day (UTC)",
    )
}

// Like margin.rs's `panel`, but with the x axis named by the caller (hours of the day or
// of the run) instead of a colour index.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    t: &Theme,
    runs: &[ChartRun],
    caption: &str,
    revenue: fn(&HourRow) -> f64,
    x_desc: &str,
) -> Drawn {
    let hours = ChartRun::max_hours(runs);
    let rev: Vec<Vec<f64>> = runs.iter().map(|r| r.fleet(revenue)).collect();
    let hw: Vec<Vec<f64>> = runs
        .iter()
        .map(|r| r.fleet(|x| x.cost_hardware_usd))
        .collect();
    let total: Vec<Vec<f64>> = runs.iter().map(|r| r.fleet(|x| x.cost_total_usd)).collect();
    let max = rev
        .iter()
        .chain(&total)
        .flatten()
        .copied()
        .fold(0.0, f64::max);
    let mut chart = builder(area, t, Some(caption), 80.0)
        .build_cartesian_2d(hour_axis(hours, 13), upto(max))
        .map_err(err)?;
    axes(
        &mut chart,
        t,
        x_desc,
        "US$ per hour",
        13,
        6,
        &clock,
        &usd_tick,
    )?;
    if runs.len() == 1 {
        // Stacked without overlap: hardware from 0, energy as the band between hardware and
        // the total.
        let hw_steps = steps(hw[0].iter().copied().enumerate());
        let total_steps = steps(total[0].iter().copied().enumerate());
        chart
            .draw_series(AreaSeries::new(hw_steps.clone(), 0.0, HARDWARE.filled()))
            .map_err(err)?;
        let mut band = total_steps.clone();
        band.extend(hw_steps.iter().rev());
        chart
            .draw_series(std::iter::once(Polygon::new(band, ENERGY.filled())))
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                total_steps,
                COST_LINE.stroke_width(t.w(1.0)),
            ))
            .map_err(err)?;
    } else {
        for (ri, v) in total.iter().enumerate() {
            line(
                &mut chart,
                t,
                steps(v.iter().copied().enumerate()),
                COST_LINE,
                ri > 0,
            )?;
        }
    }
    for (ri, v) in rev.iter().enumerate() {
        line(
            &mut chart,
            t,
            steps(v.iter().copied().enumerate()),
            color(REVENUE),
            ri > 0,
        )?;
    }
    Ok(())
}
