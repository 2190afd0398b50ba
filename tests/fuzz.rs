//! A bounded fuzzer of everything that reads user files: the scenario loader (with `--set`
//! overrides) and every trace parser. It mutates the shipped scenarios and trace fixtures
//! (byte flips, truncation, lines deleted, doubled or swapped, numbers and values replaced by
//! NaN, infinities, huge, negative and malformed ones, keys replaced by others or by typos) and
//! asserts that nothing panics and that every error is a message naming the file.
//!
//! Inputs that get through are taken further: a scenario is resolved (and small ones are
//! simulated for a few minutes of simulated time), a trace is prepared for replay (and small
//! ones are replayed), so that a bad value that validation lets through cannot crash a run.
//!
//! Each target runs for `TOKENFLEET_FUZZ_SECONDS` (default 2) from a fixed seed, so CI is
//! deterministic; set `TOKENFLEET_FUZZ_SEED` to explore elsewhere. A crashing input is written
//! to `target/fuzz-crashes/` to be added to the corpus in tests/fixtures/bad/.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use tokenfleet_fleet::budget;
use tokenfleet_fleet::budget::{Estimate, Machine};
use tokenfleet_scenario::Scenario;
use tokenfleet_setup::Setup;
use tokenfleet_workload::trace;
use tokenfleet_workload::trace::{Format, Replay, ReplayOptions};

/// Values that have broken parsers elsewhere: not numbers, not finite, out of every range,
/// malformed units, wrong types.
const NASTY: &[&str] = &[
    "nan",
    "inf",
    "-inf",
    "NaN",
    "-1",
    "0",
    "-0",
    "0.5",
    "1e-300",
    "1e12",
    "1e15",
    "1e308",
    "-1e308",
    "1e400",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "\"\"",
    "\"2 parsecs\"",
    "\"1e12\"",
    "\"-5s\"",
    "\"1e400h\"",
    "\"$-1/M\"",
    "\"$1e300/h\"",
    "\"inf\"",
    "\"NaN%\"",
    "\"0%\"",
    "\"1e15\"",
    "\"🦀\"",
    "true",
    "[]",
    "{}",
    "[1e308, -1, nan]",
    "{ dist = \"pareto\", min = 0, alpha = 0 }",
    "{ dist = \"lognormal\", p10 = \"1M\", p90 = \"1k\" }",
    "{ dist = \"uniform\", min = \"1e300\", max = \"inf\" }",
    "{ dist = \"empirical\", values = [] }",
    "{ dist = \"mixture\", components = [] }",
    "\"2023-02-30 25:61:99\"",
];

/// The input being checked: since when, its bytes and its arguments.
type Running = (Instant, Vec<u8>, Vec<String>);

/// Longest one input may take (the slowest legitimate ones, small simulations, take well under a
/// second).
const CASE_LIMIT: Duration = Duration::from_secs(20);

const FACTORS: &[&str] = &["0", "2", "1e300", "1e-300", "nan", "-1", "inf"];

/// One edit of a file; positions are taken modulo the text's length.
#[derive(Debug, Clone)]
enum Op {
    Flip(usize, u8),
    Truncate(usize),
    DeleteLine(usize),
    DoubleLine(usize),
    SwapLines(usize, usize),
    /// Replace the number at or after a position.
    Number(usize, usize),
    /// Replace what follows the `=` or `:` at or after a position.
    Value(usize, usize),
    /// Replace a word by another word of the file, or by a typo of itself.
    Word(usize, usize, bool),
}

fn op() -> impl Strategy<Value = Op> {
    let at = any::<usize>();
    // Edits that keep the syntax (values and words) are likelier, so that more inputs reach
    // validation and the simulator rather than stopping at the parser.
    prop_oneof![
        2 => (at, any::<u8>()).prop_map(|(a, b)| Op::Flip(a, b)),
        1 => at.prop_map(Op::Truncate),
        2 => at.prop_map(Op::DeleteLine),
        1 => at.prop_map(Op::DoubleLine),
        1 => (at, at).prop_map(|(a, b)| Op::SwapLines(a, b)),
        6 => (at, 0..NASTY.len()).prop_map(|(a, v)| Op::Number(a, v)),
        4 => (at, 0..NASTY.len()).prop_map(|(a, v)| Op::Value(a, v)),
        3 => (at, at, any::<bool>()).prop_map(|(a, b, t)| Op::Word(a, b, t)),
    ]
}

fn line_bounds(text: &[u8], at: usize) -> (usize, usize) {
    let start = text[..at]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1);
    let end = text[at..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(text.len(), |i| at + i + 1);
    (start, end)
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

fn apply(text: &mut Vec<u8>, op: &Op) {
    if text.is_empty() {
        return;
    }
    let n = text.len();
    match *op {
        Op::Flip(at, b) => text[at % n] = b,
        Op::Truncate(at) => text.truncate(at % n),
        Op::DeleteLine(at) => {
            let (s, e) = line_bounds(text, at % n);
            text.drain(s..e);
        }
        Op::DoubleLine(at) => {
            let (s, e) = line_bounds(text, at % n);
            let line = text[s..e].to_vec();
            text.splice(s..s, line);
        }
        Op::SwapLines(a, b) => {
            let (a, b) = (line_bounds(text, a % n), line_bounds(text, b % n));
            let (first, second) = if a.0 <= b.0 { (a, b) } else { (b, a) };
            if first.1 <= second.0 {
                let x = text[first.0..first.1].to_vec();
                let y = text[second.0..second.1].to_vec();
                text.splice(second.0..second.1, x);
                text.splice(first.0..first.1, y);
            }
        }
        Op::Number(at, v) => {
            let Some(s) = (at % n..n).find(|&i| text[i].is_ascii_digit()) else {
                return;
            };
            let mut e = s;
            while e < n && (text[e].is_ascii_digit() || b".eE+-_".contains(&text[e])) {
                e += 1;
            }
            text.splice(s..e, NASTY[v].bytes());
        }
        Op::Value(at, v) => {
            let Some(eq) = (at % n..n).find(|&i| text[i] == b'=' || text[i] == b':') else {
                return;
            };
            // Up to the end of the line, or of the JSON value.
            let end = (eq + 1..n)
                .find(|&i| b"\n,}".contains(&text[i]))
                .unwrap_or(n);
            text.splice(eq + 1..end, format!(" {}", NASTY[v]).into_bytes());
        }
        Op::Word(at, other, typo) => {
            let words: Vec<(usize, usize)> = {
                let mut w = Vec::new();
                let mut i = 0;
                while i < n {
                    if is_word(text[i]) && text[i].is_ascii_alphabetic() {
                        let s = i;
                        while i < n && is_word(text[i]) {
                            i += 1;
                        }
                        w.push((s, i));
                    } else {
                        i += 1;
                    }
                }
                w
            };
            if words.is_empty() {
                return;
            }
            let (s, e) = words[at % words.len()];
            let new: Vec<u8> = if typo {
                let mut w = text[s..e].to_vec();
                let k = other % w.len();
                w.remove(k);
                w
            } else {
                let (a, b) = words[other % words.len()];
                text[a..b].to_vec()
            };
            text.splice(s..e, new);
        }
    }
}

fn budget() -> Duration {
    let secs = std::env::var("TOKENFLEET_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(2.0);
    Duration::from_secs_f64(secs)
}

fn runner() -> TestRunner {
    let seed: u64 = std::env::var("TOKENFLEET_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2026);
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(
        Config {
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &key),
    )
}

/// Keeps a crashing input where a developer finds it, and says where.
fn keep(target: &str, ext: &str, bytes: &[u8]) -> PathBuf {
    let dir = common::root().join("target").join("fuzz-crashes");
    let _ = std::fs::create_dir_all(&dir);
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let path = if target.ends_with("-last") {
        dir.join(format!("{target}.{ext}"))
    } else {
        dir.join(format!("{target}-{hash:016x}.{ext}"))
    };
    let _ = std::fs::write(&path, bytes);
    path
}

/// Runs `check` on mutations of `bases` for the time budget; a panic or a failed check fails
/// the test with the input, shrunk to fewer and simpler edits, kept on disk.
fn fuzz(
    target: &str,
    ext: &str,
    bases: &[Vec<u8>],
    extra: impl Strategy<Value = Vec<String>>,
    check: impl Fn(&Path, &[String]) -> Result<(), String>,
) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("fuzzed.{ext}"));
    let mutate = |(base, ops, _): &(usize, Vec<Op>, Vec<String>)| {
        let mut bytes = bases[*base].clone();
        for o in ops {
            apply(&mut bytes, o);
        }
        bytes
    };
    // An input that makes the process abort (out of memory, a stack overflow) leaves no
    // panic to catch: with TOKENFLEET_FUZZ_KEEP_LAST set, each input is kept before it runs.
    let keep_last = std::env::var_os("TOKENFLEET_FUZZ_KEEP_LAST").is_some();
    // A hang is a failure too: a watchdog keeps the input that has run too long and ends the
    // process (a thread cannot be stopped from outside).
    let current: Arc<Mutex<Option<Running>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let (current, done) = (current.clone(), done.clone());
        let (target, ext) = (target.to_string(), ext.to_string());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let guard = current.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((since, bytes, args)) = guard.as_ref()
                    && since.elapsed() > CASE_LIMIT
                {
                    let kept = keep(&target, &ext, bytes);
                    eprintln!(
                        "{target}: one input ran for more than {}s (a hang?); kept in {} (args {args:?})",
                        CASE_LIMIT.as_secs(),
                        kept.display()
                    );
                    std::process::exit(101);
                }
            }
        })
    };
    let failure = |input: &(usize, Vec<Op>, Vec<String>)| -> Option<String> {
        let bytes = mutate(input);
        *current.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((Instant::now(), bytes.clone(), input.2.clone()));
        if keep_last {
            let _ = keep(&format!("{target}-last"), ext, &bytes);
            let _ = std::fs::write(
                common::root().join(format!("target/fuzz-crashes/{target}-last.args")),
                format!("{:?}", input.2),
            );
        }
        std::fs::write(&file, bytes).unwrap();
        let verdict = match catch_unwind(AssertUnwindSafe(|| check(&file, &input.2))) {
            Ok(Ok(())) => None,
            Ok(Err(why)) => Some(why),
            Err(_) => Some("panicked".into()),
        };
        *current.lock().unwrap_or_else(|e| e.into_inner()) = None;
        verdict
    };
    let strategy = (0..bases.len(), proptest::collection::vec(op(), 1..4), extra);
    let mut runner = runner();
    let started = Instant::now();
    let limit = budget();
    let mut cases = 0u64;
    // Cases are drawn until the time is up (proptest's runner counts cases, not seconds).
    while cases == 0 || started.elapsed() < limit {
        cases += 1;
        let mut tree = strategy.new_tree(&mut runner).unwrap();
        let Some(mut why) = failure(&tree.current()) else {
            continue;
        };
        let mut worst = tree.current();
        for _ in 0..500 {
            if !tree.simplify() {
                break;
            }
            match failure(&tree.current()) {
                Some(w) => {
                    why = w;
                    worst = tree.current();
                }
                None => {
                    if !tree.complicate() {
                        break;
                    }
                }
            }
        }
        let kept = keep(target, ext, &mutate(&worst));
        panic!(
            "{target}: {why}\ninput kept in {} (edits {:?} of base {}, args {:?})",
            kept.display(),
            worst.1,
            worst.0,
            worst.2
        );
    }
    done.store(true, Ordering::Relaxed);
    let _ = watchdog.join();
    eprintln!(
        "{target}: {cases} inputs in {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

/// How deep the inputs got: a fuzzer whose inputs all fail to parse tests only the parser.
#[derive(Default)]
struct Reach {
    parsed: std::cell::Cell<u64>,
    checked: std::cell::Cell<u64>,
    ran: std::cell::Cell<u64>,
}

impl Reach {
    fn bump(c: &std::cell::Cell<u64>) {
        c.set(c.get() + 1);
    }
    fn report(&self, target: &str, what: [&str; 3]) {
        eprintln!(
            "{target}: {} {}, {} {}, {} {}",
            self.parsed.get(),
            what[0],
            self.checked.get(),
            what[1],
            self.ran.get(),
            what[2]
        );
        assert!(self.parsed.get() > 0, "{target}: no input parsed");
    }
}

/// An error message must say something and name the file it is about.
fn names_file(message: &str, file: &Path) -> Result<(), String> {
    let name = file.display().to_string();
    if message.trim().is_empty() {
        return Err("an empty error message".into());
    }
    if !message.contains(&name) {
        return Err(format!("the error does not name {name}: {message}"));
    }
    Ok(())
}

/// `--set` arguments: a field of the scenario (or one that is not) and a nasty value.
fn overrides() -> impl Strategy<Value = Vec<String>> {
    const PATHS: &[&str] = &[
        "fleet.agents",
        "fleet.segment[0].share",
        "fleet.segment[0].daily_tokens",
        "fleet.segment[0].task.tokens",
        "fleet.segment[0].task.tool_gap",
        "fleet.segment[0].task.new_tokens.sigma",
        "fleet.segment[0].timezone",
        "fleet.segment[0].profile",
        "cluster.pool[0].replicas",
        "cluster.pool[0].tp",
        "cluster.pool[0].max_seqs",
        "cluster.pool[0].rent",
        "cluster.pool[0].prefix_retention",
        "cluster.pool.nope.replicas",
        "cluster.pool[9].replicas",
        "simulation.duration",
        "engine.replicas_per_cell",
        "engine.sample",
        "energy.pue",
        "price[0].blended",
        "sla.ttft",
        "fleet",
        "",
    ];
    proptest::collection::vec(
        (
            0..PATHS.len(),
            0..NASTY.len(),
            0..FACTORS.len(),
            any::<bool>(),
        )
            .prop_map(|(p, v, f, scale)| {
                if scale {
                    format!("{}*={}", PATHS[p], FACTORS[f])
                } else {
                    format!("{}={}", PATHS[p], NASTY[v].trim_matches('"'))
                }
            }),
        0..2,
    )
}

#[test]
fn scenario_loading_never_panics_and_errors_name_the_file() {
    let dir = common::root().join("scenarios");
    let mut bases: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    bases.sort();
    assert!(bases.len() >= 5);
    let reach = Reach::default();
    fuzz("scenario", "toml", &bases, overrides(), |file, args| {
        let (scenario, origin) = match Scenario::load(Some(file), args) {
            Ok(x) => x,
            Err(e) => return names_file(&e.to_string(), file),
        };
        Reach::bump(&reach.parsed);
        let setup = match scenario.resolve(&origin) {
            Ok(s) => s,
            Err(e) => return names_file(&e.to_string(), file),
        };
        Reach::bump(&reach.checked);
        // The up-front sizing of a run must hold for whatever validation lets through.
        let e = Estimate::new(&setup, 1000, 1000, setup.expected_calls(), 2);
        let machine = Machine {
            available_bytes: Some(8e9),
            memory_source: "MemAvailable",
        };
        if let Err(refused) = budget::check(&e, &machine)
            && !refused.to_string().contains("--force")
        {
            return Err(format!("a refusal without its way out: {refused}"));
        }
        // Small survivors run for real: validation must not let through what crashes a run.
        if setup.expected_calls() < 5_000.0 && setup.agents < 5_000 && setup.hours <= 24 {
            let out = tokenfleet_fleet::run(&setup, setup.seed, Some(0.01), &|_| {});
            common::check_conservation(&out);
            Reach::bump(&reach.ran);
        }
        Ok(())
    });
    reach.report("scenario", ["parsed", "resolved", "simulated"]);
}

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
