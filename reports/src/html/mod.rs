//! report.html: the run as one self-contained page to read or paste into a memo. Charts are
//! inlined as SVG, the CSS is inline, there are no scripts and no external assets, and nothing
//! in it depends on the clock or the thread count (the file is byte-identical across runs of
//! the same scenario and seed).
//!
//! Sections: key figures, blended vs itemized pricing ([`economics`]), the headline table, the
//! charts, the scenario's assumptions ([`assumptions`]). [`page`](mod@page) and the small
//! helpers of [`markup`] are shared with compare.html and the sweep, sensitivity and plan
//! reports. [`report`] writes report.html; this file only declares the modules and re-exports.

pub mod assumptions;
pub mod economics;
pub mod made;
pub mod markup;
pub mod page;
pub mod report;

pub use markup::{Align, Row, classed_table, esc, kv_table, pct, rate, secs, signed_money, table};
pub use page::{figures, page};
pub use report::{REPORT_FILE, ReportHtml, headline, render};
