//! Resolution: from a written scenario to a checked `Setup`, one file per section of the
//! file, all reporting to one `Checker` so that a user sees every problem at once.
//! `setup.rs` calls the sections in order.

mod catalog;
mod checker;
mod cost;
mod fleet;
mod pools;
mod segment;
mod served;
pub(crate) mod setup;
mod simulation;
mod targets;
mod task;

pub use fleet::apportion;
pub use served::price_sets;
