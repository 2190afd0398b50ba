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

use crate::cell::{AgentDay, CallRecord, CellResult, CellSpec, SegmentTally, Tally, run_cell};
use crate::ledger::Ledger;
use crate::rng::{Subsystem, hash3};
use crate::scenario::{Sample, Setup};

/// How the fleet is split.
#[derive(Debug, Clone, PartialEq)]
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
        let agents = (c64..setup.agents).step_by(self.cells).collect();
        let replicas = setup
            .pools
            .iter()
            .map(|p| p.replicas / cells + u64::from(c64 < p.replicas % cells))
            .collect();
        CellSpec { agents, replicas }
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
    pub wall_seconds: f64,
}

/// Runs `setup` with `seed` on the current rayon pool. `progress(n)` is called from worker
/// threads as simulated cell-hours complete (the total is `cells simulated x hours`).
pub fn run(
    setup: &Setup,
    seed: u64,
    sample: Option<f64>,
    progress: &(dyn Fn(u64) + Sync),
) -> RunOutput {
    let started = Instant::now();
    let layout = Layout::new(setup, seed, sample);
    merge_cells(setup, seed, layout, started, |spec: &CellSpec| {
        run_cell(setup, seed, spec, progress)
    })
}

/// Simulates the layout's cells with `cell` in parallel and merges their results (shared by
/// fleet runs and trace replay).
pub fn merge_cells(
    setup: &Setup,
    seed: u64,
    layout: Layout,
    started: Instant,
    cell: impl Fn(&CellSpec) -> CellResult + Sync,
) -> RunOutput {
    let empty = || CellResult {
        ledger: Ledger::new(setup.pools.len(), setup.hours),
        tally: Tally::default(),
        segments: Vec::new(),
        agent_days: Vec::new(),
        calls: Vec::new(),
        agents: 0,
        replicas: vec![0; setup.pools.len()],
    };
    let merged = layout
        .simulated
        .par_iter()
        .map(|&c| cell(&layout.spec(setup, c)))
        .reduce(empty, CellResult::merge);

    let mut agent_days = merged.agent_days;
    agent_days.sort_unstable_by_key(|a| a.id);
    let mut calls = merged.calls;
    let max = setup.engine.calls_sample_max as usize;
    if calls.len() > max {
        // Keep the calls with the smallest hash keys: a uniform sample, whatever the order.
        calls.select_nth_unstable_by_key(max, |r| (r.key, r.agent, r.task, r.step, r.subagent));
        calls.truncate(max);
    }
    calls.sort_unstable_by_key(|r| (r.issued, r.agent, r.task, r.step, r.subagent));
    let mut segments = merged.segments;
    segments.resize_with(setup.segments.len(), SegmentTally::default);
    RunOutput {
        seed,
        agents_simulated: merged.agents,
        replicas_simulated: merged.replicas,
        layout,
        ledger: merged.ledger,
        tally: merged.tally,
        segments,
        agent_days,
        calls,
        wall_seconds: started.elapsed().as_secs_f64(),
    }
}

impl RunOutput {
    /// Demand-side scale: fleet agents per simulated agent, as (numerator, denominator).
    pub fn demand_scale(&self, setup: &Setup) -> (u64, u64) {
        (setup.agents, self.agents_simulated.max(1))
    }
    /// Cost-side scale of pool `p`.
    pub fn pool_scale(&self, setup: &Setup, p: usize) -> (u64, u64) {
        (setup.pools[p].replicas, self.replicas_simulated[p].max(1))
    }
}
