//! The cell's state and its event loop.
//!
//! [`CellSim`] holds everything a cell simulates: its agents and sub-agents (or the replayed
//! trace), the calls in flight in a slab with the ids of free slots, its [`Cluster`], its
//! ledger and tallies. The loop pops events in (time, sequence) order up to the horizon and
//! hands each to its handler; the handlers live beside it ([`super::issue`],
//! [`super::complete`], [`super::demand`]) as methods of the same state, called directly.

use tokenfleet_engine::queue::{EventQueue, Lane};
use tokenfleet_engine::rng::{Subsystem, stream};
use tokenfleet_engine::time::SimTime;
use tokenfleet_serving::cluster::{Call, Cluster};
use tokenfleet_serving::ledger::Ledger;
use tokenfleet_setup::Setup;
use tokenfleet_workload::trace::Replay;

use crate::event::Event;
use crate::replay::TraceCell;
use crate::results::{AgentDay, CallRecord, CellResult, CellStat, SegmentTally, Tally};
use tokenfleet_models::Money;
use tokenfleet_workload::{Agent, SubAgent};

/// Who sent a call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Origin {
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
pub(super) struct CallExtra {
    /// The agent's (or replayed unit's) index in the cell.
    pub(super) owner: u32,
    pub(super) task: u32,
    pub(super) step: u32,
    pub(super) reasoning: u32,
    pub(super) origin: Origin,
    pub(super) compaction: bool,
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

/// A cell being simulated: its demand, its cluster and what it has booked so far.
pub(super) struct CellSim<'s> {
    pub(super) setup: &'s Setup,
    pub(super) seed: u64,
    pub(super) queue: EventQueue<Event>,
    pub(super) agents: Vec<Agent>,
    pub(super) subs: Vec<SubAgent>,
    /// Sub-agent slots per agent.
    pub(super) fanout: u32,
    pub(super) trace: Option<TraceCell<'s>>,
    /// Reused buffer of events produced by the trace replay.
    pub(super) pending: Vec<(SimTime, Event)>,
    pub(super) calls: Vec<Call>,
    pub(super) extra: Vec<CallExtra>,
    pub(super) free: Vec<u32>,
    pub(super) cluster: Cluster<'s>,
    pub(super) ledger: Ledger,
    pub(super) tally: Tally,
    pub(super) segs: Vec<SegmentTally>,
    pub(super) records: Vec<CallRecord>,
    pub(super) done: Vec<u32>,
    pub(super) sample_threshold: u64,
    /// Itemized revenue per agent and price set, `[agent * sets + set]`.
    pub(super) agent_revenue: Vec<Money>,
    /// Reused buffer: one call's revenue under each set.
    pub(super) set_buf: Vec<(Money, Money)>,
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
