//! Replaying a recorded trace on a scenario's cluster: the setup a replay runs on, the served
//! model it calls, and [`TraceCell`], the per-cell source of the trace's calls (open-loop
//! arrivals at their recorded times, or sessions that wait for each answer plus the recorded
//! think time). The trace itself, its formats and its options live in
//! `tokenfleet_workload::trace`; the cell loop that serves the calls is [`crate::cell`].

use tokenfleet_engine::time::{NS_PER_HOUR, SimTime};
use tokenfleet_setup::{ReplayOf, Setup};
use tokenfleet_workload::trace::{Item, Replay, ReplayError};
use tokenfleet_workload::{Activity, CallSpec, Profile, Segment};

use crate::event::Event;
use crate::results::AgentDay;

/// The setup a replay runs on: `base`'s cluster and prices, the replay's horizon, one
/// segment standing for the trace, and the units as "agents".
pub fn setup_for(replay: &Replay, base: &Setup, model: usize) -> Setup {
    let mut s = base.clone();
    let horizon_s = replay.horizon_s();
    s.horizon = SimTime::from_secs(horizon_s);
    s.hours = (s.horizon.ns().div_ceil(NS_PER_HOUR)).max(1) as usize;
    s.agents = replay.units();
    let flat = Profile::named("flat", 0).expect("built in");
    let activity = Activity::new(&flat, &flat, 1.0, 0, 0, horizon_s);
    let name = format!("trace:{}", replay.trace.format.name());
    let mut seg = Segment::replay(&name, model, replay.window, activity);
    seg.agents = replay.units();
    s.segments = vec![seg];
    s.replay = Some(ReplayOf {
        format: replay.trace.format.name().to_string(),
        requests: replay.calls(),
        units: replay.units(),
        unit: if replay.trace.sessions.is_empty() {
            "prefix chain"
        } else {
            "session"
        },
        // A trace of one request still has an hour's worth of no traffic: never divide by 0.
        traffic_hours: (replay.trace.span() / replay.options.speed / 3600.0).max(1.0 / 3600.0),
    });
    s
}

/// The served model a replay uses: `--trace-model`, else the one the scenario's first
/// segment calls, else the first pool's. Returns its index and usable window.
pub fn choose_model(setup: &Setup, model: Option<&str>) -> Result<(usize, u64), ReplayError> {
    let idx = match model {
        Some(id) => setup
            .served
            .iter()
            .position(|m| m.id == id && !m.pools.is_empty())
            .ok_or_else(|| {
                ReplayError::Model(
                    id.to_string(),
                    setup
                        .served
                        .iter()
                        .filter(|m| !m.pools.is_empty())
                        .map(|m| m.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            })?,
        None => setup
            .segments
            .first()
            .map(|s| s.model)
            .unwrap_or_else(|| setup.pools[0].model),
    };
    let m = &setup.served[idx];
    let window = m
        .pools
        .iter()
        .map(|&p| (m.arch.max_context as u64).min(setup.pools[p].perf.kv_capacity_tokens))
        .min()
        .unwrap_or(m.arch.max_context as u64);
    Ok((idx, window))
}

/// A request of a cell's open-loop traffic.
#[derive(Debug, Clone, Copy)]
struct Arrival {
    at: SimTime,
    unit: u32,
    req: u32,
}

/// A session context being replayed.
#[derive(Debug, Clone, Copy)]
struct Actor {
    unit: u32,
    session: u32,
    ctx: u32,
    /// The parent's actor (u32::MAX for a session).
    parent: u32,
    /// The first actor of its unit (context i is actor `base + i`).
    base: u32,
    /// Next item (absolute index into the session's items).
    pos: u32,
    waiting: u32,
}

/// One cell's replayed traffic.
pub struct TraceCell<'r> {
    replay: &'r Replay,
    seed: u64,
    units: Vec<u64>,
    realized: Vec<u64>,
    target: Vec<u64>,
    arrivals: Vec<Arrival>,
    cursor: usize,
    actors: Vec<Actor>,
    /// Per unit, the first actor (session traces).
    roots: Vec<u32>,
}

const NO_PARENT: u32 = u32::MAX;

impl<'r> TraceCell<'r> {
    /// The traffic of `units` (global unit ids).
    pub fn new(replay: &'r Replay, units: &[u64], seed: u64) -> TraceCell<'r> {
        let per_copy = replay.trace.units();
        let speed = replay.options.speed;
        let mut cell = TraceCell {
            replay,
            seed,
            units: units.to_vec(),
            realized: vec![0; units.len()],
            target: vec![0; units.len()],
            arrivals: Vec::new(),
            cursor: 0,
            actors: Vec::new(),
            roots: Vec::new(),
        };
        let tr = &replay.trace;
        for (local, &u) in units.iter().enumerate() {
            let (copy, base) = ((u / per_copy) as u32, u % per_copy);
            if tr.sessions.is_empty() {
                let shift = replay.shift(seed, copy);
                let range = tr.chain_start[base as usize]..tr.chain_start[base as usize + 1];
                for &k in &tr.chain_reqs[range.start as usize..range.end as usize] {
                    let r = &tr.requests[k as usize];
                    let at = shift + r.at / speed + replay.jitter(seed, copy, u, k as u64);
                    cell.arrivals.push(Arrival {
                        at: SimTime::from_secs(at),
                        unit: local as u32,
                        req: k,
                    });
                    let spec = replay.spec(r.input, r.output, r.reusable);
                    cell.target[local] += spec.prompt as u64 + spec.output as u64;
                }
            } else {
                let s = &tr.sessions[base as usize];
                let first = cell.actors.len() as u32;
                cell.roots.push(first);
                for (i, c) in s.contexts.iter().enumerate() {
                    cell.actors.push(Actor {
                        unit: local as u32,
                        session: base as u32,
                        ctx: i as u32,
                        parent: c.parent.map_or(NO_PARENT, |p| first + p),
                        base: first,
                        pos: c.items.start,
                        waiting: 0,
                    });
                }
                for c in &s.calls {
                    let spec = replay.spec(c.input, c.output, c.reusable);
                    cell.target[local] += spec.prompt as u64 + spec.output as u64;
                }
            }
        }
        cell.arrivals.sort_by_key(|a| (a.at, a.unit, a.req));
        cell
    }

    /// Prefix-cache owners needed: one per unit (request traces) or per context (sessions).
    pub fn slots(&self) -> usize {
        self.units.len().max(self.actors.len())
    }

    /// The first events: the first arrival, and each session's first request.
    pub fn start(&mut self, out: &mut Vec<(SimTime, Event)>) {
        if let Some(a) = self.arrivals.first() {
            out.push((a.at, Event::Arrive(0)));
        }
        let per_copy = self.replay.trace.units();
        for i in 0..self.roots.len() {
            let root = self.roots[i];
            let unit = self.units[self.actors[root as usize].unit as usize];
            let t = SimTime::from_secs(self.replay.shift(self.seed, (unit / per_copy) as u32));
            self.advance(root, t, out);
        }
    }

    /// Arrival `i`: (unit, prefix owner, call, step).
    pub fn arrival(&mut self, i: u32) -> (u32, u32, CallSpec, u32) {
        let a = self.arrivals[i as usize];
        self.cursor = i as usize + 1;
        let r = &self.replay.trace.requests[a.req as usize];
        (
            a.unit,
            a.unit,
            self.replay.spec(r.input, r.output, r.reusable),
            a.req,
        )
    }

    /// The arrival after the last one issued.
    pub fn next_arrival(&mut self) -> Option<(SimTime, Event)> {
        self.arrivals
            .get(self.cursor)
            .map(|a| (a.at, Event::Arrive(self.cursor as u32)))
    }

    /// The request actor `actor` sends now: (unit, call, step).
    pub fn session_call(&mut self, actor: u32) -> (u32, CallSpec, u32) {
        let a = self.actors[actor as usize];
        let s = &self.replay.trace.sessions[a.session as usize];
        let Item::Call(k) = s.items[a.pos as usize] else {
            unreachable!("an actor issues only at a call item")
        };
        let c = &s.calls[k as usize];
        (a.unit, self.replay.spec(c.input, c.output, c.reusable), k)
    }

    /// Actor `actor`'s request was answered (or rejected) at `now`: schedule what follows.
    pub fn session_answered(&mut self, actor: u32, now: SimTime, out: &mut Vec<(SimTime, Event)>) {
        self.actors[actor as usize].pos += 1;
        self.advance(actor, now, out);
    }

    /// Moves `actor` to its next request (scheduled after its think time), starts the
    /// sub-agents it spawns, or ends it and resumes its parent.
    fn advance(&mut self, actor: u32, now: SimTime, out: &mut Vec<(SimTime, Event)>) {
        let per_copy = self.replay.trace.units();
        let a = self.actors[actor as usize];
        let s = &self.replay.trace.sessions[a.session as usize];
        let end = s.contexts[a.ctx as usize].items.end;
        if a.pos >= end {
            if a.parent != NO_PARENT {
                let p = &mut self.actors[a.parent as usize];
                p.waiting -= 1;
                if p.waiting == 0 {
                    p.pos += 1;
                    self.advance(a.parent, now, out);
                }
            }
            return;
        }
        match s.items[a.pos as usize] {
            Item::Call(k) => {
                let unit = self.units[a.unit as usize];
                let copy = (unit / per_copy) as u32;
                let think = s.calls[k as usize].think / self.replay.options.speed
                    + self.replay.jitter(self.seed, copy, unit, k as u64);
                out.push((
                    now.saturating_add(SimTime::from_secs(think)),
                    Event::SessionIssue(actor),
                ));
            }
            Item::Spawn { first, count } => {
                if count == 0 {
                    self.actors[actor as usize].pos += 1;
                    return self.advance(actor, now, out);
                }
                self.actors[actor as usize].waiting = count;
                for j in first..first + count {
                    let child = a.base + s.children[j as usize];
                    self.advance(child, now, out);
                }
            }
        }
    }

    /// Tokens of a completed call of unit `local`.
    pub fn spent(&mut self, local: u32, tokens: u64) {
        self.realized[local as usize] += tokens;
    }

    /// The global id of unit `local`.
    pub fn unit_id(&self, local: u32) -> u64 {
        self.units[local as usize]
    }

    /// Realized against recorded tokens per unit.
    pub fn unit_days(&self) -> Vec<AgentDay> {
        self.units
            .iter()
            .enumerate()
            .map(|(i, &id)| AgentDay {
                id,
                segment: 0,
                budget: self.target[i],
                target: self.target[i],
                realized: self.realized[i],
                tasks_planned: 1,
                tasks_started: 1,
                tasks_completed: u32::from(self.realized[i] >= self.target[i]),
                revenue: Vec::new(),
            })
            .collect()
    }
}
