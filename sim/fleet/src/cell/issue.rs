//! Issuing a call: from an agent's loop, a sub-agent or a replayed request to the cluster.
//!
//! A call takes a slot in the cell's slab (a freed one first, so the slab stays as large as
//! the most calls in flight at once) and is submitted to the cluster. An accepted call is
//! counted as arrived at its pool; a rejected one is counted with the revenue it would have
//! paid had its reusable prefix hit the cache, its slot is freed at once, and its owner is
//! told ([`super::demand`]) so it can retry or give up.

use tokenfleet_engine::queue::Lane;
use tokenfleet_engine::time::SimTime;
use tokenfleet_models::prices::Usage;
use tokenfleet_serving::cluster::{Call, Rejection as Refusal, Submitted};
use tokenfleet_workload::{CallSpec, SegmentKind};

use super::sim::{CallExtra, CellSim, Origin};
use crate::event::Event;
use crate::results::minute_of_day;

impl CellSim<'_> {
    /// Issues a call of agent `a`'s own loop. An open-loop agent does not wait for the answer:
    /// its next call is scheduled now.
    pub(super) fn issue_own(&mut self, a: u32, spec: CallSpec, now: SimTime) {
        let agent = &mut self.agents[a as usize];
        let seg = &self.setup.segments[agent.segment as usize];
        if seg.kind != SegmentKind::OpenLoop {
            return self.issue(a, Origin::Agent, spec, now);
        }
        if let Some(t) = agent.open_next(seg, &spec, now) {
            self.queue.schedule(t, Event::CallIssue(a));
        }
        self.issue(a, Origin::Open, spec, now);
    }

    /// Issues a call of agent `a`'s own loop or of one of its sub-agents.
    pub(super) fn issue(&mut self, a: u32, origin: Origin, spec: CallSpec, now: SimTime) {
        let agent = &self.agents[a as usize];
        let (key, step) = match origin {
            Origin::Sub(slot) => (
                self.agents.len() as u32 + slot,
                self.subs[slot as usize].lp.step,
            ),
            _ => (a, agent.lp.step),
        };
        let task = agent.task.saturating_sub(1);
        self.issue_call(a, origin, key, spec, task, step, now);
    }

    /// Submits a call to the cluster; `key` owns its prefix-cache entry.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn issue_call(
        &mut self,
        owner: u32,
        origin: Origin,
        key: u32,
        spec: CallSpec,
        task: u32,
        step: u32,
        now: SimTime,
    ) {
        let seg_idx = self.segment_of(owner);
        let model = self.setup.segments[seg_idx].model;
        let call = Call::new(key, spec.prompt, spec.reusable, spec.output, now);
        let extra = CallExtra {
            owner,
            task,
            step,
            reasoning: spec.reasoning,
            origin,
            compaction: spec.compaction,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.calls[id as usize] = call;
                self.extra[id as usize] = extra;
                id
            }
            None => {
                self.calls.push(call);
                self.extra.push(extra);
                (self.calls.len() - 1) as u32
            }
        };
        self.tally.calls_generated += 1;
        self.tally.input_generated += spec.prompt as u64;
        self.tally.output_generated += spec.output as u64;
        self.tally.compactions += spec.compaction as u64;
        self.tally.subagent_calls += matches!(origin, Origin::Sub(_)) as u64;
        match self
            .cluster
            .submit(model, id, &mut self.calls, &mut self.ledger, now)
        {
            Submitted::Accepted { step } => {
                let pool = self.cluster.replicas[self.calls[id as usize].replica as usize].pool;
                self.ledger.arrived(pool as usize, now);
                if let Some((t, r, v)) = step {
                    self.queue.schedule_in(Lane::Fast, t, Event::Step(r, v));
                }
            }
            Submitted::Rejected { replica, reason } => {
                let pool = self.cluster.replicas[replica as usize].pool;
                self.ledger.arrived(pool as usize, now);
                // What it would have paid, had its reusable prefix hit the cache.
                let lost = self.setup.served[model].sheet().charge(
                    &Usage {
                        input_uncached: (spec.prompt - spec.reusable) as u64,
                        input_cached: spec.reusable as u64,
                        output: spec.output as u64,
                        reasoning: 0,
                    },
                    minute_of_day(now),
                );
                self.ledger.lost(pool as usize, now, lost.total());
                self.ledger
                    .rejected(pool as usize, now, reason == Refusal::RateLimited);
                self.tally.calls_rejected += 1;
                self.tally.input_rejected += spec.prompt as u64;
                self.tally.output_rejected += spec.output as u64;
                self.segs[seg_idx].rejected += 1;
                self.free.push(id);
                self.rejected(owner, origin, &spec, now);
            }
        }
    }

    /// The segment of a cell-local agent (replayed traffic has one segment).
    #[inline]
    pub(super) fn segment_of(&self, owner: u32) -> usize {
        match self.agents.get(owner as usize) {
            Some(a) if self.trace.is_none() => a.segment as usize,
            _ => 0,
        }
    }
}
