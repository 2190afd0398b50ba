//! The outputs of `tokenfleet plan`: plan.json (everything), plan.csv (the ranked candidates),
//! frontier.csv (cost against TTFT p99), charts/frontier.{svg,png} (every probe, the frontier and
//! the TTFT target) and the table printed on stdout.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tokenfleet_analysis::plan::PlanResult;

use crate::charts::figures::{FrontierChart, FrontierPoint};
use crate::charts::render::{figure_png, figure_svg};
use crate::error::{ReportError, format_err};
use crate::manifest::{Made, OutputMeta};
use crate::num::round;
use crate::table::{money, thousands};
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
        ],
    )
}

/// The ranked table.
pub fn render_plan(plan: &PlanResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  pool `{}`; {} probes of {} cells each (seed {})",
        plan.pool, plan.probes_run, plan.cells_per_probe, plan.seed
    );
    let _ = writeln!(
        out,
        "  {:<4} {:<12} {:>3} {:<5} {:>9} {:>8} {:>12} {:>11} {:>9} {:>9} {:>8} {:>9}",
        "rank",
        "hardware",
        "tp",
        "prec",
        "replicas",
        "devices",
        "cost $/day",
        "$/M tokens",
        "power MW",
        "TTFT p99",
        "util",
        "rejected"
    );
    let per_day = 24.0 / plan.hours;
    for (i, r) in plan.candidates.iter().enumerate() {
        match (&r.headline, r.replicas) {
            (Some(h), Some(n)) => {
                let _ = writeln!(
                    out,
                    "  {:<4} {:<12} {:>3} {:<5} {:>9} {:>8} {:>12} {:>11.4} {:>9.3} {:>8.2}s {:>7.1}% {:>8.3}%",
                    i + 1,
                    r.candidate.hardware,
                    r.candidate.tp,
                    r.candidate.weights.to_string(),
                    thousands(n),
                    thousands(h.devices),
                    money(h.cost_usd * per_day),
                    h.cost_usd_per_mtok,
                    h.power_mw_installed,
                    h.ttft_p99_s,
                    h.utilization * 100.0,
                    h.rejected_share * 100.0
                );
            }
            _ => {
                let why = r
                    .error
                    .clone()
                    .unwrap_or_else(|| "no count up to the maximum meets the targets".into());
                let why: String = why.lines().last().unwrap_or("").chars().take(80).collect();
                let _ = writeln!(
                    out,
                    "  {:<4} {:<12} {:>3} {:<5} infeasible: {why}",
                    "-",
                    r.candidate.hardware,
                    r.candidate.tp,
                    r.candidate.weights.to_string()
                );
            }
        }
    }
    match &plan.chosen {
        Some(c) => {
            let _ = writeln!(
                out,
                "\n  plan: {} x {} (tp {}, {}) = {} devices; meets every target with {} seeds",
                thousands(c.replicas),
                c.candidate.hardware,
                c.candidate.tp,
                c.candidate.weights,
                thousands(c.devices),
                c.verification.len()
            );
            let misses: Vec<String> = c
                .next_smaller
                .iter()
                .flat_map(|p| {
                    p.misses.iter().map(move |m| {
                        format!(
                            "{} {:.3} > {:.3} (seed {})",
                            m.target, m.attained, m.limit, p.seed
                        )
                    })
                })
                .collect();
            if !misses.is_empty() {
                let _ = writeln!(
                    out,
                    "  with {} replicas: {}",
                    thousands(c.replicas - 1),
                    misses.join("; ")
                );
            }
        }
        None => {
            let _ = writeln!(out, "\n  no candidate meets the targets");
        }
    }
    out
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
