//! One cell: a slice of the cluster and the agents homed on it, simulated on its own.
//!
//! The event loop is a `match` over three events. `TaskDue` (an agent's planned task start),
//! `CallIssue` (an agent sends its next call after a tool gap) and `Step` (a replica's batch
//! reaches a milestone). Handlers post to the cell's ledger; nothing outside the cell is read
//! or written, so cells run in parallel and their results merge exactly.

use crate::cluster::{Call, Cluster, Rejection, Submitted};
use crate::engine::EventQueue;
use crate::ledger::{CompletedCall, Ledger};
use crate::rng::{Subsystem, hash3, splitmix64, stream};
use crate::scenario::Setup;
use crate::time::SimTime;
use crate::workload::{Agent, CallSpec, TaskPlanning};
use tokenfleet_models::Money;
use tokenfleet_models::prices::Usage;

/// The cell's events: small, `Copy`, ids only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    TaskDue(u32),
    CallIssue(u32),
    Step(u32, u32),
    /// A pool's autoscaler decides.
    Autoscale(u16),
    /// A provisioned replica starts serving.
    ReplicaReady(u32),
}

/// Calls and tokens by state, for the conservation invariant:
/// generated = completed + rejected + in flight, for calls and for each token class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    pub calls_generated: u64,
    pub calls_completed: u64,
    pub calls_rejected: u64,
    pub calls_in_flight: u64,
    pub input_generated: u64,
    pub output_generated: u64,
    pub input_completed: u64,
    pub input_cached_completed: u64,
    pub output_completed: u64,
    pub input_rejected: u64,
    pub output_rejected: u64,
    pub input_in_flight: u64,
    pub output_in_flight: u64,
    pub compactions: u64,
    pub tasks_started: u64,
    pub events: u64,
    pub past_schedules: u64,
}

impl Tally {
    pub fn add(&mut self, o: &Tally) {
        self.calls_generated += o.calls_generated;
        self.calls_completed += o.calls_completed;
        self.calls_rejected += o.calls_rejected;
        self.calls_in_flight += o.calls_in_flight;
        self.input_generated += o.input_generated;
        self.output_generated += o.output_generated;
        self.input_completed += o.input_completed;
        self.input_cached_completed += o.input_cached_completed;
        self.output_completed += o.output_completed;
        self.input_rejected += o.input_rejected;
        self.output_rejected += o.output_rejected;
        self.input_in_flight += o.input_in_flight;
        self.output_in_flight += o.output_in_flight;
        self.compactions += o.compactions;
        self.tasks_started += o.tasks_started;
        self.events += o.events;
        self.past_schedules += o.past_schedules;
    }
}

/// One agent's day, for the budget distribution and the realized-vs-target report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgentDay {
    pub id: u64,
    pub segment: u16,
    pub budget: u64,
    pub realized: u64,
    pub tasks_planned: u32,
    pub tasks_started: u32,
    /// Itemized revenue of the agent's calls under each price set.
    pub revenue: Vec<Money>,
}

/// A sampled call, as written to calls_sample.csv.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CallRecord {
    /// Orders the bottom-k sample (uniform, deterministic).
    pub key: u64,
    pub agent: u64,
    pub segment: u16,
    pub task: u32,
    pub step: u32,
    pub compaction: bool,
    pub issued: SimTime,
    pub input_uncached: u32,
    pub input_cached: u32,
    pub output: u32,
    pub ttft: SimTime,
    pub e2e: SimTime,
    pub pool: u16,
    pub revenue: Money,
    pub revenue_blended: Money,
}

/// One cell's headline figures, for the sampling error of sampled runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CellStat {
    pub cell: u64,
    pub agents: u64,
    pub calls_completed: u64,
    pub tokens: u64,
    /// Billed itemized and blended revenue, pico-dollars.
    pub revenue_itemized: i128,
    pub revenue_blended: i128,
    pub busy_ns: u128,
    pub provisioned_ns: u128,
}

/// What a cell produced; merges exactly with other cells' results.
#[derive(Debug, Clone)]
pub struct CellResult {
    pub ledger: Ledger,
    pub tally: Tally,
    pub agent_days: Vec<AgentDay>,
    pub calls: Vec<CallRecord>,
    pub agents: u64,
    pub replicas: Vec<u64>,
    pub cell_stats: Vec<CellStat>,
}

impl CellResult {
    pub fn merge(mut self, mut o: CellResult) -> CellResult {
        self.ledger.merge(&o.ledger);
        self.tally.add(&o.tally);
        self.agent_days.append(&mut o.agent_days);
        self.calls.append(&mut o.calls);
        self.agents += o.agents;
        for (a, b) in self.replicas.iter_mut().zip(&o.replicas) {
            *a += b;
        }
        self.cell_stats.append(&mut o.cell_stats);
        self
    }
}

/// Per-call data the cell keeps beside the cluster's view of the call.
#[derive(Debug, Clone, Copy, Default)]
struct CallExtra {
    task: u32,
    step: u32,
    compaction: bool,
}

/// The agents of a cell and the replicas they use.
pub struct CellSpec {
    /// The cell's index (seeds its router).
    pub index: u64,
    /// Global ids of the agents, ascending.
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
    calls: Vec<Call>,
    extra: Vec<CallExtra>,
    free: Vec<u32>,
    cluster: Cluster<'s>,
    ledger: Ledger,
    tally: Tally,
    records: Vec<CallRecord>,
    done: Vec<u32>,
    sample_threshold: u64,
    /// Itemized revenue per agent and price set, `[agent * sets + set]`.
    agent_revenue: Vec<Money>,
    /// Reused buffer: one call's revenue under each set.
    set_buf: Vec<(Money, Money)>,
}

/// Minute of the UTC day of an instant (for time-of-day prices).
#[inline]
pub fn minute_of_day(t: SimTime) -> u32 {
    ((t.ns() / 60_000_000_000) % 1440) as u32
}

/// Simulates one cell over the setup's horizon. `progress(h)` is called as simulated hours
/// pass (with the number of hours newly passed).
pub fn run_cell(
    setup: &Setup,
    seed: u64,
    spec: &CellSpec,
    progress: &(dyn Fn(u64) + Sync),
) -> CellResult {
    let n = spec.agents.len();
    let mut agents = Vec::with_capacity(n);
    for &id in &spec.agents {
        let seg = setup
            .segments
            .partition_point(|s| s.first_agent + s.agents <= id);
        agents.push(Agent::new(id, seg as u16, &setup.segments[seg], seed));
    }
    let rate = setup.engine.calls_sample_rate;
    let mut sim = CellSim {
        setup,
        seed,
        queue: EventQueue::with_capacity(n + spec.replicas.iter().sum::<u64>() as usize + 16),
        agents,
        calls: Vec::new(),
        extra: Vec::new(),
        free: Vec::new(),
        cluster: Cluster::new(
            &setup.pools,
            setup.served.len(),
            &spec.active,
            &spec.replicas,
            n,
            stream(seed, Subsystem::Router, spec.index),
            setup.engine.stepping,
        ),
        ledger: Ledger::new(setup.pools.len(), setup.hours, setup.price_sets.len()),
        tally: Tally::default(),
        records: Vec::new(),
        done: Vec::new(),
        sample_threshold: if rate >= 1.0 {
            u64::MAX
        } else {
            (rate * u64::MAX as f64) as u64
        },
        agent_revenue: vec![Money::ZERO; n * setup.price_sets.len()],
        set_buf: Vec::with_capacity(setup.price_sets.len()),
    };
    for (p, pool) in setup.pools.iter().enumerate() {
        if let Some(a) = pool.autoscale {
            sim.queue.schedule(a.interval, Event::Autoscale(p as u16));
        }
    }
    for a in 0..n as u32 {
        let seg = &setup.segments[sim.agents[a as usize].segment as usize];
        if let Some(t) = sim.agents[a as usize].next_task_start(seg) {
            sim.queue.schedule(t, Event::TaskDue(a));
        }
    }

    let horizon = setup.horizon;
    let mut hour_reported = 0u64;
    while let Some(t) = sim.queue.peek_time() {
        if t >= horizon {
            break;
        }
        let h = t.hour() as u64;
        if h > hour_reported {
            progress(h - hour_reported);
            hour_reported = h;
        }
        let (now, ev) = sim.queue.pop().expect("peeked");
        match ev {
            Event::TaskDue(a) => sim.task_due(a, now),
            Event::CallIssue(a) => {
                let seg = &setup.segments[sim.agents[a as usize].segment as usize];
                let spec = sim.agents[a as usize].next_call(seg);
                sim.issue(a, spec, now);
            }
            Event::Step(r, v) => sim.step(r, v, now),
            Event::Autoscale(p) => {
                let actions = sim.cluster.autoscale(p as usize, &mut sim.ledger, now);
                for (t, r) in actions.ready {
                    sim.queue.schedule(t, Event::ReplicaReady(r));
                }
                if let Some(t) = actions.next_tick {
                    sim.queue.schedule(t, Event::Autoscale(p));
                }
            }
            Event::ReplicaReady(r) => sim.cluster.replica_ready(r, &mut sim.ledger, now),
        }
    }
    sim.queue.advance_to(horizon);
    progress((setup.hours as u64).saturating_sub(hour_reported));
    sim.finish(spec)
}

impl CellSim<'_> {
    fn task_due(&mut self, a: u32, now: SimTime) {
        let agent = &mut self.agents[a as usize];
        let seg = &self.setup.segments[agent.segment as usize];
        agent.task_due();
        if let Some(t) = agent.next_task_start(seg) {
            self.queue.schedule(t.max(now), Event::TaskDue(a));
        }
        self.begin(a, now);
    }

    /// Starts the agent's next pending task if it is free.
    fn begin(&mut self, a: u32, now: SimTime) {
        let agent = &mut self.agents[a as usize];
        let seg = &self.setup.segments[agent.segment as usize];
        let before = agent.task;
        if let TaskPlanning::Start(spec) = agent.begin_task(seg) {
            self.tally.tasks_started += (self.agents[a as usize].task - before) as u64;
            self.issue(a, spec, now);
        }
    }

    fn issue(&mut self, a: u32, spec: CallSpec, now: SimTime) {
        let agent = &self.agents[a as usize];
        let model = self.setup.segments[agent.segment as usize].model;
        let call = Call::new(a, spec.prompt, spec.reusable, spec.output, now);
        let extra = CallExtra {
            task: agent.task - 1,
            step: agent.step,
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
        match self
            .cluster
            .submit(model, id, &mut self.calls, &mut self.ledger, now)
        {
            Submitted::Accepted { step } => {
                let pool = self.cluster.replicas[self.calls[id as usize].replica as usize].pool;
                self.ledger.arrived(pool as usize, now);
                if let Some((t, r, v)) = step {
                    self.queue.schedule(t, Event::Step(r, v));
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
                    .rejected(pool as usize, now, reason == Rejection::RateLimited);
                self.tally.calls_rejected += 1;
                self.tally.input_rejected += spec.prompt as u64;
                self.tally.output_rejected += spec.output as u64;
                self.free.push(id);
                self.agents[a as usize].abandon();
                self.begin(a, now);
            }
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
            self.queue.schedule(t, Event::Step(r, v));
        }
        for i in 0..self.done.len() {
            let id = self.done[i];
            self.complete(id, now);
        }
    }

    fn complete(&mut self, id: u32, now: SimTime) {
        let call = self.calls[id as usize];
        let extra = self.extra[id as usize];
        let a = call.agent;
        let pool_idx = self.cluster.replicas[call.replica as usize].pool as usize;
        let pool = &self.setup.pools[pool_idx];
        let served = &self.setup.served[pool.model];
        let cached = call.hit as u64;
        let uncached = call.prompt as u64 - cached;
        let usage = Usage {
            input_uncached: uncached,
            input_cached: cached,
            output: call.output as u64,
            reasoning: 0,
        };
        // Calls are priced at the time they were made (for time-of-day prices).
        let minute = minute_of_day(call.issued);
        let tokens = call.prompt as u64 + call.output as u64;
        self.set_buf.clear();
        for p in &served.prices {
            self.set_buf
                .push((p.sheet.charge(&usage, minute).total(), p.blended.of(tokens)));
        }
        let charge = served.sheet().charge(&usage, minute);
        let blended = served.blended().of(tokens);
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

        let agent = &mut self.agents[a as usize];
        let key = splitmix64(
            hash3(self.seed, Subsystem::CallSample, agent.id)
                ^ ((extra.task as u64) << 32 | extra.step as u64),
        );
        if key <= self.sample_threshold {
            self.records.push(CallRecord {
                key,
                agent: agent.id,
                segment: agent.segment,
                task: extra.task,
                step: extra.step,
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
        let seg = &self.setup.segments[agent.segment as usize];
        let spec = CallSpec {
            prompt: call.prompt,
            reusable: call.reusable,
            output: call.output,
            compaction: extra.compaction,
        };
        match agent.complete(seg, &spec) {
            Some(gap) => {
                let at = now.saturating_add(SimTime::from_secs(gap));
                self.queue.schedule(at, Event::CallIssue(a));
            }
            None => self.begin(a, now),
        }
    }

    fn finish(mut self, spec: &CellSpec) -> CellResult {
        let horizon = self.setup.horizon;
        let mut in_flight = Vec::new();
        self.cluster
            .finish(horizon, &mut self.ledger, &mut in_flight);
        for id in in_flight {
            let c = &self.calls[id as usize];
            self.tally.calls_in_flight += 1;
            self.tally.input_in_flight += c.prompt as u64;
            self.tally.output_in_flight += c.output as u64;
        }
        self.tally.events = self.queue.processed();
        self.tally.past_schedules = self.queue.past_schedules();
        let sets = self.setup.price_sets.len();
        let agent_days = self
            .agents
            .iter()
            .enumerate()
            .map(|(i, a)| AgentDay {
                id: a.id,
                segment: a.segment,
                budget: a.budget,
                realized: a.realized,
                tasks_planned: a.tasks_total(),
                tasks_started: a.task,
                revenue: self.agent_revenue[i * sets..(i + 1) * sets].to_vec(),
            })
            .collect();
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
            agent_days,
            calls: self.records,
            agents: spec.agents.len() as u64,
            replicas: spec.replicas.clone(),
            cell_stats: vec![stat],
        }
    }
}
