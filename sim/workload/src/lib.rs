//! # tokenfleet-workload: the demand
//!
//! Fleets of agents, each running loops of LLM calls, and recorded traffic to replay instead.
//! A [`Segment`] is a kind of agent (its budget distribution, activity over the horizon and
//! loop parameters); an [`Agent`] is one of them, holding its own random streams and the
//! state of its current task; a [`SubAgent`] is a short loop an agent fans out to. The cell's
//! event loop asks agents for their next task start and next call, and tells them when a call
//! completed or was rejected. [`feasibility`] checks that a segment's loop can spend its budget
//! in a day; [`trace`] reads recorded traces (Azure, Mooncake, Claude Code) and prepares them
//! for replay. The shipped segment presets are scenario fragments: they live with the parser
//! (`tokenfleet_scenario::presets`).
//!
//! Depends on `tokenfleet-models` (distributions) and `tokenfleet-engine` (time, random
//! streams). It must never depend on the cluster, the setup, the scenario parser or the
//! runner: demand is generated without knowing what serves it.

pub mod activity;
mod agent;
pub mod feasibility;
pub mod profile;
pub mod trace;

pub use activity::Activity;
pub use agent::{After, Agent, CallSpec, LoopState, Rejection, SubAgent, TaskPlanning};
pub use profile::Profile;

use tokenfleet_models::dist::Dist;

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

/// The parameters of one loop of calls (an agent's task, or a sub-agent's short loop).
#[derive(Debug, Clone)]
pub struct LoopParams {
    /// System prompt and tool schemas: the context a loop starts from.
    pub system_tokens: Dist,
    /// New tokens per call (user turn or tool result).
    pub new_tokens: Dist,
    /// Visible output tokens per call (they join the context).
    pub output_tokens: Dist,
    /// Reasoning tokens per call: decoded and billed as output.
    pub reasoning_tokens: Dist,
    /// Whether reasoning stays in the context (interleaved-thinking models such as
    /// MiniMax-M2) or is dropped from the next call's prompt (Anthropic, OpenAI, DeepSeek).
    pub keep_reasoning: bool,
    /// Tool execution and think time between an answer and the next call.
    pub tool_gap: Dist,
    /// Context size (tokens) at which the loop compacts.
    pub compact_at: u64,
    /// Context window the loop can use, in tokens.
    pub window: u64,
    pub summary_tokens: Dist,
}

impl LoopParams {
    /// Mean tokens a call adds to the context (new tokens, visible output, and reasoning if
    /// kept).
    pub fn growth(&self) -> f64 {
        self.new_tokens.mean()
            + self.output_tokens.mean()
            + if self.keep_reasoning {
                self.reasoning_tokens.mean()
            } else {
                0.0
            }
    }

    /// Mean prompt tokens of a call `k` calls into a loop (0-based), with compaction: the
    /// context grows from the system prompt by `growth()` per call and restarts from system
    /// + summary when it would pass `compact_at`.
    pub fn mean_prompt_at(&self, k: f64) -> f64 {
        let s = self.system_tokens.mean();
        let g = self.growth().max(1.0);
        let first = s + self.new_tokens.mean();
        let cap = self.compact_at as f64;
        if first + g * k <= cap {
            return first + g * k;
        }
        // Past the first compaction the context cycles between system + summary and cap.
        let restart = s + self.summary_tokens.mean() + self.new_tokens.mean();
        let period = ((cap - restart) / g).max(1.0);
        let k0 = ((cap - first) / g).max(0.0);
        let phase = ((k - k0) % (period + 1.0)).max(0.0);
        (restart + g * phase).min(cap)
    }

    /// Mean prompt over a loop's first `k` calls.
    pub fn mean_prompt_over(&self, k: f64) -> f64 {
        let n = k.max(1.0);
        if n <= 64.0 {
            let m = n.ceil() as usize;
            return (0..m).map(|i| self.mean_prompt_at(i as f64)).sum::<f64>() / m as f64;
        }
        // Long loops: average 64 evenly spaced calls.
        (0..64)
            .map(|i| self.mean_prompt_at((i as f64 + 0.5) * n / 64.0))
            .sum::<f64>()
            / 64.0
    }

    /// Mean tokens (input + output) per call over a loop of `k` calls.
    pub fn mean_call_tokens(&self, k: f64) -> f64 {
        self.mean_prompt_over(k) + self.output_tokens.mean() + self.reasoning_tokens.mean()
    }
}

/// Sub-agents: short loops an agent fans out to from one of its answers.
#[derive(Debug, Clone)]
pub struct SubAgents {
    /// Chance that an answer (not a compaction, not a task's last) spawns sub-agents.
    pub probability: f64,
    /// How many start at once (drawn, rounded, clamped to 1..=`max_fanout`).
    pub fanout: Dist,
    pub max_fanout: u32,
    /// Calls per sub-agent loop (at least one).
    pub calls: Dist,
    /// Tokens each returns into the parent's context (its next call's new tokens).
    pub result_tokens: Dist,
    /// The parent waits for all of them (Claude Code's Task tool) or runs on.
    pub blocking: bool,
    pub params: LoopParams,
}

/// Retries of rejected calls: `max` more attempts after the first, waiting
/// `backoff * factor^(attempt - 1)`, spread by +-`jitter` (a share of the wait).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retry {
    pub max: u32,
    pub backoff_s: f64,
    pub factor: f64,
    pub jitter: f64,
}

impl Retry {
    /// The wait before attempt `attempt + 1` (attempt >= 1), given a uniform draw `u`.
    #[inline]
    pub fn delay(&self, attempt: u32, u: f64) -> f64 {
        let base = self.backoff_s * self.factor.powi(attempt.saturating_sub(1) as i32);
        base * (1.0 - self.jitter + 2.0 * self.jitter * u)
    }
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
