//! Two runs side by side (`tokenfleet compare A B`): the headline figures of both summary.json
//! files with their differences, and the charts with both runs overlaid (A solid, B dashed),
//! written as compare.csv, compare.html and charts/*.svg, charts/*.png.

use std::fmt::Write as _;
use std::path::Path;

use crate::charts::data::ChartRun;
use crate::charts::draw;
use crate::charts::kind::ChartKind;
use crate::error::{ReportError, format_err};
use crate::html::markup::{Align, esc, rate, table};
use crate::html::page::{figures, page};
use crate::rundir::RunDir;
use crate::table::{count, money, thousands};
use crate::write::write_file;

/// How a figure is shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Usd,
    UsdPerM,
    Count,
    Tokens,
    /// A fraction, shown in percent; differences in percentage points.
    Share,
    Secs,
    Kwh,
}

/// Which way a figure is better, for coloring changes (`Neither` for figures such as the
/// fleet's size or the tokens it spends).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Better {
    Higher,
    Lower,
    Neither,
}

/// A headline figure: its label, where it is in summary.json (see [`RunDir::number`]) and which
/// way is better.
pub struct Figure {
    pub label: &'static str,
    pub path: &'static str,
    pub kind: Kind,
    pub better: Better,
}

const fn f(label: &'static str, path: &'static str, kind: Kind, better: Better) -> Figure {
    Figure {
        label,
        path,
        kind,
        better,
    }
}

use Better::{Higher, Lower, Neither};

/// The figures compared, in order.
#[rustfmt::skip]
pub const FIGURES: &[Figure] = &[
    f("agents", "agents.count", Kind::Count, Neither),
    f("replicas (all pools, mean)", "pools[].replicas_mean", Kind::Count, Neither),
    f("devices (all pools, at the start)", "pools[].devices", Kind::Count, Neither),
    f("calls completed", "calls.completed", Kind::Count, Higher),
    f("calls rejected", "calls.rejected", Kind::Count, Lower),
    f("input tokens, uncached", "tokens.input_uncached", Kind::Tokens, Neither),
    f("input tokens, cached", "tokens.input_cached", Kind::Tokens, Neither),
    f("output tokens", "tokens.output", Kind::Tokens, Neither),
    f("cached share of input", "prefix_cache.cached_share_of_input", Kind::Share, Neither),
    f("prefix-cache hit rate", "prefix_cache.hit_rate", Kind::Share, Higher),
    f("revenue, itemized", "revenue_usd.itemized", Kind::Usd, Higher),
    f("revenue, blended", "revenue_usd.blended", Kind::Usd, Higher),
    f("cost, total", "cost_usd.total", Kind::Usd, Lower),
    f("cost, hardware", "cost_usd.hardware", Kind::Usd, Lower),
    f("cost, energy", "cost_usd.energy", Kind::Usd, Lower),
    f("margin, itemized", "margin_usd", Kind::Usd, Higher),
    f("margin, blended", "margin_blended_usd", Kind::Usd, Higher),
    f("energy", "energy_kwh", Kind::Kwh, Lower),
    f("revenue per M tokens, itemized", "per_million_tokens.revenue_itemized_usd", Kind::UsdPerM, Higher),
    f("revenue per M tokens, blended", "per_million_tokens.revenue_blended_usd", Kind::UsdPerM, Higher),
    f("cost per M tokens", "per_million_tokens.cost_usd", Kind::UsdPerM, Lower),
    f("utilization, mean", "utilization.mean", Kind::Share, Neither),
    f("utilization, busiest hour", "utilization.peak_hour", Kind::Share, Neither),
    f("TTFT p50", "latency_s.ttft_p50", Kind::Secs, Lower),
    f("TTFT p99", "latency_s.ttft_p99", Kind::Secs, Lower),
    f("end-to-end p50", "latency_s.e2e_p50", Kind::Secs, Lower),
    f("end-to-end p99", "latency_s.e2e_p99", Kind::Secs, Lower),
    f("daily tokens, p10 agent", "agents.daily_tokens_p10", Kind::Tokens, Neither),
    f("daily tokens, p50 agent", "agents.daily_tokens_p50", Kind::Tokens, Neither),
    f("daily tokens, p90 agent", "agents.daily_tokens_p90", Kind::Tokens, Neither),
    f("share of cells simulated", "sampled_fraction", Kind::Share, Neither),
];

/// One compared figure.
#[derive(Debug, Clone)]
pub struct Line {
    pub label: &'static str,
    pub path: &'static str,
    pub kind: Kind,
    pub better: Better,
    pub a: f64,
    pub b: f64,
}

fn value(kind: Kind, x: f64) -> String {
    match kind {
        Kind::Usd if x < 0.0 => format!("−{}", money(-x)),
        Kind::Usd => money(x),
        Kind::UsdPerM => rate(x),
        // Counts read exactly up to millions ("8,000 replicas"), compactly beyond.
        Kind::Count if x.abs() < 1e7 => thousands(x.abs().round() as u64),
        Kind::Count | Kind::Tokens => count(x.abs()),
        Kind::Share => format!("{:.1}%", x * 100.0),
        Kind::Secs => format!("{x:.3} s"),
        Kind::Kwh if x.abs() < 100.0 => format!("{:.2} kWh", x.abs()),
        Kind::Kwh => format!("{} kWh", count(x.abs())),
    }
}

impl Line {
    pub fn a_text(&self) -> String {
        value(self.kind, self.a)
    }
    pub fn b_text(&self) -> String {
        value(self.kind, self.b)
    }
    /// B − A, signed, in the figure's unit (percentage points for shares).
    pub fn diff_text(&self) -> String {
        let d = self.b - self.a;
        if d == 0.0 {
            return "0".into();
        }
        let sign = if d > 0.0 { "+" } else { "−" };
        let body = match self.kind {
            Kind::Share => format!("{:.1} pp", d.abs() * 100.0),
            Kind::Usd => money(d.abs()),
            k => value(k, d.abs()),
        };
        format!("{sign}{body}")
    }
    /// (B − A) / |A| in percent, if A is not zero.
    pub fn relative(&self) -> Option<f64> {
        (self.a != 0.0).then(|| (self.b - self.a) / self.a.abs() * 100.0)
    }
    pub fn relative_text(&self) -> String {
        match self.relative() {
            Some(r) if r.abs() < 0.05 => "0.0%".into(),
            Some(r) => format!("{}{:.1}%", if r > 0.0 { "+" } else { "−" }, r.abs()),
            None if self.b == 0.0 => "0.0%".into(),
            None => "—".into(),
        }
    }
}

/// Two runs compared.
pub struct Comparison {
    pub a: String,
    pub b: String,
    pub lines: Vec<Line>,
    pub runs: Vec<ChartRun>,
    descriptions: [String; 2],
    /// The command line of each run, from its manifest (empty when not recorded).
    commands: [String; 2],
}

/// Compares two run directories read back.
pub fn compare(a: &RunDir, b: &RunDir) -> Result<Comparison, ReportError> {
    let mut lines = Vec::new();
    for fig in FIGURES {
        lines.push(Line {
            label: fig.label,
            path: fig.path,
            kind: fig.kind,
            better: fig.better,
            a: a.number(fig.path)?,
            b: b.number(fig.path)?,
        });
    }
    // Runs of one scenario with different overrides share its name: then the directory names
    // tell them apart.
    let dir_name = |r: &RunDir| {
        r.dir.file_name().map_or_else(
            || r.dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    let distinct = |r: &RunDir| {
        if a.name() != b.name() {
            r.name().to_string()
        } else if dir_name(a) != dir_name(b) {
            dir_name(r)
        } else {
            format!("{} ({})", r.name(), r.dir.display())
        }
    };
    let label = |tag: &str, r: &RunDir| format!("{tag}: {}", distinct(r));
    let desc = |r: &RunDir| {
        r.value("description")
            .ok()
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    Ok(Comparison {
        a: label("A", a),
        b: label("B", b),
        runs: vec![a.chart_run(label("A", a))?, b.chart_run(label("B", b))?],
        lines,
        descriptions: [desc(a), desc(b)],
        commands: [
            a.manifest.command_line.clone(),
            b.manifest.command_line.clone(),
        ],
    })
}

impl Comparison {
    /// The table printed on the terminal.
    pub fn table(&self) -> String {
        let head = ["", self.a.as_str(), self.b.as_str(), "B − A", "change"];
        let rows: Vec<[String; 5]> = self
            .lines
            .iter()
            .map(|l| {
                [
                    l.label.to_string(),
                    l.a_text(),
                    l.b_text(),
                    l.diff_text(),
                    l.relative_text(),
                ]
            })
            .collect();
        let mut width = head.map(|h| h.chars().count());
        for r in &rows {
            for (w, c) in width.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let pad = |s: &str, w: usize, right: bool| {
            let n = w.saturating_sub(s.chars().count());
            if right {
                format!("{}{s}", " ".repeat(n))
            } else {
                format!("{s}{}", " ".repeat(n))
            }
        };
        let mut out = String::new();
        let line = |cells: [&str; 5], out: &mut String| {
            let mut l = format!("  {}", pad(cells[0], width[0], false));
            for i in 1..5 {
                l.push_str("  ");
                l.push_str(&pad(cells[i], width[i], true));
            }
            let _ = writeln!(out, "{}", l.trim_end());
        };
        line(head, &mut out);
        for r in &rows {
            line([&r[0], &r[1], &r[2], &r[3], &r[4]], &mut out);
        }
        out
    }

    /// compare.csv: the figures with their summary.json field, unrounded.
    pub fn csv(&self) -> Result<String, ReportError> {
        let err = format_err::<csv::Error>("compare.csv");
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "figure",
            "summary_field",
            "a",
            "b",
            "difference",
            "relative_pct",
        ])
        .map_err(err)?;
        for l in &self.lines {
            w.write_record([
                l.label.to_string(),
                l.path.to_string(),
                l.a.to_string(),
                l.b.to_string(),
                (l.b - l.a).to_string(),
                l.relative().map_or(String::new(), |r| format!("{r:.6}")),
            ])
            .map_err(err)?;
        }
        let bytes = w.into_inner().map_err(|e| err(e.into_error().into()))?;
        String::from_utf8(bytes).map_err(format_err("compare.csv"))
    }

    /// compare.html: the table and the overlaid charts, self-contained like report.html.
    pub fn html(&self) -> Result<String, ReportError> {
        let mut body = String::from("<header>\n<p class=\"kicker\">tokenfleet comparison</p>\n");
        let _ = writeln!(
            body,
            "<h1>{} <span class=\"note\">vs</span> {}</h1>",
            esc(&self.a),
            esc(&self.b)
        );
        // The description is the scenario's as written; the command line says what was run
        // (a `--set` can change what the description states).
        for ((tag, d), c) in ["A", "B"]
            .iter()
            .zip(&self.descriptions)
            .zip(&self.commands)
        {
            if !d.is_empty() || !c.is_empty() {
                let ran = if c.is_empty() {
                    String::new()
                } else {
                    format!("<br>ran as <code>{}</code>", esc(c))
                };
                let _ = writeln!(body, "<p class=\"meta\">{tag}: {}{ran}</p>", esc(d));
            }
        }
        body.push_str("</header>\n<section>\n<h2>Headline figures</h2>\n");
        let rows: Vec<Vec<String>> = self
            .lines
            .iter()
            .map(|l| {
                let d = l.b - l.a;
                let class = match (l.better, l.relative()) {
                    (_, Some(r)) if r.abs() < 0.05 => "",
                    (Better::Higher, _) if d > 0.0 => "pos",
                    (Better::Lower, _) if d < 0.0 => "pos",
                    (Better::Higher | Better::Lower, _) if d != 0.0 => "neg",
                    _ => "",
                };
                vec![
                    esc(l.label),
                    esc(&l.a_text()),
                    esc(&l.b_text()),
                    esc(&l.diff_text()),
                    format!("<span class=\"{class}\">{}</span>", esc(&l.relative_text())),
                ]
            })
            .collect();
        body.push_str(&table(
            &[
                ("Figure", Align::L),
                (&esc(&self.a), Align::R),
                (&esc(&self.b), Align::R),
                ("B − A", Align::R),
                ("Change", Align::R),
            ],
            &rows,
        ));
        body.push_str(
            "<p class=\"note\">Green marks a change for the better (more revenue or margin, less \
             cost or latency), red one for the worse; figures that are neither are not colored. \
             The unrounded figures are in compare.csv.</p>\n</section>\n<section>\n\
             <h2>Charts (A solid, B dashed)</h2>\n",
        );
        body.push_str(&figures(&self.runs)?);
        let _ = write!(
            body,
            "</section>\n<footer>Generated by tokenfleet {} from the run directories' \
             summary.json, hourly.csv and charts/daily_tokens.csv.</footer>\n",
            env!("CARGO_PKG_VERSION")
        );
        Ok(page(
            &format!("{} vs {} · tokenfleet comparison", self.a, self.b),
            &body,
        ))
    }

    /// Writes compare.html, compare.csv and the overlaid charts into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), ReportError> {
        let bytes = |file: &'static str, b: &[u8], w: &mut dyn std::io::Write| {
            w.write_all(b).map_err(format_err(file))
        };
        let page = self.html()?;
        write_file(dir, "compare.html", |w| {
            bytes("compare.html", page.as_bytes(), w)
        })?;
        let csv = self.csv()?;
        write_file(dir, "compare.csv", |w| {
            bytes("compare.csv", csv.as_bytes(), w)
        })?;
        for kind in ChartKind::ALL {
            let (svg_file, png_file) = kind.files();
            let svg = draw::svg(kind, &self.runs)?;
            write_file(dir, svg_file, |w| bytes(svg_file, svg.as_bytes(), w))?;
            let png = draw::png(kind, &self.runs)?;
            write_file(dir, png_file, |w| bytes(png_file, &png, w))?;
        }
        Ok(())
    }
}
