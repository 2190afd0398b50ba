//! Charts of a run, as SVG and PNG, drawn with plotters and the embedded DejaVu font (so they
//! render the same on a machine without system fonts).
//!
//! The API: a [`ChartKind`] names a chart; [`svg`] and [`png`] draw it for one run or overlay
//! several ([`ChartRun`]s: the first solid, the second dashed). [`chart_reports`] gives the
//! `charts/*.svg`, `charts/*.png` and `charts/daily_tokens.csv` files of a run as [`Report`]s.
//! Every series is read from [`ChartRun`], which holds the rows of hourly.csv and the histogram
//! of charts/daily_tokens.csv, so a reader can check each number against those files.
//!
//! One module per chart: [`utilization`], [`traffic`], [`money`], [`margin`], [`latency`],
//! [`cache`], [`daily_tokens`]; [`style`] holds the shared look.

pub mod cache;
pub mod daily_tokens;
pub mod data;
pub mod figures;
pub mod latency;
pub mod margin;
pub mod money;
pub mod style;
pub mod traffic;
pub mod utilization;

use std::io::Write;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

pub use data::{ChartRun, DailyTokensCsv, TokenBin, token_bins};
pub use style::{Drawn, Theme};

use crate::error::ReportError;
use crate::report::{Report, ReportContext};

/// PNGs are drawn at twice the SVG size, sharp enough for print and slides.
pub const PNG_SCALE: f64 = 2.0;

/// The charts of a run, in the order the report shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    RevenueCost,
    Margin,
    Traffic,
    Utilization,
    Cache,
    Latency,
    DailyTokens,
}

impl ChartKind {
    pub const ALL: [ChartKind; 7] = [
        ChartKind::RevenueCost,
        ChartKind::Margin,
        ChartKind::Traffic,
        ChartKind::Utilization,
        ChartKind::Cache,
        ChartKind::Latency,
        ChartKind::DailyTokens,
    ];

    /// The file stem in charts/.
    pub fn name(self) -> &'static str {
        self.files()
            .0
            .trim_start_matches("charts/")
            .trim_end_matches(".svg")
    }

    /// (SVG file, PNG file), relative to the run directory.
    pub fn files(self) -> (&'static str, &'static str) {
        match self {
            ChartKind::RevenueCost => ("charts/revenue_cost.svg", "charts/revenue_cost.png"),
            ChartKind::Margin => ("charts/margin.svg", "charts/margin.png"),
            ChartKind::Traffic => ("charts/traffic.svg", "charts/traffic.png"),
            ChartKind::Utilization => ("charts/utilization.svg", "charts/utilization.png"),
            ChartKind::Cache => ("charts/cache.svg", "charts/cache.png"),
            ChartKind::Latency => ("charts/latency.svg", "charts/latency.png"),
            ChartKind::DailyTokens => ("charts/daily_tokens.svg", "charts/daily_tokens.png"),
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ChartKind::RevenueCost => "Revenue and cost per hour",
            ChartKind::Margin => "Cumulative margin over the day",
            ChartKind::Traffic => "Calls and tokens per hour",
            ChartKind::Utilization => "Utilization by pool",
            ChartKind::Cache => "KV cache occupancy and prefix-cache hit rate",
            ChartKind::Latency => "Latency per hour",
            ChartKind::DailyTokens => "Daily tokens per agent",
        }
    }

    /// Where the plotted numbers are, for the caption under the chart.
    pub fn source(self) -> &'static str {
        match self {
            ChartKind::RevenueCost => {
                "hourly.csv: cost_hardware_usd, cost_energy_usd, revenue_itemized_usd, \
                 revenue_blended_usd, summed over pools"
            }
            ChartKind::Margin => {
                "hourly.csv: running sums of revenue_itemized_usd − cost_total_usd and \
                 revenue_blended_usd − cost_total_usd"
            }
            ChartKind::Traffic => {
                "hourly.csv: calls_completed, calls_rejected, input_uncached, input_cached, \
                 output, summed over pools"
            }
            ChartKind::Utilization => "hourly.csv: utilization, per pool",
            ChartKind::Cache => "hourly.csv: kv_occupancy, kv_running, prefix_hit_rate, per pool",
            ChartKind::Latency => {
                "hourly.csv: ttft_p50_s, ttft_p99_s, e2e_p50_s, e2e_p99_s, per pool"
            }
            ChartKind::DailyTokens => {
                "charts/daily_tokens.csv (and agents.daily_tokens_p* in summary.json)"
            }
        }
    }

    /// Size in SVG pixels.
    pub fn size(self) -> (u32, u32) {
        match self {
            ChartKind::RevenueCost | ChartKind::Traffic => (1000, 780),
            _ => (1000, 500),
        }
    }

    fn draw<DB: DrawingBackend>(
        self,
        root: &DrawingArea<DB, Shift>,
        t: &Theme,
        runs: &[ChartRun],
    ) -> Drawn {
        match self {
            ChartKind::RevenueCost => money::draw(root, t, runs),
            ChartKind::Margin => margin::draw(root, t, runs),
            ChartKind::Traffic => traffic::draw(root, t, runs),
            ChartKind::Utilization => utilization::draw(root, t, runs),
            ChartKind::Cache => cache::draw(root, t, runs),
            ChartKind::Latency => latency::draw(root, t, runs),
            ChartKind::DailyTokens => daily_tokens::draw(root, t, runs),
        }
    }
}

/// Registers the embedded fonts with plotters, once per process.
fn fonts() -> Result<(), ReportError> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            let bad = |_| "the embedded DejaVu font does not load".to_string();
            plotters::style::register_font(style::FONT, FontStyle::Normal, dejavu::sans::regular())
                .map_err(bad)?;
            plotters::style::register_font(style::FONT, FontStyle::Bold, dejavu::sans::bold())
                .map_err(bad)
        })
        .clone()
        .map_err(|message| ReportError::Chart {
            chart: "(fonts)",
            message,
        })
}

/// Anything drawable as a chart: a name for errors, a size in SVG pixels, and a drawing
/// function over any backend. Run charts, sweep bands, tornadoes and plan frontiers all render
/// through [`figure_svg`] and [`figure_png`].
pub trait Figure {
    fn name(&self) -> &'static str;
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, t: &Theme) -> Drawn;
}

fn figure_err(name: &'static str) -> impl FnOnce(String) -> ReportError {
    move |message| ReportError::Chart {
        chart: name,
        message,
    }
}

/// The figure as an SVG document.
pub fn figure_svg<F: Figure>(f: &F) -> Result<String, ReportError> {
    fonts()?;
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, f.size()).into_drawing_area();
        f.draw(&root, &Theme { scale: 1.0 })
            .and_then(|()| root.present().map_err(style::err))
            .map_err(figure_err(f.name()))?;
    }
    Ok(s)
}

/// The figure as PNG bytes, at [`PNG_SCALE`] times the SVG size.
pub fn figure_png<F: Figure>(f: &F) -> Result<Vec<u8>, ReportError> {
    fonts()?;
    let (w, h) = f.size();
    let (w, h) = ((w as f64 * PNG_SCALE) as u32, (h as f64 * PNG_SCALE) as u32);
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        f.draw(&root, &Theme { scale: PNG_SCALE })
            .and_then(|()| root.present().map_err(style::err))
            .map_err(figure_err(f.name()))?;
    }
    let mut out = Vec::new();
    {
        let e = |e: png::EncodingError| figure_err(f.name())(e.to_string());
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().map_err(e)?;
        wr.write_image_data(&rgb).map_err(e)?;
        wr.finish().map_err(e)?;
    }
    Ok(out)
}

/// A run chart with the runs it plots.
struct RunChart<'a>(ChartKind, &'a [ChartRun]);

impl Figure for RunChart<'_> {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn size(&self) -> (u32, u32) {
        self.0.size()
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, t: &Theme) -> Drawn {
        self.0.draw(root, t, self.1)
    }
}

/// The chart as an SVG document.
pub fn svg(kind: ChartKind, runs: &[ChartRun]) -> Result<String, ReportError> {
    figure_svg(&RunChart(kind, runs))
}

/// The chart as PNG bytes, at [`PNG_SCALE`] times the SVG size.
pub fn png(kind: ChartKind, runs: &[ChartRun]) -> Result<Vec<u8>, ReportError> {
    figure_png(&RunChart(kind, runs))
}

/// One chart file of a run.
pub struct ChartFile {
    pub kind: ChartKind,
    pub png: bool,
}

impl Report for ChartFile {
    fn file_name(&self) -> &'static str {
        let (svg, png) = self.kind.files();
        if self.png { png } else { svg }
    }
    fn write(&self, ctx: &ReportContext, out: &mut dyn Write) -> Result<(), ReportError> {
        let runs = [ChartRun::of(ctx)];
        let bytes = if self.png {
            png(self.kind, &runs)?
        } else {
            svg(self.kind, &runs)?.into_bytes()
        };
        out.write_all(&bytes).map_err(|e| ReportError::Format {
            file: self.file_name(),
            message: e.to_string(),
        })
    }
}

/// The chart files of a run: every chart as SVG and PNG, and the histogram data.
pub fn chart_reports() -> Vec<Box<dyn Report>> {
    let mut out: Vec<Box<dyn Report>> = vec![Box::new(DailyTokensCsv)];
    for kind in ChartKind::ALL {
        out.push(Box::new(ChartFile { kind, png: false }));
        out.push(Box::new(ChartFile { kind, png: true }));
    }
    out
}
