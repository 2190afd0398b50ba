//! report.html: the run as one self-contained page to read or paste into a memo. Charts are
//! inlined as SVG, the CSS is inline, there are no scripts and no external assets, and nothing
//! in it depends on the clock or the thread count (the file is byte-identical across runs of
//! the same scenario and seed).
//!
//! Sections: key figures, blended vs itemized pricing ([`economics`]), the headline table, the
//! charts, the scenario's assumptions ([`assumptions`]). [`page`] and the small table helpers
//! are shared with compare.html.

pub mod assumptions;
pub mod economics;

use std::fmt::Write as _;
use std::io::Write;

use crate::charts::data::ChartRun;
use crate::charts::draw;
use crate::charts::kind::ChartKind;
use crate::error::ReportError;
use crate::report::{Report, ReportContext};
use crate::summary::Summary;
use crate::table::{count, money, thousands};

pub struct ReportHtml;

pub const REPORT_FILE: &str = "report.html";

impl Report for ReportHtml {
    fn file_name(&self) -> &'static str {
        REPORT_FILE
    }
    fn write(&self, ctx: &ReportContext, out: &mut dyn Write) -> Result<(), ReportError> {
        let html = render(ctx)?;
        out.write_all(html.as_bytes())
            .map_err(|e| ReportError::Format {
                file: REPORT_FILE,
                message: e.to_string(),
            })
    }
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:root { --ink:#1f2937; --muted:#646c7a; --line:#e5e7eb; --accent:#2563eb; --neg:#b91c1c; --pos:#15803d; --soft:#f8fafc; }
* { box-sizing: border-box; }
html { background: #eef0f3; }
body { margin: 0; color: var(--ink); font: 15px/1.55 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", "DejaVu Sans", sans-serif; }
main { max-width: 1080px; margin: 0 auto; background: #fff; padding: 44px 56px 56px; }
h1 { font-size: 30px; line-height: 1.2; margin: 4px 0 10px; letter-spacing: -0.01em; }
h2 { font-size: 20px; margin: 44px 0 14px; padding-bottom: 6px; border-bottom: 2px solid var(--ink); }
h3 { font-size: 13px; margin: 26px 0 6px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
p { margin: 8px 0; }
.kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 12px; color: var(--accent); font-weight: 600; margin: 0; }
.lede { font-size: 17px; margin: 0 0 6px; }
.meta, .note { color: var(--muted); font-size: 13px; }
.meta { margin: 0; }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; margin-top: 26px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; background: var(--soft); }
.card .label { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 25px; font-weight: 650; font-variant-numeric: tabular-nums; margin-top: 2px; }
.card .sub { font-size: 12.5px; color: var(--muted); }
.neg { color: var(--neg); }
.pos { color: var(--pos); }
.callout { border-left: 4px solid var(--accent); background: #eff6ff; padding: 12px 16px; margin: 14px 0; }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin: 6px 0 4px; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; border-bottom: 1.5px solid var(--ink); vertical-align: bottom; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.unit { color: var(--muted); padding-left: 0; }
tr.total td { font-weight: 650; border-top: 1.5px solid var(--ink); }
tbody th { font-weight: 500; }
table.kv { table-layout: fixed; }
table.kv th { width: 50%; font-weight: 500; }
table.kv td.num { width: 22%; }
.groups { display: grid; grid-template-columns: 1fr 1fr; gap: 0 36px; }
.groups h3:first-child { margin-top: 8px; }
table.params td:first-child { width: 32%; }
figure { margin: 30px 0 0; }
figure svg { width: 100%; height: auto; display: block; border: 1px solid var(--line); border-radius: 6px; }
figcaption { font-size: 12.5px; color: var(--muted); margin-top: 6px; }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
footer { margin-top: 48px; font-size: 12.5px; color: var(--muted); border-top: 1px solid var(--line); padding-top: 12px; }
@media print { html { background: #fff; } main { padding: 0; max-width: none; } figure, table { break-inside: avoid; } }
"#;

/// A whole HTML document around `body`.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        esc(title)
    )
}

/// Column alignment: text left, numbers right.
#[derive(Clone, Copy, PartialEq)]
pub enum Align {
    L,
    R,
}

/// A table with a header row; cells are HTML already (escape text with [`esc`]). Rows whose
/// first cell starts with `"\u{1}"` are drawn as totals (the marker is removed).
pub fn table(head: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    classed_table("", head, rows)
}

/// [`table`] with a CSS class.
pub fn classed_table(class: &str, head: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    let mut s = if class.is_empty() {
        String::from("<table>\n<thead><tr>")
    } else {
        format!("<table class=\"{class}\">\n<thead><tr>")
    };
    for (h, a) in head {
        let class = if *a == Align::R { " class=\"num\"" } else { "" };
        let _ = write!(s, "<th{class}>{h}</th>");
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        let (total, first) = match row.first().and_then(|c| c.strip_prefix('\u{1}')) {
            Some(rest) => (true, rest.to_string()),
            None => (false, row.first().cloned().unwrap_or_default()),
        };
        s.push_str(if total {
            "<tr class=\"total\">"
        } else {
            "<tr>"
        });
        for (i, (h, a)) in head.iter().enumerate() {
            let _ = h;
            let cell = if i == 0 {
                first.as_str()
            } else {
                row.get(i).map_or("", String::as_str)
            };
            let class = if *a == Align::R { " class=\"num\"" } else { "" };
            let _ = write!(s, "<td{class}>{cell}</td>");
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody>\n</table>\n");
    s
}

/// A two-column table of labels and values (values right-aligned, with a unit column).
pub fn kv_table(rows: &[Row]) -> String {
    let mut s = String::from("<table class=\"kv\">\n<tbody>\n");
    for (k, v, unit) in rows {
        let _ = writeln!(
            s,
            "<tr><th>{k}</th><td class=\"num\">{v}</td><td class=\"unit\">{unit}</td></tr>"
        );
    }
    s.push_str("</tbody>\n</table>\n");
    s
}

/// "$1.23M"; negative amounts with a typographic minus and in red.
pub fn signed_money(x: f64) -> String {
    if x < 0.0 {
        format!("<span class=\"neg\">−{}</span>", esc(&money(-x)))
    } else {
        esc(&money(x))
    }
}

pub fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A dollar rate with the digits that matter: "$1.40", "$0.30", "$0.375", "$0.0463",
/// "$0.00012" (at least two decimals, up to three significant digits below a cent).
pub fn rate(x: f64) -> String {
    let a = x.abs();
    let decimals = if a >= 0.01 || a == 0.0 {
        4
    } else {
        (2 - a.log10().floor() as i32).clamp(4, 12) as usize
    };
    let mut s = format!("{a:.decimals$}");
    while s.ends_with('0') && s.len() - s.find('.').unwrap_or(0) > 3 {
        s.pop();
    }
    let sign = if x < 0.0 { "−" } else { "" };
    format!("{sign}${s}")
}

pub fn secs(x: f64) -> String {
    if x < 1.0 {
        format!("{:.0} ms", x * 1e3)
    } else {
        format!("{x:.2} s")
    }
}

/// The charts as `<figure>`s with inline SVG and a caption naming their data.
pub fn figures(runs: &[ChartRun]) -> Result<String, ReportError> {
    let mut s = String::new();
    for kind in ChartKind::ALL {
        let svg = draw::svg(kind, runs)?;
        // The SVG's own XML header is not valid inside HTML.
        let svg = svg.trim_start_matches(|c| c != '<');
        let svg = match svg.strip_prefix("<?xml") {
            Some(rest) => rest.split_once("?>").map_or(rest, |(_, r)| r),
            None => svg,
        };
        let _ = write!(
            s,
            "<figure id=\"{}\" aria-label=\"{}\">\n{}\n<figcaption>Data: {}.</figcaption>\n</figure>\n",
            kind.name(),
            esc(kind.title()),
            svg.trim(),
            esc(kind.source())
        );
    }
    Ok(s)
}

fn card(label: &str, value: &str, sub: &str) -> String {
    format!(
        "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{value}</div>\
         <div class=\"sub\">{sub}</div></div>\n",
        esc(label)
    )
}

fn header(ctx: &ReportContext) -> String {
    let s = ctx.summary;
    let mut meta = format!(
        "{} agents · {} h simulated from 00:00 UTC · seed {}",
        thousands(s.agents.count),
        s.simulated_hours,
        s.seed
    );
    if s.sampled_fraction < 1.0 {
        let _ = write!(
            meta,
            " · {} of {} cells simulated ({:.1}%), fleet totals scaled",
            s.engine.cells_simulated,
            s.engine.cells,
            s.sampled_fraction * 100.0
        );
    }
    let mut h = String::from("<header>\n<p class=\"kicker\">tokenfleet run report</p>\n");
    let _ = writeln!(h, "<h1>{}</h1>", esc(&s.scenario));
    if !s.description.is_empty() {
        let _ = writeln!(h, "<p class=\"lede\">{}</p>", esc(&s.description));
    }
    let _ = writeln!(h, "<p class=\"meta\">{}</p>\n</header>", esc(&meta));
    h
}

fn cards(s: &Summary) -> String {
    let mut c = String::from("<section class=\"cards\">\n");
    c.push_str(&card(
        "Revenue, itemized",
        &signed_money(s.revenue_usd.itemized),
        &format!(
            "{} at one blended price",
            esc(&money(s.revenue_usd.blended))
        ),
    ));
    c.push_str(&card(
        "Cost of serving",
        &esc(&money(s.cost_usd.total)),
        &format!(
            "{} hardware + {} energy",
            esc(&money(s.cost_usd.hardware)),
            esc(&money(s.cost_usd.energy))
        ),
    ));
    c.push_str(&card(
        "Margin, itemized",
        &signed_money(s.margin_usd),
        &format!("{} blended", signed_money(s.margin_blended_usd)),
    ));
    c.push_str(&card(
        "Tokens",
        &esc(&count(s.tokens.total as f64)),
        &format!(
            "{} of input is prefix-cache reads",
            pct(s.prefix_cache.cached_share_of_input)
        ),
    ));
    c.push_str(&card(
        "Calls completed",
        &esc(&count(s.calls.completed as f64)),
        &format!(
            "{} rejected, {} in flight at the end",
            esc(&count(s.calls.rejected as f64)),
            esc(&count(s.calls.in_flight as f64))
        ),
    ));
    c.push_str(&card(
        "Utilization",
        &pct(s.utilization.mean),
        &format!("busiest hour {}", pct(s.utilization.peak_hour)),
    ));
    c.push_str("</section>\n");
    c
}

/// A row of a [`kv_table`]: label, value, unit (all HTML).
pub type Row = (String, String, String);

/// The headline figures, grouped.
pub fn headline(s: &Summary) -> String {
    let r = |k: &str, v: String, u: &str| (esc(k), v, esc(u));
    let mut out = String::new();
    let groups: Vec<(&str, Vec<Row>)> = vec![
        (
            "Traffic",
            vec![
                r("Agents", thousands(s.agents.count), "agents"),
                r("Calls completed", thousands(s.calls.completed), "calls"),
                r("Calls rejected", thousands(s.calls.rejected), "calls"),
                r(
                    "Calls in flight at the end",
                    thousands(s.calls.in_flight),
                    "calls",
                ),
                r(
                    "Input tokens, uncached",
                    esc(&count(s.tokens.input_uncached as f64)),
                    "tokens",
                ),
                r(
                    "Input tokens, cached (prefix-cache reads)",
                    esc(&count(s.tokens.input_cached as f64)),
                    "tokens",
                ),
                r(
                    "Output tokens",
                    esc(&count(s.tokens.output as f64)),
                    "tokens",
                ),
                r(
                    "Cached share of input",
                    pct(s.prefix_cache.cached_share_of_input),
                    "",
                ),
                r(
                    "Prefix-cache hit rate",
                    pct(s.prefix_cache.hit_rate),
                    "of reusable input",
                ),
            ],
        ),
        (
            "Money (whole simulated period)",
            vec![
                r(
                    "Revenue, itemized",
                    signed_money(s.revenue_usd.itemized),
                    "US$",
                ),
                r(
                    "Revenue, blended",
                    signed_money(s.revenue_usd.blended),
                    "US$",
                ),
                r("Cost, hardware", signed_money(s.cost_usd.hardware), "US$"),
                r("Cost, energy", signed_money(s.cost_usd.energy), "US$"),
                r("Cost, total", signed_money(s.cost_usd.total), "US$"),
                r("Margin, itemized", signed_money(s.margin_usd), "US$"),
                r("Margin, blended", signed_money(s.margin_blended_usd), "US$"),
                r(
                    "Energy (facility, after PUE)",
                    esc(&count(s.energy_kwh)),
                    "kWh",
                ),
            ],
        ),
        (
            "Per million tokens",
            vec![
                r(
                    "Revenue, itemized",
                    rate(s.per_million_tokens.revenue_itemized_usd),
                    "US$ / M tokens",
                ),
                r(
                    "Revenue, blended",
                    rate(s.per_million_tokens.revenue_blended_usd),
                    "US$ / M tokens",
                ),
                r(
                    "Cost",
                    rate(s.per_million_tokens.cost_usd),
                    "US$ / M tokens",
                ),
                r(
                    "Energy",
                    format!("{:.4}", s.per_million_tokens.energy_kwh),
                    "kWh / M tokens",
                ),
            ],
        ),
        ("Serving", {
            let mut v = vec![
                r(
                    "Utilization, mean",
                    pct(s.utilization.mean),
                    "busy replica-time",
                ),
                r(
                    "Utilization, busiest hour",
                    pct(s.utilization.peak_hour),
                    "busy replica-time",
                ),
            ];
            for p in &s.pools {
                v.push(r(
                    &format!("Pool {}: replicas", p.name),
                    thousands(p.replicas),
                    &format!("× {} ({} devices each)", p.hardware, p.devices_per_replica),
                ));
                v.push(r(
                    &format!("Pool {}: utilization", p.name),
                    pct(p.utilization),
                    "",
                ));
                v.push(r(
                    &format!("Pool {}: KV occupancy", p.name),
                    pct(p.kv_occupancy),
                    &format!("{} by running calls", pct(p.kv_running)),
                ));
                if p.preemptions > 0 {
                    v.push(r(
                        &format!("Pool {}: preemptions", p.name),
                        thousands(p.preemptions),
                        "",
                    ));
                }
            }
            v
        }),
        (
            "Latency (all completed calls)",
            vec![
                r("Time to first token, p50", secs(s.latency_s.ttft_p50), ""),
                r("Time to first token, p90", secs(s.latency_s.ttft_p90), ""),
                r("Time to first token, p99", secs(s.latency_s.ttft_p99), ""),
                r("End-to-end, p50", secs(s.latency_s.e2e_p50), ""),
                r("End-to-end, p90", secs(s.latency_s.e2e_p90), ""),
                r("End-to-end, p99", secs(s.latency_s.e2e_p99), ""),
            ],
        ),
        (
            "Agents' daily tokens: realized and budgeted",
            vec![
                r(
                    "p10 agent",
                    esc(&count(s.agents.daily_tokens_p10 as f64)),
                    "tokens",
                ),
                r(
                    "p50 agent",
                    esc(&count(s.agents.daily_tokens_p50 as f64)),
                    "tokens",
                ),
                r(
                    "p90 agent",
                    esc(&count(s.agents.daily_tokens_p90 as f64)),
                    "tokens",
                ),
                r(
                    "p10 budget",
                    esc(&count(s.agents.budget_p10 as f64)),
                    "tokens",
                ),
                r(
                    "p50 budget",
                    esc(&count(s.agents.budget_p50 as f64)),
                    "tokens",
                ),
                r(
                    "p90 budget",
                    esc(&count(s.agents.budget_p90 as f64)),
                    "tokens",
                ),
            ],
        ),
    ];
    out.push_str("<div class=\"groups\">\n");
    for (title, rows) in groups {
        let _ = writeln!(out, "<div>\n<h3>{}</h3>", esc(title));
        out.push_str(&kv_table(&rows));
        out.push_str("</div>\n");
    }
    out.push_str("</div>\n");
    out
}

/// The whole report.
pub fn render(ctx: &ReportContext) -> Result<String, ReportError> {
    let s = ctx.summary;
    let mut body = header(ctx);
    body.push_str(&cards(s));
    body.push_str("<section>\n<h2>Blended vs itemized pricing</h2>\n");
    body.push_str(&economics::render(ctx));
    body.push_str("</section>\n<section>\n<h2>Price sets, per agent and per year</h2>\n");
    body.push_str(&economics::render_price_sets(ctx));
    body.push_str("</section>\n<section>\n<h2>Headline figures</h2>\n");
    body.push_str(&headline(s));
    body.push_str("</section>\n<section>\n<h2>Charts</h2>\n");
    body.push_str(
        "<p class=\"note\">Every number in these charts is in hourly.csv or charts/daily_tokens.csv \
         beside this file; the same charts are there as PNG and SVG (charts/).</p>\n",
    );
    body.push_str(&figures(&[ChartRun::of(ctx)])?);
    body.push_str("</section>\n<section>\n<h2>Assumptions</h2>\n");
    body.push_str(&assumptions::render(ctx.setup, ctx.run));
    body.push_str("</section>\n");
    let _ = writeln!(
        body,
        "<footer>Generated by tokenfleet {} from scenario <code>{}</code>, seed {}. Files beside \
         this report: summary.json (headline figures), hourly.csv (per hour and pool), \
         calls_sample.csv (a sample of calls), charts/ (PNG, SVG and the histogram data), \
         manifest.json.</footer>",
        env!("CARGO_PKG_VERSION"),
        esc(&s.scenario),
        s.seed
    );
    Ok(page(&format!("{} · tokenfleet report", s.scenario), &body))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn rates_and_money_read_well() {
        assert_eq!(rate(1.4), "$1.40");
        assert_eq!(rate(0.3), "$0.30");
        assert_eq!(rate(0.375), "$0.375");
        assert_eq!(rate(0.0463), "$0.0463");
        assert_eq!(rate(0.03), "$0.03");
        assert_eq!(rate(0.000123), "$0.000123");
        assert_eq!(rate(0.0), "$0.00");
        assert_eq!(
            signed_money(-2_740_000.0),
            "<span class=\"neg\">−$2.74M</span>"
        );
        assert_eq!(esc("<a & 'b'>"), "&lt;a &amp; &#39;b&#39;&gt;");
    }
}
