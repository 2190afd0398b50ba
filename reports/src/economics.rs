//! The economics investors ask about: what each price set earns on the simulated traffic, per
//! agent and per year; unit economics per million tokens; the payback of owned hardware; and
//! the published figures the scenario asks to be set beside the simulated ones.
//!
//! Daily and yearly figures scale the simulated horizon linearly (x 24 h / horizon, x 365): a
//! one-day run gives a daily figure directly; a shorter run extrapolates its own hours, which
//! the summary's `simulated_hours` makes visible.
//!
//! A trace replay is not a fleet: its "agents" are prefix chains or sessions of recorded
//! traffic, and an hour of a trace says nothing of a year. Its figures are per request and per
//! hour of recorded traffic (`Setup::replay`); the per-agent-day, per-year, payback and
//! reference figures are left out of it rather than extrapolated.

use serde::Serialize;
use tokenfleet_fleet::run::RunOutput;
use tokenfleet_models::Money;
use tokenfleet_setup::CostMode;
use tokenfleet_setup::Setup;

use crate::num::{div, quantile, round, usd};
use tokenfleet_fleet::metrics::RunCost;

/// A figure under both pricings.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Pair {
    pub blended: f64,
    pub itemized: f64,
}

/// The fleet's agents' quantiles of revenue per agent-day.
#[derive(Debug, Clone, Serialize)]
pub struct AgentDayQuantiles {
    pub p10: Pair,
    pub p50: Pair,
    pub p90: Pair,
}

/// One price set applied to the simulated traffic.
#[derive(Debug, Clone, Serialize)]
pub struct PriceSheetFigures {
    pub name: String,
    /// Whether this set is the one the run bills (the others are what-ifs).
    pub billed: bool,
    pub itemized_usd: f64,
    pub blended_usd: f64,
    /// Absent for a replay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usd_per_agent_day: Option<AgentDayQuantiles>,
    /// Absent for a replay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usd_per_year: Option<Pair>,
    /// Revenue minus the simulated cluster's cost, per year (absent for a replay).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margin_usd_per_year: Option<Pair>,
    /// A replay's revenue per replayed request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usd_per_request: Option<Pair>,
    /// A replay's revenue per hour of recorded traffic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usd_per_trace_hour: Option<Pair>,
    /// A replay's revenue minus the cluster's cost, per hour of recorded traffic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margin_usd_per_trace_hour: Option<Pair>,
    /// Blended price per model, USD per million tokens.
    pub blended_usd_per_mtok: Vec<(String, f64)>,
}

/// Per-million-token unit economics of the billed set.
#[derive(Debug, Clone, Serialize)]
pub struct UnitEconomics {
    pub revenue_usd_per_mtok: Pair,
    /// Revenue per million tokens of each class (what the sheet effectively charges).
    pub revenue_usd_per_mtok_input_uncached: f64,
    pub revenue_usd_per_mtok_input_cached: f64,
    pub revenue_usd_per_mtok_output: f64,
    pub cost_usd_per_mtok: f64,
    pub hardware_usd_per_mtok: f64,
    pub energy_usd_per_mtok: f64,
    pub energy_kwh_per_mtok: f64,
    /// (itemized revenue - refunds - cost) / itemized revenue.
    pub gross_margin: f64,
    /// Cost per million tokens if the same cluster were busy all the time (cost x utilization):
    /// what idle capacity adds to the bill.
    pub cost_usd_per_mtok_at_full_utilization: f64,
    /// Absent for a replay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd_per_agent_day: Option<f64>,
    /// A replay's cost per replayed request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd_per_request: Option<f64>,
    /// A replay's cost per hour of recorded traffic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd_per_trace_hour: Option<f64>,
    /// Purchase price and overhead of owned devices (most provisioned at once).
    pub capex_usd: f64,
    /// Years to earn back the capex from the yearly gross profit before depreciation
    /// (revenue - energy - rented hardware); absent without owned hardware or profit.
    pub payback_years: Option<f64>,
}

/// A published figure beside the simulated one.
#[derive(Debug, Clone, Serialize)]
pub struct Reference {
    pub label: String,
    pub source: String,
    pub usd_per_year: Option<f64>,
    pub usd_per_agent_day: Option<f64>,
    /// The price set compared with.
    pub price_set: String,
    /// The simulated fleet under that set.
    pub simulated_usd_per_year: Pair,
    pub simulated_usd_per_agent_day_p50: Pair,
}

/// Everything above, flattened into summary.json.
#[derive(Debug, Clone, Serialize)]
pub struct Economics {
    pub price_sheets: Vec<PriceSheetFigures>,
    pub unit_economics: UnitEconomics,
    pub references: Vec<Reference>,
}

impl Economics {
    /// `billed_revenue` is the fleet's itemized revenue after refunds; `cost` and `energy_kwh`
    /// the cluster's totals (all scaled to the fleet).
    pub fn new(
        setup: &Setup,
        run: &RunOutput,
        billed_revenue: Money,
        cost: &RunCost,
        energy_kwh: f64,
    ) -> Economics {
        let ds = run.demand_scale(setup);
        let total = run.ledger.total();
        let to_day = 24.0 / (setup.horizon.secs() / 3600.0);
        let to_year = to_day * 365.0;
        let cost_usd = cost.cluster.total().usd();
        let fleet = setup.replay.is_none().then_some(());
        let replay = setup.replay.as_ref();

        let mut price_sheets = Vec::new();
        for (k, name) in setup.price_sets.iter().enumerate() {
            let (item, blend) = total
                .sets
                .get(k)
                .copied()
                .unwrap_or((Money::ZERO, Money::ZERO));
            let (item, blend) = (item.scale(ds.0, ds.1), blend.scale(ds.0, ds.1));
            let mut per_agent_item: Vec<f64> = Vec::with_capacity(run.agent_days.len());
            let mut per_agent_blend: Vec<f64> = Vec::with_capacity(run.agent_days.len());
            for a in &run.agent_days {
                let model = setup.segments[a.segment as usize].model;
                let price = setup.served[model].prices[k].blended;
                per_agent_item.push(a.revenue.get(k).map_or(0.0, |m| m.usd()) * to_day);
                per_agent_blend.push(price.of(a.realized).usd() * to_day);
            }
            per_agent_item.sort_by(f64::total_cmp);
            per_agent_blend.sort_by(f64::total_cmp);
            let q = |p: f64| Pair {
                blended: round(quantile(&per_agent_blend, p), 4),
                itemized: round(quantile(&per_agent_item, p), 4),
            };
            price_sheets.push(PriceSheetFigures {
                name: name.clone(),
                billed: k == 0,
                itemized_usd: usd(item),
                blended_usd: usd(blend),
                usd_per_agent_day: fleet.map(|_| AgentDayQuantiles {
                    p10: q(0.10),
                    p50: q(0.50),
                    p90: q(0.90),
                }),
                usd_per_year: fleet.map(|_| Pair {
                    blended: round(blend.usd() * to_year, 0),
                    itemized: round(item.usd() * to_year, 0),
                }),
                margin_usd_per_year: fleet.map(|_| Pair {
                    blended: round((blend.usd() - cost_usd) * to_year, 0),
                    itemized: round((item.usd() - cost_usd) * to_year, 0),
                }),
                usd_per_request: replay.map(|r| Pair {
                    blended: round(div(blend.usd(), r.requests as f64), 8),
                    itemized: round(div(item.usd(), r.requests as f64), 8),
                }),
                usd_per_trace_hour: replay.map(|r| Pair {
                    blended: round(blend.usd() / r.traffic_hours, 4),
                    itemized: round(item.usd() / r.traffic_hours, 4),
                }),
                margin_usd_per_trace_hour: replay.map(|r| Pair {
                    blended: round((blend.usd() - cost_usd) / r.traffic_hours, 4),
                    itemized: round((item.usd() - cost_usd) / r.traffic_hours, 4),
                }),
                blended_usd_per_mtok: setup
                    .served
                    .iter()
                    .map(|m| (m.id.clone(), m.prices[k].blended.usd_per_mtok()))
                    .collect(),
            });
        }

        // Cost split and capex, from each pool's cost as `metrics::cost` sums it.
        let mut rented_hardware = Money::ZERO;
        let mut capex = 0.0;
        for (p, pool) in setup.pools.iter().enumerate() {
            if matches!(pool.cost, CostMode::Rent { .. }) {
                rented_hardware += cost.pools[p].hardware;
            }
            if let Some(per_device) = pool.cost.capex_per_device() {
                capex += per_device * (pool.replicas_max * pool.perf.devices as u64) as f64;
            }
        }
        let (hardware, energy, rented_hardware) = (
            cost.cluster.hardware.usd(),
            cost.cluster.energy.usd(),
            rented_hardware.usd(),
        );
        let tokens = (total.input_uncached + total.input_cached + total.output) as f64
            * ds.0 as f64
            / ds.1 as f64;
        let mtok = tokens / 1e6;
        let scale = ds.0 as f64 / ds.1 as f64;
        let revenue = billed_revenue.usd();
        let utilization = div(total.busy_ns as f64, total.provisioned_ns as f64);
        let profit_before_depreciation = (revenue - energy - rented_hardware) * to_year;
        let unit_economics = UnitEconomics {
            revenue_usd_per_mtok: Pair {
                blended: round(div(total.revenue_blended.usd() * scale, mtok), 6),
                itemized: round(div(revenue, mtok), 6),
            },
            revenue_usd_per_mtok_input_uncached: round(
                div(
                    total.revenue_uncached.usd(),
                    total.input_uncached as f64 / 1e6,
                ),
                6,
            ),
            revenue_usd_per_mtok_input_cached: round(
                div(total.revenue_cached.usd(), total.input_cached as f64 / 1e6),
                6,
            ),
            revenue_usd_per_mtok_output: round(
                div(
                    (total.revenue_output + total.revenue_reasoning).usd(),
                    total.output as f64 / 1e6,
                ),
                6,
            ),
            cost_usd_per_mtok: round(div(cost_usd, mtok), 6),
            hardware_usd_per_mtok: round(div(hardware, mtok), 6),
            energy_usd_per_mtok: round(div(energy, mtok), 6),
            energy_kwh_per_mtok: round(div(energy_kwh, mtok), 6),
            gross_margin: round(div(revenue - cost_usd, revenue), 6),
            cost_usd_per_mtok_at_full_utilization: round(div(cost_usd, mtok) * utilization, 6),
            cost_usd_per_agent_day: fleet
                .map(|_| round(div(cost_usd, setup.agents as f64) * to_day, 6)),
            cost_usd_per_request: replay.map(|r| round(div(cost_usd, r.requests as f64), 8)),
            cost_usd_per_trace_hour: replay.map(|r| round(cost_usd / r.traffic_hours, 4)),
            capex_usd: round(capex, 0),
            payback_years: (fleet.is_some() && capex > 0.0 && profit_before_depreciation > 0.0)
                .then(|| round(capex / profit_before_depreciation, 3)),
        };

        // A replay has no year to set a published yearly figure against: none are listed.
        let references = setup
            .references
            .iter()
            .filter_map(|r| {
                // Validation checked the set exists; fall back to the billed one.
                let set = r
                    .price_set
                    .as_ref()
                    .and_then(|n| price_sheets.iter().find(|p| &p.name == n))
                    .unwrap_or(&price_sheets[0]);
                Some(Reference {
                    label: r.label.clone(),
                    source: r.source.clone(),
                    usd_per_year: r.usd_per_year,
                    usd_per_agent_day: r.usd_per_agent_day,
                    price_set: set.name.clone(),
                    simulated_usd_per_year: set.usd_per_year?,
                    simulated_usd_per_agent_day_p50: set.usd_per_agent_day.as_ref()?.p50,
                })
            })
            .collect();
        Economics {
            price_sheets,
            unit_economics,
            references,
        }
    }
}
