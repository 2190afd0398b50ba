//! Can a segment's loop spend its budget in a day?
//!
//! An agent runs its tasks one after another, and each call takes a tool gap plus the time the
//! cluster needs to serve it. If a p90 agent's daily budget needs more than 24 hours of loop
//! time, the scenario contradicts itself: realized tokens would fall short of the budgets
//! whatever the cluster. This is checked before a run with a lower bound on service time (the
//! call alone on a replica of the fastest pool serving the model: its uncached prefill in one
//! iteration, then decoding at batch size one), so a failure is certain, not a guess.

use tokenfleet_models::perf::ReplicaPerf;

use crate::loop_params::LoopParams;
use crate::segment::{Segment, SegmentKind};

/// The loop time of a segment's agents, for the message and for tests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoopTime {
    pub calls_per_task: f64,
    /// Mean tool gap.
    pub gap_s: f64,
    /// Lower bound on a call's service time.
    pub service_s: f64,
    /// Tokens a p90 agent spends on a full weekday.
    pub budget_p90: f64,
    /// Loop time that budget needs.
    pub needed_s: f64,
}

/// Lower bound on the time to serve one call of `prompt` tokens, `uncached` of them computed,
/// and `output` decoded, alone on a replica.
pub fn service_lower_bound(perf: &ReplicaPerf, prompt: f64, uncached: f64, output: f64) -> f64 {
    let u = uncached.clamp(1.0, prompt.max(1.0));
    let cached = (prompt - u).max(0.0);
    let prefill = perf
        .iteration_cost(u.min(u32::MAX as f64) as u32, 1, 1)
        .time(u * cached + u * u / 2.0, prompt);
    let decode = perf.iteration_cost(1, 1, 1).time(prompt, prompt);
    prefill + output.max(1.0) * decode
}

/// Mean seconds per call of a loop: tool gap plus the service lower bound at the mean prompt.
fn per_call(p: &LoopParams, perf: &ReplicaPerf, calls: f64) -> (f64, f64) {
    let prompt = p.mean_prompt_over(calls);
    let uncached = p.new_tokens.mean()
        + if p.reasoning_tokens.mean() > 0.0 && !p.keep_reasoning {
            p.output_tokens.mean()
        } else {
            0.0
        };
    let out = p.output_tokens.mean() + p.reasoning_tokens.mean();
    (
        p.tool_gap.mean(),
        service_lower_bound(perf, prompt, uncached, out),
    )
}

/// The loop time a p90 agent of `seg` needs for a full weekday's budget.
pub fn loop_time(seg: &Segment, perf: &ReplicaPerf) -> LoopTime {
    let budget_p90 = seg.budget.quantile(0.9);
    match seg.kind {
        SegmentKind::Agent => {
            let k = seg.expected_calls_per_task();
            let (gap, service) = per_call(&seg.main, perf, k);
            let mut per_call_s = gap + service;
            if let Some(sub) = &seg.subagents
                && sub.blocking
            {
                // A blocking fan-out adds the sub-agents' loop (they run side by side).
                let calls = sub.calls.mean().max(1.0);
                let (g, s) = per_call(&sub.params, perf, calls);
                per_call_s += sub.probability * calls * (g + s);
            }
            let tasks = budget_p90 / seg.task_tokens;
            LoopTime {
                calls_per_task: k,
                gap_s: gap,
                service_s: service,
                budget_p90,
                needed_s: tasks * k * per_call_s,
            }
        }
        // Open-loop calls do not wait for answers: any budget is spent on time.
        SegmentKind::OpenLoop => LoopTime {
            calls_per_task: seg.expected_calls_per_agent_day(),
            gap_s: seg.main.tool_gap.mean(),
            service_s: 0.0,
            budget_p90,
            needed_s: 0.0,
        },
        SegmentKind::Monitor => {
            let tokens_per_call = seg.main.mean_call_tokens(10_000.0).max(1.0);
            let (gap, service) = per_call(&seg.main, perf, 10_000.0);
            LoopTime {
                calls_per_task: budget_p90 / tokens_per_call,
                gap_s: gap,
                service_s: service,
                budget_p90,
                needed_s: budget_p90 / tokens_per_call * (gap + service),
            }
        }
    }
}

/// Why a segment's loop cannot spend its budget in a day: a p90 agent's daily budget needs more
/// than 24 hours of loop time. The message says what to change in the scenario.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum TooSlow {
    /// An agent's tasks of `task_tokens` each (or an open loop's calls).
    #[error(
        "the agent loop is too slow for the budget: a p90 agent ({:.3}M tokens a day) runs {:.1} tasks of {:.3}M tokens, each about {:.0} calls x ({:.1} s tool gap + at least {:.2} s of service), {:.1} h in all, more than the 24 h of a day; lower daily_tokens, shorten task.tool_gap, or make calls bigger (task.new_tokens)",
        .time.budget_p90 / 1e6,
        .time.budget_p90 / .task_tokens,
        .task_tokens / 1e6,
        .time.calls_per_task,
        .time.gap_s,
        .time.service_s,
        .time.needed_s / 3600.0
    )]
    Agent { time: LoopTime, task_tokens: f64 },
    /// A monitor's endless loop.
    #[error(
        "the monitor loop is too slow for the budget: a p90 monitor ({:.3}M tokens a day) needs about {:.0} calls of {:.0} s each ({:.1} s tool gap + at least {:.2} s of service), {:.1} h in all, more than the 24 h of a day; lower daily_tokens or shorten task.tool_gap",
        .time.budget_p90 / 1e6,
        .time.calls_per_task,
        .time.gap_s + .time.service_s,
        .time.gap_s,
        .time.service_s,
        .time.needed_s / 3600.0
    )]
    Monitor { time: LoopTime },
}

/// `Err` when a p90 agent of `seg` cannot spend its budget in a day.
pub fn check(seg: &Segment, perf: &ReplicaPerf) -> Result<LoopTime, TooSlow> {
    let t = loop_time(seg, perf);
    const DAY: f64 = 86_400.0;
    if t.needed_s <= DAY {
        return Ok(t);
    }
    Err(match seg.kind {
        SegmentKind::Agent | SegmentKind::OpenLoop => TooSlow::Agent {
            time: t,
            task_tokens: seg.task_tokens,
        },
        SegmentKind::Monitor => TooSlow::Monitor { time: t },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_slow_says_what_the_loop_needs() {
        let time = LoopTime {
            calls_per_task: 40.0,
            gap_s: 5.0,
            service_s: 0.25,
            budget_p90: 100e6,
            needed_s: 200_000.0,
        };
        let agent = TooSlow::Agent {
            time,
            task_tokens: 2e6,
        };
        assert_eq!(
            agent.to_string(),
            "the agent loop is too slow for the budget: a p90 agent (100.000M tokens a day) runs 50.0 tasks of 2.000M tokens, each about 40 calls x (5.0 s tool gap + at least 0.25 s of service), 55.6 h in all, more than the 24 h of a day; lower daily_tokens, shorten task.tool_gap, or make calls bigger (task.new_tokens)"
        );
        assert_eq!(
            TooSlow::Monitor { time }.to_string(),
            "the monitor loop is too slow for the budget: a p90 monitor (100.000M tokens a day) needs about 40 calls of 5 s each (5.0 s tool gap + at least 0.25 s of service), 55.6 h in all, more than the 24 h of a day; lower daily_tokens or shorten task.tool_gap"
        );
    }
}
