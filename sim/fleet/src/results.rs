//! What a cell produces and a run merges: the conservation tally, per-segment tallies, each
//! agent's day, the sampled calls and per-cell figures for the sampling error. All of it is
//! integers (or histograms of integers), so merging cells in any order gives the same bytes.

use hdrhistogram::Histogram;
use tokenfleet_engine::time::SimTime;
use tokenfleet_models::Money;
use tokenfleet_serving::ledger::Ledger;

/// Calls and tokens by state, for the conservation invariant:
/// generated = completed + rejected + in flight, for calls and for each token class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    pub calls_generated: u64,
    pub calls_completed: u64,
    pub calls_rejected: u64,
    pub calls_in_flight: u64,
    pub input_generated: u64,
    pub output_generated: u64,
    pub input_completed: u64,
    pub input_cached_completed: u64,
    pub output_completed: u64,
    pub input_rejected: u64,
    pub output_rejected: u64,
    pub input_in_flight: u64,
    pub output_in_flight: u64,
    pub compactions: u64,
    pub tasks_started: u64,
    /// Calls sent again after a rejection (each is also a generated call).
    pub retries: u64,
    /// Calls of sub-agents (generated).
    pub subagent_calls: u64,
    pub events: u64,
    pub past_schedules: u64,
}

impl Tally {
    pub fn add(&mut self, o: &Tally) {
        self.calls_generated += o.calls_generated;
        self.calls_completed += o.calls_completed;
        self.calls_rejected += o.calls_rejected;
        self.calls_in_flight += o.calls_in_flight;
        self.input_generated += o.input_generated;
        self.output_generated += o.output_generated;
        self.input_completed += o.input_completed;
        self.input_cached_completed += o.input_cached_completed;
        self.output_completed += o.output_completed;
        self.input_rejected += o.input_rejected;
        self.output_rejected += o.output_rejected;
        self.input_in_flight += o.input_in_flight;
        self.output_in_flight += o.output_in_flight;
        self.compactions += o.compactions;
        self.tasks_started += o.tasks_started;
        self.retries += o.retries;
        self.subagent_calls += o.subagent_calls;
        self.events += o.events;
        self.past_schedules += o.past_schedules;
    }
}

/// Per-call token histograms record whole tokens with 2 significant digits (1%): small enough
/// (a few kB) to stay in cache beside the hot path.
fn token_histogram() -> Histogram<u64> {
    let mut h = Histogram::new(2).expect("2 significant digits is valid");
    h.auto(true);
    h
}

/// What one segment's calls and tasks looked like (completed calls), for calibration.
#[derive(Debug, Clone)]
pub struct SegmentTally {
    pub calls_completed: u64,
    pub input: u64,
    pub input_cached: u64,
    pub output: u64,
    pub reasoning: u64,
    pub compactions: u64,
    pub subagent_calls: u64,
    pub retries: u64,
    pub rejected: u64,
    pub tasks_started: u64,
    pub tasks_completed: u64,
    pub tasks_abandoned: u64,
    /// Prompt tokens per completed call.
    pub input_per_call: Histogram<u64>,
    /// Output tokens (reasoning included) per completed call.
    pub output_per_call: Histogram<u64>,
    /// Calls of the agent's own loop per completed task.
    pub calls_per_task: Histogram<u64>,
}

impl Default for SegmentTally {
    fn default() -> Self {
        SegmentTally {
            calls_completed: 0,
            input: 0,
            input_cached: 0,
            output: 0,
            reasoning: 0,
            compactions: 0,
            subagent_calls: 0,
            retries: 0,
            rejected: 0,
            tasks_started: 0,
            tasks_completed: 0,
            tasks_abandoned: 0,
            input_per_call: token_histogram(),
            output_per_call: token_histogram(),
            calls_per_task: token_histogram(),
        }
    }
}

impl SegmentTally {
    pub fn merge(&mut self, o: &SegmentTally) {
        self.calls_completed += o.calls_completed;
        self.input += o.input;
        self.input_cached += o.input_cached;
        self.output += o.output;
        self.reasoning += o.reasoning;
        self.compactions += o.compactions;
        self.subagent_calls += o.subagent_calls;
        self.retries += o.retries;
        self.rejected += o.rejected;
        self.tasks_started += o.tasks_started;
        self.tasks_completed += o.tasks_completed;
        self.tasks_abandoned += o.tasks_abandoned;
        self.input_per_call
            .add(&o.input_per_call)
            .expect("auto-resizing histograms merge");
        self.output_per_call
            .add(&o.output_per_call)
            .expect("auto-resizing histograms merge");
        self.calls_per_task
            .add(&o.calls_per_task)
            .expect("auto-resizing histograms merge");
    }
}

/// One agent's (or replayed session's) run, for the budget distribution and the
/// realized-vs-target report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgentDay {
    pub id: u64,
    pub segment: u16,
    /// The drawn budget of a full weekday (for replayed traffic: its recorded tokens).
    pub budget: u64,
    /// What the agent should spend within the horizon: the budget times the horizon's
    /// activity in weekday equivalents (for replayed traffic: its recorded tokens).
    pub target: u64,
    pub realized: u64,
    pub tasks_planned: u32,
    pub tasks_started: u32,
    pub tasks_completed: u32,
    /// Itemized revenue of the agent's calls under each price set.
    pub revenue: Vec<Money>,
}

/// A sampled call, as written to calls_sample.csv.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CallRecord {
    /// Orders the bottom-k sample (uniform, deterministic).
    pub key: u64,
    pub agent: u64,
    pub segment: u16,
    pub task: u32,
    pub step: u32,
    /// 0 for the agent's own loop, j + 1 for its sub-agent j.
    pub subagent: u8,
    pub compaction: bool,
    pub issued: SimTime,
    pub input_uncached: u32,
    pub input_cached: u32,
    pub output: u32,
    pub ttft: SimTime,
    pub e2e: SimTime,
    pub pool: u16,
    pub revenue: Money,
    pub revenue_blended: Money,
}

/// One cell's headline figures, for the sampling error of sampled runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CellStat {
    pub cell: u64,
    pub agents: u64,
    pub calls_completed: u64,
    pub tokens: u64,
    /// Billed itemized and blended revenue, pico-dollars.
    pub revenue_itemized: i128,
    pub revenue_blended: i128,
    pub busy_ns: u128,
    pub provisioned_ns: u128,
}

/// What a cell produced; merges exactly with other cells' results.
#[derive(Debug, Clone)]
pub struct CellResult {
    pub ledger: Ledger,
    pub tally: Tally,
    pub segments: Vec<SegmentTally>,
    pub agent_days: Vec<AgentDay>,
    pub calls: Vec<CallRecord>,
    pub agents: u64,
    pub replicas: Vec<u64>,
    pub cell_stats: Vec<CellStat>,
}

impl CellResult {
    pub fn merge(mut self, mut o: CellResult) -> CellResult {
        self.ledger.merge(&o.ledger);
        self.tally.add(&o.tally);
        if self.segments.len() < o.segments.len() {
            self.segments
                .resize_with(o.segments.len(), SegmentTally::default);
        }
        for (a, b) in self.segments.iter_mut().zip(&o.segments) {
            a.merge(b);
        }
        self.agent_days.append(&mut o.agent_days);
        self.calls.append(&mut o.calls);
        self.agents += o.agents;
        for (a, b) in self.replicas.iter_mut().zip(&o.replicas) {
            *a += b;
        }
        self.cell_stats.append(&mut o.cell_stats);
        self
    }
}

/// Minute of the UTC day of an instant (for time-of-day prices).
#[inline]
pub fn minute_of_day(t: SimTime) -> u32 {
    ((t.ns() / 60_000_000_000) % 1440) as u32
}
