//! Calls and tokens per hour, whole fleet: completed (and rejected) calls on a linear axis, and
//! tokens by class (uncached input, cached input, output) on a log axis, because an agent
//! fleet's cached input is two to three orders of magnitude above its output.

use plotters::coord::Shift;
use plotters::coord::combinators::IntoLogRange;
use plotters::prelude::*;

use super::data::ChartRun;
use super::error::{Drawn, err};
use super::kind::ChartKind;
use super::style::{
    Key, Mark, Theme, axes, builder, clock, color, decades, hour_axis, line, run_header, si, steps,
    upto,
};
use crate::hourly::HourRow;

type Series = (&'static str, fn(&HourRow) -> f64);

const CALLS: [Series; 2] = [
    ("completed calls", |r| r.calls_completed as f64),
    ("rejected calls", |r| r.calls_rejected as f64),
];
const TOKENS: [Series; 3] = [
    ("cached input", |r| r.input_cached as f64),
    ("uncached input", |r| r.input_uncached as f64),
    ("output", |r| r.output as f64),
];

// Every chart draws with this signature (charts/draw.rs dispatches on the kind); only the
// bodies differ.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    t: &Theme,
    runs: &[ChartRun],
) -> Drawn {
    // Rejections get a line only when some run has any.
    let rejected = runs
        .iter()
        .any(|r| r.rows.iter().any(|row| row.calls_rejected > 0));
    let calls: &[Series] = if rejected { &CALLS } else { &CALLS[..1] };
    let mut keys: Vec<Key> = calls
        .iter()
        .enumerate()
        .map(|(i, (l, _))| Key::new(*l, color(6 + i), Mark::Line))
        .collect();
    keys.extend(
        TOKENS
            .iter()
            .enumerate()
            .map(|(i, (l, _))| Key::new(format!("{l} tokens"), color(i), Mark::Line)),
    );
    let area = run_header(
        root,
        t,
        ChartKind::Traffic,
        "Whole fleet, per simulated hour; tokens are counted when their call completes",
        keys,
        runs,
    )?;
    let hours = ChartRun::max_hours(runs);
    let (top, bottom) = area.split_vertically(area.dim_in_pixel().1 * 2 / 5);

    let series =
        |f: fn(&HourRow) -> f64| -> Vec<Vec<f64>> { runs.iter().map(|r| r.fleet(f)).collect() };
    let call_values: Vec<Vec<Vec<f64>>> = calls.iter().map(|(_, f)| series(*f)).collect();
    let max_calls = call_values
        .iter()
        .flatten()
        .flatten()
        .copied()
        .fold(0.0, f64::max);
    let mut chart = builder(&top, t, Some("Calls per hour"), 70.0)
        .build_cartesian_2d(hour_axis(hours, 13), upto(max_calls))
        .map_err(err)?;
    axes(&mut chart, t, "", "calls per hour", 13, 5, &clock, &|v| {
        si(*v)
    })?;
    for (si_, per_run) in call_values.iter().enumerate() {
        for (ri, v) in per_run.iter().enumerate() {
            let pts = steps(v.iter().copied().enumerate());
            line(&mut chart, t, pts, color(6 + si_), ri > 0)?;
        }
    }

    let token_values: Vec<Vec<Vec<f64>>> = TOKENS.iter().map(|(_, f)| series(*f)).collect();
    let range = decades(token_values.iter().flatten().flatten().copied());
    let floor = range.start;
    let mut chart = builder(
        &bottom,
        t,
        Some("Tokens per hour by class (log scale)"),
        70.0,
    )
    .build_cartesian_2d(hour_axis(hours, 13), range.log_scale())
    .map_err(err)?;
    axes(
        &mut chart,
        t,
        "hour of day (UTC)",
        "tokens per hour",
        13,
        10,
        &clock,
        &|v| si(*v),
    )?;
    for (ci, per_run) in token_values.iter().enumerate() {
        for (ri, v) in per_run.iter().enumerate() {
            // An hour without tokens sits on the axis floor rather than at log(0).
            let pts = steps(v.iter().map(|x| x.max(floor)).enumerate());
            line(&mut chart, t, pts, color(ci), ri > 0)?;
        }
    }
    Ok(())
}
