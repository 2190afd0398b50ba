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

/// A reader of a user-named file that fails once more than its limit has been read (a file
/// that grows while it is read).
#[derive(Debug)]
pub struct Bounded {
    file: std::io::Take<std::fs::File>,
    read: u64,
    limit: u64,
    what: &'static str,
}

impl Read for Bounded {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "grew past the {} limit for {} while it was read; accepted: a file of at most {}",
                    bytes(self.limit),
                    self.what,
                    bytes(self.limit)
                ),
            ));
        }
        Ok(n)
    }
}

/// Opens `path`, a regular file of at most `limit` bytes (`what` names the kind in the
/// message: "a scenario", "a trace"), for reading as a stream: for traces too large to hold
/// as text.
pub fn open(path: &Path, limit: u64, what: &'static str) -> Result<Bounded, InputError> {
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
    if meta.len() > limit {
        return Err(InputError::TooLarge {
            path: shown,
            size: bytes(meta.len()),
            limit: bytes(limit),
            what,
        });
    }
    let file = std::fs::File::open(path).map_err(io)?;
    Ok(Bounded {
        file: file.take(limit + 1),
        read: 0,
        limit,
        what,
    })
}

/// The bytes of `path`, a regular file of at most `limit` bytes (see [`open`]).
pub fn read_bytes(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, InputError> {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut reader = open(path, limit, what)?;
    let mut buf = Vec::with_capacity(size.min(limit) as usize);
    reader.read_to_end(&mut buf).map_err(|e| InputError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
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
