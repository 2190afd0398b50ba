//! [`Summary::new`]: the headline figures computed once from the ledger, the tallies and the
//! agent days, scaled to the fleet; the per-pool and per-segment blocks come from `pools` and
//! `segments`, the economics block from [`crate::economics`].

use tokenfleet_fleet::metrics;
use tokenfleet_fleet::results::AgentDay;
use tokenfleet_fleet::results::Tally;
use tokenfleet_fleet::run::RunOutput;
use tokenfleet_setup::Setup;

use super::pools::pool_summaries;
use super::segments::segment_summaries;
use super::types::{
    Agents, Calls, Cost, Engine, Latency, PerMillion, PrefixCache, ReplaySummary, Revenue,
    RevenueByClass, SamplingError, Simulated, Summary, Tokens, Utilization,
};
use crate::economics::Economics;
use crate::num::{div, quantile, round, usd};
use tokenfleet_fleet::scale::scale_u64;

/// A latency quantile in seconds, as the headline figures read it, rounded for the file.
fn secs(h: &hdrhistogram::Histogram<u64>, p: f64) -> f64 {
    round(metrics::quantile_s(h, p), 6)
}

impl Summary {
    pub fn new(setup: &Setup, run: &RunOutput) -> Summary {
        let ds = run.demand_scale(setup);
        let total = run.ledger.total();
        let t: &Tally = &run.tally;

        // The fleet's cost and revenue, as every headline figure computes them.
        let cost = metrics::cost(setup, run);
        let pools = pool_summaries(setup, run, &cost);
        let (cost_hw, cost_energy, energy_mj) = (
            cost.cluster.hardware,
            cost.cluster.energy,
            cost.cluster.energy_mj,
        );
        let cost_total = cost.cluster.total();
        let revenue = metrics::revenue(setup, run);
        let (rev_item, rev_blend) = (revenue.itemized, revenue.blended);
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
            ttft_p50: secs(&total.ttft_us, 0.50),
            ttft_p90: secs(&total.ttft_us, 0.90),
            ttft_p99: secs(&total.ttft_us, 0.99),
            ttft_mean: round(div(total.ttft_sum_ns as f64 / 1e9, n), 6),
            e2e_p50: secs(&total.e2e_us, 0.50),
            e2e_p90: secs(&total.e2e_us, 0.90),
            e2e_p99: secs(&total.e2e_us, 0.99),
            e2e_mean: round(div(total.e2e_sum_ns as f64 / 1e9, n), 6),
            tpot_p50: secs(&total.tpot_us, 0.50),
            tpot_p99: secs(&total.tpot_us, 0.99),
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
        let penalty = revenue.penalty;
        Summary {
            scenario: setup.name.clone(),
            description: setup.description.clone(),
            seed: run.seed,
            simulated_hours: round(setup.horizon.secs() / 3600.0, 6),
            replay: setup.replay.as_ref().map(|r| ReplaySummary {
                format: r.format.clone(),
                requests: r.requests,
                units: r.units,
                unit: r.unit,
                traffic_hours: round(r.traffic_hours, 6),
            }),
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
            economics: Economics::new(setup, run, rev_item - penalty, &cost, energy_kwh),
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
