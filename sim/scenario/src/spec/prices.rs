//! `[[price]]`: what each model's tokens sell for, in named sets (a catalog sheet, an import
//! from a public price table, or inline rates).

use serde::{Deserialize, Serialize};

use tokenfleet_models::prices::{PeriodSpec, TierSpec};
use tokenfleet_models::units::UsdPerMTok;

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
