//! Fuzzing the scenario loader: no mutated scenario or `--set` override makes it panic, and
//! every error names the file.
//!
//! Invariant 14 of docs/invariants.md for scenarios. The fuzzer of `tests/common/fuzz.rs`
//! mutates every shipped scenario (`scenarios/*.toml`) and draws `--set` overrides of real and
//! unknown fields with nasty values. Scenarios are what users write by hand, so any of these
//! edits is a plausible mistake; each must end in an error that names the file, never in a
//! panic. Inputs that get through are taken further: a scenario is resolved, its up-front
//! sizing is checked (a refusal must say how to force the run), and small ones are simulated
//! for a few minutes of simulated time, so that a bad value validation lets through cannot crash a run.

mod common;

use common::fuzz::{FACTORS, NASTY, Reach, fuzz, names_file};
use proptest::prelude::*;
use tokenfleet_fleet::budget;
use tokenfleet_fleet::budget::{Estimate, Machine};
use tokenfleet_scenario::Scenario;

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
