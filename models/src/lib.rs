//! # tokenfleet-models: what things are, not what happens
//!
//! This crate holds tokenfleet's typed specifications and the pure functions over them; it
//! knows nothing of time or events (that is the `sim/` crates, starting with `tokenfleet-engine`).
//! It depends on no other tokenfleet crate and must never: everything else is built on it.
//! Read it in this order:
//!
//! - [`units`]: the human units scenario files are written in (`"2s"`, `"$2.50/h"`, `"30M"`);
//!   [`quantity`]: such values as text, split into prefix, number and suffix;
//! - [`money`]: exact money ([`money::Money`], integer pico-dollars) and token prices;
//! - [`dist`]: the distributions of random quantities (log-normal by quantiles, Pareto, ...);
//! - [`hardware`]: accelerators ([`hardware::Hardware`]) with sourced figures;
//! - [`llm`]: LLM architectures ([`llm::ModelArch`]) read from Hugging Face `config.json`;
//! - [`perf`]: the performance model, an iteration's cost ([`perf::ReplicaPerf`]);
//! - [`power`]: device power against load; [`prices`]: price sheets, itemized and blended;
//! - [`catalog`]: the built-in devices, models and price sheets, compiled in.

pub mod catalog;
pub mod dist;
pub mod hardware;
pub mod input;
pub mod llm;
pub mod money;
pub mod names;
pub mod perf;
pub mod power;
pub mod precision;
pub mod prices;
pub mod quantity;
pub mod units;

pub use catalog::{Catalog, Model};
pub use hardware::Hardware;
pub use llm::ModelArch;
pub use money::{Money, MoneyRate, TokenPrice};
pub use precision::Precision;
