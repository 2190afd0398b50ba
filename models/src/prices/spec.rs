//! Price sheets as written in the catalog or a scenario, and their resolution into a
//! [`PriceSheet`].
//!
//! Every figure is [`Sourced`] so that the built-in catalog can be checked to cite one for
//! each ([`PriceSheetSpec::unsourced_fields`]); absent cached-input and reasoning prices fall
//! back to the input and output prices, as providers bill tokens they do not price apart.

use serde::{Deserialize, Serialize};

use super::clock::{ClockError, parse_clock};
use super::sheet::{PriceSheet, Rates, Window};
use crate::hardware::Sourced;
use crate::money::TokenPrice;
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
    /// Reasoning (thinking) output; billed as output when absent.
    #[serde(default)]
    pub reasoning: Option<Sourced<UsdPerMTok>>,
    #[serde(default, rename = "tier")]
    pub tiers: Vec<TierSpec>,
    #[serde(default, rename = "period")]
    pub periods: Vec<PeriodSpec>,
}

/// A long-context tier. Its rates are the sheet's rate fields again (and a period's too): serde's
/// `flatten` does not combine with `deny_unknown_fields`, and a misspelt rate must be an error.
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
    #[serde(default)]
    pub reasoning: Option<Sourced<UsdPerMTok>>,
}

/// Rates that apply during a daily time window (UTC), e.g. peak or off-peak hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodSpec {
    /// "HH:MM" UTC; a window may wrap past midnight ("16:30" to "00:30").
    pub start: String,
    pub end: String,
    pub input: Sourced<UsdPerMTok>,
    #[serde(default)]
    pub cached_input: Option<Sourced<UsdPerMTok>>,
    #[serde(default)]
    pub cache_write: Option<Sourced<UsdPerMTok>>,
    pub output: Sourced<UsdPerMTok>,
    #[serde(default)]
    pub reasoning: Option<Sourced<UsdPerMTok>>,
}

/// Why a written price sheet cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SheetError {
    #[error("tier[{0}].above must increase")]
    TiersNotIncreasing(usize),
    /// The clock's message is part of this one's text, so it is not also given as a source
    /// (error reports would print it twice).
    #[error("period[{period}].{field}: {error}")]
    BadTime {
        period: usize,
        /// `start` or `end`.
        field: &'static str,
        error: ClockError,
    },
    #[error("period[{0}]: start and end are the same time")]
    EmptyPeriod(usize),
}

fn rates(
    input: &Sourced<UsdPerMTok>,
    cached: &Option<Sourced<UsdPerMTok>>,
    write: &Option<Sourced<UsdPerMTok>>,
    output: &Sourced<UsdPerMTok>,
    reasoning: &Option<Sourced<UsdPerMTok>>,
) -> Rates {
    let p = |s: &Sourced<UsdPerMTok>| TokenPrice::from_usd_per_mtok(s.value.get());
    let (input, output) = (p(input), p(output));
    Rates {
        input,
        // Without a cache-read price the provider bills cached tokens as input.
        cached_input: cached.as_ref().map_or(input, p),
        cache_write: write.as_ref().map(p),
        output,
        reasoning: reasoning.as_ref().map_or(output, p),
    }
}

impl PriceSheetSpec {
    pub fn resolve(&self) -> Result<PriceSheet, SheetError> {
        let base = rates(
            &self.input,
            &self.cached_input,
            &self.cache_write,
            &self.output,
            &self.reasoning,
        );
        let mut tiers = Vec::new();
        let mut last = 0u64;
        for (i, t) in self.tiers.iter().enumerate() {
            let above = t.above.get() as u64;
            if above <= last && i > 0 {
                return Err(SheetError::TiersNotIncreasing(i));
            }
            last = above;
            tiers.push((
                above,
                rates(
                    &t.input,
                    &t.cached_input,
                    &t.cache_write,
                    &t.output,
                    &t.reasoning,
                ),
            ));
        }
        let mut periods = Vec::new();
        for (i, p) in self.periods.iter().enumerate() {
            let w = Window {
                start_min: parse_clock(&p.start).map_err(|error| SheetError::BadTime {
                    period: i,
                    field: "start",
                    error,
                })?,
                end_min: parse_clock(&p.end).map_err(|error| SheetError::BadTime {
                    period: i,
                    field: "end",
                    error,
                })? % 1440,
            };
            if w.start_min % 1440 == w.end_min {
                return Err(SheetError::EmptyPeriod(i));
            }
            periods.push((
                w,
                rates(
                    &p.input,
                    &p.cached_input,
                    &p.cache_write,
                    &p.output,
                    &p.reasoning,
                ),
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
            periods,
            bill_cache_writes: false,
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
        check("reasoning".into(), self.reasoning.as_ref());
        for (i, t) in self.tiers.iter().enumerate() {
            check(format!("tier[{i}].input"), Some(&t.input));
            check(format!("tier[{i}].cached_input"), t.cached_input.as_ref());
            check(format!("tier[{i}].cache_write"), t.cache_write.as_ref());
            check(format!("tier[{i}].output"), Some(&t.output));
            check(format!("tier[{i}].reasoning"), t.reasoning.as_ref());
        }
        for (i, p) in self.periods.iter().enumerate() {
            check(format!("period[{i}].input"), Some(&p.input));
            check(format!("period[{i}].cached_input"), p.cached_input.as_ref());
            check(format!("period[{i}].output"), Some(&p.output));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        toml::from_str::<PriceSheetSpec>(text)
            .unwrap()
            .resolve()
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn resolution_errors_name_the_tier_or_period() {
        let rates = "input = \"$1/M\"\noutput = \"$2/M\"";
        let tier = |above: &str| format!("[[tier]]\nabove = \"{above}\"\n{rates}\n");
        let period = |start: &str, end: &str| {
            format!("[[period]]\nstart = \"{start}\"\nend = \"{end}\"\n{rates}\n")
        };
        assert_eq!(
            error(&format!("{rates}\n{}{}", tier("200k"), tier("100k"))),
            "tier[1].above must increase"
        );
        assert_eq!(
            error(&format!("{rates}\n{}", period("25:00", "01:00"))),
            "period[0].start: invalid time \"25:00\"; expected HH:MM between 00:00 and 24:00"
        );
        assert_eq!(
            error(&format!(
                "{rates}\n{}{}",
                period("01:00", "02:00"),
                period("03:00", "x")
            )),
            "period[1].end: invalid time \"x\"; expected HH:MM (UTC)"
        );
        assert_eq!(
            error(&format!("{rates}\n{}", period("00:00", "24:00"))),
            "period[0]: start and end are the same time"
        );
    }
}
