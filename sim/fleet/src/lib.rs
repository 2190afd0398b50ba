//! # tokenfleet-fleet: a run of a whole fleet
//!
//! A run splits the fleet into independent cells ([`run::Layout`]: a slice of the cluster and
//! the agents homed on it), simulates each cell's agents and replicas with its own event queue
//! ([`cell`]), and merges the cells' integer results ([`results`]) into a [`run::RunOutput`].
//! The same runner replays a recorded trace instead of a generated fleet ([`replay`]): one
//! place decides which ([`run::Demand`]). [`run`](mod@run) also samples cells and splits a run
//! into shards for other machines; [`budget`] estimates a run's memory and time before it
//! starts; [`metrics`] computes the headline figures every analysis and report reads.
//!
//! Depends on `tokenfleet-engine`, `-workload`, `-setup` and `-serving`. It must never depend
//! on the scenario parser (it reads a [`tokenfleet_setup::Setup`]), on the analyses or on the
//! reports.

pub mod budget;
pub mod cell;
pub mod event;
pub mod metrics;
pub mod replay;
pub mod results;
pub mod run;
pub mod scale;

pub use run::{RunOutput, run};
