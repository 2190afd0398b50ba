//! Running a fleet: split it into cells, simulate (a sample of) them in parallel, merge.
//!
//! **Cells.** The fleet is split into `C` cells. Cell `c` gets the agents whose global id is
//! `c mod C` (so every cell has the fleet's mix of segments) and `R/C` replicas of each pool
//! (the remainder spread over the first cells). `C` is chosen so that a cell holds about
//! `engine.replicas_per_cell` replicas of the largest pool, and never more cells than the
//! smallest pool has replicas (every cell must be able to serve every model). Routing happens
//! within a cell: this is the model's main simplification of a real cluster's global router,
//! and costs little load balance once a cell has several replicas (power-of-d-choices).
//!
//! **Sampling.** A run may simulate a random subset of cells (chosen by the seed) and scale
//! demand-side totals by fleet agents / simulated agents and cost-side totals by pool replicas
//! / simulated replicas. Percentiles and means need no scaling.
//!
//! **Determinism.** Cells depend only on the setup, the seed and their own index; their
//! results are integer sums merged exactly, and lists are sorted before output, so a run's
//! bytes do not depend on the thread count.

use std::time::Instant;

use rayon::prelude::*;

use tokenfleet_workload::trace::Replay;

use crate::cell::{CellSpec, run_cell, run_replay_cell};
use crate::results::{AgentDay, CallRecord, CellResult, CellStat, SegmentTally, Tally};
use tokenfleet_engine::rng::{Subsystem, hash3};
use tokenfleet_serving::ledger::Ledger;
use tokenfleet_setup::{Sample, Setup};

/// How the fleet is split.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Layout {
    pub cells: usize,
    /// Cells simulated, ascending.
    pub simulated: Vec<usize>,
}

impl Layout {
    /// Cell count and the sampled subset for `setup`, with an optional forced sample fraction.
    pub fn new(setup: &Setup, seed: u64, sample: Option<f64>) -> Layout {
        let largest = setup.pools.iter().map(|p| p.replicas).max().unwrap_or(1);
        let smallest = setup.pools.iter().map(|p| p.replicas).min().unwrap_or(1);
        let per_cell = setup.engine.replicas_per_cell.max(1);
        let cells = largest
            .div_ceil(per_cell)
            .min(smallest)
            .min(setup.agents)
            .max(1) as usize;
        let fraction = match (sample, setup.engine.sample) {
            (Some(f), _) => f,
            (None, Sample::Fraction(f)) => f,
            (None, Sample::Auto { max_calls }) => {
                (max_calls / setup.expected_calls().max(1.0)).min(1.0)
            }
        };
        let n = ((fraction * cells as f64).ceil() as usize).clamp(cells.min(2), cells);
        let mut order: Vec<usize> = (0..cells).collect();
        if n < cells {
            order.sort_by_key(|&c| hash3(seed, Subsystem::CellSample, c as u64));
        }
        let mut simulated = order[..n].to_vec();
        simulated.sort_unstable();
        Layout { cells, simulated }
    }

    /// The agents and replicas of cell `c`.
    pub fn spec(&self, setup: &Setup, c: usize) -> CellSpec {
        let cells = self.cells as u64;
        let c64 = c as u64;
        let share = |n: u64| n / cells + u64::from(c64 < n % cells);
        CellSpec {
            index: c64,
            agents: (c64..setup.agents).step_by(self.cells).collect(),
            replicas: setup.pools.iter().map(|p| share(p.replicas_max)).collect(),
            active: setup.pools.iter().map(|p| share(p.replicas)).collect(),
        }
    }

    /// The simulated cells that `shard` runs (all of them if `None`), ascending: those at
    /// positions `index`, `index + count`, ... of [`Layout::simulated`].
    pub fn cells_of(&self, shard: Option<Shard>) -> Vec<usize> {
        match shard {
            None => self.simulated.clone(),
            Some(s) => self
                .simulated
                .iter()
                .copied()
                .skip(s.index)
                .step_by(s.count)
                .collect(),
        }
    }

    pub fn sampled_fraction(&self) -> f64 {
        self.simulated.len() as f64 / self.cells as f64
    }
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub seed: u64,
    pub layout: Layout,
    /// The part of the run this is, if it is one shard of several.
    pub shard: Option<Shard>,
    /// Agents simulated (fleet agents if not sampled).
    pub agents_simulated: u64,
    /// Replicas simulated per pool.
    pub replicas_simulated: Vec<u64>,
    pub ledger: Ledger,
    pub tally: Tally,
    /// Per segment (`Setup::segments`): calls and tasks as the agents saw them.
    pub segments: Vec<SegmentTally>,
    /// Sorted by agent id.
    pub agent_days: Vec<AgentDay>,
    /// Sorted by issue time, then agent, task and step.
    pub calls: Vec<CallRecord>,
    /// Each simulated cell's headline figures, sorted by cell.
    pub cell_stats: Vec<CellStat>,
    pub wall_seconds: f64,
}

/// One of `count` parts of a run: the simulated cells at positions `index`, `index + count`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

/// A `--shard` argument that is not `I/N` with `0 <= I < N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid shard {0:?}: expected I/N with 0 <= I < N, e.g. 0/3")]
pub struct ShardError(pub String);

impl std::str::FromStr for Shard {
    type Err = ShardError;
    /// "I/N" with 0 <= I < N.
    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let err = || ShardError(s.to_string());
        let (i, n) = s.split_once('/').ok_or_else(err)?;
        let (index, count) = (
            i.trim().parse().map_err(|_| err())?,
            n.trim().parse().map_err(|_| err())?,
        );
        if count == 0 || index >= count {
            return Err(err());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// What a run simulates: the scenario's generated fleet, or a recorded trace replayed on the
/// scenario's cluster and prices. This is the one place that tells the two apart: the layout,
/// the size estimate and the cell loop all follow from it.
#[derive(Debug, Clone, Copy)]
pub enum Demand<'a> {
    Fleet,
    /// A replay, run on the setup that [`crate::replay::setup_for`] made for it.
    Replay(&'a Replay),
}

impl Demand<'_> {
    /// The cells a run splits into and which of them it simulates: `sample` if given, else the
    /// scenario's engine setting (a replay sizes `"auto"` on its recorded calls).
    pub fn layout(&self, setup: &Setup, seed: u64, sample: Option<f64>) -> Layout {
        match self {
            Demand::Fleet => Layout::new(setup, seed, sample),
            // `"auto"` sized on the replay's recorded calls rather than the fleet's expected ones.
            Demand::Replay(r) => {
                let fraction = sample.or(match setup.engine.sample {
                    Sample::Auto { max_calls } => {
                        Some((max_calls / r.calls().max(1) as f64).min(1.0))
                    }
                    Sample::Fraction(f) => Some(f),
                });
                Layout::new(setup, seed, fraction)
            }
        }
    }

    /// Calls the whole demand generates in the horizon (expected for a fleet, counted for a
    /// replay), for sizing the run before it starts.
    pub fn calls(&self, setup: &Setup) -> f64 {
        match self {
            Demand::Fleet => setup.expected_calls(),
            Demand::Replay(r) => r.calls() as f64,
        }
    }
}

/// Runs `setup`'s fleet with `seed` on the current rayon pool. `progress(n)` is called from
/// worker threads as simulated cell-hours complete (the total is `cells simulated x hours`).
pub fn run(
    setup: &Setup,
    seed: u64,
    sample: Option<f64>,
    progress: &(dyn Fn(u64) + Sync),
) -> RunOutput {
    run_shard(setup, seed, sample, None, progress)
}

/// Runs shard `shard` of `setup`'s fleet (all of it if `None`), as `tokenfleet run --shard`.
pub fn run_shard(
    setup: &Setup,
    seed: u64,
    sample: Option<f64>,
    shard: Option<Shard>,
    progress: &(dyn Fn(u64) + Sync),
) -> RunOutput {
    let layout = Demand::Fleet.layout(setup, seed, sample);
    simulate(setup, Demand::Fleet, seed, layout, shard, progress)
}

/// Replays `replay` on `setup` (a setup from [`crate::replay::setup_for`]); `sample` as for
/// fleet runs (default: every cell, or the engine's call budget under `sample = "auto"`).
pub fn run_replay(
    setup: &Setup,
    replay: &Replay,
    seed: u64,
    sample: Option<f64>,
    progress: &(dyn Fn(u64) + Sync),
) -> RunOutput {
    let demand = Demand::Replay(replay);
    let layout = demand.layout(setup, seed, sample);
    simulate(setup, demand, seed, layout, None, progress)
}

/// Simulates `demand` on the cells of `layout` (those of `shard` only, if given).
pub fn simulate(
    setup: &Setup,
    demand: Demand,
    seed: u64,
    layout: Layout,
    shard: Option<Shard>,
    progress: &(dyn Fn(u64) + Sync),
) -> RunOutput {
    let started = Instant::now();
    merge_cells(
        setup,
        seed,
        layout,
        shard,
        started,
        |spec: &CellSpec| match demand {
            Demand::Fleet => run_cell(setup, seed, spec, progress),
            Demand::Replay(r) => run_replay_cell(setup, r, seed, spec, progress),
        },
    )
}

/// Simulates this shard's cells of the layout with `cell` in parallel and merges their results.
fn merge_cells(
    setup: &Setup,
    seed: u64,
    layout: Layout,
    shard: Option<Shard>,
    started: Instant,
    cell: impl Fn(&CellSpec) -> CellResult + Sync,
) -> RunOutput {
    let cells = layout.cells_of(shard);
    let empty = || CellResult {
        ledger: Ledger::new(setup.pools.len(), setup.hours, setup.price_sets.len()),
        tally: Tally::default(),
        segments: Vec::new(),
        agent_days: Vec::new(),
        calls: Vec::new(),
        agents: 0,
        replicas: vec![0; setup.pools.len()],
        cell_stats: Vec::new(),
    };
    let merged = cells
        .par_iter()
        .map(|&c| {
            // Cells not started when a stop is asked for are skipped (the run is discarded).
            if tokenfleet_engine::interrupt::requested() {
                empty()
            } else {
                cell(&layout.spec(setup, c))
            }
        })
        .reduce(empty, CellResult::merge);
    let mut segments = merged.segments;
    segments.resize_with(setup.segments.len(), SegmentTally::default);
    let mut out = RunOutput {
        seed,
        agents_simulated: merged.agents,
        replicas_simulated: merged.replicas,
        layout,
        shard,
        ledger: merged.ledger,
        tally: merged.tally,
        segments,
        agent_days: merged.agent_days,
        calls: merged.calls,
        cell_stats: merged.cell_stats,
        wall_seconds: 0.0,
    };
    out.finalize(setup.engine.calls_sample_max as usize);
    out.wall_seconds = started.elapsed().as_secs_f64();
    out
}

/// Why shards could not be merged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("cannot merge: {0}")]
pub struct MergeError(pub String);

impl RunOutput {
    /// Sorts the lists and caps the call sample, so that the output does not depend on the
    /// order in which cells (or shards) were merged.
    fn finalize(&mut self, calls_max: usize) {
        self.agent_days.sort_unstable_by_key(|a| a.id);
        self.cell_stats.sort_unstable_by_key(|c| c.cell);
        if self.calls.len() > calls_max {
            // Keep the calls with the smallest hash keys: a uniform sample, whatever the order.
            self.calls.select_nth_unstable_by_key(calls_max, |r| {
                (r.key, r.agent, r.task, r.step, r.subagent)
            });
            self.calls.truncate(calls_max);
        }
        self.calls
            .sort_unstable_by_key(|r| (r.issued, r.agent, r.task, r.step, r.subagent));
    }

    /// Merges the shards of one run (all of them, each once) into the whole run.
    pub fn merge(mut parts: Vec<RunOutput>, calls_max: usize) -> Result<RunOutput, MergeError> {
        let first = parts
            .first()
            .ok_or_else(|| MergeError("no shards given".into()))?;
        let count = first.shard.map_or(1, |s| s.count);
        let mut seen = vec![false; count];
        for p in &parts {
            if p.seed != first.seed || p.layout != first.layout {
                return Err(MergeError(
                    "the shards come from runs with different seeds or samples".into(),
                ));
            }
            let s = p.shard.unwrap_or(Shard { index: 0, count: 1 });
            if s.count != count {
                return Err(MergeError(format!(
                    "shard {s} does not belong to a run split in {count}"
                )));
            }
            if std::mem::replace(&mut seen[s.index], true) {
                return Err(MergeError(format!("shard {s} is given twice")));
            }
        }
        if let Some(missing) = seen.iter().position(|s| !s) {
            return Err(MergeError(format!("shard {missing}/{count} is missing")));
        }
        parts.sort_by_key(|p| p.shard.map_or(0, |s| s.index));
        let mut it = parts.into_iter();
        let mut out = it.next().expect("at least one part");
        for p in it {
            out.ledger.merge(&p.ledger);
            out.tally.add(&p.tally);
            for (a, b) in out.segments.iter_mut().zip(&p.segments) {
                a.merge(b);
            }
            out.agents_simulated += p.agents_simulated;
            for (a, b) in out.replicas_simulated.iter_mut().zip(&p.replicas_simulated) {
                *a += b;
            }
            out.agent_days.extend(p.agent_days);
            out.calls.extend(p.calls);
            out.cell_stats.extend(p.cell_stats);
            out.wall_seconds += p.wall_seconds;
        }
        out.shard = None;
        out.finalize(calls_max);
        Ok(out)
    }

    /// Demand-side scale: fleet agents per simulated agent, as (numerator, denominator).
    pub fn demand_scale(&self, setup: &Setup) -> (u64, u64) {
        (setup.agents, self.agents_simulated.max(1))
    }
    /// The relative standard error of a fleet total estimated from the sampled cells, by the
    /// ratio estimator over cells (cluster sampling without replacement): the total is
    /// `fleet agents x sum(y) / sum(agents)`, and its variance `(1 - f) / (n * mean_agents^2)
    /// * var(y_c - R x_c)` with the finite-population correction `1 - f`. Zero for a full run.
    pub fn sampling_rse(&self, y: impl Fn(&CellStat) -> f64) -> f64 {
        let n = self.cell_stats.len();
        let f = n as f64 / self.layout.cells as f64;
        if n < 2 || f >= 1.0 {
            return 0.0;
        }
        let xs: Vec<f64> = self.cell_stats.iter().map(|c| c.agents as f64).collect();
        let ys: Vec<f64> = self.cell_stats.iter().map(&y).collect();
        let (sx, sy): (f64, f64) = (xs.iter().sum(), ys.iter().sum());
        if sy == 0.0 || sx == 0.0 {
            return 0.0;
        }
        let r = sy / sx;
        let s2 = xs
            .iter()
            .zip(&ys)
            .map(|(x, y)| (y - r * x).powi(2))
            .sum::<f64>()
            / (n - 1) as f64;
        let xbar = sx / n as f64;
        let var_r = (1.0 - f) * s2 / (n as f64 * xbar * xbar);
        var_r.sqrt() / r
    }

    /// Cost-side scale of pool `p` (replicas it may have / those simulated).
    pub fn pool_scale(&self, setup: &Setup, p: usize) -> (u64, u64) {
        (
            setup.pools[p].replicas_max,
            self.replicas_simulated[p].max(1),
        )
    }
}
