//! The outputs of `tokenfleet sensitivity`: `sensitivity.csv`, `sensitivity.json`, tornado
//! charts of the margin and of the cost per million tokens, and one self-contained
//! report.html.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use tokenfleet_analysis::sensitivity::Sensitivity;
use tokenfleet_fleet::metrics::Headline;

use crate::charts::figures::{Swing, Tornado, Unit};
use crate::charts::render::figure_files;
use crate::error::{ReportError, format_err};
use crate::html::markup::esc;
use crate::html::page::{inline_svg, page};
use crate::manifest::{Made, OutputMeta};
use crate::write::write_files;

/// Writes a sensitivity analysis into `dir`.
pub fn write_sensitivity(
    dir: &Path,
    scenario: &str,
    s: &Sensitivity,
    made: &Made,
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
        let _ = writeln!(body, "<figure>{}</figure>", inline_svg(&svg));
    }
    body.push_str("<p class=\"note\">Every bar is a row of sensitivity.csv.</p>\n");
    body.push_str(&crate::html::made::render(made));
    files.push((
        "report.html".into(),
        page(&format!("{scenario} sensitivity · tokenfleet"), &body).into_bytes(),
    ));
    let meta = OutputMeta {
        command: "sensitivity",
        scenario: scenario.to_string(),
        seed: None,
        made: made.clone(),
    };
    write_files(dir, &meta, &files)
}
