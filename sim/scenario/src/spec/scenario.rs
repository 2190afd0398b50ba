//! The whole scenario as written: its name and seed, and one table per section of the file.
//!
//! Each section's types live in their own file beside this one; this one only puts them
//! together, so that a section can change without touching the others.

use serde::{Deserialize, Serialize};

use tokenfleet_models::hardware::DeviceSpec;

use super::cluster::ClusterSpec;
use super::energy::EnergySpec;
use super::fleet::FleetSpec;
use super::models::ModelSpec;
use super::prices::PriceSpec;
use super::simulation::{EngineSpec, SimulationSpec};
use super::targets::{PlanSpec, ReferenceSpec, SlaSpec};
use crate::overrides::Applied;

/// A scenario as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default)]
    pub simulation: SimulationSpec,
    #[serde(default)]
    pub engine: EngineSpec,
    pub fleet: FleetSpec,
    pub cluster: ClusterSpec,
    #[serde(default)]
    pub energy: EnergySpec,
    /// What each model's tokens sell for.
    #[serde(default, rename = "price")]
    pub prices: Vec<PriceSpec>,
    /// Service-level targets; late calls can be refunded.
    #[serde(default)]
    pub sla: Option<SlaSpec>,
    /// What `tokenfleet plan` searches and the targets it must meet.
    #[serde(default)]
    pub plan: Option<PlanSpec>,
    /// Published figures to compare with.
    #[serde(default, rename = "reference")]
    pub references: Vec<ReferenceSpec>,
    /// Devices added to (or shadowing) the built-in catalog.
    #[serde(default, rename = "device")]
    pub devices: Vec<DeviceSpec>,
    /// Models added to (or shadowing) the built-in catalog.
    #[serde(default, rename = "model")]
    pub models: Vec<ModelSpec>,
    /// The `--set` overrides applied to the file, so that a problem with a value given on the
    /// command line names the flag rather than a line of the file.
    #[serde(skip)]
    pub set_by: Vec<Applied>,
}

fn default_seed() -> u64 {
    1
}
