//! `[[cluster.pool]]`: each pool's device, model, shape and engine limits, its rate limit and
//! autoscaler; what it costs is in `cost.rs`.
//!
//! A pool that fails a check is left out (and reported) so that the segments it would serve
//! are still checked against the pools that remain.

use tokenfleet_engine::time::SimTime;
use tokenfleet_models::catalog::Catalog;
use tokenfleet_models::money::MoneyRate;
use tokenfleet_models::perf::{Calibration, ReplicaPerf, ReplicaShape};
use tokenfleet_models::power::PowerModel;
use tokenfleet_models::precision::Precision;
use tokenfleet_setup::{Autoscale, CostMode, Pool, RateLimit, ScaleMetric, ServedModel};

use super::checker::Checker;
use super::cost::{cost, electricity, pue};
use super::served::served_index;
use crate::spec::cluster::{AutoscaleSpec, PoolSpec, RateLimitSpec};
use crate::spec::scenario::Scenario;
use crate::suggest::closest;

/// Largest cluster accepted, to refuse absurd inputs up front rather than run out of memory.
const MAX_REPLICAS: f64 = 1e7;

/// The pools that pass their checks; each is added to the served model it serves.
pub(crate) fn pools(
    s: &Scenario,
    catalog: &Catalog,
    served: &mut Vec<ServedModel>,
    c: &mut Checker,
) -> Vec<Pool> {
    let mut pools = Vec::new();
    if s.cluster.pools.is_empty() {
        c.add(
            "cluster.pool",
            "the cluster needs at least one [[cluster.pool]]",
        );
    }
    // The calibrated engine profile (catalog/calibration.toml); SRAM chips use their own.
    let calibration = match Calibration::builtin() {
        Ok(cal) => Some(cal),
        Err(e) => {
            c.add("cluster.pool", e.to_string());
            None
        }
    };
    for (i, p) in s.cluster.pools.iter().enumerate() {
        let path = format!("cluster.pool[{i}]");
        if let Some(pool) = pool(c, &path, p, s, catalog, served, calibration) {
            served[pool.model].pools.push(pools.len());
            pools.push(pool);
        }
    }
    c.unique(
        "cluster.pool",
        "pools",
        s.cluster.pools.iter().map(|p| p.name.as_str()),
    );
    pools
}

/// One pool, or `None` once a problem makes the rest of it uncheckable.
fn pool(
    c: &mut Checker,
    path: &str,
    p: &PoolSpec,
    s: &Scenario,
    catalog: &Catalog,
    served: &mut Vec<ServedModel>,
    calibration: Option<&Calibration>,
) -> Option<Pool> {
    let hw = match catalog.hardware(&p.hardware) {
        Some(h) => h.clone(),
        None => {
            let ids: Vec<&str> = catalog.devices.keys().map(String::as_str).collect();
            let hint = closest(&p.hardware, &ids)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            c.add(
                format!("{path}.hardware"),
                format!(
                    "unknown hardware `{}`{hint}; accepted: {}, or define it in a [[device]] table",
                    p.hardware,
                    catalog.device_ids()
                ),
            );
            return None;
        }
    };
    let model_idx = served_index(served, catalog, s, &p.model, format!("{path}.model"), c)?;
    let replicas = p.replicas.get();
    if replicas < 1.0 {
        c.add(format!("{path}.replicas"), "must be at least 1");
        return None;
    }
    if replicas > MAX_REPLICAS {
        c.add(format!("{path}.replicas"), "at most 1e7 replicas per pool");
        return None;
    }
    if p.tp == 0 || p.pp == 0 {
        c.add(format!("{path}.tp"), "tp and pp must be at least 1");
        return None;
    }
    let rate_limit = match &p.rate_limit {
        None => None,
        Some(rl) => Some(rate_limit(c, path, rl)?),
    };
    let autoscale = match &p.autoscale {
        None => None,
        Some(a) => Some(autoscale(c, path, a, replicas)?),
    };
    if p.max_seqs == 0 || p.max_seqs >= p.max_batch_tokens {
        c.add(
            format!("{path}.max_seqs"),
            format!(
                "must be between 1 and max_batch_tokens - 1 ({})",
                p.max_batch_tokens.saturating_sub(1)
            ),
        );
        return None;
    }
    let arch = served[model_idx].arch.clone();
    let shape = ReplicaShape::new(
        p.tp,
        p.pp,
        p.weights.unwrap_or(arch.native_precision),
        p.kv_cache.unwrap_or(Precision::Bf16),
    );
    let calibration = calibration?;
    let (perf_params, scheduler, admission) = match calibration.profile_for(None, &hw) {
        Ok(profile) => (profile.params, profile.scheduler, profile.admission),
        Err(e) => {
            c.add(format!("{path}.hardware"), e.to_string());
            return None;
        }
    };
    let perf = match ReplicaPerf::new(&served[model_idx].name, &arch, &hw, shape, &perf_params) {
        Ok(perf) => perf,
        Err(e) => {
            c.add(format!("{path}.tp"), e.to_string());
            return None;
        }
    };
    // One maximal call (a full context window) must fit in a replica's KV cache, or it
    // could never be admitted.
    let window = (arch.max_context as u64).min(perf.kv_capacity_tokens);
    if window < 4096 {
        c.add(format!("{path}.tp"), format!(
            "a replica holds only {} tokens of KV cache after weights; give it more devices or memory",
            perf.kv_capacity_tokens
        ));
        return None;
    }
    let cost = cost(c, path, p, &hw)?;
    let device_rate = MoneyRate::from_usd_per_hour(cost.usd_per_device_hour());
    let (electricity, electricity_label) = electricity(c, path, p, &s.energy, catalog)?;
    let pue = pue(c, path, p, &s.energy);
    Some(Pool {
        name: p.name.clone(),
        power: PowerModel::new(hw.idle_w, hw.tdp_w, calibration.power.exponent),
        hardware: hw,
        model: model_idx,
        replicas: replicas as u64,
        replicas_max: autoscale.map_or(replicas as u64, |a| a.max),
        perf,
        max_batch_tokens: p.max_batch_tokens,
        max_seqs: p.max_seqs,
        scheduler,
        admission,
        queue_limit: p.queue_limit,
        router: p.router,
        affinity_slack: p.affinity_slack,
        retention: SimTime::from_secs(p.prefix_retention.get()),
        rate_limit,
        autoscale,
        cost,
        device_rate,
        pay_energy: p.pay_energy.unwrap_or(matches!(cost, CostMode::Own { .. })),
        electricity_pico_per_kwh: electricity,
        electricity_label,
        pue,
    })
}

/// A per-agent token bucket at the pool's gateway.
fn rate_limit(c: &mut Checker, path: &str, rl: &RateLimitSpec) -> Option<RateLimit> {
    if rl.calls.get() >= 1.0 && rl.per.get() > 0.0 {
        Some(RateLimit {
            burst: rl.calls.get(),
            per_second: rl.calls.get() / rl.per.get(),
        })
    } else {
        c.add(
            format!("{path}.rate_limit"),
            "needs calls >= 1 and a positive period",
        );
        None
    }
}

/// The pool's autoscaler, around its starting `replicas`.
fn autoscale(c: &mut Checker, path: &str, a: &AutoscaleSpec, replicas: f64) -> Option<Autoscale> {
    let (min, max) = (a.min.get() as u64, a.max.get() as u64);
    let r = replicas as u64;
    let bad_target = match a.metric {
        ScaleMetric::Kv | ScaleMetric::Busy => {
            a.target.is_nan() || a.target <= 0.0 || a.target > 1.0
        }
        ScaleMetric::Queue => a.target.is_nan() || a.target <= 0.0 || a.target.is_infinite(),
    };
    if min < 1 || min > r || r > max || max as f64 > MAX_REPLICAS {
        c.add(
            format!("{path}.autoscale"),
            format!("needs 1 <= min <= replicas <= max (got min {min}, replicas {r}, max {max})"),
        );
        return None;
    }
    if bad_target {
        c.add(
            format!("{path}.autoscale.target"),
            "must be in (0, 1] for kv and busy, positive for queue",
        );
        return None;
    }
    if a.interval.get() < 1.0 {
        c.add(format!("{path}.autoscale.interval"), "must be at least 1s");
        return None;
    }
    Some(Autoscale {
        min,
        max,
        metric: a.metric,
        target: a.target,
        interval: SimTime::from_secs(a.interval.get()),
        provision_delay: SimTime::from_secs(a.provision_delay.get()),
        scale_down_window: SimTime::from_secs(a.scale_down_window.get()),
    })
}
