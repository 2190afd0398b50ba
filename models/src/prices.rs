//! Token prices: itemized price sheets and the blended per-token price.
//!
//! A [`PriceSheet`] prices a call by class: uncached input, cached input (a prefix-cache read),
//! output; a long-context tier (e.g. Anthropic's above 200k input) replaces all of a call's
//! rates when its input exceeds the threshold, as providers bill it. The blended price is one
//! rate for every token, the arithmetic of press estimates ("30M tokens × $30/M"); tokenfleet
//! reports both side by side because for agents, whose input is mostly cache reads, they differ
//! by an order of magnitude.

use serde::{Deserialize, Serialize};

use crate::hardware::Sourced;
use crate::money::{Money, TokenPrice};
use crate::units::{Tokens, UsdPerMTok};

/// A price sheet as written in the catalog or a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceSheetSpec {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub input: Sourced<UsdPerMTok>,
    #[serde(default)]
    pub cached_input: Option<Sourced<UsdPerMTok>>,
    #[serde(default)]
    pub cache_write: Option<Sourced<UsdPerMTok>>,
    pub output: Sourced<UsdPerMTok>,
    #[serde(default, rename = "tier")]
    pub tiers: Vec<TierSpec>,
}

/// A long-context tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    /// Applies when a call's input exceeds this many tokens.
    pub above: Tokens,
    pub input: Sourced<UsdPerMTok>,
    #[serde(default)]
    pub cached_input: Option<Sourced<UsdPerMTok>>,
    #[serde(default)]
    pub cache_write: Option<Sourced<UsdPerMTok>>,
    pub output: Sourced<UsdPerMTok>,
}

/// Per-token rates of one tier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    pub input: TokenPrice,
    pub cached_input: TokenPrice,
    pub cache_write: Option<TokenPrice>,
    pub output: TokenPrice,
}

/// A resolved price sheet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceSheet {
    pub name: String,
    pub base: Rates,
    /// (threshold in input tokens, rates), ascending.
    pub tiers: Vec<(u64, Rates)>,
}

/// A call's revenue by token class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Charge {
    pub input_uncached: Money,
    pub input_cached: Money,
    pub output: Money,
}

impl Charge {
    pub fn total(&self) -> Money {
        self.input_uncached + self.input_cached + self.output
    }
}

fn rates(
    input: &Sourced<UsdPerMTok>,
    cached: &Option<Sourced<UsdPerMTok>>,
    write: &Option<Sourced<UsdPerMTok>>,
    output: &Sourced<UsdPerMTok>,
) -> Rates {
    let p = |s: &Sourced<UsdPerMTok>| TokenPrice::from_usd_per_mtok(s.value.get());
    let input = p(input);
    Rates {
        input,
        // Without a cache-read price the provider bills cached tokens as input.
        cached_input: cached.as_ref().map_or(input, p),
        cache_write: write.as_ref().map(p),
        output: p(output),
    }
}

impl PriceSheetSpec {
    pub fn resolve(&self) -> Result<PriceSheet, String> {
        let base = rates(
            &self.input,
            &self.cached_input,
            &self.cache_write,
            &self.output,
        );
        let mut tiers = Vec::new();
        let mut last = 0u64;
        for (i, t) in self.tiers.iter().enumerate() {
            let above = t.above.get() as u64;
            if above <= last && i > 0 {
                return Err(format!("tier[{i}].above must increase"));
            }
            last = above;
            tiers.push((
                above,
                rates(&t.input, &t.cached_input, &t.cache_write, &t.output),
            ));
        }
        Ok(PriceSheet {
            name: if self.name.is_empty() {
                self.id.clone()
            } else {
                self.name.clone()
            },
            base,
            tiers,
        })
    }

    /// Figures without a source (the built-in catalog must have none).
    pub fn unsourced_fields(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |name: String, s: Option<&Sourced<UsdPerMTok>>| {
            if let Some(s) = s
                && s.source.is_none()
            {
                out.push(name);
            }
        };
        check("input".into(), Some(&self.input));
        check("cached_input".into(), self.cached_input.as_ref());
        check("cache_write".into(), self.cache_write.as_ref());
        check("output".into(), Some(&self.output));
        for (i, t) in self.tiers.iter().enumerate() {
            check(format!("tier[{i}].input"), Some(&t.input));
            check(format!("tier[{i}].cached_input"), t.cached_input.as_ref());
            check(format!("tier[{i}].cache_write"), t.cache_write.as_ref());
            check(format!("tier[{i}].output"), Some(&t.output));
        }
        out
    }
}

impl PriceSheet {
    /// The rates that apply to a call with `input_tokens` of input.
    #[inline]
    pub fn rates_for(&self, input_tokens: u64) -> &Rates {
        let mut r = &self.base;
        for (above, t) in &self.tiers {
            if input_tokens > *above {
                r = t;
            }
        }
        r
    }

    /// Itemized revenue of one call.
    #[inline]
    pub fn charge(&self, uncached: u64, cached: u64, output: u64) -> Charge {
        let r = self.rates_for(uncached + cached);
        Charge {
            input_uncached: r.input.of(uncached),
            input_cached: r.cached_input.of(cached),
            output: r.output.of(output),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(s: &str) -> PriceSheet {
        toml::from_str::<PriceSheetSpec>(s)
            .unwrap()
            .resolve()
            .unwrap()
    }

    #[test]
    fn itemized_charge_by_class() {
        let s = sheet(
            r#"input = "$5/M"
cached_input = "$0.50/M"
output = "$25/M""#,
        );
        let c = s.charge(4_000, 96_000, 200);
        assert_eq!(c.input_uncached, Money::from_usd(0.02));
        assert_eq!(c.input_cached, Money::from_usd(0.048));
        assert_eq!(c.output, Money::from_usd(0.005));
    }

    #[test]
    fn long_context_tier_reprices_the_whole_call() {
        let s = sheet(
            r#"input = "$5/M"
cached_input = "$0.50/M"
output = "$25/M"
[[tier]]
above = "200k"
input = "$10/M"
cached_input = "$1/M"
output = "$37.5/M""#,
        );
        assert_eq!(
            s.charge(1, 199_999, 0).input_cached,
            Money::from_usd(0.199999 * 0.5)
        );
        let c = s.charge(1, 200_000, 1_000_000);
        assert_eq!(c.input_cached, Money::from_usd(0.2));
        assert_eq!(c.output, Money::from_usd(37.5));
    }

    #[test]
    fn missing_cache_price_bills_as_input() {
        let s = sheet("input = \"$0.59/M\"\noutput = \"$0.79/M\"");
        assert_eq!(
            s.charge(0, 1_000_000, 0).input_cached,
            Money::from_usd(0.59)
        );
    }
}
