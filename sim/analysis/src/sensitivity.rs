//! Sensitivity analysis: each key input moved down and up by a stated amount, one at a time,
//! and what that does to the margin and to the cost per million tokens (a tornado chart).
//!
//! The inputs are found in the scenario: the fleet size, each segment's daily budgets, output
//! tokens and tool gaps, each pool's size and hardware price, electricity and PUE overhead
//! (when a pool is owned: rented devices come with power paid), and the billed price set's
//! itemized rates (`price[i].scale`). Moving an input scales it with `PATH*=FACTOR` (amounts
//! scale, shapes stay), on the same seed, so the swing is the input's effect.

use rayon::prelude::*;
use serde::Serialize;

use tokenfleet_fleet::metrics::{Headline, headline};
use tokenfleet_fleet::run::run;
use tokenfleet_models::money::PICO_PER_USD;
use tokenfleet_scenario::{ElectricitySpec, Origin, RentSpec, Scenario, ScenarioError};
use tokenfleet_setup::{CostMode, Setup};

/// An input to move.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Input {
    pub label: String,
    pub path: String,
    /// For a field that may be absent from the file (it has a default): its value, which is set
    /// to `floor + (base - floor) x factor` instead of scaled in place.
    pub base: Option<f64>,
    /// The part of `base` that does not move: PUE's 1 (the IT load itself), so that a ±20%
    /// move is one of the cooling and power-conversion overhead and never goes below 1.
    pub floor: f64,
    /// How a moved `base` is written in the override.
    #[serde(skip)]
    pub unit: Written,
}

/// How a value set in an override is written (fields with units take a string).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Written {
    #[default]
    Number,
    UsdPerHour,
    Usd,
    UsdPerKwh,
}

impl Input {
    fn new(label: String, path: String) -> Input {
        Input {
            label,
            path,
            base: None,
            floor: 0.0,
            unit: Written::Number,
        }
    }
    /// An input whose value comes from a default or the catalog, set explicitly when moved.
    fn valued(label: String, path: String, base: f64, unit: Written) -> Input {
        Input {
            label,
            path,
            base: Some(base),
            floor: 0.0,
            unit,
        }
    }
    /// The override that moves the input by `factor`.
    fn moved(&self, factor: f64) -> String {
        match self.base {
            Some(b) => {
                let v = self.floor + (b - self.floor) * factor;
                match self.unit {
                    Written::Number => format!("{}={v}", self.path),
                    Written::UsdPerHour => format!("{}=\"${v}/h\"", self.path),
                    Written::Usd => format!("{}=\"${v}\"", self.path),
                    Written::UsdPerKwh => format!("{}=\"${v}/kWh\"", self.path),
                }
            }
            None => format!("{}*={factor}", self.path),
        }
    }
}

/// The inputs a scenario offers, `setup` being it resolved.
///
/// Every input that reaches the cost is offered wherever its value came from: a rent or a
/// device price taken from the catalog, or an electricity price from a region, is moved by
/// setting it explicitly to the resolved value times the factor (the default scenario's whole
/// cost is its catalog rent). A two-rate tariff is left out: no one factor describes it.
pub fn inputs(s: &Scenario, setup: &Setup) -> Vec<Input> {
    let mut v = vec![Input::new(
        "fleet size (agents)".into(),
        "fleet.agents".into(),
    )];
    for g in &s.fleet.segments {
        let seg = format!("fleet.segment.\"{}\"", g.name);
        v.push(Input::new(
            format!("{}: daily token budgets", g.name),
            format!("{seg}.daily_tokens"),
        ));
        v.push(Input::new(
            format!("{}: output tokens per call", g.name),
            format!("{seg}.task.output_tokens"),
        ));
        v.push(Input::new(
            format!("{}: tool gap between calls", g.name),
            format!("{seg}.task.tool_gap"),
        ));
    }
    let mut owned = false;
    for (p, r) in s.cluster.pools.iter().zip(&setup.pools) {
        let pool = format!("cluster.pool.\"{}\"", p.name);
        v.push(Input::new(
            format!("{}: replicas", p.name),
            format!("{pool}.replicas"),
        ));
        let (what, field, written, base, unit) = match r.cost {
            CostMode::Rent {
                usd_per_device_hour,
            } => (
                "rent per device-hour",
                "rent",
                matches!(p.rent, Some(RentSpec::Price(_))),
                usd_per_device_hour,
                Written::UsdPerHour,
            ),
            CostMode::Own { price_usd, .. } => {
                owned = true;
                let written = p.own.as_ref().is_some_and(|o| o.price.is_some());
                (
                    "device price",
                    "own.price",
                    written,
                    price_usd,
                    Written::Usd,
                )
            }
        };
        let path = format!("{pool}.{field}");
        v.push(if written {
            Input::new(format!("{}: {what}", p.name), path)
        } else {
            Input::valued(format!("{}: {what} (catalog)", p.name), path, base, unit)
        });
    }
    // Rented devices come with their power paid; energy only costs owners.
    match &s.energy.electricity {
        ElectricitySpec::Price(_) if owned => v.push(Input::new(
            "electricity price".into(),
            "energy.electricity".into(),
        )),
        ElectricitySpec::Region(region) if owned => {
            let pico = setup.pools.iter().find(|p| p.pay_energy);
            if let Some(p) = pico {
                let usd = p.electricity_pico_per_kwh[0] as f64 / PICO_PER_USD as f64;
                v.push(Input::valued(
                    format!("electricity price ({region})"),
                    "energy.electricity".into(),
                    usd,
                    Written::UsdPerKwh,
                ));
            }
        }
        _ => {}
    }
    if owned && s.energy.pue > 1.0 {
        v.push(Input {
            label: "PUE overhead (PUE - 1)".into(),
            path: "energy.pue".into(),
            base: Some(s.energy.pue),
            floor: 1.0,
            unit: Written::Number,
        });
    }
    // Only the billed set (the first named) moves the margin; the others are comparisons.
    let billed = s.prices.first().and_then(|p| p.name.clone());
    for (i, p) in s.prices.iter().enumerate() {
        if p.name != billed {
            continue;
        }
        let set = p.name.as_deref().unwrap_or("list");
        v.push(Input {
            label: format!("{set} ({}): itemized token prices", p.model),
            path: format!("price[{i}].scale"),
            base: Some(p.scale.unwrap_or(1.0)),
            floor: 0.0,
            unit: Written::Number,
        });
    }
    v
}

/// One input's swing.
#[derive(Debug, Clone, Serialize)]
pub struct Swing {
    pub input: Input,
    pub low: Headline,
    pub high: Headline,
}

/// A sensitivity analysis.
#[derive(Debug, Clone, Serialize)]
pub struct Sensitivity {
    pub amount: f64,
    pub seed: u64,
    pub base: Headline,
    /// Largest margin swing first.
    pub swings: Vec<Swing>,
}

/// Moves each input by `1 - amount` and `1 + amount`: `1 + 2 x inputs(..).len()` runs, each
/// reported to `progress` when done.
pub fn sensitivity(
    origin: &Origin,
    overrides: &[String],
    amount: f64,
    seed: Option<u64>,
    sample: Option<f64>,
    progress: &(dyn Fn() + Sync),
) -> Result<Sensitivity, ScenarioError> {
    let scenario = Scenario::from_text(origin, overrides)?;
    let base_setup = scenario.resolve(origin)?;
    let seed = seed.unwrap_or(base_setup.seed);
    let one = |extra: Option<String>| -> Result<Headline, ScenarioError> {
        let mut o = overrides.to_vec();
        o.extend(extra);
        let setup = Scenario::from_text(origin, &o)?.resolve(origin)?;
        let h = headline(&setup, &run(&setup, seed, sample, &|_| {}));
        progress();
        Ok(h)
    };
    let ins = inputs(&scenario, &base_setup);
    let mut jobs: Vec<Option<String>> = vec![None];
    for i in &ins {
        jobs.push(Some(i.moved(1.0 - amount)));
        jobs.push(Some(i.moved(1.0 + amount)));
    }
    let results: Vec<Headline> = jobs.into_par_iter().map(one).collect::<Result<_, _>>()?;
    let base = results[0];
    let mut swings: Vec<Swing> = ins
        .into_iter()
        .enumerate()
        .map(|(k, input)| Swing {
            input,
            low: results[1 + 2 * k],
            high: results[2 + 2 * k],
        })
        .collect();
    let width = |s: &Swing| (s.high.margin_itemized_usd - s.low.margin_itemized_usd).abs();
    swings.sort_by(|a, b| width(b).total_cmp(&width(a)));
    Ok(Sensitivity {
        amount,
        seed,
        base,
        swings,
    })
}
