//! The names of the run charts: [`ChartKind`] lists them in the order the report shows them,
//! with their files, titles, captions and sizes. Only names: the drawing is in each chart's
//! module, reached through `draw`, so that the chart modules can read their titles from here
//! without importing what draws them.

/// The charts of a run, in the order the report shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    RevenueCost,
    Margin,
    Traffic,
    Utilization,
    Cache,
    Latency,
    DailyTokens,
}

impl ChartKind {
    pub const ALL: [ChartKind; 7] = [
        ChartKind::RevenueCost,
        ChartKind::Margin,
        ChartKind::Traffic,
        ChartKind::Utilization,
        ChartKind::Cache,
        ChartKind::Latency,
        ChartKind::DailyTokens,
    ];

    /// The file stem in charts/.
    pub fn name(self) -> &'static str {
        self.files()
            .0
            .trim_start_matches("charts/")
            .trim_end_matches(".svg")
    }

    /// (SVG file, PNG file), relative to the run directory.
    pub fn files(self) -> (&'static str, &'static str) {
        match self {
            ChartKind::RevenueCost => ("charts/revenue_cost.svg", "charts/revenue_cost.png"),
            ChartKind::Margin => ("charts/margin.svg", "charts/margin.png"),
            ChartKind::Traffic => ("charts/traffic.svg", "charts/traffic.png"),
            ChartKind::Utilization => ("charts/utilization.svg", "charts/utilization.png"),
            ChartKind::Cache => ("charts/cache.svg", "charts/cache.png"),
            ChartKind::Latency => ("charts/latency.svg", "charts/latency.png"),
            ChartKind::DailyTokens => ("charts/daily_tokens.svg", "charts/daily_tokens.png"),
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ChartKind::RevenueCost => "Revenue and cost per hour",
            ChartKind::Margin => "Cumulative margin over the day",
            ChartKind::Traffic => "Calls and tokens per hour",
            ChartKind::Utilization => "Utilization by pool",
            ChartKind::Cache => "KV cache occupancy and prefix-cache hit rate",
            ChartKind::Latency => "Latency per hour",
            ChartKind::DailyTokens => "Daily tokens per agent",
        }
    }

    /// Where the plotted numbers are, for the caption under the chart.
    pub fn source(self) -> &'static str {
        match self {
            ChartKind::RevenueCost => {
                "hourly.csv: cost_hardware_usd, cost_energy_usd, revenue_itemized_usd, \
                 revenue_blended_usd, summed over pools"
            }
            ChartKind::Margin => {
                "hourly.csv: running sums of revenue_itemized_usd − cost_total_usd and \
                 revenue_blended_usd − cost_total_usd"
            }
            ChartKind::Traffic => {
                "hourly.csv: calls_completed, calls_rejected, input_uncached, input_cached, \
                 output, summed over pools"
            }
            ChartKind::Utilization => "hourly.csv: utilization, per pool",
            ChartKind::Cache => "hourly.csv: kv_occupancy, kv_running, prefix_hit_rate, per pool",
            ChartKind::Latency => {
                "hourly.csv: ttft_p50_s, ttft_p99_s, e2e_p50_s, e2e_p99_s, per pool"
            }
            ChartKind::DailyTokens => {
                "charts/daily_tokens.csv (and agents.daily_tokens_p* in summary.json)"
            }
        }
    }

    /// Size in SVG pixels.
    pub fn size(self) -> (u32, u32) {
        match self {
            ChartKind::RevenueCost | ChartKind::Traffic => (1000, 780),
            _ => (1000, 500),
        }
    }
}
