//! The fleet generator: presets land on their calibration targets, budgets are spent, and the
//! loop's features (sub-agents, retries, reasoning, monitors, weekends) do what they say.

mod common;

use tokenfleet_reports::Summary;
use tokenfleet_scenario::Origin;
use tokenfleet_scenario::{Scenario, ScenarioError};
use tokenfleet_setup::Setup;

const PRESET_SCENARIOS: &[&str] = &[
    "coding-agent.toml",
    "openclaw-heavy.toml",
    "openclaw-light.toml",
    "monitor.toml",
    "chat.toml",
];

fn setup_text(text: &str, overrides: &[&str]) -> Result<Setup, ScenarioError> {
    let origin = Origin {
        file: "test.toml".into(),
        dir: None,
        text: text.into(),
    };
    let sets: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    Scenario::from_text(&origin, &sets)?.resolve(&origin)
}

fn within(x: f64, target: f64, tol: f64) -> bool {
    (x / target - 1.0).abs() <= tol
}

#[test]
fn every_preset_scenario_runs_and_spends_its_budgets() {
    for name in PRESET_SCENARIOS {
        // A fifth of each fleet keeps the test fast; the shapes do not depend on size.
        let base = common::setup(name, &[]);
        let agents = (base.agents / 5).max(50);
        let setup = common::setup(name, &[&format!("fleet.agents={agents}")]);
        let out = common::run(&setup, 2);
        common::check_conservation(&out);
        let s = Summary::new(&setup, &out);
        let seg = &s.segments[0];
        assert!(seg.calls_completed > 1000, "{name}: {seg:?}");
        assert!(
            seg.realized_over_target_total > 0.85 && seg.realized_over_target_total < 1.05,
            "{name}: realized / target {}",
            seg.realized_over_target_total
        );
        assert!(
            within(seg.realized_over_target.p50, 1.0, 0.03),
            "{name}: median agent realized / target {:?}",
            seg.realized_over_target
        );
    }
}

#[test]
fn coding_agent_lands_on_the_claude_code_sessions() {
    // Targets: 710 Claude Code sessions (tests/fixtures/workload, REFERENCE.md §2).
    let setup = common::setup(
        "coding-agent.toml",
        &["fleet.agents=300", "cluster.pool.h200.replicas=8"],
    );
    let out = common::run(&setup, 2);
    let s = Summary::new(&setup, &out);
    let seg = &s.segments[0];
    let i = &seg.input_per_call;
    assert!(within(i.p10, 42_000.0, 0.2), "input p10 {i:?}");
    assert!(within(i.p50, 104_000.0, 0.1), "input p50 {i:?}");
    // The recorded p90 (234k) includes 1M-window sessions; the 256k window caps ours.
    assert!(within(i.p90, 234_000.0, 0.15), "input p90 {i:?}");
    let o = &seg.output_per_call;
    assert!(
        within(o.p10, 105.0, 0.1) && within(o.p50, 216.0, 0.1),
        "output {o:?}"
    );
    assert!(within(o.p90, 898.0, 0.15), "output {o:?}");
    assert!(
        seg.cached_share > 0.93 && seg.cached_share < 0.985,
        "cached {}",
        seg.cached_share
    );
    let c = &seg.calls_per_task;
    assert!(within(c.p50, 45.0, 0.25), "calls per task {c:?}");
    assert!(
        within(seg.calls_per_task_mean, 69.5, 0.15),
        "{}",
        seg.calls_per_task_mean
    );
    assert!(seg.subagent_calls > 0, "sub-agents fan out");
}

const LOOP: &str = r#"
name = "loop"
seed = 3
[simulation]
duration = "6h"
[engine]
replicas_per_cell = 2
sample = "full"
calls_sample_rate = 1.0
calls_sample_max = 10000000
[fleet]
agents = 60
[[fleet.segment]]
name = "a"
share = 1.0
model = "llama-3.1-8b"
daily_tokens = { dist = "lognormal", p10 = "3M", p90 = "8M" }
profile = "flat"
[fleet.segment.task]
tokens = "400k"
system_tokens = "6k"
new_tokens = { dist = "lognormal", median = 800, sigma = 1.0 }
output_tokens = { dist = "lognormal", median = 200, sigma = 0.8 }
tool_gap = { dist = "exponential", mean = "5s" }
[[cluster.pool]]
name = "h100"
hardware = "h100-sxm"
model = "llama-3.1-8b"
replicas = 2
weights = "bf16"
rent = "$2.99/h"
[[price]]
model = "llama-3.1-8b"
input = "$0.10/M"
output = "$0.20/M"
"#;

fn with_task(extra: &str) -> String {
    LOOP.replace("[[cluster.pool]]", &format!("{extra}\n[[cluster.pool]]"))
}

#[test]
fn sub_agents_fan_out_with_their_own_contexts() {
    let text = with_task(
        "[fleet.segment.task.subagents]\nprobability = 0.2\nfanout = { dist = \"uniform\", min = 2, max = 3 }\ncalls = 4\nsystem_tokens = \"2k\"\nresult_tokens = \"500\"",
    );
    let setup = setup_text(&text, &[]).unwrap();
    let out = common::run(&setup, 2);
    common::check_conservation(&out);
    assert!(out.tally.subagent_calls > 500, "{:?}", out.tally);
    let sub: Vec<_> = out.calls.iter().filter(|c| c.subagent > 0).collect();
    assert!(sub.iter().all(|c| c.subagent <= 3));
    // A sub-agent's first call is its own small context, not the parent's.
    let input = |c: &&tokenfleet_fleet::results::CallRecord| c.input_uncached + c.input_cached;
    let mut first: Vec<u32> = sub.iter().filter(|c| c.step == 1).map(input).collect();
    let mut parent: Vec<u32> = out
        .calls
        .iter()
        .filter(|c| c.subagent == 0)
        .map(|c| c.input_uncached + c.input_cached)
        .collect();
    first.sort_unstable();
    parent.sort_unstable();
    let (f, p) = (first[first.len() / 2], parent[parent.len() / 2]);
    assert!(
        f < 4000 && p > 10_000,
        "sub-agents start from their own context: {f} vs {p}"
    );
    // Blocking: no parent call is sent while one of its sub-agents' calls is in flight.
    for p in out.calls.iter().filter(|c| c.subagent == 0) {
        for c in sub
            .iter()
            .filter(|c| c.agent == p.agent && c.task == p.task)
        {
            let end = c.issued.saturating_add(c.e2e);
            assert!(
                !(c.issued < p.issued && p.issued < end),
                "agent {} task {}: parent call during a sub-agent call",
                p.agent,
                p.task
            );
        }
    }
    let s = Summary::new(&setup, &out);
    assert!(s.segments[0].subagent_calls > 0);
    // Same run on one thread: identical.
    let again = common::run(&setup, 1);
    assert_eq!(again.tally, out.tally);
    assert_eq!(again.agent_days, out.agent_days);
}

#[test]
fn rejected_calls_are_retried_with_backoff_then_given_up() {
    let overload = [
        "fleet.agents=3000",
        "cluster.pool.h100.queue_limit=1",
        "simulation.duration=2h",
    ];
    let setup = setup_text(LOOP, &overload).unwrap();
    let out = common::run(&setup, 2);
    common::check_conservation(&out);
    let s = Summary::new(&setup, &out);
    let seg = &s.segments[0];
    assert!(
        out.tally.calls_rejected > 0 && out.tally.retries > 0,
        "{:?}",
        out.tally
    );
    assert!(seg.tasks_abandoned > 0, "{seg:?}");
    // Without retries every rejection abandons a task.
    let mut no_retry = overload.to_vec();
    no_retry.push("fleet.segment.a.task.retry.max=0");
    let setup = setup_text(LOOP, &no_retry).unwrap();
    let out = common::run(&setup, 2);
    common::check_conservation(&out);
    let s = Summary::new(&setup, &out);
    assert_eq!(out.tally.retries, 0);
    assert_eq!(s.segments[0].tasks_abandoned, s.segments[0].rejected);
}

#[test]
fn dropped_reasoning_is_billed_but_breaks_the_cached_prefix() {
    let run = |keep: bool| {
        let text = LOOP.replace(
            "tool_gap = { dist = \"exponential\", mean = \"5s\" }",
            &format!(
                "tool_gap = {{ dist = \"exponential\", mean = \"5s\" }}\nreasoning_tokens = {{ dist = \"lognormal\", median = 300, sigma = 0.5 }}\nkeep_reasoning = {keep}"
            ),
        );
        let setup = setup_text(&text, &[]).unwrap();
        let out = common::run(&setup, 2);
        common::check_conservation(&out);
        Summary::new(&setup, &out).segments[0].clone()
    };
    let (dropped, kept) = (run(false), run(true));
    assert!(dropped.reasoning_share > 0.3, "{}", dropped.reasoning_share);
    assert!(kept.reasoning_share > 0.3);
    // Kept reasoning grows the context (bigger prompts); dropped reasoning re-reads the visible
    // answer uncached.
    assert!(kept.input_per_call.p50 > dropped.input_per_call.p50);
    assert!(kept.cached_share > dropped.cached_share);
}

#[test]
fn monitors_run_around_the_clock() {
    let setup = common::setup("monitor.toml", &["fleet.agents=20"]);
    let out = common::run(&setup, 2);
    common::check_conservation(&out);
    for h in 0..24 {
        let calls = out.ledger.row(0, h).calls_completed;
        assert!(calls > 100, "hour {h}: {calls} calls");
    }
    let s = Summary::new(&setup, &out);
    assert_eq!(s.segments[0].kind, "monitor");
    assert!(within(s.segments[0].realized_over_target.p50, 1.0, 0.01));
}

#[test]
fn weekends_follow_their_factor_and_profile() {
    let text = LOOP.replace(
        "profile = \"flat\"",
        "profile = \"flat\"\nweekend = { factor = 0.25 }",
    );
    // Thursday to Sunday, 4 days; the weekend days carry a quarter of a weekday.
    let setup = setup_text(
        &text,
        &[
            "simulation.duration=4d",
            "simulation.start=thu",
            "fleet.agents=40",
        ],
    )
    .unwrap();
    assert!((setup.segments[0].activity.total() - 2.5).abs() < 1e-9);
    let out = common::run(&setup, 2);
    common::check_conservation(&out);
    let day = |d: usize| -> u64 {
        (d * 24..d * 24 + 24)
            .map(|h| out.ledger.row(0, h).calls_completed)
            .sum()
    };
    let (thu, sat) = (day(0) as f64, day(2) as f64);
    assert!(
        sat / thu > 0.15 && sat / thu < 0.4,
        "weekend / weekday calls {sat} / {thu}"
    );
    let e = setup_text(LOOP, &["simulation.start=someday"]).unwrap_err();
    assert!(e.to_string().contains("simulation.start") && e.to_string().contains("monday"));
}

#[test]
fn presets_are_merged_under_the_segments_own_keys() {
    let text = LOOP.replace(
        "daily_tokens = { dist = \"lognormal\", p10 = \"3M\", p90 = \"8M\" }",
        "preset = \"chat\"",
    );
    // The segment's own task table wins key by key; the rest comes from the preset.
    let setup = setup_text(&text, &[]).unwrap();
    let seg = &setup.segments[0];
    assert_eq!(seg.task_tokens, 400_000.0);
    assert!(
        (seg.budget.quantile(0.5) - 20_000.0).abs() < 1.0,
        "chat's budget"
    );
    let e = setup_text(&text.replace("\"chat\"", "\"chatt\""), &[]).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("fleet.segment[0].preset") && msg.contains("did you mean `chat`"),
        "{msg}"
    );
}

#[test]
fn scenarios_that_cannot_meet_their_budgets_fail_validation() {
    let slow = LOOP.replace(
        "tool_gap = { dist = \"exponential\", mean = \"5s\" }",
        "tool_gap = { dist = \"exponential\", mean = \"10min\" }",
    );
    let e = setup_text(&slow, &[]).unwrap_err().to_string();
    assert!(
        e.contains("fleet.segment[0].daily_tokens") && e.contains("too slow") && e.contains("24 h"),
        "{e}"
    );
    for (over, field) in [
        ("fleet.segment.a.kind=robot", "fleet.segment[0].kind"),
        ("fleet.segment.a.task.retry.jitter=2", "task.retry.jitter"),
        ("fleet.segment.a.weekend.factor=20", "weekend.factor"),
    ] {
        let e = setup_text(LOOP, &[over]).unwrap_err().to_string();
        assert!(e.contains(field), "{over}: {e}");
    }
    let fan =
        with_task("[fleet.segment.task.subagents]\nprobability = 0.2\nfanout = 40\ncalls = 4");
    let e = setup_text(&fan, &[]).unwrap_err().to_string();
    assert!(e.contains("subagents.fanout") && e.contains("16"), "{e}");
    let no_tokens = LOOP.replace("tokens = \"400k\"\n", "");
    let e = setup_text(&no_tokens, &[]).unwrap_err().to_string();
    assert!(e.contains("task.tokens") && e.contains("missing"), "{e}");
}
