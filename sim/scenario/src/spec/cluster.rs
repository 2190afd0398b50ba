//! `[cluster]`: the `[[cluster.pool]]`s, each with its engine limits, router, rate limit,
//! autoscaler and what its devices cost (rented or owned).

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

use tokenfleet_models::precision::Precision;
use tokenfleet_models::units::{Count, Fraction, Seconds, Usd, UsdPerHour};
use tokenfleet_setup::{RouterKind, ScaleMetric};

use super::energy::ElectricitySpec;

/// The inference cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    #[serde(rename = "pool")]
    pub pools: Vec<PoolSpec>,
}

/// Replicas of one hardware type serving one model.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSpec {
    pub name: String,
    pub hardware: String,
    pub model: String,
    pub replicas: Count,
    #[serde(default = "one")]
    pub tp: u32,
    #[serde(default = "one")]
    pub pp: u32,
    /// Weight precision (default: the precision the model is published in).
    #[serde(default)]
    pub weights: Option<Precision>,
    /// KV-cache precision (default: bf16).
    #[serde(default)]
    pub kv_cache: Option<Precision>,
    /// Token budget of one iteration (vLLM's max_num_batched_tokens).
    #[serde(default = "default_max_batch_tokens")]
    pub max_batch_tokens: u32,
    /// Sequences in one batch at most (vLLM's max_num_seqs).
    #[serde(default = "default_max_seqs")]
    pub max_seqs: u32,
    /// Calls waiting per replica beyond which new calls are rejected (with a shared queue:
    /// `queue_limit` x the replicas it feeds).
    #[serde(default = "default_queue_limit")]
    pub queue_limit: u32,
    #[serde(default = "default_router")]
    pub router: RouterKind,
    #[serde(default = "default_affinity_slack")]
    pub affinity_slack: u32,
    /// How long an agent's context stays cached on a replica after its last call.
    #[serde(default = "default_retention")]
    pub prefix_retention: Seconds,
    /// Per-agent rate limit at this pool's gateway; calls beyond it are rejected.
    #[serde(default)]
    pub rate_limit: Option<RateLimitSpec>,
    /// Scale the pool with load between `min` and `max` replicas (`replicas` is the start).
    #[serde(default)]
    pub autoscale: Option<AutoscaleSpec>,
    /// Rented devices: "$2.50/h", or "low" / "typical" / "high" for the catalog's sourced market
    /// range (low ≈ reserved or spot capacity, high ≈ hyperscaler on-demand). Default: typical.
    #[serde(default)]
    pub rent: Option<RentSpec>,
    /// Owned devices: purchase price, depreciation and overhead.
    #[serde(default)]
    pub own: Option<OwnSpec>,
    /// Whether electricity is paid on top of the hardware cost. Default: no for rented devices
    /// (cloud GPU-hour prices include power, cooling and facility), yes for owned ones.
    #[serde(default)]
    pub pay_energy: Option<bool>,
    /// Overrides `[energy]` for this pool.
    #[serde(default)]
    pub electricity: Option<ElectricitySpec>,
    #[serde(default)]
    pub pue: Option<f64>,
}
fn one() -> u32 {
    1
}
fn default_max_batch_tokens() -> u32 {
    8192
}
fn default_max_seqs() -> u32 {
    256
}
fn default_queue_limit() -> u32 {
    1024
}
fn default_router() -> RouterKind {
    RouterKind::Affinity
}
fn default_affinity_slack() -> u32 {
    16
}
fn default_retention() -> Seconds {
    Seconds::new(1800.0)
}

/// A token bucket per agent: `calls` calls per `per`, bursts up to `calls`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSpec {
    pub calls: Count,
    pub per: Seconds,
}

/// Autoscaling of a pool.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoscaleSpec {
    pub min: Count,
    pub max: Count,
    #[serde(default = "default_scale_metric")]
    pub metric: ScaleMetric,
    /// Target value of the metric (a fraction for kv and busy, calls per replica for queue).
    pub target: f64,
    /// How often the autoscaler decides.
    #[serde(default = "default_scale_interval")]
    pub interval: Seconds,
    /// Time from the decision to a new replica serving (boot, weight load); it is paid for.
    #[serde(default = "default_provision_delay")]
    pub provision_delay: Seconds,
    /// Scale down only to the largest size wanted over this window (Kubernetes HPA's
    /// stabilization window), so a momentary lull does not drain the pool.
    #[serde(default = "default_scale_down_window")]
    pub scale_down_window: Seconds,
}
fn default_scale_down_window() -> Seconds {
    Seconds::new(300.0)
}
fn default_scale_metric() -> ScaleMetric {
    ScaleMetric::Kv
}
fn default_scale_interval() -> Seconds {
    Seconds::new(60.0)
}
fn default_provision_delay() -> Seconds {
    Seconds::new(300.0)
}

/// Owned hardware: capex spread over a depreciation period.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnSpec {
    /// Purchase price per device (default: the catalog's).
    #[serde(default)]
    pub price: Option<Usd>,
    #[serde(default = "default_depreciation")]
    pub depreciation: Seconds,
    /// Extra cost on top of the device price: rest of the server, network, facility.
    #[serde(default)]
    pub overhead: Fraction,
    /// Annual cost of capital: capex is paid off as an annuity over the depreciation period.
    #[serde(default)]
    pub cost_of_capital: Fraction,
}

/// A rent: a price or a point of the catalog's market range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RentSpec {
    Price(UsdPerHour),
    Low,
    Typical,
    High,
}

impl Serialize for RentSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RentSpec::Price(p) => p.serialize(s),
            RentSpec::Low => s.serialize_str("low"),
            RentSpec::Typical => s.serialize_str("typical"),
            RentSpec::High => s.serialize_str("high"),
        }
    }
}

impl<'de> Deserialize<'de> for RentSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(match text.as_str() {
            "low" => RentSpec::Low,
            "typical" => RentSpec::Typical,
            "high" => RentSpec::High,
            _ => RentSpec::Price(text.parse().map_err(
                |e: tokenfleet_models::units::UnitError| {
                    de::Error::custom(format!(
                        "{e}; or one of \"low\", \"typical\", \"high\" (the catalog's market range)"
                    ))
                },
            )?),
        })
    }
}
fn default_depreciation() -> Seconds {
    Seconds::new(tokenfleet_setup::DEFAULT_DEPRECIATION_YEARS * 365.25 * 86_400.0)
}
