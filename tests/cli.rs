//! End-to-end tests of the `tokenfleet` binary.

mod common;

use std::path::Path;

use assert_cmd::Command;

fn tokenfleet() -> Command {
    Command::cargo_bin("tokenfleet").unwrap()
}

fn run_small(out: &Path, threads: usize) {
    tokenfleet()
        .args([
            "run",
            common::scenario_path("small.toml").to_str().unwrap(),
            "--threads",
        ])
        .arg(threads.to_string())
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

/// summary.json without the two wall-clock fields, which are the only ones allowed to vary.
fn summary_without_timing(dir: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&common::read(&dir.join("summary.json"))).unwrap();
    let engine = v["engine"].as_object_mut().unwrap();
    for k in ["wall_seconds", "events_per_second", "calls_per_second"] {
        assert!(engine.remove(k).is_some(), "engine.{k} is reported");
    }
    v
}

#[test]
fn run_writes_every_output_with_the_promised_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("small");
    let assert = tokenfleet()
        .args([
            "run",
            common::scenario_path("small.toml").to_str().unwrap(),
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("revenue") && stdout.contains("margin"),
        "{stdout}"
    );

    let v: serde_json::Value =
        serde_json::from_str(&common::read(&out.join("summary.json"))).unwrap();
    for path in [
        "scenario",
        "seed",
        "simulated_hours",
        "calls.generated",
        "calls.completed",
        "calls.rejected",
        "calls.in_flight",
        "tokens.input_uncached",
        "tokens.input_cached",
        "tokens.output",
        "revenue_usd.itemized",
        "revenue_usd.blended",
        "cost_usd.total",
        "cost_usd.hardware",
        "cost_usd.energy",
        "energy_kwh",
        "margin_usd",
        "utilization.mean",
        "latency_s.ttft_p50",
        "latency_s.ttft_p99",
        "latency_s.e2e_p50",
        "latency_s.e2e_p99",
        "agents.count",
        "agents.daily_tokens_p10",
        "agents.daily_tokens_p50",
        "agents.daily_tokens_p90",
        "engine.events",
        "engine.wall_seconds",
        "engine.events_per_second",
        "sampled_fraction",
    ] {
        let mut cur = &v;
        for k in path.split('.') {
            cur = cur
                .get(k)
                .unwrap_or_else(|| panic!("summary.json lacks {path}"));
        }
        assert!(!cur.is_null(), "{path} is null");
    }
    assert_eq!(v["scenario"], "small");
    assert!(v["calls"]["completed"].as_u64().unwrap() > 1000);
    assert!(v["latency_s"]["e2e_p50"].as_f64().unwrap() > 0.0);

    let hourly = common::read(&out.join("hourly.csv"));
    let header = hourly.lines().next().unwrap();
    for col in [
        "hour",
        "pool",
        "calls_completed",
        "input_uncached",
        "input_cached",
        "output",
        "utilization",
        "revenue_itemized_usd",
        "cost_hardware_usd",
        "cost_energy_usd",
        "ttft_p99_s",
        "queue_mean",
    ] {
        assert!(
            header.split(',').any(|c| c == col),
            "hourly.csv lacks {col}: {header}"
        );
    }
    assert_eq!(hourly.lines().count(), 1 + 2, "two hours x one pool");

    let calls = common::read(&out.join("calls_sample.csv"));
    let header = calls.lines().next().unwrap();
    for col in [
        "agent",
        "segment",
        "task",
        "step",
        "start_s",
        "input_uncached",
        "input_cached",
        "output",
        "ttft_s",
        "e2e_s",
        "pool",
        "revenue_usd",
    ] {
        assert!(
            header.split(',').any(|c| c == col),
            "calls_sample.csv lacks {col}: {header}"
        );
    }
    assert_eq!(
        calls.lines().count() as u64 - 1,
        v["calls"]["completed"].as_u64().unwrap(),
        "every call sampled"
    );
}

#[test]
fn outputs_are_byte_identical_across_thread_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("t1"), tmp.path().join("t2"));
    run_small(&a, 1);
    run_small(&b, 2);
    let mut files: Vec<String> = [
        "hourly.csv",
        "calls_sample.csv",
        "report.html",
        "charts/daily_tokens.csv",
    ]
    .map(String::from)
    .to_vec();
    for kind in tokenfleet_reports::charts::ChartKind::ALL {
        let (svg, png) = kind.files();
        files.extend([svg.to_string(), png.to_string()]);
    }
    for f in &files {
        let read = |d: &Path| std::fs::read(d.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(read(&a) == read(&b), "{f} differs between 1 and 2 threads");
    }
    assert_eq!(summary_without_timing(&a), summary_without_timing(&b));
    // The manifest too, but for summary.json's size and hash (its wall-clock figures).
    let manifest = |d: &Path| {
        let mut m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("manifest.json")).unwrap())
                .unwrap();
        let files = m["files"].as_array_mut().unwrap();
        files.retain(|f| f["path"] != "summary.json");
        m
    };
    assert_eq!(manifest(&a), manifest(&b));
}

#[test]
fn seed_and_overrides_change_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let small = common::scenario_path("small.toml");
    let go = |name: &str, args: &[&str]| {
        let out = tmp.path().join(name);
        tokenfleet()
            .arg("run")
            .arg(&small)
            .args(args)
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        summary_without_timing(&out)
    };
    let base = go("base", &[]);
    let seeded = go("seeded", &["--seed", "99"]);
    assert_eq!(seeded["seed"], 99);
    assert_ne!(
        base["calls"], seeded["calls"],
        "another seed draws other demand"
    );
    let bigger = go("bigger", &["--set", "fleet.agents=600"]);
    assert_eq!(bigger["agents"]["count"], 600);
    assert!(bigger["calls"]["completed"].as_u64() > base["calls"]["completed"].as_u64());
}

#[test]
fn validate_accepts_the_shipped_scenarios() {
    for s in ["openclaw-2026.toml", "small.toml", "multi-pool.toml"] {
        tokenfleet()
            .args(["validate", common::scenario_path(s).to_str().unwrap()])
            .assert()
            .success()
            .stdout(predicates::str::contains("ok:"));
    }
}

fn validate_err(text: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("bad.toml");
    std::fs::write(&f, text).unwrap();
    let out = tokenfleet()
        .args(["validate", f.to_str().unwrap()])
        .assert()
        .failure();
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("bad.toml"),
        "the message names the file: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn validate_rejects_malformed_scenarios_naming_the_field() {
    let small = common::read(&common::scenario_path("small.toml"));
    // A typo in a key.
    let e = validate_err(&small.replace(
        "tool_gap = { dist = \"exponential\"",
        "tool_gapp = { dist = \"exponential\"",
    ));
    assert!(
        e.contains("tool_gapp") && e.contains("did you mean `tool_gap`"),
        "{e}"
    );
    // A unit that does not parse.
    let e = validate_err(&small.replace("duration = \"2h\"", "duration = \"2 parsecs\""));
    assert!(
        e.contains("simulation.duration") && e.contains("parsecs"),
        "{e}"
    );
    // An unknown device, with the line it is on and the accepted values.
    let e = validate_err(&small.replace("hardware = \"h100-sxm\"", "hardware = \"h1000\""));
    assert!(
        e.contains("cluster.pool[0].hardware") && e.contains("h100-sxm") && e.contains("line "),
        "{e}"
    );
    // Shares that do not add up.
    let e = validate_err(&small.replace("share = 0.3", "share = 0.5"));
    assert!(e.contains("shares sum to 1.2"), "{e}");
    // A model that does not fit on its replica.
    let e = validate_err(&small.replace("llama-3.1-8b", "llama-3.1-70b"));
    assert!(
        e.contains("cluster.pool[0].tp") && e.contains("141.") && e.contains("at least 2 devices"),
        "{e}"
    );
    // A negative count.
    let e = validate_err(&small.replace("agents = 300", "agents = -5"));
    assert!(e.contains("fleet.agents") && e.contains("negative"), "{e}");
}

#[test]
fn bad_command_line_values_fail_cleanly() {
    let small = common::scenario_path("small.toml");
    let out = tokenfleet()
        .arg("run")
        .arg(&small)
        .args(["--set", "cluster.pool.nope.replicas=3"])
        .assert()
        .failure();
    let e = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(e.contains("names: h100"), "{e}");
    tokenfleet()
        .arg("run")
        .arg(&small)
        .args(["--threads", "0"])
        .assert()
        .failure();
    tokenfleet()
        .arg("run")
        .arg(&small)
        .args(["--sample", "1.5"])
        .assert()
        .failure();
    tokenfleet()
        .args(["run", "/does/not/exist.toml"])
        .assert()
        .failure();
}

fn perf_json(args: &[&str]) -> serde_json::Value {
    let out = tokenfleet()
        .arg("perf")
        .args(args)
        .arg("--json")
        .assert()
        .success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

#[test]
fn perf_prints_the_promised_json_fields() {
    let v = perf_json(&[
        "--hardware",
        "h100-sxm",
        "--model",
        "llama-3.1-70b",
        "--tp",
        "8",
        "--precision",
        "fp8",
        "--isl",
        "1024",
        "--osl",
        "256",
        "--concurrency",
        "16",
    ]);
    for k in [
        "ttft_ms",
        "tpot_ms",
        "e2e_ms",
        "output_tokens_per_s",
        "devices",
    ] {
        assert!(v[k].as_f64().is_some_and(|x| x > 0.0), "{k}: {v}");
    }
    assert_eq!(v["devices"], 8);
    // Close to the measured vLLM point (Llama-3.1-70B FP8, TP8, c=16: TPOT 11.4 ms).
    let tpot = v["tpot_ms"].as_f64().unwrap();
    assert!((9.0..14.0).contains(&tpot), "{tpot}");
}

#[test]
fn perf_counts_the_lpu_chips_a_model_needs() {
    let v = perf_json(&[
        "--hardware",
        "groq-lpu",
        "--model",
        "llama-3.1-70b",
        "--precision",
        "fp8",
        "--isl",
        "1024",
        "--osl",
        "256",
        "--concurrency",
        "8",
    ]);
    // 71 GB of FP8 weights (and a little KV) in 230 MB of SRAM per chip.
    let chips = v["devices"].as_u64().unwrap();
    assert!((310..=360).contains(&chips), "{chips}");
    tokenfleet()
        .args([
            "perf",
            "--hardware",
            "groq-lpu",
            "--model",
            "llama-3.1-70b",
            "--tp",
            "8",
            "--pp",
            "8",
            "--isl",
            "1024",
            "--osl",
            "256",
            "--concurrency",
            "8",
        ])
        .assert()
        .failure()
        .stderr(predicates::str::contains("chips to hold its weights"));
}

#[test]
fn perf_names_the_bad_field_and_the_accepted_values() {
    let base = [
        "perf",
        "--hardware",
        "h100-sxm",
        "--model",
        "llama-3.1-8b",
        "--isl",
        "128",
        "--osl",
        "16",
        "--concurrency",
        "1",
    ];
    tokenfleet()
        .args(base)
        .args(["--precision", "fp9"])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "--precision `fp9`; accepted: bf16, fp8",
        ));
    tokenfleet()
        .args(["perf", "--hardware", "h999", "--model", "llama-3.1-8b"])
        .args(["--isl", "1", "--osl", "1", "--concurrency", "1"])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "unknown hardware `h999`; accepted:",
        ));
    tokenfleet()
        .args(base)
        .args(["--engine", "nope"])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "unknown engine `nope`; accepted:",
        ));
}
