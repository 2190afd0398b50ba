//! Why outputs could not be written or read back: [`ReportError`], the one error type of the
//! crate, and the helpers that build its variants from the errors of the file system and of
//! the formats (so that every file names itself the same way in a message).

use std::io;
use std::path::{Path, PathBuf};

use tokenfleet_engine::interrupt::Interrupted;

use crate::charts::error::DrawError;

/// Why outputs could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{file}: {message}")]
    Format { file: &'static str, message: String },
    /// A chart could not be drawn.
    #[error("chart {chart}: {error}")]
    Chart {
        chart: &'static str,
        error: DrawError,
    },
    /// A file of a run directory exists but cannot be read back.
    #[error("{path}: {message}")]
    Read { path: PathBuf, message: String },
    /// An output path that holds something tokenfleet did not write (or a name that would
    /// put the output outside `out/`): refused, never replaced.
    #[error("{path}: refused: {message}")]
    Refused { path: PathBuf, message: String },
    /// The run was interrupted: what it computed was not written.
    #[error("interrupted")]
    Interrupted(#[from] Interrupted),
}

/// A file of a run directory that does not parse, with the likely reason.
pub(crate) fn read_err(path: &Path, e: impl std::fmt::Display) -> ReportError {
    ReportError::Read {
        path: path.to_path_buf(),
        message: format!(
            "{e} (not written by this version of tokenfleet? run the scenario again to rewrite it)"
        ),
    }
}

/// `file` could not be written: the error's text (of the format's serializer, the CSV writer
/// or the output).
pub(crate) fn format_err<E: std::fmt::Display>(
    file: &'static str,
) -> impl Fn(E) -> ReportError + Copy {
    move |e| ReportError::Format {
        file,
        message: e.to_string(),
    }
}

/// An I/O error on `path`.
pub(crate) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}
