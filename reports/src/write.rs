//! How output files reach the disk: each through a buffer and synced, and a whole directory (or
//! one file) atomically, so that an interrupted run never leaves a half report that looks whole.
//!
//! A directory is filled beside its final place and renamed into it only when every file is
//! complete; the temporaries are registered with `tokenfleet_engine::interrupt`, so that a forced
//! exit removes them too.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tokenfleet_engine::interrupt;

use crate::error::{ReportError, io_err};
use crate::manifest::{self, OutputMeta};
use crate::output;
use crate::report::{Report, ReportContext};

/// Writes `reports` into `dir`: first into a sibling temporary directory, then renamed into
/// place, replacing an earlier run's directory only once the new one is complete.
pub fn write_reports(
    dir: &Path,
    meta: &OutputMeta,
    ctx: &ReportContext,
    reports: &[Box<dyn Report>],
) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::new();
    write_dir_atomically(dir, meta, |tmp| {
        for r in reports {
            write_file(tmp, r.file_name(), |w| r.write(ctx, w))?;
            written.push(dir.join(r.file_name()));
        }
        Ok::<(), ReportError>(())
    })?;
    Ok(written)
}

/// Writes `files` (relative path, bytes) into `dir` atomically (see [`write_dir_atomically`]).
pub fn write_files(
    dir: &Path,
    meta: &OutputMeta,
    files: &[(String, Vec<u8>)],
) -> Result<Vec<PathBuf>, ReportError> {
    write_dir_atomically(dir, meta, |tmp| {
        for (name, bytes) in files {
            write_file(tmp, name, |w| {
                w.write_all(bytes).map_err(io_err(&tmp.join(name)))
            })?;
        }
        Ok::<(), ReportError>(())
    })?;
    Ok(files.iter().map(|(n, _)| dir.join(n)).collect())
}

/// Writes `dir/name` (creating subdirectories) through a buffer, and syncs it to disk.
pub fn write_file(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut dyn Write) -> Result<(), ReportError>,
) -> Result<(), ReportError> {
    let path = dir.join(name);
    if let Some(sub) = path.parent() {
        fs::create_dir_all(sub).map_err(io_err(sub))?;
    }
    let file = fs::File::create(&path).map_err(io_err(&path))?;
    let mut w = BufWriter::new(file);
    write(&mut w)?;
    w.flush().map_err(io_err(&path))?;
    w.get_ref().sync_all().map_err(io_err(&path))
}

/// Fills a fresh temporary directory beside `dir` with `fill`, adds its manifest, then puts
/// it in `dir`'s place only if `fill` succeeded and the run was not interrupted; on failure
/// the temporary directory is removed and `dir` is left as it was.
///
/// `dir` must be one [`output::check_dir`] accepts (new, empty, or an earlier tokenfleet
/// output): checked before filling and again just before the swap, so a file the user put
/// there meanwhile is not lost either. On Linux the swap is one `renameat2(RENAME_EXCHANGE)`:
/// at every instant `dir` is either the earlier output or the new one, whole, and what is left
/// to remove afterwards is the earlier one under the temporary name.
///
/// The temporary directory (`.NAME.partial-PID`, hidden, beside `dir`) is registered with
/// [`tokenfleet_engine::interrupt`], so that a forced exit removes it too. Only a process killed
/// outright (SIGKILL, a power cut) leaves one behind, never under the output's name; the next
/// write of the same directory removes those of processes that are gone.
pub fn write_dir_atomically<E: From<ReportError>>(
    dir: &Path,
    meta: &OutputMeta,
    fill: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    output::check_dir(dir, &[])?;
    let (parent, name, tmp_name) = partial_beside(dir);
    let tmp = parent.join(tmp_name);
    fs::create_dir_all(parent).map_err(io_err(parent))?;
    remove_stale(parent, &name);
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io_err(&tmp))?;
    }
    fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
    interrupt::register(&tmp);
    let filled = fill(&tmp).and_then(|()| manifest::write(&tmp, meta).map_err(E::from));
    // Decided under the lock a forced exit takes: the directory is renamed whole or not at all.
    let mut guard = interrupt::commit_lock();
    let stopped = interrupt::requested();
    if filled.is_err() || stopped {
        let _ = fs::remove_dir_all(&tmp);
        interrupt::unregister_locked(&mut guard, &tmp, stopped);
        filled?;
        return Err(ReportError::Interrupted(interrupt::Interrupted).into());
    }
    let renamed = swap_into_place(&tmp, dir, parent, &name);
    let _ = fs::remove_dir_all(&tmp);
    interrupt::unregister_locked(&mut guard, &tmp, false);
    renamed.map_err(E::from)
}

/// Puts the complete directory `tmp` at `dir`; afterwards `tmp` holds what `dir` held (the
/// earlier output) or nothing. Another tokenfleet writing the same `dir` at the same moment
/// can make a step find `dir` in an unexpected state: the step is then retried, and the last
/// writer wins, whole.
fn swap_into_place(tmp: &Path, dir: &Path, parent: &Path, name: &str) -> Result<(), ReportError> {
    for _ in 0..16 {
        output::check_dir(dir, &[])?;
        let exists = fs::symlink_metadata(dir).is_ok();
        let step = if exists {
            exchange(tmp, dir, parent, name)
        } else {
            rename_no_replace(tmp, dir)
        };
        match step {
            Ok(()) => return Ok(()),
            Err(e) if raced(&e) => continue,
            Err(e) => return Err(io_err(dir)(e)),
        }
    }
    Err(ReportError::Refused {
        path: dir.to_path_buf(),
        message: "other processes keep writing this output at the same time; give each its own \
                  --out"
            .into(),
    })
}

/// An error that means another writer changed `dir` between the check and the rename.
fn raced(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), NotFound | AlreadyExists | DirectoryNotEmpty)
}

/// Renames `tmp` to `dir`, failing (AlreadyExists) if `dir` appeared meanwhile.
fn rename_no_replace(tmp: &Path, dir: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, tmp, CWD, dir, RenameFlags::NOREPLACE) {
            Err(rustix::io::Errno::INVAL) | Err(rustix::io::Errno::NOSYS) => {}
            r => return r.map_err(std::io::Error::from),
        }
    }
    if dir.exists() {
        return Err(std::io::ErrorKind::AlreadyExists.into());
    }
    fs::rename(tmp, dir)
}

/// Swaps `tmp` and `dir` atomically (Linux); elsewhere, or on a file system that cannot, moves
/// `dir` aside first, so that for a moment neither is at `dir`.
fn exchange(tmp: &Path, dir: &Path, parent: &Path, name: &str) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, tmp, CWD, dir, RenameFlags::EXCHANGE) {
            Err(rustix::io::Errno::INVAL) | Err(rustix::io::Errno::NOSYS) => {}
            r => return r.map_err(std::io::Error::from),
        }
    }
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    fs::rename(dir, &old)?;
    if let Err(e) = fs::rename(tmp, dir) {
        let _ = fs::rename(&old, dir);
        return Err(e);
    }
    // `tmp` now absent; the earlier output goes where the caller removes it.
    fs::rename(&old, tmp)
}

/// Writes one file atomically: into `.NAME.partial-PID` beside it, synced, then renamed over
/// it, unless the run was interrupted. An existing `path` is replaced only if
/// [`output::check_file`] accepts it with `marker`.
pub fn write_file_atomically(path: &Path, bytes: &[u8], marker: &str) -> Result<(), ReportError> {
    output::check_file(path, &[], marker)?;
    let (parent, name, tmp_name) = partial_beside(path);
    remove_stale(parent, &name);
    let tmp = parent.join(&tmp_name);
    interrupt::register(&tmp);
    let written = write_file(parent, &tmp_name, |w| {
        w.write_all(bytes).map_err(io_err(&tmp))
    });
    let mut guard = interrupt::commit_lock();
    let stopped = interrupt::requested();
    let result = match written {
        Ok(()) if stopped => Err(ReportError::Interrupted(interrupt::Interrupted)),
        Ok(()) => output::check_file(path, &[], marker)
            .and_then(|()| fs::rename(&tmp, path).map_err(io_err(path))),
        Err(e) => Err(e),
    };
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    interrupt::unregister_locked(&mut guard, &tmp, stopped);
    result
}

/// The directory `path` is in, its name, and the name of the temporary `.NAME.partial-PID`
/// beside it that an atomic write fills before renaming it to `path`.
fn partial_beside(path: &Path) -> (&Path, String, String) {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = format!(".{name}.partial-{}", std::process::id());
    (parent, name, tmp)
}

/// Removes `.NAME.partial-PID` and `.NAME.old-PID` entries left beside an output by processes
/// that no longer run (killed outright). Only where running processes can be told (Linux's
/// /proc); elsewhere they stay, named so that they are never taken for an output.
fn remove_stale(parent: &Path, name: &str) {
    let proc_fs = Path::new("/proc/self");
    if !proc_fs.exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let pid = [".partial-", ".old-"].iter().find_map(|tag| {
            file.strip_prefix(&format!(".{name}{tag}"))
                .and_then(|pid| pid.parse::<u32>().ok())
        });
        if let Some(pid) = pid
            && pid != std::process::id()
            && !Path::new("/proc").join(pid.to_string()).exists()
        {
            let path = entry.path();
            let _ = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
        }
    }
}
