//! # tokenfleet-sim: what happens in time
//!
//! The discrete-event engine of tokenfleet. A run takes a [`scenario::Setup`] (a checked
//! scenario), splits the fleet into independent cells ([`run::Layout`]), simulates each cell's
//! agents and replicas with a small event queue ([`cell`]), and merges the cells' integer
//! ledgers into a [`run::RunOutput`] that the reports crate turns into files.
//!
//! Read in this order: [`time`] (integer nanoseconds), [`rng`] (one random stream per
//! (seed, subsystem, entity)), [`engine`] (the (time, sequence) event queue), [`workload`]
//! (agents and their loops), [`cluster`] (replicas, continuous batching in closed form, prefix
//! cache, routing), [`ledger`] (tokens, money, time per pool and hour), [`cell`] and [`run`];
//! [`trace`] replays recorded traffic (Azure, Mooncake, Claude Code) instead of a fleet.
//! The invariants these modules keep are listed in docs/invariants.md with their tests.

pub mod bench;
pub mod budget;
pub mod cell;
pub mod cluster;
pub mod engine;
pub mod interrupt;
pub mod ledger;
pub mod metrics;
pub mod plan;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod sensitivity;
pub mod sweep;
pub mod text;
pub mod time;
pub mod trace;
pub mod workload;

pub use run::{RunOutput, run};
pub use scenario::{Scenario, ScenarioError, Setup};
pub use time::SimTime;
