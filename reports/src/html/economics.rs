//! The blended-vs-itemized comparison: what the fleet earns at one price per token (the press
//! arithmetic) and at the price sheet's rates per token class, and why they differ (the cached
//! share of input, billed at the cache-read rate).

use std::fmt::Write as _;

use tokenfleet_models::Money;

use super::markup::{Align, esc, pct, rate, signed_money, table};
use crate::economics::{Pair, PriceSheetFigures};
use crate::num::usd;
use crate::report::ReportContext;
use crate::table::{count, money, thousands};

/// Blended revenue of each token class (uncached input, cached input, output): each pool's
/// tokens at its model's blended price, scaled like every demand-side total.
fn blended_by_class(ctx: &ReportContext) -> [f64; 3] {
    let (setup, run) = (ctx.setup, ctx.run);
    let (num, den) = run.demand_scale(setup);
    let mut m = [Money::ZERO; 3];
    for (p, pool) in setup.pools.iter().enumerate() {
        let price = setup.served[pool.model].blended();
        let (mut u, mut c, mut o) = (0u64, 0u64, 0u64);
        for h in 0..setup.hours {
            let r = run.ledger.row(p, h);
            u += r.input_uncached;
            c += r.input_cached;
            o += r.output;
        }
        m[0] += price.of(u);
        m[1] += price.of(c);
        m[2] += price.of(o);
    }
    m.map(|x| usd(x.scale(num, den)))
}

fn per_m(revenue: f64, tokens: u64) -> f64 {
    if tokens == 0 {
        0.0
    } else {
        revenue / tokens as f64 * 1e6
    }
}

pub fn render(ctx: &ReportContext) -> String {
    let s = ctx.summary;
    let tok = &s.tokens;
    let item = &s.revenue_usd.itemized_by_class;
    let blended = blended_by_class(ctx);
    let classes = [
        (
            "Uncached input",
            tok.input_uncached,
            item.input_uncached,
            blended[0],
        ),
        (
            "Cached input (prefix-cache reads)",
            tok.input_cached,
            item.input_cached,
            blended[1],
        ),
        ("Output", tok.output, item.output, blended[2]),
    ];
    let prices: Vec<f64> = ctx
        .setup
        .served
        .iter()
        .map(|m| m.blended().usd_per_mtok())
        .collect();
    let blended_desc = match prices.as_slice() {
        [p] => format!("{} per million tokens", rate(*p)),
        [p, rest @ ..] if rest.iter().all(|q| q == p) => {
            format!("{} per million tokens", rate(*p))
        }
        _ => "each model's blended price (see Assumptions)".to_string(),
    };
    let (r_unc, r_cached, r_out) = (
        per_m(item.input_uncached, tok.input_uncached),
        per_m(item.input_cached, tok.input_cached),
        per_m(item.output, tok.output),
    );

    let mut out = String::from("<div class=\"callout\">");
    let _ = write!(
        out,
        "At one blended price ({}), the {} tokens of the simulated period earn <b>{}</b>. \
         Billed the way the price sheet bills them, they earn <b>{}</b>",
        esc(&blended_desc),
        esc(&count(tok.total as f64)),
        signed_money(s.revenue_usd.blended),
        signed_money(s.revenue_usd.itemized),
    );
    if s.revenue_usd.itemized > 0.0 && s.revenue_usd.blended > s.revenue_usd.itemized {
        let _ = write!(
            out,
            ", {:.1}× less",
            s.revenue_usd.blended / s.revenue_usd.itemized
        );
    }
    let _ = write!(
        out,
        ". The gap is the prefix cache: {} of the input tokens are cache reads, billed at {}/M \
         on average instead of {}/M for uncached input ({}/M for output).",
        pct(s.prefix_cache.cached_share_of_input),
        rate(r_cached),
        rate(r_unc),
        rate(r_out)
    );
    out.push_str("</div>\n");

    let mut rows: Vec<Vec<String>> = classes
        .iter()
        .map(|(name, tokens, it, bl)| {
            vec![
                esc(name),
                esc(&count(*tokens as f64)),
                pct(if tok.total > 0 {
                    *tokens as f64 / tok.total as f64
                } else {
                    0.0
                }),
                rate(per_m(*it, *tokens)),
                signed_money(*it),
                signed_money(*bl),
            ]
        })
        .collect();
    rows.push(vec![
        "\u{1}Total".to_string(),
        esc(&count(tok.total as f64)),
        pct(1.0),
        rate(s.per_million_tokens.revenue_itemized_usd),
        signed_money(s.revenue_usd.itemized),
        signed_money(s.revenue_usd.blended),
    ]);
    out.push_str(&table(
        &[
            ("Token class", Align::L),
            ("Tokens", Align::R),
            ("Share", Align::R),
            ("Itemized US$ / M", Align::R),
            ("Itemized revenue", Align::R),
            ("Blended revenue", Align::R),
        ],
        &rows,
    ));
    let mut notes = String::new();
    if tok.input_uncached > 0 && tok.input_cached > 0 {
        let as_uncached = item.input_uncached + item.output + r_unc * tok.input_cached as f64 / 1e6;
        let _ = write!(
            notes,
            "Had the cached input been billed at the uncached input rate, the itemized revenue \
             would be {}. ",
            signed_money(as_uncached)
        );
    }
    // A replay's unit is the request (a fraction of a cent, shown as a rate), a fleet's the agent.
    let (per, n, what, show): (String, u64, &str, fn(f64) -> String) = match &ctx.setup.replay {
        None => (
            format!("Per agent over the simulated {} h", s.simulated_hours),
            s.agents.count,
            "fleet",
            money,
        ),
        Some(r) => (
            "Per replayed request".to_string(),
            r.requests,
            "traffic",
            rate,
        ),
    };
    let n = n.max(1) as f64;
    let _ = write!(
        notes,
        "{per}: {} itemized, {} blended. Serving the {what} cost {} \
         ({}/M tokens), for a margin of {} itemized and {} blended.",
        esc(&show(s.revenue_usd.itemized / n)),
        esc(&show(s.revenue_usd.blended / n)),
        esc(&money(s.cost_usd.total)),
        rate(s.per_million_tokens.cost_usd),
        signed_money(s.margin_usd),
        signed_money(s.margin_blended_usd),
    );
    let _ = writeln!(out, "<p class=\"note\">{notes}</p>");
    out
}

/// The price sets (billed and what-ifs) per agent-day and per year, the references the
/// scenario sets beside them, and the unit economics.
pub fn render_price_sets(ctx: &ReportContext) -> String {
    let s = ctx.summary;
    let e = &s.economics;
    let mut out = String::new();
    let replay = ctx.setup.replay.as_ref();
    let sampled = if s.sampled_fraction < 1.0 {
        format!(
            " (sampled run: ±{:.1}% at 95% on fleet revenue)",
            196.0 * s.sampling_error.revenue_itemized
        )
    } else {
        String::new()
    };
    let _ = match replay {
        None => writeln!(
            out,
            "<p class=\"note\">Each price set prices the same simulated traffic. Per agent-day: \
             the fleet's p10, p50 and p90 agents. Per year: the simulated day x 365{sampled}.</p>"
        ),
        Some(r) => writeln!(
            out,
            "<p class=\"note\">Each price set prices the same replayed traffic: {} requests of a \
             {} trace, {:.2} h of recorded traffic. Per request and per hour of that traffic; a \
             trace is not a fleet, so nothing is extrapolated to agent-days or years.</p>",
            thousands(r.requests),
            esc(&r.format),
            r.traffic_hours
        ),
    };
    // The figures of one price set under one pricing, in the run's own units.
    let cells = |p: &PriceSheetFigures, pick: fn(&Pair) -> f64| -> Vec<String> {
        match (&p.usd_per_agent_day, p.usd_per_year, p.margin_usd_per_year) {
            (Some(d), Some(y), Some(m)) => {
                [pick(&d.p10), pick(&d.p50), pick(&d.p90), pick(&y), pick(&m)]
                    .map(signed_money)
                    .to_vec()
            }
            _ => vec![
                p.usd_per_request.map_or(String::new(), |r| rate(pick(&r))),
                p.usd_per_trace_hour
                    .map_or(String::new(), |h| signed_money(pick(&h))),
                p.margin_usd_per_trace_hour
                    .map_or(String::new(), |m| signed_money(pick(&m))),
            ],
        }
    };
    let rows: Vec<Vec<String>> = e
        .price_sheets
        .iter()
        .flat_map(|p| {
            let name = format!(
                "{}{}",
                esc(&p.name),
                if p.billed {
                    " <span class=\"note\">(billed)</span>"
                } else {
                    ""
                }
            );
            let mut blended = vec![name, "blended".into()];
            blended.extend(cells(p, |x| x.blended));
            let mut itemized = vec![String::new(), "itemized".into()];
            itemized.extend(cells(p, |x| x.itemized));
            [blended, itemized]
        })
        .collect();
    let mut head = vec![("Price set", Align::L), ("Pricing", Align::L)];
    head.extend(match replay {
        None => vec![
            ("p10 agent / day", Align::R),
            ("p50 agent / day", Align::R),
            ("p90 agent / day", Align::R),
            ("Fleet revenue / year", Align::R),
            ("Margin / year", Align::R),
        ],
        Some(_) => vec![
            ("Revenue / request", Align::R),
            ("Revenue / trace-hour", Align::R),
            ("Margin / trace-hour", Align::R),
        ],
    });
    out.push_str(&table(&head, &rows));
    for r in &e.references {
        let _ = writeln!(
            out,
            "<div class=\"callout\"><b>{}</b>{}: {}{}. The simulated fleet under \"{}\": {} a year \
             at the blended price ({} for its median agent per day), {} a year itemized.</div>",
            esc(&r.label),
            if r.source.is_empty() {
                String::new()
            } else {
                format!(" <span class=\"note\">({})</span>", esc(&r.source))
            },
            r.usd_per_year
                .map_or(String::new(), |y| format!("{} a year", signed_money(y))),
            r.usd_per_agent_day.map_or(String::new(), |d| format!(
                ", {} per agent per day",
                signed_money(d)
            )),
            esc(&r.price_set),
            signed_money(r.simulated_usd_per_year.blended),
            signed_money(r.simulated_usd_per_agent_day_p50.blended),
            signed_money(r.simulated_usd_per_year.itemized),
        );
    }
    let u = &e.unit_economics;
    let mut rows = vec![
        vec![
            "Revenue per million tokens, itemized".into(),
            rate(u.revenue_usd_per_mtok.itemized),
        ],
        vec![
            "Revenue per million tokens, blended".into(),
            rate(u.revenue_usd_per_mtok.blended),
        ],
        vec!["Cost per million tokens".into(), rate(u.cost_usd_per_mtok)],
        vec![
            "Cost per million tokens if the cluster were always busy".into(),
            rate(u.cost_usd_per_mtok_at_full_utilization),
        ],
        vec![
            "Energy per million tokens".into(),
            format!("{:.4} kWh", u.energy_kwh_per_mtok),
        ],
        vec!["Gross margin (itemized)".into(), pct(u.gross_margin)],
    ];
    let per = [
        ("Cost per agent-day", u.cost_usd_per_agent_day),
        ("Cost per request", u.cost_usd_per_request),
        ("Cost per trace-hour", u.cost_usd_per_trace_hour),
    ];
    rows.extend(
        per.iter()
            .filter_map(|(label, v)| v.map(|v| vec![label.to_string(), rate(v)])),
    );
    if u.capex_usd > 0.0 {
        rows.push(vec![
            "Capex of owned devices".into(),
            signed_money(u.capex_usd),
        ]);
        rows.push(vec![
            "Payback of owned devices".into(),
            u.payback_years
                .map_or("never at this margin".into(), |y| format!("{y:.1} years")),
        ]);
    }
    out.push_str("<h3>Unit economics</h3>\n");
    out.push_str(&table(&[("Figure", Align::L), ("Value", Align::R)], &rows));
    out
}
