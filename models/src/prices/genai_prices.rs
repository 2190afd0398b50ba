//! The importer of pydantic/genai-prices' `data.json`.
//!
//! genai-prices lists a model's price history and its time-of-day variants in one `prices`
//! list: the last unconstrained (or date-constrained) entry is taken as current, and the
//! entries constrained by a daily `start_time`/`end_time` become periods.

use serde_json::Value;

use super::import::{ImportError, sourced};
use super::spec::{PeriodSpec, PriceSheetSpec, TierSpec};
use crate::units::Tokens;

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
    let s = |v: f64| sourced(v, &src).map_err(|e| err(e.to_string()));
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
    use crate::money::Money;
    use crate::prices::testing::usage;

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
