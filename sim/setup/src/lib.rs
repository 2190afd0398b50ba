//! # tokenfleet-setup: the checked run a scenario describes
//!
//! The runtime form of a scenario: [`Setup`] (horizon, fleet segments, execution settings,
//! SLA), its [`ServedModel`]s with their price sets, and its [`Pool`]s (device, performance
//! model, routing, admission, autoscaling, cost, electricity). `tokenfleet-scenario` produces it
//! from a TOML file; the serving code, the fleet runner, the analyses and the reports read it.
//!
//! Depends on `tokenfleet-models` (devices, models, prices), `tokenfleet-engine` (time) and
//! `tokenfleet-workload` (the resolved agent segments). It must never depend on the scenario
//! parser: what a report needs of the written file is carried here ([`SegmentInputs`]), so a
//! change to the TOML format stops at the parser.

mod cost;
mod pool;
mod served;
mod setup;
mod written;

pub use cost::{CostMode, DEFAULT_DEPRECIATION_YEARS, capital_recovery};
pub use pool::{Autoscale, Pool, RateLimit, RouterKind, ScaleMetric};
pub use served::{ModelPrice, ServedModel};
pub use setup::{EngineSetup, ReplayOf, Sample, Setup, Sla};
pub use written::{ProfileSpec, PublishedFigure, SegmentInputs};
