//! Sub-agents: short loops of their own, started by an answer of an agent.
//!
//! An answer may fan out to sub-agents (Claude Code's Task tool): short loops with their own
//! context, started together. A blocking parent waits for all of them and continues with their
//! results as new tokens; a non-blocking one runs on. Their tokens count towards the parent's
//! budget and task.

use tokenfleet_engine::rng::{SimRng, Subsystem, splitmix64, stream};
use tokenfleet_engine::time::SimTime;

use super::context::LoopState;
use super::draw::{after, tokens};
use super::state::Agent;
use crate::call::CallSpec;
use crate::segment::Segment;

/// A sub-agent: a short loop of its own, started by an agent's answer.
#[derive(Debug, Clone)]
pub struct SubAgent {
    pub(super) rng: SimRng,
    pub lp: LoopState,
    /// Calls left in its loop.
    calls_left: u32,
    /// The parent's task it works for.
    pub task: u32,
    pub(super) attempt: u32,
    pub(super) retry: Option<CallSpec>,
    pub active: bool,
}

impl SubAgent {
    /// An idle slot.
    pub fn idle() -> SubAgent {
        SubAgent {
            rng: stream(0, Subsystem::SubAgent, 0),
            lp: LoopState::default(),
            calls_left: 0,
            task: 0,
            attempt: 0,
            retry: None,
            active: false,
        }
    }

    /// Starts a sub-agent loop for the parent's task `task` with its own stream.
    pub fn start(&mut self, seg: &Segment, mut rng: SimRng, task: u32) {
        let sub = seg.subagents.as_ref().expect("segment has sub-agents");
        let system = tokens(sub.params.system_tokens.sample(&mut rng), 1);
        self.calls_left = tokens(sub.calls.sample(&mut rng), 1).min(u32::MAX as u64) as u32;
        self.lp.start(system);
        self.rng = rng;
        self.task = task;
        self.attempt = 0;
        self.retry = None;
        self.active = true;
    }

    pub fn next_call(&mut self, seg: &Segment) -> CallSpec {
        if let Some(spec) = self.retry.take() {
            return spec;
        }
        let sub = seg.subagents.as_ref().expect("segment has sub-agents");
        self.lp.next_call(&sub.params, &mut self.rng)
    }

    /// One of its calls completed: the time of the next one, or `None` when the loop is
    /// over (then `result` tokens go back to the parent).
    pub fn complete(&mut self, seg: &Segment, spec: &CallSpec, now: SimTime) -> Option<SimTime> {
        let sub = seg.subagents.as_ref().expect("segment has sub-agents");
        self.lp.complete(spec, sub.params.keep_reasoning);
        self.attempt = 0;
        if !spec.compaction {
            self.calls_left = self.calls_left.saturating_sub(1);
        }
        if self.calls_left == 0 {
            self.active = false;
            return None;
        }
        let gap = sub.params.tool_gap.sample(&mut self.rng);
        Some(after(now, gap))
    }

    /// The tokens the finished loop hands back to its parent.
    pub fn result(&mut self, seg: &Segment) -> u64 {
        let sub = seg.subagents.as_ref().expect("segment has sub-agents");
        tokens(sub.result_tokens.sample(&mut self.rng), 0)
    }
}

impl Agent {
    /// The random stream of sub-agent `j` of the latest fan-out.
    pub fn sub_stream(&self, seed: u64, j: u32) -> SimRng {
        // One stream per (agent, fan-out, sub-agent): draws do not depend on event order.
        let id = splitmix64(splitmix64(self.id) ^ self.spawns as u64) ^ j as u64;
        stream(seed, Subsystem::SubAgent, id)
    }

    /// A sub-agent of task `task` ended (`result` tokens to hand back). Returns when the
    /// parent, if it was waiting for it and it was the last, sends its next call.
    pub fn sub_done(
        &mut self,
        seg: &Segment,
        task: u32,
        result: u64,
        now: SimTime,
    ) -> Option<SimTime> {
        self.subs_active = self.subs_active.saturating_sub(1);
        if task + 1 != self.task || !self.busy {
            return None; // a non-blocking parent's task already ended
        }
        self.lp.pending += result;
        if self.waiting && self.subs_active == 0 {
            self.waiting = false;
            let gap = seg.main.tool_gap.sample(&mut self.loop_rng);
            return Some(after(now, gap));
        }
        None
    }
}
