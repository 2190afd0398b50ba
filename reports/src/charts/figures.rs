//! Figures of sweeps, sensitivity analyses and plans: bands along a varied parameter, a tornado
//! of input swings, and the cost-latency frontier of a plan. Same look as the run charts.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::error::{Drawn, err};
use super::render::Figure;
use super::style::{
    self, Key, Mark, Theme, Ticked, axes, builder, color, header, line, si, usd_tick,
};

/// How numbers on an axis read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unit {
    Usd,
    /// A fraction (0.42), read as a percentage ("42%").
    Share,
    Seconds,
    Plain,
}

impl Unit {
    fn fmt(self, v: f64) -> String {
        match self {
            Unit::Usd => usd_tick(&v),
            Unit::Share => style::share_tick(&v),
            Unit::Seconds => style::secs_tick(&v),
            Unit::Plain => si(v),
        }
    }
}

/// One banded series: median line, p10-p90 band.
pub struct Banded {
    pub label: String,
    pub p10: Vec<f64>,
    pub p50: Vec<f64>,
    pub p90: Vec<f64>,
}

/// A metric against a varied parameter, with uncertainty bands.
pub struct BandChart {
    pub name: &'static str,
    pub title: String,
    pub subtitle: String,
    pub x_label: String,
    pub x: Vec<f64>,
    pub log_x: bool,
    pub y_label: String,
    pub y_unit: Unit,
    pub series: Vec<Banded>,
    /// A vertical marker (e.g. break-even) with its label.
    pub marker: Option<(f64, String)>,
}

fn span(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.06)
        .max(hi.abs().max(lo.abs()) * 1e-6)
        .max(1e-12);
    (
        lo.min(0.0)
            .min(lo - pad)
            .max(if lo >= 0.0 { 0.0 } else { f64::NEG_INFINITY }),
        hi + pad,
    )
}

impl Figure for BandChart {
    fn name(&self) -> &'static str {
        self.name
    }
    fn size(&self) -> (u32, u32) {
        (900, 440)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, t: &Theme) -> Drawn {
        let mut keys = Vec::new();
        for (i, s) in self.series.iter().enumerate() {
            keys.push(Key::new(
                format!("{} (median)", s.label),
                color(i),
                Mark::Line,
            ));
            keys.push(Key::new("p10-p90 over seeds", color(i), Mark::Area));
        }
        if let Some((_, l)) = &self.marker {
            keys.push(Key::new(l.clone(), style::MUTED, Mark::Dashed));
        }
        let area = header(root, t, &self.title, &self.subtitle, &keys)?;
        let tx = |x: f64| if self.log_x { x.max(1e-300).log10() } else { x };
        let xs: Vec<f64> = self.x.iter().map(|&x| tx(x)).collect();
        let (x0, x1) = match (xs.first(), xs.last()) {
            (Some(a), Some(b)) if b > a => (*a, *b),
            (Some(a), _) => (*a - 0.5, *a + 0.5),
            _ => (0.0, 1.0),
        };
        let (y0, y1) = span(
            self.series
                .iter()
                .flat_map(|s| s.p10.iter().chain(&s.p90).chain(&s.p50).copied()),
        );
        // Round ticks on either scale: 1-2-5 multiples of powers of ten on a log axis (in the
        // log10 space the points are drawn in), a round step on a linear one.
        let ticks = if self.log_x {
            let t: Vec<f64> = style::log_ticks(10f64.powf(x0), 10f64.powf(x1))
                .into_iter()
                .map(f64::log10)
                .collect();
            if t.len() >= 2 { t } else { xs.clone() }
        } else {
            style::linear_ticks(x0, x1, 7)
        };
        let x_axis = Ticked {
            inner: plotters::coord::types::RangedCoordf64::from(x0..x1),
            ticks,
        };
        let mut chart = builder(&area, t, None, 78.0)
            .build_cartesian_2d(x_axis, y0..y1)
            .map_err(err)?;
        let log_x = self.log_x;
        let xf = move |v: &f64| if log_x { si(10f64.powf(*v)) } else { si(*v) };
        let unit = self.y_unit;
        let yf = move |v: &f64| unit.fmt(*v);
        axes(&mut chart, t, &self.x_label, &self.y_label, 8, 7, &xf, &yf)?;
        if y0 < 0.0 && y1 > 0.0 {
            chart
                .draw_series(LineSeries::new(
                    vec![(x0, 0.0), (x1, 0.0)],
                    style::AXIS.stroke_width(t.w(1.0)),
                ))
                .map_err(err)?;
        }
        for (i, s) in self.series.iter().enumerate() {
            let c = color(i);
            let mut poly: Vec<(f64, f64)> = xs.iter().copied().zip(s.p90.iter().copied()).collect();
            poly.extend(xs.iter().copied().zip(s.p10.iter().copied()).rev());
            chart
                .draw_series(std::iter::once(Polygon::new(poly, c.mix(0.18).filled())))
                .map_err(err)?;
            line(
                &mut chart,
                t,
                xs.iter().copied().zip(s.p50.iter().copied()).collect(),
                c,
                false,
            )?;
            chart
                .draw_series(
                    xs.iter()
                        .zip(&s.p50)
                        .map(|(&x, &y)| Circle::new((x, y), t.px(3.0), c.filled())),
                )
                .map_err(err)?;
        }
        if let Some((x, _)) = &self.marker {
            line(
                &mut chart,
                t,
                vec![(tx(*x), y0), (tx(*x), y1)],
                style::MUTED,
                true,
            )?;
        }
        Ok(())
    }
}

/// One bar of a tornado: the figure at the input's low and high settings.
pub struct Swing {
    pub label: String,
    pub low: f64,
    pub high: f64,
}

/// Input swings around a base value, largest first.
pub struct Tornado {
    pub name: &'static str,
    pub title: String,
    pub subtitle: String,
    pub x_label: String,
    pub x_unit: Unit,
    pub base: f64,
    pub swings: Vec<Swing>,
    pub low_label: String,
    pub high_label: String,
}

impl Figure for Tornado {
    fn name(&self) -> &'static str {
        self.name
    }
    fn size(&self) -> (u32, u32) {
        (900, 150 + 34 * self.swings.len().max(1) as u32)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, t: &Theme) -> Drawn {
        let keys = [
            Key::new(self.low_label.clone(), color(1), Mark::Area),
            Key::new(self.high_label.clone(), color(0), Mark::Area),
        ];
        let area = header(root, t, &self.title, &self.subtitle, &keys)?;
        let n = self.swings.len().max(1) as f64;
        let (lo, hi) = span(
            self.swings
                .iter()
                .flat_map(|s| [s.low, s.high])
                .chain(std::iter::once(self.base)),
        );
        let labels: Vec<String> = self.swings.iter().map(|s| s.label.clone()).collect();
        let yf = move |v: &f64| {
            let i = (n - 0.5 - v).round();
            if i >= 0.0 && (i as usize) < labels.len() && (v.fract() - 0.5).abs() < 1e-6 {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        };
        let mut chart = builder(&area, t, None, 230.0)
            .build_cartesian_2d(lo..hi, 0.0..n)
            .map_err(err)?;
        let unit = self.x_unit;
        let xf = move |v: &f64| unit.fmt(*v);
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(style::GRID.stroke_width(t.w(1.0)))
            .axis_style(style::AXIS.stroke_width(t.w(1.0)))
            .label_style(t.text(12.0, style::INK))
            .axis_desc_style(t.text(13.0, style::INK))
            .x_desc(self.x_label.as_str())
            .x_labels(8)
            .y_labels(2 * self.swings.len().max(1) + 1)
            .x_label_formatter(&xf)
            .y_label_formatter(&yf)
            .draw()
            .map_err(err)?;
        for (i, s) in self.swings.iter().enumerate() {
            let y = n - 1.0 - i as f64;
            for (v, c) in [(s.low, color(1)), (s.high, color(0))] {
                let (a, b) = if v < self.base {
                    (v, self.base)
                } else {
                    (self.base, v)
                };
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(a, y + 0.2), (b, y + 0.8)],
                        c.mix(0.8).filled(),
                    )))
                    .map_err(err)?;
            }
        }
        line(
            &mut chart,
            t,
            vec![(self.base, 0.0), (self.base, n)],
            style::INK,
            false,
        )?;
        Ok(())
    }
}

/// A probe of the plan: its cost, latency and whether it met the targets.
pub struct FrontierPoint {
    pub group: String,
    pub cost_per_day: f64,
    pub ttft_p99: f64,
    pub meets: bool,
}

/// Cost per day against TTFT p99 over every probe, with the frontier and the target.
pub struct FrontierChart {
    pub title: String,
    pub subtitle: String,
    pub points: Vec<FrontierPoint>,
    pub frontier: Vec<(f64, f64)>,
    pub target_ttft: Option<f64>,
}

impl Figure for FrontierChart {
    fn name(&self) -> &'static str {
        "frontier"
    }
    fn size(&self) -> (u32, u32) {
        (900, 480)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, t: &Theme) -> Drawn {
        let mut groups: Vec<String> = Vec::new();
        for p in &self.points {
            if !groups.contains(&p.group) {
                groups.push(p.group.clone());
            }
        }
        let mut keys: Vec<Key> = groups
            .iter()
            .enumerate()
            .map(|(i, g)| Key::new(g.clone(), color(i), Mark::Area))
            .collect();
        keys.push(Key::new(
            "frontier (cheapest at each latency)",
            style::INK,
            Mark::Line,
        ));
        if self.target_ttft.is_some() {
            keys.push(Key::new("TTFT p99 target", style::MUTED, Mark::Dashed));
        }
        let area = header(root, t, &self.title, &self.subtitle, &keys)?;
        let (x0, x1) = span(self.points.iter().map(|p| p.cost_per_day));
        // Latency spans decades (a drowning cluster is minutes slow): log scale.
        let ys: Vec<f64> = self
            .points
            .iter()
            .map(|p| p.ttft_p99.max(1e-3).log10())
            .chain(self.target_ttft.map(|v| v.log10()))
            .collect();
        let (y0, y1) = ys
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let (y0, y1) = if y0.is_finite() {
            (y0 - 0.1, y1 + 0.1)
        } else {
            (-1.0, 1.0)
        };
        let mut chart = builder(&area, t, None, 70.0)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        let xf = |v: &f64| usd_tick(v);
        let yf = |v: &f64| style::secs_tick(&10f64.powf(*v));
        axes(
            &mut chart,
            t,
            "cost per day (US$)",
            "TTFT p99 (log scale)",
            8,
            7,
            &xf,
            &yf,
        )?;
        for (i, g) in groups.iter().enumerate() {
            let c = color(i);
            chart
                .draw_series(self.points.iter().filter(|p| &p.group == g).map(|p| {
                    let pt = (p.cost_per_day, p.ttft_p99.max(1e-3).log10());
                    if p.meets {
                        Circle::new(pt, t.px(4.5), c.filled())
                    } else {
                        Circle::new(pt, t.px(4.5), c.stroke_width(t.w(1.5)))
                    }
                }))
                .map_err(err)?;
        }
        line(
            &mut chart,
            t,
            self.frontier
                .iter()
                .map(|&(x, y)| (x, y.max(1e-3).log10()))
                .collect(),
            style::INK,
            false,
        )?;
        if let Some(v) = self.target_ttft {
            line(
                &mut chart,
                t,
                vec![(x0, v.log10()), (x1, v.log10())],
                style::MUTED,
                true,
            )?;
        }
        Ok(())
    }
}
