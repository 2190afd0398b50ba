//! The served models: every model a pool or a segment names, looked up once in the catalog
//! and priced in every price set (`[[price]]`: a catalog sheet, an import or inline rates).

use tokenfleet_models::catalog::Catalog;
use tokenfleet_models::hardware::Sourced;
use tokenfleet_models::money::TokenPrice;
use tokenfleet_models::prices::{PriceSheet, PriceSheetSpec, from_genai_prices, from_litellm};
use tokenfleet_setup::{ModelPrice, ServedModel};

use super::checker::Checker;
use crate::spec::prices::PriceSpec;
use crate::spec::scenario::Scenario;
use crate::suggest::closest;

/// The index of model `id` among the served models, adding it (with its prices) the first
/// time it is named; `None` (and a problem at `path`) for a model the catalog does not have.
pub(crate) fn served_index(
    served: &mut Vec<ServedModel>,
    catalog: &Catalog,
    s: &Scenario,
    id: &str,
    path: String,
    c: &mut Checker,
) -> Option<usize> {
    if let Some(i) = served.iter().position(|m| m.id == id) {
        return Some(i);
    }
    let Some(model) = catalog.model(id) else {
        let ids: Vec<&str> = catalog.models.keys().map(String::as_str).collect();
        let hint = closest(id, &ids)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        c.add(
            path,
            format!(
                "unknown model `{id}`{hint}; accepted: {}, or define it in a [[model]] table",
                catalog.model_ids()
            ),
        );
        return None;
    };
    let prices = model_prices(s, catalog, id, model.price_sheet.as_deref(), c)?;
    served.push(ServedModel {
        id: id.to_string(),
        name: model.name.clone(),
        arch: model.arch.clone(),
        prices,
        pools: Vec::new(),
    });
    Some(served.len() - 1)
}

/// The default name of a price set.
const DEFAULT_SET: &str = "list";

/// The names of the price sets, in order of first appearance (the first is billed).
pub fn price_sets(s: &Scenario) -> Vec<String> {
    let mut sets: Vec<String> = Vec::new();
    for p in &s.prices {
        let n = p.name.clone().unwrap_or_else(|| DEFAULT_SET.to_string());
        if !sets.contains(&n) {
            sets.push(n);
        }
    }
    if sets.is_empty() {
        sets.push(DEFAULT_SET.to_string());
    }
    sets
}

/// A model's prices in every set.
fn model_prices(
    s: &Scenario,
    catalog: &Catalog,
    model: &str,
    default_sheet: Option<&str>,
    c: &mut Checker,
) -> Option<Vec<ModelPrice>> {
    let entries: Vec<(usize, &PriceSpec)> = s
        .prices
        .iter()
        .enumerate()
        .filter(|(_, p)| p.model == model)
        .collect();
    let set_of = |p: &PriceSpec| p.name.clone().unwrap_or_else(|| DEFAULT_SET.to_string());
    for (k, (i, p)) in entries.iter().enumerate() {
        if entries[..k].iter().any(|(_, q)| set_of(q) == set_of(p)) {
            c.add(
                format!("price[{i}].model"),
                format!(
                    "a second [[price]] for model `{model}` in set `{}`",
                    set_of(p)
                ),
            );
            return None;
        }
    }
    let mut out = Vec::new();
    for set in price_sets(s) {
        // A model missing from a set is priced there by its first entry.
        let entry = entries
            .iter()
            .find(|(_, p)| set_of(p) == set)
            .or(entries.first());
        let (sheet, blended, blended_source) = match entry {
            Some((i, spec)) => resolve_price(
                catalog,
                model,
                default_sheet,
                &format!("price[{i}]"),
                spec,
                c,
            )?,
            None => {
                let Some(sheet) = default_sheet.and_then(|id| catalog.sheet(id)) else {
                    c.add("price", format!(
                        "no prices for model `{model}`: add a [[price]] with model = \"{model}\" and `sheet` (one of {}), inline `input`/`output` rates, or an import (`litellm`, `genai_prices`)",
                        catalog.sheet_ids()
                    ));
                    return None;
                };
                let (b, src) = default_blend(sheet);
                (sheet.clone(), b, src)
            }
        };
        out.push(ModelPrice {
            set,
            sheet,
            blended,
            blended_source,
        });
    }
    Some(out)
}

fn default_blend(sheet: &PriceSheet) -> (TokenPrice, String) {
    let b = (3.0 * sheet.base.input.usd_per_mtok() + sheet.base.output.usd_per_mtok()) / 4.0;
    (
        TokenPrice::from_usd_per_mtok(b),
        "3:1 input:output blend of the sheet".to_string(),
    )
}

/// One [[price]] entry: its sheet (catalog, import or inline) and blended price.
fn resolve_price(
    catalog: &Catalog,
    model: &str,
    default_sheet: Option<&str>,
    path: &str,
    spec: &PriceSpec,
    c: &mut Checker,
) -> Option<(PriceSheet, TokenPrice, String)> {
    let inline = spec.input.is_some() || spec.output.is_some();
    let given = [
        spec.sheet.is_some(),
        spec.litellm.is_some(),
        spec.genai_prices.is_some(),
        inline,
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if given > 1 {
        c.add(
            path,
            "give one of `sheet`, `litellm`, `genai_prices` or inline rates (input, output, ...)",
        );
        return None;
    }
    let written: Option<PriceSheetSpec> = if let Some(l) = &spec.litellm {
        let text = c.read(format!("{path}.litellm.file"), &l.file)?;
        match from_litellm(&text, &l.key, &l.file) {
            Ok(w) => Some(w),
            Err(e) => {
                c.add(format!("{path}.litellm"), e.to_string());
                return None;
            }
        }
    } else if let Some(g) = &spec.genai_prices {
        let text = c.read(format!("{path}.genai_prices.file"), &g.file)?;
        match from_genai_prices(&text, &g.provider, &g.model, &g.file) {
            Ok(w) => Some(w),
            Err(e) => {
                c.add(format!("{path}.genai_prices"), e.to_string());
                return None;
            }
        }
    } else if inline {
        let (Some(input), Some(output)) = (spec.input, spec.output) else {
            c.add(path, "inline rates need both `input` and `output`");
            return None;
        };
        let plain = |v| Sourced {
            value: v,
            source: None,
        };
        Some(PriceSheetSpec {
            id: model.to_string(),
            name: format!("{model} (scenario)"),
            input: plain(input),
            cached_input: spec.cached_input.map(plain),
            cache_write: spec.cache_write.map(plain),
            output: plain(output),
            reasoning: spec.reasoning.map(plain),
            tiers: spec.tiers.clone(),
            periods: spec.periods.clone(),
        })
    } else {
        None
    };
    let mut sheet = match written {
        Some(w) => match w.resolve() {
            Ok(sheet) => sheet,
            Err(e) => {
                c.add(path, e.to_string());
                return None;
            }
        },
        None => {
            let Some(id) = spec.sheet.as_deref().or(default_sheet) else {
                c.add(path, format!(
                    "no prices for model `{model}`: give `sheet` (one of {}), inline `input`/`output` rates, or an import (`litellm`, `genai_prices`)",
                    catalog.sheet_ids()
                ));
                return None;
            };
            match catalog.sheet(id) {
                Some(sheet) => sheet.clone(),
                None => {
                    c.add(
                        format!("{path}.sheet"),
                        format!(
                            "unknown price sheet `{id}`; accepted: {}",
                            catalog.sheet_ids()
                        ),
                    );
                    return None;
                }
            }
        }
    };
    if let Some(f) = spec.scale {
        if !(f.is_finite() && f > 0.0) {
            c.add(
                format!("{path}.scale"),
                format!("scale {f}: must be a positive number (1 = the sheet as listed)"),
            );
            return None;
        }
        sheet.scale(f);
    }
    if spec.cache_writes {
        if sheet.base.cache_write.is_none() {
            c.add(
                format!("{path}.cache_writes"),
                "the sheet has no cache_write price",
            );
            return None;
        }
        sheet.bill_cache_writes = true;
    }
    let (blended, source) = match spec.blended {
        Some(b) => (
            TokenPrice::from_usd_per_mtok(b.get()),
            "scenario".to_string(),
        ),
        None => default_blend(&sheet),
    };
    Some((sheet, blended, source))
}
