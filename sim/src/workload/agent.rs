//! One agent: its budget, its day plan, and its loop of calls.
//!
//! **Budget.** An agent draws a daily token budget and plans `N = round(budget / task_tokens)`
//! tasks. Task sizes vary (log-normal weights), but the k-th task's target is set from what is
//! left: `remaining * w / (w + (m - 1) * E[w])` with m tasks to go, and the last takes all
//! that remains. So the realized daily tokens equal the drawn budget up to the overshoot of a
//! task's last call, unless the day ends first: the budget distribution in the scenario is the
//! distribution users get.
//!
//! **Day plan.** Task start times are N draws from the segment's daily profile, generated in
//! increasing order one at a time (`u_(i+1) = 1 - (1 - u_(i)) * V^(1/(N-i))`, the sequential
//! method for uniform order statistics) so an agent holds O(1) state instead of a list. Tasks
//! run one after another; a start that comes while a task is running waits for it.
//!
//! **Loop.** A task starts from the system prompt and tool schemas; each call sends the whole
//! context plus new tokens (the user turn or a tool result), and the answer joins the context.
//! The part of the prompt shared with the agent's previous call (`reusable`) is what a prefix
//! cache can serve. When the context would pass the compaction threshold, the agent spends one
//! call summarising it and continues from the system prompt plus the summary.

use rand::Rng;

use crate::rng::{SimRng, Subsystem, stream};
use crate::time::SimTime;
use tokenfleet_models::dist::unit;

use super::Segment;

/// What one call sends and expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallSpec {
    /// Input tokens (the whole context plus new tokens).
    pub prompt: u32,
    /// Leading input tokens identical to the agent's previous call's context.
    pub reusable: u32,
    /// Output tokens.
    pub output: u32,
    /// A compaction (summarising) call.
    pub compaction: bool,
}

/// The outcome of planning: whether the agent has a task to run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TaskPlanning {
    /// Start a task with this first call.
    Start(CallSpec),
    /// Nothing to do (no pending task, or the budget is spent).
    Idle,
}

/// An agent and its state.
#[derive(Debug, Clone)]
pub struct Agent {
    pub id: u64,
    pub segment: u16,
    day_rng: SimRng,
    loop_rng: SimRng,
    /// Target tokens (input + output) for the day.
    pub budget: u64,
    /// Tokens of completed calls so far.
    pub realized: u64,
    system: u32,
    tasks_total: u32,
    tasks_emitted: u32,
    plan_u: f64,
    pending: u32,
    /// A task is running (a call in flight or a tool gap).
    pub busy: bool,
    /// Tasks started so far; the current task's id is `task - 1`.
    pub task: u32,
    /// Calls made in the current task.
    pub step: u32,
    context: u64,
    reusable: u64,
    target: u64,
    task_spent: u64,
    compacting: bool,
}

#[inline]
fn tokens(x: f64, min: u64) -> u64 {
    if x.is_finite() {
        (x.round() as u64).max(min)
    } else {
        min
    }
}

impl Agent {
    pub fn new(id: u64, segment: u16, seg: &Segment, seed: u64) -> Agent {
        let mut traits = stream(seed, Subsystem::AgentTraits, id);
        let budget = tokens(seg.budget.sample(&mut traits), 0);
        let system = tokens(seg.system_tokens.sample(&mut traits), 1).min(u32::MAX as u64) as u32;
        // Stochastic rounding keeps E[tasks] = budget / task_tokens for small budgets.
        let exact = budget as f64 / seg.task_tokens;
        let mut tasks_total = exact.floor() as u64;
        if unit(&mut traits) < exact - exact.floor() {
            tasks_total += 1;
        }
        if budget > 0 {
            tasks_total = tasks_total.max(1);
        }
        Agent {
            id,
            segment,
            day_rng: stream(seed, Subsystem::AgentDay, id),
            loop_rng: stream(seed, Subsystem::AgentLoop, id),
            budget,
            realized: 0,
            system,
            tasks_total: tasks_total.min(u32::MAX as u64) as u32,
            tasks_emitted: 0,
            plan_u: 0.0,
            pending: 0,
            busy: false,
            task: 0,
            step: 0,
            context: 0,
            reusable: 0,
            target: 0,
            task_spent: 0,
            compacting: false,
        }
    }

    /// Planned tasks for the day.
    pub fn tasks_total(&self) -> u32 {
        self.tasks_total
    }

    /// The next planned task start (in increasing order), or `None` when all are planned.
    pub fn next_task_start(&mut self, seg: &Segment) -> Option<SimTime> {
        if self.tasks_emitted >= self.tasks_total {
            return None;
        }
        let left = (self.tasks_total - self.tasks_emitted) as f64;
        let v = unit(&mut self.day_rng);
        self.plan_u = 1.0 - (1.0 - self.plan_u) * v.powf(1.0 / left);
        self.tasks_emitted += 1;
        Some(SimTime::from_secs(seg.profile.inverse(self.plan_u)))
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
            let sigma = seg.task_spread;
            let w = (sigma * standard_normal(&mut self.loop_rng) - sigma * sigma / 2.0).exp();
            let target = remaining as f64 * w / (w + (m - 1.0));
            self.target = tokens(target, 1).min(remaining);
            self.task_spent = 0;
            self.step = 0;
            self.context = self.system as u64;
            // The system prompt and tool schemas are shared with the previous task.
            self.reusable = self.system as u64;
            self.busy = true;
            return TaskPlanning::Start(self.next_call(seg));
        }
        TaskPlanning::Idle
    }

    /// The next call of the running task.
    pub fn next_call(&mut self, seg: &Segment) -> CallSpec {
        let new = tokens(seg.new_tokens.sample(&mut self.loop_rng), 1);
        let out = tokens(seg.output_tokens.sample(&mut self.loop_rng), 1);
        let spec = if self.context + new > seg.compact_at && self.context > self.system as u64 {
            self.compacting = true;
            let summary = tokens(seg.summary_tokens.sample(&mut self.loop_rng), 1);
            let prompt = self.context.min(seg.window.saturating_sub(summary).max(1));
            CallSpec {
                prompt: prompt as u32,
                reusable: self.reusable.min(prompt) as u32,
                output: summary.min(seg.window - prompt).max(1) as u32,
                compaction: true,
            }
        } else {
            self.compacting = false;
            let prompt = (self.context + new).min(seg.compact_at.max(self.context + 1));
            let output = out.min(seg.window.saturating_sub(prompt)).max(1);
            CallSpec {
                prompt: prompt as u32,
                reusable: self.reusable.min(prompt) as u32,
                output: output as u32,
                compaction: false,
            }
        };
        self.step += 1;
        spec
    }

    /// A call completed: returns the tool gap before the next call, or `None` if the task is
    /// done.
    pub fn complete(&mut self, seg: &Segment, spec: &CallSpec) -> Option<f64> {
        let spent = spec.prompt as u64 + spec.output as u64;
        self.realized += spent;
        self.task_spent += spent;
        if spec.compaction {
            let summary = spec.output as u64;
            self.context = self.system as u64 + summary;
            self.reusable = self.system as u64;
        } else {
            self.context = spec.prompt as u64 + spec.output as u64;
            self.reusable = self.context;
        }
        if self.task_spent >= self.target || self.realized >= self.budget {
            self.busy = false;
            return None;
        }
        Some(seg.tool_gap.sample(&mut self.loop_rng))
    }

    /// A call was rejected: the agent gives up the task.
    pub fn abandon(&mut self) {
        self.busy = false;
    }
}

/// A standard normal draw (Box-Muller; one of the pair is dropped to keep the stream simple).
fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1 = 1.0 - unit(rng);
    let u2 = unit(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
