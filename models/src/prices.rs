//! Token prices: itemized price sheets and the blended per-token price.
//!
//! A [`PriceSheet`] prices a call by class: uncached input, cached input (a prefix-cache read),
//! output and reasoning output. A long-context tier (e.g. Anthropic's above 200k input)
//! replaces all of a call's rates when its input exceeds the threshold, as providers bill it;
//! a time-of-day period (DeepSeek's off-peak hours) replaces them during its window. The
//! blended price is one rate for every token, the arithmetic of press estimates ("30M tokens x
//! $30/M"); tokenfleet reports both side by side because for agents, whose input is mostly
//! cache reads, they differ by an order of magnitude.
//!
//! Sheets are written in the catalog or a scenario ([`PriceSheetSpec`]), or imported from the
//! public price tables most tools use: BerriAI/litellm's `model_prices_and_context_window.json`
//! ([`from_litellm`]) and pydantic/genai-prices' `data.json` ([`from_genai_prices`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    /// Reasoning (thinking) output; billed as output when absent.
    #[serde(default)]
    pub reasoning: Option<Sourced<UsdPerMTok>>,
    #[serde(default, rename = "tier")]
    pub tiers: Vec<TierSpec>,
    #[serde(default, rename = "period")]
    pub periods: Vec<PeriodSpec>,
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

/// Per-token rates of one tier or period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    pub input: TokenPrice,
    pub cached_input: TokenPrice,
    pub cache_write: Option<TokenPrice>,
    pub output: TokenPrice,
    pub reasoning: TokenPrice,
}

/// A daily window [start, end) in minutes after 00:00 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Window {
    pub start_min: u32,
    pub end_min: u32,
}

impl Window {
    /// Whether minute-of-day `m` falls in the window (which may wrap past midnight).
    #[inline]
    pub fn contains(&self, m: u32) -> bool {
        if self.start_min <= self.end_min {
            self.start_min <= m && m < self.end_min
        } else {
            m >= self.start_min || m < self.end_min
        }
    }
}

/// A resolved price sheet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceSheet {
    pub name: String,
    pub base: Rates,
    /// (threshold in input tokens, rates), ascending.
    pub tiers: Vec<(u64, Rates)>,
    /// Time-of-day windows whose rates replace the base (and its tiers).
    pub periods: Vec<(Window, Rates)>,
    /// Uncached input is billed at the cache-write rate (it is written to the cache for the
    /// next call), as Anthropic bills prompt prefixes marked for caching.
    pub bill_cache_writes: bool,
}

/// A call's token counts by billing class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input_uncached: u64,
    pub input_cached: u64,
    /// Visible output tokens.
    pub output: u64,
    /// Reasoning (thinking) output tokens.
    pub reasoning: u64,
}

/// A call's revenue by token class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Charge {
    pub input_uncached: Money,
    pub input_cached: Money,
    pub output: Money,
    pub reasoning: Money,
}

impl Charge {
    pub fn total(&self) -> Money {
        self.input_uncached + self.input_cached + self.output + self.reasoning
    }
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

/// Parses "HH:MM" (or "HH:MM:SS", optional trailing "Z") into minutes after midnight.
pub fn parse_clock(s: &str) -> Result<u32, String> {
    let t = s.trim().trim_end_matches('Z');
    let mut parts = t.split(':');
    let h: u32 = parts
        .next()
        .and_then(|x| x.parse().ok())
        .ok_or_else(|| format!("invalid time {s:?}; expected HH:MM (UTC)"))?;
    let m: u32 = parts
        .next()
        .map_or(Ok(0), |x| x.parse())
        .map_err(|_| format!("invalid time {s:?}; expected HH:MM (UTC)"))?;
    if h > 24 || m > 59 || (h == 24 && m > 0) {
        return Err(format!(
            "invalid time {s:?}; expected HH:MM between 00:00 and 24:00"
        ));
    }
    Ok(h * 60 + m)
}

impl PriceSheetSpec {
    pub fn resolve(&self) -> Result<PriceSheet, String> {
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
                return Err(format!("tier[{i}].above must increase"));
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
                start_min: parse_clock(&p.start).map_err(|e| format!("period[{i}].start: {e}"))?,
                end_min: parse_clock(&p.end).map_err(|e| format!("period[{i}].end: {e}"))? % 1440,
            };
            if w.start_min % 1440 == w.end_min {
                return Err(format!("period[{i}]: start and end are the same time"));
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

impl PriceSheet {
    /// The rates that apply to a call with `input_tokens` of input at `minute` of the UTC day.
    #[inline]
    pub fn rates_for(&self, input_tokens: u64, minute: u32) -> &Rates {
        for (w, r) in &self.periods {
            if w.contains(minute) {
                return r;
            }
        }
        let mut r = &self.base;
        for (above, t) in &self.tiers {
            if input_tokens > *above {
                r = t;
            }
        }
        r
    }

    /// Itemized revenue of one call made at `minute` of the UTC day.
    #[inline]
    pub fn charge(&self, u: &Usage, minute: u32) -> Charge {
        let r = self.rates_for(u.input_uncached + u.input_cached, minute);
        let uncached = match (self.bill_cache_writes, r.cache_write) {
            (true, Some(w)) => w,
            _ => r.input,
        };
        Charge {
            input_uncached: uncached.of(u.input_uncached),
            input_cached: r.cached_input.of(u.input_cached),
            output: r.output.of(u.output),
            reasoning: r.reasoning.of(u.reasoning),
        }
    }
}

/// Why a public price table could not be imported.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{what}: {reason}")]
pub struct ImportError {
    pub what: String,
    pub reason: String,
}

fn sourced(usd_per_mtok: f64, source: &str) -> Result<Sourced<UsdPerMTok>, String> {
    if !(usd_per_mtok.is_finite() && usd_per_mtok >= 0.0) {
        return Err(format!(
            "price {usd_per_mtok} is not a finite non-negative number"
        ));
    }
    Ok(Sourced {
        value: UsdPerMTok::new(usd_per_mtok),
        source: Some(crate::hardware::Source {
            source: source.to_string(),
            date: String::new(),
        }),
    })
}

/// Imports one model of litellm's `model_prices_and_context_window.json` (prices per token):
/// `input_cost_per_token`, `output_cost_per_token`, `cache_read_input_token_cost`,
/// `cache_creation_input_token_cost`, `output_cost_per_reasoning_token`, the
/// `*_above_<N>k_tokens` long-context fields and the `tiered_pricing` list.
pub fn from_litellm(json: &str, key: &str, source: &str) -> Result<PriceSheetSpec, ImportError> {
    let err = |reason: String| ImportError {
        what: format!("{source} [{key}]"),
        reason,
    };
    let root: Value =
        serde_json::from_str(json).map_err(|e| err(format!("not valid JSON: {e}")))?;
    let entry = root.get(key).and_then(Value::as_object).ok_or_else(|| {
        let mut keys: Vec<&String> = root
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        keys.sort();
        keys.truncate(20);
        err(format!(
            "no entry `{key}`; entries include: {}",
            keys.iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let per_m = |field: &str| -> Result<Option<f64>, ImportError> {
        match entry.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .map(|x| Some(x * 1e6))
                .ok_or_else(|| err(format!("field `{field}` is not a number"))),
        }
    };
    let src = format!("{source} [{key}]");
    let need =
        |v: Option<f64>, field: &str| v.ok_or_else(|| err(format!("field `{field}` is missing")));
    let s = |v: f64| sourced(v, &src).map_err(err);
    let opt = |v: Option<f64>| v.map(s).transpose();
    let input = need(per_m("input_cost_per_token")?, "input_cost_per_token")?;
    let output = need(per_m("output_cost_per_token")?, "output_cost_per_token")?;
    let cached = per_m("cache_read_input_token_cost")?;
    let write = per_m("cache_creation_input_token_cost")?;
    let reasoning = per_m("output_cost_per_reasoning_token")?;

    // Long-context tiers: "<field>_above_<N>k_tokens", grouped by threshold.
    let mut thresholds: Vec<u64> = entry
        .keys()
        .filter_map(|k| k.split("_above_").nth(1))
        .filter_map(|t| t.strip_suffix("k_tokens"))
        .filter_map(|n| n.parse::<u64>().ok())
        .map(|n| n * 1000)
        .collect();
    thresholds.sort_unstable();
    thresholds.dedup();
    let mut tiers = Vec::new();
    for t in thresholds {
        let f = |base: &str| per_m(&format!("{base}_above_{}k_tokens", t / 1000));
        tiers.push(TierSpec {
            above: Tokens::new(t as f64),
            input: s(f("input_cost_per_token")?.unwrap_or(input))?,
            cached_input: opt(f("cache_read_input_token_cost")?.or(cached))?,
            cache_write: opt(f("cache_creation_input_token_cost")?.or(write))?,
            output: s(f("output_cost_per_token")?.unwrap_or(output))?,
            reasoning: opt(reasoning)?,
        });
    }
    // `tiered_pricing`: [{"range": [lo, hi], <fields>}]; a tier starting at 0 is the base.
    let (mut input, mut output, mut cached, mut write, mut reasoning) =
        (input, output, cached, write, reasoning);
    if let Some(list) = entry.get("tiered_pricing").and_then(Value::as_array) {
        let mut ranges: Vec<(u64, &serde_json::Map<String, Value>)> = Vec::new();
        for (i, t) in list.iter().enumerate() {
            let obj = t
                .as_object()
                .ok_or_else(|| err(format!("tiered_pricing[{i}] is not an object")))?;
            let lo = obj
                .get("range")
                .and_then(Value::as_array)
                .and_then(|r| r.first())
                .and_then(Value::as_f64)
                .ok_or_else(|| err(format!("tiered_pricing[{i}].range is missing")))?;
            ranges.push((lo as u64, obj));
        }
        ranges.sort_by_key(|(lo, _)| *lo);
        let num = |obj: &serde_json::Map<String, Value>, f: &str| {
            obj.get(f)
                .and_then(|v| {
                    v.as_f64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                })
                .map(|x| x * 1e6)
        };
        for (lo, obj) in ranges {
            let i_ = num(obj, "input_cost_per_token").unwrap_or(input);
            let o_ = num(obj, "output_cost_per_token").unwrap_or(output);
            let c_ = num(obj, "cache_read_input_token_cost").or(cached);
            let w_ = num(obj, "cache_creation_input_token_cost").or(write);
            let r_ = num(obj, "output_cost_per_reasoning_token").or(reasoning);
            if lo == 0 {
                (input, output, cached, write, reasoning) = (i_, o_, c_, w_, r_);
            } else {
                tiers.push(TierSpec {
                    above: Tokens::new(lo as f64),
                    input: s(i_)?,
                    cached_input: opt(c_)?,
                    cache_write: opt(w_)?,
                    output: s(o_)?,
                    reasoning: opt(r_)?,
                });
            }
        }
        tiers.sort_by(|a, b| a.above.get().total_cmp(&b.above.get()));
    }
    Ok(PriceSheetSpec {
        id: key.to_string(),
        name: format!("{key} (litellm)"),
        input: s(input)?,
        cached_input: opt(cached)?,
        cache_write: opt(write)?,
        output: s(output)?,
        reasoning: opt(reasoning)?,
        tiers,
        periods: Vec::new(),
    })
}

/// A genai-prices field: base price and (start, price) tiers, per million tokens.
type TieredField = (f64, Vec<(u64, f64)>);

/// Imports one model of pydantic/genai-prices' `data.json` (prices per million tokens): a
/// provider's model by id, its `input_mtok`, `cache_read_mtok`, `cache_write_mtok`,
/// `output_mtok` (plain numbers or `{base, tiers: [{start, price}]}`), and, when `prices` is a
/// list, the unconstrained entry as the base and `start_time`/`end_time` entries as daily
/// periods. Date-constrained versions: the latest one listed wins.
pub fn from_genai_prices(
    json: &str,
    provider: &str,
    model: &str,
    source: &str,
) -> Result<PriceSheetSpec, ImportError> {
    let what = format!("{source} [{provider}/{model}]");
    let err = |reason: String| ImportError {
        what: what.clone(),
        reason,
    };
    let root: Value =
        serde_json::from_str(json).map_err(|e| err(format!("not valid JSON: {e}")))?;
    let providers = root
        .as_array()
        .ok_or_else(|| err("expected a list of providers".into()))?;
    let p = providers
        .iter()
        .find(|p| p.get("id").and_then(Value::as_str) == Some(provider))
        .ok_or_else(|| {
            let ids: Vec<&str> = providers
                .iter()
                .filter_map(|p| p.get("id").and_then(Value::as_str))
                .collect();
            err(format!(
                "no provider `{provider}`; providers: {}",
                ids.join(", ")
            ))
        })?;
    let models = p
        .get("models")
        .and_then(Value::as_array)
        .ok_or_else(|| err("provider has no models".into()))?;
    let m = models
        .iter()
        .find(|m| m.get("id").and_then(Value::as_str) == Some(model))
        .ok_or_else(|| {
            let ids: Vec<&str> = models
                .iter()
                .filter_map(|m| m.get("id").and_then(Value::as_str))
                .collect();
            err(format!("no model `{model}`; models: {}", ids.join(", ")))
        })?;
    let prices = m
        .get("prices")
        .ok_or_else(|| err("model has no prices".into()))?;
    let entries: Vec<(Option<&Value>, &Value)> = match prices {
        Value::Array(list) => list
            .iter()
            .map(|e| (e.get("constraint"), e.get("prices").unwrap_or(&Value::Null)))
            .collect(),
        v => vec![(None, v)],
    };
    let src = what.clone();
    // A field is a number or {base, tiers: [{start, price}]}.
    let field = |obj: &Value, f: &str| -> Result<Option<TieredField>, ImportError> {
        match obj.get(f) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(Some((n.as_f64().unwrap_or(f64::NAN), Vec::new()))),
            Some(Value::Object(o)) => {
                let base = o
                    .get("base")
                    .and_then(Value::as_f64)
                    .ok_or_else(|| err(format!("`{f}.base` is missing")))?;
                let mut tiers = Vec::new();
                for t in o
                    .get("tiers")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let start = t
                        .get("start")
                        .and_then(Value::as_f64)
                        .ok_or_else(|| err(format!("`{f}` tier without start")))?;
                    let price = t
                        .get("price")
                        .and_then(Value::as_f64)
                        .ok_or_else(|| err(format!("`{f}` tier without price")))?;
                    tiers.push((start as u64, price));
                }
                Ok(Some((base, tiers)))
            }
            Some(other) => Err(err(format!(
                "`{f}` is neither a number nor a tiered price: {other}"
            ))),
        }
    };
    let s = |v: f64| sourced(v, &src).map_err(err);
    type Fields = [Option<TieredField>; 4];
    let read = |obj: &Value| -> Result<Fields, ImportError> {
        Ok([
            field(obj, "input_mtok")?,
            field(obj, "cache_read_mtok")?,
            field(obj, "cache_write_mtok")?,
            field(obj, "output_mtok")?,
        ])
    };
    let mut base: Option<Fields> = None;
    let mut periods = Vec::new();
    for (constraint, obj) in &entries {
        let fields = read(obj)?;
        match constraint.and_then(|c| c.get("start_time")) {
            Some(start) => {
                let c = constraint.expect("constraint present");
                let (Some(start), Some(end)) =
                    (start.as_str(), c.get("end_time").and_then(Value::as_str))
                else {
                    return Err(err("time constraint needs start_time and end_time".into()));
                };
                let [Some(i), c_, w_, Some(o)] = fields else {
                    return Err(err("a time period needs input_mtok and output_mtok".into()));
                };
                periods.push(PeriodSpec {
                    start: start.to_string(),
                    end: end.to_string(),
                    input: s(i.0)?,
                    cached_input: c_.map(|x| s(x.0)).transpose()?,
                    cache_write: w_.map(|x| s(x.0)).transpose()?,
                    output: s(o.0)?,
                    reasoning: None,
                });
            }
            // Unconstrained or date-constrained: later entries are newer versions.
            None => base = Some(fields),
        }
    }
    let [Some(input), cached, write, Some(output)] =
        base.ok_or_else(|| err("no unconstrained price entry".into()))?
    else {
        return Err(err("input_mtok and output_mtok are required".into()));
    };
    let mut starts: Vec<u64> = [&Some(input.clone()), &cached, &write, &Some(output.clone())]
        .iter()
        .filter_map(|f| f.as_ref())
        .flat_map(|(_, t)| t.iter().map(|(st, _)| *st))
        .collect();
    starts.sort_unstable();
    starts.dedup();
    let at = |f: &TieredField, start: u64| {
        f.1.iter()
            .filter(|(st, _)| *st <= start)
            .map(|(_, p)| *p)
            .next_back()
            .unwrap_or(f.0)
    };
    let mut tiers = Vec::new();
    for st in starts {
        tiers.push(TierSpec {
            // genai-prices tiers start at `start` tokens; tokenfleet's apply above a threshold.
            above: Tokens::new(st.saturating_sub(1) as f64),
            input: s(at(&input, st))?,
            cached_input: cached.as_ref().map(|c| s(at(c, st))).transpose()?,
            cache_write: write.as_ref().map(|c| s(at(c, st))).transpose()?,
            output: s(at(&output, st))?,
            reasoning: None,
        });
    }
    Ok(PriceSheetSpec {
        id: format!("{provider}/{model}"),
        name: format!("{model} ({provider}, genai-prices)"),
        input: s(input.0)?,
        cached_input: cached.map(|c| s(c.0)).transpose()?,
        cache_write: write.map(|c| s(c.0)).transpose()?,
        output: s(output.0)?,
        reasoning: None,
        tiers,
        periods,
    })
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

    fn usage(uncached: u64, cached: u64, output: u64) -> Usage {
        Usage {
            input_uncached: uncached,
            input_cached: cached,
            output,
            reasoning: 0,
        }
    }

    #[test]
    fn itemized_charge_by_class() {
        let s = sheet(
            "input = \"$5/M\"\ncached_input = \"$0.50/M\"\noutput = \"$25/M\"\nreasoning = \"$30/M\"",
        );
        let c = s.charge(
            &Usage {
                input_uncached: 4_000,
                input_cached: 96_000,
                output: 200,
                reasoning: 100,
            },
            0,
        );
        assert_eq!(c.input_uncached, Money::from_usd(0.02));
        assert_eq!(c.input_cached, Money::from_usd(0.048));
        assert_eq!(c.output, Money::from_usd(0.005));
        assert_eq!(c.reasoning, Money::from_usd(0.003));
    }

    #[test]
    fn long_context_tier_reprices_the_whole_call() {
        let s = sheet(
            "input = \"$5/M\"\ncached_input = \"$0.50/M\"\noutput = \"$25/M\"\n[[tier]]\nabove = \"200k\"\ninput = \"$10/M\"\ncached_input = \"$1/M\"\noutput = \"$37.5/M\"",
        );
        assert_eq!(
            s.charge(&usage(1, 199_999, 0), 0).input_cached,
            Money::from_usd(0.199999 * 0.5)
        );
        let c = s.charge(&usage(1, 200_000, 1_000_000), 0);
        assert_eq!(c.input_cached, Money::from_usd(0.2));
        assert_eq!(c.output, Money::from_usd(37.5));
    }

    #[test]
    fn periods_replace_rates_in_their_window_even_across_midnight() {
        let s = sheet(
            "input = \"$0.27/M\"\noutput = \"$1.10/M\"\n[[period]]\nstart = \"16:30\"\nend = \"00:30\"\ninput = \"$0.135/M\"\noutput = \"$0.55/M\"",
        );
        let at = |h: u32, m: u32| s.charge(&usage(1_000_000, 0, 0), h * 60 + m).input_uncached;
        assert_eq!(at(12, 0), Money::from_usd(0.27));
        assert_eq!(at(16, 30), Money::from_usd(0.135));
        assert_eq!(at(23, 59), Money::from_usd(0.135));
        assert_eq!(at(0, 29), Money::from_usd(0.135));
        assert_eq!(at(0, 30), Money::from_usd(0.27));
    }

    #[test]
    fn missing_cache_price_bills_as_input_and_cache_writes_are_opt_in() {
        let s = sheet("input = \"$0.59/M\"\noutput = \"$0.79/M\"");
        assert_eq!(
            s.charge(&usage(0, 1_000_000, 0), 0).input_cached,
            Money::from_usd(0.59)
        );
        let mut w = sheet("input = \"$5/M\"\ncache_write = \"$6.25/M\"\noutput = \"$25/M\"");
        assert_eq!(
            w.charge(&usage(1_000_000, 0, 0), 0).input_uncached,
            Money::from_usd(5.0)
        );
        w.bill_cache_writes = true;
        assert_eq!(
            w.charge(&usage(1_000_000, 0, 0), 0).input_uncached,
            Money::from_usd(6.25)
        );
    }

    #[test]
    fn imports_litellm_entries_with_tiers() {
        let json = r#"{
          "claude-x": {"input_cost_per_token": 5e-06, "output_cost_per_token": 2.5e-05,
                       "cache_read_input_token_cost": 5e-07, "cache_creation_input_token_cost": 6.25e-06,
                       "input_cost_per_token_above_200k_tokens": 1e-05,
                       "output_cost_per_token_above_200k_tokens": 3.75e-05,
                       "cache_read_input_token_cost_above_200k_tokens": 1e-06},
          "qwen-x": {"output_cost_per_token": 6e-06, "input_cost_per_token": 1.2e-06,
                     "tiered_pricing": [{"range": [0, 32000], "input_cost_per_token": 1.2e-06, "output_cost_per_token": 6e-06},
                                        {"range": [32000, 128000], "input_cost_per_token": 2.4e-06, "output_cost_per_token": 1.2e-05}]}
        }"#;
        let c = from_litellm(json, "claude-x", "test.json")
            .unwrap()
            .resolve()
            .unwrap();
        assert_eq!(c.base.input, TokenPrice::from_usd_per_mtok(5.0));
        assert_eq!(
            c.base.cache_write,
            Some(TokenPrice::from_usd_per_mtok(6.25))
        );
        assert_eq!(c.tiers.len(), 1);
        assert_eq!(c.tiers[0].0, 200_000);
        assert_eq!(
            c.tiers[0].1.cached_input,
            TokenPrice::from_usd_per_mtok(1.0)
        );
        let q = from_litellm(json, "qwen-x", "test.json")
            .unwrap()
            .resolve()
            .unwrap();
        assert_eq!(
            q.tiers,
            vec![(
                32_000,
                Rates {
                    input: TokenPrice::from_usd_per_mtok(2.4),
                    cached_input: TokenPrice::from_usd_per_mtok(2.4),
                    cache_write: None,
                    output: TokenPrice::from_usd_per_mtok(12.0),
                    reasoning: TokenPrice::from_usd_per_mtok(12.0),
                }
            )]
        );
        let e = from_litellm(json, "nope", "test.json").unwrap_err();
        assert!(e.to_string().contains("claude-x"), "{e}");
    }

    #[test]
    fn imports_genai_prices_with_periods_and_tiers() {
        let json = r#"[{"id": "deepseek", "models": [{"id": "deepseek-chat", "prices": [
            {"prices": {"input_mtok": 0.135, "cache_read_mtok": 0.035, "output_mtok": 0.55}},
            {"constraint": {"start_time": "00:30:00Z", "end_time": "16:30:00Z"},
             "prices": {"input_mtok": 0.27, "cache_read_mtok": 0.07, "output_mtok": 1.1}}]}]},
          {"id": "anthropic", "models": [{"id": "claude-sonnet-4-5", "prices": {
            "input_mtok": {"base": 3, "tiers": [{"start": 200000, "price": 6}]},
            "cache_read_mtok": {"base": 0.3, "tiers": [{"start": 200000, "price": 0.6}]},
            "output_mtok": {"base": 15, "tiers": [{"start": 200000, "price": 22.5}]}}}]}]"#;
        let d = from_genai_prices(json, "deepseek", "deepseek-chat", "t")
            .unwrap()
            .resolve()
            .unwrap();
        let u = usage(1_000_000, 0, 0);
        assert_eq!(d.charge(&u, 12 * 60).input_uncached, Money::from_usd(0.27));
        assert_eq!(d.charge(&u, 20 * 60).input_uncached, Money::from_usd(0.135));
        let a = from_genai_prices(json, "anthropic", "claude-sonnet-4-5", "t")
            .unwrap()
            .resolve()
            .unwrap();
        assert_eq!(
            a.charge(&usage(0, 199_999, 0), 0).input_cached,
            Money::from_usd(0.199999 * 0.3)
        );
        assert_eq!(
            a.charge(&usage(0, 200_000, 0), 0).input_cached,
            Money::from_usd(0.12)
        );
        assert!(
            from_genai_prices(json, "nope", "x", "t")
                .unwrap_err()
                .to_string()
                .contains("deepseek, anthropic")
        );
    }
}
