//! The importer of BerriAI/litellm's `model_prices_and_context_window.json`.
//!
//! litellm prices per token; sheets price per million, so every figure is scaled by 10^6 on
//! reading. Long context is written two ways there (`*_above_<N>k_tokens` fields and a
//! `tiered_pricing` list); both become tiers, and a `tiered_pricing` range starting at 0
//! replaces the base.

use serde_json::Value;

use super::import::{ImportError, sourced};
use super::spec::{PriceSheetSpec, TierSpec};
use crate::units::Tokens;

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
    let s = |v: f64| sourced(v, &src).map_err(|e| err(e.to_string()));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::TokenPrice;
    use crate::prices::sheet::Rates;

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
}
