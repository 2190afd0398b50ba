//! What a run is held to: `[sla]` (late calls and their refunds), `[plan]` (the targets of
//! `tokenfleet plan`) and `[[reference]]` (published figures to compare with).

use serde::{Deserialize, Serialize};

use tokenfleet_models::precision::Precision;
use tokenfleet_models::units::{Fraction, Seconds, Usd, Watts};

/// Service-level targets and what missing them costs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaSpec {
    /// A call is late if its time to first token exceeds this.
    #[serde(default)]
    pub ttft: Option<Seconds>,
    /// ... or its end-to-end time exceeds this.
    #[serde(default)]
    pub e2e: Option<Seconds>,
    /// Share of a late call's revenue refunded.
    #[serde(default)]
    pub penalty: Fraction,
}

/// The capacity-planning problem: which pool to size, over which hardware and shapes, to meet
/// which targets.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanSpec {
    /// The pool to size (default: the first).
    #[serde(default)]
    pub pool: Option<String>,
    /// Device types to try (default: the pool's).
    #[serde(default)]
    pub hardware: Vec<String>,
    /// Tensor-parallel degrees to try (default: the pool's).
    #[serde(default)]
    pub tp: Vec<u32>,
    /// Weight precisions to try (default: the pool's).
    #[serde(default)]
    pub weights: Vec<Precision>,
    /// Cells simulated per probe: more is slower and more precise.
    #[serde(default)]
    pub cells: Option<u32>,
    /// Extra seeds the chosen plan must also meet the targets with.
    #[serde(default)]
    pub verify_seeds: Option<u32>,
    #[serde(default)]
    pub targets: TargetsSpec,
}

/// Targets a plan must meet; absent ones are not checked.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetsSpec {
    #[serde(default)]
    pub ttft_p99: Option<Seconds>,
    #[serde(default)]
    pub tpot_p99: Option<Seconds>,
    #[serde(default)]
    pub e2e_p99: Option<Seconds>,
    /// Most rejected calls, as a share of calls.
    #[serde(default)]
    pub rejected_share: Option<Fraction>,
    /// Most installed facility power (devices at TDP x PUE).
    #[serde(default)]
    pub power_cap: Option<Watts>,
    /// Most the devices may cost to buy.
    #[serde(default)]
    pub capex_budget: Option<Usd>,
}

/// A published figure to set beside the simulated one (e.g. the brief's $360B a year).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceSpec {
    pub label: String,
    #[serde(default)]
    pub usd_per_year: Option<Usd>,
    #[serde(default)]
    pub usd_per_agent_day: Option<Usd>,
    #[serde(default)]
    pub source: String,
    /// The price set to compare with (default: the billed one).
    #[serde(default)]
    pub price_set: Option<String>,
}
