//! The demand side of a cell: agents' tasks, sub-agents, retries and replayed sessions.
//!
//! An agent starts its next planned task when it is free, issues its loop's calls one at a
//! time (an open-loop agent does not wait for answers), may spawn sub-agents whose results it
//! waits for, and retries a rejected call after a backoff or gives the task up. A replayed
//! trace issues its recorded requests at their times and its sessions' requests in turn.

use tokenfleet_engine::queue::Lane;
use tokenfleet_engine::time::SimTime;
use tokenfleet_workload::{After, CallSpec, Rejection, TaskPlanning};

use super::sim::{CellSim, Origin};
use crate::event::Event;

impl CellSim<'_> {
    pub(super) fn task_due(&mut self, a: u32, now: SimTime) {
        let agent = &mut self.agents[a as usize];
        let seg = &self.setup.segments[agent.segment as usize];
        agent.task_due();
        if let Some(t) = agent.next_task_start(seg) {
            self.queue
                .schedule_in(Lane::Slow, t.max(now), Event::TaskDue(a));
        }
        self.begin(a, now);
    }

    /// Starts the agent's next pending task if it is free.
    fn begin(&mut self, a: u32, now: SimTime) {
        let agent = &mut self.agents[a as usize];
        let seg_idx = agent.segment as usize;
        let seg = &self.setup.segments[seg_idx];
        let before = agent.task;
        if let TaskPlanning::Start(spec) = agent.begin_task(seg) {
            let started = (self.agents[a as usize].task - before) as u64;
            self.tally.tasks_started += started;
            self.segs[seg_idx].tasks_started += 1;
            self.issue_own(a, spec, now);
        }
    }

    /// A call was rejected: retry after a backoff, or give up.
    pub(super) fn rejected(&mut self, a: u32, origin: Origin, spec: &CallSpec, now: SimTime) {
        match origin {
            Origin::Agent => {
                let agent = &mut self.agents[a as usize];
                let seg_idx = agent.segment as usize;
                let seg = &self.setup.segments[seg_idx];
                match agent.rejected(seg, spec, now) {
                    Rejection::Retry(at) => {
                        self.tally.retries += 1;
                        self.segs[seg_idx].retries += 1;
                        self.queue.schedule(at, Event::CallIssue(a));
                    }
                    Rejection::GiveUp => {
                        self.segs[seg_idx].tasks_abandoned += 1;
                        self.begin(a, now);
                    }
                }
            }
            Origin::Sub(slot) => {
                let seg_idx = self.agents[a as usize].segment as usize;
                let retry = self.setup.segments[seg_idx].retry;
                match self.subs[slot as usize].rejected(&retry, spec, now) {
                    Rejection::Retry(at) => {
                        self.tally.retries += 1;
                        self.segs[seg_idx].retries += 1;
                        self.queue.schedule(at, Event::SubIssue(slot));
                    }
                    // A sub-agent that gives up hands nothing back.
                    Rejection::GiveUp => self.sub_ended(a, slot, 0, now),
                }
            }
            // Replayed traffic and open-loop calls are not retried: every recorded request is
            // exactly one call, and an open-loop client has moved on.
            Origin::Arrival | Origin::Open => {}
            Origin::Session(actor) => self.session_answered(actor, now),
        }
    }

    /// A call of agent `a`'s own loop completed.
    pub(super) fn agent_answered(&mut self, a: u32, spec: &CallSpec, now: SimTime) {
        let agent = &mut self.agents[a as usize];
        let seg_idx = agent.segment as usize;
        let seg = &self.setup.segments[seg_idx];
        match agent.complete(seg, spec, now) {
            After::Issue(at) => self.queue.schedule(at, Event::CallIssue(a)),
            After::Spawn { count, next } => {
                let task = agent.task - 1;
                for j in 0..count {
                    let slot = a * self.fanout + j;
                    let rng = self.agents[a as usize].sub_stream(self.seed, j);
                    self.subs[slot as usize].start(seg, rng, task);
                    let spec = self.subs[slot as usize].next_call(seg);
                    self.issue(a, Origin::Sub(slot), spec, now);
                }
                if let Some(at) = next {
                    self.queue.schedule(at, Event::CallIssue(a));
                }
            }
            After::Done => {
                let calls = self.agents[a as usize].lp.step as u64;
                let st = &mut self.segs[seg_idx];
                st.tasks_completed += 1;
                st.calls_per_task.record(calls).ok();
                self.begin(a, now);
            }
        }
    }

    /// A sub-agent's call completed.
    pub(super) fn sub_answered(&mut self, a: u32, slot: u32, spec: &CallSpec, now: SimTime) {
        let seg = &self.setup.segments[self.agents[a as usize].segment as usize];
        let sub = &mut self.subs[slot as usize];
        let task = sub.task;
        self.agents[a as usize].spent(spec.prompt as u64 + spec.output as u64, task);
        match sub.complete(seg, spec, now) {
            Some(at) => self.queue.schedule(at, Event::SubIssue(slot)),
            None => {
                let result = sub.result(seg);
                self.sub_ended(a, slot, result, now);
            }
        }
    }

    /// Sub-agent `slot` of agent `a` ended, handing back `result` tokens.
    fn sub_ended(&mut self, a: u32, slot: u32, result: u64, now: SimTime) {
        let seg = &self.setup.segments[self.agents[a as usize].segment as usize];
        let task = self.subs[slot as usize].task;
        if let Some(at) = self.agents[a as usize].sub_done(seg, task, result, now) {
            self.queue.schedule(at, Event::CallIssue(a));
        }
    }

    /// The i-th recorded request of the cell is due: issue it and schedule the next.
    pub(super) fn arrive(&mut self, i: u32, now: SimTime) {
        let trace = self.trace.as_mut().expect("replay cell");
        let (unit, slot, spec, step) = trace.arrival(i);
        if let Some((t, ev)) = trace.next_arrival() {
            self.queue.schedule(t.max(now), ev);
        }
        self.issue_call(unit, Origin::Arrival, slot, spec, 0, step, now);
    }

    /// A replayed session's request completed or was rejected: the session moves on.
    pub(super) fn session_answered(&mut self, actor: u32, now: SimTime) {
        let trace = self.trace.as_mut().expect("replay cell");
        self.pending.clear();
        trace.session_answered(actor, now, &mut self.pending);
        for i in 0..self.pending.len() {
            let (t, ev) = self.pending[i];
            self.queue.schedule(t.max(now), ev);
        }
    }
}
