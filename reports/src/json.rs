//! summary.json: the headline figures (see [`crate::summary::Summary`]).

use std::io::Write;

use crate::error::ReportError;
use crate::report::{Report, ReportContext};

pub struct SummaryJson;

impl Report for SummaryJson {
    fn file_name(&self) -> &'static str {
        "summary.json"
    }
    fn write(&self, ctx: &ReportContext, out: &mut dyn Write) -> Result<(), ReportError> {
        let err = |e: &dyn std::fmt::Display| ReportError::Format {
            file: "summary.json",
            message: e.to_string(),
        };
        serde_json::to_writer_pretty(&mut *out, ctx.summary).map_err(|e| err(&e))?;
        out.write_all(b"\n").map_err(|e| err(&e))
    }
}
