//! The files every run writes, in order: the one list the CLI's `run` and `merge` both write,
//! so that a merged run directory is the same as an unsharded one.

use crate::calls::CallsSampleCsv;
use crate::charts::draw::chart_reports;
use crate::hourly::HourlyCsv;
use crate::html::ReportHtml;
use crate::json::SummaryJson;
use crate::report::Report;

/// The reports every run writes (the writer adds the manifest listing them).
pub fn standard_reports() -> Vec<Box<dyn Report>> {
    let mut out: Vec<Box<dyn Report>> = vec![
        Box::new(SummaryJson),
        Box::new(HourlyCsv),
        Box::new(CallsSampleCsv),
    ];
    out.extend(chart_reports());
    out.push(Box::new(ReportHtml));
    out
}
