//! Scenarios: what a user writes, and the checked setup a run is built from.
//!
//! A scenario is a TOML file in human units (see `tokenfleet_models::units`). [`Scenario`] is
//! its written form, deserialized strictly (unknown keys are errors); [`Scenario::load`] reads a
//! file, applies `--set PATH=VALUE` overrides and reports errors with the file, the line and
//! the field path. [`Scenario::resolve`] checks everything that parses but cannot work (an
//! unknown device, a model that does not fit, shares that do not sum to one) and produces the
//! [`Setup`](tokenfleet_setup::Setup) the engine runs.
//!
//! The crate depends on `tokenfleet-models` (units, the catalog, the performance model),
//! `tokenfleet-engine` (time, reading text), `tokenfleet-workload` (segments and their loops)
//! and `tokenfleet-setup` (what it produces). It must never depend on what runs a setup
//! (`tokenfleet-serving`, `tokenfleet-fleet`, `tokenfleet-analysis`) or on the reports: the
//! parser knows nothing of what is done with a `Setup`, so a change to the file format stops
//! here.
//!
//! This file is a table of contents: the written form is in `spec/` (one file per section of
//! a scenario file), reading and placing problems in `load.rs`, `--set` in `overrides.rs`,
//! presets in `presets.rs`, and resolution into a `Setup` in `resolve/` (one file per
//! section).

mod error;
mod load;
mod locate;
pub mod overrides;
pub mod presets;
mod resolve;
mod spec;
mod suggest;

pub use error::{Problem, ScenarioError};
pub use load::{DEFAULT_SCENARIO, DEFAULT_SCENARIO_FILE, Origin};
pub use resolve::{apportion, price_sets};
pub use spec::{
    AutoscaleSpec, ClusterSpec, ElectricitySpec, EnergySpec, EngineSpec, FleetSpec,
    GenaiPricesImport, LitellmImport, ModelSpec, OwnSpec, PlanSpec, PoolSpec, PriceSpec,
    RateLimitSpec, ReferenceSpec, RentSpec, RetrySpec, SampleSpec, Scenario, SegmentSpec,
    SimulationSpec, SlaSpec, SubAgentSpec, TargetsSpec, TariffSpec, TaskSpec, WeekendSpec,
};
pub use suggest::closest;
pub use tokenfleet_setup::{ProfileSpec, RouterKind, ScaleMetric};
