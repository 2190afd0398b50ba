//! One agent: its budget, its plan for the horizon, and its loop of calls. The agent's state
//! ([`Agent`], in `state.rs`) is O(1) whatever the horizon; planning its tasks (`plan.rs`), the
//! loop of its own calls (`calls.rs`) over a growing, compacted context ([`LoopState`],
//! `context.rs`), its sub-agents (`subagent.rs`) and retries of rejected calls (`retry.rs`)
//! each have a file, and the cell calls them per event.

mod calls;
mod context;
mod draw;
mod plan;
mod retry;
mod state;
mod subagent;

pub use calls::After;
pub use context::LoopState;
pub use plan::TaskPlanning;
pub use retry::Rejection;
pub use state::Agent;
pub use subagent::SubAgent;
