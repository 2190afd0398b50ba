//! Invariants 1 and 2 of docs/invariants.md on one run: calls, tokens and money add up.

use tokenfleet_fleet::run::RunOutput;
use tokenfleet_models::Money;
use tokenfleet_models::prices::Usage;
use tokenfleet_reports::Summary;
use tokenfleet_serving::ledger::PoolHourCost;
use tokenfleet_setup::Setup;

use crate::common::random_scenario::{Case, MODELS};

/// Invariants 1 and 2: calls and tokens conserved (in the fleet, per segment and per agent),
/// and every dollar the sum of its parts.
pub fn check(case: &Case, setup: &Setup, out: &RunOutput) {
    crate::common::check_conservation(out);
    check_segments(out);
    check_money(case, setup, out);
}

/// Invariant 1, per segment and per agent: the segments' tallies add up to the fleet's, and
/// the agents' realized tokens (their own calls and their sub-agents') to the tokens completed.
pub fn check_segments(out: &RunOutput) {
    let t = &out.tally;
    let sum = |f: fn(&tokenfleet_fleet::results::SegmentTally) -> u64| -> u64 {
        out.segments.iter().map(f).sum()
    };
    assert_eq!(sum(|s| s.calls_completed), t.calls_completed);
    assert_eq!(sum(|s| s.input), t.input_completed);
    assert_eq!(sum(|s| s.input_cached), t.input_cached_completed);
    assert_eq!(sum(|s| s.output), t.output_completed);
    assert_eq!(sum(|s| s.rejected), t.calls_rejected);
    assert_eq!(sum(|s| s.retries), t.retries);
    assert_eq!(sum(|s| s.tasks_started), t.tasks_started);
    assert!(sum(|s| s.subagent_calls) <= t.subagent_calls);
    assert!(sum(|s| s.compactions) <= t.compactions);
    let realized: u64 = out.agent_days.iter().map(|a| a.realized).sum();
    assert_eq!(
        realized,
        t.input_completed + t.output_completed,
        "agents' tokens"
    );
}

/// Invariant 2: revenue is the sum over calls (every call is sampled here), by token class and
/// per price set; SLA refunds are the sum over late calls; hardware cost is the device-time at
/// the quoted rate; the summary's totals are the sums of their components.
pub fn check_money(case: &Case, setup: &Setup, out: &RunOutput) {
    let total = out.ledger.total();
    let t = &out.tally;
    assert_eq!(
        out.calls.len() as u64,
        t.calls_completed,
        "every call sampled"
    );
    let sets = setup.price_sets.len();
    let (mut itemized, mut blended, mut penalty) = (Money::ZERO, Money::ZERO, Money::ZERO);
    let mut per_set = vec![Money::ZERO; sets];
    for c in &out.calls {
        let served = &setup.served[setup.pools[c.pool as usize].model];
        // No generated sheet gives reasoning a rate of its own.
        assert_eq!(crate::common::call_charge(setup, c, 0), c.revenue);
        let tokens = (c.input_uncached + c.input_cached + c.output) as u64;
        assert_eq!(served.blended().of(tokens), c.revenue_blended);
        for (k, slot) in per_set.iter_mut().enumerate() {
            *slot += crate::common::call_charge(setup, c, k);
        }
        itemized += c.revenue;
        blended += c.revenue_blended;
        if let Some(sla) = setup.sla {
            let late = sla.ttft.is_some_and(|x| c.ttft > x) || sla.e2e.is_some_and(|x| c.e2e > x);
            if late {
                penalty += Money::from_pico(c.revenue.pico() * sla.penalty_ppm as i128 / 1_000_000);
            }
        }
    }
    assert_eq!(itemized, total.revenue_itemized(), "itemized revenue");
    assert_eq!(blended, total.revenue_blended, "blended revenue");
    assert_eq!(penalty, total.penalty, "SLA refunds");
    assert_eq!(per_set[0], itemized, "the billed set");
    for (k, s) in per_set.iter().enumerate() {
        assert_eq!(*s, total.sets[k].0, "price set {k}");
        let by_agents: Money = out.agent_days.iter().map(|a| a.revenue[k]).sum();
        assert_eq!(by_agents, *s, "price set {k} over agents");
    }
    // By class, from the tokens alone, where one rate applies all day.
    for (m, served) in setup.served.iter().enumerate() {
        let pc = &case.prices[MODELS.iter().position(|x| *x == served.id).unwrap()];
        if pc.period.is_some() {
            continue;
        }
        let rates = served.sheet().charge(
            &Usage {
                input_uncached: 1,
                input_cached: 1,
                output: 1,
                reasoning: 0,
            },
            0,
        );
        let mut pt = tokenfleet_serving::ledger::PoolHour::default();
        for p in served.pools.iter() {
            pt.merge(&out.ledger.pool_total(*p));
        }
        let of = |rate: Money, n: u64| Money::from_pico(rate.pico() * n as i128);
        assert_eq!(
            pt.revenue_uncached,
            of(rates.input_uncached, pt.input_uncached),
            "model {m}"
        );
        assert_eq!(pt.revenue_cached, of(rates.input_cached, pt.input_cached));
        assert_eq!(
            pt.revenue_output + pt.revenue_reasoning,
            of(rates.output, pt.output)
        );
    }

    // Hardware: the device-time at the rate, rounded once per (pool, hour) row.
    for (p, pool) in setup.pools.iter().enumerate() {
        let pt = out.ledger.pool_total(p);
        let simulated = out.replicas_simulated[p] as u128;
        if pool.autoscale.is_none() {
            assert_eq!(
                pt.provisioned_ns,
                simulated * setup.horizon.ns() as u128,
                "pool {p}: every replica provisioned throughout"
            );
        } else {
            assert!(pt.provisioned_ns <= simulated * setup.horizon.ns() as u128);
        }
        let devices = pool.perf.devices as u128;
        let hardware: Money = (0..setup.hours)
            .map(|h| PoolHourCost::of(out.ledger.row(p, h), pool, h).hardware)
            .sum();
        let exact = pool.device_rate.over_ns(pt.provisioned_ns * devices);
        assert!(
            (hardware - exact).pico().abs() <= setup.hours as i128,
            "pool {p}: hardware {hardware:?} vs {exact:?}"
        );
    }

    // The summary's figures are the sums of their parts (to the displayed micro-dollar).
    let s = Summary::new(setup, out);
    let close = |a: f64, b: f64, n: f64, what: &str| {
        assert!(
            (a - b).abs() <= n * 1e-6 + 1e-9 * a.abs(),
            "{what}: {a} vs {b}"
        );
    };
    let r = &s.revenue_usd;
    let c = &r.itemized_by_class;
    close(
        r.itemized,
        c.input_uncached + c.input_cached + c.output + c.reasoning,
        4.0,
        "itemized revenue by class",
    );
    close(
        s.cost_usd.total,
        s.cost_usd.hardware + s.cost_usd.energy,
        2.0,
        "cost",
    );
    let n = s.pools.len() as f64;
    close(
        s.cost_usd.hardware,
        s.pools.iter().map(|p| p.cost_usd.hardware).sum(),
        n + 1.0,
        "hardware over pools",
    );
    close(
        s.cost_usd.energy,
        s.pools.iter().map(|p| p.cost_usd.energy).sum(),
        n + 1.0,
        "energy over pools",
    );
    close(
        s.margin_usd,
        r.itemized - r.sla_penalty - s.cost_usd.total,
        4.0,
        "margin",
    );
}
