//! The outputs of `tokenfleet plan`: plan.json (everything), plan.csv (the ranked candidates),
//! frontier.csv (cost against TTFT p99), charts/frontier.{svg,png} (every probe, the frontier and
//! the TTFT target), report.html ([`html`]) and the table printed on stdout ([`table`]).

mod html;
mod table;

pub use table::render_plan;

use std::path::{Path, PathBuf};

use serde::Serialize;
use tokenfleet_analysis::plan::PlanResult;

use crate::charts::figures::{FrontierChart, FrontierPoint};
use crate::charts::render::{figure_png, figure_svg};
use crate::error::{ReportError, format_err};
use crate::manifest::{Made, OutputMeta};
use crate::num::round;
use crate::write::write_files;

#[derive(Serialize)]
struct Row<'a> {
    rank: usize,
    hardware: &'a str,
    tp: u32,
    weights: String,
    feasible: bool,
    lower_bound: u64,
    replicas: Option<u64>,
    devices: Option<u64>,
    purchase_value_usd: Option<f64>,
    cost_usd_per_day: Option<f64>,
    cost_usd_per_mtok: Option<f64>,
    margin_itemized_usd_per_day: Option<f64>,
    power_mw_installed: Option<f64>,
    utilization: Option<f64>,
    ttft_p99_s: Option<f64>,
    tpot_p99_s: Option<f64>,
    e2e_p99_s: Option<f64>,
    rejected_share: Option<f64>,
    probes: usize,
    /// The seeds every one of which meets the targets at `replicas`, space-separated (empty:
    /// the count holds for the planning seed).
    verified_seeds: String,
    error: String,
}

/// Writes plan.json, plan.csv, frontier.csv and the frontier chart into `dir`.
pub fn write_plan(
    dir: &Path,
    scenario: &str,
    plan: &PlanResult,
    made: &Made,
) -> Result<Vec<PathBuf>, ReportError> {
    let json = serde_json::to_vec_pretty(plan).map_err(format_err("plan.json"))?;
    let mut w = csv::Writer::from_writer(Vec::new());
    for (i, r) in plan.candidates.iter().enumerate() {
        let h = r.headline.as_ref();
        let per_day = 24.0 / plan.hours;
        w.serialize(Row {
            rank: i + 1,
            hardware: &r.candidate.hardware,
            tp: r.candidate.tp,
            weights: r.candidate.weights.to_string(),
            feasible: r.replicas.is_some(),
            lower_bound: r.lower_bound,
            replicas: r.replicas,
            devices: h.map(|h| h.devices),
            purchase_value_usd: h.map(|h| h.purchase_value_usd.round()),
            cost_usd_per_day: h.map(|h| round(h.cost_usd * per_day, 2)),
            cost_usd_per_mtok: h.map(|h| round(h.cost_usd_per_mtok, 6)),
            margin_itemized_usd_per_day: h.map(|h| round(h.margin_itemized_usd * per_day, 2)),
            power_mw_installed: h.map(|h| round(h.power_mw_installed, 6)),
            utilization: h.map(|h| round(h.utilization, 6)),
            ttft_p99_s: h.map(|h| h.ttft_p99_s),
            tpot_p99_s: h.map(|h| h.tpot_p99_s),
            e2e_p99_s: h.map(|h| h.e2e_p99_s),
            rejected_share: h.map(|h| round(h.rejected_share, 6)),
            probes: r.probes.len(),
            verified_seeds: r
                .verified_seeds
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            error: r.error.clone().unwrap_or_default(),
        })
        .map_err(format_err("plan.csv"))?;
    }
    let table = w.into_inner().map_err(format_err("plan.csv"))?;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "hardware",
        "tp",
        "weights",
        "replicas",
        "cost_usd_per_day",
        "ttft_p99_s",
        "meets_targets",
    ])
    .map_err(format_err("frontier.csv"))?;
    for p in &plan.frontier {
        w.write_record([
            p.candidate.hardware.clone(),
            p.candidate.tp.to_string(),
            p.candidate.weights.to_string(),
            p.replicas.to_string(),
            round(p.cost_usd_per_day, 2).to_string(),
            p.ttft_p99_s.to_string(),
            p.meets_targets.to_string(),
        ])
        .map_err(format_err("frontier.csv"))?;
    }
    let frontier = w.into_inner().map_err(format_err("frontier.csv"))?;
    let (svg, png) = plan_frontier(plan)?;
    let page = html::render(scenario, plan, &svg, made);
    let meta = OutputMeta {
        command: "plan",
        scenario: scenario.to_string(),
        seed: Some(plan.seed),
        made: made.clone(),
    };
    write_files(
        dir,
        &meta,
        &[
            ("plan.json".into(), json),
            ("plan.csv".into(), table),
            ("frontier.csv".into(), frontier),
            ("charts/frontier.svg".into(), svg.into_bytes()),
            ("charts/frontier.png".into(), png),
            ("report.html".into(), page.into_bytes()),
        ],
    )
}

/// The frontier chart of a plan, as (svg, png).
pub fn plan_frontier(plan: &PlanResult) -> Result<(String, Vec<u8>), ReportError> {
    let per_day = 24.0 / plan.hours;
    let points = plan
        .candidates
        .iter()
        .flat_map(|c| {
            let group = format!(
                "{} tp{} {}",
                c.candidate.hardware, c.candidate.tp, c.candidate.weights
            );
            c.probes
                .iter()
                .filter(|p| p.seed == plan.seed)
                .map(move |p| FrontierPoint {
                    group: group.clone(),
                    cost_per_day: p.headline.cost_usd * per_day,
                    ttft_p99: p.headline.ttft_p99_s,
                    meets: p.misses.is_empty(),
                })
        })
        .collect();
    let f = FrontierChart {
        title: format!("Cost against latency: every probe of pool `{}`", plan.pool),
        subtitle: "filled: meets every target; hollow: misses one".into(),
        points,
        frontier: plan
            .frontier
            .iter()
            .map(|p| (p.cost_usd_per_day, p.ttft_p99_s))
            .collect(),
        target_ttft: plan.targets.ttft_p99_s,
    };
    Ok((figure_svg(&f)?, figure_png(&f)?))
}
