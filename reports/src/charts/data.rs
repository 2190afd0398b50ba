//! What the charts plot, for one run: the rows of hourly.csv and the histogram of agents' daily
//! tokens (charts/daily_tokens.csv). Both are files of the run directory, so a chart can be
//! checked against them and redrawn from them (`tokenfleet compare`).

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tokenfleet_fleet::results::AgentDay;

use crate::error::ReportError;
use crate::formats::{read_csv, write_csv};
use crate::hourly::HourRow;
use crate::num::{div, round};
use crate::report::{Report, ReportContext};

/// Histogram bins per decade of daily tokens. Bin edges are fixed (10^(k/10)), not fitted to
/// the data, so that two runs' histograms overlay bin for bin.
const BINS_PER_DECADE: i32 = 10;

/// One bin of the daily-tokens histogram: agents whose realized tokens in the simulated day
/// were in [low, high). Agents that spent nothing form the bin [0, 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenBin {
    pub low: u64,
    pub high: u64,
    /// Simulated agents (the histogram's shape needs no scaling to the fleet).
    pub agents: u64,
    /// Share of the simulated agents.
    pub share: f64,
}

fn edge(k: i32) -> u64 {
    10f64.powf(k as f64 / BINS_PER_DECADE as f64).round() as u64
}

/// Log-spaced histogram of the agents' realized daily tokens, empty bins inside the range kept
/// (so the file reads as a complete histogram).
pub fn token_bins(days: &[AgentDay]) -> Vec<TokenBin> {
    let n = days.len() as f64;
    let zero = days.iter().filter(|d| d.realized == 0).count() as u64;
    // Bin index k such that edge(k) <= x < edge(k + 1), corrected for float rounding at edges.
    let index = |x: u64| {
        let mut k = ((x as f64).log10() * BINS_PER_DECADE as f64).floor() as i32;
        while k > 0 && edge(k) > x {
            k -= 1;
        }
        while edge(k + 1) <= x {
            k += 1;
        }
        k
    };
    let ks: Vec<i32> = days
        .iter()
        .filter(|d| d.realized > 0)
        .map(|d| index(d.realized))
        .collect();
    let mut out = Vec::new();
    if zero > 0 {
        out.push(TokenBin {
            low: 0,
            high: 1,
            agents: zero,
            share: share(zero, n),
        });
    }
    if let (Some(&lo), Some(&hi)) = (ks.iter().min(), ks.iter().max()) {
        let mut counts = vec![0u64; (hi - lo + 1) as usize];
        for k in &ks {
            counts[(k - lo) as usize] += 1;
        }
        for (i, &c) in counts.iter().enumerate() {
            let k = lo + i as i32;
            out.push(TokenBin {
                low: edge(k),
                high: edge(k + 1),
                agents: c,
                share: share(c, n),
            });
        }
    }
    out
}

fn share(c: u64, n: f64) -> f64 {
    round(div(c as f64, n), 6)
}

/// charts/daily_tokens.csv: the histogram behind the daily-tokens chart.
pub struct DailyTokensCsv;

pub const DAILY_TOKENS_FILE: &str = "charts/daily_tokens.csv";

impl Report for DailyTokensCsv {
    fn file_name(&self) -> &'static str {
        DAILY_TOKENS_FILE
    }
    fn write(&self, ctx: &ReportContext, out: &mut dyn Write) -> Result<(), ReportError> {
        write_csv(DAILY_TOKENS_FILE, token_bins(&ctx.run.agent_days), out)
    }
}

/// Reads charts/daily_tokens.csv back.
pub fn read_bins(path: &Path) -> Result<Vec<TokenBin>, ReportError> {
    read_csv(path)
}

/// Everything the charts need from one run.
#[derive(Debug, Clone)]
pub struct ChartRun {
    /// Shown in legends when runs are overlaid ("A: openclaw-2026").
    pub label: String,
    pub rows: Vec<HourRow>,
    pub daily_tokens: Vec<TokenBin>,
    /// Daily tokens of the p10, p50 and p90 agent (as in summary.json).
    pub daily_quantiles: [u64; 3],
    /// What the histogram counts: "agent", or a replay's unit ("prefix chain", "session").
    pub unit: String,
}

impl ChartRun {
    /// The run being reported.
    pub fn of(ctx: &ReportContext) -> ChartRun {
        let a = &ctx.summary.agents;
        ChartRun {
            label: ctx.summary.scenario.clone(),
            rows: crate::hourly::rows(ctx.setup, ctx.run),
            daily_tokens: token_bins(&ctx.run.agent_days),
            daily_quantiles: [a.daily_tokens_p10, a.daily_tokens_p50, a.daily_tokens_p90],
            unit: ctx
                .summary
                .replay
                .as_ref()
                .map_or("agent".into(), |r| r.unit.to_string()),
        }
    }

    pub fn hours(&self) -> usize {
        self.rows.iter().map(|r| r.hour + 1).max().unwrap_or(0)
    }

    /// The hours of the longest of `runs` (at least one, so that an hour axis is never empty).
    pub fn max_hours(runs: &[ChartRun]) -> usize {
        runs.iter().map(ChartRun::hours).max().unwrap_or(1).max(1)
    }

    /// Pool names in the order hourly.csv lists them.
    pub fn pools(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in &self.rows {
            if !out.contains(&r.pool.as_str()) {
                out.push(&r.pool);
            }
        }
        out
    }

    /// A fleet-wide hourly series: `f` summed over the pools' rows of each hour.
    pub fn fleet(&self, f: impl Fn(&HourRow) -> f64) -> Vec<f64> {
        let mut v = vec![0.0; self.hours()];
        for r in &self.rows {
            v[r.hour] += f(r);
        }
        v
    }

    /// One pool's hourly series (hours without a row are absent).
    pub fn pool(&self, pool: &str, f: impl Fn(&HourRow) -> f64) -> Vec<(usize, f64)> {
        self.rows
            .iter()
            .filter(|r| r.pool == pool)
            .map(|r| (r.hour, f(r)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(realized: u64) -> AgentDay {
        AgentDay {
            id: 0,
            segment: 0,
            budget: 0,
            target: 0,
            realized,
            tasks_planned: 0,
            tasks_started: 0,
            tasks_completed: 0,
            revenue: Vec::new(),
        }
    }

    #[test]
    fn bins_cover_every_agent_with_fixed_edges() {
        let days: Vec<AgentDay> = [0, 1, 9, 10, 30_000_000, 31_622_776, 99_999_999]
            .into_iter()
            .map(day)
            .collect();
        let bins = token_bins(&days);
        assert_eq!(bins.iter().map(|b| b.agents).sum::<u64>(), 7);
        assert_eq!((bins[0].low, bins[0].high, bins[0].agents), (0, 1, 1));
        for d in &days[1..] {
            let b = bins
                .iter()
                .find(|b| b.low > 0 && b.low <= d.realized && d.realized < b.high)
                .expect("every agent has its bin");
            assert!(b.agents > 0);
        }
        // 10^7.5 = 31,622,777 (rounded): 31,622,776 falls in the bin below it, with 30M.
        let b = bins.iter().find(|b| b.high == 31_622_777).unwrap();
        assert_eq!((b.low, b.agents), (25_118_864, 2));
        // Consecutive bins share their edges.
        for w in bins[1..].windows(2) {
            assert_eq!(w[0].high, w[1].low);
        }
    }
}
