//! Scenarios: what a user writes, and the checked setup a run is built from.
//!
//! A scenario is a TOML file in human units (see `tokenfleet_models::units`). [`Scenario`] is
//! its written form, deserialized strictly (unknown keys are errors); [`Scenario::load`] reads a
//! file, applies `--set PATH=VALUE` overrides and reports errors with the file, the line and
//! the field path. [`Scenario::resolve`] checks everything that parses but cannot work (an
//! unknown device, a model that does not fit, shares that do not sum to one) and produces the
//! [`Setup`] the engine runs.

mod error;
mod locate;
pub mod overrides;
pub mod presets;
mod resolve;
mod suggest;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use tokenfleet_models::dist::DistSpec;
use tokenfleet_models::hardware::DeviceSpec;
use tokenfleet_models::precision::Precision;
use tokenfleet_models::prices::{PeriodSpec, TierSpec};
use tokenfleet_models::units::{
    Count, CountUnit, Fraction, Seconds, SecondsUnit, TokenUnit, Tokens, Usd, UsdPerHour,
    UsdPerKwh, UsdPerMTok, Watts,
};

pub use error::{Problem, ScenarioError};
pub use resolve::{apportion, price_sets};
pub use suggest::closest;
use suggest::explain;
use tokenfleet_setup::Setup;
pub use tokenfleet_setup::{ProfileSpec, RouterKind, ScaleMetric};

/// The default scenario, compiled into the binary.
pub const DEFAULT_SCENARIO: &str = include_str!("../../../scenarios/openclaw-2026.toml");
/// The name shown for the built-in default scenario in messages.
pub const DEFAULT_SCENARIO_FILE: &str = "scenarios/openclaw-2026.toml (built in)";

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
    pub set_by: Vec<overrides::Applied>,
}

fn default_seed() -> u64 {
    1
}

/// How long to simulate, from 00:00 UTC of which weekday.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationSpec {
    #[serde(default = "default_duration")]
    pub duration: Seconds,
    /// Weekday of the first simulated day ("monday" ... "sunday" or "mon" ... "sun"); decides
    /// which simulated days are weekend days. Default Monday.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
}
fn default_duration() -> Seconds {
    Seconds::new(86_400.0)
}
impl Default for SimulationSpec {
    fn default() -> Self {
        SimulationSpec {
            duration: default_duration(),
            start: None,
        }
    }
}

/// How the run is executed (not what is simulated).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSpec {
    /// Replicas of the largest pool per cell; cells are the unit of parallelism and sampling.
    #[serde(default = "default_replicas_per_cell")]
    pub replicas_per_cell: Count,
    /// "auto" (sample cells so that about `max_sampled_calls` calls are simulated), "full",
    /// or a fraction of cells.
    #[serde(default)]
    pub sample: SampleSpec,
    #[serde(default = "default_max_sampled_calls")]
    pub max_sampled_calls: Count,
    /// Share of calls written to calls_sample.csv (decided by a hash, so deterministic).
    #[serde(default = "default_calls_sample_rate")]
    pub calls_sample_rate: Fraction,
    /// Upper bound on rows in calls_sample.csv.
    #[serde(default = "default_calls_sample_max")]
    pub calls_sample_max: Count,
    /// Simulate batches iteration by iteration instead of in closed form (a reference for
    /// tests and benchmarks; same results, many more events).
    #[serde(default)]
    pub stepping: bool,
}
fn default_replicas_per_cell() -> Count {
    Count::new(8.0)
}
fn default_max_sampled_calls() -> Count {
    Count::new(15e6)
}
fn default_calls_sample_rate() -> Fraction {
    Fraction::new(1e-3)
}
fn default_calls_sample_max() -> Count {
    Count::new(100_000.0)
}
impl Default for EngineSpec {
    fn default() -> Self {
        EngineSpec {
            replicas_per_cell: default_replicas_per_cell(),
            sample: SampleSpec::default(),
            max_sampled_calls: default_max_sampled_calls(),
            calls_sample_rate: default_calls_sample_rate(),
            calls_sample_max: default_calls_sample_max(),
            stepping: false,
        }
    }
}

/// "auto", "full" or a fraction in (0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum SampleSpec {
    #[default]
    Auto,
    Full,
    Fraction(f64),
}

impl Serialize for SampleSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            SampleSpec::Auto => s.serialize_str("auto"),
            SampleSpec::Full => s.serialize_str("full"),
            SampleSpec::Fraction(f) => s.serialize_f64(*f),
        }
    }
}

impl<'de> Deserialize<'de> for SampleSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = SampleSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"auto\", \"full\" or a fraction of cells in (0, 1]")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<SampleSpec, E> {
                match s {
                    "auto" => Ok(SampleSpec::Auto),
                    "full" => Ok(SampleSpec::Full),
                    _ => match s.parse::<Fraction>() {
                        Ok(f) => self.visit_f64(f.get()),
                        Err(_) => Err(E::custom(format!(
                            "invalid sample {s:?}; accepted: \"auto\", \"full\" or a fraction in (0, 1]"
                        ))),
                    },
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<SampleSpec, E> {
                if v > 0.0 && v <= 1.0 {
                    Ok(SampleSpec::Fraction(v))
                } else {
                    Err(E::custom(format!(
                        "invalid sample {v}; accepted: \"auto\", \"full\" or a fraction in (0, 1]"
                    )))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SampleSpec, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SampleSpec, E> {
                self.visit_f64(v as f64)
            }
        }
        d.deserialize_any(V)
    }
}

/// The agents.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetSpec {
    pub agents: Count,
    #[serde(rename = "segment")]
    pub segments: Vec<SegmentSpec>,
}

/// A kind of agent and its share of the fleet.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentSpec {
    pub name: String,
    pub share: Fraction,
    /// A shipped fragment (`coding-agent`, `openclaw-heavy`, ...) merged under this segment's
    /// own keys before the scenario is read (see `workload::presets`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// "agent" (tasks started by the profile; the default), "monitor" (one endless loop
    /// around the clock) or "open-loop" (independent calls every `tool_gap`, answered or not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Model id the segment's agents call.
    pub model: String,
    /// Tokens (input + output) an agent spends on a full weekday.
    pub daily_tokens: DistSpec<TokenUnit>,
    /// When in the (local) day tasks start.
    #[serde(default)]
    pub profile: ProfileSpec,
    /// Hours east of UTC where the segment's agents live (the simulated day is UTC).
    #[serde(default)]
    pub timezone: i32,
    /// Saturdays and Sundays (local): activity factor and profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekend: Option<WeekendSpec>,
    pub task: TaskSpec,
}

/// How weekends differ from weekdays.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeekendSpec {
    /// A weekend day's activity (and budget) relative to a weekday's. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<Fraction>,
    /// The shape of a weekend day (default: the segment's profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileSpec>,
}

/// The agent loop of one task.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// Mean tokens (input + output, all calls) of one task; sets how many tasks a budget buys.
    /// Required for agents; monitors run one endless loop and ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Tokens>,
    /// Log-normal sigma of task sizes around that mean.
    #[serde(default = "default_spread")]
    pub spread: f64,
    /// System prompt and tool schemas: the context every task starts from.
    pub system_tokens: DistSpec<TokenUnit>,
    /// New tokens per call (user turn or tool result) appended to the context.
    pub new_tokens: DistSpec<TokenUnit>,
    /// Visible output tokens per call (they join the context too).
    pub output_tokens: DistSpec<TokenUnit>,
    /// Reasoning (thinking) tokens per call: decoded and billed as output. Default 0.
    #[serde(default = "default_zero_tokens")]
    pub reasoning_tokens: DistSpec<TokenUnit>,
    /// Whether reasoning stays in the context for the next calls (interleaved thinking, as
    /// MiniMax-M2 requires). Default false: dropped, as Anthropic, OpenAI and DeepSeek do.
    #[serde(default)]
    pub keep_reasoning: bool,
    /// Tool execution and think time between an answer and the next call.
    pub tool_gap: DistSpec<SecondsUnit>,
    /// Compact the context when it would exceed this fraction of the model's window.
    #[serde(default = "default_compact_at")]
    pub compact_at: Fraction,
    /// Size of the summary a compaction produces.
    #[serde(default = "default_summary_tokens")]
    pub summary_tokens: DistSpec<TokenUnit>,
    /// Retries of rejected calls.
    #[serde(default)]
    pub retry: RetrySpec,
    /// Sub-agents the loop fans out to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subagents: Option<SubAgentSpec>,
}
fn default_spread() -> f64 {
    0.5
}
fn default_compact_at() -> Fraction {
    Fraction::new(0.85)
}
fn default_summary_tokens() -> DistSpec<TokenUnit> {
    DistSpec::Constant {
        value: Tokens::new(4000.0),
    }
}
fn default_zero_tokens() -> DistSpec<TokenUnit> {
    DistSpec::Constant {
        value: Tokens::new(0.0),
    }
}

/// Retries of a rejected call: up to `max` more attempts, waiting `backoff`, then `factor`
/// times longer each time, spread by +-`jitter` (a share of the wait).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    #[serde(default = "default_retry_max")]
    pub max: u32,
    #[serde(default = "default_backoff")]
    pub backoff: Seconds,
    #[serde(default = "default_backoff_factor")]
    pub factor: f64,
    #[serde(default = "default_jitter")]
    pub jitter: Fraction,
}
fn default_retry_max() -> u32 {
    3
}
fn default_backoff() -> Seconds {
    Seconds::new(2.0)
}
fn default_backoff_factor() -> f64 {
    2.0
}
fn default_jitter() -> Fraction {
    Fraction::new(0.5)
}
impl Default for RetrySpec {
    fn default() -> Self {
        RetrySpec {
            max: default_retry_max(),
            backoff: default_backoff(),
            factor: default_backoff_factor(),
            jitter: default_jitter(),
        }
    }
}

/// Sub-agents: short loops with their own context that an answer fans out to. Loop fields
/// left out are the parent's.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubAgentSpec {
    /// Chance that an answer starts sub-agents.
    pub probability: Fraction,
    /// How many start together (at most 16).
    #[serde(default = "default_fanout")]
    pub fanout: DistSpec<CountUnit>,
    /// Calls in each sub-agent's loop.
    pub calls: DistSpec<CountUnit>,
    /// Tokens each hands back into the parent's context.
    #[serde(default = "default_result_tokens")]
    pub result_tokens: DistSpec<TokenUnit>,
    /// The parent waits for all of them (Claude Code's Task tool). Default true.
    #[serde(default = "default_true")]
    pub blocking: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_tokens: Option<DistSpec<TokenUnit>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_tokens: Option<DistSpec<TokenUnit>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<DistSpec<TokenUnit>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<DistSpec<TokenUnit>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_gap: Option<DistSpec<SecondsUnit>>,
}
fn default_fanout() -> DistSpec<CountUnit> {
    DistSpec::Constant {
        value: Count::new(1.0),
    }
}
fn default_result_tokens() -> DistSpec<TokenUnit> {
    DistSpec::Constant {
        value: Tokens::new(1000.0),
    }
}
fn default_true() -> bool {
    true
}

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
    /// Overrides [energy] for this pool.
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

/// An electricity price: a price, a catalog region, or a peak/off-peak tariff.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ElectricitySpec {
    Price(UsdPerKwh),
    Region(String),
    Tariff(TariffSpec),
}

/// A two-rate time-of-day tariff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TariffSpec {
    pub peak: UsdPerKwh,
    pub off_peak: UsdPerKwh,
    /// Local "HH:MM-HH:MM" window of the peak rate.
    pub peak_hours: String,
    /// Hours east of UTC of the site (the simulated day is UTC).
    #[serde(default)]
    pub timezone: i32,
}

impl<'de> Deserialize<'de> for ElectricitySpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ElectricitySpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a price such as \"$0.08/kWh\", a region id, or { peak, off_peak, peak_hours, timezone }")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ElectricitySpec, E> {
                if s.trim_start().starts_with('$')
                    || s.chars().next().is_some_and(|c| c.is_ascii_digit())
                {
                    s.parse().map(ElectricitySpec::Price).map_err(E::custom)
                } else {
                    Ok(ElectricitySpec::Region(s.to_string()))
                }
            }
            fn visit_map<A: de::MapAccess<'de>>(self, m: A) -> Result<ElectricitySpec, A::Error> {
                TariffSpec::deserialize(de::value::MapAccessDeserializer::new(m))
                    .map(ElectricitySpec::Tariff)
            }
        }
        d.deserialize_any(V)
    }
}
fn default_depreciation() -> Seconds {
    Seconds::new(5.0 * 365.25 * 86_400.0)
}

/// Electricity and cooling.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergySpec {
    #[serde(default = "default_electricity")]
    pub electricity: ElectricitySpec,
    #[serde(default = "default_pue")]
    pub pue: f64,
}
/// The US industrial average (catalog region "us": EIA, 2023).
fn default_electricity() -> ElectricitySpec {
    ElectricitySpec::Region("us".into())
}
/// Between the 2024 industry average (1.56, Uptime Institute) and hyperscale sites (1.1-1.2).
fn default_pue() -> f64 {
    1.3
}
impl Default for EnergySpec {
    fn default() -> Self {
        EnergySpec {
            electricity: default_electricity(),
            pue: default_pue(),
        }
    }
}

/// What a model's tokens sell for in one named set of prices: a catalog sheet, a sheet imported
/// from a public price table, or inline rates; and a blended price.
///
/// Entries with the same `name` form a set. The first set named in the file is what the run
/// bills; every other set prices the same simulated traffic as a what-if. A model missing from
/// a set is priced there by its first entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceSpec {
    /// The model these prices apply to.
    pub model: String,
    /// The set this entry belongs to (default "list").
    #[serde(default)]
    pub name: Option<String>,
    /// A built-in price sheet id.
    #[serde(default)]
    pub sheet: Option<String>,
    /// An entry of BerriAI/litellm's model_prices_and_context_window.json.
    #[serde(default)]
    pub litellm: Option<LitellmImport>,
    /// A model of pydantic/genai-prices' data.json.
    #[serde(default)]
    pub genai_prices: Option<GenaiPricesImport>,
    #[serde(default)]
    pub input: Option<UsdPerMTok>,
    #[serde(default)]
    pub cached_input: Option<UsdPerMTok>,
    #[serde(default)]
    pub cache_write: Option<UsdPerMTok>,
    #[serde(default)]
    pub output: Option<UsdPerMTok>,
    #[serde(default)]
    pub reasoning: Option<UsdPerMTok>,
    #[serde(default, rename = "tier")]
    pub tiers: Vec<TierSpec>,
    #[serde(default, rename = "period")]
    pub periods: Vec<PeriodSpec>,
    /// Bill uncached input at the cache-write rate (Anthropic-style explicit caching).
    #[serde(default)]
    pub cache_writes: bool,
    /// One price for every token (the press arithmetic). Default: (3 x input + output) / 4,
    /// the common 3:1 blend.
    #[serde(default)]
    pub blended: Option<UsdPerMTok>,
    /// Multiplies every itemized rate of the sheet, however it was given (sheet, import or
    /// inline): 0.7 asks "what if list prices fall 30%". The blended price is its own field.
    #[serde(default)]
    pub scale: Option<f64>,
}

/// `litellm = { file = "model_prices_and_context_window.json", key = "..." }`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LitellmImport {
    pub file: String,
    pub key: String,
}

/// `genai_prices = { file = "data.json", provider = "...", model = "..." }`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenaiPricesImport {
    pub file: String,
    pub provider: String,
    pub model: String,
}

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

/// A model added by the scenario: a `config.json` file or the same keys inline.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Path to a Hugging Face config.json, relative to the scenario file.
    #[serde(default)]
    pub config: Option<String>,
    /// The config.json keys inline.
    #[serde(default)]
    pub hf_config: Option<toml::Table>,
}

/// Whether field `path` is `prefix` or inside it (`fleet.agents` is inside `fleet`, not inside
/// `flee`).
fn within(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

/// "field `PATH`: " for a deserialization error's path, or nothing at the root.
fn field_prefix(path: &str) -> String {
    if path == "." || path.is_empty() {
        String::new()
    } else {
        format!("field `{path}`: ")
    }
}

/// Where the value at `path` was written: the `--set` argument that wrote it (or, for a field
/// absent from the file, one that wrote inside it), else its line in the file (or the line of
/// the nearest enclosing item that is in the file).
fn place(text: &str, set_by: &[overrides::Applied], path: &str) -> (Option<usize>, Option<String>) {
    // The last override wins, as it did when they were applied.
    if let Some(a) = set_by.iter().rev().find(|a| within(path, &a.path)) {
        return (None, Some(a.arg.clone()));
    }
    let line = locate::line_of(text, path);
    let inner = || set_by.iter().rev().find(|a| within(&a.path, path));
    match (line, inner()) {
        (None, Some(a)) => (None, Some(a.arg.clone())),
        (line, _) => (line, None),
    }
}

/// Where a scenario came from, for messages and relative paths.
#[derive(Debug, Clone)]
pub struct Origin {
    pub file: String,
    pub dir: Option<PathBuf>,
    /// The text as read, for locating lines.
    pub text: String,
}

impl Scenario {
    /// Reads a scenario file (or the built-in default when `path` is `None`) and applies
    /// `--set` overrides.
    pub fn load(
        path: Option<&Path>,
        overrides: &[String],
    ) -> Result<(Scenario, Origin), ScenarioError> {
        let (text, file, dir) = match path {
            None => (
                DEFAULT_SCENARIO.to_string(),
                DEFAULT_SCENARIO_FILE.to_string(),
                None,
            ),
            Some(p) => {
                let io = |message: String| ScenarioError::Io {
                    file: p.display().to_string(),
                    message,
                };
                let bytes = std::fs::read(p).map_err(|e| io(e.to_string()))?;
                let text = tokenfleet_engine::text::utf8(bytes).map_err(|e| {
                    io(format!(
                        "line {}: not UTF-8 text (byte {}); accepted: a TOML scenario in UTF-8",
                        e.line, e.byte
                    ))
                })?;
                (
                    text,
                    p.display().to_string(),
                    p.parent().map(Path::to_path_buf),
                )
            }
        };
        let origin = Origin { file, dir, text };
        let scenario = Self::from_text(&origin, overrides)?;
        Ok((scenario, origin))
    }

    /// Parses scenario text, applying overrides first.
    pub fn from_text(origin: &Origin, overrides: &[String]) -> Result<Scenario, ScenarioError> {
        let parse_err = |message: String| ScenarioError::Parse {
            file: origin.file.clone(),
            message,
        };
        // The file must parse as it is, so that its syntax errors carry its own lines.
        let mut doc: toml::Table = origin
            .text
            .parse()
            .map_err(|e: toml::de::Error| parse_err(e.to_string()))?;
        let set_by = overrides::apply_to(&mut doc, overrides).map_err(|e| match e {
            overrides::OverrideError::Parse(message) => parse_err(message),
            overrides::OverrideError::Arg { arg, message } => ScenarioError::Override {
                file: origin.file.clone(),
                arg,
                message,
            },
        })?;
        let parsed = if overrides.is_empty() && !crate::presets::used(&doc) {
            // Read from the text, so that errors keep toml's line, column and caret.
            let de =
                toml::Deserializer::parse(&origin.text).map_err(|e| parse_err(e.to_string()))?;
            serde_path_to_error::deserialize(de).map_err(|e| {
                let field = field_prefix(&e.path().to_string());
                parse_err(explain(&format!("{field}{}", e.into_inner())))
            })
        } else {
            // Presets are merged and overrides applied at the table level, whose values have no
            // place in the file: a failing field is located by its path instead.
            let problems = crate::presets::expand(&mut doc);
            if !problems.is_empty() {
                return Err(ScenarioError::Invalid {
                    file: origin.file.clone(),
                    problems: problems
                        .into_iter()
                        .map(|(path, message)| {
                            let (line, set_by) = place(&origin.text, &set_by, &path);
                            Problem {
                                path,
                                line,
                                set_by,
                                message,
                            }
                        })
                        .collect(),
                });
            }
            serde_path_to_error::deserialize(toml::Value::Table(doc)).map_err(|e| {
                let path = e.path().to_string();
                let field = field_prefix(&path);
                let message = explain(&format!("{field}{}", e.into_inner().message()));
                match place(&origin.text, &set_by, &path) {
                    (_, Some(arg)) => ScenarioError::Override {
                        file: origin.file.clone(),
                        arg,
                        message,
                    },
                    (Some(line), None) => parse_err(format!("line {line}: {message}")),
                    (None, None) => parse_err(message),
                }
            })
        };
        let mut scenario: Scenario = parsed?;
        scenario.set_by = set_by;
        Ok(scenario)
    }

    /// Checks the scenario against the catalog and builds the run setup.
    pub fn resolve(&self, origin: &Origin) -> Result<Setup, ScenarioError> {
        resolve::resolve(self, origin.dir.as_deref()).map_err(|mut problems| {
            for p in &mut problems {
                (p.line, p.set_by) = place(&origin.text, &self.set_by, &p.path);
            }
            ScenarioError::Invalid {
                file: origin.file.clone(),
                problems,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(text: &str) -> Origin {
        Origin {
            file: "test.toml".into(),
            dir: None,
            text: text.into(),
        }
    }

    #[test]
    fn default_scenario_parses_and_resolves() {
        let (s, o) = Scenario::load(None, &[]).unwrap();
        let setup = s.resolve(&o).unwrap();
        assert_eq!(setup.agents, 1_000_000);
    }

    #[test]
    fn unknown_fields_get_a_suggestion_and_a_line() {
        let text = DEFAULT_SCENARIO.replacen("replicas_per_cell", "replicas_per_cel", 1);
        let e = Scenario::from_text(&origin(&text), &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `replicas_per_cel`"), "{e}");
        assert!(e.contains("did you mean `replicas_per_cell`"), "{e}");
        assert!(e.contains("line "), "{e}");
    }

    #[test]
    fn bad_units_name_the_field() {
        let text = DEFAULT_SCENARIO.replacen("duration = \"24h\"", "duration = \"2 parsecs\"", 1);
        let e = Scenario::from_text(&origin(&text), &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("simulation.duration"), "{e}");
        assert!(e.contains("unknown unit \"parsecs\""), "{e}");
    }

    #[test]
    fn values_set_on_the_command_line_name_the_flag_and_others_keep_their_line() {
        let text = DEFAULT_SCENARIO.replacen("duration = \"24h\"", "duration = \"2 parsecs\"", 1);
        let line = text
            .lines()
            .position(|l| l.contains("parsecs"))
            .expect("replaced")
            + 1;
        // An override elsewhere must not move the line of an error in the file.
        let e = Scenario::from_text(&origin(&text), &["fleet.agents=5".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("line {line}:")), "{e}");
        // A bad value given with --set names the flag, not a line of the file.
        let e = Scenario::from_text(&origin(DEFAULT_SCENARIO), &["fleet.agents=nan".into()])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("test.toml: --set fleet.agents=nan: field `fleet.agents`")
                && !e.contains("line"),
            "{e}"
        );
        // So does a problem found after parsing, with the element chosen by name.
        let s = Scenario::from_text(
            &origin(DEFAULT_SCENARIO),
            &["cluster.pool.h200.hardware=h1000".into()],
        )
        .unwrap();
        let e = s
            .resolve(&origin(DEFAULT_SCENARIO))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cluster.pool[0].hardware (--set cluster.pool.h200.hardware=h1000)"),
            "{e}"
        );
    }
}
