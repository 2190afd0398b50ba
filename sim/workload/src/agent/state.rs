//! An agent's state: its random streams, its budget and what it spent, where it is in its plan,
//! and its current task's loop, retry and sub-agents. Its private fields are shared with the
//! files beside this one (planning, the call loop, sub-agents, retries) and nothing else; the
//! public ones are what the cell reads.

use tokenfleet_engine::rng::SimRng;

use super::context::LoopState;
use crate::call::CallSpec;

/// An agent and its state: O(1), whatever the horizon.
#[derive(Debug, Clone)]
pub struct Agent {
    pub id: u64,
    pub segment: u16,
    pub(super) day_rng: SimRng,
    pub(super) loop_rng: SimRng,
    /// The drawn budget of a full weekday.
    pub daily: u64,
    /// Target tokens (input + output) for the horizon.
    pub budget: u64,
    /// Tokens of completed calls so far (sub-agents' included).
    pub realized: u64,
    pub(super) system: u32,
    pub(super) tasks_total: u32,
    pub(super) tasks_emitted: u32,
    pub(super) plan_u: f64,
    pub(super) pending: u32,
    /// A task is running (a call in flight, a tool gap, or sub-agents it waits for).
    pub busy: bool,
    /// Tasks started so far; the current task's id is `task - 1`.
    pub task: u32,
    /// Tasks run to their end (not given up).
    pub tasks_done: u32,
    /// The current task's loop.
    pub lp: LoopState,
    pub(super) target: u64,
    pub(super) task_spent: u64,
    /// Attempts of the call being retried (0: none).
    pub(super) attempt: u32,
    pub(super) retry: Option<CallSpec>,
    /// Sub-agents running, and whether the parent waits for them.
    pub subs_active: u32,
    pub(super) waiting: bool,
    /// Tokens of the calls sent (open loop: it stops sending when they cover the budget).
    pub(super) issued: u64,
    /// Fan-outs so far (names the sub-agents' random streams).
    pub(super) spawns: u32,
}
