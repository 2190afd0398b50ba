//! Every command's outputs against a recorded baseline: a restructuring must leave them byte
//! for byte as they were.
//!
//! `tests/fixtures/golden/` was written by the binary of commit 3f15e50 (before the crate split
//! of issue 15), not by the code under test: each case's directory holds the SHA-256 and size
//! of every file the command wrote and of its standard output (`digests.txt`), and a readable
//! copy of the small text files (stdout, `summary.json`, `hourly.csv`) so that a failure shows
//! the first line that moved. Wall-clock figures are the only thing taken out before hashing
//! (the `engine` timing fields of `summary.json`, `wall_seconds` of `plan.json`, "in 1.4s" in
//! a command's last line, the table's `engine` line), and the temporary output directory's
//! name is replaced by `<OUT>`.
//!
//! A change that is meant to change outputs re-records the baseline with
//! `TOKENFLEET_BLESS_GOLDEN=1 cargo test --release --test golden` and says why in its commit.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::root;
use sha2::{Digest, Sha256};

fn golden_dir() -> PathBuf {
    root().join("tests/fixtures/golden")
}

/// One command line whose outputs are recorded.
struct Case {
    name: String,
    args: Vec<String>,
    /// The command takes `--out DIR` and writes files there.
    writes: bool,
}

fn case(name: &str, args: &[&str], writes: bool) -> Case {
    Case {
        name: name.to_string(),
        args: args.iter().map(|s| s.to_string()).collect(),
        writes,
    }
}

/// Every scenario shipped in `scenarios/` (the presets are fragments, not scenarios) and the
/// other commands on small inputs.
fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for dir in ["scenarios", "scenarios/theory"] {
        let mut files: Vec<PathBuf> = fs::read_dir(root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        for f in files {
            let stem = f.file_stem().unwrap().to_str().unwrap().to_string();
            let prefix = if dir == "scenarios" {
                "run"
            } else {
                "run-theory"
            };
            let rel = format!("{dir}/{stem}.toml");
            out.push(case(&format!("{prefix}-{stem}"), &["run", &rel], true));
        }
    }
    let traces = "tests/fixtures/traces";
    out.extend([
        case(
            "replay-azure",
            &[
                "run",
                "scenarios/peer-azure-conv.toml",
                "--trace",
                &format!("{traces}/azure_llm_2023_conv.csv"),
            ],
            true,
        ),
        case(
            "replay-azure-copies",
            &[
                "run",
                "scenarios/small.toml",
                "--trace",
                &format!("{traces}/azure_llm_2023_code.csv"),
                "--trace-copies",
                "3",
                "--trace-speed",
                "4",
                "--trace-jitter",
                "2s",
            ],
            true,
        ),
        case(
            "replay-mooncake",
            &[
                "run",
                "scenarios/small.toml",
                "--trace",
                &format!("{traces}/mooncake_conversation_300.jsonl"),
            ],
            true,
        ),
        case(
            "replay-claude-code",
            &[
                "run",
                "scenarios/small.toml",
                "--trace",
                &format!("{traces}/claude_code_session_example.json"),
            ],
            true,
        ),
        case(
            "replay-subagents",
            &[
                "run",
                "scenarios/small.toml",
                "--trace",
                &format!("{traces}/subagents_synthetic.json"),
            ],
            true,
        ),
        case(
            "run-small-overrides",
            &[
                "run",
                "scenarios/small.toml",
                "--seed",
                "11",
                "--set",
                "fleet.agents=500",
                "--set",
                "cluster.pool[0].replicas=3",
                "--set",
                "engine.replicas_per_cell=1",
                "--sample",
                "0.5",
            ],
            true,
        ),
        case(
            "plan-example",
            &["plan", "scenarios/plan-example.toml"],
            true,
        ),
        case(
            "sweep-small",
            &[
                "sweep",
                "scenarios/small.toml",
                "--vary",
                "fleet.agents=200..2000:log:3",
                "--seeds",
                "2",
                "--draw",
                "price[0].blended=uniform($0.10/M, $0.30/M)",
            ],
            true,
        ),
        case(
            "sensitivity-small",
            &["sensitivity", "scenarios/small.toml"],
            true,
        ),
        case(
            "compare-small-light",
            &[
                "compare",
                "scenarios/small.toml",
                "scenarios/openclaw-light.toml",
            ],
            true,
        ),
        case(
            "perf-h100-llama70b",
            &[
                "perf",
                "--hardware",
                "h100-sxm",
                "--model",
                "llama-3.1-70b",
                "--tp",
                "4",
                "--isl",
                "2048",
                "--osl",
                "256",
                "--concurrency",
                "32",
                "--json",
            ],
            false,
        ),
        case(
            "perf-h200-minimax",
            &[
                "perf",
                "--hardware",
                "h200-sxm",
                "--model",
                "minimax-m2.5",
                "--tp",
                "8",
                "--precision",
                "fp8",
                "--isl",
                "8192",
                "--osl",
                "1024",
                "--concurrency",
                "64",
                "--engine",
                "sglang",
            ],
            false,
        ),
        case(
            "perf-lpu",
            &[
                "perf",
                "--hardware",
                "groq-lpu",
                "--model",
                "llama-3.1-8b",
                "--isl",
                "1024",
                "--osl",
                "128",
                "--concurrency",
                "16",
                "--json",
            ],
            false,
        ),
        case("calibrate-check", &["calibrate", "--check"], false),
        case("calibrate-fit", &["calibrate", "--iters", "4"], true),
        case("catalog-json", &["catalog", "--json"], false),
        case("catalog-tables", &["catalog"], false),
        case(
            "fit-azure",
            &["fit", &format!("{traces}/azure_llm_2023_conv.csv")],
            false,
        ),
        case(
            "validate-default",
            &["validate", "scenarios/openclaw-2026.toml"],
            false,
        ),
    ]);
    // What each bad input is told: the error messages are outputs too.
    let mut bad: Vec<PathBuf> = fs::read_dir(root().join("tests/fixtures/bad"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    bad.sort();
    for f in bad {
        let stem = f.file_stem().unwrap().to_str().unwrap().to_string();
        // Its message quotes this machine's available memory.
        if stem == "run-refused-absurd-fleet" {
            continue;
        }
        let rel = format!("tests/fixtures/bad/{stem}.toml");
        // The same header lines tests/bad_input.rs reads: `# command:` and `# args:`.
        let bytes = fs::read(&f).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let header = |key: &str| common::header(&text, key);
        let command = header("command").pop().unwrap_or_else(|| "validate".into());
        let mut args = vec![command.clone(), rel];
        args.extend(
            header("args")
                .iter()
                .flat_map(|a| a.split_whitespace().map(str::to_string)),
        );
        out.push(Case {
            name: format!("bad-{stem}"),
            args,
            writes: command == "run",
        });
    }
    out
}

/// Removes wall-clock figures and the output directory's name.
fn normalize_text(name: &str, text: &str, out_dir: &str) -> String {
    let timing_keys = [
        "\"wall_seconds\"",
        "\"events_per_second\"",
        "\"calls_per_second\"",
    ];
    let mut s = String::with_capacity(text.len());
    for line in text.replace(out_dir, "<OUT>").split_inclusive('\n') {
        let t = line.trim_start();
        // A manifest's sizes and hashes follow the files' wall-clock figures; each file is
        // digested here on its own, normalized.
        if name.ends_with("manifest.json")
            && (t.starts_with("\"bytes\"") || t.starts_with("\"sha256\""))
        {
            continue;
        }
        if name.ends_with(".json") && timing_keys.iter().any(|k| t.starts_with(k)) {
            continue;
        }
        if name == "stdout" && t.starts_with("engine ") {
            continue;
        }
        s.push_str(&mask_seconds(line));
    }
    s
}

/// "45 probes in 1.4s;" -> "45 probes in <T>s;" (and "in 5 s" -> "in <T> s"): a command's
/// own run time.
fn mask_seconds(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find(" in ") {
        out.push_str(&rest[..i + 4]);
        rest = &rest[i + 4..];
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if n > 0 && (rest[n..].starts_with('s') || rest[n..].starts_with(" s ")) {
            out.push_str("<T>");
            rest = &rest[n..];
        }
    }
    out.push_str(rest);
    out
}

fn digest(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Files kept in full beside their digests, for a readable diff.
fn kept_in_full(rel: &str) -> bool {
    matches!(rel, "stdout" | "stderr" | "summary.json" | "hourly.csv")
}

/// Runs a case and returns (relative name, normalized bytes) of everything it produced.
fn produce(c: &Case, tmp: &Path) -> Vec<(String, Vec<u8>)> {
    let out_dir = tmp.join(&c.name);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tokenfleet"));
    cmd.current_dir(root()).args(&c.args);
    if c.writes {
        if c.args[0] == "calibrate" {
            cmd.arg("--out").arg(out_dir.join("calibration.toml"));
            fs::create_dir_all(&out_dir).unwrap();
        } else {
            cmd.arg("--out").arg(&out_dir);
        }
    }
    let o = cmd.output().unwrap();
    let out_str = out_dir.to_str().unwrap();
    let mut files = vec![
        (
            "exit".to_string(),
            format!("{}\n", o.status.code().unwrap_or(-1)).into_bytes(),
        ),
        (
            "stdout".to_string(),
            normalize_text("stdout", &String::from_utf8_lossy(&o.stdout), out_str).into_bytes(),
        ),
    ];
    // A failing command's stderr is its message; a succeeding one's is progress and timing.
    if !o.status.success() {
        files.push((
            "stderr".to_string(),
            normalize_text("stderr", &String::from_utf8_lossy(&o.stderr), out_str).into_bytes(),
        ));
    }
    if c.writes && out_dir.exists() {
        let mut paths = Vec::new();
        walk(&out_dir, &mut paths);
        paths.sort();
        for p in paths {
            let rel = p
                .strip_prefix(&out_dir)
                .unwrap()
                .to_str()
                .unwrap()
                .replace('\\', "/");
            let bytes = fs::read(&p).unwrap();
            let bytes = if rel.ends_with(".json") || rel.ends_with(".csv") || rel.ends_with(".toml")
            {
                normalize_text(&rel, &String::from_utf8_lossy(&bytes), out_str).into_bytes()
            } else {
                bytes
            };
            files.push((rel, bytes));
        }
    }
    files
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn digests_text(files: &[(String, Vec<u8>)]) -> String {
    files
        .iter()
        .map(|(rel, b)| format!("{}  {:>9}  {rel}\n", digest(b), b.len()))
        .collect()
}

fn first_difference(want: &str, got: &str) -> String {
    for (i, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("line {}:\n  was: {w}\n  now: {g}", i + 1);
        }
    }
    format!(
        "one is a prefix of the other ({} vs {} lines)",
        want.lines().count(),
        got.lines().count()
    )
}

fn full_copy_name(rel: &str) -> String {
    rel.replace('/', "__")
}

#[test]
fn outputs_match_the_recorded_baseline() {
    let bless = std::env::var_os("TOKENFLEET_BLESS_GOLDEN").is_some();
    let tmp = tempfile::tempdir().unwrap();
    let all = cases();
    let mut failures = Vec::new();
    let recorded: Vec<String> = fs::read_dir(golden_dir())
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    for c in &all {
        let files = produce(c, tmp.path());
        let dir = golden_dir().join(&c.name);
        if bless {
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join("digests.txt"), digests_text(&files)).unwrap();
            for (rel, b) in &files {
                if kept_in_full(rel) {
                    fs::write(dir.join(full_copy_name(rel)), b).unwrap();
                }
            }
            continue;
        }
        let Ok(want) = fs::read_to_string(dir.join("digests.txt")) else {
            failures.push(format!(
                "{}: no recorded baseline in {} (a new scenario or case: record it)",
                c.name,
                dir.display()
            ));
            continue;
        };
        let got = digests_text(&files);
        if want == got {
            continue;
        }
        let mut why = format!("{} ({}):", c.name, c.args.join(" "));
        let want_lines: Vec<&str> = want.lines().collect();
        let got_lines: Vec<&str> = got.lines().collect();
        for g in &got_lines {
            let rel = g.rsplit("  ").next().unwrap();
            match want_lines
                .iter()
                .find(|w| w.rsplit("  ").next() == Some(rel))
            {
                None => why.push_str(&format!("\n  {rel}: new file")),
                Some(w) if w != g => {
                    why.push_str(&format!("\n  {rel}: changed"));
                    if kept_in_full(rel) {
                        let was =
                            fs::read_to_string(dir.join(full_copy_name(rel))).unwrap_or_default();
                        let now = files.iter().find(|(r, _)| r == rel).unwrap();
                        why.push_str(&format!(
                            " at {}",
                            first_difference(&was, &String::from_utf8_lossy(&now.1))
                        ));
                    }
                }
                _ => {}
            }
        }
        for w in &want_lines {
            let rel = w.rsplit("  ").next().unwrap();
            if !got_lines.iter().any(|g| g.rsplit("  ").next() == Some(rel)) {
                why.push_str(&format!("\n  {rel}: no longer written"));
            }
        }
        failures.push(why);
    }
    if !bless {
        for r in recorded {
            if !all.iter().any(|c| c.name == r) {
                failures.push(format!("{r}: recorded but no longer run"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from the baseline:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
