//! The shape of summary.json: each block of headline figures as a serialized struct, and the
//! [`Summary`] that holds them. Only data: [`Summary::new`] (in `compute`) fills it, with the
//! per-pool and per-segment blocks computed in `pools` and `segments`.

use serde::Serialize;
use tokenfleet_fleet::results::Tally;
use tokenfleet_setup::CostMode;

use crate::economics::Economics;

#[derive(Debug, Clone, Serialize)]
pub struct Calls {
    pub generated: u64,
    pub completed: u64,
    pub rejected: u64,
    pub in_flight: u64,
    /// Completed calls that missed the SLA's latency targets.
    pub late: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tokens {
    pub input_uncached: u64,
    pub input_cached: u64,
    pub output: u64,
    pub total: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RevenueByClass {
    pub input_uncached: f64,
    pub input_cached: f64,
    pub output: f64,
    pub reasoning: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Revenue {
    pub itemized: f64,
    pub blended: f64,
    pub itemized_by_class: RevenueByClass,
    /// What rejected calls would have paid (billed sheet).
    pub lost_to_rejections: f64,
    /// Refunds for calls that missed the SLA.
    pub sla_penalty: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cost {
    pub total: f64,
    pub hardware: f64,
    pub energy: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Utilization {
    /// Busy replica-time / provisioned replica-time.
    pub mean: f64,
    /// Roofline-bound time / provisioned time.
    pub active: f64,
    /// Busiest hour's busy share (fleet-wide).
    pub peak_hour: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub ttft_p50: f64,
    pub ttft_p90: f64,
    pub ttft_p99: f64,
    pub ttft_mean: f64,
    pub e2e_p50: f64,
    pub e2e_p90: f64,
    pub e2e_p99: f64,
    pub e2e_mean: f64,
    pub tpot_p50: f64,
    pub tpot_p99: f64,
    /// Mean time from arrival to admission into a batch, exact (not from a histogram).
    pub queue_wait_mean: f64,
    /// Share of admitted calls that waited at all.
    pub queued_share: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PrefixCache {
    /// Cached input tokens / input tokens the agents' previous calls made reusable.
    pub hit_rate: f64,
    /// Cached input tokens / all input tokens.
    pub cached_share_of_input: f64,
    /// Mean KV tokens held by retained prefixes, per replica.
    pub retained_tokens_per_replica: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Agents {
    pub count: u64,
    pub simulated: u64,
    pub daily_tokens_p10: u64,
    pub daily_tokens_p50: u64,
    pub daily_tokens_p90: u64,
    pub budget_p10: u64,
    pub budget_p50: u64,
    pub budget_p90: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PerMillion {
    pub revenue_itemized_usd: f64,
    pub revenue_blended_usd: f64,
    pub cost_usd: f64,
    pub energy_kwh: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PoolSummary {
    pub name: String,
    pub hardware: String,
    pub model: String,
    /// Replicas at the start (fixed unless autoscaled).
    pub replicas: u64,
    /// Mean replicas provisioned over the run.
    pub replicas_mean: f64,
    pub replicas_max: u64,
    pub devices: u64,
    pub devices_per_replica: u32,
    pub tp: u32,
    pub pp: u32,
    pub weights: String,
    pub kv_cache: String,
    pub kv_capacity_tokens: u64,
    pub cost_mode: CostMode,
    pub utilization: f64,
    pub active: f64,
    /// KV in use by running calls plus retained prefixes, share of capacity.
    pub kv_occupancy: f64,
    /// KV in use by running calls only.
    pub kv_running: f64,
    pub queue_mean: f64,
    /// Peak KV tokens one replica held (running calls and retained prefixes), share of its
    /// capacity.
    pub kv_peak: f64,
    /// Little's law, L = λW: the time-average number of calls in the pool (waiting or
    /// running) over the horizon, ...
    pub mean_in_system: f64,
    /// ... the rate of calls admitted to it (rejected ones never enter), per second, ...
    pub arrival_rate_per_s: f64,
    /// ... and the mean time in the pool of its completed calls (end to end). L and λW differ
    /// only by calls still in flight at the horizon (see docs/invariants.md).
    pub mean_time_in_system_s: f64,
    pub calls_completed: u64,
    pub calls_rejected: u64,
    pub calls_in_flight: u64,
    pub calls_rate_limited: u64,
    pub preemptions: u64,
    /// Prefill work beyond the uncached input billed (recomputation after preemption), share.
    pub recompute_share: f64,
    pub cost_usd: Cost,
    pub energy_kwh: f64,
    /// Mean power per device while provisioned, before PUE (the fitted power curve).
    pub power_w_per_device: f64,
}

/// Relative standard errors of sampled fleet totals (0 when every cell is simulated).
#[derive(Debug, Clone, Serialize)]
pub struct SamplingError {
    pub calls: f64,
    pub tokens: f64,
    pub revenue_itemized: f64,
    pub revenue_blended: f64,
    pub utilization: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Engine {
    pub events: u64,
    pub wall_seconds: f64,
    pub events_per_second: f64,
    pub calls_per_second: f64,
    pub cells: usize,
    pub cells_simulated: usize,
    pub past_schedules: u64,
}

/// p10 / p50 / p90 of a quantity.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Quantiles {
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
}

/// One segment: what its agents were meant to spend and spent, and what their calls and
/// tasks looked like (the figures presets are calibrated on; see docs/workload.md).
#[derive(Debug, Clone, Serialize)]
pub struct SegmentSummary {
    pub name: String,
    /// "agent", "monitor" or "replay".
    pub kind: String,
    pub agents: u64,
    pub agents_simulated: u64,
    /// Drawn daily budgets (a full weekday).
    pub budget: Quantiles,
    /// What each agent should spend within the horizon (budget x weekday equivalents).
    pub target: Quantiles,
    /// What each agent spent.
    pub realized: Quantiles,
    /// Per agent realized / target (agents with a positive target).
    pub realized_over_target: Quantiles,
    /// Sum of realized over sum of targets.
    pub realized_over_target_total: f64,
    /// Completed calls (scaled to the fleet).
    pub calls_completed: u64,
    /// Prompt tokens per completed call.
    pub input_per_call: Quantiles,
    /// Output tokens (reasoning included) per completed call.
    pub output_per_call: Quantiles,
    /// Cached input tokens / input tokens.
    pub cached_share: f64,
    /// Reasoning tokens / output tokens.
    pub reasoning_share: f64,
    /// Calls of the agent's own loop per completed task.
    pub calls_per_task: Quantiles,
    pub calls_per_task_mean: f64,
    /// Scaled to the fleet.
    pub tasks_started: u64,
    pub tasks_completed: u64,
    pub tasks_abandoned: u64,
    pub subagent_calls: u64,
    pub retries: u64,
    pub rejected: u64,
    pub compactions: u64,
}

/// The unscaled counts of the simulated cells.
#[derive(Debug, Clone, Serialize)]
pub struct Simulated {
    pub agents: u64,
    pub replicas: Vec<u64>,
    #[serde(flatten)]
    pub tally: Tally,
    /// Itemized revenue of the simulated calls, exact decimal dollars.
    pub revenue_itemized_exact: String,
}

/// What a replay replayed (see `tokenfleet_setup::ReplayOf`).
#[derive(Debug, Clone, Serialize)]
pub struct ReplaySummary {
    pub format: String,
    pub requests: u64,
    /// The units `agents` counts: prefix chains or sessions.
    pub units: u64,
    pub unit: &'static str,
    pub traffic_hours: f64,
}

/// summary.json.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub description: String,
    pub seed: u64,
    pub simulated_hours: f64,
    pub sampled_fraction: f64,
    /// Relative standard error of each scaled headline figure from sampling cells.
    pub sampling_error: SamplingError,
    pub calls: Calls,
    pub tokens: Tokens,
    pub revenue_usd: Revenue,
    pub cost_usd: Cost,
    pub energy_kwh: f64,
    pub margin_usd: f64,
    pub margin_blended_usd: f64,
    pub per_million_tokens: PerMillion,
    pub utilization: Utilization,
    pub latency_s: Latency,
    pub prefix_cache: PrefixCache,
    pub agents: Agents,
    /// Set when the run replays a trace: what `agents` counts then, and the hours of recorded
    /// traffic that the per-trace-hour figures divide by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay: Option<ReplaySummary>,
    pub segments: Vec<SegmentSummary>,
    pub pools: Vec<PoolSummary>,
    #[serde(flatten)]
    pub economics: Economics,
    pub simulated: Simulated,
    pub engine: Engine,
}
