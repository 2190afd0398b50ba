//! Capacity planning: the cheapest cluster that meets the targets.
//!
//! For one pool of a scenario, [`plan`] tries every candidate shape (device type x tensor
//! parallelism x weight precision) and finds, for each, the fewest replicas that meet the
//! targets (TTFT, TPOT and end-to-end p99, rejected share, installed power, purchase value).
//!
//! 1. An analytic lower bound first: at the peak hour's demand, the replicas needed if every
//!    replica ran at its roofline throughput with the largest batch its KV cache allows, for
//!    decode and for prefill (whichever is larger). Queueing, prefix-cache misses and the daily
//!    rhythm only add to it, so it is a valid place to start.
//! 2. Then a search verified by simulation: the count doubles until a real run meets every
//!    target, then bisects down to the smallest count that does (exact below 100 replicas,
//!    within `precision` of the count above). Each probe is a sampled run of `cells` cells;
//!    probes are cached by configuration, and candidates run in parallel.
//! 3. The cheapest candidate is then re-run with extra seeds and its count raised until every
//!    seed meets every target; the next smaller count is run too, to show which target it
//!    misses.
//!
//! Assumption: more replicas never hurt latency (monotone), which holds for the serving model
//! up to sampling noise; the seeds in step 3 cover that noise.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;
use tokenfleet_models::precision::Precision;

use tokenfleet_engine::rng::splitmix64;
use tokenfleet_fleet::budget::{Job, check_as};
use tokenfleet_fleet::metrics::{Headline, headline};
use tokenfleet_fleet::run::{Layout, run};
use tokenfleet_scenario::{Origin, PlanSpec, PoolSpec, Scenario, ScenarioError};
use tokenfleet_setup::Setup;

use crate::plan_cost::plan_cost;
pub use crate::targets::{Miss, Targets};

/// A replica shape to try.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Candidate {
    pub hardware: String,
    pub tp: u32,
    pub weights: Precision,
}

/// One simulated probe.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub replicas: u64,
    pub seed: u64,
    pub headline: Headline,
    pub misses: Vec<Miss>,
}

/// The search on one candidate.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateResult {
    pub candidate: Candidate,
    /// Why the candidate cannot serve the model at all, if it cannot.
    pub error: Option<String>,
    pub lower_bound: u64,
    /// The smallest count found to meet the targets (with the planning seed).
    pub replicas: Option<u64>,
    /// The run at that count.
    pub headline: Option<Headline>,
    pub probes: Vec<Probe>,
}

/// A plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanResult {
    pub pool: String,
    /// Simulated hours per probe (costs are per horizon; x 24 / hours per day).
    pub hours: f64,
    pub targets: Targets,
    pub seed: u64,
    pub cells_per_probe: u32,
    /// Feasible candidates first, cheapest first; then the infeasible ones.
    pub candidates: Vec<CandidateResult>,
    /// The chosen plan (the cheapest feasible candidate, verified with extra seeds).
    pub chosen: Option<Chosen>,
    /// Cost against TTFT p99 over every probe: the points no other probe beats on both.
    pub frontier: Vec<FrontierPoint>,
    pub probes_run: usize,
    pub wall_seconds: f64,
}

/// The verified plan.
#[derive(Debug, Clone, Serialize)]
pub struct Chosen {
    pub candidate: Candidate,
    pub replicas: u64,
    pub devices: u64,
    /// Runs at the chosen count with the planning seed and the verification seeds.
    pub verification: Vec<Probe>,
    /// Runs with one replica fewer (one per seed): at least one misses a target.
    pub next_smaller: Vec<Probe>,
}

/// A point of the cost-latency frontier.
#[derive(Debug, Clone, Serialize)]
pub struct FrontierPoint {
    pub candidate: Candidate,
    pub replicas: u64,
    pub cost_usd_per_day: f64,
    pub ttft_p99_s: f64,
    pub meets_targets: bool,
}

/// Why planning could not run.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Refused(tokenfleet_fleet::budget::Refused),
}

/// The options `tokenfleet plan` takes beyond the scenario.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub overrides: Vec<String>,
    pub seed: Option<u64>,
    /// Overrides of the scenario's [plan] section.
    pub spec: Option<PlanSpec>,
    /// Relative precision of the count above 100 replicas.
    pub precision: f64,
    pub max_replicas: u64,
    /// Refuse a search that the run's estimate says this machine cannot do (None: --force).
    pub budget: Option<tokenfleet_fleet::budget::Machine>,
}

struct Planner<'a> {
    origin: &'a Origin,
    base: Vec<String>,
    pool: String,
    pool_spec: PoolSpec,
    cells: u32,
    targets: Targets,
    max_replicas: u64,
    precision: f64,
    cache: Mutex<HashMap<u64, Headline>>,
    probes: AtomicUsize,
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
    fn overrides(&self, cand: &Candidate, n: u64) -> Vec<String> {
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

    fn setup(&self, overrides: &[String]) -> Result<Setup, ScenarioError> {
        Scenario::from_text(self.origin, overrides)?.resolve(self.origin)
    }

    /// Runs (or recalls) the pool at `n` replicas of `cand` with `seed`.
    fn probe(&self, cand: &Candidate, n: u64, seed: u64) -> Result<Probe, ScenarioError> {
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
                self.probes.fetch_add(1, Ordering::Relaxed);
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
    fn close(&self, lo: u64, hi: u64) -> bool {
        hi - lo <= 1 || (hi > 100 && (hi - lo) as f64 <= self.precision * hi as f64)
    }

    fn size(&self, cand: &Candidate, seed: u64) -> CandidateResult {
        let mut result = CandidateResult {
            candidate: cand.clone(),
            error: None,
            lower_bound: 0,
            replicas: None,
            headline: None,
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

/// Plans the scenario's pool.
pub fn plan(origin: &Origin, opts: &PlanOptions) -> Result<PlanResult, PlanError> {
    let started = Instant::now();
    let scenario = Scenario::from_text(origin, &opts.overrides)?;
    let base_setup = scenario.resolve(origin)?;
    let spec = opts
        .spec
        .clone()
        .or(scenario.plan.clone())
        .unwrap_or_default();
    let seed = opts.seed.unwrap_or(base_setup.seed);
    let pool_name = spec
        .pool
        .clone()
        .unwrap_or_else(|| scenario.cluster.pools[0].name.clone());
    let pool_spec = scenario
        .cluster
        .pools
        .iter()
        .find(|p| p.name == pool_name)
        .cloned()
        .ok_or_else(|| {
            let names: Vec<&str> = scenario
                .cluster
                .pools
                .iter()
                .map(|p| p.name.as_str())
                .collect();
            PlanError::Invalid(format!(
                "plan.pool: no pool `{pool_name}`; pools: {}",
                names.join(", ")
            ))
        })?;
    let targets = Targets::from_spec(&spec.targets);
    if targets.is_empty() {
        return Err(PlanError::Invalid(
            "no targets: give [plan.targets] in the scenario (ttft_p99, tpot_p99, e2e_p99, rejected_share, power_cap, capex_budget) or the --ttft-p99 ... flags".into(),
        ));
    }
    let resolved_pool = base_setup
        .pools
        .iter()
        .find(|p| p.name == pool_name)
        .expect("resolved");
    let hardware = if spec.hardware.is_empty() {
        vec![pool_spec.hardware.clone()]
    } else {
        spec.hardware.clone()
    };
    let tps = if spec.tp.is_empty() {
        vec![pool_spec.tp]
    } else {
        spec.tp.clone()
    };
    let weights = if spec.weights.is_empty() {
        vec![resolved_pool.perf.shape.weights]
    } else {
        spec.weights.clone()
    };
    let mut candidates = Vec::new();
    for h in &hardware {
        for &tp in &tps {
            for &w in &weights {
                candidates.push(Candidate {
                    hardware: h.clone(),
                    tp,
                    weights: w,
                });
            }
        }
    }
    let planner = Planner {
        origin,
        base: opts.overrides.clone(),
        pool: pool_name.clone(),
        pool_spec,
        cells: spec.cells.unwrap_or(4).max(1),
        targets,
        max_replicas: opts.max_replicas.max(1),
        precision: opts.precision.max(0.0),
        cache: Mutex::new(HashMap::new()),
        probes: AtomicUsize::new(0),
    };
    if let Some(machine) = &opts.budget {
        let at_bound = |c: &Candidate| {
            let one = planner.setup(&planner.overrides(c, 1)).ok()?;
            let lb = lower_bound(&one, &pool_name).max(1);
            let n = (2 * lb).min(planner.max_replicas);
            Some((planner.setup(&planner.overrides(c, n)).ok()?, lb))
        };
        let setups: Vec<(Setup, u64)> = candidates.par_iter().filter_map(at_bound).collect();
        let threads = rayon::current_num_threads();
        let verify = spec.verify_seeds.unwrap_or(2);
        if let Some(e) = plan_cost(&setups, planner.cells, planner.precision, verify, threads) {
            check_as(&e, machine, Job::Plan).map_err(PlanError::Refused)?;
        }
    }
    let mut results: Vec<CandidateResult> = candidates
        .par_iter()
        .map(|c| planner.size(c, seed))
        .collect();
    // Cheapest feasible first, by cost per day; infeasible after, in candidate order.
    results.sort_by(|a, b| match (&a.headline, &b.headline) {
        (Some(x), Some(y)) => x.cost_usd.total_cmp(&y.cost_usd),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });

    // Verify the cheapest with extra seeds, raising the count until all of them pass.
    let seeds: Vec<u64> = std::iter::once(seed)
        .chain(
            (1..=spec.verify_seeds.unwrap_or(2) as u64).map(|k| seed.wrapping_add(k * 1_000_003)),
        )
        .collect();
    let chosen = match results
        .first()
        .and_then(|r| r.replicas.map(|n| (r.candidate.clone(), n)))
    {
        None => None,
        Some((cand, mut n)) => {
            let all = |n: u64| -> Result<Vec<Probe>, PlanError> {
                seeds
                    .par_iter()
                    .map(|&s| planner.probe(&cand, n, s).map_err(PlanError::from))
                    .collect()
            };
            let mut verification = all(n)?;
            if verification.iter().any(|p| !p.misses.is_empty()) {
                let mut lo = n;
                let mut hi = n + (n / 20).max(1);
                while all(hi)?.iter().any(|p| !p.misses.is_empty()) {
                    if hi >= planner.max_replicas {
                        break;
                    }
                    lo = hi;
                    hi = (hi + (hi / 10).max(1)).min(planner.max_replicas);
                }
                while !planner.close(lo, hi) {
                    let mid = lo + (hi - lo) / 2;
                    if all(mid)?.iter().all(|p| p.misses.is_empty()) {
                        hi = mid
                    } else {
                        lo = mid
                    }
                }
                n = hi;
                verification = all(n)?;
            }
            let next_smaller = if n > 1 { all(n - 1)? } else { Vec::new() };
            let devices = n * cand.tp as u64 * resolved_pool.perf.shape.pp as u64;
            Some(Chosen {
                candidate: cand,
                replicas: n,
                devices,
                verification,
                next_smaller,
            })
        }
    };

    // The frontier of cost per day against TTFT p99 over every probe with the planning seed.
    let to_day = 24.0 / (base_setup.horizon.secs() / 3600.0);
    let mut points: Vec<FrontierPoint> = results
        .iter()
        .flat_map(|r| {
            r.probes
                .iter()
                .filter(|p| p.seed == seed)
                .map(|p| FrontierPoint {
                    candidate: r.candidate.clone(),
                    replicas: p.replicas,
                    cost_usd_per_day: p.headline.cost_usd * to_day,
                    ttft_p99_s: p.headline.ttft_p99_s,
                    meets_targets: p.misses.is_empty(),
                })
        })
        .collect();
    points.sort_by(|a, b| {
        a.cost_usd_per_day
            .total_cmp(&b.cost_usd_per_day)
            .then(a.ttft_p99_s.total_cmp(&b.ttft_p99_s))
    });
    let mut frontier = Vec::new();
    let mut best = f64::INFINITY;
    for p in points {
        if p.ttft_p99_s < best {
            best = p.ttft_p99_s;
            frontier.push(p);
        }
    }
    Ok(PlanResult {
        pool: pool_name,
        hours: base_setup.horizon.secs() / 3600.0,
        targets,
        seed,
        cells_per_probe: planner.cells,
        candidates: results,
        chosen,
        frontier,
        probes_run: planner.probes.load(Ordering::Relaxed),
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}
