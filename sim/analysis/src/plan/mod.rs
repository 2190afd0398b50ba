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
//! 3. The cheapest candidates are then re-run with extra seeds and their counts raised until
//!    every seed meets every target ([`verify`]); the cheapest verified one is the plan, and
//!    the next smaller count is run too, to show which target it misses.
//!
//! Files: the types in [`types`], the per-candidate search in [`search`], the verification
//! in [`verify`]; this file is the driver.
//!
//! Assumption: more replicas never hurt latency (monotone), which holds for the serving model
//! up to sampling noise; the seeds in step 3 cover that noise.

mod search;
pub mod types;
mod verify;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use tokenfleet_fleet::budget::{Job, check_as};
use tokenfleet_scenario::{Origin, Scenario};
use tokenfleet_setup::Setup;

use crate::plan_cost::{expected_probes, plan_cost};
pub use crate::targets::{Miss, Targets};
use search::Planner;
pub use search::lower_bound;
pub use types::{
    Candidate, CandidateResult, Chosen, FrontierPoint, PlanError, PlanOptions, PlanProgress,
    PlanResult, Probe,
};

/// Plans the scenario's pool. `progress` is called after every simulated probe.
pub fn plan(
    origin: &Origin,
    opts: &PlanOptions,
    progress: &(dyn Fn(PlanProgress) + Sync),
) -> Result<PlanResult, PlanError> {
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
        expected: AtomicU64::new(0),
        progress,
    };
    let verify_seeds = spec.verify_seeds.unwrap_or(2);
    // Each candidate's lower bound: where its search starts, and what the search will cost.
    let bounds: Vec<Option<u64>> = candidates
        .par_iter()
        .map(|c| {
            let one = planner.setup(&planner.overrides(c, 1)).ok()?;
            Some(lower_bound(&one, &pool_name).max(1))
        })
        .collect();
    let expected = expected_probes(&bounds, planner.precision, verify_seeds);
    planner.expected.store(expected, Ordering::Relaxed);
    if let Some(machine) = &opts.budget {
        let at_bound = |(c, lb): (&Candidate, &Option<u64>)| {
            let lb = (*lb)?;
            let n = (2 * lb).min(planner.max_replicas);
            Some((planner.setup(&planner.overrides(c, n)).ok()?, lb))
        };
        let setups: Vec<(Setup, u64)> = candidates
            .par_iter()
            .zip(&bounds)
            .filter_map(at_bound)
            .collect();
        let threads = rayon::current_num_threads();
        let cells = planner.cells;
        if let Some(e) = plan_cost(&setups, cells, planner.precision, verify_seeds, threads) {
            check_as(&e, machine, Job::Plan).map_err(PlanError::Refused)?;
        }
    }
    let mut results: Vec<CandidateResult> = candidates
        .par_iter()
        .map(|c| planner.size(c, seed))
        .collect();
    // Cheapest feasible first, by cost per day; infeasible after, in candidate order.
    verify::by_cost(&mut results);

    // Verify the cheapest with extra seeds, raising the count until all of them pass.
    let seeds: Vec<u64> = std::iter::once(seed)
        .chain((1..=verify_seeds as u64).map(|k| seed.wrapping_add(k * 1_000_003)))
        .collect();
    let pp = resolved_pool.perf.shape.pp as u64;
    let chosen = verify::choose(&planner, &mut results, &seeds, pp)?;

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
        precision: planner.precision,
        candidates: results,
        chosen,
        frontier,
        probes_run: planner.probes.load(Ordering::Relaxed),
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}
