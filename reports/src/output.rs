//! Where an output may go: the one rule every command that writes obeys before it starts and
//! again just before it renames its output into place.
//!
//! An output path may be new, an empty directory, or a directory tokenfleet wrote earlier (its
//! manifest lists everything in it). Anything else is the user's and is never replaced, with
//! or without `--force`: an existing file (the input scenario itself, a thesis, a device node),
//! a symbolic link, a directory holding files the manifest does not list, or a directory that
//! holds one of the command's own inputs. The user chooses another path or removes it; a tool
//! that deletes what it did not write loses data no flag can bring back.
//!
//! Default output paths are `out/<name>`, with the name a scenario gives: [`default_dir`] checks
//! it is one plain path component, so that `name = "../victim"` or `"/etc"` cannot point the
//! output outside `out/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::ReportError;
use crate::manifest::{MANIFEST_FILE, read_marker};
pub use tokenfleet_models::names::{NAME_MAX_BYTES, name_problem};

/// `out/<name>`, the default output of a command, once `name` is checked to be one plain path
/// component.
pub fn default_dir(name: &str) -> Result<PathBuf, ReportError> {
    match name_problem(name) {
        None => Ok(Path::new("out").join(name)),
        Some(why) => Err(ReportError::Refused {
            path: PathBuf::from(format!("out/{name}")),
            message: format!(
                "the output directory's name {why} (give the scenario another `name`, or \
                 --out DIR)"
            ),
        }),
    }
}

/// Checks that `dir` may be written (created, or replaced whole) by a command reading
/// `inputs`. See the module's doc for the rule.
pub fn check_dir(dir: &Path, inputs: &[&Path]) -> Result<(), ReportError> {
    let refuse = |what: String| {
        Err(ReportError::Refused {
            path: dir.to_path_buf(),
            message: format!(
                "{what}; tokenfleet replaces only what it wrote (a directory whose \
                 {MANIFEST_FILE} lists everything in it), even with --force: choose another \
                 --out, or move it away yourself"
            ),
        })
    };
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return refuse(format!("cannot be inspected ({e})")),
    };
    if let Some(input) = inputs.iter().find(|i| same_file(dir, i)) {
        return refuse(format!("is {}, an input of this command", input.display()));
    }
    if meta.file_type().is_symlink() {
        return refuse("is a symbolic link".into());
    }
    if !meta.is_dir() {
        return refuse(format!("is {}, not a directory", kind_of(&meta)));
    }
    if let Some(input) = inputs.iter().find(|i| contains(dir, i)) {
        return refuse(format!(
            "holds {}, an input of this command",
            input.display()
        ));
    }
    let entries: Vec<String> = match std::fs::read_dir(dir) {
        Ok(es) => es
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(e) => return refuse(format!("cannot be listed ({e})")),
    };
    if entries.is_empty() {
        return Ok(());
    }
    let Some(m) = read_marker(dir) else {
        return refuse(format!(
            "is a directory tokenfleet did not write (it holds {} and no {MANIFEST_FILE} of \
             tokenfleet's)",
            some_of(&entries)
        ));
    };
    let listed: BTreeSet<&str> = m
        .files
        .iter()
        .filter_map(|f| f.path.split('/').next())
        .chain([MANIFEST_FILE])
        .collect();
    let unlisted: Vec<String> = entries
        .into_iter()
        .filter(|e| !listed.contains(e.as_str()))
        .collect();
    if !unlisted.is_empty() {
        return refuse(format!(
            "is an earlier tokenfleet output that now also holds {}, which its \
             {MANIFEST_FILE} does not list",
            some_of(&unlisted)
        ));
    }
    Ok(())
}

/// Checks that the single file `path` may be written (created, or replaced) by a command
/// reading `inputs`: it must be new, or a regular file whose first line is `marker` (what
/// tokenfleet writes at the top of such a file), and not one of the inputs.
pub fn check_file(path: &Path, inputs: &[&Path], marker: &str) -> Result<(), ReportError> {
    let refuse = |what: String| {
        Err(ReportError::Refused {
            path: path.to_path_buf(),
            message: format!(
                "{what}; tokenfleet replaces only a file it wrote (one starting with \
                 `{marker}`), even with --force: choose another --out, or move it away yourself"
            ),
        })
    };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return refuse(format!("cannot be inspected ({e})")),
    };
    if meta.file_type().is_symlink() {
        return refuse("is a symbolic link".into());
    }
    if !meta.is_file() {
        return refuse(format!("is {}", kind_of(&meta)));
    }
    if inputs.iter().any(|i| same_file(path, i)) {
        return refuse("is an input of this command".into());
    }
    let mut head = [0u8; 256];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    if !head[..n].starts_with(marker.as_bytes()) {
        return refuse("is a file tokenfleet did not write".into());
    }
    Ok(())
}

/// What an entry at an output path is, in words ("an existing file", "a character device").
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    if meta.is_file() {
        "an existing file"
    } else {
        tokenfleet_models::input::kind(meta)
    }
}

/// Whether `inner` is `dir` or inside it, once both are resolved.
fn contains(dir: &Path, inner: &Path) -> bool {
    match (dir.canonicalize(), inner.canonicalize()) {
        (Ok(d), Ok(i)) => i.starts_with(d),
        _ => false,
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Up to three names, for a message.
fn some_of(names: &[String]) -> String {
    let mut sorted: Vec<&String> = names.iter().collect();
    sorted.sort();
    let shown: Vec<String> = sorted.iter().take(3).map(|n| format!("`{n}`")).collect();
    match names.len() {
        n if n > 3 => format!("{} and {} more", shown.join(", "), n - 3),
        _ => shown.join(", "),
    }
}
