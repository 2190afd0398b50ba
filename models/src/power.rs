//! Device power as a function of load.
//!
//! A device draws its idle power whenever it is provisioned, and rises towards its TDP with
//! the share of each iteration spent in the roofline-bound part (matmuls or memory streaming),
//! as opposed to fixed overheads (launches, scheduling, collective latency) during which the
//! SMs mostly wait. So a replica decoding a small batch behind large fixed overheads draws much
//! less than TDP, as measured (InferenceX: DeepSeek on 8xB200 at 390 W/GPU at concurrency 1,
//! 956 W at 256; splitwise: A100 at ≈ 0.53 of TDP decoding batch 1-16).
//!
//! Known error: linear in activity; the measured curve is concave at low load. The fit on
//! ../shared/data/measured/splitwise_llama2_70b_a100_h100.csv refines it (issue 5).

use serde::Serialize;

/// Linear idle-to-peak power for one device.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PowerModel {
    pub idle_w: f64,
    pub peak_w: f64,
}

impl PowerModel {
    pub fn new(idle_w: f64, peak_w: f64) -> PowerModel {
        PowerModel { idle_w, peak_w }
    }
    /// Power at `activity` in [0, 1] (clamped).
    #[inline]
    pub fn power_w(&self, activity: f64) -> f64 {
        self.idle_w + (self.peak_w - self.idle_w) * activity.clamp(0.0, 1.0)
    }
    /// Energy above idle, in joules, for `active_s` seconds of full activity.
    #[inline]
    pub fn dynamic_joules(&self, active_s: f64) -> f64 {
        (self.peak_w - self.idle_w) * active_s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn bounded_between_idle_and_peak() {
        let p = PowerModel::new(100.0, 700.0);
        assert_eq!(p.power_w(-1.0), 100.0);
        assert_eq!(p.power_w(0.5), 400.0);
        assert_eq!(p.power_w(2.0), 700.0);
    }
}
