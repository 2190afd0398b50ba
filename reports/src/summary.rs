//! The run's headline figures, computed once from the ledger and shared by every output.
//!
//! Fleet-level figures are scaled from the simulated cells (see `tokenfleet_fleet::run`): demand
//! and revenue by fleet agents / simulated agents, cost and energy per pool by pool replicas /
//! simulated replicas. The `simulated` block keeps the unscaled counts, on which conservation
//! holds exactly.

use serde::Serialize;
use tokenfleet_fleet::results::{AgentDay, SegmentTally, Tally};
use tokenfleet_fleet::run::RunOutput;
use tokenfleet_models::Money;
use tokenfleet_serving::ledger::PoolHourCost;
use tokenfleet_setup::{CostMode, Setup};
use tokenfleet_workload::SegmentKind;

/// Rounds dollars to a micro-dollar for display (the exact values stay in the ledger).
pub fn usd(m: Money) -> f64 {
    (m.usd() * 1e6).round() / 1e6
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// `x * num / den`, rounded to the nearest integer.
pub fn scale_u64(x: u64, (num, den): (u64, u64)) -> u64 {
    let n = x as u128 * num as u128;
    ((2 * n + den as u128) / (2 * den as u128)) as u64
}

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
    pub segments: Vec<SegmentSummary>,
    pub pools: Vec<PoolSummary>,
    #[serde(flatten)]
    pub economics: crate::economics::Economics,
    pub simulated: Simulated,
    pub engine: Engine,
}

/// Cost of pool `pool`'s row for `hour`, scaled to the whole pool.
pub fn row_cost(setup: &Setup, run: &RunOutput, pool: usize, hour: usize) -> PoolHourCost {
    let c = PoolHourCost::of(run.ledger.row(pool, hour), &setup.pools[pool], hour);
    let s = run.pool_scale(setup, pool);
    PoolHourCost {
        hardware: c.hardware.scale(s.0, s.1),
        energy: c.energy.scale(s.0, s.1),
        energy_mj: (c.energy_mj * s.0 as u128 + s.1 as u128 / 2) / s.1 as u128,
    }
}

/// Nearest-rank quantile of sorted values.
fn quantile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn quantiles(sorted: &[u64]) -> Quantiles {
    Quantiles {
        p10: quantile(sorted, 0.10) as f64,
        p50: quantile(sorted, 0.50) as f64,
        p90: quantile(sorted, 0.90) as f64,
    }
}

fn hist_quantiles(h: &hdrhistogram::Histogram<u64>) -> Quantiles {
    if h.is_empty() {
        return Quantiles {
            p10: 0.0,
            p50: 0.0,
            p90: 0.0,
        };
    }
    Quantiles {
        p10: h.value_at_quantile(0.10) as f64,
        p50: h.value_at_quantile(0.50) as f64,
        p90: h.value_at_quantile(0.90) as f64,
    }
}

/// The per-segment block.
fn segment_summaries(setup: &Setup, run: &RunOutput) -> Vec<SegmentSummary> {
    let ds = run.demand_scale(setup);
    let replay = setup.segments.len() == 1 && setup.segments[0].name.starts_with("trace:");
    setup
        .segments
        .iter()
        .enumerate()
        .map(|(i, seg)| {
            let days: Vec<&AgentDay> = run
                .agent_days
                .iter()
                .filter(|a| a.segment as usize == i)
                .collect();
            let sorted = |f: &dyn Fn(&AgentDay) -> u64| {
                let mut v: Vec<u64> = days.iter().map(|a| f(a)).collect();
                v.sort_unstable();
                v
            };
            let mut ratios: Vec<f64> = days
                .iter()
                .filter(|a| a.target > 0)
                .map(|a| a.realized as f64 / a.target as f64)
                .collect();
            ratios.sort_by(f64::total_cmp);
            let rq = |p: f64| {
                if ratios.is_empty() {
                    0.0
                } else {
                    let i = ((p * ratios.len() as f64).ceil() as usize).clamp(1, ratios.len()) - 1;
                    round(ratios[i], 4)
                }
            };
            let target_sum: u64 = days.iter().map(|a| a.target).sum();
            let realized_sum: u64 = days.iter().map(|a| a.realized).sum();
            let empty = SegmentTally::default();
            let t = run.segments.get(i).unwrap_or(&empty);
            let cpt = &t.calls_per_task;
            SegmentSummary {
                name: seg.name.clone(),
                kind: if replay {
                    "replay"
                } else {
                    match seg.kind {
                        SegmentKind::Agent => "agent",
                        SegmentKind::Monitor => "monitor",
                        SegmentKind::OpenLoop => "open-loop",
                    }
                }
                .to_string(),
                agents: seg.agents,
                agents_simulated: days.len() as u64,
                budget: quantiles(&sorted(&|a| a.budget)),
                target: quantiles(&sorted(&|a| a.target)),
                realized: quantiles(&sorted(&|a| a.realized)),
                realized_over_target: Quantiles {
                    p10: rq(0.10),
                    p50: rq(0.50),
                    p90: rq(0.90),
                },
                realized_over_target_total: round(div(realized_sum as f64, target_sum as f64), 4),
                calls_completed: scale_u64(t.calls_completed, ds),
                input_per_call: hist_quantiles(&t.input_per_call),
                output_per_call: hist_quantiles(&t.output_per_call),
                cached_share: round(div(t.input_cached as f64, t.input as f64), 4),
                reasoning_share: round(div(t.reasoning as f64, t.output as f64), 4),
                calls_per_task: hist_quantiles(cpt),
                calls_per_task_mean: round(if cpt.is_empty() { 0.0 } else { cpt.mean() }, 2),
                tasks_started: scale_u64(t.tasks_started, ds),
                tasks_completed: scale_u64(t.tasks_completed, ds),
                tasks_abandoned: scale_u64(t.tasks_abandoned, ds),
                subagent_calls: scale_u64(t.subagent_calls, ds),
                retries: scale_u64(t.retries, ds),
                rejected: scale_u64(t.rejected, ds),
                compactions: scale_u64(t.compactions, ds),
            }
        })
        .collect()
}

fn secs_from_us(v: u64) -> f64 {
    round(v as f64 / 1e6, 6)
}

fn scale_f((num, den): (u64, u64)) -> f64 {
    num as f64 / den.max(1) as f64
}

fn div(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

impl Summary {
    pub fn new(setup: &Setup, run: &RunOutput) -> Summary {
        let ds = run.demand_scale(setup);
        let total = run.ledger.total();
        let t: &Tally = &run.tally;

        let mut cost_hw = Money::ZERO;
        let mut cost_energy = Money::ZERO;
        let mut energy_mj: u128 = 0;
        let mut pools = Vec::new();
        let horizon_ns = setup.horizon.ns() as f64;
        for (p, pool) in setup.pools.iter().enumerate() {
            let mut hw = Money::ZERO;
            let mut en = Money::ZERO;
            let mut mj = 0u128;
            for h in 0..setup.hours {
                let c = row_cost(setup, run, p, h);
                hw += c.hardware;
                en += c.energy;
                mj += c.energy_mj;
            }
            cost_hw += hw;
            cost_energy += en;
            energy_mj += mj;
            let pt = run.ledger.pool_total(p);
            let prov = pt.provisioned_ns as f64;
            pools.push(PoolSummary {
                name: pool.name.clone(),
                hardware: pool.hardware.id.clone(),
                model: setup.served[pool.model].id.clone(),
                replicas: pool.replicas,
                replicas_mean: round(
                    div(prov, setup.horizon.ns() as f64) * scale_f(run.pool_scale(setup, p)),
                    3,
                ),
                replicas_max: pool.replicas_max,
                devices: pool.devices(),
                devices_per_replica: pool.perf.devices,
                tp: pool.perf.shape.tp,
                pp: pool.perf.shape.pp,
                weights: pool.perf.shape.weights.to_string(),
                kv_cache: pool.perf.shape.kv.to_string(),
                kv_capacity_tokens: pool.perf.kv_capacity_tokens,
                cost_mode: pool.cost,
                utilization: round(div(pt.busy_ns as f64, prov), 6),
                active: round(div(pt.active_ns as f64, prov), 6),
                kv_occupancy: round(
                    div(
                        (pt.kv_used_area + pt.kv_retained_area) as f64,
                        prov * pool.perf.kv_capacity_tokens as f64,
                    ),
                    6,
                ),
                kv_running: round(
                    div(
                        pt.kv_used_area as f64,
                        prov * pool.perf.kv_capacity_tokens as f64,
                    ),
                    6,
                ),
                queue_mean: round(div(pt.queue_area as f64, prov), 6),
                kv_peak: round(
                    div(
                        pt.kv_peak_tokens as f64,
                        pool.perf.kv_capacity_tokens as f64,
                    ),
                    6,
                ),
                mean_in_system: round(div(pt.in_system_area as f64, horizon_ns) * scale_f(ds), 6),
                arrival_rate_per_s: round(
                    div(
                        (pt.calls_arrived - pt.calls_rejected) as f64,
                        horizon_ns / 1e9,
                    ) * scale_f(ds),
                    6,
                ),
                mean_time_in_system_s: round(
                    div(pt.e2e_sum_ns as f64 / 1e9, pt.calls_completed as f64),
                    6,
                ),
                calls_completed: scale_u64(pt.calls_completed, ds),
                calls_rejected: scale_u64(pt.calls_rejected, ds),
                calls_in_flight: scale_u64(pt.in_flight, ds),
                calls_rate_limited: scale_u64(pt.calls_rate_limited, ds),
                preemptions: scale_u64(pt.preemptions, ds),
                recompute_share: round(
                    div(
                        pt.prefill_tokens.saturating_sub(pt.input_uncached) as f64,
                        pt.prefill_tokens as f64,
                    ),
                    6,
                ),
                cost_usd: Cost {
                    total: usd(hw + en),
                    hardware: usd(hw),
                    energy: usd(en),
                },
                energy_kwh: round(mj as f64 / 3.6e9, 3),
                power_w_per_device: round(
                    pool.power.power_at_share(div(pt.powered_ns as f64, prov)),
                    1,
                ),
            });
        }
        let cost_total = cost_hw + cost_energy;

        let rev_item = total.revenue_itemized().scale(ds.0, ds.1);
        let rev_blend = total.revenue_blended.scale(ds.0, ds.1);
        let tokens = Tokens {
            input_uncached: scale_u64(total.input_uncached, ds),
            input_cached: scale_u64(total.input_cached, ds),
            output: scale_u64(total.output, ds),
            total: scale_u64(total.input_uncached + total.input_cached + total.output, ds),
        };
        let mtok = tokens.total as f64 / 1e6;
        let energy_kwh = energy_mj as f64 / 3.6e9;

        let prov = total.provisioned_ns as f64;
        let peak_hour = (0..setup.hours)
            .map(|h| {
                let mut busy = 0u128;
                let mut prov = 0u128;
                for p in 0..setup.pools.len() {
                    busy += run.ledger.row(p, h).busy_ns;
                    prov += run.ledger.row(p, h).provisioned_ns;
                }
                div(busy as f64, prov as f64)
            })
            .fold(0.0, f64::max);

        let n = total.calls_completed as f64;
        let latency = Latency {
            ttft_p50: secs_from_us(total.ttft_us.value_at_quantile(0.50)),
            ttft_p90: secs_from_us(total.ttft_us.value_at_quantile(0.90)),
            ttft_p99: secs_from_us(total.ttft_us.value_at_quantile(0.99)),
            ttft_mean: round(div(total.ttft_sum_ns as f64 / 1e9, n), 6),
            e2e_p50: secs_from_us(total.e2e_us.value_at_quantile(0.50)),
            e2e_p90: secs_from_us(total.e2e_us.value_at_quantile(0.90)),
            e2e_p99: secs_from_us(total.e2e_us.value_at_quantile(0.99)),
            e2e_mean: round(div(total.e2e_sum_ns as f64 / 1e9, n), 6),
            tpot_p50: secs_from_us(total.tpot_us.value_at_quantile(0.50)),
            tpot_p99: secs_from_us(total.tpot_us.value_at_quantile(0.99)),
            queue_wait_mean: round(
                div(total.wait_sum_ns as f64 / 1e9, total.calls_started as f64),
                6,
            ),
            queued_share: round(
                div(total.calls_waited as f64, total.calls_started as f64),
                6,
            ),
        };

        let mut realized: Vec<u64> = run
            .agent_days
            .iter()
            .map(|a: &AgentDay| a.realized)
            .collect();
        let mut budgets: Vec<u64> = run.agent_days.iter().map(|a| a.budget).collect();
        realized.sort_unstable();
        budgets.sort_unstable();

        let revenue_by_class = RevenueByClass {
            input_uncached: usd(total.revenue_uncached.scale(ds.0, ds.1)),
            input_cached: usd(total.revenue_cached.scale(ds.0, ds.1)),
            output: usd(total.revenue_output.scale(ds.0, ds.1)),
            reasoning: usd(total.revenue_reasoning.scale(ds.0, ds.1)),
        };
        let penalty = total.penalty.scale(ds.0, ds.1);
        Summary {
            scenario: setup.name.clone(),
            description: setup.description.clone(),
            seed: run.seed,
            simulated_hours: round(setup.horizon.secs() / 3600.0, 6),
            sampled_fraction: round(run.layout.sampled_fraction(), 6),
            sampling_error: SamplingError {
                calls: round(run.sampling_rse(|c| c.calls_completed as f64), 6),
                tokens: round(run.sampling_rse(|c| c.tokens as f64), 6),
                revenue_itemized: round(run.sampling_rse(|c| c.revenue_itemized as f64), 6),
                revenue_blended: round(run.sampling_rse(|c| c.revenue_blended as f64), 6),
                // Busy share per cell (the ratio to provisioned time, not to agents).
                utilization: round(
                    {
                        let v: Vec<f64> = run
                            .cell_stats
                            .iter()
                            .map(|c| c.busy_ns as f64 / (c.provisioned_ns as f64).max(1.0))
                            .collect();
                        let n = v.len() as f64;
                        let f = n / run.layout.cells as f64;
                        if v.len() < 2 || f >= 1.0 {
                            0.0
                        } else {
                            let m = v.iter().sum::<f64>() / n;
                            let s2 = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
                            ((1.0 - f) * s2 / n).sqrt() / m.max(1e-12)
                        }
                    },
                    6,
                ),
            },
            calls: Calls {
                generated: scale_u64(t.calls_generated, ds),
                completed: scale_u64(t.calls_completed, ds),
                rejected: scale_u64(t.calls_rejected, ds),
                in_flight: scale_u64(t.calls_in_flight, ds),
                late: scale_u64(total.calls_late, ds),
            },
            revenue_usd: Revenue {
                itemized: usd(rev_item),
                blended: usd(rev_blend),
                itemized_by_class: revenue_by_class,
                lost_to_rejections: usd(total.revenue_lost.scale(ds.0, ds.1)),
                sla_penalty: usd(penalty),
            },
            cost_usd: Cost {
                total: usd(cost_total),
                hardware: usd(cost_hw),
                energy: usd(cost_energy),
            },
            energy_kwh: round(energy_kwh, 3),
            margin_usd: usd(rev_item - penalty - cost_total),
            margin_blended_usd: usd(rev_blend - cost_total),
            per_million_tokens: PerMillion {
                revenue_itemized_usd: round(div(rev_item.usd(), mtok), 6),
                revenue_blended_usd: round(div(rev_blend.usd(), mtok), 6),
                cost_usd: round(div(cost_total.usd(), mtok), 6),
                energy_kwh: round(div(energy_kwh, mtok), 6),
            },
            tokens,
            utilization: Utilization {
                mean: round(div(total.busy_ns as f64, prov), 6),
                active: round(div(total.active_ns as f64, prov), 6),
                peak_hour: round(peak_hour, 6),
            },
            latency_s: latency,
            prefix_cache: PrefixCache {
                hit_rate: round(div(total.input_cached as f64, total.reusable as f64), 6),
                cached_share_of_input: round(
                    div(
                        total.input_cached as f64,
                        (total.input_cached + total.input_uncached) as f64,
                    ),
                    6,
                ),
                retained_tokens_per_replica: round(div(total.kv_retained_area as f64, prov), 1),
            },
            agents: Agents {
                count: setup.agents,
                simulated: run.agents_simulated,
                daily_tokens_p10: quantile(&realized, 0.10),
                daily_tokens_p50: quantile(&realized, 0.50),
                daily_tokens_p90: quantile(&realized, 0.90),
                budget_p10: quantile(&budgets, 0.10),
                budget_p50: quantile(&budgets, 0.50),
                budget_p90: quantile(&budgets, 0.90),
            },
            economics: crate::economics::Economics::new(
                setup,
                run,
                rev_item - penalty,
                cost_total,
                energy_kwh,
            ),
            segments: segment_summaries(setup, run),
            pools,
            simulated: Simulated {
                agents: run.agents_simulated,
                replicas: run.replicas_simulated.clone(),
                tally: *t,
                revenue_itemized_exact: total.revenue_itemized().exact_usd_string(),
            },
            engine: Engine {
                events: t.events,
                wall_seconds: round(run.wall_seconds, 3),
                events_per_second: round(div(t.events as f64, run.wall_seconds), 0),
                calls_per_second: round(div(t.calls_completed as f64, run.wall_seconds), 0),
                cells: run.layout.cells,
                cells_simulated: run.layout.simulated.len(),
                past_schedules: t.past_schedules,
            },
        }
    }
}
