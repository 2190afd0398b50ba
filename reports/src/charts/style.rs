//! The look shared by every chart: sizes, colors, fonts, the header (title, subtitle, legend)
//! and the axes. Sizes are in SVG pixels and multiplied by [`Theme::scale`] for PNGs, so the two
//! formats of a chart have the same layout.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::ChartRun;
use super::error::{Drawn, err};
use super::kind::ChartKind;

/// Family name the embedded DejaVu Sans is registered under. It is also what SVGs write as
/// `font-family`, so it is a CSS font list: DejaVu where the reader has it, then Verdana (close
/// metrics), then any sans-serif.
pub const FONT: &str = "DejaVu Sans, Verdana, sans-serif";

pub const INK: RGBColor = RGBColor(31, 41, 55);
pub const MUTED: RGBColor = RGBColor(100, 108, 122);
pub const GRID: RGBColor = RGBColor(229, 231, 235);
pub const AXIS: RGBColor = RGBColor(156, 163, 175);

/// Series colors, in order of use.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(37, 99, 235),  // blue
    RGBColor(234, 88, 12),  // orange
    RGBColor(22, 163, 74),  // green
    RGBColor(124, 58, 237), // purple
    RGBColor(220, 38, 38),  // red
    RGBColor(8, 145, 178),  // teal
    RGBColor(202, 138, 4),  // amber
    RGBColor(71, 85, 105),  // slate
];

pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// `c` lightened towards white by `f` (0 = unchanged, 1 = white).
pub fn tint(c: RGBColor, f: f64) -> RGBColor {
    let m = |v: u8| (v as f64 + (255.0 - v as f64) * f).round() as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

/// The color of metric `metric` of pool `pool` in a per-pool chart: with one pool each metric
/// gets its own color; with several, each pool keeps its color (as in the utilization chart)
/// and its secondary metric is a lighter shade of it.
pub fn pool_color(pools: usize, pool: usize, metric: usize) -> RGBColor {
    if pools <= 1 {
        color(metric)
    } else if metric == 0 {
        color(pool)
    } else {
        tint(color(pool), 0.55)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub scale: f64,
}

impl Theme {
    /// A length in device pixels.
    pub fn px(&self, v: f64) -> i32 {
        (v * self.scale).round() as i32
    }
    /// A stroke width in device pixels.
    pub fn w(&self, v: f64) -> u32 {
        (v * self.scale).round().max(1.0) as u32
    }
    pub fn text(&self, size: f64, c: RGBColor) -> TextStyle<'static> {
        (FONT, size * self.scale).into_font().color(&c)
    }
    pub fn bold(&self, size: f64, c: RGBColor) -> TextStyle<'static> {
        (FONT, size * self.scale, FontStyle::Bold)
            .into_font()
            .color(&c)
    }
}

/// How a legend key is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mark {
    Line,
    Dashed,
    Area,
}

pub struct Key {
    pub label: String,
    pub color: RGBColor,
    pub mark: Mark,
}

impl Key {
    pub fn new(label: impl Into<String>, color: RGBColor, mark: Mark) -> Key {
        Key {
            label: label.into(),
            color,
            mark,
        }
    }
}

/// The header of run chart `kind` (see [`header`]): its title, `subtitle`, and `keys` followed,
/// when runs are overlaid, by one key per run.
pub fn run_header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    t: &Theme,
    kind: ChartKind,
    subtitle: &str,
    mut keys: Vec<Key>,
    runs: &[ChartRun],
) -> Drawn<DrawingArea<DB, Shift>> {
    keys.extend(run_keys(runs));
    header(root, t, kind.title(), subtitle, &keys)
}

/// Draws the chart's title, subtitle and legend (wrapped into rows above the plot, never over
/// the data) and returns the area left for the plot.
pub fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    t: &Theme,
    title: &str,
    subtitle: &str,
    keys: &[Key],
) -> Drawn<DrawingArea<DB, Shift>> {
    root.fill(&WHITE).map_err(err)?;
    let (w, _) = root.dim_in_pixel();
    let pad = t.px(16.0);
    let top_left = Pos::new(HPos::Left, VPos::Top);
    let mut y = t.px(12.0);
    root.draw_text(title, &t.bold(19.0, INK).pos(top_left), (pad, y))
        .map_err(err)?;
    y += t.px(28.0);
    if !subtitle.is_empty() {
        root.draw_text(subtitle, &t.text(13.0, MUTED).pos(top_left), (pad, y))
            .map_err(err)?;
        y += t.px(22.0);
    }
    let style = t.text(13.0, INK).pos(Pos::new(HPos::Left, VPos::Center));
    let (swatch, gap, sep, row) = (t.px(26.0), t.px(7.0), t.px(22.0), t.px(22.0));
    let mut x = pad;
    for k in keys {
        let (tw, _) = root.estimate_text_size(&k.label, &style).map_err(err)?;
        let item = swatch + gap + tw as i32;
        if x > pad && x + item > w as i32 - pad {
            x = pad;
            y += row;
        }
        let yc = y + row / 2;
        match k.mark {
            Mark::Line => root.draw(&PathElement::new(
                vec![(x, yc), (x + swatch, yc)],
                k.color.stroke_width(t.w(2.5)),
            )),
            Mark::Dashed => root.draw(&DashedPathElement::new(
                vec![(x, yc), (x + swatch, yc)],
                t.px(6.0),
                t.px(4.0),
                k.color.stroke_width(t.w(2.5)),
            )),
            Mark::Area => root.draw(&Rectangle::new(
                [(x, yc - t.px(6.0)), (x + swatch, yc + t.px(6.0))],
                k.color.mix(0.75).filled(),
            )),
        }
        .map_err(err)?;
        root.draw_text(&k.label, &style, (x + swatch + gap, yc))
            .map_err(err)?;
        x += item + sep;
    }
    if !keys.is_empty() {
        y += row;
    }
    y += t.px(6.0);
    Ok(root.split_vertically(y).1)
}

/// A chart builder with the shared margins; `caption` titles a panel of a multi-panel chart.
pub fn builder<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    t: &Theme,
    caption: Option<&str>,
    y_label_width: f64,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(area);
    b.margin_top(t.px(6.0))
        .margin_bottom(t.px(6.0))
        .margin_left(t.px(10.0))
        .margin_right(t.px(24.0))
        .x_label_area_size(t.px(46.0))
        .y_label_area_size(t.px(y_label_width));
    if let Some(c) = caption {
        b.caption(c, t.bold(14.0, INK));
    }
    b
}

/// Axis labels, descriptions and a light horizontal grid.
#[allow(clippy::too_many_arguments)]
pub fn axes<DB, X, Y>(
    chart: &mut ChartContext<DB, Cartesian2d<X, Y>>,
    t: &Theme,
    x_desc: &str,
    y_desc: &str,
    x_labels: usize,
    y_labels: usize,
    xf: &dyn Fn(&f64) -> String,
    yf: &dyn Fn(&f64) -> String,
) -> Drawn
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID.stroke_width(t.w(1.0)))
        .axis_style(AXIS.stroke_width(t.w(1.0)))
        .label_style(t.text(12.0, MUTED))
        .axis_desc_style(t.text(13.0, INK))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(x_labels)
        .y_labels(y_labels)
        .x_label_formatter(xf)
        .y_label_formatter(yf)
        .set_all_tick_mark_size(t.px(4.0))
        .draw()
        .map_err(err)
}

/// A line, solid or dashed (dashed marks the second run when runs are overlaid).
pub fn line<DB, X, Y>(
    chart: &mut ChartContext<DB, Cartesian2d<X, Y>>,
    t: &Theme,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    dashed: bool,
) -> Drawn
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let style = color.stroke_width(t.w(2.0));
    if dashed {
        chart
            .draw_series(DashedLineSeries::new(points, t.px(7.0), t.px(5.0), style))
            .map_err(err)?;
    } else {
        chart
            .draw_series(LineSeries::new(points, style))
            .map_err(err)?;
    }
    Ok(())
}

/// The points of a step line: each hour's value held from the start to the end of the hour
/// (the values are hourly totals or averages, not samples at an instant).
pub fn steps(values: impl IntoIterator<Item = (usize, f64)>) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for (h, v) in values {
        out.push((h as f64, v));
        out.push((h as f64 + 1.0, v));
    }
    out
}

/// Step lines of the hours with a positive value, one per run of consecutive hours (an hour
/// without completed calls has no latency, and a log axis has no zero).
pub fn step_segments(values: impl IntoIterator<Item = (usize, f64)>) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut last: Option<usize> = None;
    for (h, v) in values {
        if v <= 0.0 || !v.is_finite() {
            last = None;
            continue;
        }
        match (last, out.last_mut()) {
            (Some(l), Some(seg)) if l + 1 == h => seg.push((h, v)),
            _ => out.push(vec![(h, v)]),
        }
        last = Some(h);
    }
    out.into_iter().map(steps).collect()
}

/// "06:00" for hour 6.0 of the simulated day.
pub fn clock(x: &f64) -> String {
    let m = (x * 60.0).round() as i64;
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// An x axis over `hours` with ticks on whole hours, every 1, 2, 3, 4, 6, 12 or 24 hours, at
/// most `max_ticks` of them (so that clock labels never crowd).
pub fn hour_axis(hours: usize, max_ticks: usize) -> Ticked<RangedCoordf64> {
    let hours = hours.max(1);
    let fits = |step: usize| hours / step < max_ticks.max(2);
    let step = [1, 2, 3, 4, 6, 12, 24]
        .into_iter()
        .find(|&s| fits(s))
        .unwrap_or_else(|| hours.div_ceil(max_ticks.max(2) - 1).max(1));
    let ticks: Vec<f64> = (0..=hours).step_by(step).map(|h| h as f64).collect();
    Ticked {
        inner: (0.0..hours as f64).into(),
        ticks,
    }
}

/// An axis with the ticks we choose instead of plotters' (which are 1-2-5 multiples: 5-hour
/// steps on a clock, or 80M 90M 100M crowding on a log axis).
#[derive(Clone)]
pub struct Ticked<R> {
    pub inner: R,
    pub ticks: Vec<f64>,
}

impl<R: Ranged<ValueType = f64>> Ranged for Ticked<R> {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;
    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(v, limit)
    }
    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }
    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

impl<R: ValueFormatter<f64>> ValueFormatter<f64> for Ticked<R> {
    fn format(v: &f64) -> String {
        R::format(v)
    }
}

/// About `n` ticks at a round step (1, 2 or 5 times a power of ten) inside [lo, hi].
pub fn linear_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if !lo.is_finite() || !hi.is_finite() || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let p = 10f64.powf(raw.log10().floor());
    let m = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .find(|m| m * p >= raw)
        .unwrap_or(10.0);
    let step = m * p;
    // A tick is k * m times the power of ten, divided by its inverse below 1: the nearest
    // double to the round number ("0.6", not "0.6000000000000001").
    let value = |k: f64| {
        if p < 1.0 {
            k * m / (1.0 / p).round()
        } else {
            k * m * p
        }
    };
    let mut out = Vec::new();
    let mut k = (lo / step).ceil();
    while value(k) <= hi + step * 1e-9 {
        out.push(value(k));
        k += 1.0;
    }
    out
}

/// A share (0.42) as a tick: "42%", "4.2%" below 10%.
pub fn share_tick(v: &f64) -> String {
    let p = v * 100.0;
    if p.abs() >= 10.0 || p == 0.0 {
        format!("{p:.0}%")
    } else {
        let s = format!("{p:.1}");
        format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
    }
}

/// Three significant figures: "316k", "1.23M", "0.0456", for a value quoted in text.
pub fn sig3(v: f64) -> String {
    let a = v.abs();
    if a >= 1e3 {
        let (d, suffix) = si_scale(a);
        let x = v / d;
        let decimals = if x.abs() >= 100.0 {
            0
        } else if x.abs() >= 10.0 {
            1
        } else {
            2
        };
        format!("{x:.decimals$}{suffix}")
    } else if a == 0.0 {
        "0".into()
    } else {
        let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
        format!("{v:.decimals$}")
    }
}

/// The divisor and suffix that read `a` (not negative) in thousands, millions, ...
fn si_scale(a: f64) -> (f64, &'static str) {
    if a >= 1e12 {
        (1e12, "T")
    } else if a >= 1e9 {
        (1e9, "B")
    } else if a >= 1e6 {
        (1e6, "M")
    } else if a >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    }
}

/// Ticks at 1, 2 and 5 times the powers of ten inside [lo, hi] (a log axis).
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut d = 10f64.powf(lo.max(1e-12).log10().floor());
    while d <= hi {
        for m in [1.0, 2.0, 5.0] {
            let v = d * m;
            if v >= lo && v <= hi {
                out.push(v);
            }
        }
        d *= 10.0;
    }
    out
}

/// "1.5M", "250k", "3T": numbers on axes, trailing zeros dropped.
pub fn si(v: f64) -> String {
    let (d, suffix) = si_scale(v.abs());
    let s = format!("{:.2}", v / d);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    let s = if s == "-0" { "0" } else { s };
    format!("{s}{suffix}")
}

pub fn usd_tick(v: &f64) -> String {
    if *v < 0.0 {
        format!("-${}", si(-v))
    } else {
        format!("${}", si(*v))
    }
}

pub fn pct_tick(v: &f64) -> String {
    format!("{:.0}%", v)
}

/// Seconds on a log axis: "10 ms", "1 s".
pub fn secs_tick(v: &f64) -> String {
    if *v < 1.0 {
        let ms = v * 1e3;
        let s = format!("{ms:.1}");
        format!("{} ms", s.trim_end_matches('0').trim_end_matches('.'))
    } else {
        format!("{} s", si(*v))
    }
}

/// 0..max padded by 8%, never empty.
pub fn upto(max: f64) -> std::ops::Range<f64> {
    let m = if max.is_finite() && max > 0.0 {
        max * 1.08
    } else {
        1.0
    };
    0.0..m
}

/// Whole decades around the positive values (a log axis).
pub fn decades(values: impl IntoIterator<Item = f64>) -> std::ops::Range<f64> {
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for v in values {
        if v > 0.0 && v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if hi <= 0.0 {
        return 0.1..10.0;
    }
    let lo = 10f64.powf(lo.log10().floor());
    let mut hi = 10f64.powf(hi.log10().ceil());
    if hi <= lo {
        hi = lo * 10.0;
    }
    lo..hi
}

/// Legend keys that tell the runs apart when they are overlaid (solid A, dashed B).
fn run_keys(runs: &[ChartRun]) -> Vec<Key> {
    if runs.len() < 2 {
        return Vec::new();
    }
    runs.iter()
        .enumerate()
        .map(|(i, r)| {
            let mark = if i == 0 { Mark::Line } else { Mark::Dashed };
            Key::new(r.label.clone(), INK, mark)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn ticks() {
        assert_eq!(si(1_500_000.0), "1.5M");
        assert_eq!(si(250_000.0), "250k");
        assert_eq!(si(0.0), "0");
        assert_eq!(si(1e13), "10T");
        assert_eq!(usd_tick(&-2_740_000.0), "-$2.74M");
        assert_eq!(secs_tick(&0.05), "50 ms");
        assert_eq!(secs_tick(&10.0), "10 s");
        assert_eq!(clock(&6.0), "06:00");
        assert_eq!(clock(&0.25), "00:15");
        assert_eq!(decades([3e9, 2.4e12]), 1e9..1e13);
        assert_eq!(log_ticks(8e6, 3e8), vec![1e7, 2e7, 5e7, 1e8, 2e8]);
        // A sweep's log axis from 200 to 2000 reads in round numbers, not "316.23k".
        assert_eq!(log_ticks(200.0, 2000.0), vec![200.0, 500.0, 1000.0, 2000.0]);
        assert_eq!(
            linear_ticks(0.0, 1.0, 5),
            vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
        );
        assert_eq!(
            linear_ticks(150.0, 1050.0, 6),
            vec![200.0, 400.0, 600.0, 800.0, 1000.0]
        );
        assert_eq!(share_tick(&0.85), "85%");
        assert_eq!(share_tick(&0.042), "4.2%");
        assert_eq!(sig3(316_227.8), "316k");
        assert_eq!(sig3(1234.5), "1.23k");
        assert_eq!(sig3(0.04567), "0.0457");
        assert_eq!(sig3(12.345), "12.3");
    }
}
