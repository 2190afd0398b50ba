//! Admission control: what a submitted call comes to, and the agents' rate limits.
//!
//! A call is turned away when the queue it would join is full (a replica's `queue_limit`, or a
//! shared queue's room of `queue_limit` per replica it feeds) or when its agent is over the
//! pool's rate limit. A rejection is returned to the caller to count and perhaps retry, never
//! dropped silently. Rate limits are token buckets, one per agent and pool: `burst` calls deep,
//! refilled at `per_second`, and refilled lazily when the agent next calls (no events).

use tokenfleet_engine::time::SimTime;
use tokenfleet_setup::Pool;

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

/// Each agent's token bucket in each pool that limits rates.
#[derive(Debug, Clone)]
pub(super) struct RateLimits {
    /// Per pool with a rate limit: each agent's bucket (level, last refill).
    buckets: Vec<Vec<(f64, SimTime)>>,
}

impl RateLimits {
    /// Full buckets for `agents` agents in every pool that limits rates.
    pub(super) fn new(pools: &[Pool], agents: usize) -> RateLimits {
        let buckets = pools
            .iter()
            .map(|p| match p.rate_limit {
                Some(rl) => vec![(rl.burst, SimTime::ZERO); agents],
                None => Vec::new(),
            })
            .collect();
        RateLimits { buckets }
    }

    /// Takes one call from the agent's bucket if the pool (number `p`) limits rates.
    pub(super) fn take(&mut self, p: usize, pool: &Pool, agent: u32, now: SimTime) -> bool {
        let Some(rl) = pool.rate_limit else {
            return true;
        };
        let (level, last) = &mut self.buckets[p][agent as usize];
        *level = (*level + now.saturating_sub(*last).secs() * rl.per_second).min(rl.burst);
        *last = now;
        if *level >= 1.0 {
            *level -= 1.0;
            true
        } else {
            false
        }
    }
}
