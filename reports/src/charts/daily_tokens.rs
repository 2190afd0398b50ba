//! Daily tokens per agent: the histogram of the simulated agents' realized tokens (input +
//! output) in the day, log-spaced bins on a log axis, with the p10, p50 and p90 agents marked.

use plotters::coord::Shift;
use plotters::coord::combinators::{IntoLogRange, LogCoord};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::ChartRun;
use super::error::{Drawn, err};
use super::kind::ChartKind;
use super::style::{
    AXIS, Key, MUTED, Mark, Theme, Ticked, axes, builder, color, line, log_ticks, pct_tick,
    run_header, si, upto,
};
use crate::table::count;

// Every chart draws with this signature (charts/draw.rs dispatches on the kind); only the
// bodies differ.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    t: &Theme,
    runs: &[ChartRun],
) -> Drawn {
    let overlay = runs.len() > 1;
    // A replay counts prefix chains or sessions, over its run, not agents over a day.
    let unit = runs.first().map_or("agent", |r| r.unit.as_str());
    let (whose, when, axis) = if unit == "agent" {
        (
            "agents".to_string(),
            "in the simulated day",
            "tokens per agent-day (log scale)".to_string(),
        )
    } else {
        (
            format!("{unit}s"),
            "over the replay",
            format!("tokens per {unit} (log scale)"),
        )
    };
    let mut keys = vec![Key::new(
        format!("share of {whose} per bin (10 bins per decade)"),
        color(0),
        if overlay { Mark::Line } else { Mark::Area },
    )];
    let mut subtitle = format!("Realized input + output tokens per {unit} {when}");
    if !overlay && let Some(run) = runs.first() {
        let [p10, p50, p90] = run.daily_quantiles;
        keys.push(Key::new(
            format!(
                "p10 / p50 / p90 {unit}: {} / {} / {}",
                count(p10 as f64),
                count(p50 as f64),
                count(p90 as f64)
            ),
            MUTED,
            Mark::Dashed,
        ));
        if let Some(z) = run.daily_tokens.iter().find(|b| b.low == 0 && b.agents > 0) {
            subtitle.push_str(&format!(
                "; {:.1}% of {whose} spent nothing (not shown)",
                z.share * 100.0
            ));
        }
    }
    let area = run_header(root, t, ChartKind::DailyTokens, &subtitle, keys, runs)?;

    let bins = || {
        runs.iter()
            .flat_map(|r| r.daily_tokens.iter())
            .filter(|b| b.low > 0)
    };
    let lo = bins().map(|b| b.low).min().unwrap_or(1) as f64;
    let hi = bins()
        .map(|b| b.high)
        .max()
        .unwrap_or(10)
        .max(lo as u64 + 1) as f64;
    let top = bins().map(|b| b.share * 100.0).fold(0.0, f64::max);
    let y = upto(top);
    let ymax = y.end;
    let mut chart = builder(&area, t, None, 64.0)
        .build_cartesian_2d(
            Ticked {
                inner: LogCoord::from((lo..hi).log_scale()),
                ticks: log_ticks(lo, hi),
            },
            y,
        )
        .map_err(err)?;
    axes(
        &mut chart,
        t,
        &axis,
        &format!("share of {whose} (%)"),
        10,
        6,
        &|v| si(*v),
        &pct_tick,
    )?;
    for (ri, run) in runs.iter().enumerate() {
        let bins: Vec<_> = run.daily_tokens.iter().filter(|b| b.low > 0).collect();
        if overlay {
            // Outlines, so that one run's bars do not hide the other's.
            let mut pts = Vec::new();
            if let Some(b) = bins.first() {
                pts.push((b.low as f64, 0.0));
            }
            for b in &bins {
                pts.push((b.low as f64, b.share * 100.0));
                pts.push((b.high as f64, b.share * 100.0));
            }
            if let Some(b) = bins.last() {
                pts.push((b.high as f64, 0.0));
            }
            line(&mut chart, t, pts, color(ri), ri > 0)?;
        } else {
            chart
                .draw_series(bins.iter().map(|b| {
                    Rectangle::new(
                        [(b.low as f64, 0.0), (b.high as f64, b.share * 100.0)],
                        color(0).mix(0.8).filled(),
                    )
                }))
                .map_err(err)?;
            // Thin white gaps between bars.
            chart
                .draw_series(bins.iter().map(|b| {
                    Rectangle::new(
                        [(b.low as f64, 0.0), (b.high as f64, b.share * 100.0)],
                        WHITE.stroke_width(t.w(1.0)),
                    )
                }))
                .map_err(err)?;
        }
    }
    if !overlay && let Some(run) = runs.first() {
        let style = t.text(12.0, MUTED).pos(Pos::new(HPos::Left, VPos::Top));
        let mut last_end = i32::MIN;
        for (name, q) in ["p10", "p50", "p90"].iter().zip(run.daily_quantiles) {
            let x = q as f64;
            if !(lo..hi).contains(&x) {
                continue;
            }
            let (px, py) = chart.backend_coord(&(x, ymax));
            let (_, py0) = chart.backend_coord(&(x, 0.0));
            let area = chart.plotting_area().strip_coord_spec();
            let shift = area.get_base_pixel();
            let (px, py, py0) = (px - shift.0, py - shift.1, py0 - shift.1);
            area.draw(&DashedPathElement::new(
                vec![(px, py), (px, py0)],
                t.px(5.0),
                t.px(4.0),
                AXIS.stroke_width(t.w(1.5)),
            ))
            .map_err(err)?;
            // Labels stagger downwards when quantiles are too close to label side by side.
            let (w, h) = area.estimate_text_size(name, &style).map_err(err)?;
            let ly = if px + t.px(4.0) <= last_end {
                py + t.px(4.0) + h as i32 + t.px(2.0)
            } else {
                py + t.px(4.0)
            };
            area.draw_text(name, &style, (px + t.px(4.0), ly))
                .map_err(err)?;
            last_end = px + t.px(4.0) + w as i32 + t.px(4.0);
        }
    }
    Ok(())
}
