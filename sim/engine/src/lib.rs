//! # tokenfleet-engine: the ground a simulation stands on
//!
//! What every other simulation crate builds on, and nothing of the domain: [`time`] (integer
//! nanoseconds, so that event order never depends on float rounding), [`rng`] (one random
//! stream per (seed, subsystem, entity), so results do not depend on thread count or on the
//! order entities are visited), [`queue`] (the (time, sequence) event queue), [`interrupt`]
//! (the process-wide stop request and the partial outputs to remove on a stop) and [`text`]
//! (user files read as UTF-8 with a located error, numbers written for messages).
//!
//! Depends on no other tokenfleet crate, and must never: agents, replicas, prices and
//! scenarios all sit above it.

pub mod interrupt;
pub mod queue;
pub mod rng;
pub mod text;
pub mod time;

pub use time::SimTime;
