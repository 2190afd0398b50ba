//! Device power as a function of load.
//!
//! A device draws its idle power whenever it is provisioned. While it iterates, it rises
//! towards its TDP with the share of each iteration spent in the roofline-bound part (matmuls
//! or memory streaming), its *activity* `a`, as opposed to fixed overheads (launches,
//! scheduling, collective latency) during which the SMs mostly wait:
//!
//! `P(a) = idle + (TDP - idle) * a^γ`
//!
//! The exponent γ is fitted (`tokenfleet calibrate`, stored in models/catalog/calibration.toml
//! `[power]`) on the splitwise measurements of Llama-2-70B on A100 (tests/fixtures/measured/
//! splitwise_llama2_70b_a100_h100.csv: mean power as a fraction of TDP over static-batch runs
//! at TP 2/4/8, batch 1-16, prompts 128-4096), with the activity each run has in the
//! simulator's own serving model. The fit gives γ < 1: a concave curve. Measured power sits
//! above the linear idle-to-TDP line at low activity (A100 at TP8 draws ≈ 0.43 of TDP when
//! the model puts it roofline-bound only ≈ 0.27 of the time), because launch gaps and
//! collectives keep clocks and memory busy too. Also consistent with InferenceX's DeepSeek on
//! 8xB200: 390 W per GPU at concurrency 1, 956 W at 256.
//!
//! Known error (docs/economics.md, "Power"): fitted on one device (A100) and one model; H100
//! rows of the file carry no power. Within one TP degree the measured power rises less with
//! the batch than the curve says (≈ 0.03 of TDP at batch 16). The simulator applies the curve
//! to each epoch's mean activity (a span of iterations with the same batch), not to each
//! iteration.

use serde::{Deserialize, Serialize};

/// The shape of the idle-to-TDP curve, as fitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerCurveFit {
    /// γ in `P(a) = idle + (TDP - idle) * a^γ`.
    pub exponent: f64,
    /// The measured rows the exponent was fitted on.
    pub data: String,
    pub rows: u32,
    /// Absolute errors of the fitted curve, as fractions of TDP.
    pub median_error: f64,
    pub max_error: f64,
    /// The same for the linear curve (γ = 1), for comparison.
    pub linear_median_error: f64,
    pub linear_max_error: f64,
}

/// Idle-to-peak power for one device.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PowerModel {
    pub idle_w: f64,
    pub peak_w: f64,
    /// γ of the curve (1 = linear).
    pub exponent: f64,
}

impl PowerModel {
    pub fn new(idle_w: f64, peak_w: f64, exponent: f64) -> PowerModel {
        PowerModel {
            idle_w,
            peak_w,
            exponent,
        }
    }
    /// Share of the dynamic range (TDP - idle) drawn at `activity` in [0, 1] (clamped).
    #[inline]
    pub fn dynamic_share(&self, activity: f64) -> f64 {
        let a = activity.clamp(0.0, 1.0);
        if self.exponent == 1.0 {
            a
        } else {
            a.powf(self.exponent)
        }
    }
    /// Power at `activity` in [0, 1] (clamped).
    #[inline]
    pub fn power_w(&self, activity: f64) -> f64 {
        self.power_at_share(self.dynamic_share(activity))
    }
    /// Power drawing `share` of the dynamic range (a mean power: `powered_ns` over the time).
    #[inline]
    pub fn power_at_share(&self, share: f64) -> f64 {
        self.idle_w + (self.peak_w - self.idle_w) * share
    }
    /// Energy above idle, in joules, for `powered_s` seconds at full dynamic share (the
    /// time-integral of `dynamic_share`).
    #[inline]
    pub fn dynamic_joules(&self, powered_s: f64) -> f64 {
        (self.peak_w - self.idle_w) * powered_s
    }
}

/// [`PowerModel::dynamic_share`] tabulated at 1,025 points and interpolated linearly, for the
/// simulator's hot path: `powf` on every epoch was 8% of a run (docs/performance.md). The
/// interpolation error is largest in the first interval, where a^γ is steepest: 1e-4 of the
/// dynamic range at the fitted γ = 0.887, 3e-4 at 0.8 (0.008 at 0.5); the fit's own error is
/// 0.018 of TDP.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareTable {
    /// Inline (not boxed): one pointer less to chase on every epoch.
    points: [f64; Self::STEPS + 1],
}

impl ShareTable {
    const STEPS: usize = 1024;

    pub fn new(power: &PowerModel) -> ShareTable {
        ShareTable {
            points: std::array::from_fn(|i| power.dynamic_share(i as f64 / Self::STEPS as f64)),
        }
    }

    /// The dynamic share at `activity` in [0, 1] (clamped).
    #[inline]
    pub fn share(&self, activity: f64) -> f64 {
        let x = activity.clamp(0.0, 1.0) * Self::STEPS as f64;
        let i = (x as usize).min(Self::STEPS - 1);
        let (lo, hi) = (self.points[i], self.points[i + 1]);
        lo + (x - i as f64) * (hi - lo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn the_table_follows_the_curve() {
        for (gamma, bound) in [(0.8, 4e-4), (0.887, 1.2e-4), (1.0, 1e-12)] {
            let p = PowerModel::new(100.0, 700.0, gamma);
            let t = ShareTable::new(&p);
            assert_eq!(t.share(0.0), 0.0);
            assert_eq!(t.share(1.0), 1.0);
            assert_eq!(t.share(2.0), 1.0);
            for i in 0..=10_000 {
                let a = i as f64 / 10_000.0;
                let err = (t.share(a) - p.dynamic_share(a)).abs();
                assert!(err < bound, "γ {gamma} at {a}: {err}");
            }
        }
    }
    #[test]
    fn bounded_between_idle_and_peak() {
        let p = PowerModel::new(100.0, 700.0, 1.0);
        assert_eq!(p.power_w(-1.0), 100.0);
        assert_eq!(p.power_w(0.5), 400.0);
        assert_eq!(p.power_w(2.0), 700.0);
    }
    #[test]
    fn a_concave_curve_draws_more_at_partial_load_and_the_same_at_the_ends() {
        let lin = PowerModel::new(100.0, 700.0, 1.0);
        let conc = PowerModel::new(100.0, 700.0, 0.7);
        assert_eq!(conc.power_w(0.0), 100.0);
        assert_eq!(conc.power_w(1.0), 700.0);
        for a in [0.1, 0.3, 0.5, 0.9] {
            assert!(conc.power_w(a) > lin.power_w(a));
            assert!(conc.power_w(a) < 700.0);
        }
        assert!(conc.power_w(0.3) < conc.power_w(0.6));
    }
}
