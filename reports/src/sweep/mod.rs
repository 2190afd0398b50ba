//! The outputs of `tokenfleet sweep`: `sweep.csv` (one row per point and seed), `bands.csv`
//! (p10/p50/p90 of every figure per point), `sweep.json` (the specification and break-even
//! points), for a sweep over one numeric field charts of revenue, cost, margin (break-even
//! marked), utilization, devices and TTFT against it ([`charts`]), one self-contained
//! report.html, and the table printed on the terminal.

mod charts;
mod files;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokenfleet_analysis::sweep::Draw;
use tokenfleet_analysis::sweep::SweepRow;
use tokenfleet_analysis::sweep::Vary;
use tokenfleet_analysis::sweep::bands;
use tokenfleet_analysis::sweep::break_even;
use tokenfleet_analysis::sweep::grid;
use tokenfleet_analysis::sweep::metric_index;
use tokenfleet_fleet::run::Shard;
use tokenfleet_models::quantity::split_quantity;

use crate::charts::render::figure_files;
use crate::error::{ReportError, format_err};
use crate::html::markup::{Align, esc, table};
use crate::html::page::{inline_svg, page};
use crate::manifest::{Made, OutputMeta};
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

/// Break-even points of the median margins along the (first) varied field, with the median
/// TTFT p99 at each: a fleet size that breaks even at a latency nobody accepts is no answer.
#[derive(Debug, Clone, Serialize)]
pub struct BreakEven {
    pub field: String,
    pub margin_itemized: Option<f64>,
    pub margin_blended: Option<f64>,
    /// The median TTFT p99 at the itemized break-even, interpolated as the break-even is.
    pub ttft_p99_s_at_itemized: Option<f64>,
    /// The median TTFT p99 at the blended break-even.
    pub ttft_p99_s_at_blended: Option<f64>,
}

impl BreakEven {
    /// "itemized 1,234 (TTFT p99 there 0.84 s), blended none in the range".
    pub fn describe(&self) -> String {
        let value = |x: f64| {
            if x.abs() >= 100.0 {
                let n = crate::table::thousands(x.abs().round() as u64);
                if x < 0.0 { format!("-{n}") } else { n }
            } else {
                format!("{x:.4}")
            }
        };
        let show = |x: Option<f64>, ttft: Option<f64>| match (x, ttft) {
            (Some(x), Some(t)) => format!("{} (TTFT p99 there {t:.2} s)", value(x)),
            (Some(x), None) => value(x),
            (None, _) => "none in the range".into(),
        };
        format!(
            "itemized {}, blended {}",
            show(self.margin_itemized, self.ttft_p99_s_at_itemized),
            show(self.margin_blended, self.ttft_p99_s_at_blended)
        )
    }
}

/// `ys` at `x` along `xs`, interpolated linearly between the neighbouring points.
fn at(xs: &[f64], ys: &[f64], x: f64) -> Option<f64> {
    xs.windows(2).zip(ys.windows(2)).find_map(|(w, y)| {
        let (lo, hi) = (w[0].min(w[1]), w[0].max(w[1]));
        (x >= lo && x <= hi && w[1] != w[0])
            .then(|| y[0] + (y[1] - y[0]) * (x - w[0]) / (w[1] - w[0]))
    })
}

pub(super) fn numeric(values: &[String]) -> Option<Vec<f64>> {
    values
        .iter()
        .map(|v| split_quantity(v).map(|(_, x, _)| x))
        .collect()
}

/// Whether the sweep's charts draw `xs` on a log axis: positive values spanning 50x or more
/// (a log range). The break-even is interpolated on the same scale, so that its marker sits
/// where the drawn line crosses zero.
pub(super) fn log_axis(xs: &[f64]) -> bool {
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(0.0, f64::max);
    lo > 0.0 && hi / lo >= 50.0
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
    // On a log axis, interpolate in log10 of the field and map back.
    let log = log_axis(&xs);
    let scaled: Vec<f64> = if log {
        xs.iter().map(|x| x.log10()).collect()
    } else {
        xs.clone()
    };
    let back = |x: f64| if log { 10f64.powf(x) } else { x };
    let itemized = break_even(&scaled, &col("margin_itemized_usd"));
    let blended = break_even(&scaled, &col("margin_blended_usd"));
    let ttft = col("ttft_p99_s");
    let ttft_at = |x: Option<f64>| x.and_then(|x| at(&scaled, &ttft, x));
    let (ttft_itemized, ttft_blended) = (ttft_at(itemized), ttft_at(blended));
    let (itemized, blended) = (itemized.map(back), blended.map(back));
    Some(BreakEven {
        field: v.path.clone(),
        margin_itemized: itemized,
        margin_blended: blended,
        ttft_p99_s_at_itemized: ttft_itemized,
        ttft_p99_s_at_blended: ttft_blended,
    })
}

/// Writes a sweep's outputs into `dir`.
pub fn write_sweep(dir: &Path, f: &SweepFile, made: &Made) -> Result<Vec<PathBuf>, ReportError> {
    let points = grid(&f.varies).len();
    let b = bands(&f.rows, points);
    let be = sweep_break_even(f);
    let mut files = vec![
        ("sweep.csv".to_string(), files::sweep_csv(f)?),
        ("bands.csv".to_string(), files::bands_csv(f, &b)?),
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
        let _ = writeln!(
            body,
            "<div class=\"callout\">Break-even (median margin crosses zero) along <code>{}</code>: {}.</div>",
            esc(&be.field),
            esc(&be.describe())
        );
    }
    for c in charts::sweep_charts(f, &b, &be) {
        let svg = figure_files(&c, &mut files)?;
        let _ = writeln!(body, "<figure>{}</figure>", inline_svg(&svg));
    }
    // Each column in its unit, the median over the p10-p90 range on a line of its own, so that
    // the table fits the page however many fields are varied.
    let money = |x: f64| crate::table::money(x);
    type Show<'a> = &'a dyn Fn(f64) -> String;
    let columns: [(&str, &str, Show); 7] = [
        ("revenue_itemized_usd", "Revenue, itemized (US$)", &money),
        ("cost_usd", "Cost (US$)", &money),
        ("margin_itemized_usd", "Margin, itemized (US$)", &money),
        ("margin_blended_usd", "Margin, blended (US$)", &money),
        ("utilization", "Utilization (busy share)", &|x| {
            crate::charts::style::share_tick(&x)
        }),
        ("devices", "Devices", &|x| crate::charts::style::sig3(x)),
        ("ttft_p99_s", "TTFT p99 (s)", &|x| format!("{x:.2}")),
    ];
    let rows: Vec<Vec<String>> = grid(&f.varies)
        .iter()
        .enumerate()
        .map(|(p, values)| {
            let mut r: Vec<String> = values.iter().map(|v| esc(v)).collect();
            for (n, _, show) in &columns {
                let band = b[p][metric_index(n)];
                r.push(format!(
                    "{}<br><span class=\"note\">{} – {}</span>",
                    esc(&show(band.p50)),
                    esc(&show(band.p10)),
                    esc(&show(band.p90))
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
    head.extend(columns.iter().map(|(_, h, _)| (*h, Align::R)));
    body.push_str("<section><h2>Median [p10 – p90] per point</h2>\n");
    body.push_str(&table(&head, &rows));
    body.push_str(
        "<p class=\"note\">Median over the seeds, p10 – p90 under it. Money is per simulated \
         period of the scenario (its horizon). Every figure is in bands.csv; every run in \
         sweep.csv.</p></section>\n",
    );
    body.push_str(&crate::html::made::render(made));
    files.push((
        "report.html".into(),
        page(&format!("{} sweep · tokenfleet", f.scenario), &body).into_bytes(),
    ));
    let meta = OutputMeta {
        command: "sweep",
        scenario: f.scenario.clone(),
        seed: None,
        made: made.clone(),
    };
    write_files(dir, &meta, &files)
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
