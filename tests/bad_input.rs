//! The corpus of bad inputs (tests/fixtures/bad), run through the real binary: every one must
//! fail with a non-zero exit code, without a panic, with a message that names the file and
//! contains the expected fragments (the line, the field, what is accepted).
//!
//! Scenarios carry their expectations in header comments: `# expect: FRAGMENT` (one per
//! fragment), optionally `# args: ...` (extra arguments, e.g. `--set`), `# command: run` (the
//! default is `validate`) and `# why: ...` (for regressions: what once went wrong). Traces
//! cannot carry comments; their expectations are the table below. Each trace is replayed on
//! scenarios/small.toml.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn bad(name: &str) -> PathBuf {
    common::root().join("tests/fixtures/bad").join(name)
}

/// Runs the binary, checks the common promises, and returns stderr.
fn failure(args: &[&str], file: &Path, out: &Path) -> String {
    let mut cmd = Command::cargo_bin("tokenfleet").unwrap();
    cmd.args(args);
    if args.first() == Some(&"run") {
        cmd.arg("--out").arg(out);
    }
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let name = file.file_name().unwrap().to_string_lossy();
    let context = format!("{}: {stderr}", file.display());
    assert_eq!(output.status.code(), Some(1), "{context}");
    assert!(!stderr.contains("panicked"), "{context}");
    assert!(stderr.starts_with("error: "), "{context}");
    assert!(stderr.contains(name.as_ref()), "names the file: {context}");
    assert!(!out.exists(), "no output written: {context}");
    stderr
}

#[test]
fn bad_scenarios_fail_naming_the_file_line_field_and_accepted_values() {
    let dir = common::root().join("tests/fixtures/bad");
    let tmp = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "{} scenarios", files.len());
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let header = |key: &str| common::header(&text, key);
        let expects = header("expect");
        assert!(!expects.is_empty(), "{}: no `# expect:`", file.display());
        let command = header("command").pop().unwrap_or_else(|| "validate".into());
        let extra: Vec<String> = header("args")
            .iter()
            .flat_map(|a| a.split_whitespace().map(str::to_string))
            .collect();
        let path = file.to_str().unwrap();
        let mut args = vec![command.as_str(), path];
        args.extend(extra.iter().map(String::as_str));
        let stderr = failure(&args, file, &tmp.path().join("out"));
        for e in &expects {
            assert!(
                stderr.contains(e.as_str()),
                "{}: expected `{e}` in:\n{stderr}",
                file.display()
            );
        }
    }
}

/// (file in tests/fixtures/bad/traces, extra arguments, expected fragments)
const TRACES: &[(&str, &[&str], &[&str])] = &[
    (
        "empty.csv",
        &[],
        &["empty file", "expected a header TIMESTAMP"],
    ),
    ("header-only.csv", &[], &["no requests after the header"]),
    (
        "wrong-header.csv",
        &[],
        &[
            "line 1",
            "expected the columns TIMESTAMP, ContextTokens, GeneratedTokens",
        ],
    ),
    (
        "truncated-row.csv",
        &[],
        &["line 3", "expected 3 fields", "found 2", "truncated"],
    ),
    (
        "bad-number.csv",
        &[],
        &[
            "line 3",
            "field `ContextTokens`",
            "\"3l80\"",
            "accepted: 0 to 4294967295",
        ],
    ),
    (
        "nan-tokens.csv",
        &[],
        &["line 3", "field `ContextTokens`", "\"nan\""],
    ),
    (
        "negative-tokens.csv",
        &[],
        &[
            "line 3",
            "field `ContextTokens`",
            "\"-3180\"",
            "accepted: 0 to",
        ],
    ),
    (
        "huge-tokens.csv",
        &[],
        &[
            "line 3",
            "field `ContextTokens`",
            "\"99999999999\"",
            "accepted: 0 to 4294967295",
        ],
    ),
    (
        "bad-timestamp.csv",
        &[],
        &[
            "line 3",
            "field `TIMESTAMP`",
            "not a time like 2023-11-16 18:17:03.97",
        ],
    ),
    (
        "unsorted.csv",
        &[],
        &["line 3", "field `TIMESTAMP`", "must be sorted by time"],
    ),
    (
        "span-beyond-a-year.csv",
        &[],
        &[
            "line 3",
            "field `TIMESTAMP`",
            "731 days",
            "at most 366 days",
        ],
    ),
    ("not-utf8.csv", &[], &["line 3", "not UTF-8", "accepted:"]),
    (
        "empty.jsonl",
        &[],
        &["empty file", "one JSON request per line"],
    ),
    ("truncated.jsonl", &[], &["line 2", "truncated JSON"]),
    (
        "bad-number.jsonl",
        &[],
        &[
            "line 2",
            "field `input_length`",
            "\"many\"",
            "accepted: 0 to",
        ],
    ),
    (
        "missing-field.jsonl",
        &[],
        &["line 2", "missing field `output_length`"],
    ),
    (
        "negative-timestamp.jsonl",
        &[],
        &[
            "line 2",
            "field `timestamp`",
            "-27",
            "non-negative number of ms",
        ],
    ),
    (
        "huge-timestamp.jsonl",
        &[],
        &["line 2", "field `timestamp`", "accepted: at most 366 days"],
    ),
    (
        "unsorted.jsonl",
        &[],
        &["line 2", "field `timestamp`", "must be sorted by time"],
    ),
    ("nan-timestamp.jsonl", &[], &["line 2", "invalid JSON"]),
    (
        "overflowing-number.jsonl",
        &[],
        &["line 2", "invalid JSON", "number out of range"],
    ),
    (
        "hash-ids-not-a-list.jsonl",
        &[],
        &["line 2", "field `hash_ids`", "expected a list of block ids"],
    ),
    (
        "not-an-object.jsonl",
        &[],
        &["line 2", "expected a JSON object"],
    ),
    (
        "empty.json",
        &[],
        &["empty file", "a session object with a `requests` list"],
    ),
    (
        "empty-list.json",
        &[],
        &["an empty list", "session objects"],
    ),
    ("truncated.json", &[], &["line 1", "truncated JSON"]),
    (
        "no-requests.json",
        &[],
        &["line 1", "missing field `requests`"],
    ),
    (
        "empty-requests.json",
        &[],
        &["line 1", "field `requests`", "no requests"],
    ),
    (
        "bad-in-pretty.json",
        &[],
        &[
            "line 6",
            "requests[1]",
            "field `in`",
            "\"4300\"",
            "accepted: 0 to",
        ],
    ),
    (
        "bad-subagent.json",
        &[],
        &["line 5", "requests[1].requests[1]", "field `out`", "-90"],
    ),
    (
        "huge-think-time.json",
        &[],
        &[
            "requests[1]",
            "field `think_time`",
            "accepted: at most 366 days",
        ],
    ),
    (
        "zero-block-size.json",
        &[],
        &["field `block_size`", "accepted: 1 to 1048576"],
    ),
    (
        "not-a-session.json",
        &[],
        &["line 1", "expected a session object"],
    ),
    (
        "slowed-beyond-a-year.json",
        &["--trace-speed", "1e-9"],
        &["--trace-speed", "would last", "accepted: at most 366 days"],
    ),
    (
        "trace.txt",
        &[],
        &[
            "cannot tell the format",
            "--trace-format azure|mooncake|claude-code",
        ],
    ),
];

#[test]
fn bad_traces_fail_naming_the_file_line_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let small = common::scenario_path("small.toml");
    let mut listed: Vec<&str> = TRACES.iter().map(|t| t.0).collect();
    listed.sort_unstable();
    let mut on_disk: Vec<String> = std::fs::read_dir(bad("traces"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    assert_eq!(listed, on_disk, "every trace of the corpus is listed, once");
    for (name, extra, expects) in TRACES {
        let file = bad("traces").join(name);
        let mut args = vec![
            "run",
            small.to_str().unwrap(),
            "--trace",
            file.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let stderr = failure(&args, &file, &tmp.path().join("out"));
        for e in *expects {
            assert!(stderr.contains(e), "{name}: expected `{e}` in:\n{stderr}");
        }
    }
}

#[test]
fn ordinary_runs_are_not_refused_and_force_is_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("small");
    Command::cargo_bin("tokenfleet")
        .unwrap()
        .args(["run", common::scenario_path("small.toml").to_str().unwrap()])
        .arg("--force")
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert!(out.join("summary.json").is_file());
}

#[test]
fn absurd_runs_are_refused_up_front_with_the_estimate() {
    let tmp = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = Command::cargo_bin("tokenfleet")
        .unwrap()
        .args(["run", "--set", "fleet.agents=1e9", "--full", "--out"])
        .arg(tmp.path().join("o"))
        .assert()
        .failure();
    let e = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        started.elapsed().as_secs_f64() < 10.0,
        "refused in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    for part in [
        "scenarios/openclaw-2026.toml (built in): refused",
        // Sixteen days on two threads; the memory part depends on the machine's.
        "days (",
        "calls at ~250k calls/s per thread",
        "--sample 0.0",
        "--shard I/",
        "--force",
    ] {
        assert!(e.contains(part), "{part}: {e}");
    }
    // A thousand times more agents is past what validation accepts at all.
    let out = Command::cargo_bin("tokenfleet")
        .unwrap()
        .args(["run", "--set", "fleet.agents=1e12", "--full", "--out"])
        .arg(tmp.path().join("o"))
        .assert()
        .failure();
    let e = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        e.contains("fleet.agents (--set fleet.agents=1e12)") && e.contains("at most 1e9"),
        "{e}"
    );
}

/// Command-line values that once crashed or exhausted the machine: refused with the flag named.
#[test]
fn absurd_command_line_values_are_refused_naming_the_flag() {
    let small = common::scenario_path("small.toml");
    let small = small.to_str().unwrap();
    let plan_example = common::scenario_path("plan-example.toml");
    let plan_example = plan_example.to_str().unwrap();
    let mooncake = common::root().join("tests/fixtures/traces/mooncake_conversation_300.jsonl");
    let mooncake = mooncake.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let out = out.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        // A stack per thread: a hundred thousand of them aborted the process.
        (
            &["run", small, "--threads", "100000", "--out", out],
            "--threads 100000: at most",
        ),
        // A billion-point range was built in memory before anything ran.
        (
            &[
                "sweep",
                small,
                "--vary",
                "fleet.agents=1..10:1000000000",
                "--out",
                out,
            ],
            "at most 100000 points",
        ),
        (
            &[
                "sweep",
                small,
                "--vary",
                "fleet.agents=1,2",
                "--seeds",
                "4000000000",
                "--out",
                out,
            ],
            "8000000000 runs; accepted: at most 100000",
        ),
        (
            &[
                "run",
                small,
                "--trace",
                mooncake,
                "--trace-copies",
                "4294967295",
                "--out",
                out,
            ],
            "--trace-copies 4294967295",
        ),
        (
            &[
                "run",
                small,
                "--trace",
                mooncake,
                "--trace-speed",
                "1e-300",
                "--out",
                out,
            ],
            "--trace-speed",
        ),
        (
            &["run", small, "--sample", "NaN", "--out", out],
            "'NaN' for '--sample <F>': accepted: a number above 0 and up to 1",
        ),
        // Negative numbers were taken for flags ("unexpected argument '-1'"): now each names
        // its flag and the accepted range.
        (
            &["run", small, "--threads", "-1", "--out", out],
            "'-1' for '--threads <THREADS>': accepted: a whole number from 1",
        ),
        (
            &["run", small, "--seed", "-1", "--out", out],
            "'-1' for '--seed <SEED>': accepted: a whole number from 0 to 18446744073709551615",
        ),
        (
            &["run", small, "--shard", "-1/2", "--out", out],
            "'-1/2' for '--shard <I/N>': invalid shard \"-1/2\": expected I/N with 0 <= I < N",
        ),
        (
            &[
                "run",
                small,
                "--trace",
                mooncake,
                "--trace-speed",
                "-2",
                "--out",
                out,
            ],
            "'-2' for '--trace-speed <X>': accepted: a number above 0",
        ),
        (
            &[
                "perf",
                "--hardware",
                "h100-sxm",
                "--model",
                "llama-3.1-8b",
                "--isl",
                "-5",
                "--osl",
                "10",
                "--concurrency",
                "1",
            ],
            "'-5' for '--isl <ISL>': accepted: a whole number from 1",
        ),
        // Runs that together take days: refused up front by the run's own estimate.
        (
            &[
                "sweep",
                small,
                "--vary",
                "cluster.pool.h100.replicas=1e6..1e7:1000",
                "--seeds",
                "100",
                "--out",
                out,
            ],
            "sweep of 100000 runs: refused: these runs would need about",
        ),
        // A plan whose probes alone take days: refused before the first probe.
        (
            &[
                "plan",
                plan_example,
                "--set",
                "fleet.agents=1e9",
                "--set",
                "plan.cells=1000000",
                "--out",
                out,
            ],
            "plan-example.toml: refused: this plan would need about",
        ),
        // Degrees no engine runs: tp must divide the attention heads, ep the experts.
        (
            &[
                "perf",
                "--hardware",
                "h100-sxm",
                "--model",
                "minimax-m2.5",
                "--tp",
                "5",
                "--isl",
                "1000",
                "--osl",
                "100",
                "--concurrency",
                "8",
            ],
            "tp = 5 does not divide the attention heads of MiniMax-M2.5; accepted: 1, 2, 4, 8, 16, 24, 48",
        ),
        (
            &[
                "perf",
                "--hardware",
                "h100-sxm",
                "--model",
                "minimax-m2.5",
                "--tp",
                "4",
                "--ep",
                "12",
                "--isl",
                "1000",
                "--osl",
                "100",
                "--concurrency",
                "8",
            ],
            "ep = 12 does not divide the 256 routed experts of MiniMax-M2.5",
        ),
    ];
    for (args, expected) in cases {
        let output = Command::cargo_bin("tokenfleet")
            .unwrap()
            .args(*args)
            .output()
            .unwrap();
        let e = String::from_utf8_lossy(&output.stderr);
        // 2 where the command-line parser refuses the value, 1 where the command does.
        let code = output.status.code();
        assert!(code == Some(1) || code == Some(2), "{args:?}: {code:?} {e}");
        assert!(!e.contains("panicked"), "{args:?}: {e}");
        assert!(
            e.contains(expected),
            "{args:?}: expected `{expected}` in {e}"
        );
    }
}
