//! `tokenfleet fit TRACE`: reads a trace and prints its distributions as a scenario fragment
//! (the fitting is `tokenfleet_workload::trace::fit`).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use tokenfleet_workload::trace;
use tokenfleet_workload::trace::Format;
use tokenfleet_workload::trace::fit::fragment;
use tokenfleet_workload::trace::sample::Summary;

#[derive(Args)]
pub struct FitArgs {
    /// Trace file (Azure CSV, Mooncake JSONL, Claude Code JSON or a directory of them).
    trace: PathBuf,
    /// The trace's format (default: from the extension).
    #[arg(long, value_name = "FORMAT", value_parser = ["azure", "mooncake", "claude-code"])]
    format: Option<String>,
}

pub fn fit(a: FitArgs) -> Result<()> {
    let format = match &a.format {
        Some(f) => Format::parse(f).expect("clap checked the value"),
        None => trace::guess_format(&a.trace).with_context(|| {
            format!(
                "{}: cannot tell the format from the name; give --format azure|mooncake|claude-code",
                a.trace.display()
            )
        })?,
    };
    // Azure's CSV is read as a stream (a week of it is gigabytes); the other formats are
    // small and need the whole trace to chain requests by prefix or to walk sessions.
    let shown = a.trace.display().to_string();
    let t = match format {
        Format::Azure => Summary::of_azure(&shown, trace::open(&a.trace)?)?,
        _ => Summary::of(&trace::read(&a.trace, format)?),
    };
    if t.rows == 0 {
        bail!("{}: no requests", a.trace.display());
    }
    print!("{}", fragment(&t, &shown));
    Ok(())
}
