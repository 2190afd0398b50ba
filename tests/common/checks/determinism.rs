//! Invariant 5 of docs/invariants.md: the outputs' bytes do not depend on the thread count or
//! on the shard split.

use tokenfleet_fleet::run::{RunOutput, Shard, run_shard};
use tokenfleet_reports::calls::CallsSampleCsv;
use tokenfleet_reports::hourly::HourlyCsv;
use tokenfleet_reports::json::SummaryJson;
use tokenfleet_reports::partial::{PartialFile, ScenarioSource};
use tokenfleet_reports::{Report, ReportContext, Summary};
use tokenfleet_setup::Setup;

use super::pools;
use crate::common::random_scenario::Case;

/// summary.json (without its wall-clock fields), hourly.csv and calls_sample.csv.
pub fn render(setup: &Setup, run: &RunOutput) -> Vec<(&'static str, String)> {
    let summary = Summary::new(setup, run);
    let ctx = ReportContext {
        setup,
        run,
        summary: &summary,
        made: &Default::default(),
    };
    let reports: [&dyn Report; 3] = [&SummaryJson, &HourlyCsv, &CallsSampleCsv];
    reports
        .iter()
        .map(|r| {
            let mut bytes = Vec::new();
            r.write(&ctx, &mut bytes).unwrap();
            let mut text = String::from_utf8(bytes).unwrap();
            if r.file_name() == "summary.json" {
                let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
                let engine = v["engine"].as_object_mut().unwrap();
                for k in ["wall_seconds", "events_per_second", "calls_per_second"] {
                    engine.remove(k).expect("a wall-clock field");
                }
                text = serde_json::to_string_pretty(&v).unwrap();
            }
            (r.file_name(), text)
        })
        .collect()
}

pub fn assert_same_bytes(a: &[(&str, String)], b: &[(&str, String)], what: &str) {
    for ((name, x), (_, y)) in a.iter().zip(b) {
        assert!(x == y, "{name} differs: {what}");
    }
}

/// Invariant 5: the bytes of the outputs do not depend on the thread count or on how the
/// cells are split into shards (and shards survive their trip through partial.json).
pub fn check(case: &Case, setup: &Setup, one: &RunOutput) {
    let expected = render(setup, one);
    let two = pools()
        .1
        .install(|| tokenfleet_fleet::run(setup, setup.seed, None, &|_| {}));
    assert_same_bytes(&expected, &render(setup, &two), "1 vs 2 threads");

    let count = case.shards;
    let parts: Vec<RunOutput> = (0..count)
        .map(|index| {
            let part = pools().1.install(|| {
                run_shard(
                    setup,
                    setup.seed,
                    None,
                    Some(Shard { index, count }),
                    &|_| {},
                )
            });
            // Odd shards go through partial.json, as `tokenfleet merge` reads them.
            if index % 2 == 1 {
                let source = ScenarioSource {
                    command_line: String::new(),
                    file: "prop.toml".into(),
                    dir: None,
                    text: case.toml(),
                    overrides: Vec::new(),
                    sample: None,
                };
                let json = serde_json::to_string(&PartialFile::new(source, &part)).unwrap();
                let file: PartialFile = serde_json::from_str(&json).unwrap();
                file.into_run().unwrap()
            } else {
                part
            }
        })
        .rev()
        .collect();
    let merged = RunOutput::merge(parts, setup.engine.calls_sample_max as usize).unwrap();
    assert_same_bytes(
        &expected,
        &render(setup, &merged),
        &format!("{count} shards merged vs the whole run"),
    );
}
