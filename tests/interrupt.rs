//! Interruption: Ctrl-C stops a run cleanly, with exit code 130 and a message, and leaves no
//! output that looks whole: neither a new run directory nor a temporary one, and an earlier
//! run's directory untouched.
#![cfg(unix)]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Entries of `dir` (names), sorted; empty if it does not exist.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Runs small.toml into `out`, in a child process (this test binary's interrupt flag may be
/// set by another test).
fn run_small(out: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_tokenfleet"))
        .arg("run")
        .arg(common::scenario_path("small.toml"))
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

/// Starts a long run into `out`, sends SIGINT after `after`, and returns (exit code, stderr,
/// seconds from the signal to the exit).
fn interrupt_run(out: &Path, after: Duration) -> (Option<i32>, String, f64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tokenfleet"))
        // The default scenario: about ten seconds on two cores, far longer than the wait.
        .args(["run", "--threads", "2", "--out"])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended before it could be interrupted"
    );
    let signalled = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // A stuck child must fail the test, not hang it.
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the run did not stop within 60 s of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let stopped = signalled.elapsed().as_secs_f64();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        stopped,
    )
}

#[test]
fn ctrl_c_stops_a_run_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let (code, stderr, stopped) = interrupt_run(&out, Duration::from_millis(1500));
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted: no outputs written"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stopped < 10.0, "took {stopped:.1}s to stop");
    assert!(!out.join("summary.json").exists());
    assert_eq!(
        entries(tmp.path()),
        Vec::<String>::new(),
        "no output and no temporary directory left"
    );
}

#[test]
fn an_interrupted_run_leaves_the_previous_output_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    // An earlier output (only tokenfleet's may be replaced at all).
    run_small(&out);
    let before: Vec<Vec<u8>> = entries(&out)
        .iter()
        .filter(|e| out.join(e).is_file())
        .map(|e| std::fs::read(out.join(e)).unwrap())
        .collect();
    let (code, stderr, _) = interrupt_run(&out, Duration::from_millis(1500));
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(entries(tmp.path()), ["run"], "no temporary directory left");
    let after: Vec<Vec<u8>> = entries(&out)
        .iter()
        .filter(|e| out.join(e).is_file())
        .map(|e| std::fs::read(out.join(e)).unwrap())
        .collect();
    assert!(before == after, "the earlier output changed");
}

#[test]
fn the_writer_renames_nothing_into_place_once_interrupted() {
    // In this test process only: the flag is process-wide, and no other test here reads it.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let meta = tokenfleet_reports::OutputMeta {
        command: "run",
        scenario: "test".into(),
        seed: None,
        made: Default::default(),
    };
    let r = tokenfleet_reports::write_dir_atomically(&dir, &meta, |partial| {
        std::fs::write(partial.join("summary.json"), "{}").unwrap();
        // The signal arrives while the files are being written.
        tokenfleet_engine::interrupt::request();
        Ok::<(), tokenfleet_reports::ReportError>(())
    });
    assert!(
        matches!(r, Err(tokenfleet_reports::ReportError::Interrupted(_))),
        "{r:?}"
    );
    assert!(!dir.exists());
    assert_eq!(entries(tmp.path()), Vec::<String>::new());
    let removed = tokenfleet_engine::interrupt::removed();
    assert_eq!(removed.len(), 1);
    assert!(
        removed[0]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".out.partial-"),
        "{removed:?}"
    );
    let file = tmp.path().join("calibration.toml");
    assert!(tokenfleet_reports::write_file_atomically(&file, b"x", "x").is_err());
    assert!(!file.exists());
    assert_eq!(entries(tmp.path()), Vec::<String>::new());
}

#[test]
fn temporary_directories_of_killed_processes_are_cleaned_up() {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // A process id that is not running: beyond Linux's largest (2^22).
    let stale = tmp.path().join(".run.partial-4999999");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join("summary.json"), "{}").unwrap();
    let other = tmp.path().join(".other.partial-4999999");
    std::fs::create_dir_all(&other).unwrap();
    // Run in a child process: this test binary's interrupt flag may be set by another test.
    let out = tmp.path().join("run");
    run_small(&out);
    assert_eq!(
        entries(tmp.path()),
        [".other.partial-4999999", "run"],
        "the stale partial of `run` is removed, another output's is not"
    );
}
