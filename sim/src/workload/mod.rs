//! Demand: fleets of agents, each running loops of LLM calls.
//!
//! A [`Segment`] is a kind of agent (its budget distribution, daily profile and loop
//! parameters); an [`Agent`] is one of them, holding its own random streams and the state of
//! its current task. The cell's event loop asks agents for their next task start and next
//! call, and tells them when a call completed or was rejected.

mod agent;
pub mod profile;

pub use agent::{Agent, CallSpec, TaskPlanning};
pub use profile::Profile;

use tokenfleet_models::dist::Dist;

/// A resolved segment of the fleet.
#[derive(Debug, Clone)]
pub struct Segment {
    pub name: String,
    pub share: f64,
    /// Agents in the whole fleet.
    pub agents: u64,
    /// Global ids of the segment's agents are `first_agent..first_agent + agents`.
    pub first_agent: u64,
    /// Index of the served model (`Setup::served`).
    pub model: usize,
    /// Context window the agents can use, in tokens.
    pub window: u64,
    pub budget: Dist,
    pub profile: Profile,
    /// Mean tokens per task.
    pub task_tokens: f64,
    /// Log-normal sigma of task sizes.
    pub task_spread: f64,
    pub system_tokens: Dist,
    pub new_tokens: Dist,
    pub output_tokens: Dist,
    pub tool_gap: Dist,
    /// Context size (tokens) at which the agent compacts.
    pub compact_at: u64,
    pub summary_tokens: Dist,
}

impl Segment {
    /// Expected calls per task and tokens per call, from the loop parameters: a task that
    /// starts from `s` tokens of context and grows by `g` per call spends about
    /// `s*K + g*K^2/2` tokens in K calls. Used to size runs before they start (sampling), not
    /// to simulate.
    pub fn expected_calls_per_task(&self) -> f64 {
        let s = self.system_tokens.mean() + self.new_tokens.mean() + self.output_tokens.mean();
        let g = self.new_tokens.mean() + self.output_tokens.mean();
        let t = self.task_tokens;
        // Contexts are bounded by compaction: past the threshold growth restarts.
        let k_unbounded = if g > 0.0 {
            (-s + (s * s + 2.0 * g * t).sqrt()) / g
        } else {
            t / s
        };
        let per_call_cap = self.compact_at as f64;
        let k_floor = t / per_call_cap;
        k_unbounded.max(k_floor).max(1.0)
    }

    /// Expected calls per agent per day.
    pub fn expected_calls_per_agent_day(&self) -> f64 {
        let tasks = (self.budget.mean() / self.task_tokens).max(1.0);
        tasks * self.expected_calls_per_task()
    }
}
