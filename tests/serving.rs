//! The serving model's mechanisms, on small scenarios: closed-form batching against
//! iteration-by-iteration stepping, KV pressure and preemption, autoscaling, rate limits.

mod common;

use std::collections::HashMap;

use tokenfleet_fleet::RunOutput;
use tokenfleet_models::perf::{Admission, Scheduler};

/// Every call sampled, so that runs can be compared call by call.
const ALL_CALLS: &[&str] = &[
    "engine.calls_sample_rate=1",
    "engine.calls_sample_max=10000000",
];

/// Llama-3.1-70B in FP8 on 2 x H100: about 400k tokens of KV per replica, so many agents with
/// long contexts and long answers fill it and force preemptions.
const KV_PRESSURE: &[&str] = &[
    "cluster.pool.h100.model=llama-3.1-70b",
    "cluster.pool.h100.tp=2",
    "cluster.pool.h100.weights=fp8",
    "cluster.pool.h100.kv_cache=fp8",
    "cluster.pool.h100.replicas=2",
    "engine.replicas_per_cell=2",
    "fleet.segment.coder.model=llama-3.1-70b",
    "fleet.segment.light.model=llama-3.1-70b",
    "fleet.segment.coder.task.system_tokens=30k",
    "simulation.duration=30min",
    "fleet.agents=1200",
    // Long answers: decode growth outruns the 1% admission watermark.
    "fleet.segment.coder.task.output_tokens=3000",
];

fn with(base: &[&str], more: &[&str]) -> Vec<String> {
    base.iter().chain(more).map(|s| s.to_string()).collect()
}

fn run(overrides: &[String]) -> RunOutput {
    let refs: Vec<&str> = overrides.iter().map(String::as_str).collect();
    let setup = common::setup("small.toml", &refs);
    common::run(&setup, 2)
}

fn by_call(out: &RunOutput) -> HashMap<(u64, u32, u32), (u64, u64, u64)> {
    out.calls
        .iter()
        .map(|c| ((c.agent, c.task, c.step), (c.issued.0, c.ttft.0, c.e2e.0)))
        .collect()
}

fn assert_same_calls(closed: &RunOutput, stepped: &RunOutput) {
    let (a, b) = (by_call(closed), by_call(stepped));
    assert!(a.len() > 300, "enough calls to compare: {}", a.len());
    assert_eq!(a.len(), b.len(), "same calls complete");
    let mut worst = 0u64;
    for (k, x) in &a {
        let y = b
            .get(k)
            .unwrap_or_else(|| panic!("call {k:?} only in the closed-form run"));
        for (u, v) in [(x.0, y.0), (x.1, y.1), (x.2, y.2)] {
            worst = worst.max(u.abs_diff(v));
        }
    }
    assert!(
        worst <= 1_000,
        "largest difference {worst} ns exceeds 1 microsecond"
    );
    assert!(
        stepped.tally.events > 3 * closed.tally.events,
        "stepping takes many more events"
    );
}

#[test]
fn closed_form_batching_matches_stepping() {
    let closed = run(&with(ALL_CALLS, &[]));
    let stepped = run(&with(ALL_CALLS, &["engine.stepping=true"]));
    assert_same_calls(&closed, &stepped);
}

#[test]
fn closed_form_batching_matches_stepping_under_kv_pressure() {
    let base = with(ALL_CALLS, KV_PRESSURE);
    let closed = run(&base);
    let mut stepping = base.clone();
    stepping.push("engine.stepping=true".into());
    let stepped = run(&stepping);
    assert!(
        closed.ledger.total().preemptions > 0,
        "the KV-pressure case must preempt"
    );
    assert_same_calls(&closed, &stepped);
}

#[test]
fn closed_form_batching_matches_stepping_under_every_engine_policy() {
    // SGLang's prefill-first batches and TensorRT-LLM's whole-request admission run through
    // the same epochs: they must step the same way, and whole-request admission never
    // preempts even where prompt admission must (the KV-pressure case).
    for (scheduler, admission) in [
        (Scheduler::PrefillFirst, Admission::Prompt),
        (Scheduler::Mixed, Admission::WholeRequest),
    ] {
        let run_with = |stepping: bool| {
            let mut o = with(ALL_CALLS, KV_PRESSURE);
            if stepping {
                o.push("engine.stepping=true".into());
            }
            let refs: Vec<&str> = o.iter().map(String::as_str).collect();
            let mut setup = common::setup("small.toml", &refs);
            for p in &mut setup.pools {
                p.scheduler = scheduler;
                p.admission = admission;
            }
            common::run(&setup, 2)
        };
        let (closed, stepped) = (run_with(false), run_with(true));
        assert_same_calls(&closed, &stepped);
        if admission == Admission::WholeRequest {
            assert_eq!(closed.ledger.total().preemptions, 0, "{scheduler:?}");
        }
    }
}

#[test]
fn kv_pressure_preempts_recomputes_and_conserves() {
    let out = run(&with(KV_PRESSURE, &[]));
    let t = &out.tally;
    let total = out.ledger.total();
    assert!(total.preemptions > 0);
    // Recomputation shows as prefill work beyond the uncached input of completed calls.
    assert!(
        total.prefill_tokens > total.input_uncached,
        "{} vs {}",
        total.prefill_tokens,
        total.input_uncached
    );
    assert_eq!(
        t.calls_generated,
        t.calls_completed + t.calls_rejected + t.calls_in_flight
    );
    assert_eq!(
        t.input_generated,
        t.input_completed + t.input_rejected + t.input_in_flight
    );
    let setup = common::setup("small.toml", KV_PRESSURE);
    let cap = setup.pools[0].perf.kv_capacity_tokens as u128;
    for h in 0..setup.hours {
        let r = out.ledger.row(0, h);
        assert!(
            r.kv_used_area + r.kv_retained_area <= cap * r.provisioned_ns,
            "hour {h}"
        );
    }
}

#[test]
fn autoscaler_follows_load_and_pays_only_for_provisioned_replicas() {
    // Start with 1 replica of up to 8; demand needs several.
    let overrides = [
        "fleet.agents=1500",
        "cluster.pool.h100.replicas=1",
        "cluster.pool.h100.queue_limit=100000",
        "engine.replicas_per_cell=8",
        "cluster.pool.h100.autoscale={ min = 1, max = 8, metric = \"busy\", target = 0.7, interval = \"1min\", provision_delay = \"2min\" }",
    ];
    let setup = common::setup("small.toml", &overrides);
    let out = common::run(&setup, 1);
    let hour_ns = 3_600_000_000_000u128;
    let replicas: Vec<f64> = (0..setup.hours)
        .map(|h| out.ledger.row(0, h).provisioned_ns as f64 / hour_ns as f64)
        .collect();
    assert!(replicas[0] > 1.2, "it scaled up: {replicas:?}");
    assert!(
        replicas.iter().all(|r| *r <= 8.0 + 1e-9),
        "within max: {replicas:?}"
    );
    let t = &out.tally;
    assert_eq!(
        t.calls_generated,
        t.calls_completed + t.calls_rejected + t.calls_in_flight
    );
    // A fixed pool at the maximum costs more.
    let fixed = common::run(
        &common::setup(
            "small.toml",
            &[
                "fleet.agents=1500",
                "cluster.pool.h100.replicas=8",
                "engine.replicas_per_cell=8",
            ],
        ),
        1,
    );
    let provisioned = |o: &RunOutput| o.ledger.total().provisioned_ns;
    assert!(provisioned(&out) < provisioned(&fixed));
}

#[test]
fn shared_queue_feeds_free_slots_under_autoscaling() {
    // Eight sequence slots per replica: calls wait at the gateway, replicas that come up take
    // them, and the autoscaler drains replicas when the queue empties.
    let overrides = with(
        ALL_CALLS,
        &[
            "fleet.agents=1500",
            "cluster.pool.h100.replicas=1",
            "cluster.pool.h100.max_seqs=8",
            "cluster.pool.h100.queue_limit=1000",
            "cluster.pool.h100.router=shared-queue",
            "engine.replicas_per_cell=8",
            "cluster.pool.h100.autoscale={ min = 1, max = 8, metric = \"queue\", target = 2, interval = \"1min\", provision_delay = \"2min\" }",
        ],
    );
    let refs: Vec<&str> = overrides.iter().map(String::as_str).collect();
    let setup = common::setup("small.toml", &refs);
    let (a, b) = (common::run(&setup, 1), common::run(&setup, 2));
    common::check_conservation(&a);
    assert_eq!(a.tally, b.tally, "thread count changed the result");
    assert_eq!(by_call(&a), by_call(&b));
    let total = a.ledger.total();
    assert!(
        total.calls_waited > 0 && total.queue_area > 0,
        "calls queued"
    );
    let hour_ns = 3_600_000_000_000u128;
    let peak = (0..setup.hours)
        .map(|h| a.ledger.row(0, h).provisioned_ns as f64 / hour_ns as f64)
        .fold(0.0, f64::max);
    assert!(peak > 1.5, "it scaled up: {peak}");
}

#[test]
fn rate_limits_reject_bursty_agents() {
    let out = run(&with(
        &[],
        &["cluster.pool.h100.rate_limit={ calls = 2, per = \"1min\" }"],
    ));
    let total = out.ledger.total();
    assert!(total.calls_rate_limited > 0);
    assert_eq!(
        total.calls_rate_limited, total.calls_rejected,
        "the queue is not full here"
    );
    assert_eq!(total.calls_rejected, out.tally.calls_rejected);
}

#[test]
fn every_router_conserves_calls_and_is_deterministic() {
    for router in [
        "round-robin",
        "least-loaded",
        "power-of-two",
        "affinity",
        "shared-queue",
    ] {
        let o = with(&[], &[&format!("cluster.pool.h100.router={router}")]);
        let refs: Vec<&str> = o.iter().map(String::as_str).collect();
        let setup = common::setup("small.toml", &refs);
        let (a, b) = (common::run(&setup, 1), common::run(&setup, 2));
        let t = &a.tally;
        assert_eq!(
            t.calls_generated,
            t.calls_completed + t.calls_rejected + t.calls_in_flight,
            "{router}"
        );
        assert_eq!(
            a.tally, b.tally,
            "{router}: thread count changed the result"
        );
        assert_eq!(by_call(&a), by_call(&b), "{router}");
    }
}

#[test]
fn affinity_routing_earns_prefix_hits_round_robin_does_not() {
    let hits = |router: &str| {
        let o = with(&[], &[&format!("cluster.pool.h100.router={router}")]);
        let t = run(&o).ledger.total();
        t.input_cached as f64 / t.reusable as f64
    };
    let (aff, rr) = (hits("affinity"), hits("round-robin"));
    assert!(aff > 0.9, "affinity hit rate {aff}");
    assert!(
        rr < aff - 0.3,
        "round robin hit rate {rr} vs affinity {aff}"
    );
}

#[test]
fn several_pools_models_and_hardware_in_one_run() {
    let setup = common::setup("multi-pool.toml", &[]);
    let (a, b) = (common::run(&setup, 1), common::run(&setup, 2));
    assert_eq!(a.tally, b.tally);
    let t = &a.tally;
    assert_eq!(
        t.calls_generated,
        t.calls_completed + t.calls_rejected + t.calls_in_flight
    );
    for (p, pool) in setup.pools.iter().enumerate() {
        let total = a.ledger.pool_total(p);
        assert!(
            total.calls_completed > 100,
            "pool {} served {}",
            pool.name,
            total.calls_completed
        );
    }
    // Calls reach only the pools serving their model: the sampled calls of each segment land
    // on pools of that segment's model.
    for c in &a.calls {
        let seg = &setup.segments[c.segment as usize];
        assert_eq!(setup.pools[c.pool as usize].model, seg.model);
    }
    // Owned pools pay for electricity, rented ones do not.
    let energy = |p: usize| -> tokenfleet_models::Money {
        (0..setup.hours)
            .map(|h| tokenfleet_reports::summary::row_cost(&setup, &a, p, h).energy)
            .sum()
    };
    assert!(energy(1) > tokenfleet_models::Money::ZERO);
    assert_eq!(energy(0), tokenfleet_models::Money::ZERO);
}
