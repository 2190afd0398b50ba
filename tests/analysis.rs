//! `tokenfleet plan`, `sweep` and `sensitivity` checked against independent runs of the real
//! binary: a plan's count must hold on seeds it never saw and one replica fewer must fail; a
//! sweep's break-even must separate losing from winning fleet sizes; shards must merge into the
//! unsharded sweep byte for byte; a sensitivity must move cost the way the input says.

mod common;

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn tokenfleet() -> Command {
    Command::cargo_bin("tokenfleet").unwrap()
}

fn json(p: &Path) -> Value {
    serde_json::from_str(&common::read(p)).unwrap()
}

fn small() -> String {
    common::scenario_path("small.toml")
        .to_str()
        .unwrap()
        .to_string()
}

/// Runs the plan-example scenario with a pool of `replicas` B200s and returns (TTFT p99 in s,
/// rejected share).
fn plan_example_run(replicas: u64, seed: u64, dir: &Path) -> (f64, f64) {
    tokenfleet()
        .args([
            "run",
            common::scenario_path("plan-example.toml").to_str().unwrap(),
        ])
        .args(["--set", "cluster.pool.\"coder-pool\".hardware=b200"])
        .args(["--set", "cluster.pool.\"coder-pool\".tp=1"])
        .arg("--set")
        .arg(format!("cluster.pool.\"coder-pool\".replicas={replicas}"))
        .arg("--seed")
        .arg(seed.to_string())
        .arg("--out")
        .arg(dir)
        .assert()
        .success();
    let s = json(&dir.join("summary.json"));
    let calls = &s["calls"];
    let rejected = calls["rejected"].as_f64().unwrap() / calls["generated"].as_f64().unwrap();
    (s["latency_s"]["ttft_p99"].as_f64().unwrap(), rejected)
}

#[test]
fn a_plan_holds_on_unseen_seeds_and_one_replica_fewer_misses() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    tokenfleet()
        .args([
            "plan",
            common::scenario_path("plan-example.toml").to_str().unwrap(),
        ])
        .args(["--set", "plan.hardware=[\"b200\"]", "--set", "plan.tp=[1]"])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let plan = json(&out.join("plan.json"));
    assert!(out.join("charts/frontier.svg").is_file());
    assert!(out.join("charts/frontier.png").is_file());
    // The chosen count: the single-seed search result, raised until it held on every verify seed.
    let chosen = &plan["chosen"];
    assert_eq!(chosen["candidate"]["hardware"], "b200");
    let n = chosen["replicas"].as_u64().expect("b200 is feasible");
    assert!(n >= plan["candidates"][0]["replicas"].as_u64().unwrap());
    let ttft_target = plan["targets"]["ttft_p99_s"].as_f64().unwrap();
    let rejected_target = plan["targets"]["rejected_share"].as_f64().unwrap();

    // The planner probes a sample of cells; these are whole-fleet runs on seeds it never used.
    for seed in [11, 12] {
        let (ttft, rejected) = plan_example_run(n, seed, &tmp.path().join(format!("s{seed}")));
        assert!(
            ttft <= ttft_target && rejected <= rejected_target,
            "{n} replicas, seed {seed}: ttft p99 {ttft} s, rejected {rejected}"
        );
    }
    // One fewer must miss a target on at least one of the seeds the plan verified with.
    let seeds: Vec<u64> = chosen["verification"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["seed"].as_u64().unwrap())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let misses = seeds.iter().any(|&seed| {
        let (ttft, rejected) = plan_example_run(n - 1, seed, &tmp.path().join(format!("m{seed}")));
        ttft > ttft_target || rejected > rejected_target
    });
    assert!(
        misses,
        "{} replicas met every target on seeds {seeds:?}",
        n - 1
    );
}

fn sweep(dir: &Path, extra: &[&str]) {
    tokenfleet()
        .args(["sweep", &small()])
        .args(["--vary", "fleet.agents=200..2000:log:5", "--seeds", "3"])
        .args(extra)
        .arg("--out")
        .arg(dir)
        .assert()
        .success();
}

#[test]
fn sweep_bands_are_ordered_and_the_break_even_separates_loss_from_profit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sweep");
    sweep(&dir, &[]);
    let mut rd = csv::Reader::from_path(dir.join("bands.csv")).unwrap();
    let head = rd.headers().unwrap().clone();
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5);
    let f = |r: &csv::StringRecord, c: &str| r[col(c)].parse::<f64>().unwrap();
    let mut last_tokens = 0.0;
    for r in &rows {
        for m in ["tokens", "cost_usd", "margin_blended_usd", "utilization"] {
            let (lo, mid, hi) = (
                f(r, &format!("{m}_p10")),
                f(r, &format!("{m}_p50")),
                f(r, &format!("{m}_p90")),
            );
            assert!(lo <= mid && mid <= hi, "{m}: {lo} {mid} {hi}");
        }
        // More agents, more tokens: the medians rise with the fleet.
        assert!(f(r, "tokens_p50") > last_tokens);
        last_tokens = f(r, "tokens_p50");
    }
    assert_eq!(
        std::fs::read_dir(dir.join("charts")).unwrap().count(),
        12,
        "six charts, SVG and PNG"
    );

    let be = json(&dir.join("sweep.json"));
    let x = be["break_even"]["margin_blended"]
        .as_f64()
        .expect("the blended margin crosses zero between 200 and 2000 agents");
    // Independent runs well either side of the interpolated break-even.
    let margin = |agents: u64| {
        let d = tmp.path().join(format!("a{agents}"));
        tokenfleet()
            .args(["run", &small()])
            .arg("--set")
            .arg(format!("fleet.agents={agents}"))
            .arg("--out")
            .arg(&d)
            .assert()
            .success();
        json(&d.join("summary.json"))["margin_blended_usd"]
            .as_f64()
            .unwrap()
    };
    assert!(margin((x * 0.8) as u64) < 0.0);
    assert!(margin((x * 1.2) as u64) > 0.0);
}

#[test]
fn sweep_shards_merge_into_the_whole_sweep_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    sweep(&whole, &["--threads", "2"]);
    let mut parts = Vec::new();
    for i in 0..2 {
        let d = tmp.path().join(format!("part{i}"));
        sweep(&d, &["--threads", "1", "--shard", &format!("{i}/2")]);
        parts.push(d);
    }
    let merged = tmp.path().join("merged");
    tokenfleet()
        .arg("merge")
        .args(&parts)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    for f in [
        "sweep.csv",
        "bands.csv",
        "sweep.json",
        "report.html",
        "charts/sweep_margin.svg",
        "charts/sweep_margin.png",
    ] {
        assert!(
            std::fs::read(whole.join(f)).unwrap() == std::fs::read(merged.join(f)).unwrap(),
            "{f} differs between the whole sweep and the merged shards"
        );
    }
    // Both say what was run: the whole sweep's command, not the shards' or the merge's.
    let html = common::read(&merged.join("report.html"));
    assert!(html.contains("<code>tokenfleet sweep ") && !html.contains("--shard"));
    assert!(
        common::read(&merged.join("scenario.toml")) == common::read(&whole.join("scenario.toml"))
    );
}

#[test]
fn sensitivity_moves_cost_and_margin_in_the_inputs_direction() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sens");
    tokenfleet()
        .args(["sensitivity", &small(), "--amount", "0.25", "--out"])
        .arg(&dir)
        .assert()
        .success();
    let html = common::read(&dir.join("report.html"));
    assert!(html.contains("<code>tokenfleet sensitivity ") && dir.join("scenario.toml").is_file());
    let mut rd = csv::Reader::from_path(dir.join("sensitivity.csv")).unwrap();
    let head = rd.headers().unwrap().clone();
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let row = |label: &str| {
        rows.iter()
            .find(|r| r[col("input")].contains(label))
            .unwrap_or_else(|| panic!("no input {label}"))
    };
    let f = |r: &csv::StringRecord, c: &str| r[col(c)].parse::<f64>().unwrap();
    // Renting 25% more replicas costs 25% more per token served (the demand is the same).
    let r = row("replicas");
    let ratio = f(r, "cost_usd_per_mtok_high") / f(r, "cost_usd_per_mtok_base");
    assert!((ratio - 1.25).abs() < 0.02, "cost per Mtok ratio {ratio}");
    assert!(f(r, "margin_itemized_high") < f(r, "margin_itemized_base"));
    // Higher token prices, higher margin; cost does not move.
    let r = row("itemized token prices");
    assert!(f(r, "margin_itemized_low") < f(r, "margin_itemized_base"));
    assert!(f(r, "margin_itemized_base") < f(r, "margin_itemized_high"));
    assert_eq!(
        f(r, "cost_usd_per_mtok_low"),
        f(r, "cost_usd_per_mtok_high")
    );
    // Rows are sorted by the width of the margin swing, widest first.
    let width =
        |r: &csv::StringRecord| (f(r, "margin_itemized_high") - f(r, "margin_itemized_low")).abs();
    assert!(rows.windows(2).all(|w| width(&w[0]) >= width(&w[1])));
}

/// A rent taken from the catalog reaches the cost as surely as one written in the file, so it
/// is in the tornado too (issue 22: the default scenario's whole cost was left out).
#[test]
fn sensitivity_moves_a_catalog_rent() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sens");
    tokenfleet()
        .args(["sensitivity", &small(), "--amount", "0.25", "--out"])
        .arg(&dir)
        .args(["--set", "cluster.pool.h100.rent=\"typical\""])
        .assert()
        .success();
    let mut rd = csv::Reader::from_path(dir.join("sensitivity.csv")).unwrap();
    let head = rd.headers().unwrap().clone();
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let r = rows
        .iter()
        .find(|r| r[col("input")].contains("rent per device-hour (catalog)"))
        .expect("the catalog rent is an input");
    let f = |c: &str| r[col(c)].parse::<f64>().unwrap();
    // Rent is the whole hardware cost of a rented pool: 25% more rent, 25% more cost per token.
    let ratio = f("cost_usd_per_mtok_high") / f("cost_usd_per_mtok_base");
    assert!((ratio - 1.25).abs() < 0.02, "cost per Mtok ratio {ratio}");
    let ratio = f("cost_usd_per_mtok_low") / f("cost_usd_per_mtok_base");
    assert!((ratio - 0.75).abs() < 0.02, "cost per Mtok ratio {ratio}");
}
