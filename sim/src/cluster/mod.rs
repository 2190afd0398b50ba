//! Inference clusters: pools of replicas, continuous batching, KV and prefix cache, routing.
//!
//! A [`Cluster`] is a cell's slice of the scenario's pools. Each [`Replica`] runs continuous
//! batching with chunked prefill, the way vLLM and SGLang do: every iteration, each decoding
//! sequence produces one token and the remaining token budget (`max_batch_tokens`) goes to
//! prefill chunks, first come first served. Calls wait in a FIFO queue until the replica has
//! a batch slot and KV room for their whole context (prompt plus answer, reserved at
//! admission, so a running batch never outgrows memory); retained prefixes of earlier calls
//! are evicted, least recently used first, to make that room.
//!
//! The batch is advanced in closed form ([`epoch`]): one event per change of the batch, not per
//! iteration. A call arriving at a busy replica joins at the end of the iteration in progress.

pub mod epoch;
pub mod prefix;

use std::collections::VecDeque;

use crate::ledger::Ledger;
use crate::scenario::{Pool, RouterKind};
use crate::time::SimTime;
use epoch::Epoch;
use prefix::PrefixCache;

/// A call in the cluster (held by the cell in a slab, indexed by call id).
#[derive(Debug, Clone, Copy)]
pub struct Call {
    /// The agent's index in its cell.
    pub agent: u32,
    pub prompt: u32,
    pub reusable: u32,
    pub output: u32,
    pub issued: SimTime,
    pub first_token: SimTime,
    /// Prompt tokens served from the prefix cache.
    pub hit: u32,
    pub replica: u32,
}

/// A sequence in a running batch.
#[derive(Debug, Clone, Copy)]
struct Seq {
    call: u32,
    /// Context tokens resident in KV for this sequence.
    ctx: u64,
    prefill_left: u32,
    /// Output tokens still to produce.
    decode_left: u32,
    /// Prefill tokens per iteration in the current epoch (0: not prefilling this epoch).
    chunk: u32,
    /// KV tokens reserved (prompt + output).
    reserved: u64,
}

/// One replica: a model on a group of devices.
#[derive(Debug, Clone)]
pub struct Replica {
    pub pool: u16,
    running: Vec<Seq>,
    waiting: VecDeque<u32>,
    kv_used: u64,
    epoch: Option<Epoch>,
    /// Iterations of the current epoch after which the pending event fires.
    event_iters: u64,
    /// Bumped whenever the pending event is replaced; events carry it to detect staleness.
    pub version: u32,
    /// Levels (waiting, KV) were last posted to the ledger at this time.
    levels_since: SimTime,
}

impl Replica {
    /// Calls running or waiting: the router's measure of load.
    #[inline]
    pub fn load(&self) -> usize {
        self.running.len() + self.waiting.len()
    }
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }
    pub fn kv_used(&self) -> u64 {
        self.kv_used
    }
}

/// Outcome of submitting a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitted {
    /// Queued or admitted; schedule `ReplicaStep(replica, version)` at `at` if given.
    Accepted { step: Option<(SimTime, u32, u32)> },
    /// The replica's queue is full.
    Rejected { replica: u32 },
}

/// A cell's replicas and their shared state.
pub struct Cluster<'s> {
    pools: &'s [Pool],
    pub replicas: Vec<Replica>,
    pub prefix: PrefixCache,
    /// Replica ids serving each served model.
    by_model: Vec<Vec<u32>>,
    rr: Vec<usize>,
    /// Reused buffer of completed call ids.
    done: Vec<u32>,
}

impl<'s> Cluster<'s> {
    /// A cluster with `counts[p]` replicas of pool `p` and room for `agents` agents' prefixes.
    pub fn new(
        pools: &'s [Pool],
        served_models: usize,
        counts: &[u64],
        agents: usize,
    ) -> Cluster<'s> {
        let mut replicas = Vec::new();
        let mut by_model = vec![Vec::new(); served_models];
        for (p, &n) in counts.iter().enumerate() {
            for _ in 0..n {
                by_model[pools[p].model].push(replicas.len() as u32);
                replicas.push(Replica {
                    pool: p as u16,
                    running: Vec::with_capacity(pools[p].max_seqs as usize),
                    waiting: VecDeque::new(),
                    kv_used: 0,
                    epoch: None,
                    event_iters: 0,
                    version: 0,
                    levels_since: SimTime::ZERO,
                });
            }
        }
        let n = replicas.len();
        Cluster {
            pools,
            replicas,
            prefix: PrefixCache::new(agents, n),
            by_model,
            rr: vec![0; served_models],
            done: Vec::new(),
        }
    }

    /// Picks a replica for `agent`'s call to `model`.
    pub fn route(&mut self, model: usize, agent: u32, now: SimTime) -> u32 {
        let reps = &self.by_model[model];
        let policy = &self.pools[self.replicas[reps[0] as usize].pool as usize];
        let n = reps.len();
        let start = self.rr[model] % n;
        self.rr[model] = self.rr[model].wrapping_add(1);
        let least = || {
            let mut best = reps[start];
            let mut best_load = usize::MAX;
            for i in 0..n {
                let r = reps[(start + i) % n];
                let l = self.replicas[r as usize].load();
                if l < best_load {
                    best = r;
                    best_load = l;
                }
            }
            (best, best_load)
        };
        match policy.router {
            RouterKind::RoundRobin => reps[start],
            RouterKind::LeastLoaded => least().0,
            RouterKind::Affinity => {
                let (best, best_load) = least();
                let home = self
                    .prefix
                    .replica_of(
                        agent,
                        now,
                        self.pools[self.replicas[best as usize].pool as usize].retention,
                    )
                    .filter(|r| {
                        self.pools[self.replicas[*r as usize].pool as usize].model == model
                    });
                match home {
                    Some(r)
                        if self.replicas[r as usize].load()
                            <= best_load + policy.affinity_slack as usize =>
                    {
                        r
                    }
                    _ => best,
                }
            }
        }
    }

    /// Routes and enqueues a call; admits it at once if the replica is idle.
    pub fn submit(
        &mut self,
        model: usize,
        id: u32,
        calls: &mut [Call],
        ledger: &mut Ledger,
        now: SimTime,
    ) -> Submitted {
        let r = self.route(model, calls[id as usize].agent, now);
        calls[id as usize].replica = r;
        let pool = &self.pools[self.replicas[r as usize].pool as usize];
        if self.replicas[r as usize].waiting.len() >= pool.queue_limit as usize {
            return Submitted::Rejected { replica: r };
        }
        self.post_levels(r, ledger, now);
        let rep = &mut self.replicas[r as usize];
        rep.waiting.push_back(id);
        let step = match rep.epoch {
            None => self
                .plan(r, calls, now)
                .map(|t| (t, r, self.replicas[r as usize].version)),
            Some(e) => {
                // Join at the end of the iteration in progress.
                let k = e.done_by(now.ns()) + 1;
                if k < rep.event_iters {
                    rep.event_iters = k;
                    rep.version = rep.version.wrapping_add(1);
                    Some((SimTime(e.end_ns(k)), r, rep.version))
                } else {
                    None
                }
            }
        };
        Submitted::Accepted { step }
    }

    /// Handles a replica's milestone: advances the batch, collects completed calls (returned
    /// in order of the batch) and plans the next epoch. Returns `None` for a stale event.
    #[allow(clippy::type_complexity)]
    pub fn step(
        &mut self,
        r: u32,
        version: u32,
        calls: &mut [Call],
        ledger: &mut Ledger,
        now: SimTime,
    ) -> Option<(&[u32], Option<(SimTime, u32, u32)>)> {
        if self.replicas[r as usize].version != version {
            return None;
        }
        self.post_levels(r, ledger, now);
        self.done.clear();
        let k = self.replicas[r as usize].event_iters;
        self.advance(r, k, calls, ledger, now);
        let next = self
            .plan(r, calls, now)
            .map(|t| (t, r, self.replicas[r as usize].version));
        Some((&self.done, next))
    }

    /// Posts the replica's waiting and KV levels since the last posting.
    fn post_levels(&mut self, r: u32, ledger: &mut Ledger, now: SimTime) {
        let retained = self.prefix.retained(r);
        let rep = &mut self.replicas[r as usize];
        ledger.levels(
            rep.pool as usize,
            rep.levels_since,
            now,
            rep.waiting.len() as u64,
            rep.kv_used,
            retained,
        );
        rep.levels_since = now;
    }

    /// Applies `k` iterations of the current epoch, ending at `now`.
    fn advance(&mut self, r: u32, k: u64, calls: &mut [Call], ledger: &mut Ledger, now: SimTime) {
        let rep = &mut self.replicas[r as usize];
        let Some(e) = rep.epoch.take() else { return };
        ledger.busy(rep.pool as usize, SimTime(e.start_ns), now, e.active(k));
        let k32 = k as u32;
        let mut i = 0;
        while i < rep.running.len() {
            let s = &mut rep.running[i];
            if s.chunk > 0 {
                let n = k32 * s.chunk;
                s.prefill_left -= n;
                s.ctx += n as u64;
                if s.prefill_left == 0 {
                    // The last prefill iteration samples the first output token.
                    calls[s.call as usize].first_token = now;
                    s.decode_left -= 1;
                }
            } else if s.prefill_left == 0 {
                s.decode_left -= k32;
                s.ctx += k;
            }
            if s.prefill_left == 0 && s.decode_left == 0 {
                let s = rep.running.remove(i);
                rep.kv_used -= s.reserved;
                self.done.push(s.call);
            } else {
                i += 1;
            }
        }
        // Completed contexts stay resident as prefixes for the agents' next calls.
        for i in 0..self.done.len() {
            let call = &calls[self.done[i] as usize];
            if let Some(old) = self.prefix.location(call.agent)
                && old != r
            {
                // The agent's previous context elsewhere is dropped: post that replica's
                // levels first so its time-average stays exact.
                self.post_levels(old, ledger, now);
            }
            self.prefix
                .insert(call.agent, r, call.prompt as u64 + call.output as u64, now);
        }
    }

    /// Admits what fits and plans the next epoch from `now`; returns the milestone time.
    fn plan(&mut self, r: u32, calls: &mut [Call], now: SimTime) -> Option<SimTime> {
        let pool = &self.pools[self.replicas[r as usize].pool as usize];
        let cap = pool.perf.kv_capacity_tokens;
        self.prefix.expire(r, now, pool.retention);
        loop {
            let rep = &self.replicas[r as usize];
            let Some(&id) = rep.waiting.front() else {
                break;
            };
            if rep.running.len() >= pool.max_seqs as usize {
                break;
            }
            let call = calls[id as usize];
            let need = call.prompt as u64 + call.output as u64;
            let own = self.prefix.resident(call.agent, r, now, pool.retention);
            // Room: free blocks plus the agent's own retained context, evicting others' LRU.
            let fits = |c: &Cluster| {
                let used = c.replicas[r as usize].kv_used + c.prefix.retained(r);
                cap.saturating_sub(used) + own >= need
            };
            while !fits(self) {
                if self.prefix.evict_lru(r, call.agent).is_none() {
                    break;
                }
            }
            if !fits(self) {
                break; // head-of-line blocking, as in vLLM's FCFS scheduler
            }
            // At least one prompt token is computed to produce logits.
            let hit = own.min(call.reusable as u64).min(call.prompt as u64 - 1);
            if self.prefix.location(call.agent) == Some(r) {
                self.prefix.remove(call.agent);
            }
            let rep = &mut self.replicas[r as usize];
            rep.waiting.pop_front();
            rep.kv_used += need;
            calls[id as usize].hit = hit as u32;
            rep.running.push(Seq {
                call: id,
                ctx: hit,
                prefill_left: call.prompt - hit as u32,
                decode_left: call.output,
                chunk: 0,
                reserved: need,
            });
        }

        let rep = &mut self.replicas[r as usize];
        if rep.running.is_empty() {
            rep.epoch = None;
            return None;
        }
        // Compose the iteration: decodes first, then prefill chunks in arrival order.
        let n_decode = rep.running.iter().filter(|s| s.prefill_left == 0).count() as u64;
        let mut budget = pool.max_batch_tokens as u64 - n_decode;
        let mut k_prefill = u64::MAX;
        let mut k_decode = u64::MAX;
        let (mut pairs0, mut pairs_step, mut ctx0, mut ctx_step) = (0.0, 0.0, 0.0, 0.0);
        let (mut tokens, mut seqs, mut logits) = (n_decode, n_decode, n_decode);
        let mut first_prefill = true;
        for s in rep.running.iter_mut() {
            s.chunk = 0;
            if s.prefill_left == 0 {
                k_decode = k_decode.min(s.decode_left as u64);
                pairs0 += s.ctx as f64;
                ctx0 += s.ctx as f64;
                continue;
            }
            if budget == 0 {
                continue;
            }
            let left = s.prefill_left as u64;
            if first_prefill && left >= budget {
                // A long prefill takes whole chunks until less than a chunk is left; nothing
                // else prefills meanwhile.
                s.chunk = budget as u32;
                k_prefill = left / budget;
            } else {
                // Short prefills are packed into one iteration.
                s.chunk = left.min(budget) as u32;
                k_prefill = 1;
            }
            first_prefill = false;
            budget -= s.chunk as u64;
            let c = s.chunk as f64;
            tokens += s.chunk as u64;
            seqs += 1;
            logits += 1;
            pairs0 += c * s.ctx as f64 + c * (c + 1.0) / 2.0;
            pairs_step += c * c;
            ctx0 += s.ctx as f64;
            ctx_step += c;
        }
        pairs_step += n_decode as f64;
        ctx_step += n_decode as f64;
        let k = k_prefill.min(k_decode);
        debug_assert!((1..u64::MAX).contains(&k));
        let cost = pool
            .perf
            .iteration_cost(tokens as u32, seqs as u32, logits as u32);
        let e = Epoch::new(now.ns(), k, &cost, pairs0, pairs_step, ctx0, ctx_step);
        rep.epoch = Some(e);
        rep.event_iters = k;
        rep.version = rep.version.wrapping_add(1);
        Some(SimTime(e.end_ns(k)))
    }

    /// Ends the run at `horizon`: posts busy time and levels up to it and returns the ids of
    /// calls still waiting or running.
    pub fn finish(&mut self, horizon: SimTime, ledger: &mut Ledger, in_flight: &mut Vec<u32>) {
        for r in 0..self.replicas.len() as u32 {
            self.post_levels(r, ledger, horizon);
            let rep = &mut self.replicas[r as usize];
            if let Some(e) = rep.epoch.take() {
                let k = e.done_by(horizon.ns());
                // The iteration in progress at the horizon counts in proportion.
                let (t0, t1) = (e.end_ns(k) as f64, e.end_ns(k + 1) as f64);
                let frac = if t1 > t0 {
                    ((horizon.ns() as f64 - t0) / (t1 - t0)).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let active = e.active(k) + frac * (e.active(k + 1) - e.active(k));
                ledger.busy(rep.pool as usize, SimTime(e.start_ns), horizon, active);
            }
            in_flight.extend(rep.running.iter().map(|s| s.call));
            in_flight.extend(rep.waiting.iter().copied());
        }
    }
}
