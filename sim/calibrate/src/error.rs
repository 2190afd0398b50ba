//! Why calibration or validation could not run: the one error type of the fits, the readers
//! of the measured files and the predictions they are checked with.

use tokenfleet_models::perf::PerfError;

use crate::closed_loop::BenchError;

/// Why calibration or validation could not run.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error("{file} line {line}: {reason}")]
    Csv {
        file: String,
        line: usize,
        reason: String,
    },
    #[error("unknown {what} `{id}`")]
    Unknown { what: &'static str, id: String },
    #[error("{0}")]
    Perf(#[from] PerfError),
    #[error("{0}")]
    Bench(#[from] BenchError),
    #[error("{0}")]
    Calibration(#[from] tokenfleet_models::perf::CalibrationError),
    #[error("no measured rows for {0}")]
    NoData(String),
    #[error("the calibration has no [holdout.{0}] profile to run the power readings with")]
    NoPowerProfile(&'static str),
}
