//! The run's headline figures, computed once from the ledger and shared by every output.
//!
//! Fleet-level figures are scaled from the simulated cells (see `tokenfleet_fleet::run`): demand
//! and revenue by fleet agents / simulated agents, cost and energy per pool by pool replicas /
//! simulated replicas. The `simulated` block keeps the unscaled counts, on which conservation
//! holds exactly.
//!
//! The blocks' types, which are summary.json's shape, are in [`types`]; [`Summary::new`] in
//! `compute` fills them, with the per-pool block from `pools` and the per-segment block from
//! `segments`. This file only declares them and re-exports.

mod compute;
mod pools;
mod segments;
pub mod types;

pub use types::{
    Agents, Calls, Cost, Engine, Latency, PerMillion, PoolSummary, PrefixCache, Quantiles, Revenue,
    RevenueByClass, SamplingError, SegmentSummary, Simulated, Summary, Tokens, Utilization,
};
// Defined here before they had files of their own (tests use `summary::row_cost`).
pub use crate::num::usd;
pub use tokenfleet_fleet::scale::{row_cost, scale_u64};
