//! The sweep's charts: each figure's median and p10-p90 band against the varied field.

use tokenfleet_analysis::sweep::{Band, metric_index};

use super::{BreakEven, SweepFile, log_axis, numeric};
use crate::charts::figures::{BandChart, Banded, Unit};
use crate::charts::style::sig3;

pub(super) fn sweep_charts(
    f: &SweepFile,
    b: &[Vec<Band>],
    be: &Option<BreakEven>,
) -> Vec<BandChart> {
    let Some(v) = f.varies.first().filter(|_| f.varies.len() == 1) else {
        return Vec::new();
    };
    let Some(xs) = numeric(&v.values) else {
        return Vec::new();
    };
    let log_x = log_axis(&xs);
    let series = |names: &[(&str, &str)]| -> Vec<Banded> {
        names
            .iter()
            .map(|(metric, label)| {
                let i = metric_index(metric);
                Banded {
                    label: label.to_string(),
                    p10: b.iter().map(|p| p[i].p10).collect(),
                    p50: b.iter().map(|p| p[i].p50).collect(),
                    p90: b.iter().map(|p| p[i].p90).collect(),
                }
            })
            .collect()
    };
    let seeds = format!(
        "{} seeds per point{}",
        f.seeds,
        if f.planned {
            "; the cluster re-planned at every point"
        } else {
            ""
        }
    );
    let chart = |name, title: &str, y: &str, unit, s| BandChart {
        name,
        title: title.into(),
        subtitle: seeds.clone(),
        x_label: v.path.clone(),
        x: xs.clone(),
        log_x,
        y_label: y.into(),
        y_unit: unit,
        series: s,
        marker: None,
    };
    let mut margin = chart(
        "sweep_margin",
        "Margin",
        "US$ per simulated period",
        Unit::Usd,
        series(&[
            ("margin_itemized_usd", "itemized"),
            ("margin_blended_usd", "blended"),
        ]),
    );
    margin.marker = be.as_ref().and_then(|b| {
        let label = |kind: &str, x: f64, ttft: Option<f64>| {
            let at = ttft.map_or(String::new(), |t| format!(", TTFT p99 {t:.2} s"));
            (x, format!("{kind} break-even at {}{at}", sig3(x)))
        };
        b.margin_itemized
            .map(|x| label("itemized", x, b.ttft_p99_s_at_itemized))
            .or_else(|| {
                b.margin_blended
                    .map(|x| label("blended", x, b.ttft_p99_s_at_blended))
            })
    });
    vec![
        chart(
            "sweep_revenue",
            "Revenue",
            "US$ per simulated period",
            Unit::Usd,
            series(&[
                ("revenue_itemized_usd", "itemized"),
                ("revenue_blended_usd", "blended"),
            ]),
        ),
        chart(
            "sweep_cost",
            "Cost of serving",
            "US$ per simulated period",
            Unit::Usd,
            series(&[("cost_usd", "cost")]),
        ),
        margin,
        chart(
            "sweep_utilization",
            "Utilization",
            "busy share",
            Unit::Share,
            series(&[("utilization", "utilization")]),
        ),
        chart(
            "sweep_devices",
            "Devices",
            "devices",
            Unit::Plain,
            series(&[("devices", "devices")]),
        ),
        chart(
            "sweep_latency",
            "TTFT p99",
            "seconds",
            Unit::Seconds,
            series(&[("ttft_p99_s", "TTFT p99")]),
        ),
    ]
}
