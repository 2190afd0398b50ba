//! Trace replay and `tokenfleet fit`: every recorded request is exactly one call, sessions are
//! closed loops with their think times and sub-agents, prefix reuse comes from block ids, and
//! bad files are reported with their file, line and field.

mod common;

use std::path::PathBuf;

use assert_cmd::Command;
use tokenfleet_engine::SimTime;
use tokenfleet_fleet::results::CallRecord;
use tokenfleet_fleet::run::RunOutput;
use tokenfleet_setup::Setup;
use tokenfleet_workload::trace;
use tokenfleet_workload::trace::{Format, Replay, ReplayOptions};

fn fixture(name: &str) -> PathBuf {
    common::root().join("tests/fixtures/traces").join(name)
}

fn tokenfleet() -> Command {
    Command::cargo_bin("tokenfleet").unwrap()
}

/// Data rows of a file (lines that are not blank, minus a CSV header).
fn rows(name: &str) -> u64 {
    let text = common::read(&fixture(name));
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count() as u64;
    if name.ends_with(".csv") {
        lines - 1
    } else {
        lines
    }
}

fn replay(
    scenario: &str,
    overrides: &[&str],
    file: &str,
    options: ReplayOptions,
    threads: usize,
) -> (Setup, Replay, RunOutput) {
    let base = common::setup(scenario, overrides);
    let path = fixture(file);
    let t = trace::read(&path, trace::guess_format(&path).unwrap()).unwrap();
    let (model, window) = tokenfleet_fleet::replay::choose_model(&base, None).unwrap();
    let r = Replay::new(t, options, window).unwrap();
    let setup = tokenfleet_fleet::replay::setup_for(&r, &base, model);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let out =
        pool.install(|| tokenfleet_fleet::run::run_replay(&setup, &r, setup.seed, None, &|_| {}));
    (setup, r, out)
}

fn all_calls() -> Vec<&'static str> {
    vec![
        "engine.calls_sample_rate=1",
        "engine.calls_sample_max=100000000",
    ]
}

#[test]
fn every_row_of_the_azure_and_mooncake_traces_is_exactly_one_call() {
    for file in [
        "azure_llm_2023_code.csv",
        "azure_llm_2023_conv.csv",
        "mooncake_conversation_300.jsonl",
    ] {
        let (_, r, out) = replay("small.toml", &[], file, ReplayOptions::default(), 2);
        let n = rows(file);
        assert_eq!(r.trace.rows, n, "{file}: parsed rows");
        assert_eq!(out.tally.calls_generated, n, "{file}: calls generated");
        assert_eq!(
            out.tally.calls_completed + out.tally.calls_rejected,
            n,
            "{file}: every call finished within the horizon"
        );
        common::check_conservation(&out);
    }
    // And through the command line, with copies: rows x copies.
    let tmp = tempfile::tempdir().unwrap();
    let o = tokenfleet()
        .arg("run")
        .arg(common::scenario_path("small.toml"))
        .arg("--trace")
        .arg(fixture("azure_llm_2023_code.csv"))
        .args(["--trace-copies", "3", "--trace-speed", "4", "--out"])
        .arg(tmp.path().join("o"))
        .assert()
        .success();
    let stderr = String::from_utf8(o.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("8819 requests x 3 copies = 26457 calls generated"),
        "{stderr}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&common::read(&tmp.path().join("o/summary.json"))).unwrap();
    assert_eq!(v["calls"]["generated"], 26457);
}

#[test]
fn speed_and_copies_scale_and_shift_time() {
    let file = "azure_llm_2023_code.csv";
    let last = |o: &RunOutput| o.calls.iter().map(|c| c.issued).max().unwrap();
    let (_, _, one) = replay(
        "small.toml",
        &all_calls(),
        file,
        ReplayOptions::default(),
        2,
    );
    let fast = ReplayOptions {
        speed: 2.0,
        ..ReplayOptions::default()
    };
    let (_, _, two) = replay("small.toml", &all_calls(), file, fast, 2);
    let ratio = last(&one).secs() / last(&two).secs();
    assert!((ratio - 2.0).abs() < 1e-6, "{ratio}");
    let copies = ReplayOptions {
        copies: 4,
        ..ReplayOptions::default()
    };
    let (setup, _, four) = replay("small.toml", &all_calls(), file, copies, 2);
    assert_eq!(four.tally.calls_generated, 4 * rows(file));
    assert!(last(&four) > last(&one), "copies start later");
    assert!(setup.horizon.secs() >= 2.0 * 3600.0);
    common::check_conservation(&four);
}

/// The replayed calls of one session, by step (the request's index in the session).
fn by_step(out: &RunOutput) -> Vec<CallRecord> {
    let mut calls = out.calls.clone();
    calls.sort_by_key(|c| c.step);
    calls
}

#[test]
fn sessions_are_closed_loops_with_their_recorded_think_times() {
    let file = "claude_code_session_example.json";
    let (_, r, out) = replay(
        "coding-agent.toml",
        &all_calls(),
        file,
        ReplayOptions::default(),
        1,
    );
    assert_eq!(out.tally.calls_completed, 33);
    let calls = by_step(&out);
    let s = &r.trace.sessions[0];
    for k in 1..calls.len() {
        let answered = calls[k - 1].issued.saturating_add(calls[k - 1].e2e);
        let think = SimTime::from_secs(s.calls[k].think);
        let gap = calls[k].issued.ns() as i64 - answered.saturating_add(think).ns() as i64;
        assert!(
            gap.abs() <= 1,
            "call {k}: issued {gap} ns off answer + think"
        );
    }
    // Prefix reuse from the block ids: the trace's own 93.4% of input.
    let total = out.ledger.total();
    let cached = total.input_cached as f64 / (total.input_cached + total.input_uncached) as f64;
    assert!((cached - r.trace.reusable_share()).abs() < 0.01, "{cached}");
    assert!((r.trace.reusable_share() - 0.934).abs() < 0.001);
}

#[test]
fn sub_agents_of_a_session_run_together_and_the_parent_waits() {
    let file = "subagents_synthetic.json";
    let (_, r, out) = replay(
        "coding-agent.toml",
        &all_calls(),
        file,
        ReplayOptions::default(),
        2,
    );
    assert_eq!(r.trace.rows, 10);
    assert_eq!(out.tally.calls_completed, 10);
    common::check_conservation(&out);
    let calls = by_step(&out);
    let end = |c: &CallRecord| c.issued.saturating_add(c.e2e);
    // Steps 0, 1 parent; 2-4 sub-agent 1; 5-6 sub-agent 2; 7 parent; 8 sub-agent 3; 9 parent.
    let steps: Vec<u32> = calls.iter().map(|c| c.step).collect();
    assert_eq!(steps, (0..10).collect::<Vec<_>>());
    let at = |k: usize| &calls[k];
    // Both sub-agents start together, when the parent's second answer arrives.
    assert_eq!(at(2).issued, end(at(1)));
    assert_eq!(at(5).issued, end(at(1)));
    // The parent's next call waits for both, plus its think time.
    let last_sub = end(at(4)).max(end(at(6)));
    assert_eq!(
        at(7).issued,
        last_sub.saturating_add(SimTime::from_secs(2.5))
    );
    assert_eq!(at(8).issued, end(at(7)));
    assert_eq!(
        at(9).issued,
        end(at(8)).saturating_add(SimTime::from_secs(4.0))
    );
    // Within a sub-agent, its own think times.
    assert_eq!(
        at(3).issued,
        end(at(2)).saturating_add(SimTime::from_secs(1.5))
    );
}

#[test]
fn replays_are_deterministic_across_thread_counts() {
    let opts = ReplayOptions {
        copies: 5,
        ..ReplayOptions::default()
    };
    let file = "mooncake_conversation_300.jsonl";
    let (_, _, a) = replay("small.toml", &all_calls(), file, opts, 1);
    let (_, _, b) = replay("small.toml", &all_calls(), file, opts, 2);
    assert_eq!(a.tally, b.tally);
    assert_eq!(a.agent_days, b.agent_days);
    assert_eq!(a.calls, b.calls);
    // Prefix chains from the block ids make some input cacheable.
    assert!(a.ledger.total().reusable > 0);
}

#[test]
fn overloaded_replays_conserve_calls_and_tokens() {
    let overload = [
        "cluster.pool.h100.replicas=1",
        "cluster.pool.h100.queue_limit=2",
        "engine.replicas_per_cell=1",
    ];
    let opts = ReplayOptions {
        copies: 4,
        speed: 4.0,
        // All arrivals (copies shifted over the 15-min sped-up span) fall before the horizon.
        duration_s: Some(1800.0),
        ..ReplayOptions::default()
    };
    let (_, _, out) = replay("small.toml", &overload, "azure_llm_2023_conv.csv", opts, 2);
    assert!(out.tally.calls_rejected > 0, "{:?}", out.tally);
    assert_eq!(
        out.tally.calls_generated,
        4 * rows("azure_llm_2023_conv.csv")
    );
    common::check_conservation(&out);
    let (_, _, out) = replay(
        "small.toml",
        &overload,
        "claude_code_session_example.json",
        ReplayOptions {
            copies: 40,
            ..ReplayOptions::default()
        },
        2,
    );
    common::check_conservation(&out);
    // Rejected session requests are not retried: still one call per recorded request.
    assert_eq!(out.tally.calls_generated, 40 * 33);
}

fn cli_error(file_name: &str, content: &str, format: Option<&str>) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join(file_name);
    std::fs::write(&f, content).unwrap();
    let mut cmd = tokenfleet();
    cmd.arg("run")
        .arg(common::scenario_path("small.toml"))
        .arg("--trace")
        .arg(&f)
        .arg("--out")
        .arg(tmp.path().join("o"));
    if let Some(fmt) = format {
        cmd.args(["--trace-format", fmt]);
    }
    let out = cmd.assert().failure();
    let e = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(!e.contains("panicked"), "{e}");
    assert!(e.contains(file_name), "names the file: {e}");
    e
}

#[test]
fn bad_traces_name_the_file_line_and_field() {
    let h = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
    let e = cli_error("empty.csv", "", None);
    assert!(e.contains("empty"), "{e}");
    let e = cli_error(
        "bad.csv",
        &format!("{h}2023-11-16 18:17:03.9,100,5\n2023-11-16 18:17:04.0,1x0,5\n"),
        None,
    );
    assert!(e.contains("line 3") && e.contains("ContextTokens"), "{e}");
    let e = cli_error(
        "unsorted.csv",
        &format!("{h}2023-11-16 18:17:05,100,5\n2023-11-16 18:17:04,100,5\n"),
        None,
    );
    assert!(e.contains("line 3") && e.contains("sorted"), "{e}");
    let e = cli_error(
        "cut.jsonl",
        "{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 1}\n{\"timestamp\": 5, \"inp",
        None,
    );
    assert!(e.contains("line 2") && e.contains("truncated"), "{e}");
    let e = cli_error(
        "neg.json",
        r#"{"requests": [{"t": 0, "in": 10, "out": 1}, {"t": 1, "in": 10, "out": "many"}]}"#,
        None,
    );
    assert!(e.contains("requests[1]") && e.contains("`out`"), "{e}");
    let e = cli_error("trace.txt", "whatever", None);
    assert!(e.contains("--trace-format"), "{e}");
    let e = cli_error("wrong.txt", "a,b\n1,2\n", Some("azure"));
    assert!(e.contains("TIMESTAMP"), "{e}");
}

#[test]
fn fit_prints_a_fragment_that_reads_back() {
    for (file, format) in [
        ("claude_code_session_example.json", Format::ClaudeCode),
        ("mooncake_conversation_300.jsonl", Format::Mooncake),
        ("azure_llm_2023_conv.csv", Format::Azure),
    ] {
        let out = tokenfleet()
            .arg("fit")
            .arg(fixture(file))
            .args(["--format", format.name()])
            .assert()
            .success();
        let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        // Pasted into a segment, it is a valid scenario of this schema (the coding-agent
        // scenario: a 256k window has room for the fitted tails).
        let scenario = common::read(&common::scenario_path("coding-agent.toml"));
        let at = scenario.find("[[cluster.pool]]").unwrap();
        let pasted = format!("{}{text}\n{}", &scenario[..at], &scenario[at..]);
        let origin = tokenfleet_scenario::Origin {
            file: "pasted.toml".into(),
            dir: None,
            text: pasted.clone(),
        };
        // The budget is the user's to set: one a fitted loop can spend.
        let budget = ["fleet.segment.coders.daily_tokens=2M".to_string()];
        let s = tokenfleet_scenario::Scenario::from_text(&origin, &budget)
            .unwrap_or_else(|e| panic!("{file}: {e}\n{pasted}"));
        let setup = s
            .resolve(&origin)
            .unwrap_or_else(|e| panic!("{file}: {e}\n{pasted}"));
        assert!(setup.segments[0].task_tokens > 1000.0);
        assert!(text.contains("output_tokens = { dist = "), "{text}");
    }
}

#[test]
fn replay_outputs_are_byte_identical_across_thread_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let go = |threads: &str| {
        let out = tmp.path().join(format!("t{threads}"));
        tokenfleet()
            .arg("run")
            .arg(common::scenario_path("small.toml"))
            .arg("--trace")
            .arg(fixture("mooncake_conversation_300.jsonl"))
            .args(["--trace-copies", "7", "--threads", threads, "--out"])
            .arg(&out)
            .assert()
            .success();
        out
    };
    let (a, b) = (go("1"), go("2"));
    for f in ["hourly.csv", "calls_sample.csv"] {
        assert!(
            common::read(&a.join(f)) == common::read(&b.join(f)),
            "{f} differs between 1 and 2 threads"
        );
    }
}
