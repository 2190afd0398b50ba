//! The short table printed on stdout at the end of a run.

use std::fmt::Write;

use crate::economics::Pair;
use crate::summary::types::Summary;

/// "1,234,567".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `x` in the unit of the first step it reaches, a step being (from, unit, suffix, decimals):
/// `(1e6, 1e6, "M", 2)` writes 2.5e6 as "2.50M". `None` below the last step.
fn scaled(x: f64, steps: &[(f64, f64, &str, usize)]) -> Option<String> {
    steps
        .iter()
        .find(|&&(from, ..)| x >= from)
        .map(|&(_, unit, suffix, decimals)| format!("{:.decimals$}{suffix}", x / unit))
}

/// "$1.23M", "$456.7k", "$12.34".
pub fn money(x: f64) -> String {
    let a = x.abs();
    let sign = if x < 0.0 { "-" } else { "" };
    // Cents below $10k ("$9876.54"), thousands from there ("$12.3k").
    let steps = [(1e9, 1e9, "B", 2), (1e6, 1e6, "M", 2), (1e4, 1e3, "k", 1)];
    let digits = scaled(a, &steps).unwrap_or_else(|| format!("{a:.2}"));
    format!("{sign}${digits}")
}

/// The energy part of a cost, in words: "$1.20 energy", "energy included in rent" (every pool
/// rented: the rent pays the power), or "$1.20 energy (owned pools; rented pools' in rent)".
///
/// Why not "$0.00 energy": a rented cluster burns real kWh, and a zero reads as free power.
pub fn energy_part(s: &crate::summary::types::Summary) -> String {
    match rented_pools(s) {
        0 => format!("{} energy", money(s.cost_usd.energy)),
        n if n == s.pools.len() => "energy included in rent".to_string(),
        _ => format!(
            "{} energy (owned pools; rented pools' energy is in their rent)",
            money(s.cost_usd.energy)
        ),
    }
}

/// Every pool is rented, so the energy cost is in the rent.
pub fn energy_in_rent(s: &crate::summary::types::Summary) -> bool {
    !s.pools.is_empty() && rented_pools(s) == s.pools.len()
}

fn rented_pools(s: &crate::summary::types::Summary) -> usize {
    s.pools
        .iter()
        .filter(|p| matches!(p.cost_mode, tokenfleet_setup::CostMode::Rent { .. }))
        .count()
}

/// "1.23T", "45.6B", "789M" tokens.
pub fn count(x: f64) -> String {
    let steps = [
        (1e12, 1e12, "T", 2),
        (1e9, 1e9, "B", 2),
        (1e6, 1e6, "M", 1),
        (1e3, 1e3, "k", 1),
    ];
    scaled(x, &steps).unwrap_or_else(|| format!("{x:.0}"))
}

/// The headline table.
pub fn render(s: &Summary) -> String {
    // A sampled figure's 95% interval from its relative standard error.
    let pm = |rse: f64| {
        if rse > 0.0 {
            format!(" (±{:.1}%)", 196.0 * rse)
        } else {
            String::new()
        }
    };
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut add = |k: &str, v: String| rows.push((k.to_string(), v));
    let sampled = if s.sampled_fraction < 1.0 {
        format!(
            " (simulated {:.1}% of cells, scaled; ± = 95% sampling interval)",
            s.sampled_fraction * 100.0
        )
    } else {
        String::new()
    };
    add(
        "scenario",
        format!("{} (seed {}){sampled}", s.scenario, s.seed),
    );
    match &s.replay {
        None => add(
            "fleet",
            format!(
                "{} agents, {} h; daily tokens p10/p50/p90 {} / {} / {}",
                thousands(s.agents.count),
                s.simulated_hours,
                count(s.agents.daily_tokens_p10 as f64),
                count(s.agents.daily_tokens_p50 as f64),
                count(s.agents.daily_tokens_p90 as f64)
            ),
        ),
        Some(r) => add(
            "replay",
            format!(
                "{} requests ({} {}s) of the {} trace, {:.2} h of traffic, {} h simulated; tokens \
                 per {} p10/p50/p90 {} / {} / {}",
                thousands(r.requests),
                thousands(r.units),
                r.unit,
                r.format,
                r.traffic_hours,
                s.simulated_hours,
                r.unit,
                count(s.agents.daily_tokens_p10 as f64),
                count(s.agents.daily_tokens_p50 as f64),
                count(s.agents.daily_tokens_p90 as f64)
            ),
        ),
    }
    add(
        "calls",
        format!(
            "{}{} completed, {} rejected, {} in flight",
            count(s.calls.completed as f64),
            pm(s.sampling_error.calls),
            count(s.calls.rejected as f64),
            count(s.calls.in_flight as f64)
        ),
    );
    add(
        "tokens",
        format!(
            "{} input ({} cached, {:.1}%), {} output",
            count((s.tokens.input_cached + s.tokens.input_uncached) as f64),
            count(s.tokens.input_cached as f64),
            s.prefix_cache.cached_share_of_input * 100.0,
            count(s.tokens.output as f64)
        ),
    );
    for p in &s.pools {
        let size = if p.replicas_max > p.replicas {
            format!(
                "{:.0} (autoscaled, max {})",
                p.replicas_mean,
                thousands(p.replicas_max)
            )
        } else {
            thousands(p.replicas)
        };
        let mut extra = String::new();
        if p.preemptions > 0 {
            extra.push_str(&format!(", {} preemptions", count(p.preemptions as f64)));
        }
        add(
            &format!("pool {}", p.name),
            format!(
                "{size} x {} ({} devices/replica), busy {:.1}%, KV {:.1}% ({:.1}% running){extra}",
                p.hardware,
                p.devices_per_replica,
                p.utilization * 100.0,
                p.kv_occupancy * 100.0,
                p.kv_running * 100.0
            ),
        );
    }
    add(
        "revenue",
        format!(
            "{}{} itemized | {}{} blended",
            money(s.revenue_usd.itemized),
            pm(s.sampling_error.revenue_itemized),
            money(s.revenue_usd.blended),
            pm(s.sampling_error.revenue_blended)
        ),
    );
    add(
        "cost",
        format!(
            "{} = {} hardware + {} ({} kWh)",
            money(s.cost_usd.total),
            money(s.cost_usd.hardware),
            energy_part(s),
            count(s.energy_kwh)
        ),
    );
    add(
        "margin",
        format!(
            "{} itemized | {} blended",
            money(s.margin_usd),
            money(s.margin_blended_usd)
        ),
    );
    add(
        "per M tokens",
        format!(
            "revenue ${:.4} itemized, ${:.4} blended; cost ${:.4}",
            s.per_million_tokens.revenue_itemized_usd,
            s.per_million_tokens.revenue_blended_usd,
            s.per_million_tokens.cost_usd
        ),
    );
    for p in &s.economics.price_sheets {
        let billed = if p.billed { " (billed)" } else { "" };
        let line = match (&p.usd_per_agent_day, p.usd_per_year) {
            (Some(d), Some(y)) => format!(
                "{} per agent-day p10-p90 blended, {} itemized; {}/yr blended, {}/yr itemized{billed}",
                format_args!("{}-{}", money(d.p10.blended), money(d.p90.blended)),
                format_args!("{}-{}", money(d.p10.itemized), money(d.p90.itemized)),
                money(y.blended),
                money(y.itemized),
            ),
            // A replay: per request and per hour of its recorded traffic, never per year.
            _ => {
                let (r, h) = (
                    p.usd_per_request.unwrap_or(Pair {
                        blended: 0.0,
                        itemized: 0.0,
                    }),
                    p.usd_per_trace_hour.unwrap_or(Pair {
                        blended: 0.0,
                        itemized: 0.0,
                    }),
                );
                format!(
                    "${:.6} per request blended, ${:.6} itemized; {}/trace-hour blended, {}/trace-hour itemized{billed}",
                    r.blended,
                    r.itemized,
                    money(h.blended),
                    money(h.itemized)
                )
            }
        };
        add(&format!("prices: {}", p.name), line);
    }
    for r in &s.economics.references {
        if let Some(y) = r.usd_per_year {
            add(
                "reference",
                format!(
                    "{}: {}/yr; simulated {}/yr blended, {}/yr itemized ({})",
                    r.label,
                    money(y),
                    money(r.simulated_usd_per_year.blended),
                    money(r.simulated_usd_per_year.itemized),
                    r.price_set
                ),
            );
        }
    }
    add(
        "latency",
        format!(
            "TTFT p50 {:.2}s p99 {:.2}s | end-to-end p50 {:.2}s p99 {:.2}s",
            s.latency_s.ttft_p50, s.latency_s.ttft_p99, s.latency_s.e2e_p50, s.latency_s.e2e_p99
        ),
    );
    add(
        "prefix cache",
        format!("hit rate {:.1}%", s.prefix_cache.hit_rate * 100.0),
    );
    add(
        "engine",
        format!(
            "{} events in {:.2}s ({}/s), {} calls/s",
            count(s.engine.events as f64),
            s.engine.wall_seconds,
            count(s.engine.events_per_second),
            count(s.engine.calls_per_second)
        ),
    );
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in rows {
        let _ = writeln!(out, "  {k:<width$}  {v}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn formats() {
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(money(2_500_000.0), "$2.50M");
        assert_eq!(money(-12.345), "-$12.35");
        assert_eq!(count(3.2e13), "32.00T");
    }
}
