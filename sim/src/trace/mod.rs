//! Trace replay: recorded traffic on a scenario's cluster and prices.
//!
//! Two kinds of trace. **Request traces** (Azure's CSV, Mooncake's JSONL) are open loop: every
//! row is one call issued at its recorded time, whatever the cluster does. **Session traces**
//! (Claude Code's JSON) are closed loop: a session's next request waits for the previous
//! answer plus the recorded think time, and sub-agents start together where the session spawns
//! them, the parent waiting for all of them (as Claude Code's Task tool does). Either way every
//! recorded request becomes exactly one call: rejected calls are not retried (a session moves
//! on).
//!
//! **Prefix reuse.** The prefix cache holds one context per owner. Session contexts own one
//! each and reuse the block-id prefix they share with their previous request. Mooncake
//! requests are grouped into prefix chains by their block ids (see [`parse::chain_by_prefix`]);
//! Azure rows carry no prefix information and reuse nothing.
//!
//! **Fleet.** `copies` multiplies the trace: copy 0 is the recording; copy k >= 1 starts
//! shifted by a uniform draw over the trace's span, and each of its requests (think times for
//! sessions) gets an independent uniform jitter in [0, `jitter`). `speed` divides every time.
//! A unit (a request, a prefix chain or a session, times copies) is the unit of cells: unit u
//! lives in cell u mod cells, as agents do.

mod locate;
pub mod parse;

use std::ops::Range;
use std::time::Instant;

use crate::cell::{AgentDay, CellSpec, Event, run_replay_cell};
use crate::rng::{Subsystem, hash_unit, hash3};
use crate::run::{Layout, RunOutput, merge_cells};
use crate::scenario::{Sample, Setup};
use crate::time::{NS_PER_HOUR, SimTime};
use crate::workload::{Activity, CallSpec, Profile, Segment};

pub use parse::{TraceError, guess_format, read};

/// Trace file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Azure,
    Mooncake,
    ClaudeCode,
}

impl Format {
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "azure" => Some(Format::Azure),
            "mooncake" => Some(Format::Mooncake),
            "claude-code" => Some(Format::ClaudeCode),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Format::Azure => "azure",
            Format::Mooncake => "mooncake",
            Format::ClaudeCode => "claude-code",
        }
    }
}

/// One recorded request of a request trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Request {
    /// Seconds since the trace's first request.
    pub at: f64,
    pub input: u32,
    pub output: u32,
    /// Leading input tokens shared with the chain's previous request.
    pub reusable: u32,
    /// The prefix chain (its own for requests that share nothing).
    pub chain: u32,
}

/// A step of a session context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// Send request `calls[k]`.
    Call(u32),
    /// Start the sub-agent contexts `children[first..first + count]` and wait for them.
    Spawn { first: u32, count: u32 },
}

/// One request of a session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionCall {
    pub input: u32,
    pub output: u32,
    pub reusable: u32,
    /// Seconds between the previous answer (or the context's start) and this request.
    pub think: f64,
}

/// A context: the session itself or a sub-agent, with its own prefix cache entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    /// Its items in `Session::items`.
    pub items: Range<u32>,
    pub parent: Option<u32>,
}

/// A recorded agent session (context 0 is the session itself).
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub name: String,
    pub contexts: Vec<Context>,
    pub items: Vec<Item>,
    pub children: Vec<u32>,
    pub calls: Vec<SessionCall>,
    /// Recorded length in seconds (last request's time plus its API time).
    pub span: f64,
}

/// A parsed trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    pub format: Format,
    pub file: String,
    /// Request traces: sorted by time.
    pub requests: Vec<Request>,
    /// Request traces: requests of chain c are `chain_reqs[chain_start[c]..chain_start[c+1]]`.
    pub chain_start: Vec<u32>,
    pub chain_reqs: Vec<u32>,
    /// Session traces.
    pub sessions: Vec<Session>,
    /// Requests in the file: the calls one copy makes.
    pub rows: u64,
}

impl Trace {
    pub fn from_requests(format: Format, file: String, requests: Vec<Request>) -> Trace {
        let chains = requests.iter().map(|r| r.chain + 1).max().unwrap_or(0) as usize;
        let mut count = vec![0u32; chains + 1];
        for r in &requests {
            count[r.chain as usize + 1] += 1;
        }
        for c in 0..chains {
            count[c + 1] += count[c];
        }
        let mut fill = count.clone();
        let mut chain_reqs = vec![0u32; requests.len()];
        for (i, r) in requests.iter().enumerate() {
            chain_reqs[fill[r.chain as usize] as usize] = i as u32;
            fill[r.chain as usize] += 1;
        }
        Trace {
            format,
            file,
            rows: requests.len() as u64,
            requests,
            chain_start: count,
            chain_reqs,
            sessions: Vec::new(),
        }
    }

    pub fn from_sessions(format: Format, file: String, sessions: Vec<Session>) -> Trace {
        Trace {
            format,
            file,
            rows: sessions.iter().map(|s| s.calls.len() as u64).sum(),
            requests: Vec::new(),
            chain_start: vec![0],
            chain_reqs: Vec::new(),
            sessions,
        }
    }

    /// Units of one copy: prefix chains (request traces) or sessions.
    pub fn units(&self) -> u64 {
        if self.sessions.is_empty() {
            (self.chain_start.len() - 1) as u64
        } else {
            self.sessions.len() as u64
        }
    }

    /// Recorded length in seconds.
    pub fn span(&self) -> f64 {
        let r = self.requests.last().map_or(0.0, |r| r.at);
        let s = self.sessions.iter().map(|s| s.span).fold(0.0, f64::max);
        r.max(s)
    }

    /// Input tokens a prefix cache could serve, over all input (the trace's prefix reuse).
    pub fn reusable_share(&self) -> f64 {
        let (mut reuse, mut input) = (0u64, 0u64);
        for r in &self.requests {
            reuse += r.reusable as u64;
            input += r.input as u64;
        }
        for c in self.sessions.iter().flat_map(|s| &s.calls) {
            reuse += c.reusable as u64;
            input += c.input as u64;
        }
        if input == 0 {
            0.0
        } else {
            reuse as f64 / input as f64
        }
    }
}

/// How to replay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplayOptions {
    /// Time runs this many times faster (0.5: twice as slow).
    pub speed: f64,
    /// Copies of the trace.
    pub copies: u32,
    /// Upper bound of the uniform jitter added to copies' request times (seconds).
    pub jitter_s: f64,
    /// The horizon; default: the replay's span plus an hour to drain, in whole hours.
    pub duration_s: Option<f64>,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            speed: 1.0,
            copies: 1,
            jitter_s: 1.0,
            duration_s: None,
        }
    }
}

/// A trace ready to replay on a setup.
#[derive(Debug, Clone)]
pub struct Replay {
    pub trace: Trace,
    pub options: ReplayOptions,
    /// Calls whose prompt was cut to fit the model's window (prompt + output <= window).
    pub clipped: u64,
    /// The usable window of the served model, in tokens.
    pub window: u64,
}

/// Why a replay cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReplayError {
    #[error("--trace-model {0}: no pool serves it; models served: {1}")]
    Model(String, String),
    #[error("{0}")]
    Options(String),
}

impl Replay {
    /// Prepares `trace` for `setup`'s cluster: the model's window bounds every call.
    pub fn new(trace: Trace, options: ReplayOptions, window: u64) -> Result<Replay, ReplayError> {
        if !(options.speed.is_finite() && options.speed > 0.0) {
            return Err(ReplayError::Options(format!(
                "--trace-speed {}: must be a positive number",
                options.speed
            )));
        }
        if options.copies == 0 {
            return Err(ReplayError::Options(
                "--trace-copies 0: need at least one copy".into(),
            ));
        }
        if !(options.jitter_s.is_finite() && options.jitter_s >= 0.0) {
            return Err(ReplayError::Options(
                "--trace-jitter: must be a non-negative duration".into(),
            ));
        }
        let units = trace.units() as u128 * options.copies as u128;
        if units > u32::MAX as u128 / 2 || trace.rows as u128 * options.copies as u128 > 1 << 40 {
            return Err(ReplayError::Options(format!(
                "--trace-copies {}: {} copies of {} units is beyond what one run replays",
                options.copies,
                options.copies,
                trace.units()
            )));
        }
        if let Some(d) = options.duration_s
            && !(d > 0.0 && d <= parse::MAX_SPAN_S)
        {
            return Err(ReplayError::Options(
                "--trace-duration: must be positive and at most 366 days".into(),
            ));
        }
        let mut r = Replay {
            trace,
            options,
            clipped: 0,
            window,
        };
        // The horizon sizes the hourly ledger: a slowed-down or jittered replay of a long trace
        // must not ask for centuries of it.
        let horizon = r.horizon_s();
        if !horizon.is_finite() || horizon > parse::MAX_SPAN_S + 2.0 * 3600.0 {
            return Err(ReplayError::Options(format!(
                "--trace-speed {} --trace-copies {} --trace-jitter {}s: the replay would last {} days (the trace spans {} days; copies start over twice its span); accepted: at most 366 days; raise --trace-speed, lower --trace-jitter or give --trace-duration",
                crate::text::num(options.speed),
                options.copies,
                crate::text::num(options.jitter_s),
                crate::text::num((horizon / 86_400.0).round()),
                crate::text::num(r.trace.span() / 86_400.0)
            )));
        }
        let fits = |input: u32, output: u32| (input as u64 + output as u64) <= window;
        r.clipped = r
            .trace
            .requests
            .iter()
            .map(|q| (q.input, q.output))
            .chain(
                r.trace
                    .sessions
                    .iter()
                    .flat_map(|s| s.calls.iter().map(|c| (c.input, c.output))),
            )
            .filter(|&(i, o)| !fits(i, o))
            .count() as u64
            * options.copies as u64;
        Ok(r)
    }

    /// A call for a recorded (input, output, reusable), cut to fit the window.
    fn spec(&self, input: u32, output: u32, reusable: u32) -> CallSpec {
        let w = self.window.max(2);
        let output = (output.max(1) as u64).min(w / 2);
        let prompt = (input.max(1) as u64).min(w - output);
        CallSpec {
            prompt: prompt as u32,
            reusable: (reusable as u64).min(prompt) as u32,
            output: output as u32,
            reasoning: 0,
            compaction: false,
        }
    }

    /// Units in the replay: units of the trace times copies.
    pub fn units(&self) -> u64 {
        self.trace.units() * self.options.copies as u64
    }

    /// Calls the replay generates: rows times copies.
    pub fn calls(&self) -> u64 {
        self.trace.rows * self.options.copies as u64
    }

    /// Start shift of copy `copy`, in simulated seconds.
    fn shift(&self, seed: u64, copy: u32) -> f64 {
        if copy == 0 {
            return 0.0;
        }
        let u = hash_unit(hash3(seed, Subsystem::TraceCopy, copy as u64));
        u * self.trace.span() / self.options.speed
    }

    /// Jitter of item `k` of unit `unit` (copies >= 1 only), in seconds.
    fn jitter(&self, seed: u64, copy: u32, unit: u64, k: u64) -> f64 {
        if copy == 0 || self.options.jitter_s == 0.0 {
            return 0.0;
        }
        let h = hash3(
            seed ^ 0x5EED_7A1E,
            Subsystem::TraceCopy,
            unit.rotate_left(24) ^ k,
        );
        hash_unit(h) * self.options.jitter_s
    }

    /// The horizon: the requested duration, or the replay's span plus an hour, in whole hours.
    pub fn horizon_s(&self) -> f64 {
        match self.options.duration_s {
            Some(d) => d,
            None => {
                let span = self.trace.span() / self.options.speed;
                let shifted = if self.options.copies > 1 {
                    2.0 * span
                } else {
                    span
                };
                let end = shifted + self.options.jitter_s + 3600.0;
                (end / 3600.0).ceil() * 3600.0
            }
        }
    }

    /// The setup a replay runs on: `base`'s cluster and prices, the replay's horizon, one
    /// segment standing for the trace, and the units as "agents".
    pub fn setup(&self, base: &Setup, model: usize) -> Setup {
        let mut s = base.clone();
        let horizon_s = self.horizon_s();
        s.horizon = SimTime::from_secs(horizon_s);
        s.hours = (s.horizon.ns().div_ceil(NS_PER_HOUR)).max(1) as usize;
        s.agents = self.units();
        let flat = Profile::named("flat", 0).expect("built in");
        let activity = Activity::new(&flat, &flat, 1.0, 0, 0, horizon_s);
        let name = format!("trace:{}", self.trace.format.name());
        let mut seg = Segment::replay(&name, model, self.window, activity);
        seg.agents = self.units();
        s.segments = vec![seg];
        s
    }
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

/// The share of cells a replay simulates: `sample` if given, else the scenario's engine
/// setting, with `"auto"` sized on the replay's calls.
pub fn sample_fraction(setup: &Setup, replay: &Replay, sample: Option<f64>) -> Option<f64> {
    sample.or(match setup.engine.sample {
        Sample::Auto { max_calls } => Some((max_calls / replay.calls().max(1) as f64).min(1.0)),
        Sample::Fraction(f) => Some(f),
    })
}

/// Replays `replay` on `setup` (a setup from [`Replay::setup`]); `sample` as for fleet runs
/// (default: every cell, or the engine's call budget under `sample = "auto"`).
pub fn run(
    setup: &Setup,
    replay: &Replay,
    seed: u64,
    sample: Option<f64>,
    progress: &(dyn Fn(u64) + Sync),
) -> RunOutput {
    let started = Instant::now();
    let layout = Layout::new(setup, seed, sample_fraction(setup, replay, sample));
    merge_cells(setup, seed, layout, None, started, |spec: &CellSpec| {
        run_replay_cell(setup, replay, seed, spec, progress)
    })
}
