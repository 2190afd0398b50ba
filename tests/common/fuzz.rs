//! A bounded fuzzer of the files users write, shared by `tests/fuzz_scenarios.rs` and
//! `tests/fuzz_traces.rs`.
//!
//! [`fuzz`] mutates base files (byte flips, truncation, lines deleted, doubled or swapped,
//! numbers and values replaced by NaN, infinities, huge, negative and malformed ones, keys
//! replaced by others or by typos) and runs a check on each mutation: a panic or a failed
//! check fails the test with the input, shrunk and kept on disk. A watchdog ends the process
//! on an input that runs too long (a hang).
//!
//! Each target runs for `TOKENFLEET_FUZZ_SECONDS` (default 2) from a fixed seed, so CI is
//! deterministic; set `TOKENFLEET_FUZZ_SEED` to explore elsewhere. A crashing input is written
//! to `target/fuzz-crashes/` to be added to the corpus in tests/fixtures/bad/.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// Values that have broken parsers elsewhere: not numbers, not finite, out of every range,
/// malformed units, wrong types.
pub const NASTY: &[&str] = &[
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

pub const FACTORS: &[&str] = &["0", "2", "1e300", "1e-300", "nan", "-1", "inf"];

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
    let dir = super::root().join("target").join("fuzz-crashes");
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
pub fn fuzz(
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
                super::root().join(format!("target/fuzz-crashes/{target}-last.args")),
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
pub struct Reach {
    pub parsed: std::cell::Cell<u64>,
    pub checked: std::cell::Cell<u64>,
    pub ran: std::cell::Cell<u64>,
}

impl Reach {
    pub fn bump(c: &std::cell::Cell<u64>) {
        c.set(c.get() + 1);
    }
    pub fn report(&self, target: &str, what: [&str; 3]) {
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
pub fn names_file(message: &str, file: &Path) -> Result<(), String> {
    let name = file.display().to_string();
    if message.trim().is_empty() {
        return Err("an empty error message".into());
    }
    if !message.contains(&name) {
        return Err(format!("the error does not name {name}: {message}"));
    }
    Ok(())
}
