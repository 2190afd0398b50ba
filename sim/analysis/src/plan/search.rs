//! The search on one candidate: an analytic lower bound, then doubling until a simulated run
//! meets every target, then bisection down to the smallest count that does. Probes are cached
//! by their configuration and seed, so the verification that follows re-runs nothing twice.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokenfleet_engine::rng::splitmix64;
use tokenfleet_fleet::metrics::{Headline, headline};
use tokenfleet_fleet::run::{Layout, run};
use tokenfleet_scenario::{Origin, PoolSpec, Scenario, ScenarioError};
use tokenfleet_setup::Setup;

use super::types::{Candidate, CandidateResult, PlanProgress, Probe};
use crate::targets::Targets;

pub(super) struct Planner<'a> {
    pub origin: &'a Origin,
    pub base: Vec<String>,
    pub pool: String,
    pub pool_spec: PoolSpec,
    pub cells: u32,
    pub targets: Targets,
    pub max_replicas: u64,
    pub precision: f64,
    pub cache: Mutex<HashMap<u64, Headline>>,
    pub probes: AtomicUsize,
    /// Probes expected in all, for the progress report.
    pub expected: AtomicU64,
    pub progress: &'a (dyn Fn(PlanProgress) + Sync),
}

fn hash_strings(parts: &[String], seed: u64) -> u64 {
    let mut h = splitmix64(seed);
    for p in parts {
        for b in p.bytes() {
            h = splitmix64(h ^ b as u64);
        }
        h = splitmix64(h ^ 0xff);
    }
    h
}

impl Planner<'_> {
    /// The overrides that set the pool to `cand` with `n` replicas.
    pub fn overrides(&self, cand: &Candidate, n: u64) -> Vec<String> {
        let p = format!("cluster.pool.\"{}\"", self.pool);
        let mut o = self.base.clone();
        o.push(format!("{p}.hardware=\"{}\"", cand.hardware));
        o.push(format!("{p}.tp={}", cand.tp));
        o.push(format!("{p}.weights=\"{}\"", cand.weights));
        o.push(format!("{p}.replicas={n}"));
        if let Some(a) = &self.pool_spec.autoscale {
            o.push(format!("{p}.autoscale.max={n}"));
            o.push(format!("{p}.autoscale.min={}", (a.min.get() as u64).min(n)));
        }
        // A price written for the pool's own device does not apply to another device.
        if cand.hardware != self.pool_spec.hardware {
            if matches!(
                self.pool_spec.rent,
                Some(tokenfleet_scenario::RentSpec::Price(_))
            ) {
                o.push(format!("{p}.rent=\"typical\""));
            }
            if let Some(own) = &self.pool_spec.own
                && own.price.is_some()
            {
                o.push(format!(
                    "{p}.own={{ depreciation = \"{}\", overhead = {}, cost_of_capital = {} }}",
                    own.depreciation,
                    own.overhead.get(),
                    own.cost_of_capital.get()
                ));
            }
        }
        o
    }

    pub fn setup(&self, overrides: &[String]) -> Result<Setup, ScenarioError> {
        Scenario::from_text(self.origin, overrides)?.resolve(self.origin)
    }

    /// Runs (or recalls) the pool at `n` replicas of `cand` with `seed`.
    pub fn probe(&self, cand: &Candidate, n: u64, seed: u64) -> Result<Probe, ScenarioError> {
        let overrides = self.overrides(cand, n);
        let key = hash_strings(&overrides, seed);
        let cached = self.cache.lock().expect("cache lock").get(&key).copied();
        let h = match cached {
            Some(h) => h,
            None => {
                let setup = self.setup(&overrides)?;
                let cells = Layout::new(&setup, seed, Some(1.0)).cells;
                let frac = (self.cells as f64 / cells as f64).min(1.0);
                let out = run(&setup, seed, Some(frac), &|_| {});
                let h = headline(&setup, &out);
                let done = self.probes.fetch_add(1, Ordering::Relaxed) as u64 + 1;
                let expected = self.expected.fetch_max(done, Ordering::Relaxed).max(done);
                (self.progress)(PlanProgress {
                    probes: done,
                    expected,
                });
                self.cache.lock().expect("cache lock").insert(key, h);
                h
            }
        };
        Ok(Probe {
            replicas: n,
            seed,
            misses: self.targets.misses(&h),
            headline: h,
        })
    }

    /// Whether `hi` and `lo` are close enough to stop bisecting.
    pub fn close(&self, lo: u64, hi: u64) -> bool {
        hi - lo <= 1 || (hi > 100 && (hi - lo) as f64 <= self.precision * hi as f64)
    }

    pub fn size(&self, cand: &Candidate, seed: u64) -> CandidateResult {
        let mut result = CandidateResult {
            candidate: cand.clone(),
            error: None,
            lower_bound: 0,
            replicas: None,
            headline: None,
            verified_seeds: Vec::new(),
            probes: Vec::new(),
        };
        let setup = match self.setup(&self.overrides(cand, 1)) {
            Ok(s) => s,
            Err(e) => {
                result.error = Some(e.to_string());
                return result;
            }
        };
        let lb = lower_bound(&setup, &self.pool).max(1);
        result.lower_bound = lb;
        let run = |n: u64, r: &mut CandidateResult| -> Option<bool> {
            match self.probe(cand, n, seed) {
                Ok(p) => {
                    let ok = p.misses.is_empty();
                    r.probes.push(p);
                    Some(ok)
                }
                Err(e) => {
                    r.error = Some(e.to_string());
                    None
                }
            }
        };
        let (mut lo, mut hi) = (lb - 1, lb);
        loop {
            match run(hi, &mut result) {
                None => return result,
                Some(true) => break,
                Some(false) if hi >= self.max_replicas => return result,
                Some(false) => {
                    lo = hi;
                    hi = (hi * 2).min(self.max_replicas);
                }
            }
        }
        while !self.close(lo, hi) {
            let mid = lo + (hi - lo) / 2;
            match run(mid, &mut result) {
                None => return result,
                Some(true) => hi = mid,
                Some(false) => lo = mid,
            }
        }
        result.replicas = Some(hi);
        result.headline = result
            .probes
            .iter()
            .find(|p| p.replicas == hi)
            .map(|p| p.headline);
        result
    }
}

/// Replicas the peak hour needs at roofline throughput: a lower bound to start the search.
pub fn lower_bound(setup: &Setup, pool_name: &str) -> u64 {
    let Some(pool) = setup.pools.iter().find(|p| p.name == pool_name) else {
        return 1;
    };
    let (mut out_rate, mut prefill_rate, mut ctx_sum, mut calls_rate) = (0.0, 0.0, 0.0, 0.0);
    for s in setup.segments.iter().filter(|s| s.model == pool.model) {
        let per_day = s.agents as f64 * s.expected_calls_per_agent_day();
        let peak = s.profile.utc_weights.iter().copied().fold(0.0, f64::max);
        let calls = per_day * peak / 3600.0;
        let per_call = s.budget.mean() / s.expected_calls_per_agent_day().max(1.0);
        out_rate += calls * s.main.output_tokens.mean();
        prefill_rate += calls * s.main.new_tokens.mean();
        ctx_sum += calls * per_call;
        calls_rate += calls;
    }
    if calls_rate <= 0.0 {
        return 1;
    }
    // The whole pool's share of this model's traffic, by replica count.
    let same_model: u64 = setup
        .pools
        .iter()
        .filter(|p| p.model == pool.model)
        .map(|p| p.replicas)
        .sum();
    let share = pool.replicas as f64 / same_model.max(1) as f64;
    let ctx = (ctx_sum / calls_rate).max(1.0);
    let perf = &pool.perf;
    // Decode: the largest batch the KV cache holds, one token per sequence per iteration.
    let b = ((perf.kv_capacity_tokens as f64 / ctx).floor() as u32).clamp(1, pool.max_seqs);
    let c = perf.iteration_cost(b, b, b);
    let t_decode = c.time(b as f64 * ctx, b as f64 * ctx);
    let decode_tps = b as f64 / t_decode;
    // Prefill: full chunks attending to contexts of the mean size.
    let t = pool.max_batch_tokens;
    let c = perf.iteration_cost(t, 1, 1);
    let t_prefill = c.time(t as f64 * ctx, ctx);
    let prefill_tps = t as f64 / t_prefill;
    let need = (out_rate / decode_tps).max(prefill_rate / prefill_tps) * share;
    need.ceil().max(1.0) as u64
}
