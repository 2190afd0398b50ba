//! Retries of rejected calls, by agents and sub-agents alike.
//!
//! A rejected call is sent again after an exponential backoff with jitter, up to `retry.max`
//! times; then the agent gives up the task (a sub-agent gives up its loop).

use tokenfleet_engine::time::SimTime;
use tokenfleet_models::dist::unit;

use super::draw::after;
use super::state::Agent;
use super::subagent::SubAgent;
use crate::call::CallSpec;
use crate::loop_params::Retry;
use crate::segment::Segment;

/// What happens after a call was rejected.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rejection {
    /// Send it again at this time.
    Retry(SimTime),
    /// Give up (the task, or the sub-agent's loop).
    GiveUp,
}

impl Agent {
    /// A call of the agent's own loop was rejected at `now`.
    pub fn rejected(&mut self, seg: &Segment, spec: &CallSpec, now: SimTime) -> Rejection {
        self.attempt += 1;
        if self.attempt <= seg.retry.max {
            self.retry = Some(*spec);
            let wait = seg.retry.delay(self.attempt, unit(&mut self.loop_rng));
            return Rejection::Retry(after(now, wait));
        }
        self.abandon();
        Rejection::GiveUp
    }

    /// The agent gives up its task.
    pub fn abandon(&mut self) {
        self.busy = false;
        self.attempt = 0;
        self.retry = None;
        self.waiting = false;
    }
}

impl SubAgent {
    pub fn rejected(&mut self, retry: &Retry, spec: &CallSpec, now: SimTime) -> Rejection {
        self.attempt += 1;
        if self.attempt <= retry.max {
            self.retry = Some(*spec);
            let wait = retry.delay(self.attempt, unit(&mut self.rng));
            return Rejection::Retry(after(now, wait));
        }
        self.active = false;
        self.retry = None;
        Rejection::GiveUp
    }
}
