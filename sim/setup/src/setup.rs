//! The checked setup of one run: horizon, fleet segments, served models, pools, execution
//! settings and the SLA. The scenario parser produces it; the engine, the serving code and
//! the reports read it, and none of them sees the parsed file.

use tokenfleet_engine::time::SimTime;
use tokenfleet_workload::Segment;

use crate::pool::Pool;
use crate::served::ServedModel;
use crate::written::{PublishedFigure, SegmentInputs};

/// Late calls and their refund.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sla {
    pub ttft: Option<SimTime>,
    pub e2e: Option<SimTime>,
    /// Share of a late call's revenue refunded, in parts per million.
    pub penalty_ppm: u64,
}
/// How much of the fleet a run simulates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sample {
    /// Choose a fraction so that about this many calls are simulated.
    Auto {
        max_calls: f64,
    },
    Fraction(f64),
}

/// Execution settings.
#[derive(Debug, Clone)]
pub struct EngineSetup {
    /// Batches stepped one iteration per event (reference mode).
    pub stepping: bool,
    pub replicas_per_cell: u64,
    pub sample: Sample,
    pub calls_sample_rate: f64,
    pub calls_sample_max: u64,
}

/// Everything a run needs, checked.
#[derive(Debug, Clone)]
pub struct Setup {
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub horizon: SimTime,
    pub hours: usize,
    pub agents: u64,
    pub segments: Vec<Segment>,
    pub served: Vec<ServedModel>,
    pub pools: Vec<Pool>,
    pub engine: EngineSetup,
    /// Names of the price sets; the first is billed, the rest are what-ifs.
    pub price_sets: Vec<String>,
    pub sla: Option<Sla>,
    /// What each segment's inputs were as written, for the record.
    pub segment_inputs: Vec<SegmentInputs>,
    /// Published figures to set beside the simulated ones.
    pub references: Vec<PublishedFigure>,
    /// Set when the run replays a recorded trace instead of generating a fleet: its figures
    /// are then per request and per hour of recorded traffic, never per agent-day or per year.
    pub replay: Option<ReplayOf>,
}

/// What a replay replays, for reporting it in its own units.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayOf {
    /// The trace's format ("azure", "mooncake", ...).
    pub format: String,
    /// Requests replayed: the trace's rows times its copies.
    pub requests: u64,
    /// What the run counts as its "agents": prefix chains of a request trace, or sessions.
    pub units: u64,
    /// "prefix chain" or "session".
    pub unit: &'static str,
    /// Hours of recorded traffic, in simulated time (the trace's span over `--trace-speed`):
    /// what per-trace-hour figures divide by. Copies add traffic within these hours.
    pub traffic_hours: f64,
}

impl Setup {
    /// Expected LLM calls of the whole fleet in the simulated horizon (for sizing the run).
    pub fn expected_calls(&self) -> f64 {
        self.segments
            .iter()
            .map(|s| s.agents as f64 * s.expected_calls_per_agent_day() * s.activity.total())
            .sum()
    }
}
