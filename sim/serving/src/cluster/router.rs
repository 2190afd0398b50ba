//! Routing: which replica a call goes to, or the shared queue it waits in.
//!
//! Calls are routed among the routable (active) replicas of the pools serving their model,
//! and the first pool serving the model sets the policy: round robin, least loaded, power of
//! two choices, or session affinity (back to the replica holding the agent's context unless it
//! is much busier than the least-loaded one, by the pool's `affinity_slack`). Load is relative
//! to a replica's batch size, so that pools of different sizes compare.
//!
//! Or the calls of a model wait in one shared queue and go to the first replica with a free
//! sequence slot: a gateway queue, first come first served. A call that finds a free slot on
//! the least-loaded replica goes there at once.

use std::collections::VecDeque;

use rand::RngExt;

use super::prefix::PrefixCache;
use super::replica::{Replica, ReplicaState};
use crate::ledger::rows::{Ledger, Levels};
use tokenfleet_engine::rng::SimRng;
use tokenfleet_engine::time::SimTime;
use tokenfleet_setup::{Pool, RouterKind};

/// Load relative to the replica's batch size, so that pools of different sizes compare.
#[inline]
fn load(replicas: &[Replica], pools: &[Pool], r: u32) -> f64 {
    let rep = &replicas[r as usize];
    rep.load() as f64 / pools[rep.pool as usize].max_seqs as f64
}

/// The routable replicas of each served model and the router's own state.
#[derive(Debug, Clone)]
pub(super) struct Router {
    /// Routable replicas of each served model.
    routable: Vec<Vec<u32>>,
    rr: Vec<usize>,
    rng: SimRng,
}

impl Router {
    /// A router for `served_models` models, none routable yet; `rng` drives randomized
    /// routing.
    pub(super) fn new(served_models: usize, rng: SimRng) -> Router {
        Router {
            routable: vec![Vec::new(); served_models],
            rr: vec![0; served_models],
            rng,
        }
    }

    /// The active replicas become the routable ones.
    pub(super) fn refresh(&mut self, replicas: &[Replica], pools: &[Pool]) {
        for list in &mut self.routable {
            list.clear();
        }
        for (r, rep) in replicas.iter().enumerate() {
            if rep.state == ReplicaState::Active {
                self.routable[pools[rep.pool as usize].model].push(r as u32);
            }
        }
    }

    /// The routable replicas of `model`.
    pub(super) fn routable(&self, model: usize) -> &[u32] {
        &self.routable[model]
    }

    /// Picks a replica for `agent`'s call to `model`. The first pool serving the model sets
    /// the policy.
    pub(super) fn route(
        &mut self,
        replicas: &[Replica],
        pools: &[Pool],
        prefix: &PrefixCache,
        model: usize,
        agent: u32,
        now: SimTime,
    ) -> u32 {
        let reps = &self.routable[model];
        let n = reps.len();
        debug_assert!(
            n > 0,
            "every cell keeps at least one active replica per pool"
        );
        let policy = &pools[replicas[reps[0] as usize].pool as usize];
        let start = self.rr[model] % n;
        self.rr[model] = self.rr[model].wrapping_add(1);
        let least = || {
            let mut best = reps[start];
            let mut best_load = f64::INFINITY;
            // From `start` round the ring, without a division per replica.
            let (tail, head) = reps.split_at(start);
            for &r in head.iter().chain(tail) {
                let l = load(replicas, pools, r);
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
            RouterKind::LeastLoaded | RouterKind::SharedQueue => least().0,
            RouterKind::PowerOfTwo => {
                let a = reps[self.rng.random_range(0..n)];
                let b = reps[self.rng.random_range(0..n)];
                if load(replicas, pools, b) < load(replicas, pools, a) {
                    b
                } else {
                    a
                }
            }
            RouterKind::Affinity => {
                let (best, best_load) = least();
                let home = prefix
                    .replica_of(agent, now, policy.retention)
                    .filter(|&r| {
                        let rep = &replicas[r as usize];
                        rep.state == ReplicaState::Active && pools[rep.pool as usize].model == model
                    });
                match home {
                    Some(r) => {
                        let p = &pools[replicas[r as usize].pool as usize];
                        let slack = p.affinity_slack as f64 / p.max_seqs as f64;
                        if load(replicas, pools, r) <= best_load + slack {
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
}

/// The waiting calls of a model whose first pool routes through a shared queue.
#[derive(Debug, Clone)]
pub(super) struct SharedQueue {
    pub(super) calls: VecDeque<u32>,
    /// The pool whose ledger rows and autoscaler window carry the queue's level (the first
    /// pool serving the model, whose router setting applies).
    pub(super) pool: usize,
    /// The level was last posted at this time.
    since: SimTime,
}

impl SharedQueue {
    /// The shared queue of model `m`, if its first pool routes through one, with room for
    /// the `queue_limit` of each of the model's `max[p]` replicas of pool `p`.
    pub(super) fn of_model(pools: &[Pool], m: usize, max: &[u64]) -> Option<SharedQueue> {
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
    }

    /// Posts the queue's level since the last posting to its pool's ledger rows, and returns
    /// the waiting calls x nanoseconds posted (for the autoscaler's window).
    pub(super) fn post(&mut self, ledger: &mut Ledger, now: SimTime) -> u128 {
        if now <= self.since {
            return 0;
        }
        let waiting = self.calls.len() as u64;
        // Calls in the shared queue are in the pool's system (Little's law) but hold no KV.
        ledger.levels(
            self.pool,
            self.since,
            now,
            &Levels {
                waiting,
                in_system: waiting,
                kv_used: 0,
                kv_retained: 0,
            },
        );
        let area = waiting as u128 * (now.ns() - self.since.ns()) as u128;
        self.since = now;
        area
    }
}
