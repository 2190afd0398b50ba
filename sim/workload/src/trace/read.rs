//! Reading traces: Azure CSV, Mooncake JSONL and Claude Code session JSON. [`guess_format`]
//! tells the format from the file name; [`read`] checks that the text is UTF-8 and runs the
//! format's parser (each format has its own file). Claude Code sessions may also come as a
//! directory of files, read in name order.
//!
//! Every error names the file, the line and the field, and none panics: a truncated line, a
//! number that is not one, timestamps out of order and an empty file are all reported as a
//! [`TraceError`].

use std::path::Path;

use super::error::{TraceError, line_err};
use super::model::{Format, Trace};
use super::{azure, claude_code, mooncake};

/// Guesses the format from the file name: `.csv` Azure, `.jsonl` Mooncake, `.json` (or a
/// directory of them) Claude Code.
pub fn guess_format(path: &Path) -> Option<Format> {
    if path.is_dir() {
        return Some(Format::ClaudeCode);
    }
    match path.extension()?.to_str()? {
        "csv" => Some(Format::Azure),
        "jsonl" => Some(Format::Mooncake),
        "json" => Some(Format::ClaudeCode),
        _ => None,
    }
}

/// Reads a trace file (or, for Claude Code, a directory of session files).
pub fn read(path: &Path, format: Format) -> Result<Trace, TraceError> {
    let file = path.display().to_string();
    let trace = match format {
        Format::Azure => azure::read(&file, open(path)?)?,
        Format::Mooncake => mooncake::parse(&file, &read_text(path)?)?,
        Format::ClaudeCode if path.is_dir() => {
            let mut files: Vec<_> = std::fs::read_dir(path)
                .map_err(|e| TraceError::Io {
                    file: file.clone(),
                    message: e.to_string(),
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json" || x == "jsonl"))
                .collect();
            files.sort();
            let mut sessions = Vec::new();
            for f in &files {
                let name = f.display().to_string();
                sessions.extend(claude_code::parse(&name, &read_text(f)?)?.sessions);
            }
            if sessions.is_empty() {
                return Err(TraceError::File {
                    file,
                    message: "no .json session files in this directory".into(),
                });
            }
            Trace::from_sessions(format, file.clone(), sessions)
        }
        Format::ClaudeCode => claude_code::parse(&file, &read_text(path)?)?,
    };
    Ok(trace)
}

/// A trace file as a buffered stream (for the formats read line by line).
pub fn open(path: &Path) -> Result<impl std::io::BufRead, TraceError> {
    let file = path.display().to_string();
    let limit = tokenfleet_models::input::TRACE_MAX_BYTES;
    let reader =
        tokenfleet_models::input::open(path, limit, "a trace").map_err(|e| TraceError::Io {
            file: file.clone(),
            message: e.to_string().replacen(&format!("{file}: "), "", 1),
        })?;
    Ok(std::io::BufReader::with_capacity(1 << 20, reader))
}

/// A trace file's text. A UTF-8 byte-order mark (spreadsheets write one) is dropped; bytes that
/// are not UTF-8 are an error naming their line.
fn read_text(path: &Path) -> Result<String, TraceError> {
    let file = path.display().to_string();
    let limit = tokenfleet_models::input::TRACE_MAX_BYTES;
    let mut bytes = tokenfleet_models::input::read_bytes(path, limit, "a trace").map_err(|e| {
        TraceError::Io {
            file: file.clone(),
            message: e.to_string().replacen(&format!("{file}: "), "", 1),
        }
    })?;
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    tokenfleet_engine::text::utf8(bytes).map_err(|e| {
        line_err(
            &file,
            e.line,
            format!(
                "not UTF-8 text (byte {}); accepted: a CSV or JSON trace in UTF-8",
                e.byte
            ),
        )
    })
}
