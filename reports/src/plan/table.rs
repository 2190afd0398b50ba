//! The plan as it is printed on the terminal, and the phrases report.html shares with it: the
//! targets, the seeds, the answer with the chosen plan's own figures, and what one replica
//! fewer misses.

use std::fmt::Write as _;

use tokenfleet_analysis::plan::{Chosen, PlanResult, Targets};

use crate::table::{money, thousands};

/// "TTFT p99 ≤ 2 s, rejected ≤ 0.1%".
pub fn targets_text(t: &Targets) -> String {
    let mut parts = Vec::new();
    let mut add = |name: &str, v: Option<f64>, show: &dyn Fn(f64) -> String| {
        if let Some(v) = v {
            parts.push(format!("{name} ≤ {}", show(v)));
        }
    };
    let secs = |x: f64| format!("{x} s");
    add("TTFT p99", t.ttft_p99_s, &secs);
    add("TPOT p99", t.tpot_p99_s, &secs);
    add("end-to-end p99", t.e2e_p99_s, &secs);
    add("rejected", t.rejected_share, &|x| format!("{}%", x * 100.0));
    add("installed power", t.power_cap_mw, &|x| format!("{x} MW"));
    add("purchase value", t.capex_budget_usd, &|x| money(x));
    parts.join(", ")
}

/// "seed 42, verified with seeds 42, 1000045 and 2000048".
pub fn seeds_text(plan: &PlanResult) -> String {
    match &plan.chosen {
        Some(c) => format!(
            "planning seed {}; verified with seeds {}",
            plan.seed,
            c.verification
                .iter()
                .map(|p| p.seed.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => format!("planning seed {}", plan.seed),
    }
}

/// The answer: the chosen count with its own cost, power and latency, per day.
pub fn answer_text(plan: &PlanResult, c: &Chosen) -> String {
    let per_day = 24.0 / plan.hours;
    let h = &c.headline;
    let worst = c
        .verification
        .iter()
        .max_by(|a, b| a.headline.ttft_p99_s.total_cmp(&b.headline.ttft_p99_s))
        .expect("the planning seed is verified");
    format!(
        "{} x {} (tp {}, {}) = {} devices: {}/day, ${:.4}/M tokens, {:.3} MW installed; \
         TTFT p99 {:.2} s (seed {}), at worst {:.2} s (seed {}); every one of the {} seeds \
         meets every target",
        thousands(c.replicas),
        c.candidate.hardware,
        c.candidate.tp,
        c.candidate.weights,
        thousands(c.devices),
        money(h.cost_usd * per_day),
        h.cost_usd_per_mtok,
        h.power_mw_installed,
        h.ttft_p99_s,
        plan.seed,
        worst.headline.ttft_p99_s,
        worst.seed,
        c.verification.len()
    )
}

/// What one replica fewer misses, per target over the seeds ("ttft_p99 144.7 to 146.8 >
/// 2 on 3 of 3 seeds"), or that it misses nothing because the count is found to a precision.
pub fn next_smaller_text(plan: &PlanResult, c: &Chosen) -> Option<String> {
    let mut by_target: Vec<(&str, f64, f64, f64, usize)> = Vec::new();
    for m in c.next_smaller.iter().flat_map(|p| &p.misses) {
        match by_target.iter_mut().find(|t| t.0 == m.target) {
            Some(t) => {
                t.1 = t.1.min(m.attained);
                t.2 = t.2.max(m.attained);
                t.4 += 1;
            }
            None => by_target.push((m.target, m.attained, m.attained, m.limit, 1)),
        }
    }
    let seeds = c.next_smaller.len();
    let parts: Vec<String> = by_target
        .iter()
        .map(|&(target, lo, hi, limit, n)| {
            let range = if lo == hi {
                format!("{lo:.3}")
            } else {
                format!("{lo:.3} to {hi:.3}")
            };
            format!("{target} {range} > {limit:.3} on {n} of {seeds} seeds")
        })
        .collect();
    if c.next_smaller.is_empty() {
        return None;
    }
    Some(if parts.is_empty() {
        format!(
            "with {} replicas every seed meets the targets too: above 100 replicas the count \
             is the smallest to within {}% (plan --precision)",
            thousands(c.replicas - 1),
            plan.precision * 100.0
        )
    } else {
        format!(
            "with {} replicas: {}",
            thousands(c.replicas - 1),
            parts.join("; ")
        )
    })
}

/// The ranked table and the answer.
pub fn render_plan(plan: &PlanResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  pool `{}`; targets: {}; {} probes of {} cells each; {}",
        plan.pool,
        targets_text(&plan.targets),
        plan.probes_run,
        plan.cells_per_probe,
        seeds_text(plan)
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
    let mut unverified = false;
    for (i, r) in plan.candidates.iter().enumerate() {
        match (&r.headline, r.replicas) {
            (Some(h), Some(n)) => {
                let mark = if r.verified_seeds.is_empty() {
                    unverified = true;
                    " "
                } else {
                    "*"
                };
                let _ = writeln!(
                    out,
                    "  {:<4} {:<12} {:>3} {:<5} {:>9} {:>8} {:>12} {:>11.4} {:>9.3} {:>8.2}s {:>7.1}% {:>8.3}%",
                    format!("{}{mark}", i + 1),
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
    let _ = writeln!(
        out,
        "  figures per day, with the planning seed; * = count verified with every seed{}",
        if unverified {
            " (the others hold for the planning seed and cost more than the plan even so)"
        } else {
            ""
        }
    );
    match &plan.chosen {
        Some(c) => {
            let _ = writeln!(out, "\n  plan: {}", answer_text(plan, c));
            if let Some(m) = next_smaller_text(plan, c) {
                let _ = writeln!(out, "  {m}");
            }
        }
        None => {
            let _ = writeln!(out, "\n  no candidate meets the targets");
        }
    }
    out
}
