//! The outputs of `tokenfleet sweep` and `tokenfleet sensitivity`, and the plan's frontier
//! chart: CSVs with every run and every band, charts, and one self-contained report.html each.
//!
//! Sweeps: `sweep.csv` (one row per point and seed), `bands.csv` (p10/p50/p90 of every figure
//! per point), `sweep.json` (the specification and break-even points) and, for a sweep over
//! one numeric field, charts of revenue, cost, margin (break-even marked), utilization and
//! devices against it. Sensitivity: `sensitivity.csv` and tornado charts of the margin and of
//! the cost per million tokens.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokenfleet_analysis::plan::PlanResult;
use tokenfleet_analysis::sensitivity::Sensitivity;
use tokenfleet_analysis::sweep::Band;
use tokenfleet_analysis::sweep::Draw;
use tokenfleet_analysis::sweep::METRICS;
use tokenfleet_analysis::sweep::SweepRow;
use tokenfleet_analysis::sweep::Vary;
use tokenfleet_analysis::sweep::bands;
use tokenfleet_analysis::sweep::break_even;
use tokenfleet_analysis::sweep::grid;
use tokenfleet_analysis::sweep::metric_index;
use tokenfleet_fleet::metrics::Headline;
use tokenfleet_fleet::run::Shard;
use tokenfleet_models::quantity::split_quantity;

use crate::charts::figures::{
    BandChart, Banded, FrontierChart, FrontierPoint, Swing, Tornado, Unit,
};
use crate::charts::render::{Figure, figure_png, figure_svg};
use crate::error::{ReportError, format_err};
use crate::html::markup::{Align, esc, table};
use crate::html::page::page;
use crate::manifest::OutputMeta;
use crate::write::write_files;

/// A sweep, as written and read back by `merge`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepFile {
    pub scenario: String,
    pub varies: Vec<Vary>,
    pub draws: Vec<Draw>,
    pub seeds: u32,
    pub planned: bool,
    pub rows: Vec<SweepRow>,
}

/// What a sweep shard writes for `tokenfleet merge`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepPartial {
    pub format: String,
    pub source: crate::partial::ScenarioSource,
    pub shard: Shard,
    pub sweep: SweepFile,
}

/// The format tag of [`SweepPartial`]; bump when the layout changes.
pub const SWEEP_FORMAT: &str = "tokenfleet-sweep-partial/1";

/// Break-even points of the median margins along the (first) varied field.
#[derive(Debug, Clone, Serialize)]
pub struct BreakEven {
    pub field: String,
    pub margin_itemized: Option<f64>,
    pub margin_blended: Option<f64>,
}

fn numeric(values: &[String]) -> Option<Vec<f64>> {
    values
        .iter()
        .map(|v| split_quantity(v).map(|(_, x, _)| x))
        .collect()
}

/// The break-even of a one-field sweep, if the field is numeric.
pub fn sweep_break_even(f: &SweepFile) -> Option<BreakEven> {
    let v = f.varies.first()?;
    if f.varies.len() != 1 {
        return None;
    }
    let xs = numeric(&v.values)?;
    let b = bands(&f.rows, v.values.len());
    let col = |name: &str| {
        let i = metric_index(name);
        b.iter().map(|p| p[i].p50).collect::<Vec<f64>>()
    };
    Some(BreakEven {
        field: v.path.clone(),
        margin_itemized: break_even(&xs, &col("margin_itemized_usd")),
        margin_blended: break_even(&xs, &col("margin_blended_usd")),
    })
}

fn sweep_csv(f: &SweepFile) -> Result<Vec<u8>, ReportError> {
    let e = format_err("sweep.csv");
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head: Vec<String> = vec!["point".into(), "seed_index".into(), "seed".into()];
    head.extend(f.varies.iter().map(|v| v.path.clone()));
    head.extend(f.draws.iter().map(|d| format!("drawn:{}", d.path)));
    head.extend(["agents", "plan_hardware", "plan_tp", "plan_replicas"].map(String::from));
    head.extend(METRICS.iter().map(|(n, _)| n.to_string()));
    w.write_record(&head).map_err(&e)?;
    for r in &f.rows {
        let mut rec: Vec<String> = vec![
            r.point.to_string(),
            r.seed_index.to_string(),
            r.seed.to_string(),
        ];
        rec.extend(r.values.iter().cloned());
        rec.extend(r.drawn.iter().cloned());
        rec.push(r.agents.to_string());
        match &r.plan {
            Some((h, tp, n)) => rec.extend([h.clone(), tp.to_string(), n.to_string()]),
            None => rec.extend([String::new(), String::new(), String::new()]),
        }
        rec.extend(METRICS.iter().map(|(_, m)| m(&r.headline).to_string()));
        w.write_record(&rec).map_err(&e)?;
    }
    w.into_inner().map_err(format_err("sweep.csv"))
}

fn bands_csv(f: &SweepFile, b: &[Vec<Band>]) -> Result<Vec<u8>, ReportError> {
    let e = format_err("bands.csv");
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head: Vec<String> = vec!["point".into()];
    head.extend(f.varies.iter().map(|v| v.path.clone()));
    for (n, _) in METRICS {
        head.extend([format!("{n}_p10"), format!("{n}_p50"), format!("{n}_p90")]);
    }
    w.write_record(&head).map_err(&e)?;
    for (p, values) in grid(&f.varies).iter().enumerate() {
        let mut rec = vec![p.to_string()];
        rec.extend(values.iter().cloned());
        for band in &b[p] {
            rec.extend([band.p10, band.p50, band.p90].map(|x| x.to_string()));
        }
        w.write_record(&rec).map_err(&e)?;
    }
    w.into_inner().map_err(format_err("bands.csv"))
}

fn sweep_charts(f: &SweepFile, b: &[Vec<Band>], be: &Option<BreakEven>) -> Vec<BandChart> {
    let Some(v) = f.varies.first().filter(|_| f.varies.len() == 1) else {
        return Vec::new();
    };
    let Some(xs) = numeric(&v.values) else {
        return Vec::new();
    };
    let (lo, hi) = (
        xs.iter().copied().fold(f64::INFINITY, f64::min),
        xs.iter().copied().fold(0.0, f64::max),
    );
    let log_x = lo > 0.0 && hi / lo >= 50.0;
    let series = |names: &[(&str, &str)]| -> Vec<Banded> {
        names
            .iter()
            .map(|(metric, label)| {
                let i = metric_index(metric);
                Banded {
                    label: label.to_string(),
                    p10: b.iter().map(|p| p[i].p10).collect(),
                    p50: b.iter().map(|p| p[i].p50).collect(),
                    p90: b.iter().map(|p| p[i].p90).collect(),
                }
            })
            .collect()
    };
    let seeds = format!(
        "{} seeds per point{}",
        f.seeds,
        if f.planned {
            "; the cluster re-planned at every point"
        } else {
            ""
        }
    );
    let chart = |name, title: &str, y: &str, unit, s| BandChart {
        name,
        title: title.into(),
        subtitle: seeds.clone(),
        x_label: v.path.clone(),
        x: xs.clone(),
        log_x,
        y_label: y.into(),
        y_unit: unit,
        series: s,
        marker: None,
    };
    let mut margin = chart(
        "sweep_margin",
        "Margin",
        "US$ per simulated period",
        Unit::Usd,
        series(&[
            ("margin_itemized_usd", "itemized"),
            ("margin_blended_usd", "blended"),
        ]),
    );
    margin.marker = be.as_ref().and_then(|b| {
        let si = crate::charts::style::si;
        b.margin_itemized
            .map(|x| (x, format!("itemized break-even at {}", si(x))))
            .or_else(|| {
                b.margin_blended
                    .map(|x| (x, format!("blended break-even at {}", si(x))))
            })
    });
    vec![
        chart(
            "sweep_revenue",
            "Revenue",
            "US$ per simulated period",
            Unit::Usd,
            series(&[
                ("revenue_itemized_usd", "itemized"),
                ("revenue_blended_usd", "blended"),
            ]),
        ),
        chart(
            "sweep_cost",
            "Cost of serving",
            "US$ per simulated period",
            Unit::Usd,
            series(&[("cost_usd", "cost")]),
        ),
        margin,
        chart(
            "sweep_utilization",
            "Utilization",
            "busy share",
            Unit::Share,
            series(&[("utilization", "utilization")]),
        ),
        chart(
            "sweep_devices",
            "Devices",
            "devices",
            Unit::Plain,
            series(&[("devices", "devices")]),
        ),
        chart(
            "sweep_latency",
            "TTFT p99",
            "seconds",
            Unit::Seconds,
            series(&[("ttft_p99_s", "TTFT p99")]),
        ),
    ]
}

fn figure_files<F: Figure>(f: &F, out: &mut Vec<(String, Vec<u8>)>) -> Result<String, ReportError> {
    let svg = figure_svg(f)?;
    out.push((format!("charts/{}.svg", f.name()), svg.clone().into_bytes()));
    out.push((format!("charts/{}.png", f.name()), figure_png(f)?));
    Ok(svg)
}

/// Writes a sweep's outputs into `dir`.
pub fn write_sweep(dir: &Path, f: &SweepFile) -> Result<Vec<PathBuf>, ReportError> {
    let points = grid(&f.varies).len();
    let b = bands(&f.rows, points);
    let be = sweep_break_even(f);
    let mut files = vec![
        ("sweep.csv".to_string(), sweep_csv(f)?),
        ("bands.csv".to_string(), bands_csv(f, &b)?),
    ];
    let json = serde_json::json!({ "sweep": f, "break_even": be });
    files.push((
        "sweep.json".into(),
        serde_json::to_vec_pretty(&json).map_err(format_err("sweep.json"))?,
    ));
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<header><p class=\"kicker\">tokenfleet sweep</p><h1>{}</h1>",
        esc(&f.scenario)
    );
    let varied: Vec<String> = f
        .varies
        .iter()
        .map(|v| format!("{} over {}", v.path, v.values.join(", ")))
        .collect();
    let _ = writeln!(
        body,
        "<p class=\"meta\">{}; {} seeds per point{}{}</p></header>",
        esc(&varied.join("; ")),
        f.seeds,
        if f.draws.is_empty() {
            String::new()
        } else {
            format!(
                "; uncertain inputs drawn per seed: {}",
                esc(&f
                    .draws
                    .iter()
                    .map(|d| d.path.clone())
                    .collect::<Vec<_>>()
                    .join(", "))
            )
        },
        if f.planned {
            "; the cluster re-planned at every point"
        } else {
            ""
        }
    );
    if let Some(be) = &be {
        let show =
            |x: Option<f64>| x.map_or("none in the range".to_string(), crate::charts::style::si);
        let _ = writeln!(
            body,
            "<div class=\"callout\">Break-even (median margin crosses zero) along <code>{}</code>: itemized {}, blended {}.</div>",
            esc(&be.field),
            show(be.margin_itemized),
            show(be.margin_blended)
        );
    }
    for c in sweep_charts(f, &b, &be) {
        let svg = figure_files(&c, &mut files)?;
        let _ = writeln!(body, "<figure>{svg}</figure>");
    }
    let idx = |n: &str| METRICS.iter().position(|(m, _)| *m == n).expect("metric");
    let rows: Vec<Vec<String>> = grid(&f.varies)
        .iter()
        .enumerate()
        .map(|(p, values)| {
            let mut r: Vec<String> = values.iter().map(|v| esc(v)).collect();
            for n in [
                "revenue_itemized_usd",
                "cost_usd",
                "margin_itemized_usd",
                "margin_blended_usd",
                "utilization",
                "devices",
                "ttft_p99_s",
            ] {
                let band = b[p][idx(n)];
                r.push(format!(
                    "{} <span class=\"note\">[{} – {}]</span>",
                    crate::charts::style::si(band.p50),
                    crate::charts::style::si(band.p10),
                    crate::charts::style::si(band.p90)
                ));
            }
            r
        })
        .collect();
    let mut head: Vec<(&str, Align)> = f
        .varies
        .iter()
        .map(|v| (v.path.as_str(), Align::L))
        .collect();
    head.extend([
        ("Revenue, itemized", Align::R),
        ("Cost", Align::R),
        ("Margin, itemized", Align::R),
        ("Margin, blended", Align::R),
        ("Utilization", Align::R),
        ("Devices", Align::R),
        ("TTFT p99 (s)", Align::R),
    ]);
    body.push_str("<section><h2>Median [p10 – p90] per point</h2>\n");
    body.push_str(&table(&head, &rows));
    body.push_str(
        "<p class=\"note\">Every figure is in bands.csv; every run in sweep.csv.</p></section>\n",
    );
    files.push((
        "report.html".into(),
        page(&format!("{} sweep · tokenfleet", f.scenario), &body).into_bytes(),
    ));
    let meta = OutputMeta {
        command: "sweep",
        scenario: f.scenario.clone(),
        seed: None,
    };
    write_files(dir, &meta, &files)
}

/// Writes a sensitivity analysis into `dir`.
pub fn write_sensitivity(
    dir: &Path,
    scenario: &str,
    s: &Sensitivity,
) -> Result<Vec<PathBuf>, ReportError> {
    let e = format_err("sensitivity.csv");
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "input",
        "path",
        "low_factor",
        "high_factor",
        "margin_itemized_low",
        "margin_itemized_base",
        "margin_itemized_high",
        "margin_blended_low",
        "margin_blended_base",
        "margin_blended_high",
        "cost_usd_per_mtok_low",
        "cost_usd_per_mtok_base",
        "cost_usd_per_mtok_high",
    ])
    .map_err(&e)?;
    for sw in &s.swings {
        let f = |h: &Headline| {
            [
                h.margin_itemized_usd,
                h.margin_blended_usd,
                h.cost_usd_per_mtok,
            ]
        };
        let (l, b, h) = (f(&sw.low), f(&s.base), f(&sw.high));
        w.write_record([
            sw.input.label.clone(),
            sw.input.path.clone(),
            (1.0 - s.amount).to_string(),
            (1.0 + s.amount).to_string(),
            l[0].to_string(),
            b[0].to_string(),
            h[0].to_string(),
            l[1].to_string(),
            b[1].to_string(),
            h[1].to_string(),
            l[2].to_string(),
            b[2].to_string(),
            h[2].to_string(),
        ])
        .map_err(&e)?;
    }
    let mut files = vec![(
        "sensitivity.csv".to_string(),
        w.into_inner().map_err(format_err("sensitivity.csv"))?,
    )];
    files.push((
        "sensitivity.json".into(),
        serde_json::to_vec_pretty(s).map_err(format_err("sensitivity.json"))?,
    ));
    let pct = (s.amount * 100.0).round();
    let tornado = |name, title: &str, x_label: &str, unit, f: fn(&Headline) -> f64| {
        let mut swings: Vec<Swing> = s
            .swings
            .iter()
            .map(|w| Swing {
                label: w.input.label.clone(),
                low: f(&w.low),
                high: f(&w.high),
            })
            .collect();
        swings.sort_by(|a, b| (b.high - b.low).abs().total_cmp(&(a.high - a.low).abs()));
        Tornado {
            name,
            title: title.into(),
            subtitle: format!(
                "each input moved by ±{pct}% alone, same seed; the line is the base case"
            ),
            x_label: x_label.into(),
            x_unit: unit,
            base: f(&s.base),
            swings,
            low_label: format!("input -{pct}%"),
            high_label: format!("input +{pct}%"),
        }
    };
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<header><p class=\"kicker\">tokenfleet sensitivity</p><h1>{}</h1><p class=\"meta\">Each input moved down and up by {pct}%, one at a time, seed {}.</p></header>",
        esc(scenario),
        s.seed
    );
    for t in [
        tornado(
            "tornado_margin",
            "Margin (itemized)",
            "US$ per simulated period",
            Unit::Usd,
            |h| h.margin_itemized_usd,
        ),
        tornado(
            "tornado_cost_per_mtok",
            "Cost per million tokens",
            "US$ per million tokens",
            Unit::Usd,
            |h| h.cost_usd_per_mtok,
        ),
    ] {
        let svg = figure_files(&t, &mut files)?;
        let _ = writeln!(body, "<figure>{svg}</figure>");
    }
    body.push_str("<p class=\"note\">Every bar is a row of sensitivity.csv.</p>\n");
    files.push((
        "report.html".into(),
        page(&format!("{scenario} sensitivity · tokenfleet"), &body).into_bytes(),
    ));
    let meta = OutputMeta {
        command: "sensitivity",
        scenario: scenario.to_string(),
        seed: None,
    };
    write_files(dir, &meta, &files)
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

/// The sweep's bands as a table for the terminal: one line per point, medians with the p10–p90
/// range of the margin beside them.
pub fn render_sweep(f: &SweepFile) -> String {
    use crate::table::{count, money};
    let b = bands(&f.rows, grid(&f.varies).len());
    let (tok, cost, margin, util, dev, ttft) = (
        metric_index("tokens"),
        metric_index("cost_usd"),
        metric_index("margin_itemized_usd"),
        metric_index("utilization"),
        metric_index("devices"),
        metric_index("ttft_p99_s"),
    );
    let names: Vec<&str> = f.varies.iter().map(|v| v.path.as_str()).collect();
    let key = names.join(" × ");
    let width = key.len().max(12);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {key:<width$}  {:>9}  {:>8}  {:>11}  {:>29}  {:>6}  {:>9}",
        "tokens", "devices", "cost", "margin (itemized) p10–p90", "util", "TTFT p99"
    );
    for (p, values) in grid(&f.varies).iter().enumerate() {
        let m = &b[p];
        let _ = writeln!(
            out,
            "  {:<width$}  {:>9}  {:>8}  {:>11}  {:>29}  {:>5.1}%  {:>8.2}s",
            values.join(" × "),
            count(m[tok].p50),
            count(m[dev].p50),
            money(m[cost].p50),
            format!(
                "{} ({} … {})",
                money(m[margin].p50),
                money(m[margin].p10),
                money(m[margin].p90)
            ),
            m[util].p50 * 100.0,
            m[ttft].p50,
        );
    }
    out
}
