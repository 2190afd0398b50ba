//! calls_sample.csv: a deterministic uniform sample of individual calls (unscaled), with exact
//! revenue so that sums over the file can be checked against the ledger.

use std::io::Write;

use serde::Serialize;

use crate::error::ReportError;
use crate::formats::write_csv;
use crate::report::{Report, ReportContext};

pub struct CallsSampleCsv;

#[derive(Serialize)]
struct Row<'a> {
    agent: u64,
    segment: &'a str,
    task: u32,
    step: u32,
    compaction: bool,
    start_s: f64,
    input_uncached: u32,
    input_cached: u32,
    output: u32,
    ttft_s: f64,
    e2e_s: f64,
    pool: &'a str,
    revenue_usd: String,
    revenue_blended_usd: String,
}

impl Report for CallsSampleCsv {
    fn file_name(&self) -> &'static str {
        "calls_sample.csv"
    }
    fn write(&self, ctx: &ReportContext, out: &mut dyn Write) -> Result<(), ReportError> {
        let setup = ctx.setup;
        let rows = ctx.run.calls.iter().map(|c| Row {
            agent: c.agent,
            segment: &setup.segments[c.segment as usize].name,
            task: c.task,
            step: c.step,
            compaction: c.compaction,
            start_s: c.issued.secs(),
            input_uncached: c.input_uncached,
            input_cached: c.input_cached,
            output: c.output,
            ttft_s: c.ttft.secs(),
            e2e_s: c.e2e.secs(),
            pool: &setup.pools[c.pool as usize].name,
            revenue_usd: c.revenue.exact_usd_string(),
            revenue_blended_usd: c.revenue_blended.exact_usd_string(),
        });
        write_csv("calls_sample.csv", rows, out)
    }
}
