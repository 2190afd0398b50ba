//! One cell: a slice of the cluster and the demand homed on it, simulated on its own.
//!
//! The event loop is a `match` over a few events: `TaskDue` (an agent's planned task start),
//! `CallIssue` (an agent sends its next call after a tool gap or a retry backoff), `SubIssue`
//! (a sub-agent does), `Step` (a replica's batch reaches a milestone), and for trace replay
//! `Arrive` (a recorded request's time came) and `SessionIssue` (a replayed session sends its
//! next request). Handlers post to the cell's ledger; nothing outside the cell is read or
//! written, so cells run in parallel and their results merge exactly.
//!
//! The cluster knows a call's `agent` only as the owner of a prefix-cache entry (and for
//! affinity routing). Agents use their index in the cell; sub-agents, which have contexts of
//! their own, use `agents + agent * max_fanout + j`; replayed traffic uses its session or
//! prefix chain.

use tokenfleet_engine::queue::{EventQueue, Lane};
use tokenfleet_engine::rng::{Subsystem, hash3, splitmix64, stream};
use tokenfleet_engine::time::SimTime;
use tokenfleet_serving::cluster::{Call, Cluster, Rejection as Refusal, Submitted};
use tokenfleet_serving::ledger::{CompletedCall, Ledger};
use tokenfleet_setup::Setup;
use tokenfleet_workload::trace::Replay;

use crate::event::Event;
use crate::replay::TraceCell;
use crate::results::minute_of_day;
use crate::results::{AgentDay, CallRecord, CellResult, CellStat, SegmentTally, Tally};
use tokenfleet_models::Money;
use tokenfleet_models::prices::{Charge, Usage};
use tokenfleet_workload::{After, Agent, CallSpec, Rejection, SegmentKind, SubAgent, TaskPlanning};

/// Who sent a call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Origin {
    #[default]
    Agent,
    /// Sub-agent slot.
    Sub(u32),
    /// An open-loop agent (its next call is already scheduled).
    Open,
    /// Replayed request (open loop).
    Arrival,
    /// Replayed session context.
    Session(u32),
}

/// Per-call data the cell keeps beside the cluster's view of the call.
#[derive(Debug, Clone, Copy, Default)]
struct CallExtra {
    /// The agent's (or replayed unit's) index in the cell.
    owner: u32,
    task: u32,
    step: u32,
    reasoning: u32,
    origin: Origin,
    compaction: bool,
}

/// The agents (or replayed units) of a cell and the replicas they use.
pub struct CellSpec {
    /// The cell's index (seeds its router).
    pub index: u64,
    /// Global ids of the agents (or units), ascending.
    pub agents: Vec<u64>,
    /// Replicas of each pool (the most it may have).
    pub replicas: Vec<u64>,
    /// Replicas of each pool serving at the start.
    pub active: Vec<u64>,
}

struct CellSim<'s> {
    setup: &'s Setup,
    seed: u64,
    queue: EventQueue<Event>,
    agents: Vec<Agent>,
    subs: Vec<SubAgent>,
    /// Sub-agent slots per agent.
    fanout: u32,
    trace: Option<TraceCell<'s>>,
    /// Reused buffer of events produced by the trace replay.
    pending: Vec<(SimTime, Event)>,
    calls: Vec<Call>,
    extra: Vec<CallExtra>,
    free: Vec<u32>,
    cluster: Cluster<'s>,
    ledger: Ledger,
    tally: Tally,
    segs: Vec<SegmentTally>,
    records: Vec<CallRecord>,
    done: Vec<u32>,
    sample_threshold: u64,
    /// Itemized revenue per agent and price set, `[agent * sets + set]`.
    agent_revenue: Vec<Money>,
    /// Reused buffer: one call's revenue under each set.
    set_buf: Vec<(Money, Money)>,
}

impl<'s> CellSim<'s> {
    fn new(setup: &'s Setup, seed: u64, spec: &CellSpec, slots: usize) -> CellSim<'s> {
        let rate = setup.engine.calls_sample_rate;
        let sets = setup.price_sets.len();
        let mut sim = CellSim {
            setup,
            seed,
            queue: EventQueue::with_capacity(
                spec.agents.len() + spec.replicas.iter().sum::<u64>() as usize + 16,
            ),
            agents: Vec::new(),
            subs: Vec::new(),
            fanout: 0,
            trace: None,
            pending: Vec::new(),
            calls: Vec::new(),
            extra: Vec::new(),
            free: Vec::new(),
            cluster: Cluster::new(
                &setup.pools,
                setup.served.len(),
                &spec.active,
                &spec.replicas,
                slots,
                stream(seed, Subsystem::Router, spec.index),
                setup.engine.stepping,
            ),
            ledger: Ledger::new(setup.pools.len(), setup.hours, sets),
            tally: Tally::default(),
            segs: vec![SegmentTally::default(); setup.segments.len()],
            records: Vec::new(),
            done: Vec::new(),
            sample_threshold: if rate >= 1.0 {
                u64::MAX
            } else {
                (rate * u64::MAX as f64) as u64
            },
            agent_revenue: vec![Money::ZERO; spec.agents.len() * sets],
            set_buf: Vec::with_capacity(sets),
        };
        for (p, pool) in setup.pools.iter().enumerate() {
            if let Some(a) = pool.autoscale {
                sim.queue.schedule(a.interval, Event::Autoscale(p as u16));
            }
        }
        sim
    }

    /// Runs the event loop to the horizon.
    fn run(&mut self, progress: &(dyn Fn(u64) + Sync)) {
        let horizon = self.setup.horizon;
        let mut hour_reported = 0u64;
        let mut events = 0u32;
        while let Some((now, ev)) = self.queue.pop_before(horizon) {
            let h = now.hour() as u64;
            if h > hour_reported {
                progress(h - hour_reported);
                hour_reported = h;
            }
            // An interrupted run is thrown away: stop within a few milliseconds of asking.
            events = events.wrapping_add(1);
            if events.is_multiple_of(4096) && tokenfleet_engine::interrupt::requested() {
                return;
            }
            match ev {
                Event::TaskDue(a) => self.task_due(a, now),
                Event::CallIssue(a) => {
                    let agent = &mut self.agents[a as usize];
                    let seg = &self.setup.segments[agent.segment as usize];
                    let spec = agent.next_call(seg);
                    self.issue_own(a, spec, now);
                }
                Event::SubIssue(slot) => {
                    let a = slot / self.fanout;
                    let seg = &self.setup.segments[self.agents[a as usize].segment as usize];
                    let spec = self.subs[slot as usize].next_call(seg);
                    self.issue(a, Origin::Sub(slot), spec, now);
                }
                Event::Step(r, v) => self.step(r, v, now),
                Event::Arrive(i) => self.arrive(i, now),
                Event::SessionIssue(actor) => {
                    let trace = self.trace.as_mut().expect("replay cell");
                    let (unit, spec, step) = trace.session_call(actor);
                    self.issue_call(unit, Origin::Session(actor), actor, spec, 0, step, now);
                }
                Event::Autoscale(p) => {
                    let actions =
                        self.cluster
                            .autoscale(p as usize, &mut self.calls, &mut self.ledger, now);
                    for (t, r) in actions.ready {
                        self.queue.schedule(t, Event::ReplicaReady(r));
                    }
                    for (t, r, v) in actions.steps {
                        self.queue.schedule(t, Event::Step(r, v));
                    }
                    if let Some(t) = actions.next_tick {
                        self.queue.schedule(t, Event::Autoscale(p));
                    }
                }
                Event::ReplicaReady(r) => {
                    let step =
                        self.cluster
                            .replica_ready(r, &mut self.calls, &mut self.ledger, now);
                    if let Some((t, r, v)) = step {
                        self.queue.schedule(t, Event::Step(r, v));
                    }
                }
            }
        }
        self.queue.advance_to(horizon);
        progress((self.setup.hours as u64).saturating_sub(hour_reported));
    }

    fn task_due(&mut self, a: u32, now: SimTime) {
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

    /// Issues a call of agent `a`'s own loop. An open-loop agent does not wait for the answer:
    /// its next call is scheduled now.
    fn issue_own(&mut self, a: u32, spec: CallSpec, now: SimTime) {
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
    fn issue(&mut self, a: u32, origin: Origin, spec: CallSpec, now: SimTime) {
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
    fn issue_call(
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
    fn segment_of(&self, owner: u32) -> usize {
        match self.agents.get(owner as usize) {
            Some(a) if self.trace.is_none() => a.segment as usize,
            _ => 0,
        }
    }

    /// A call was rejected: retry after a backoff, or give up.
    fn rejected(&mut self, a: u32, origin: Origin, spec: &CallSpec, now: SimTime) {
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

    fn step(&mut self, r: u32, v: u32, now: SimTime) {
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

    /// A call of agent `a`'s own loop completed.
    fn agent_answered(&mut self, a: u32, spec: &CallSpec, now: SimTime) {
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
    fn sub_answered(&mut self, a: u32, slot: u32, spec: &CallSpec, now: SimTime) {
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
    fn arrive(&mut self, i: u32, now: SimTime) {
        let trace = self.trace.as_mut().expect("replay cell");
        let (unit, slot, spec, step) = trace.arrival(i);
        if let Some((t, ev)) = trace.next_arrival() {
            self.queue.schedule(t.max(now), ev);
        }
        self.issue_call(unit, Origin::Arrival, slot, spec, 0, step, now);
    }

    /// A replayed session's request completed or was rejected: the session moves on.
    fn session_answered(&mut self, actor: u32, now: SimTime) {
        let trace = self.trace.as_mut().expect("replay cell");
        self.pending.clear();
        trace.session_answered(actor, now, &mut self.pending);
        for i in 0..self.pending.len() {
            let (t, ev) = self.pending[i];
            self.queue.schedule(t.max(now), ev);
        }
    }

    fn finish(mut self, spec: &CellSpec) -> CellResult {
        let horizon = self.setup.horizon;
        let mut in_flight = Vec::new();
        self.cluster
            .finish(horizon, &mut self.ledger, &mut in_flight);
        for id in in_flight {
            let c = &self.calls[id as usize];
            let pool = self.cluster.replicas[c.replica as usize].pool as usize;
            self.ledger
                .in_flight(pool, horizon, horizon.saturating_sub(c.issued));
            self.tally.calls_in_flight += 1;
            self.tally.input_in_flight += c.prompt as u64;
            self.tally.output_in_flight += c.output as u64;
        }
        self.tally.events = self.queue.processed();
        self.tally.past_schedules = self.queue.past_schedules();
        let sets = self.setup.price_sets.len();
        let mut agent_days = match &self.trace {
            Some(trace) => trace.unit_days(),
            None => self
                .agents
                .iter()
                .map(|a| AgentDay {
                    id: a.id,
                    segment: a.segment,
                    budget: a.daily,
                    target: a.budget,
                    realized: a.realized,
                    tasks_planned: a.tasks_total(),
                    tasks_started: a.task,
                    tasks_completed: a.tasks_done,
                    revenue: Vec::new(),
                })
                .collect(),
        };
        for (i, d) in agent_days.iter_mut().enumerate() {
            d.revenue = self
                .agent_revenue
                .get(i * sets..(i + 1) * sets)
                .map_or_else(|| vec![Money::ZERO; sets], <[Money]>::to_vec);
        }
        let t = self.ledger.total();
        let stat = CellStat {
            cell: spec.index,
            agents: spec.agents.len() as u64,
            calls_completed: t.calls_completed,
            tokens: t.input_uncached + t.input_cached + t.output,
            revenue_itemized: t.revenue_itemized().pico(),
            revenue_blended: t.revenue_blended.pico(),
            busy_ns: t.busy_ns,
            provisioned_ns: t.provisioned_ns,
        };
        CellResult {
            ledger: self.ledger,
            tally: self.tally,
            segments: self.segs,
            agent_days,
            calls: self.records,
            agents: spec.agents.len() as u64,
            replicas: spec.replicas.clone(),
            cell_stats: vec![stat],
        }
    }
}

/// Simulates one cell of the fleet over the setup's horizon. `progress(h)` is called as
/// simulated hours pass (with the number of hours newly passed).
pub fn run_cell(
    setup: &Setup,
    seed: u64,
    spec: &CellSpec,
    progress: &(dyn Fn(u64) + Sync),
) -> CellResult {
    let n = spec.agents.len();
    let fanout = setup
        .segments
        .iter()
        .filter_map(|s| s.subagents.as_ref().map(|x| x.max_fanout))
        .max()
        .unwrap_or(0);
    // Sub-agents own prefix-cache entries after the agents'.
    let mut sim = CellSim::new(setup, seed, spec, n + n * fanout as usize);
    sim.fanout = fanout.max(1);
    sim.agents = Vec::with_capacity(n);
    for &id in &spec.agents {
        let seg = setup
            .segments
            .partition_point(|s| s.first_agent + s.agents <= id);
        sim.agents
            .push(Agent::new(id, seg as u16, &setup.segments[seg], seed));
    }
    if fanout > 0 {
        sim.subs = vec![SubAgent::idle(); n * fanout as usize];
    }
    for a in 0..n as u32 {
        let seg = &setup.segments[sim.agents[a as usize].segment as usize];
        if let Some(t) = sim.agents[a as usize].next_task_start(seg) {
            sim.queue.schedule_in(Lane::Slow, t, Event::TaskDue(a));
        }
    }
    sim.run(progress);
    sim.finish(spec)
}

/// Simulates one cell of replayed traffic: the units (sessions, prefix chains or requests,
/// times copies) in `spec.agents`.
pub fn run_replay_cell<'s>(
    setup: &'s Setup,
    replay: &'s Replay,
    seed: u64,
    spec: &CellSpec,
    progress: &(dyn Fn(u64) + Sync),
) -> CellResult {
    let mut trace = TraceCell::new(replay, &spec.agents, seed);
    let mut sim = CellSim::new(setup, seed, spec, trace.slots());
    trace.start(&mut sim.pending);
    for i in 0..sim.pending.len() {
        let (t, ev) = sim.pending[i];
        sim.queue.schedule(t, ev);
    }
    sim.pending.clear();
    sim.trace = Some(trace);
    sim.run(progress);
    sim.finish(spec)
}
