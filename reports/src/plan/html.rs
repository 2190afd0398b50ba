//! The plan's report.html: the answer with its own figures, the targets and seeds, the ranked
//! candidates, what one replica fewer misses, the cost-latency frontier, and what was run.

use std::fmt::Write as _;

use tokenfleet_analysis::plan::PlanResult;

use super::table::{answer_text, next_smaller_text, seeds_text, targets_text};
use crate::html::made;
use crate::html::markup::{Align, esc, pct, table};
use crate::html::page::{inline_svg, page};
use crate::manifest::Made;
use crate::table::{money, thousands};

/// The page, with the frontier chart's SVG inlined.
pub fn render(scenario: &str, plan: &PlanResult, frontier_svg: &str, m: &Made) -> String {
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<header><p class=\"kicker\">tokenfleet plan</p><h1>{}: pool <code>{}</code></h1>\
         <p class=\"meta\">Targets: {}. {} probes of {} cells each; {}.</p></header>",
        esc(scenario),
        esc(&plan.pool),
        esc(&targets_text(&plan.targets)),
        plan.probes_run,
        plan.cells_per_probe,
        esc(&seeds_text(plan))
    );
    match &plan.chosen {
        Some(c) => {
            let _ = writeln!(
                body,
                "<div class=\"callout\"><strong>Plan:</strong> {}.",
                esc(&answer_text(plan, c))
            );
            if let Some(n) = next_smaller_text(plan, c) {
                let _ = write!(body, "<br><span class=\"note\">{}</span>", esc(&n));
            }
            body.push_str("</div>\n");
        }
        None => body.push_str(
            "<div class=\"callout\"><strong>No candidate meets the targets</strong> up to the \
             largest count tried (--max-replicas).</div>\n",
        ),
    }
    let per_day = 24.0 / plan.hours;
    let rows: Vec<Vec<String>> =
        plan.candidates
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let shape = [
                    esc(&r.candidate.hardware),
                    r.candidate.tp.to_string(),
                    r.candidate.weights.to_string(),
                ];
                match (&r.headline, r.replicas) {
                    (Some(h), Some(n)) => {
                        let mut row = vec![format!(
                            "{}{}",
                            i + 1,
                            if r.verified_seeds.is_empty() { "" } else { "*" }
                        )];
                        row.extend(shape);
                        row.extend([
                            thousands(n),
                            thousands(h.devices),
                            money(h.cost_usd * per_day),
                            format!("${:.4}", h.cost_usd_per_mtok),
                            format!("{:.3}", h.power_mw_installed),
                            format!("{:.2} s", h.ttft_p99_s),
                            pct(h.utilization),
                            format!("{:.3}%", h.rejected_share * 100.0),
                        ]);
                        row
                    }
                    _ => {
                        let why = r.error.clone().unwrap_or_else(|| {
                            "no count up to the maximum meets the targets".into()
                        });
                        let mut row = vec!["–".to_string()];
                        row.extend(shape);
                        row.push(format!(
                            "infeasible: {}",
                            esc(why.lines().last().unwrap_or(""))
                        ));
                        row.extend(std::iter::repeat_n(String::new(), 7));
                        row
                    }
                }
            })
            .collect();
    body.push_str("<section><h2>Candidates, cheapest first</h2>\n");
    body.push_str(&table(
        &[
            ("Rank", Align::L),
            ("Hardware", Align::L),
            ("TP", Align::R),
            ("Weights", Align::L),
            ("Replicas", Align::R),
            ("Devices", Align::R),
            ("Cost per day", Align::R),
            ("Per M tokens", Align::R),
            ("Power (MW)", Align::R),
            ("TTFT p99", Align::R),
            ("Utilization", Align::R),
            ("Rejected", Align::R),
        ],
        &rows,
    ));
    body.push_str(
        "<p class=\"note\">Figures per day with the planning seed. * the count is verified: \
         every seed meets every target at it. The others hold for the planning seed and cost \
         more than the plan even so. Every probe is in plan.json; this table is plan.csv.</p>\
         </section>\n",
    );
    let _ = writeln!(
        body,
        "<section><h2>Cost against latency</h2>\n<figure>{}\n<figcaption>Data: frontier.csv \
         (the frontier) and plan.json (every probe).</figcaption></figure></section>",
        inline_svg(frontier_svg)
    );
    body.push_str(&made::render(m));
    page(&format!("{scenario} plan · tokenfleet"), &body)
}
