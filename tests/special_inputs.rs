//! Inputs that are not regular files are refused by type before they are opened, so that a
//! named pipe never blocks a read and `/dev/zero` never fills memory (docs/errors.md, "Bounded
//! input"): each case exits 1 within 5 seconds, names the path and says what is accepted.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn refused(cwd: &Path, args: &[&str], path: &str) {
    let t = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_tokenfleet"))
        .current_dir(cwd)
        .args(args)
        .output()
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {e}");
    assert!(!e.contains("panicked"), "{args:?}: {e}");
    assert!(
        e.contains(path)
            && e.contains("not a regular file")
            && e.contains("accepted: a regular file"),
        "{args:?}: {e}"
    );
    assert!(secs < 5.0, "{args:?}: {secs:.1}s");
}

#[test]
fn special_files_are_refused_by_type() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    std::fs::copy(common::scenario_path("small.toml"), w.join("s.toml")).unwrap();
    let small = std::fs::read_to_string(w.join("s.toml")).unwrap();
    std::fs::write(
        w.join("config.toml"),
        format!("{small}\n[[model]]\nid = \"zz\"\nconfig = \"/dev/zero\"\n"),
    )
    .unwrap();
    refused(w, &["validate", "/dev/zero"], "/dev/zero");
    refused(w, &["run", "/dev/zero"], "/dev/zero");
    refused(w, &["validate", "."], ".");
    refused(
        w,
        &[
            "run",
            "s.toml",
            "--trace",
            "/dev/zero",
            "--trace-format",
            "azure",
        ],
        "/dev/zero",
    );
    refused(w, &["fit", "/dev/zero", "--format", "azure"], "/dev/zero");
    refused(w, &["merge", "/dev/zero"], "/dev/zero");
    refused(w, &["validate", "config.toml"], "/dev/zero");
    refused(
        w,
        &["calibrate", "--check", "--calibration", "/dev/zero"],
        "/dev/zero",
    );
    #[cfg(unix)]
    {
        let made = Command::new("mkfifo")
            .current_dir(w)
            .args(["pipe.toml", "pipe.csv"])
            .status();
        if made.is_ok_and(|s| s.success()) {
            refused(w, &["validate", "pipe.toml"], "pipe.toml");
            refused(w, &["run", "pipe.toml"], "pipe.toml");
            refused(w, &["run", "s.toml", "--trace", "pipe.csv"], "pipe.csv");
            refused(w, &["fit", "pipe.csv"], "pipe.csv");
        } else {
            eprintln!("mkfifo is not available: the named-pipe cases are skipped");
        }
    }
}
