//! What a newcomer reads in the outputs (issue 22): each output says what was run, a plan's
//! table and its answer are the same verified figures, a sweep's axes read in the units of
//! their data, a trace replay is reported per request and per trace-hour, and `perf` takes
//! what the scenarios take. Each test runs the real binary.

mod common;

use std::path::Path;

use assert_cmd::Command;

fn tokenfleet() -> Command {
    Command::cargo_bin("tokenfleet").unwrap()
}

fn small() -> String {
    common::scenario_path("small.toml")
        .to_str()
        .unwrap()
        .to_string()
}

/// Runs `cmd`, which must succeed; returns (stdout, stderr).
fn succeed(cmd: &mut Command) -> (String, String) {
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

/// Runs small.toml with `args` into `out`; returns its stderr.
fn run(out: &Path, args: &[&str]) -> String {
    let mut cmd = tokenfleet();
    cmd.args(["run", &small()]).args(args).arg("--out").arg(out);
    succeed(&mut cmd).1
}

#[test]
fn a_run_directory_says_what_was_run_and_reproduces_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let set = "cluster.pool.h100.replicas=2";
    run(&a, &["--set", set, "--threads", "2"]);

    // The command line, less --out and --threads (which change nothing in the output).
    let manifest: serde_json::Value =
        serde_json::from_str(&common::read(&a.join("manifest.json"))).unwrap();
    let line = format!("tokenfleet run {} --set {set}", small());
    assert_eq!(manifest["command_line"], line.as_str());
    let html = common::read(&a.join("report.html"));
    assert!(
        html.contains(&format!("<code>{line}</code>")),
        "report.html lacks the command"
    );
    assert!(html.contains("The scenario as run"));

    // The effective scenario, overrides applied: running it again gives the same run.
    let toml = common::read(&a.join("scenario.toml"));
    assert!(toml.contains(&format!("--set {set}")), "{toml}");
    let table: toml::Table = toml.parse().unwrap();
    assert_eq!(
        table["cluster"]["pool"][0]["replicas"].as_integer(),
        Some(2),
        "{toml}"
    );
    let again = tmp.path().join("again");
    tokenfleet()
        .arg("run")
        .arg(a.join("scenario.toml"))
        .arg("--out")
        .arg(&again)
        .assert()
        .success();
    for f in ["hourly.csv", "calls_sample.csv"] {
        assert!(
            common::read(&a.join(f)) == common::read(&again.join(f)),
            "{f}: scenario.toml does not reproduce the run"
        );
    }

    // compare shows each side's command, not only the scenario's (now stale) description.
    run(&b, &[]);
    let cmp = tmp.path().join("cmp");
    tokenfleet()
        .arg("compare")
        .args([&a, &b])
        .arg("--out")
        .arg(&cmp)
        .assert()
        .success();
    let page = common::read(&cmp.join("compare.html"));
    assert!(
        page.contains(&format!("ran as <code>{line}</code>")),
        "{page}"
    );

    // Replacing an output of another command line says so.
    let note = run(&b, &["--set", set]);
    assert!(
        note.contains("note: replacing") && note.contains("(give --out to keep both)"),
        "{note}"
    );
    let same = run(&b, &["--set", set]);
    assert!(!same.contains("note: replacing"), "{same}");
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&common::read(p)).unwrap()
}

/// Runs `plan` on `scenario` with `args`; returns (plan.json, stdout).
fn plan(scenario: &str, out: &Path, args: &[&str]) -> (serde_json::Value, String) {
    let mut cmd = tokenfleet();
    cmd.arg("plan").arg(common::scenario_path(scenario));
    let (stdout, _) = succeed(cmd.args(args).arg("--out").arg(out));
    (json(&out.join("plan.json")), stdout)
}

/// The table's first row, plan.csv's first row, the answer line and report.html all state the
/// verified plan with its own figures and seeds; returns the chosen count.
fn check_plan_agrees(p: &serde_json::Value, stdout: &str, out: &Path, seed: u64) -> u64 {
    let chosen = &p["chosen"];
    let first = &p["candidates"][0];
    let n = chosen["replicas"].as_u64().unwrap();
    assert_eq!(
        first["replicas"].as_u64(),
        Some(n),
        "table row 1 is the plan"
    );
    assert_eq!(
        first["headline"], chosen["headline"],
        "with the plan's own figures"
    );
    let seeds: Vec<u64> = chosen["verification"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["seed"].as_u64().unwrap())
        .collect();
    assert!(seeds.len() >= 3 && seeds[0] == seed, "{seeds:?}");
    let listed: Vec<u64> = first["verified_seeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(listed, seeds);
    // Every seed meets every target at the count; one fewer misses on some seed.
    for v in chosen["verification"].as_array().unwrap() {
        assert!(v["misses"].as_array().unwrap().is_empty(), "{v}");
    }
    assert!(
        chosen["next_smaller"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| !v["misses"].as_array().unwrap().is_empty())
    );
    // No other candidate is cheaper than the plan, verified or not.
    let cost = chosen["headline"]["cost_usd"].as_f64().unwrap();
    for c in p["candidates"].as_array().unwrap() {
        if let Some(h) = c["headline"].as_object() {
            assert!(h["cost_usd"].as_f64().unwrap() >= cost, "{c}");
        }
    }
    // The answer line states the plan's own cost and the seeds; plan.csv's first row agrees.
    let per_day = cost * 24.0 / p["hours"].as_f64().unwrap();
    let mut rd = csv::Reader::from_path(out.join("plan.csv")).unwrap();
    let head = rd.headers().unwrap().clone();
    let row = rd.records().next().unwrap().unwrap();
    let col = |name: &str| &row[head.iter().position(|h| h == name).unwrap()];
    assert_eq!(col("replicas"), n.to_string());
    assert!((col("cost_usd_per_day").parse::<f64>().unwrap() - per_day).abs() < 0.01);
    let listed: Vec<String> = seeds.iter().map(u64::to_string).collect();
    assert_eq!(col("verified_seeds"), listed.join(" "));
    let answer = stdout.lines().find(|l| l.contains("plan: ")).unwrap();
    assert!(answer.contains(&format!("plan: {n} x ")), "{answer}");
    assert!(answer.contains(&format!("${per_day:.2}/day")), "{answer}");
    assert!(
        stdout.contains(&format!("verified with seeds {}", listed.join(", "))),
        "{stdout}"
    );
    // And it writes a report, with the same answer and what was run.
    let html = common::read(&out.join("report.html"));
    assert!(
        html.contains(&format!("<strong>Plan:</strong> {n} x ")),
        "report.html lacks the answer"
    );
    assert!(html.contains("<svg") && html.contains("What was run"));
    assert!(html.contains("<code>tokenfleet plan ") && out.join("scenario.toml").is_file());
    n
}

#[test]
fn a_plans_table_and_answer_are_the_same_verified_figures() {
    let tmp = tempfile::tempdir().unwrap();
    // Eight candidates: the ranking holds at the verified counts.
    let out = tmp.path().join("example");
    let (p, stdout) = plan(
        "plan-example.toml",
        &out,
        &["--set", "plan.cells=1", "--seed", "11"],
    );
    check_plan_agrees(&p, &stdout, &out, 11);

    // A tight TTFT target on a small fleet: the planning seed meets it with 2 replicas, the
    // other seeds need many more. The table must show the verified count, not the search's.
    let out = tmp.path().join("raised");
    let (p, stdout) = plan("small.toml", &out, &["--ttft-p99", "0.3s", "--seed", "2"]);
    let n = check_plan_agrees(&p, &stdout, &out, 2);
    let searched = p["candidates"][0]["probes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["seed"] == 2 && q["misses"].as_array().unwrap().is_empty())
        .map(|q| q["replicas"].as_u64().unwrap())
        .min()
        .unwrap();
    assert!(
        searched < n,
        "verification raised the count ({searched} -> {n})"
    );
}

/// The text of every `<text>` element of an SVG (tick labels, titles, legend).
fn svg_texts(svg: &Path) -> Vec<String> {
    common::read(svg)
        .split("<text")
        .skip(1)
        .filter_map(|t| t.split_once('>').and_then(|(_, r)| r.split_once("</text>")))
        .map(|(t, _)| t.trim().to_string())
        .collect()
}

fn sweep(out: &Path, vary: &str) -> String {
    let mut cmd = tokenfleet();
    cmd.args(["sweep", &small(), "--vary", vary, "--seeds", "2"]);
    succeed(cmd.arg("--out").arg(out)).0
}

#[test]
fn a_sweeps_axes_table_and_break_even_read_in_their_units() {
    let tmp = tempfile::tempdir().unwrap();
    let lin = tmp.path().join("lin");
    sweep(&lin, "fleet.agents=200..2000:log:5");
    // Utilization is a share (0.2 to 0.95): its axis reads 20% to 80%, not 0% to 1%.
    let util = svg_texts(&lin.join("charts/sweep_utilization.svg"));
    let pcts: Vec<f64> = util
        .iter()
        .filter_map(|t| t.strip_suffix('%')?.parse().ok())
        .collect();
    assert!(
        pcts.iter().any(|&p| p >= 60.0),
        "utilization ticks: {util:?}"
    );

    // A log range over two decades: round ticks (200, 500, 1k, ...), never "316.23k".
    let log = tmp.path().join("log");
    let stdout = sweep(&log, "fleet.agents=100..20000:log:5");
    let texts = svg_texts(&log.join("charts/sweep_margin.svg"));
    for t in ["100", "1k", "10k"] {
        assert!(texts.iter().any(|x| x == t), "no tick {t}: {texts:?}");
    }
    assert!(
        !texts
            .iter()
            .any(|t| t.contains('.') && t.ends_with('k') && t.len() > 4),
        "{texts:?}"
    );
    // The break-even says the latency there, in the chart and on the terminal; the marker
    // sits where the interpolated median crosses zero on the drawn (log) scale.
    let marker = texts.iter().find(|t| t.contains("break-even at")).unwrap();
    assert!(marker.contains("TTFT p99"), "{marker}");
    let line = stdout
        .lines()
        .find(|l| l.contains("break-even along"))
        .unwrap();
    assert!(line.contains("TTFT p99 there"), "{line}");
    let be: serde_json::Value = json(&log.join("sweep.json"));
    let x = be["break_even"]["margin_itemized"].as_f64().unwrap();
    let mut rd = csv::Reader::from_path(log.join("bands.csv")).unwrap();
    let head = rd.headers().unwrap().clone();
    let bands: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let pts: Vec<(f64, f64)> = bands
        .iter()
        .map(|r| {
            (
                r[col("fleet.agents")].parse().unwrap(),
                r[col("margin_itemized_usd_p50")].parse().unwrap(),
            )
        })
        .collect();
    let w = pts
        .windows(2)
        .find(|w| (w[0].1 <= 0.0) != (w[1].1 <= 0.0))
        .unwrap();
    let f = (-w[0].1) / (w[1].1 - w[0].1);
    let geometric = (w[0].0.ln() + f * (w[1].0.ln() - w[0].0.ln())).exp();
    assert!((x / geometric - 1.0).abs() < 1e-9, "{x} vs {geometric}");

    // The table states its units and keeps each cell narrow.
    let html = common::read(&log.join("report.html"));
    assert!(html.contains("Cost (US$)") && html.contains("Utilization (busy share)"));
    assert!(html.contains("<br><span class=\"note\">"));
}

/// Seconds since midnight of an Azure trace timestamp ("2023-11-16 18:17:03.9799600").
fn clock_s(ts: &str) -> f64 {
    let time = ts.split_once(' ').unwrap().1;
    let parts: Vec<f64> = time.split(':').map(|p| p.parse().unwrap()).collect();
    parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
}

#[test]
fn a_trace_replay_is_reported_per_request_and_per_trace_hour() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("replay");
    let trace = common::root().join("tests/fixtures/traces/azure_llm_2023_code.csv");
    let text = common::read(&trace);
    let rows: Vec<&str> = text.lines().skip(1).filter(|l| !l.is_empty()).collect();
    let first = clock_s(rows[0].split(',').next().unwrap());
    let last = clock_s(rows[rows.len() - 1].split(',').next().unwrap());
    let span_h = (last - first) / 3600.0;

    let mut cmd = tokenfleet();
    cmd.args(["run", &small(), "--trace"]).arg(&trace);
    let (stdout, _) = succeed(cmd.arg("--out").arg(&out));
    // Nothing is annualised or counted in agent-days.
    for banned in ["agent-day", "/yr", " agents,"] {
        assert!(!stdout.contains(banned), "{banned:?} in:\n{stdout}");
    }
    assert!(
        stdout.contains("per request") && stdout.contains("/trace-hour"),
        "{stdout}"
    );

    let s = json(&out.join("summary.json"));
    let r = &s["replay"];
    assert_eq!(r["requests"].as_u64(), Some(rows.len() as u64));
    let hours = r["traffic_hours"].as_f64().unwrap();
    assert!(
        (hours / span_h - 1.0).abs() < 1e-3,
        "{hours} h vs the trace's {span_h} h"
    );
    let sheet = &s["price_sheets"][0];
    assert!(sheet.get("usd_per_year").is_none() && sheet.get("usd_per_agent_day").is_none());
    let item = sheet["itemized_usd"].as_f64().unwrap();
    let per_request = sheet["usd_per_request"]["itemized"].as_f64().unwrap();
    assert!((per_request * rows.len() as f64 / item - 1.0).abs() < 1e-3);
    let per_hour = sheet["usd_per_trace_hour"]["itemized"].as_f64().unwrap();
    assert!((per_hour * hours / item - 1.0).abs() < 1e-3);
    let unit = &s["unit_economics"];
    assert!(unit.get("cost_usd_per_agent_day").is_none() && unit["payback_years"].is_null());
    assert!(unit["cost_usd_per_request"].as_f64().unwrap() > 0.0);

    let html = common::read(&out.join("report.html"));
    assert!(html.contains("Price sets, per request and per trace-hour"));
    assert!(!html.contains("per agent-day") && !html.contains("Fleet revenue / year"));
}
