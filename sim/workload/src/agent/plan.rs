//! An agent's task planning: its budget for the run, how many tasks it plans, when they
//! start and how large each is.
//!
//! **Budget.** An agent draws a daily token budget (a full weekday's) and gets
//! `budget x activity.total()` for the run: the horizon's length in weekday equivalents, so a
//! two-hour run or a week with quiet weekends gets its share. It plans
//! `N = round(budget / task_tokens)` tasks. Task sizes vary (log-normal weights), but the k-th
//! task's target is set from what is left: `remaining * w / (w + (m - 1) * E[w])` with m tasks
//! to go, and the last takes all that remains. A task stops when less than half of its next
//! call would fit in its target. So the realized tokens equal the budget within half a call,
//! unless the horizon ends first: the budget distribution in the scenario is the distribution
//! users get.
//!
//! **Plan.** Task start times are N draws from the segment's activity over the horizon,
//! generated in increasing order one at a time (`u_(i+1) = 1 - (1 - u_(i)) * V^(1/(N-i))`, the
//! sequential method for uniform order statistics) so an agent holds O(1) state instead of a
//! list. Tasks run one after another; a start that comes while a task is running waits.

use rand::Rng;

use tokenfleet_engine::rng::{Subsystem, stream};
use tokenfleet_engine::time::SimTime;
use tokenfleet_models::dist::unit;

use super::context::LoopState;
use super::draw::tokens;
use super::state::Agent;
use crate::call::CallSpec;
use crate::segment::{Segment, SegmentKind};

/// The outcome of planning: whether the agent has a task to run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TaskPlanning {
    /// Start a task with this first call.
    Start(CallSpec),
    /// Nothing to do (no pending task, or the budget is spent).
    Idle,
}

impl Agent {
    /// Agent `id` of segment `seg`: its daily budget and system prompt drawn, its budget for
    /// the run and its number of tasks set.
    pub fn new(id: u64, segment: u16, seg: &Segment, seed: u64) -> Agent {
        let mut traits = stream(seed, Subsystem::AgentTraits, id);
        let daily = tokens(seg.budget.sample(&mut traits), 0);
        let system =
            tokens(seg.main.system_tokens.sample(&mut traits), 1).min(u32::MAX as u64) as u32;
        let budget = tokens(daily as f64 * seg.activity.total(), 0);
        let mut tasks_total = match seg.kind {
            SegmentKind::Agent => {
                // Stochastic rounding keeps E[tasks] = budget / task_tokens for small budgets.
                let exact = budget as f64 / seg.task_tokens;
                let mut n = exact.floor() as u64;
                if unit(&mut traits) < exact - exact.floor() {
                    n += 1;
                }
                n
            }
            SegmentKind::Monitor | SegmentKind::OpenLoop => 1,
        };
        if budget > 0 {
            tasks_total = tasks_total.max(1);
        } else {
            tasks_total = 0;
        }
        Agent {
            id,
            segment,
            day_rng: stream(seed, Subsystem::AgentDay, id),
            loop_rng: stream(seed, Subsystem::AgentLoop, id),
            daily,
            budget,
            realized: 0,
            system,
            tasks_total: tasks_total.min(u32::MAX as u64) as u32,
            tasks_emitted: 0,
            plan_u: 0.0,
            pending: 0,
            busy: false,
            task: 0,
            tasks_done: 0,
            lp: LoopState::default(),
            target: 0,
            task_spent: 0,
            attempt: 0,
            retry: None,
            subs_active: 0,
            waiting: false,
            issued: 0,
            spawns: 0,
        }
    }

    /// Planned tasks for the horizon.
    pub fn tasks_total(&self) -> u32 {
        self.tasks_total
    }

    /// The next planned task start (in increasing order), or `None` when all are planned.
    pub fn next_task_start(&mut self, seg: &Segment) -> Option<SimTime> {
        if self.tasks_emitted >= self.tasks_total {
            return None;
        }
        if seg.kind != SegmentKind::Agent {
            // One loop, from the first active moment plus a random phase of one poll.
            self.tasks_emitted += 1;
            let phase = unit(&mut self.day_rng) * seg.main.tool_gap.mean();
            return Some(SimTime::from_secs(seg.activity.inverse(0.0) + phase));
        }
        let left = (self.tasks_total - self.tasks_emitted) as f64;
        let v = unit(&mut self.day_rng);
        self.plan_u = 1.0 - (1.0 - self.plan_u) * v.powf(1.0 / left);
        self.tasks_emitted += 1;
        Some(SimTime::from_secs(seg.activity.inverse(self.plan_u)))
    }

    /// A planned start time arrived.
    pub fn task_due(&mut self) {
        self.pending += 1;
    }

    /// Starts the next pending task if the agent is free; returns its first call.
    pub fn begin_task(&mut self, seg: &Segment) -> TaskPlanning {
        if self.busy {
            return TaskPlanning::Idle;
        }
        while self.pending > 0 {
            self.pending -= 1;
            let remaining = self.budget.saturating_sub(self.realized);
            // Tasks still to run, this one included.
            let m = self.tasks_total.saturating_sub(self.task).max(1) as f64;
            self.task += 1;
            if remaining == 0 {
                continue;
            }
            self.target = match seg.kind {
                SegmentKind::Monitor | SegmentKind::OpenLoop => remaining,
                SegmentKind::Agent => {
                    let sigma = seg.task_spread;
                    let w =
                        (sigma * standard_normal(&mut self.loop_rng) - sigma * sigma / 2.0).exp();
                    let target = remaining as f64 * w / (w + (m - 1.0));
                    tokens(target, 1).min(remaining)
                }
            };
            self.task_spent = 0;
            self.lp.start(self.system as u64);
            self.attempt = 0;
            self.retry = None;
            self.busy = true;
            return TaskPlanning::Start(self.next_call(seg));
        }
        TaskPlanning::Idle
    }
}

/// A standard normal draw (Box-Muller; one of the pair is dropped to keep the stream simple).
fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1 = 1.0 - unit(rng);
    let u2 = unit(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
