//! `[fleet]`: the number of agents, how they split into segments (by largest remainder, so
//! counts are exact), and each segment checked against the pools that serve its model.

use tokenfleet_models::catalog::Catalog;
use tokenfleet_models::perf::ReplicaPerf;
use tokenfleet_setup::{Pool, SegmentInputs, ServedModel};
use tokenfleet_workload::{Segment, feasibility};

use super::checker::Checker;
use super::segment::{Seat, segment};
use super::served::served_index;
use super::simulation::Calendar;
use crate::spec::fleet::SegmentSpec;
use crate::spec::scenario::Scenario;

/// Largest fleet accepted, to refuse absurd inputs up front rather than run out of memory.
const MAX_AGENTS: f64 = 1e9;

/// The number of agents; a fleet beyond [`MAX_AGENTS`] is a problem, and the rest is still
/// checked on the largest accepted.
pub(crate) fn agents(s: &Scenario, c: &mut Checker) -> u64 {
    let mut agents = s.fleet.agents.get();
    if agents < 1.0 {
        c.add("fleet.agents", "the fleet needs at least one agent");
    } else if agents > MAX_AGENTS {
        c.add(
            "fleet.agents",
            format!("{agents:e} agents is beyond what tokenfleet simulates (at most 1e9); simulate a representative fleet and scale"),
        );
        // The rest is still checked, on a fleet whose counts add up in a u64.
        agents = MAX_AGENTS;
    }
    agents as u64
}

/// The segments that pass their checks, with their agents numbered in order.
pub(crate) fn segments(
    s: &Scenario,
    catalog: &Catalog,
    served: &mut Vec<ServedModel>,
    pools: &[Pool],
    agents: u64,
    calendar: Calendar,
    c: &mut Checker,
) -> Vec<Segment> {
    let mut segments = Vec::new();
    if s.fleet.segments.is_empty() {
        c.add(
            "fleet.segment",
            "the fleet needs at least one [[fleet.segment]]",
        );
    }
    let share_sum: f64 = s.fleet.segments.iter().map(|g| g.share.get()).sum();
    if !s.fleet.segments.is_empty() && (share_sum - 1.0).abs() > 1e-6 {
        c.add(
            "fleet.segment",
            format!("segment shares sum to {share_sum}, not 1"),
        );
    }
    // Agents per segment by largest remainder, so counts are exact and sum to the fleet.
    let counts = apportion(
        agents,
        &s.fleet
            .segments
            .iter()
            .map(|g| g.share.get())
            .collect::<Vec<_>>(),
    );
    let mut first_agent = 0;
    for (i, g) in s.fleet.segments.iter().enumerate() {
        let path = format!("fleet.segment[{i}]");
        let Some(model) = served_index(served, catalog, s, &g.model, format!("{path}.model"), c)
        else {
            continue;
        };
        let n = counts.get(i).copied().unwrap_or(0);
        let start = first_agent;
        first_agent += n;
        if served[model].pools.is_empty() {
            // A pool that was declared but failed its own checks was reported already.
            if !s.cluster.pools.iter().any(|p| p.model == g.model) {
                c.add(
                    format!("{path}.model"),
                    format!(
                        "no pool serves `{}`; add a [[cluster.pool]] with model = \"{}\"",
                        g.model, g.model
                    ),
                );
            }
            continue;
        }
        let window = served[model]
            .pools
            .iter()
            .map(|&p| (served[model].arch.max_context as u64).min(pools[p].perf.kv_capacity_tokens))
            .min()
            .unwrap_or(0);
        let seat = Seat {
            agents: n,
            first_agent: start,
            model,
            window,
        };
        let Some(seg) = segment(c, &path, g, seat, calendar) else {
            continue;
        };
        // The fastest pool serving the model bounds service time from below.
        let perf = served[model]
            .pools
            .iter()
            .map(|&p| &pools[p].perf)
            .min_by(|a, b| {
                let t = |x: &ReplicaPerf| x.iteration_cost(1, 1, 1).time(0.0, 0.0);
                t(a).total_cmp(&t(b))
            })
            .expect("a pool serves the model");
        if let Err(message) = feasibility::check(&seg, perf) {
            c.add(format!("{path}.daily_tokens"), message.to_string());
            continue;
        }
        segments.push(seg);
    }
    c.unique(
        "fleet.segment",
        "segments",
        s.fleet.segments.iter().map(|g| g.name.as_str()),
    );
    segments
}

/// What the reports show of a segment as written.
pub(crate) fn segment_inputs(s: &SegmentSpec) -> SegmentInputs {
    SegmentInputs {
        name: s.name.clone(),
        kind: s.kind.clone(),
        daily_tokens: s.daily_tokens.clone(),
        profile: s.profile.clone(),
        timezone: s.timezone,
        task_tokens: s.task.tokens,
        spread: s.task.spread,
        system_tokens: s.task.system_tokens.clone(),
        new_tokens: s.task.new_tokens.clone(),
        output_tokens: s.task.output_tokens.clone(),
        tool_gap: s.task.tool_gap.clone(),
        summary_tokens: s.task.summary_tokens.clone(),
    }
}

/// Splits `n` into parts proportional to `shares` (largest remainder, ties by index).
pub fn apportion(n: u64, shares: &[f64]) -> Vec<u64> {
    let total: f64 = shares.iter().sum();
    if shares.is_empty() || total <= 0.0 || total.is_nan() {
        return vec![0; shares.len()];
    }
    let exact: Vec<f64> = shares.iter().map(|s| n as f64 * s / total).collect();
    let mut out: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    // Saturating: with n near u64::MAX the floors can sum past it.
    let floors = out.iter().fold(0u64, |a, &b| a.saturating_add(b));
    // At most one unit per share is left by exact arithmetic; more is float rounding of a
    // count beyond 2^53, which no valid scenario has.
    let mut left = n.saturating_sub(floors).min(shares.len() as u64);
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = exact[a] - exact[a].floor();
        let rb = exact[b] - exact[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &i in order.iter().cycle() {
        if left == 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::apportion;

    #[test]
    fn apportion_is_exact() {
        assert_eq!(apportion(10, &[0.5, 0.3, 0.2]), vec![5, 3, 2]);
        assert_eq!(apportion(7, &[1.0, 1.0, 1.0]), vec![3, 2, 2]);
        assert_eq!(
            apportion(1_000_000, &[0.7, 0.3]).iter().sum::<u64>(),
            1_000_000
        );
        // Found by the fuzzer: u64::MAX agents made the floors overflow and the remainder
        // loop run for ever.
        assert_eq!(apportion(u64::MAX, &[0.35, 0.65]).len(), 2);
    }
}
