//! A resolved segment of the fleet: what kind of loop its agents run, how many there are, their
//! budget, their daily rhythm and the parameters of their loops. It also estimates, in closed
//! form from those parameters, the calls a task and an agent-day take: runs are sized and
//! budgets checked with these estimates before anything is simulated.

use tokenfleet_models::dist::Dist;

use crate::activity::Activity;
use crate::loop_params::{LoopParams, Retry, SubAgents};
use crate::profile::Profile;

/// What kind of loop a segment's agents run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentKind {
    /// Tasks started by the activity profile, one at a time, each spending a token target.
    Agent,
    /// One endless loop from the first active moment: a call every `tool_gap` (or later, to
    /// spread the budget over the horizon following the activity profile).
    Monitor,
    /// Open-loop traffic (API clients, load generators): a call every `tool_gap` as for a
    /// monitor, but sent whether or not earlier calls were answered, until the calls sent
    /// cover the budget. Calls are independent requests of `system + new` input tokens that
    /// share no prefix, and a rejected call is not retried. Exponential gaps make the arrivals
    /// a Poisson process.
    OpenLoop,
}

/// A resolved segment of the fleet.
#[derive(Debug, Clone)]
pub struct Segment {
    pub name: String,
    pub share: f64,
    pub kind: SegmentKind,
    /// Agents in the whole fleet.
    pub agents: u64,
    /// Global ids of the segment's agents are `first_agent..first_agent + agents`.
    pub first_agent: u64,
    /// Index of the served model (`Setup::served`).
    pub model: usize,
    /// Context window the agents can use, in tokens.
    pub window: u64,
    /// Tokens (input + output) an agent spends on a full weekday.
    pub budget: Dist,
    /// The weekday profile in UTC (rotated by the time zone).
    pub profile: Profile,
    /// Activity over the horizon (weekdays, weekends, time zone).
    pub activity: Activity,
    /// Mean tokens per task.
    pub task_tokens: f64,
    /// Log-normal sigma of task sizes.
    pub task_spread: f64,
    /// The agent's own loop.
    pub main: LoopParams,
    /// `main.growth()`, kept: the agent reads it after every call.
    pub main_growth: f64,
    pub subagents: Option<SubAgents>,
    pub retry: Retry,
}

impl Segment {
    /// Expected calls per task from the loop parameters: a task that starts from `s` tokens
    /// of context and grows by `g` per call spends about `s*K + g*K^2/2` tokens in K calls,
    /// or, once compaction bounds the context, about the mean prompt per call. Used to size
    /// runs and to check budgets before they start, not to simulate.
    pub fn expected_calls_per_task(&self) -> f64 {
        let p = &self.main;
        let extra = p.output_tokens.mean() + p.reasoning_tokens.mean();
        let s = p.system_tokens.mean() + p.new_tokens.mean() + extra;
        let g = p.growth();
        let t = self.task_tokens;
        let k_unbounded = if g > 0.0 {
            (-s + (s * s + 2.0 * g * t).sqrt()) / g
        } else {
            t / s
        };
        // With compaction the context is bounded: calls cost at most about compact_at.
        let k_floor = t / (p.compact_at as f64 + extra);
        let mut k = k_unbounded.max(k_floor).max(1.0);
        // Refine with the compaction-aware mean call size.
        for _ in 0..4 {
            k = (t / p.mean_call_tokens(k).max(1.0)).max(1.0);
        }
        k
    }

    /// Expected calls of one agent on a full weekday.
    pub fn expected_calls_per_agent_day(&self) -> f64 {
        match self.kind {
            SegmentKind::Agent => {
                let tasks = (self.budget.mean() / self.task_tokens).max(1.0);
                let sub = self.subagents.as_ref().map_or(0.0, |s| {
                    s.probability * s.fanout.mean().clamp(1.0, s.max_fanout as f64) * s.calls.mean()
                });
                tasks * self.expected_calls_per_task() * (1.0 + sub)
            }
            SegmentKind::Monitor => {
                // A day's loop is long: the mean call size over a cycling context.
                let per_call = self.main.mean_call_tokens(10_000.0).max(1.0);
                self.budget.mean() / per_call
            }
            SegmentKind::OpenLoop => {
                let p = &self.main;
                let per_call = (p.system_tokens.mean()
                    + p.new_tokens.mean()
                    + p.output_tokens.mean()
                    + p.reasoning_tokens.mean())
                .max(1.0);
                (self.budget.mean() / per_call).min(86_400.0 / p.tool_gap.mean().max(1e-9))
            }
        }
    }

    /// A segment standing for replayed traffic (trace replay), for the reports' labels.
    pub fn replay(name: &str, model: usize, window: u64, activity: Activity) -> Segment {
        let zero = Dist::Constant(0.0);
        let params = LoopParams {
            system_tokens: zero.clone(),
            new_tokens: zero.clone(),
            output_tokens: zero.clone(),
            reasoning_tokens: zero.clone(),
            keep_reasoning: false,
            tool_gap: zero.clone(),
            compact_at: window,
            window,
            summary_tokens: zero.clone(),
        };
        Segment {
            main_growth: 0.0,
            name: name.to_string(),
            share: 1.0,
            kind: SegmentKind::Agent,
            agents: 0,
            first_agent: 0,
            model,
            window,
            budget: zero,
            profile: Profile::named("flat", 0).expect("built in"),
            activity,
            task_tokens: 1.0,
            task_spread: 0.0,
            main: params,
            subagents: None,
            retry: Retry {
                max: 0,
                backoff_s: 0.0,
                factor: 1.0,
                jitter: 0.0,
            },
        }
    }
}
