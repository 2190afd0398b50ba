//! # tokenfleet-analysis: questions asked of many runs
//!
//! [`plan`] finds the cheapest cluster that meets latency, rejection, power and capex targets
//! (analytic lower bounds, then a simulation-verified search per candidate device and
//! parallelism); [`sweep`] varies fields over a grid with several seeds (curves with p10-p90
//! bands, and uncertain inputs drawn per seed); [`sensitivity`] moves each key input down and
//! up and ranks what moves the margin and the cost most.
//!
//! Depends on `tokenfleet-scenario` (each point is the scenario with overrides, resolved
//! again, so every point is checked like a user's file) and `tokenfleet-fleet` (the runs and
//! their headline figures). It must never depend on the reports: it returns numbers, and
//! `tokenfleet-reports` writes them.

pub mod estimate;
pub mod plan;
pub mod plan_cost;
pub mod sensitivity;
pub mod sweep;
pub mod targets;
