//! report.html itself: the [`Report`] that writes it and its sections in order (header, key
//! figures, pricing, headline figures, charts, assumptions), with the footer naming the files
//! beside it.

use std::fmt::Write as _;
use std::io::Write;

use super::markup::{Row, esc, kv_table, pct, rate, secs, signed_money};
use super::page::{figures, page};
use super::{assumptions, economics};
use crate::charts::data::ChartRun;
use crate::error::{ReportError, format_err};
use crate::report::{Report, ReportContext};
use crate::summary::types::Summary;
use crate::table::{count, energy_in_rent, energy_part, money, thousands};

pub struct ReportHtml;

pub const REPORT_FILE: &str = "report.html";

impl Report for ReportHtml {
    fn file_name(&self) -> &'static str {
        REPORT_FILE
    }
    fn write(&self, ctx: &ReportContext, out: &mut dyn Write) -> Result<(), ReportError> {
        let html = render(ctx)?;
        out.write_all(html.as_bytes())
            .map_err(format_err(REPORT_FILE))
    }
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
    let mut meta = match &s.replay {
        None => format!(
            "{} agents · {} h simulated from 00:00 UTC · seed {}",
            thousands(s.agents.count),
            s.simulated_hours,
            s.seed
        ),
        Some(r) => format!(
            "replay of {} requests of the {} trace ({:.2} h of traffic) · {} h simulated · seed {}",
            thousands(r.requests),
            r.format,
            r.traffic_hours,
            s.simulated_hours,
            s.seed
        ),
    };
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
            "{} hardware + {}",
            esc(&money(s.cost_usd.hardware)),
            esc(&energy_part(s))
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

/// The headline figures, grouped.
pub fn headline(s: &Summary) -> String {
    let r = |k: &str, v: String, u: &str| (esc(k), v, esc(u));
    // The kinds of row the groups repeat: a token count, an amount, a rate, a latency.
    let tokens = |k: &str, n: u64| r(k, esc(&count(n as f64)), "tokens");
    let usd = |k: &str, x: f64| r(k, signed_money(x), "US$");
    let per_m = |k: &str, x: f64| r(k, rate(x), "US$ / M tokens");
    let latency = |k: &str, x: f64| r(k, secs(x), "");
    let mut out = String::new();
    let groups: Vec<(&str, Vec<Row>)> = vec![
        (
            "Traffic",
            vec![
                match &s.replay {
                    None => r("Agents", thousands(s.agents.count), "agents"),
                    Some(rp) => r(
                        &format!("{}s replayed", rp.unit),
                        thousands(rp.units),
                        &format!("{}s", rp.unit),
                    ),
                },
                r("Calls completed", thousands(s.calls.completed), "calls"),
                r("Calls rejected", thousands(s.calls.rejected), "calls"),
                r(
                    "Calls in flight at the end",
                    thousands(s.calls.in_flight),
                    "calls",
                ),
                tokens("Input tokens, uncached", s.tokens.input_uncached),
                tokens(
                    "Input tokens, cached (prefix-cache reads)",
                    s.tokens.input_cached,
                ),
                tokens("Output tokens", s.tokens.output),
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
                usd("Revenue, itemized", s.revenue_usd.itemized),
                usd("Revenue, blended", s.revenue_usd.blended),
                usd("Cost, hardware", s.cost_usd.hardware),
                if energy_in_rent(s) {
                    r("Cost, energy", "included in rent".into(), "")
                } else {
                    usd("Cost, energy", s.cost_usd.energy)
                },
                usd("Cost, total", s.cost_usd.total),
                usd("Margin, itemized", s.margin_usd),
                usd("Margin, blended", s.margin_blended_usd),
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
                per_m(
                    "Revenue, itemized",
                    s.per_million_tokens.revenue_itemized_usd,
                ),
                per_m("Revenue, blended", s.per_million_tokens.revenue_blended_usd),
                per_m("Cost", s.per_million_tokens.cost_usd),
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
                latency("Time to first token, p50", s.latency_s.ttft_p50),
                latency("Time to first token, p90", s.latency_s.ttft_p90),
                latency("Time to first token, p99", s.latency_s.ttft_p99),
                latency("End-to-end, p50", s.latency_s.e2e_p50),
                latency("End-to-end, p90", s.latency_s.e2e_p90),
                latency("End-to-end, p99", s.latency_s.e2e_p99),
            ],
        ),
        (
            "Agents' daily tokens: realized and budgeted",
            vec![
                tokens("p10 agent", s.agents.daily_tokens_p10),
                tokens("p50 agent", s.agents.daily_tokens_p50),
                tokens("p90 agent", s.agents.daily_tokens_p90),
                tokens("p10 budget", s.agents.budget_p10),
                tokens("p50 budget", s.agents.budget_p50),
                tokens("p90 budget", s.agents.budget_p90),
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
    body.push_str(match s.replay {
        None => "</section>\n<section>\n<h2>Price sets, per agent and per year</h2>\n",
        Some(_) => "</section>\n<section>\n<h2>Price sets, per request and per trace-hour</h2>\n",
    });
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
    body.push_str(&super::made::render(ctx.made));
    let _ = writeln!(
        body,
        "<footer>Generated by tokenfleet {} from scenario <code>{}</code>, seed {}. Files beside \
         this report: summary.json (headline figures), hourly.csv (per hour and pool), \
         calls_sample.csv (a sample of calls), charts/ (PNG, SVG and the histogram data), \
         scenario.toml (the scenario as run), manifest.json.</footer>",
        env!("CARGO_PKG_VERSION"),
        esc(&s.scenario),
        s.seed
    );
    Ok(page(&format!("{} · tokenfleet report", s.scenario), &body))
}
