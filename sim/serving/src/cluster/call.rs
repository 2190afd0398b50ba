//! A call as the cluster sees it: its tokens, its times, and where it is served.
//!
//! The caller keeps its calls in a slab and hands the cluster ids into it; the cluster fills
//! in the replica, the first token's time and the prefix-cache hit. Who made the call (an
//! agent, a sub-agent, a replayed request) is the caller's business: `agent` only names the
//! owner of a prefix-cache entry.

use tokenfleet_engine::time::SimTime;

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
