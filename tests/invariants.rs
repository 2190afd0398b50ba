//! The invariants of docs/invariants.md that a single run can check, on small scenarios:
//! conservation of calls and tokens, revenue as the sum over calls, cost as the sum over
//! device-intervals, no event in the past.

mod common;

use tokenfleet_models::Money;
use tokenfleet_reports::summary::row_cost;

/// Overrides that overload the small scenario: one replica, a short queue, so that calls are
/// rejected and some are still in flight when the horizon cuts the run.
const OVERLOADED: &[&str] = &[
    "fleet.agents=4000",
    "cluster.pool.h100.replicas=1",
    "cluster.pool.h100.queue_limit=3",
    "simulation.duration=40min",
    "engine.replicas_per_cell=1",
];

/// The same overload behind one shared queue (of 3 calls), with few sequence slots so that
/// calls wait in it.
const OVERLOADED_SHARED: &[&str] = &[
    "fleet.agents=4000",
    "cluster.pool.h100.replicas=2",
    "cluster.pool.h100.queue_limit=3",
    "cluster.pool.h100.max_seqs=16",
    "cluster.pool.h100.router=shared-queue",
    "simulation.duration=40min",
    "engine.replicas_per_cell=2",
];

#[test]
fn calls_and_tokens_are_conserved_in_a_normal_run() {
    let setup = common::setup("small.toml", &[]);
    let out = common::run(&setup, 2);
    assert!(
        out.tally.calls_completed > 1000,
        "the scenario must do real work"
    );
    common::check_conservation(&out);
}

#[test]
fn calls_and_tokens_are_conserved_under_overload() {
    for overrides in [OVERLOADED, OVERLOADED_SHARED] {
        let setup = common::setup("small.toml", overrides);
        let out = common::run(&setup, 2);
        let t = &out.tally;
        assert!(t.calls_rejected > 0, "overload must reject calls: {t:?}");
        assert!(
            t.calls_in_flight > 0,
            "the horizon must cut calls in flight: {t:?}"
        );
        common::check_conservation(&out);
    }
}

#[test]
fn calls_and_tokens_are_conserved_with_open_loop_traffic() {
    // The M/M/2/4 scenario overloaded (rho = 1.5): calls are rejected, and some are waiting in
    // the shared queue or running when the horizon cuts the run.
    let setup = common::setup(
        "theory/mmck.toml",
        &[
            "simulation.duration=2h",
            "fleet.segment.poisson.task.tool_gap.mean=0.5s",
        ],
    );
    let out = common::run(&setup, 2);
    let t = &out.tally;
    assert!(t.calls_rejected > 0 && t.calls_in_flight > 0, "{t:?}");
    assert_eq!(t.retries, 0, "open-loop calls are not retried");
    common::check_conservation(&out);
    // What the agents realized is what completed.
    let realized: u64 = out.agent_days.iter().map(|a| a.realized).sum();
    assert_eq!(realized, t.input_completed + t.output_completed);
}

#[test]
fn revenue_is_the_sum_over_calls() {
    // Every call sampled: the itemized and blended revenue of the rows must equal the ledger's.
    let setup = common::setup(
        "small.toml",
        &[
            "engine.calls_sample_rate=1",
            "engine.calls_sample_max=10000000",
        ],
    );
    let out = common::run(&setup, 2);
    assert_eq!(out.calls.len() as u64, out.tally.calls_completed);
    let itemized: Money = out.calls.iter().map(|c| c.revenue).sum();
    let blended: Money = out.calls.iter().map(|c| c.revenue_blended).sum();
    let total = out.ledger.total();
    assert_eq!(itemized, total.revenue_itemized());
    assert_eq!(blended, total.revenue_blended);
    // And each call's revenue is its tokens at the sheet's prices.
    for c in &out.calls {
        assert_eq!(common::call_charge(&setup, c, 0), c.revenue);
    }
}

#[test]
fn cost_is_the_sum_over_device_intervals() {
    let setup = common::setup("small.toml", &[]);
    let out = common::run(&setup, 1);
    let mut total = Money::ZERO;
    for h in 0..setup.hours {
        total += row_cost(&setup, &out, 0, h).hardware;
    }
    // Four rented H100s for two hours at $2.99/h, posted hour by hour.
    assert_eq!(total, Money::from_usd(4.0 * 2.0 * 2.99));
}

#[test]
fn no_event_is_scheduled_in_the_past() {
    for overrides in [&[][..], OVERLOADED, OVERLOADED_SHARED] {
        let setup = common::setup("small.toml", overrides);
        let out = common::run(&setup, 2);
        assert!(out.tally.events > 5_000, "{}", out.tally.events);
        assert_eq!(out.tally.past_schedules, 0);
    }
}

#[test]
fn utilization_and_occupancy_stay_in_bounds() {
    for overrides in [&[][..], OVERLOADED, OVERLOADED_SHARED] {
        let setup = common::setup("small.toml", overrides);
        let out = common::run(&setup, 2);
        for h in 0..setup.hours {
            let r = out.ledger.row(0, h);
            assert!(
                r.busy_ns <= r.provisioned_ns,
                "hour {h}: busy beyond provisioned"
            );
            assert!(r.active_ns <= r.busy_ns, "hour {h}: active beyond busy");
            // A concave power curve (γ <= 1) draws at least its activity's share of the
            // dynamic range, and never more than full power while busy.
            assert!(setup.pools[0].power.exponent <= 1.0);
            assert!(
                r.active_ns <= r.powered_ns && r.powered_ns <= r.busy_ns,
                "hour {h}: powered time {} outside [active {}, busy {}]",
                r.powered_ns,
                r.active_ns,
                r.busy_ns
            );
            let cap = setup.pools[0].perf.kv_capacity_tokens as u128;
            assert!(
                r.kv_used_area + r.kv_retained_area <= cap * r.provisioned_ns,
                "hour {h}: KV beyond capacity"
            );
        }
    }
}

#[test]
fn calls_and_tokens_are_conserved_with_sub_agents_and_retries() {
    // Coding agents fan out to sub-agents; an undersized cluster rejects calls, which are
    // retried, and the horizon cuts calls in flight.
    let setup = common::setup(
        "coding-agent.toml",
        &[
            "fleet.agents=400",
            "fleet.segment.coders.task.subagents.probability=0.05",
            "cluster.pool.h200.replicas=2",
            "cluster.pool.h200.queue_limit=2",
            "simulation.duration=12h",
        ],
    );
    let out = common::run(&setup, 2);
    let t = &out.tally;
    assert!(
        t.subagent_calls > 0 && t.retries > 0 && t.calls_rejected > 0,
        "{t:?}"
    );
    common::check_conservation(&out);
    assert_eq!(t.past_schedules, 0);
}

#[test]
fn calls_and_tokens_are_conserved_in_trace_replay() {
    use tokenfleet_workload::trace;
    use tokenfleet_workload::trace::{Replay, ReplayOptions};
    let base = common::setup(
        "small.toml",
        &[
            "cluster.pool.h100.replicas=1",
            "cluster.pool.h100.queue_limit=4",
        ],
    );
    for (file, copies) in [
        ("azure_llm_2023_code.csv", 3),
        ("mooncake_conversation_300.jsonl", 20),
        ("claude_code_session_example.json", 30),
    ] {
        let path = common::root().join("tests/fixtures/traces").join(file);
        let t = trace::read(&path, trace::guess_format(&path).unwrap()).unwrap();
        let rows = t.rows;
        let (model, window) = tokenfleet_fleet::replay::choose_model(&base, None).unwrap();
        let opts = ReplayOptions {
            copies,
            speed: 3.0,
            ..ReplayOptions::default()
        };
        let r = Replay::new(t, opts, window).unwrap();
        let setup = tokenfleet_fleet::replay::setup_for(&r, &base, model);
        let out = tokenfleet_fleet::run::run_replay(&setup, &r, setup.seed, None, &|_| {});
        assert_eq!(out.tally.calls_generated, rows * copies as u64, "{file}");
        common::check_conservation(&out);
        assert_eq!(out.tally.past_schedules, 0);
    }
}
