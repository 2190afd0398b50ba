//! The [`Cluster`]: a cell's replicas and the state they share, and what happens to a call.
//!
//! A call is routed ([`super::router`]), admitted or turned away ([`super::admission`]),
//! queued on its replica or in its model's shared queue, batched ([`super::replica`]) and,
//! once complete, leaves its context in the prefix cache ([`super::prefix`]) for the agent's
//! next call. Each replica's levels (waiting, in system, KV) are posted to the ledger right
//! before they change, and feed the autoscaler's window ([`super::autoscaler`]) on the way.

use std::sync::Arc;

use super::admission::{RateLimits, Rejection, Submitted};
use super::autoscaler::{Autoscaler, Resize, ScaleActions};
use super::call::Call;
use super::kv::BLOCK_TOKENS;
use super::prefix::PrefixCache;
use super::replica::{Replica, ReplicaState};
use super::router::{Router, SharedQueue};
use crate::ledger::rows::{Ledger, Levels};
use tokenfleet_engine::rng::SimRng;
use tokenfleet_engine::time::SimTime;
use tokenfleet_models::power::ShareTable;
use tokenfleet_setup::Pool;

/// A cell's replicas and their shared state.
pub struct Cluster<'s> {
    pools: &'s [Pool],
    pub replicas: Vec<Replica>,
    pub prefix: PrefixCache,
    router: Router,
    scaler: Autoscaler,
    limits: RateLimits,
    /// Per served model: its shared queue, if its first pool routes through one.
    shared: Vec<Option<SharedQueue>>,
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
        for (p, pool) in pools.iter().enumerate() {
            let power = Arc::new(ShareTable::new(&pool.power));
            for i in 0..max[p] {
                let state = if i < active[p] {
                    ReplicaState::Active
                } else {
                    ReplicaState::Off
                };
                pool_replicas[p].push(replicas.len() as u32);
                replicas.push(Replica::new(p as u16, state, pool.max_seqs, power.clone()));
            }
        }
        let n = replicas.len();
        let mut c = Cluster {
            pools,
            replicas,
            prefix: PrefixCache::new(agents, n),
            router: Router::new(served_models, rng),
            scaler: Autoscaler::new(pools, active, max, pool_replicas),
            limits: RateLimits::new(pools, agents),
            shared: (0..served_models)
                .map(|m| SharedQueue::of_model(pools, m, max))
                .collect(),
            max_iters: if stepping { 1 } else { u64::MAX },
            done: Vec::new(),
        };
        c.refresh_routable();
        c
    }

    fn refresh_routable(&mut self) {
        self.router.refresh(&self.replicas, self.pools);
    }

    /// Picks a replica for `agent`'s call to `model`. The first pool serving the model sets
    /// the policy.
    pub fn route(&mut self, model: usize, agent: u32, now: SimTime) -> u32 {
        self.router
            .route(&self.replicas, self.pools, &self.prefix, model, agent, now)
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
        if !self.limits.take(p, &self.pools[p], agent, now) {
            return Submitted::Rejected {
                replica: r,
                reason: Rejection::RateLimited,
            };
        }
        if self.shared[model].is_some() {
            // The least-loaded replica is full only if every replica is: then the call waits
            // in the shared queue, which holds `queue_limit` calls per replica it feeds.
            if self.replicas[r as usize].load() >= self.pools[p].max_seqs as usize {
                let room: usize = self
                    .router
                    .routable(model)
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
        let area = q.post(ledger, now);
        self.scaler.queued(q.pool, area);
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
        self.scaler
            .levels(p, dt, used, rep.waiting(), rep.is_iterating());
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
        let Some(a) = self.pools[p].autoscale else {
            return actions;
        };
        actions.next_tick = Some(now.saturating_add(a.interval));
        for i in 0..self.scaler.members(p).len() {
            let r = self.scaler.members(p)[i];
            if self.replicas[r as usize].state != ReplicaState::Off {
                self.post_levels(r, ledger, now);
            }
        }
        for m in 0..self.shared.len() {
            if self.shared[m].as_ref().is_some_and(|q| q.pool == p) {
                self.post_shared(m, ledger, now);
            }
        }
        let Some(Resize {
            active,
            provisioning,
            desired,
        }) = self
            .scaler
            .decide(p, &self.pools[p], &a, &self.replicas, now)
        else {
            return actions;
        };
        if desired > active + provisioning {
            let add = desired - active - provisioning;
            self.scaler.grow(
                p,
                &mut self.replicas,
                add,
                now,
                a.provision_delay,
                &mut actions.ready,
            );
        } else if desired < active && provisioning == 0 {
            for r in self.scaler.to_drain(p, &self.replicas, active - desired) {
                self.replicas[r as usize].state = ReplicaState::Draining;
                if self.replicas[r as usize].is_idle() {
                    self.switch_off(r, ledger, now);
                }
            }
        }
        self.refresh_routable();
        // Replicas whose drain was cancelled may have room for calls in a shared queue.
        for i in 0..self.scaler.members(p).len() {
            let r = self.scaler.members(p)[i];
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
