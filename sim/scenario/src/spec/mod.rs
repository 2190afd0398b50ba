//! The written form of a scenario: one file per section of a scenario file, each type
//! deserialized strictly (unknown keys are errors) in human units.

pub(crate) mod cluster;
pub(crate) mod energy;
pub(crate) mod fleet;
pub(crate) mod models;
pub(crate) mod prices;
pub(crate) mod scenario;
pub(crate) mod simulation;
pub(crate) mod targets;

pub use cluster::{AutoscaleSpec, ClusterSpec, OwnSpec, PoolSpec, RateLimitSpec, RentSpec};
pub use energy::{ElectricitySpec, EnergySpec, TariffSpec};
pub use fleet::{FleetSpec, RetrySpec, SegmentSpec, SubAgentSpec, TaskSpec, WeekendSpec};
pub use models::ModelSpec;
pub use prices::{GenaiPricesImport, LitellmImport, PriceSpec};
pub use scenario::Scenario;
pub use simulation::{EngineSpec, SampleSpec, SimulationSpec};
pub use targets::{PlanSpec, ReferenceSpec, SlaSpec, TargetsSpec};
