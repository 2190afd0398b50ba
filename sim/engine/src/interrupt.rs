//! Stopping early: Ctrl-C (or SIGTERM, as Slurm and Kubernetes send) asks the run to stop.
//!
//! The binary's signal handler calls [`request`]. Long loops poll [`requested`] and return
//! early: cells stop their event loops, un-started cells are skipped, searches and fits stop
//! iterating. What they return is incomplete and must never be written: commands call
//! [`check`] once their work is done, and the writer of output directories (in the reports
//! crate) checks again, under [`commit_lock`], just before it renames a finished temporary
//! directory into place. Temporary directories being filled are registered here, so that a
//! forced exit (a second Ctrl-C) removes them too.
//!
//! The flag is process-wide on purpose: a signal is. Nothing in the library sets it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

static STOP: AtomicBool = AtomicBool::new(false);

/// Temporary output paths being filled, and those removed because of an interruption.
struct Partials {
    open: Vec<PathBuf>,
    removed: Vec<PathBuf>,
}

static PARTIALS: Mutex<Partials> = Mutex::new(Partials {
    open: Vec::new(),
    removed: Vec::new(),
});

/// The run was interrupted; nothing it computed may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// Asks every loop to stop (called from the signal handler: it only stores a flag).
pub fn request() {
    STOP.store(true, Ordering::SeqCst);
}

/// Whether a stop was asked for.
#[inline]
pub fn requested() -> bool {
    STOP.load(Ordering::Relaxed)
}

/// `Err(Interrupted)` once a stop was asked for: for `?` after a long computation.
pub fn check() -> Result<(), Interrupted> {
    if requested() {
        Err(Interrupted)
    } else {
        Ok(())
    }
}

fn partials() -> MutexGuard<'static, Partials> {
    // A panic while holding the lock leaves plain data behind: keep using it.
    PARTIALS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Held while a finished output is renamed into place, so that a forced exit either happens
/// before the rename (and removes the temporary output) or after it (and the output is whole).
pub struct CommitGuard(MutexGuard<'static, Partials>);

/// Takes the commit lock.
pub fn commit_lock() -> CommitGuard {
    CommitGuard(partials())
}

/// Records a temporary output path being filled.
pub fn register(path: &Path) {
    partials().open.push(path.to_path_buf());
}

/// Forgets a temporary output path, under the commit lock: renamed into place, or removed.
/// `removed` says it was removed because of an interruption (for the closing message).
pub fn unregister_locked(guard: &mut CommitGuard, path: &Path, removed: bool) {
    guard.0.open.retain(|q| q != path);
    if removed {
        guard.0.removed.push(path.to_path_buf());
    }
}

/// Removes every temporary output still being filled (for a forced exit) and returns the
/// paths removed so far, these included. The lock stays held until the process exits, so no
/// rename can follow.
pub fn remove_partials_and_hold() -> (Vec<PathBuf>, CommitGuard) {
    let mut guard = commit_lock();
    let open = std::mem::take(&mut guard.0.open);
    for p in open {
        let _ = if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
        guard.0.removed.push(p);
    }
    let removed = guard.0.removed.clone();
    (removed, guard)
}

/// The temporary outputs removed because of an interruption.
pub fn removed() -> Vec<PathBuf> {
    partials().removed.clone()
}
