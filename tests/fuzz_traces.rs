//! Fuzzing the trace parsers: no mutated Azure, Mooncake or session trace makes them panic,
//! and every error names the file.
//!
//! Invariant 14 of docs/invariants.md for traces. The fuzzer of `tests/common/fuzz.rs` mutates
//! the first rows of the trace fixtures (tests/fixtures/traces: Azure's CSVs, Mooncake's JSON
//! lines, coding-agent sessions) with replay options from ordinary to absurd. Traces come from
//! other people's tools and logs, so malformed ones are expected; each must end in an error
//! that names the file, never in a panic. Traces that parse are prepared for replay, and small
//! ones are replayed, with every recorded request exactly one call.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use common::fuzz::{Reach, fuzz, names_file};
use proptest::prelude::*;
use tokenfleet_setup::Setup;
use tokenfleet_workload::trace;
use tokenfleet_workload::trace::{Format, Replay, ReplayOptions};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(common::root().join("tests/fixtures/traces").join(name)).unwrap()
}

/// The first `lines` lines of a fixture: mutations land on the header and the first rows more
/// often, and parsing stays fast.
fn head(name: &str, lines: usize) -> Vec<u8> {
    let text = fixture(name);
    let end = text
        .iter()
        .enumerate()
        .filter(|(_, c)| **c == b'\n')
        .nth(lines - 1)
        .map_or(text.len(), |(i, _)| i + 1);
    text[..end].to_vec()
}

/// Replay options from the command line's point of view: some ordinary, some not.
fn replay_options() -> impl Strategy<Value = Vec<String>> {
    (
        // Mostly ordinary options, so that mutated traces get replayed.
        prop_oneof![
            8 => Just(1.0),
            1 => Just(1e-300),
            1 => Just(1e300),
            1 => Just(0.0),
            1 => Just(f64::NAN)
        ],
        prop_oneof![8 => Just(1u32), 2 => Just(3), 1 => Just(0), 1 => Just(u32::MAX)],
        prop_oneof![8 => Just(1.0), 2 => Just(0.0), 1 => Just(1e300), 1 => Just(-1.0)],
    )
        .prop_map(|(speed, copies, jitter)| {
            vec![speed.to_string(), copies.to_string(), jitter.to_string()]
        })
}

fn check_trace(file: &Path, format: Format, args: &[String], reach: &Reach) -> Result<(), String> {
    let recorded = match trace::read(file, format) {
        Ok(t) => t,
        Err(e) => return names_file(&e.to_string(), file),
    };
    Reach::bump(&reach.parsed);
    static SMALL: OnceLock<Setup> = OnceLock::new();
    let setup = SMALL.get_or_init(|| common::setup("small.toml", &[]));
    let (model, window) =
        tokenfleet_fleet::replay::choose_model(setup, None).map_err(|e| e.to_string())?;
    let options = ReplayOptions {
        speed: args[0].parse().unwrap(),
        copies: args[1].parse().unwrap(),
        jitter_s: args[2].parse().unwrap(),
        duration_s: None,
    };
    let replay = match Replay::new(recorded, options, window) {
        Ok(r) => r,
        Err(e) if e.to_string().trim().is_empty() => return Err("an empty error".into()),
        Err(_) => return Ok(()),
    };
    Reach::bump(&reach.checked);
    let rsetup = tokenfleet_fleet::replay::setup_for(&replay, setup, model);
    if replay.calls() <= 2_000 && rsetup.hours <= 48 {
        let out = tokenfleet_fleet::run::run_replay(&rsetup, &replay, 1, None, &|_| {});
        common::check_conservation(&out);
        Reach::bump(&reach.ran);
        if out.tally.calls_generated != replay.calls() {
            return Err(format!(
                "{} calls generated for {} recorded",
                out.tally.calls_generated,
                replay.calls()
            ));
        }
    }
    Ok(())
}

#[test]
fn azure_traces_never_panic_and_errors_name_the_file() {
    let bases = [
        head("azure_llm_2023_code.csv", 40),
        head("azure_llm_2023_conv.csv", 40),
    ];
    let reach = Reach::default();
    fuzz("azure", "csv", &bases, replay_options(), |f, a| {
        check_trace(f, Format::Azure, a, &reach)
    });
    reach.report("azure", ["parsed", "prepared for replay", "replayed"]);
}

#[test]
fn mooncake_traces_never_panic_and_errors_name_the_file() {
    let bases = [head("mooncake_conversation_300.jsonl", 30)];
    let reach = Reach::default();
    fuzz("mooncake", "jsonl", &bases, replay_options(), |f, a| {
        check_trace(f, Format::Mooncake, a, &reach)
    });
    reach.report("mooncake", ["parsed", "prepared for replay", "replayed"]);
}

#[test]
fn session_traces_never_panic_and_errors_name_the_file() {
    let bases = [
        fixture("subagents_synthetic.json"),
        fixture("claude_code_session_example.json"),
    ];
    let reach = Reach::default();
    fuzz("claude-code", "json", &bases, replay_options(), |f, a| {
        check_trace(f, Format::ClaudeCode, a, &reach)
    });
    reach.report("claude-code", ["parsed", "prepared for replay", "replayed"]);
}
