//! The loop of an agent's own calls: which call comes next, and what follows a completed
//! one (the next call after a tool gap, a fan-out to sub-agents, or the task's end when less
//! than half of the next call would fit in its target).
//!
//! **Monitors.** A monitor runs one endless loop: a call every `tool_gap`, or later when its
//! spending is ahead of the activity profile (so the budget spreads over the whole horizon),
//! until the budget is spent.
//!
//! **Open loop.** An open-loop agent paces its calls as a monitor does but never waits for an
//! answer: the next call is due `tool_gap` after the previous one was sent, until the calls
//! sent cover the budget. Its calls are independent requests (system prompt plus new tokens,
//! no reusable prefix), the way API clients and load generators send them.

use tokenfleet_engine::time::SimTime;
use tokenfleet_models::dist::unit;

use super::draw::{after, tokens};
use super::state::Agent;
use crate::call::CallSpec;
use crate::loop_params::LoopParams;
use crate::segment::{Segment, SegmentKind};

/// What happens after a call of an agent's own loop completed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum After {
    /// Issue the next call at this time.
    Issue(SimTime),
    /// Start `count` sub-agents now; the parent's next call is at `next` (non-blocking) or
    /// when they are all done (`None`).
    Spawn { count: u32, next: Option<SimTime> },
    /// The task is over (target reached, budget spent).
    Done,
}

impl Agent {
    /// The next call of the running task (the rejected one again when retrying).
    pub fn next_call(&mut self, seg: &Segment) -> CallSpec {
        if let Some(spec) = self.retry.take() {
            return spec;
        }
        if seg.kind == SegmentKind::OpenLoop {
            return self.open_call(&seg.main);
        }
        self.lp.next_call(&seg.main, &mut self.loop_rng)
    }

    /// An independent request: the system prompt and new tokens in, output and reasoning out,
    /// within the window.
    fn open_call(&mut self, p: &LoopParams) -> CallSpec {
        let rng = &mut self.loop_rng;
        let new = tokens(p.new_tokens.sample(rng), 1);
        let out = tokens(p.output_tokens.sample(rng), 1);
        let reasoning = tokens(p.reasoning_tokens.sample(rng), 0);
        self.lp.step += 1;
        let room = p.window.max(2);
        let prompt = (self.system as u64 + new).min(room - 1);
        let output = (out + reasoning).min(room - prompt).max(1);
        CallSpec {
            prompt: prompt as u32,
            reusable: 0,
            output: output as u32,
            reasoning: output.saturating_sub(out) as u32,
            compaction: false,
        }
    }

    /// An open-loop agent sent `spec` at `now`: when its next call is due, or `None` once the
    /// calls sent cover its budget. Like a monitor's, the next call comes `tool_gap` later, or
    /// later still if the spending is ahead of the activity profile.
    pub fn open_next(&mut self, seg: &Segment, spec: &CallSpec, now: SimTime) -> Option<SimTime> {
        self.issued += spec.prompt as u64 + spec.output as u64;
        if self.issued >= self.budget {
            self.busy = false;
            return None;
        }
        let gap = seg.main.tool_gap.sample(&mut self.loop_rng);
        let share = self.issued as f64 / self.budget as f64;
        let paced = SimTime::from_secs(seg.activity.inverse(share));
        Some(after(now, gap).max(paced))
    }

    /// Tokens of a completed call, the agent's own or a sub-agent's of task `task`.
    #[inline]
    pub fn spent(&mut self, tokens: u64, task: u32) {
        self.realized += tokens;
        if task + 1 == self.task {
            self.task_spent += tokens;
        }
    }

    /// A call of the agent's own loop completed at `now`.
    pub fn complete(&mut self, seg: &Segment, spec: &CallSpec, now: SimTime) -> After {
        self.spent(spec.prompt as u64 + spec.output as u64, self.task - 1);
        self.lp.complete(spec, seg.main.keep_reasoning);
        self.attempt = 0;
        // Stop when less than half the next call's expected size is left: the overshoot
        // (or shortfall) is then under half a call either way, and zero on average.
        let half_next = (self.lp.context as f64 + seg.main_growth) as u64 / 2;
        if self.task_spent + half_next >= self.target || self.realized + half_next >= self.budget {
            self.busy = false;
            self.tasks_done += 1;
            return After::Done;
        }
        let gap = seg.main.tool_gap.sample(&mut self.loop_rng);
        if seg.kind == SegmentKind::Monitor {
            // Spend no faster than the activity profile allows.
            let share = self.realized as f64 / self.budget.max(1) as f64;
            let paced = SimTime::from_secs(seg.activity.inverse(share));
            return After::Issue(after(now, gap).max(paced));
        }
        if let Some(sub) = &seg.subagents
            && !spec.compaction
            && self.subs_active == 0
            && unit(&mut self.loop_rng) < sub.probability
        {
            let count = (sub.fanout.sample(&mut self.loop_rng).round() as u32)
                .clamp(1, sub.max_fanout.max(1));
            self.subs_active = count;
            self.spawns += 1;
            self.waiting = sub.blocking;
            let next = (!sub.blocking).then(|| after(now, gap));
            return After::Spawn { count, next };
        }
        After::Issue(after(now, gap))
    }
}
