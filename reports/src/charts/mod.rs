//! Charts of a run, as SVG and PNG, drawn with plotters and the embedded DejaVu font (so they
//! render the same on a machine without system fonts).
//!
//! The API: a [`ChartKind`] names a chart; [`svg()`] and [`png()`] draw it for one run or overlay
//! several ([`ChartRun`]s: the first solid, the second dashed). [`chart_reports`] gives the
//! `charts/*.svg`, `charts/*.png` and `charts/daily_tokens.csv` files of a run as
//! [`Report`](crate::Report)s.
//! Every series is read from [`ChartRun`], which holds the rows of hourly.csv and the histogram
//! of charts/daily_tokens.csv, so a reader can check each number against those files.
//!
//! One module per chart: [`utilization`], [`traffic`], [`money`], [`margin`], [`latency`],
//! [`cache`], [`daily_tokens`]; [`style`] holds the shared look, [`kind`] the charts' names,
//! [`render`] the [`Figure`] trait and its SVG and PNG rendering, [`draw`] the run charts and
//! their files, [`figures`] the charts of sweeps, sensitivity analyses and plans. This file only
//! declares them and re-exports the API.

pub mod cache;
pub mod daily_tokens;
pub mod data;
pub mod draw;
pub mod error;
pub mod figures;
pub mod kind;
pub mod latency;
pub mod margin;
pub mod money;
pub mod render;
pub mod style;
pub mod traffic;
pub mod utilization;

pub use data::{ChartRun, DailyTokensCsv, TokenBin, token_bins};
pub use draw::{ChartFile, chart_reports, png, svg};
pub use error::{DrawError, Drawn};
pub use kind::ChartKind;
pub use render::{Figure, PNG_SCALE, figure_png, figure_svg};
pub use style::Theme;
