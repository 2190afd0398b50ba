//! summary.json: the headline figures (see [`crate::summary::Summary`]).

use std::io::Write;

use crate::error::ReportError;
use crate::formats::write_json;
use crate::report::{Report, ReportContext};

pub struct SummaryJson;

impl Report for SummaryJson {
    fn file_name(&self) -> &'static str {
        "summary.json"
    }
    fn write(&self, ctx: &ReportContext, out: &mut dyn Write) -> Result<(), ReportError> {
        write_json("summary.json", ctx.summary, true, out)
    }
}
