//! A plan's targets (TTFT, TPOT and end-to-end p99, rejected share, installed power,
//! purchase value) in base units, and which of them a run misses.

use serde::Serialize;
use tokenfleet_fleet::metrics::Headline;
use tokenfleet_scenario::TargetsSpec;

/// Targets in base units (seconds, shares, MW, USD).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Targets {
    pub ttft_p99_s: Option<f64>,
    pub tpot_p99_s: Option<f64>,
    pub e2e_p99_s: Option<f64>,
    pub rejected_share: Option<f64>,
    pub power_cap_mw: Option<f64>,
    pub capex_budget_usd: Option<f64>,
}

/// A target a run missed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Miss {
    pub target: &'static str,
    pub limit: f64,
    pub attained: f64,
}

impl Targets {
    pub fn from_spec(t: &TargetsSpec) -> Targets {
        Targets {
            ttft_p99_s: t.ttft_p99.map(|x| x.get()),
            tpot_p99_s: t.tpot_p99.map(|x| x.get()),
            e2e_p99_s: t.e2e_p99.map(|x| x.get()),
            rejected_share: t.rejected_share.map(|x| x.get()),
            power_cap_mw: t.power_cap.map(|x| x.get() / 1e6),
            capex_budget_usd: t.capex_budget.map(|x| x.get()),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Targets::default()
    }

    /// The targets `h` misses.
    pub fn misses(&self, h: &Headline) -> Vec<Miss> {
        let mut out = Vec::new();
        let mut check = |target: &'static str, limit: Option<f64>, attained: f64| {
            if let Some(limit) = limit
                && attained > limit
            {
                out.push(Miss {
                    target,
                    limit,
                    attained,
                });
            }
        };
        check("ttft_p99", self.ttft_p99_s, h.ttft_p99_s);
        check("tpot_p99", self.tpot_p99_s, h.tpot_p99_s);
        check("e2e_p99", self.e2e_p99_s, h.e2e_p99_s);
        check("rejected_share", self.rejected_share, h.rejected_share);
        check("power_cap_mw", self.power_cap_mw, h.power_mw_installed);
        check(
            "capex_budget_usd",
            self.capex_budget_usd,
            h.purchase_value_usd,
        );
        out
    }
}
