//! The crate's central trait: a [`Report`] is one output file of a run, written from the
//! [`ReportContext`] (the setup, the run and its [`Summary`]). Every file a run leaves behind
//! implements it, so that they are all written the same way (see `write_reports`).

use std::io::Write;

use tokenfleet_fleet::run::RunOutput;
use tokenfleet_setup::Setup;

use crate::error::ReportError;
use crate::summary::types::Summary;

/// What a report reads.
pub struct ReportContext<'a> {
    pub setup: &'a Setup,
    pub run: &'a RunOutput,
    pub summary: &'a Summary,
    /// The command line and the scenario as run.
    pub made: &'a crate::manifest::Made,
}

/// One output file.
pub trait Report {
    /// The file's name in the output directory.
    fn file_name(&self) -> &'static str;
    /// Writes the whole file.
    fn write(&self, ctx: &ReportContext, out: &mut dyn Write) -> Result<(), ReportError>;
}
