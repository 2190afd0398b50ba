//! One cell: a slice of the cluster and the demand homed on it, simulated on its own.
//!
//! The event loop is a `match` over a few events: `TaskDue` (an agent's planned task start),
//! `CallIssue` (an agent sends its next call after a tool gap or a retry backoff), `SubIssue`
//! (a sub-agent does), `Step` (a replica's batch reaches a milestone), and for trace replay
//! `Arrive` (a recorded request's time came) and `SessionIssue` (a replayed session sends its
//! next request). Handlers post to the cell's ledger; nothing outside the cell is read or
//! written, so cells run in parallel and their results merge exactly.
//!
//! The cluster knows a call's `agent` only as the owner of a prefix-cache entry (and for
//! affinity routing). Agents use their index in the cell; sub-agents, which have contexts of
//! their own, use `agents + agent * max_fanout + j`; replayed traffic uses its session or
//! prefix chain.
//!
//! `sim` holds the cell's state and its event loop, `issue` submits calls to the cluster,
//! `complete` bills and books a completed call, and `demand` moves the demand on: agents'
//! tasks, sub-agents, retries, and replayed arrivals and sessions.

mod complete;
mod demand;
mod issue;
mod sim;

pub use sim::{CellSpec, run_cell, run_replay_cell};
