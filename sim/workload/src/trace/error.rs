//! Why a trace cannot be read. Every format reports a bad line the same way, naming the file
//! and the line: a message about a field, or a JSON document that does not parse (truncated,
//! or invalid).

/// Why a trace cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TraceError {
    #[error("cannot read {file}: {message}")]
    Io { file: String, message: String },
    #[error("{file}: line {line}: {message}")]
    Line {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: {message}")]
    File { file: String, message: String },
}

pub(super) fn line_err(file: &str, line: usize, message: impl Into<String>) -> TraceError {
    TraceError::Line {
        file: file.to_string(),
        line,
        message: message.into(),
    }
}

pub(super) fn json_line_err(file: &str, line: usize, e: &serde_json::Error) -> TraceError {
    let what = if e.is_eof() {
        "truncated JSON"
    } else {
        "invalid JSON"
    };
    line_err(file, line, format!("{what}: {e}"))
}
