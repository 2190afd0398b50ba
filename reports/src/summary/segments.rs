//! The per-segment block of summary.json: what each segment's agents were meant to spend and
//! spent, and what their calls and tasks looked like, as quantiles over its agents.

use tokenfleet_fleet::results::AgentDay;
use tokenfleet_fleet::results::SegmentTally;
use tokenfleet_fleet::run::RunOutput;
use tokenfleet_setup::Setup;
use tokenfleet_workload::SegmentKind;

use super::types::{Quantiles, SegmentSummary};
use crate::num::{div, quantile, round};
use tokenfleet_fleet::scale::scale_u64;

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
pub(super) fn segment_summaries(setup: &Setup, run: &RunOutput) -> Vec<SegmentSummary> {
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
            let rq = |p: f64| round(quantile(&ratios, p), 4);
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
