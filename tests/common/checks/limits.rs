//! Invariants 3, 4 and 7 of docs/invariants.md on one run: what a cluster can hold and do,
//! time's order, and Little's law.

use tokenfleet_fleet::run::RunOutput;
use tokenfleet_models::Money;
use tokenfleet_reports::Summary;
use tokenfleet_serving::ledger::PoolHourCost;
use tokenfleet_setup::Setup;

/// Invariants 3, 4 and 7: capacity bounds, time runs forward, Little's law.
pub fn check(setup: &Setup, out: &RunOutput) {
    check_bounds(setup, out);
    check_time(setup, out);
    check_littles_law(setup, out);
}

/// Invariant 3: KV within capacity at every moment (the peak) and on average, busy time within
/// provisioned time, roofline-active time within busy time, and each device's mean power
/// between its idle power and its TDP (energy between idle x time and peak x time).
pub fn check_bounds(setup: &Setup, out: &RunOutput) {
    for (p, pool) in setup.pools.iter().enumerate() {
        let cap = pool.perf.kv_capacity_tokens;
        let devices = pool.perf.devices as f64;
        for h in 0..setup.hours {
            let r = out.ledger.row(p, h);
            assert!(
                r.kv_peak_tokens <= cap,
                "pool {p} hour {h}: KV peak {} beyond capacity {cap}",
                r.kv_peak_tokens
            );
            assert!(
                r.kv_used_area + r.kv_retained_area <= cap as u128 * r.provisioned_ns,
                "pool {p} hour {h}: KV beyond capacity"
            );
            assert!(r.busy_ns <= r.provisioned_ns, "pool {p} hour {h}: busy");
            assert!(r.active_ns <= r.busy_ns, "pool {p} hour {h}: active");
            let cost = PoolHourCost::of(r, pool, h);
            let device_s = r.provisioned_ns as f64 / 1e9 * devices * pool.pue;
            let (lo, hi) = (
                pool.power.idle_w * device_s * 1000.0,
                pool.power.peak_w * device_s * 1000.0,
            );
            let mj = cost.energy_mj as f64;
            assert!(
                mj >= lo * (1.0 - 1e-9) - 1.0 && mj <= hi * (1.0 + 1e-9) + 1.0,
                "pool {p} hour {h}: energy {mj} mJ outside [{lo}, {hi}]"
            );
            if !pool.pay_energy {
                assert_eq!(cost.energy, Money::ZERO, "rented power is not billed twice");
            }
        }
    }
    let s = Summary::new(setup, out);
    let unit = |x: f64| (0.0..=1.0).contains(&x);
    assert!(
        unit(s.utilization.mean) && unit(s.utilization.active) && unit(s.utilization.peak_hour)
    );
    for p in &s.pools {
        assert!(unit(p.utilization) && unit(p.active), "{}", p.name);
        assert!(unit(p.kv_occupancy) && unit(p.kv_peak), "{}", p.name);
    }
}

/// Invariant 4: time runs forward: no event scheduled in the past (also part of
/// `check_conservation`), each call's first token comes before its end, and nothing completes
/// after the horizon.
pub fn check_time(setup: &Setup, out: &RunOutput) {
    assert_eq!(out.tally.past_schedules, 0, "events scheduled in the past");
    for c in &out.calls {
        assert!(c.ttft <= c.e2e, "first token after completion: {c:?}");
        assert!(c.issued.ns() + c.e2e.ns() <= setup.horizon.ns(), "{c:?}");
    }
}

/// Invariant 7 (DESIGN invariant 6), Little's law per pool. The sim integrates the number of
/// calls in the pool exactly, so over the horizon T:
///
///   area = sum over completed calls of their time in the pool + R,
///
/// R being the ages at the horizon of the n calls still in flight. Hence L = area / T,
/// λ = admitted / T and W = mean time in the pool of completed calls satisfy
/// L - λW = (R - nW) / T, and since 0 <= R <= nT and 0 <= W <= T: |L - λW| <= n.
/// The first identity is checked exactly, the bound on the summary's rounded figures.
pub fn check_littles_law(setup: &Setup, out: &RunOutput) {
    let horizon = setup.horizon.ns() as u128;
    let mut in_flight = 0;
    for p in 0..setup.pools.len() {
        let pt = out.ledger.pool_total(p);
        let admitted = pt.calls_arrived - pt.calls_rejected;
        assert_eq!(
            admitted,
            pt.calls_completed + pt.in_flight,
            "pool {p}: calls"
        );
        assert_eq!(
            pt.in_system_area,
            pt.e2e_sum_ns + pt.in_flight_age_ns,
            "pool {p}: time in system"
        );
        assert!(pt.in_flight_age_ns <= pt.in_flight as u128 * horizon);
        in_flight += pt.in_flight;
    }
    assert_eq!(in_flight, out.tally.calls_in_flight);
    let s = Summary::new(setup, out);
    let (num, den) = out.demand_scale(setup);
    let scale = num as f64 / den as f64;
    for (i, p) in s.pools.iter().enumerate() {
        let (l, lambda, w) = (
            p.mean_in_system,
            p.arrival_rate_per_s,
            p.mean_time_in_system_s,
        );
        // The documented tolerance: the calls in flight at the horizon.
        let rounding = 1e-6 * (1.0 + lambda + w);
        assert!(
            (l - lambda * w).abs() <= p.calls_in_flight as f64 + rounding,
            "pool {}: L = {l}, λW = {lambda} x {w}, {} in flight",
            p.name,
            p.calls_in_flight
        );
        // And the difference is exactly the boundary term (R - nW) / T.
        let pt = out.ledger.pool_total(i);
        let w_ns = pt.e2e_sum_ns as f64 / pt.calls_completed.max(1) as f64;
        let boundary = (pt.in_flight_age_ns as f64 - pt.in_flight as f64 * w_ns)
            / setup.horizon.ns() as f64
            * scale;
        assert!(
            (l - lambda * w - boundary).abs() <= rounding * (1.0 + scale) + 1e-9 * l,
            "pool {}: L - λW = {} but the calls in flight account for {boundary}",
            p.name,
            l - lambda * w
        );
    }
}
