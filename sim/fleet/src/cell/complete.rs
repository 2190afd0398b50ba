//! A replica's milestone and the calls it completes: billing and booking.
//!
//! A completed call is priced under every price set at the minute it was made (for
//! time-of-day prices), the first set billed itemized and the others as totals; the SLA's
//! refund is owed on the billed charge if the call was late. It is posted to the ledger,
//! tallied for the cell and its segment, and sampled into the call records by a hash of its
//! identity (so the sample does not depend on the cell or thread it ran on). Then its owner
//! moves on ([`super::demand`]).

use tokenfleet_engine::queue::Lane;
use tokenfleet_engine::rng::{Subsystem, hash3, splitmix64};
use tokenfleet_engine::time::SimTime;
use tokenfleet_models::Money;
use tokenfleet_models::prices::{Charge, Usage};
use tokenfleet_serving::ledger::CompletedCall;
use tokenfleet_workload::CallSpec;

use super::sim::{CellSim, Origin};
use crate::event::Event;
use crate::results::{CallRecord, minute_of_day};

impl CellSim<'_> {
    pub(super) fn step(&mut self, r: u32, v: u32, now: SimTime) {
        let Some((done, next)) = self
            .cluster
            .step(r, v, &mut self.calls, &mut self.ledger, now)
        else {
            return; // stale: the replica was re-planned since
        };
        self.done.clear();
        self.done.extend_from_slice(done);
        if let Some((t, r, v)) = next {
            self.queue.schedule_in(Lane::Fast, t, Event::Step(r, v));
        }
        for i in 0..self.done.len() {
            let id = self.done[i];
            self.complete(id, now);
        }
    }

    fn complete(&mut self, id: u32, now: SimTime) {
        let call = self.calls[id as usize];
        let extra = self.extra[id as usize];
        let a = extra.owner;
        let pool_idx = self.cluster.replicas[call.replica as usize].pool as usize;
        let pool = &self.setup.pools[pool_idx];
        let served = &self.setup.served[pool.model];
        let cached = call.hit as u64;
        let uncached = call.prompt as u64 - cached;
        // The decoded output includes the reasoning tokens; sheets bill them at their own
        // rate (the output rate where the sheet gives none).
        let reasoning = (extra.reasoning as u64).min(call.output as u64);
        let usage = Usage {
            input_uncached: uncached,
            input_cached: cached,
            output: call.output as u64 - reasoning,
            reasoning,
        };
        // Calls are priced at the time they were made (for time-of-day prices).
        let minute = minute_of_day(call.issued);
        let tokens = call.prompt as u64 + call.output as u64;
        // The first price set is the billed one (`ServedModel::sheet`): its itemized charge
        // is kept whole, the others' only as totals.
        self.set_buf.clear();
        let mut charge = Charge::default();
        for (i, p) in served.prices.iter().enumerate() {
            let c = p.sheet.charge(&usage, minute);
            if i == 0 {
                charge = c;
            }
            self.set_buf.push((c.total(), p.blended.of(tokens)));
        }
        let blended = self.set_buf[0].1;
        let ttft = call.first_token.saturating_sub(call.issued);
        let e2e = now.saturating_sub(call.issued);
        let late = self
            .setup
            .sla
            .is_some_and(|s| s.ttft.is_some_and(|t| ttft > t) || s.e2e.is_some_and(|t| e2e > t));
        let penalty = match (late, self.setup.sla) {
            (true, Some(s)) => {
                Money::from_pico(charge.total().pico() * s.penalty_ppm as i128 / 1_000_000)
            }
            _ => Money::ZERO,
        };
        let sets = self.setup.price_sets.len();
        for (k, (itemized, _)) in self.set_buf.iter().enumerate() {
            self.agent_revenue[a as usize * sets + k] += *itemized;
        }
        self.ledger.completed(
            &CompletedCall {
                pool: pool_idx,
                finished: now,
                uncached,
                cached,
                reusable: call.reusable as u64,
                output: call.output as u64,
                charge,
                blended,
                ttft,
                e2e,
                penalty,
                late,
            },
            &self.set_buf,
        );
        let t = &mut self.tally;
        t.calls_completed += 1;
        t.input_completed += call.prompt as u64;
        t.input_cached_completed += cached;
        t.output_completed += call.output as u64;

        let seg_idx = self.segment_of(a);
        let st = &mut self.segs[seg_idx];
        st.calls_completed += 1;
        st.input += call.prompt as u64;
        st.input_cached += cached;
        st.output += call.output as u64;
        st.reasoning += extra.reasoning as u64;
        st.compactions += extra.compaction as u64;
        st.subagent_calls += matches!(extra.origin, Origin::Sub(_)) as u64;
        st.input_per_call.record(call.prompt as u64).ok();
        st.output_per_call.record(call.output as u64).ok();

        let (agent_id, subagent) = match extra.origin {
            Origin::Agent | Origin::Open => (self.agents[a as usize].id, 0),
            Origin::Sub(slot) => (self.agents[a as usize].id, (slot % self.fanout + 1) as u8),
            Origin::Arrival | Origin::Session(_) => {
                (self.trace.as_ref().expect("replay cell").unit_id(a), 0)
            }
        };
        let key = splitmix64(
            hash3(self.seed, Subsystem::CallSample, agent_id)
                ^ ((extra.task as u64) << 32 | extra.step as u64)
                ^ ((subagent as u64) << 56),
        );
        if key <= self.sample_threshold {
            self.records.push(CallRecord {
                key,
                agent: agent_id,
                segment: seg_idx as u16,
                task: extra.task,
                step: extra.step,
                subagent,
                compaction: extra.compaction,
                issued: call.issued,
                input_uncached: uncached as u32,
                input_cached: cached as u32,
                output: call.output,
                ttft,
                e2e,
                pool: pool_idx as u16,
                revenue: charge.total(),
                revenue_blended: blended,
            });
        }

        self.free.push(id);
        let spec = CallSpec {
            prompt: call.prompt,
            reusable: call.reusable,
            output: call.output,
            reasoning: extra.reasoning,
            compaction: extra.compaction,
        };
        match extra.origin {
            Origin::Agent => self.agent_answered(a, &spec, now),
            Origin::Open => {
                let task = extra.task;
                self.agents[a as usize].spent(spec.prompt as u64 + spec.output as u64, task);
            }
            Origin::Sub(slot) => self.sub_answered(a, slot, &spec, now),
            Origin::Arrival => {
                let tokens = spec.prompt as u64 + spec.output as u64;
                self.trace.as_mut().expect("replay cell").spent(a, tokens);
            }
            Origin::Session(actor) => {
                let tokens = spec.prompt as u64 + spec.output as u64;
                self.trace.as_mut().expect("replay cell").spent(a, tokens);
                self.session_answered(actor, now);
            }
        }
    }
}
