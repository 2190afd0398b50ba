//! What a plan is made of: the candidate shapes, the probes run on them, the verified choice,
//! and the options and errors of [`super::plan`] (declared here so that the search and the
//! verification, beside it, share them without importing the driver).

use serde::Serialize;
use tokenfleet_fleet::metrics::Headline;
use tokenfleet_models::precision::Precision;
use tokenfleet_scenario::{PlanSpec, ScenarioError};

use crate::targets::{Miss, Targets};

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
    /// The smallest count found to meet the targets: with every verification seed when
    /// `verified_seeds` is not empty, else with the planning seed alone.
    pub replicas: Option<u64>,
    /// The run at that count with the planning seed.
    pub headline: Option<Headline>,
    /// The seeds every one of which meets the targets at `replicas` (empty: not verified, the
    /// count is the planning seed's alone).
    pub verified_seeds: Vec<u64>,
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
    /// Relative precision of counts above 100 replicas (exact below).
    pub precision: f64,
    /// Feasible candidates first, cheapest first (verified counts where verified); then the
    /// infeasible ones.
    pub candidates: Vec<CandidateResult>,
    /// The chosen plan: the cheapest candidate at its verified count.
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
    /// The run at the chosen count with the planning seed: the figures the table shows.
    pub headline: Headline,
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

/// How far a plan has got, reported after every simulated probe.
#[derive(Debug, Clone, Copy)]
pub struct PlanProgress {
    /// Probes simulated so far.
    pub probes: u64,
    /// Probes the search is expected to take in all (the same count as the refusal's
    /// estimate); a search that needs more raises it.
    pub expected: u64,
}
