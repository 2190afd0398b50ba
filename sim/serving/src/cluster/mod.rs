//! Inference clusters: pools of replicas, continuous batching, KV and prefix cache, routing,
//! admission control and autoscaling.
//!
//! A [`Cluster`] is a cell's slice of the scenario's pools. Each [`Replica`] runs continuous
//! batching with chunked prefill, the way vLLM and SGLang do: every iteration each decoding
//! sequence produces one token and the rest of the token budget (`max_batch_tokens`) goes to
//! prefill chunks, first come first served ([`replica`] has the details of admission, KV blocks
//! and preemption). The batch advances in closed form ([`epoch`]): one event per change of the
//! batch, not per iteration. A call arriving at a busy replica joins at the end of the
//! iteration in progress.
//!
//! Calls are routed among the routable (active) replicas of the pools serving their model:
//! round robin, least loaded, power of two choices, or session affinity (back to the replica
//! holding the agent's context unless it is much busier). Or they wait in one shared queue per
//! model and go to the first replica with a free sequence slot (a gateway queue, first come
//! first served). Admission control rejects a call when the queue it would join is full or the
//! agent exceeds the pool's rate limit; rejected calls are returned to the caller to count,
//! never dropped silently. An autoscaler per pool
//! adds replicas (after a provisioning delay) or drains them, and replicas cost money only
//! while provisioned.

pub mod decode;
pub mod epoch;
pub mod prefix;
pub mod replica;

use std::collections::VecDeque;
use tokenfleet_models::power::ShareTable;

use rand::RngExt;

use crate::ledger::{Ledger, Levels};
use prefix::PrefixCache;
pub use replica::{BLOCK_TOKENS, Replica, ReplicaState};
use tokenfleet_engine::rng::SimRng;
use tokenfleet_engine::time::SimTime;
use tokenfleet_setup::{Autoscale, Pool, RouterKind, ScaleMetric};

/// KV blocks needed for `tokens` tokens.
#[inline]
pub fn blocks(tokens: u64) -> u64 {
    tokens.div_ceil(BLOCK_TOKENS)
}

/// A call in the cluster (held by the caller in a slab, indexed by call id).
#[derive(Debug, Clone, Copy)]
pub struct Call {
    /// The agent's index in its cell.
    pub agent: u32,
    pub prompt: u32,
    pub reusable: u32,
    pub output: u32,
    pub issued: SimTime,
    pub first_token: SimTime,
    /// Prompt tokens served from the prefix cache at first admission (what is billed cached).
    pub hit: u32,
    pub replica: u32,
    /// Output tokens produced before a preemption (recomputed on readmission).
    pub generated: u32,
    pub preemptions: u16,
}

impl Call {
    pub fn new(agent: u32, prompt: u32, reusable: u32, output: u32, issued: SimTime) -> Call {
        Call {
            agent,
            prompt,
            reusable,
            output,
            issued,
            first_token: SimTime::ZERO,
            hit: 0,
            replica: 0,
            generated: 0,
            preemptions: 0,
        }
    }
}

/// Why a call was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    QueueFull,
    RateLimited,
}

/// Outcome of submitting a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitted {
    /// Queued or admitted; schedule `(time, replica, version)` if given.
    Accepted {
        step: Option<(SimTime, u32, u32)>,
    },
    Rejected {
        replica: u32,
        reason: Rejection,
    },
}

/// Time-weighted load of a pool since the autoscaler's last decision.
#[derive(Debug, Clone, Default)]
struct ScaleWindow {
    /// Recent (decision time, desired size), for the scale-down stabilization window.
    recent: VecDeque<(SimTime, u64)>,
    since: SimTime,
    /// KV blocks of running sequences x ns.
    kv_area: u128,
    queue_area: u128,
    busy_ns: u128,
}

/// What an autoscaler decision asks the caller to schedule.
#[derive(Debug, Clone, Default)]
pub struct ScaleActions {
    /// Replicas that become active at the given times.
    pub ready: Vec<(SimTime, u32)>,
    pub next_tick: Option<SimTime>,
    /// Milestones `(time, replica, version)` of replicas that took calls from a shared queue
    /// when their drain was cancelled.
    pub steps: Vec<(SimTime, u32, u32)>,
}

/// The waiting calls of a model whose first pool routes through a shared queue.
#[derive(Debug, Clone)]
struct SharedQueue {
    calls: VecDeque<u32>,
    /// The pool whose ledger rows and autoscaler window carry the queue's level (the first
    /// pool serving the model, whose router setting applies).
    pool: usize,
    /// The level was last posted at this time.
    since: SimTime,
}

/// A cell's replicas and their shared state.
pub struct Cluster<'s> {
    pools: &'s [Pool],
    pub replicas: Vec<Replica>,
    pub prefix: PrefixCache,
    /// Routable replicas of each served model.
    routable: Vec<Vec<u32>>,
    /// All replicas of each pool.
    pool_replicas: Vec<Vec<u32>>,
    /// Autoscaler bounds in this cell: (min, max).
    scale_bounds: Vec<(u64, u64)>,
    windows: Vec<ScaleWindow>,
    /// Per pool with a rate limit: each agent's bucket (level, last refill).
    buckets: Vec<Vec<(f64, SimTime)>>,
    /// Per served model: its shared queue, if its first pool routes through one.
    shared: Vec<Option<SharedQueue>>,
    rr: Vec<usize>,
    rng: SimRng,
    max_iters: u64,
    done: Vec<u32>,
}

impl<'s> Cluster<'s> {
    /// A cluster with `max[p]` replicas of pool `p`, `active[p]` of them serving at the start,
    /// and room for `agents` agents. `rng` drives randomized routing; `stepping` advances
    /// batches one iteration per event (the reference mode).
    pub fn new(
        pools: &'s [Pool],
        served_models: usize,
        active: &[u64],
        max: &[u64],
        agents: usize,
        rng: SimRng,
        stepping: bool,
    ) -> Cluster<'s> {
        let mut replicas = Vec::new();
        let mut pool_replicas = vec![Vec::new(); pools.len()];
        let mut scale_bounds = Vec::new();
        for (p, pool) in pools.iter().enumerate() {
            let power = std::sync::Arc::new(ShareTable::new(&pool.power));
            for i in 0..max[p] {
                let state = if i < active[p] {
                    ReplicaState::Active
                } else {
                    ReplicaState::Off
                };
                pool_replicas[p].push(replicas.len() as u32);
                replicas.push(Replica::new(p as u16, state, pool.max_seqs, power.clone()));
            }
            // The pool's bounds, shared out in proportion to this cell's replicas.
            scale_bounds.push(match pool.autoscale {
                Some(a) => {
                    let share = max[p] as f64 / pool.replicas_max.max(1) as f64;
                    (
                        ((a.min as f64 * share).round() as u64).clamp(1, max[p]),
                        max[p],
                    )
                }
                None => (active[p], active[p]),
            });
        }
        let n = replicas.len();
        let buckets = pools
            .iter()
            .map(|p| match p.rate_limit {
                Some(rl) => vec![(rl.burst, SimTime::ZERO); agents],
                None => Vec::new(),
            })
            .collect();
        let shared = (0..served_models)
            .map(|m| {
                let p = pools.iter().position(|p| p.model == m)?;
                (pools[p].router == RouterKind::SharedQueue).then(|| {
                    let room: u64 = pools
                        .iter()
                        .enumerate()
                        .filter(|(_, x)| x.model == m)
                        .map(|(q, x)| x.queue_limit as u64 * max[q])
                        .sum();
                    SharedQueue {
                        calls: VecDeque::with_capacity(room.min(1 << 16) as usize),
                        pool: p,
                        since: SimTime::ZERO,
                    }
                })
            })
            .collect();
        let mut c = Cluster {
            pools,
            replicas,
            prefix: PrefixCache::new(agents, n),
            routable: vec![Vec::new(); served_models],
            pool_replicas,
            scale_bounds,
            windows: vec![ScaleWindow::default(); pools.len()],
            buckets,
            shared,
            rr: vec![0; served_models],
            rng,
            max_iters: if stepping { 1 } else { u64::MAX },
            done: Vec::new(),
        };
        c.refresh_routable();
        c
    }

    fn refresh_routable(&mut self) {
        for list in &mut self.routable {
            list.clear();
        }
        for (r, rep) in self.replicas.iter().enumerate() {
            if rep.state == ReplicaState::Active {
                self.routable[self.pools[rep.pool as usize].model].push(r as u32);
            }
        }
    }

    /// Load relative to the replica's batch size, so that pools of different sizes compare.
    #[inline]
    fn load(&self, r: u32) -> f64 {
        let rep = &self.replicas[r as usize];
        rep.load() as f64 / self.pools[rep.pool as usize].max_seqs as f64
    }

    /// Picks a replica for `agent`'s call to `model`. The first pool serving the model sets
    /// the policy.
    pub fn route(&mut self, model: usize, agent: u32, now: SimTime) -> u32 {
        let reps = &self.routable[model];
        let n = reps.len();
        debug_assert!(
            n > 0,
            "every cell keeps at least one active replica per pool"
        );
        let policy = &self.pools[self.replicas[reps[0] as usize].pool as usize];
        let start = self.rr[model] % n;
        self.rr[model] = self.rr[model].wrapping_add(1);
        let least = |c: &Cluster| {
            let reps = &c.routable[model];
            let mut best = reps[start];
            let mut best_load = f64::INFINITY;
            // From `start` round the ring, without a division per replica.
            let (tail, head) = reps.split_at(start);
            for &r in head.iter().chain(tail) {
                let l = c.load(r);
                if l < best_load {
                    best = r;
                    best_load = l;
                }
            }
            (best, best_load)
        };
        match policy.router {
            RouterKind::RoundRobin => reps[start],
            // A shared queue hands a call to the least-loaded replica if it has a free slot.
            RouterKind::LeastLoaded | RouterKind::SharedQueue => least(self).0,
            RouterKind::PowerOfTwo => {
                let a = reps[self.rng.random_range(0..n)];
                let b = reps[self.rng.random_range(0..n)];
                if self.load(b) < self.load(a) { b } else { a }
            }
            RouterKind::Affinity => {
                let (best, best_load) = least(self);
                let home = self
                    .prefix
                    .replica_of(agent, now, policy.retention)
                    .filter(|&r| {
                        let rep = &self.replicas[r as usize];
                        rep.state == ReplicaState::Active
                            && self.pools[rep.pool as usize].model == model
                    });
                match home {
                    Some(r) => {
                        let p = &self.pools[self.replicas[r as usize].pool as usize];
                        let slack = p.affinity_slack as f64 / p.max_seqs as f64;
                        if self.load(r) <= best_load + slack {
                            r
                        } else {
                            best
                        }
                    }
                    None => best,
                }
            }
        }
    }

    /// Takes one call from the agent's bucket if the pool limits rates.
    fn rate_ok(&mut self, pool: usize, agent: u32, now: SimTime) -> bool {
        let Some(rl) = self.pools[pool].rate_limit else {
            return true;
        };
        let (level, last) = &mut self.buckets[pool][agent as usize];
        *level = (*level + now.saturating_sub(*last).secs() * rl.per_second).min(rl.burst);
        *last = now;
        if *level >= 1.0 {
            *level -= 1.0;
            true
        } else {
            false
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
        let agent = calls[id as usize].agent;
        let r = self.route(model, agent, now);
        calls[id as usize].replica = r;
        let p = self.replicas[r as usize].pool as usize;
        if !self.rate_ok(p, agent, now) {
            return Submitted::Rejected {
                replica: r,
                reason: Rejection::RateLimited,
            };
        }
        if self.shared[model].is_some() {
            // The least-loaded replica is full only if every replica is: then the call waits
            // in the shared queue, which holds `queue_limit` calls per replica it feeds.
            if self.replicas[r as usize].load() >= self.pools[p].max_seqs as usize {
                let room: usize = self.routable[model]
                    .iter()
                    .map(|&x| {
                        self.pools[self.replicas[x as usize].pool as usize].queue_limit as usize
                    })
                    .sum();
                if self.shared[model]
                    .as_ref()
                    .is_some_and(|q| q.calls.len() >= room)
                {
                    return Submitted::Rejected {
                        replica: r,
                        reason: Rejection::QueueFull,
                    };
                }
                self.post_shared(model, ledger, now);
                if let Some(q) = self.shared[model].as_mut() {
                    q.calls.push_back(id);
                }
                return Submitted::Accepted { step: None };
            }
        } else if self.replicas[r as usize].waiting() >= self.pools[p].queue_limit as usize {
            return Submitted::Rejected {
                replica: r,
                reason: Rejection::QueueFull,
            };
        }
        self.post_levels(r, ledger, now);
        self.replicas[r as usize].enqueue(id);
        Submitted::Accepted {
            step: self.kick(r, calls, ledger, now),
        }
    }

    /// Replica `r`'s queue grew: an iterating replica takes the new calls at the end of the
    /// iteration in progress, an idle one plans at once. Returns the milestone to schedule.
    fn kick(
        &mut self,
        r: u32,
        calls: &mut [Call],
        ledger: &mut Ledger,
        now: SimTime,
    ) -> Option<(SimTime, u32, u32)> {
        let rep = &mut self.replicas[r as usize];
        if rep.is_iterating() {
            rep.wake_for_arrival(now).map(|(t, v)| (t, r, v))
        } else {
            self.plan(r, calls, ledger, now)
                .map(|t| (t, r, self.replicas[r as usize].version))
        }
    }

    /// Moves calls from the shared queue of `r`'s model into `r`'s free sequence slots, oldest
    /// first, if `r` is active. Returns whether it moved any.
    fn pull(&mut self, r: u32, calls: &mut [Call], ledger: &mut Ledger, now: SimTime) -> bool {
        let rep = &self.replicas[r as usize];
        let pool = &self.pools[rep.pool as usize];
        let (model, slots) = (pool.model, pool.max_seqs as usize);
        let waiting = self.shared[model].as_ref().map_or(0, |q| q.calls.len());
        if rep.state != ReplicaState::Active || waiting == 0 || rep.load() >= slots {
            return false;
        }
        self.post_shared(model, ledger, now);
        self.post_levels(r, ledger, now);
        let (Some(q), rep) = (self.shared[model].as_mut(), &mut self.replicas[r as usize]) else {
            return false;
        };
        while rep.load() < slots
            && let Some(id) = q.calls.pop_front()
        {
            rep.enqueue(id);
            calls[id as usize].replica = r;
        }
        true
    }

    /// Posts the level of `model`'s shared queue since the last posting.
    fn post_shared(&mut self, model: usize, ledger: &mut Ledger, now: SimTime) {
        let Some(q) = self.shared[model].as_mut() else {
            return;
        };
        if now <= q.since {
            return;
        }
        let waiting = q.calls.len() as u64;
        // Calls in the shared queue are in the pool's system (Little's law) but hold no KV.
        ledger.levels(
            q.pool,
            q.since,
            now,
            &Levels {
                waiting,
                in_system: waiting,
                kv_used: 0,
                kv_retained: 0,
            },
        );
        self.windows[q.pool].queue_area += waiting as u128 * (now.ns() - q.since.ns()) as u128;
        q.since = now;
    }

    fn plan(
        &mut self,
        r: u32,
        calls: &mut [Call],
        ledger: &mut Ledger,
        now: SimTime,
    ) -> Option<SimTime> {
        let pool = &self.pools[self.replicas[r as usize].pool as usize];
        self.replicas[r as usize].plan(
            r,
            pool,
            &mut self.prefix,
            calls,
            ledger,
            now,
            self.max_iters,
        )
    }

    /// Handles a replica's milestone: advances the batch, returns the completed calls (in batch
    /// order) and the next event. Returns `None` for a stale event.
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
        let rep = &mut self.replicas[r as usize];
        let k = rep.event_iters();
        rep.advance(k, calls, ledger, now, &mut self.done);
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
            // The last sampled token's KV was never computed (only the next iteration would
            // have), so what stays resident is the prompt and output but that token: exactly
            // the blocks the sequence held, as for a preempted one. Claiming the whole context
            // took one block more than was freed and could overfill the cache.
            let computed = call.prompt as u64 + call.output as u64 - 1;
            self.prefix.insert(call.agent, r, computed, now);
        }
        self.pull(r, calls, ledger, now);
        let next = self
            .plan(r, calls, ledger, now)
            .map(|t| (t, r, self.replicas[r as usize].version));
        if next.is_none()
            && self.replicas[r as usize].state == ReplicaState::Draining
            && self.replicas[r as usize].is_idle()
        {
            self.switch_off(r, ledger, now);
        }
        Some((&self.done, next))
    }

    /// Posts a replica's levels (waiting, in system, KV) since the last posting. Every change
    /// of them (a call queued or completed, admitted or preempted, a prefix inserted, evicted
    /// or expired) happens right after a posting at the same instant, so the time-integrals in
    /// the ledger are exact, and the cost is O(1) per event.
    fn post_levels(&mut self, r: u32, ledger: &mut Ledger, now: SimTime) {
        let retained = self.prefix.retained(r) * BLOCK_TOKENS;
        let rep = &mut self.replicas[r as usize];
        let (from, p) = (rep.levels_since, rep.pool as usize);
        if now <= from {
            return;
        }
        let used = rep.used_blocks();
        ledger.levels(
            p,
            from,
            now,
            &Levels {
                waiting: rep.waiting() as u64,
                in_system: rep.load() as u64,
                kv_used: used * BLOCK_TOKENS,
                kv_retained: retained,
            },
        );
        let dt = (now.ns() - from.ns()) as u128;
        let w = &mut self.windows[p];
        w.kv_area += used as u128 * dt;
        w.queue_area += rep.waiting() as u128 * dt;
        if rep.is_iterating() {
            w.busy_ns += dt;
        }
        rep.levels_since = now;
    }

    fn switch_off(&mut self, r: u32, ledger: &mut Ledger, now: SimTime) {
        self.post_levels(r, ledger, now);
        self.prefix.clear(r);
        let rep = &mut self.replicas[r as usize];
        ledger.provisioned(rep.pool as usize, 1, rep.on_since, now);
        rep.state = ReplicaState::Off;
        self.refresh_routable();
    }

    /// A provisioning replica is ready to serve; it takes calls waiting in a shared queue.
    /// Returns its milestone to schedule, if it has work.
    pub fn replica_ready(
        &mut self,
        r: u32,
        calls: &mut [Call],
        ledger: &mut Ledger,
        now: SimTime,
    ) -> Option<(SimTime, u32, u32)> {
        if self.replicas[r as usize].state != ReplicaState::Provisioning {
            return None;
        }
        self.post_levels(r, ledger, now);
        self.replicas[r as usize].state = ReplicaState::Active;
        self.refresh_routable();
        if !self.pull(r, calls, ledger, now) {
            return None;
        }
        self.kick(r, calls, ledger, now)
    }

    /// The autoscaler's decision for pool `p` at `now`.
    pub fn autoscale(
        &mut self,
        p: usize,
        calls: &mut [Call],
        ledger: &mut Ledger,
        now: SimTime,
    ) -> ScaleActions {
        let mut actions = ScaleActions::default();
        let Some(a): Option<Autoscale> = self.pools[p].autoscale else {
            return actions;
        };
        actions.next_tick = Some(now.saturating_add(a.interval));
        for i in 0..self.pool_replicas[p].len() {
            let r = self.pool_replicas[p][i];
            if self.replicas[r as usize].state != ReplicaState::Off {
                self.post_levels(r, ledger, now);
            }
        }
        for m in 0..self.shared.len() {
            if self.shared[m].as_ref().is_some_and(|q| q.pool == p) {
                self.post_shared(m, ledger, now);
            }
        }
        let w = std::mem::replace(
            &mut self.windows[p],
            ScaleWindow {
                since: now,
                ..Default::default()
            },
        );
        let dt = now.ns().saturating_sub(w.since.ns()) as f64;
        let count = |c: &Cluster, s: ReplicaState| {
            c.pool_replicas[p]
                .iter()
                .filter(|&&r| c.replicas[r as usize].state == s)
                .count() as u64
        };
        let (active, provisioning) = (
            count(self, ReplicaState::Active),
            count(self, ReplicaState::Provisioning),
        );
        let serving = (active + count(self, ReplicaState::Draining)).max(1) as f64;
        if dt <= 0.0 {
            return actions;
        }
        let cap_blocks = (self.pools[p].perf.kv_capacity_tokens / BLOCK_TOKENS) as f64;
        let observed = match a.metric {
            ScaleMetric::Kv => w.kv_area as f64 / (dt * serving * cap_blocks),
            ScaleMetric::Queue => w.queue_area as f64 / (dt * serving),
            ScaleMetric::Busy => w.busy_ns as f64 / (dt * serving),
        };
        let (lo, hi) = self.scale_bounds[p];
        let wanted = ((active as f64 * observed / a.target).ceil() as u64).clamp(lo, hi);
        // Scale down only to the largest size wanted within the stabilization window, and by
        // at most a tenth of the pool per decision.
        let recent = &mut self.windows[p].recent;
        recent.push_back((now, wanted));
        while recent
            .front()
            .is_some_and(|(t, _)| now.saturating_sub(*t) > a.scale_down_window)
        {
            recent.pop_front();
        }
        let stable = recent.iter().map(|(_, d)| *d).max().unwrap_or(wanted);
        let desired = if stable < active {
            stable.max(active - (active / 10).max(1))
        } else {
            stable
        };
        if desired > active + provisioning {
            let mut add = desired - active - provisioning;
            // Cancel drains first (instant), then boot replicas that are off.
            for i in 0..self.pool_replicas[p].len() {
                let r = self.pool_replicas[p][i];
                let rep = &mut self.replicas[r as usize];
                if add == 0 {
                    break;
                }
                if rep.state == ReplicaState::Draining {
                    rep.state = ReplicaState::Active;
                    add -= 1;
                }
            }
            for i in 0..self.pool_replicas[p].len() {
                let r = self.pool_replicas[p][i];
                let rep = &mut self.replicas[r as usize];
                if add == 0 {
                    break;
                }
                if rep.state == ReplicaState::Off {
                    rep.state = ReplicaState::Provisioning;
                    rep.on_since = now;
                    rep.levels_since = now;
                    actions
                        .ready
                        .push((now.saturating_add(a.provision_delay), r));
                    add -= 1;
                }
            }
        } else if desired < active && provisioning == 0 {
            // Drain the least-loaded active replicas.
            let mut candidates: Vec<u32> = self.pool_replicas[p]
                .iter()
                .copied()
                .filter(|&r| self.replicas[r as usize].state == ReplicaState::Active)
                .collect();
            candidates.sort_by_key(|&r| (self.replicas[r as usize].load(), r));
            for &r in candidates.iter().take((active - desired) as usize) {
                self.replicas[r as usize].state = ReplicaState::Draining;
                if self.replicas[r as usize].is_idle() {
                    self.switch_off(r, ledger, now);
                }
            }
        }
        self.refresh_routable();
        // Replicas whose drain was cancelled may have room for calls in a shared queue.
        for i in 0..self.pool_replicas[p].len() {
            let r = self.pool_replicas[p][i];
            if self.pull(r, calls, ledger, now)
                && let Some(step) = self.kick(r, calls, ledger, now)
            {
                actions.steps.push(step);
            }
        }
        actions
    }

    /// Posts the busy time the replicas have summed but not yet posted: before the ledger is
    /// read without [`Cluster::finish`].
    pub fn flush_busy(&mut self, ledger: &mut Ledger) {
        for rep in &mut self.replicas {
            rep.flush_busy(ledger);
        }
    }

    /// Ends the run at `horizon`: posts busy time, levels and provisioned time up to it, and
    /// returns the ids of calls still waiting or running.
    pub fn finish(&mut self, horizon: SimTime, ledger: &mut Ledger, in_flight: &mut Vec<u32>) {
        for m in 0..self.shared.len() {
            self.post_shared(m, ledger, horizon);
            if let Some(q) = &self.shared[m] {
                in_flight.extend(q.calls.iter().copied());
            }
        }
        for r in 0..self.replicas.len() as u32 {
            if self.replicas[r as usize].state == ReplicaState::Off {
                continue;
            }
            self.post_levels(r, ledger, horizon);
            let rep = &mut self.replicas[r as usize];
            rep.finish(horizon, ledger);
            ledger.provisioned(rep.pool as usize, 1, rep.on_since, horizon);
            in_flight.extend(rep.calls());
        }
        self.flush_busy(ledger);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenfleet_engine::rng::{Subsystem, stream};
    use tokenfleet_models::Catalog;
    use tokenfleet_models::perf::{Calibration, ReplicaShape};
    use tokenfleet_models::precision::Precision;

    /// Regression (found by tests/properties.rs): a completed call whose computed context ends
    /// on a block boundary left a retained prefix one block larger than the blocks it freed,
    /// so a full cache held one block more than its capacity.
    #[test]
    fn a_completed_context_never_overfills_the_cache() {
        let c = Catalog::builtin().unwrap();
        let m = c.model("llama-3.1-8b").unwrap();
        let engine = Calibration::builtin().unwrap().profile("vllm").unwrap();
        let mut pool = Pool::standalone(
            c.hardware("h100-sxm").unwrap(),
            &m.name,
            &m.arch,
            ReplicaShape::new(1, 1, Precision::Bf16, Precision::Bf16),
            &engine.params,
            engine.max_batch_tokens,
            engine.max_seqs,
        )
        .unwrap();
        let cap_blocks = 64;
        pool.perf.kv_capacity_tokens = cap_blocks * BLOCK_TOKENS;
        pool.retention = SimTime::from_secs(3600.0);
        let pools = [pool];
        let mut cluster = Cluster::new(
            &pools,
            1,
            &[1],
            &[1],
            1,
            stream(1, Subsystem::Router, 0),
            false,
        );
        let mut ledger = Ledger::new(1, 1, 1);
        // 1000 prompt tokens and 25 output tokens compute 1024 tokens of KV: the whole cache.
        let mut calls = [Call::new(0, 1000, 0, 25, SimTime::ZERO)];
        let Submitted::Accepted { mut step } =
            cluster.submit(0, 0, &mut calls, &mut ledger, SimTime::ZERO)
        else {
            panic!("rejected");
        };
        let mut completed = false;
        while let Some((t, r, v)) = step {
            let (done, next) = cluster
                .step(r, v, &mut calls, &mut ledger, t)
                .expect("no stale events here");
            completed |= done.contains(&0);
            step = next;
        }
        assert!(completed);
        let held = cluster.replicas[0].used_blocks() + cluster.prefix.retained(0);
        assert!(
            held <= cap_blocks,
            "{held} blocks in a {cap_blocks}-block cache"
        );
        assert_eq!(
            cluster.prefix.resident(0, 0, SimTime::ZERO, SimTime::MAX),
            1024
        );
    }
}
