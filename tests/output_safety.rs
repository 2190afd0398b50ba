//! What tokenfleet writes, and what it never touches (docs/errors.md, "What tokenfleet writes"):
//! every command that writes refuses an output path holding anything it did not write (a user's
//! directory, a user's file, its own input, a link, a device), leaves it byte-identical, and
//! leaves no hidden leftovers; a scenario name cannot point the output outside `out/`; a file of
//! a run directory that was cut or changed is refused when read back.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

/// Every file under `dir` (following nothing), with its bytes: what must survive untouched.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(p.clone());
                out.insert(p, b"<dir>".to_vec());
            } else if t.is_symlink() {
                out.insert(
                    p.clone(),
                    fs::read_link(&p)
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes(),
                );
            } else {
                out.insert(p.clone(), fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn tokenfleet(cwd: &Path, args: &[&str]) -> (Output, f64) {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_tokenfleet"))
        .current_dir(cwd)
        .args(args)
        .output()
        .unwrap();
    (out, t.elapsed().as_secs_f64())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A work directory holding a user's directory, a user's file, the scenario (an input), a
/// link to the user's directory, and a shard output for `merge`.
fn workdir() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    fs::create_dir(w.join("mydata")).unwrap();
    fs::write(w.join("mydata/thesis.tex"), "\\chapter{Results}\n").unwrap();
    fs::write(w.join("notes.txt"), "my notes\n").unwrap();
    fs::copy(common::scenario_path("small.toml"), w.join("my.toml")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(w.join("mydata"), w.join("link")).unwrap();
    let (o, _) = tokenfleet(w, &["run", "my.toml", "--shard", "0/1", "--out", "shard"]);
    assert!(o.status.success(), "{}", stderr(&o));
    tmp
}

/// Each writing command, with `OUT` where its output path goes.
const COMMANDS: &[&[&str]] = &[
    &["run", "my.toml", "--out", "OUT"],
    &["run", "my.toml", "--shard", "0/2", "--out", "OUT"],
    &[
        "sweep",
        "my.toml",
        "--vary",
        "fleet.agents=100..200:2",
        "--out",
        "OUT",
    ],
    &["sensitivity", "my.toml", "--out", "OUT"],
    &["plan", "my.toml", "--out", "OUT"],
    &["compare", "my.toml", "my.toml", "--out", "OUT"],
    &["merge", "shard", "--out", "OUT"],
];

#[test]
fn no_command_replaces_what_tokenfleet_did_not_write() {
    let tmp = workdir();
    let w = tmp.path();
    let mut targets = vec!["mydata", "notes.txt", "my.toml", "/dev/null"];
    if cfg!(unix) {
        targets.push("link");
    }
    for cmd in COMMANDS {
        for target in &targets {
            let before = snapshot(w);
            let args: Vec<&str> = cmd
                .iter()
                .map(|a| if *a == "OUT" { *target } else { *a })
                .collect();
            let (o, secs) = tokenfleet(w, &args);
            let e = stderr(&o);
            assert_eq!(o.status.code(), Some(1), "{args:?}: {e}");
            assert!(!e.contains("panicked"), "{args:?}: {e}");
            assert!(
                e.contains(&format!("--out {target}: refused: ")) && e.contains("choose another"),
                "{args:?}: {e}"
            );
            assert!(secs < 5.0, "{args:?} took {secs:.1}s to refuse");
            assert!(
                snapshot(w) == before,
                "{args:?} changed the work directory (a leftover, or a user file touched)"
            );
        }
    }
    // The merge's own input, and a directory holding it.
    for target in ["shard", "."] {
        let before = snapshot(w);
        let (o, _) = tokenfleet(w, &["merge", "shard", "--out", target]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{e}");
        assert!(e.contains("refused"), "{e}");
        assert!(snapshot(w) == before);
    }
}

#[test]
fn calibrate_replaces_only_a_calibration_file() {
    let tmp = workdir();
    let w = tmp.path();
    for target in ["notes.txt", "my.toml", "mydata", "/dev/null"] {
        let before = snapshot(w);
        let (o, secs) = tokenfleet(w, &["calibrate", "--iters", "1", "--out", target]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{target}: {e}");
        assert!(e.contains(&format!("--out {target}: refused: ")), "{e}");
        assert!(secs < 5.0, "{target}: {secs:.1}s");
        assert!(snapshot(w) == before, "{target}");
    }
}

#[test]
fn a_scenario_name_cannot_point_the_output_outside_out() {
    let tmp = workdir();
    let w = tmp.path();
    fs::create_dir(w.join("victim")).unwrap();
    fs::write(w.join("victim/keep.txt"), "keep\n").unwrap();
    let small = fs::read_to_string(w.join("my.toml")).unwrap();
    let abs = w.join("victim").display().to_string();
    for name in ["../victim", abs.as_str(), "", ".", ".hidden", "a/b"] {
        let text = small.replacen("name = \"small\"", &format!("name = {name:?}"), 1);
        assert_ne!(text, small, "small.toml's name line moved");
        fs::write(w.join("named.toml"), text).unwrap();
        let before = snapshot(w);
        let (o, _) = tokenfleet(w, &["run", "named.toml"]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{name:?}: {e}");
        assert!(e.contains("name"), "{name:?}: {e}");
        assert!(snapshot(w) == before, "{name:?} wrote or touched something");
    }
}

#[test]
fn an_earlier_output_is_replaced_whole_and_nothing_is_left_beside_it() {
    let tmp = workdir();
    let w = tmp.path();
    for seed in ["1", "2"] {
        let (o, _) = tokenfleet(w, &["run", "my.toml", "--seed", seed, "--out", "o"]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let m = fs::read_to_string(w.join("o/manifest.json")).unwrap();
    assert!(m.contains("\"seed\": 2"), "{m}");
    let hidden: Vec<String> = fs::read_dir(w)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
    // A user's file put into it makes it the user's.
    fs::write(w.join("o/mine.txt"), "mine\n").unwrap();
    let before = snapshot(w);
    let (o, _) = tokenfleet(w, &["run", "my.toml", "--out", "o"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("mine.txt"), "{e}");
    assert!(snapshot(w) == before);
}

#[test]
fn concurrent_writers_of_one_output_all_succeed_and_leave_one_whole_output() {
    let tmp = workdir();
    let w = tmp.path().to_path_buf();
    let children: Vec<_> = (0..3)
        .map(|i| {
            Command::new(env!("CARGO_BIN_EXE_tokenfleet"))
                .current_dir(&w)
                .args(["run", "my.toml", "--out", "same", "--seed"])
                .arg(i.to_string())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    }
    // Whole: every file is the one its manifest lists (compare reads and checks them).
    let (o, _) = tokenfleet(&w, &["compare", "same", "same", "--out", "cmp"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let hidden = fs::read_dir(&w)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .count();
    assert_eq!(hidden, 0);
}

#[test]
fn cut_or_changed_files_are_refused_when_read_back() {
    let tmp = workdir();
    let w = tmp.path();
    let (o, _) = tokenfleet(w, &["run", "my.toml", "--out", "good"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (o, _) = tokenfleet(w, &["run", "my.toml", "--out", "cut"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let hourly = fs::read(w.join("cut/hourly.csv")).unwrap();
    fs::write(w.join("cut/hourly.csv"), &hourly[..hourly.len() / 2]).unwrap();
    let (o, _) = tokenfleet(w, &["compare", "good", "cut", "--out", "cmp"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains("hourly.csv") && e.contains("bytes, but manifest.json lists"),
        "{e}"
    );
    assert!(!w.join("cmp").exists());

    let part = fs::read(w.join("shard/partial.json")).unwrap();
    let mut changed = part.clone();
    let i = changed.iter().position(|b| b.is_ascii_digit()).unwrap();
    changed[i] = if changed[i] == b'9' {
        b'8'
    } else {
        changed[i] + 1
    };
    fs::write(w.join("shard/partial.json"), &changed).unwrap();
    let (o, _) = tokenfleet(w, &["merge", "shard", "--out", "merged"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("partial.json") && e.contains("SHA-256"), "{e}");
    assert!(!w.join("merged").exists());
}

#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    // `tokenfleet catalog | head -1`: the reader goes away after a line.
    for args in [&["catalog"][..], &["calibrate", "--check", "--rows"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tokenfleet"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let e = stderr(&o);
        assert!(
            !e.contains("panicked") && !e.contains("Broken pipe"),
            "{args:?}: {e}"
        );
        // Ended by SIGPIPE (13), or done if it wrote everything before the pipe closed.
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            assert!(
                o.status.signal() == Some(13) || o.status.success(),
                "{args:?}: {:?}",
                o.status
            );
        }
    }
}
