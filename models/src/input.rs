//! Opening the files a user names: regular files only, each kind with a size limit.
//!
//! A named pipe given as a scenario would block a read for ever, and `/dev/zero` as a trace
//! would fill memory until the kernel kills the process. So every reader of a user-named file
//! (scenarios, the data files they name, traces, partial results, calibration data) goes
//! through here: the file's type is checked before it is opened (following links), its size
//! against the limit of its kind before it is read, and the read itself stops one byte past
//! the limit, so a file that grows meanwhile is caught too. It lives in the bottom crate so
//! that every crate above reads the same way; the limits are stated in docs/errors.md.

use std::io::Read;
use std::path::Path;

/// The largest scenario file: the biggest shipped one is about 10 kB.
pub const SCENARIO_MAX_BYTES: u64 = 1 << 20;
/// The largest data file a scenario names (a model's config.json, a LiteLLM price file, an
/// empirical distribution's CSV): LiteLLM's whole price list is about 1.5 MB.
pub const DATA_MAX_BYTES: u64 = 64 << 20;
/// The largest trace file: the Azure LLM inference traces of a week are a few GB.
pub const TRACE_MAX_BYTES: u64 = 8 << 30;
/// The largest partial result or file of a run directory read back.
pub const RESULT_MAX_BYTES: u64 = 2 << 30;

/// Why a user-named file cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    #[error("{path}: not a regular file ({kind}); accepted: a regular file")]
    NotRegular { path: String, kind: &'static str },
    #[error(
        "{path}: {size}, more than the {limit} limit for {what}; accepted: a file of at most {limit}"
    )]
    TooLarge {
        path: String,
        size: String,
        limit: String,
        what: &'static str,
    },
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

/// The bytes of `path`, a regular file of at most `limit` bytes (`what` names the kind in the
/// message: "a scenario", "a trace").
pub fn read_bytes(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, InputError> {
    let shown = path.display().to_string();
    let io = |e: std::io::Error| InputError::Io {
        path: shown.clone(),
        message: e.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(InputError::NotRegular {
            path: shown,
            kind: kind(&meta),
        });
    }
    let too_large = |size: u64| InputError::TooLarge {
        path: shown.clone(),
        size: bytes(size),
        limit: bytes(limit),
        what,
    };
    if meta.len() > limit {
        return Err(too_large(meta.len()));
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(limit + 1).read_to_end(&mut buf))
        .map_err(io)?;
    if buf.len() as u64 > limit {
        return Err(too_large(buf.len() as u64));
    }
    Ok(buf)
}

/// The text of `path` (see [`read_bytes`]); bytes that are not UTF-8 are an error.
pub fn read_string(path: &Path, limit: u64, what: &'static str) -> Result<String, InputError> {
    String::from_utf8(read_bytes(path, limit, what)?).map_err(|_| InputError::Io {
        path: path.display().to_string(),
        message: "not UTF-8 text".into(),
    })
}

/// What a file system entry is, in words ("a named pipe", "a directory").
pub fn kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

fn bytes(n: u64) -> String {
    let n = n as f64;
    if n >= 1e9 {
        format!("{:.1} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1} MB", n / 1e6)
    } else {
        format!("{:.0} kB", (n / 1e3).ceil())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_files_are_refused_by_type_and_big_ones_by_size() {
        let e = read_bytes(Path::new("/dev/zero"), 10, "a trace").unwrap_err();
        assert!(e.to_string().contains("a character device"), "{e}");
        let dir = std::env::temp_dir();
        let e = read_bytes(&dir, 10, "a trace").unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
        let f = dir.join(format!("tokenfleet-input-{}", std::process::id()));
        std::fs::write(&f, vec![b'x'; 2000]).unwrap();
        let e = read_bytes(&f, 1000, "a scenario").unwrap_err().to_string();
        assert!(
            e.contains("2 kB, more than the 1 kB limit for a scenario"),
            "{e}"
        );
        assert_eq!(read_bytes(&f, 2000, "a scenario").unwrap().len(), 2000);
        std::fs::remove_file(&f).unwrap();
    }
}
