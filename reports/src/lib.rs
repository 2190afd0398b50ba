//! # tokenfleet-reports: what a run leaves behind
//!
//! Reads a finished run ([`tokenfleet_sim::RunOutput`] with its [`tokenfleet_sim::Setup`]) and
//! writes it out; it never simulates. [`summary::Summary`] computes the headline figures once;
//! each output file is one [`Report`] implementation in its own module (`summary.json`,
//! `hourly.csv`, `calls_sample.csv`), and [`table`] renders the short table printed at the end
//! of a run. [`write_reports`] writes them into a temporary directory and renames it into place
//! only when every file is complete, so an interrupted run never leaves a half report that
//! looks whole.

pub mod calls;
pub mod economics;
pub mod hourly;
pub mod json;
pub mod partial;
pub mod plan;
pub mod summary;
pub mod table;

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tokenfleet_sim::{RunOutput, Setup};

pub use summary::Summary;

/// What a report reads.
pub struct ReportContext<'a> {
    pub setup: &'a Setup,
    pub run: &'a RunOutput,
    pub summary: &'a Summary,
}

/// Why outputs could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{file}: {message}")]
    Format { file: &'static str, message: String },
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },
}

/// One output file.
pub trait Report {
    /// The file's name in the output directory.
    fn file_name(&self) -> &'static str;
    /// Writes the whole file.
    fn write(&self, ctx: &ReportContext, out: &mut dyn Write) -> Result<(), ReportError>;
}

/// The reports every run writes.
pub fn standard_reports() -> Vec<Box<dyn Report>> {
    vec![
        Box::new(json::SummaryJson),
        Box::new(hourly::HourlyCsv),
        Box::new(calls::CallsSampleCsv),
    ]
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `reports` into `dir` atomically (see [`write_files`]).
pub fn write_reports(
    dir: &Path,
    ctx: &ReportContext,
    reports: &[Box<dyn Report>],
) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = Vec::new();
    for r in reports {
        let mut buf = Vec::new();
        r.write(ctx, &mut buf)?;
        files.push((r.file_name().to_string(), buf));
    }
    write_files(dir, &files)
}

/// Writes `files` (relative path, bytes) into `dir`: first into a sibling temporary directory,
/// then renamed into place, replacing an earlier run's directory only once the new one is
/// complete, so an interrupted run never leaves a half report that looks whole.
pub fn write_files(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<Vec<PathBuf>, ReportError> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io_err(parent))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = parent.join(format!(".{name}.partial-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io_err(&tmp))?;
    }
    fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
    let result = (|| {
        let mut written = Vec::new();
        for (rel, bytes) in files {
            let path = tmp.join(rel);
            if let Some(d) = path.parent() {
                fs::create_dir_all(d).map_err(io_err(d))?;
            }
            let mut f = BufWriter::new(fs::File::create(&path).map_err(io_err(&path))?);
            f.write_all(bytes).map_err(io_err(&path))?;
            f.flush().map_err(io_err(&path))?;
            f.get_ref().sync_all().map_err(io_err(&path))?;
            written.push(dir.join(rel));
        }
        Ok(written)
    })();
    let written = match result {
        Ok(w) => w,
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    if dir.exists() {
        let old = parent.join(format!(".{name}.old-{}", std::process::id()));
        fs::rename(dir, &old).map_err(io_err(dir))?;
        fs::rename(&tmp, dir).map_err(io_err(dir))?;
        let _ = fs::remove_dir_all(&old);
    } else {
        fs::rename(&tmp, dir).map_err(io_err(dir))?;
    }
    Ok(written)
}
