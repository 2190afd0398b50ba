//! The run charts: a [`ChartKind`] drawn for one run or several overlaid ([`ChartRun`]s: the
//! first solid, the second dashed), as SVG ([`svg()`]) or PNG ([`png()`]), and the chart files of a
//! run directory as [`Report`]s ([`chart_reports`]).

use std::io::Write;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::{ChartRun, DailyTokensCsv};
use super::error::Drawn;
use super::kind::ChartKind;
use super::render::{Figure, figure_png, figure_svg};
use super::style::Theme;
use super::{cache, daily_tokens, latency, margin, money, traffic, utilization};
use crate::error::{ReportError, format_err};
use crate::report::{Report, ReportContext};

/// Draws chart `kind` of `runs` (each chart is drawn by its own module).
// The chart modules' `draw`s share this signature, and so their first lines; not their code.
fn draw<DB: DrawingBackend>(
    kind: ChartKind,
    root: &DrawingArea<DB, Shift>,
    t: &Theme,
    runs: &[ChartRun],
) -> Drawn {
    match kind {
        ChartKind::RevenueCost => money::draw(root, t, runs),
        ChartKind::Margin => margin::draw(root, t, runs),
        ChartKind::Traffic => traffic::draw(root, t, runs),
        ChartKind::Utilization => utilization::draw(root, t, runs),
        ChartKind::Cache => cache::draw(root, t, runs),
        ChartKind::Latency => latency::draw(root, t, runs),
        ChartKind::DailyTokens => daily_tokens::draw(root, t, runs),
    }
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
        draw(self.0, root, t, self.1)
    }
}

/// The chart as an SVG document.
pub fn svg(kind: ChartKind, runs: &[ChartRun]) -> Result<String, ReportError> {
    figure_svg(&RunChart(kind, runs))
}

/// The chart as PNG bytes, at [`PNG_SCALE`](super::render::PNG_SCALE) times the SVG size.
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
        out.write_all(&bytes).map_err(format_err(self.file_name()))
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
