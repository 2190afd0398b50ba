//! The autoscaler: one per pool, it adds replicas (after a provisioning delay) or drains them.
//!
//! Every `interval` it reads the pool's load since its last decision, time-weighted: KV
//! occupancy, calls waiting or busy time per serving replica, whichever the pool's metric is.
//! It wants `ceil(active x observed / target)` replicas within the cell's share of the pool's
//! bounds, scales down only to the largest size wanted within the stabilization window and by
//! at most a tenth of the pool per decision, cancels drains before it boots replicas, and
//! drains the least-loaded ones. Replicas cost money only while provisioned (booting ones
//! included).

use std::collections::VecDeque;

use super::kv::BLOCK_TOKENS;
use super::replica::{Replica, ReplicaState};
use tokenfleet_engine::time::SimTime;
use tokenfleet_setup::{Autoscale, Pool, ScaleMetric};

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

/// A decision: the pool's active and provisioning replicas, and the size it should have.
#[derive(Debug, Clone, Copy)]
pub(super) struct Resize {
    pub(super) active: u64,
    pub(super) provisioning: u64,
    pub(super) desired: u64,
}

/// The autoscalers of a cell's pools: their replicas, bounds and load windows.
#[derive(Debug, Clone)]
pub(super) struct Autoscaler {
    /// All replicas of each pool.
    members: Vec<Vec<u32>>,
    /// Autoscaler bounds in this cell: (min, max).
    bounds: Vec<(u64, u64)>,
    windows: Vec<ScaleWindow>,
}

impl Autoscaler {
    /// The autoscalers of a cell with `max[p]` replicas of pool `p` (`members[p]`), `active[p]`
    /// of them serving at the start.
    pub(super) fn new(
        pools: &[Pool],
        active: &[u64],
        max: &[u64],
        members: Vec<Vec<u32>>,
    ) -> Autoscaler {
        let bounds = pools
            .iter()
            .enumerate()
            // The pool's bounds, shared out in proportion to this cell's replicas.
            .map(|(p, pool)| match pool.autoscale {
                Some(a) => {
                    let share = max[p] as f64 / pool.replicas_max.max(1) as f64;
                    (
                        ((a.min as f64 * share).round() as u64).clamp(1, max[p]),
                        max[p],
                    )
                }
                None => (active[p], active[p]),
            })
            .collect();
        Autoscaler {
            members,
            bounds,
            windows: vec![ScaleWindow::default(); pools.len()],
        }
    }

    /// The replicas of pool `p`.
    #[inline]
    pub(super) fn members(&self, p: usize) -> &[u32] {
        &self.members[p]
    }

    /// A replica of pool `p` held `used` KV blocks and `waiting` calls for `dt` ns, iterating
    /// or not.
    #[inline]
    pub(super) fn levels(&mut self, p: usize, dt: u128, used: u64, waiting: usize, busy: bool) {
        let w = &mut self.windows[p];
        w.kv_area += used as u128 * dt;
        w.queue_area += waiting as u128 * dt;
        if busy {
            w.busy_ns += dt;
        }
    }

    /// Pool `p`'s shared queue held `area` waiting calls x ns.
    #[inline]
    pub(super) fn queued(&mut self, p: usize, area: u128) {
        self.windows[p].queue_area += area;
    }

    /// Closes pool `p`'s window at `now` (its replicas' levels posted up to it) and decides
    /// the size the pool should have; `None` if no time has passed since the last decision.
    pub(super) fn decide(
        &mut self,
        p: usize,
        pool: &Pool,
        a: &Autoscale,
        replicas: &[Replica],
        now: SimTime,
    ) -> Option<Resize> {
        let w = std::mem::replace(
            &mut self.windows[p],
            ScaleWindow {
                since: now,
                ..Default::default()
            },
        );
        let dt = now.ns().saturating_sub(w.since.ns()) as f64;
        let count = |s: ReplicaState| {
            self.members[p]
                .iter()
                .filter(|&&r| replicas[r as usize].state == s)
                .count() as u64
        };
        let (active, provisioning) = (
            count(ReplicaState::Active),
            count(ReplicaState::Provisioning),
        );
        let serving = (active + count(ReplicaState::Draining)).max(1) as f64;
        if dt <= 0.0 {
            return None;
        }
        let cap_blocks = (pool.perf.kv_capacity_tokens / BLOCK_TOKENS) as f64;
        let observed = match a.metric {
            ScaleMetric::Kv => w.kv_area as f64 / (dt * serving * cap_blocks),
            ScaleMetric::Queue => w.queue_area as f64 / (dt * serving),
            ScaleMetric::Busy => w.busy_ns as f64 / (dt * serving),
        };
        let (lo, hi) = self.bounds[p];
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
        Some(Resize {
            active,
            provisioning,
            desired,
        })
    }

    /// Adds `add` replicas to pool `p`: cancels drains first (instant), then boots replicas
    /// that are off, each ready `delay` after `now` (pushed to `ready`).
    pub(super) fn grow(
        &self,
        p: usize,
        replicas: &mut [Replica],
        mut add: u64,
        now: SimTime,
        delay: SimTime,
        ready: &mut Vec<(SimTime, u32)>,
    ) {
        for &r in &self.members[p] {
            let rep = &mut replicas[r as usize];
            if add == 0 {
                break;
            }
            if rep.state == ReplicaState::Draining {
                rep.state = ReplicaState::Active;
                add -= 1;
            }
        }
        for &r in &self.members[p] {
            let rep = &mut replicas[r as usize];
            if add == 0 {
                break;
            }
            if rep.state == ReplicaState::Off {
                rep.state = ReplicaState::Provisioning;
                rep.on_since = now;
                rep.levels_since = now;
                ready.push((now.saturating_add(delay), r));
                add -= 1;
            }
        }
    }

    /// The `n` least-loaded active replicas of pool `p`, to drain.
    pub(super) fn to_drain(&self, p: usize, replicas: &[Replica], n: u64) -> Vec<u32> {
        let mut candidates: Vec<u32> = self.members[p]
            .iter()
            .copied()
            .filter(|&r| replicas[r as usize].state == ReplicaState::Active)
            .collect();
        candidates.sort_by_key(|&r| (replicas[r as usize].load(), r));
        candidates.truncate(n as usize);
        candidates
    }
}
