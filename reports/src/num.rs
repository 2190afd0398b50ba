//! The small arithmetic every output shares: rounding for display, a division that reads 0 for
//! an empty denominator, and nearest-rank quantiles.
//!
//! One definition of each, so that summary.json, hourly.csv, the economics block and the plan's
//! files round and divide the same way and agree to the last digit.

use tokenfleet_models::Money;

/// Rounds dollars to a micro-dollar for display (the exact values stay in the ledger).
pub fn usd(m: Money) -> f64 {
    (m.usd() * 1e6).round() / 1e6
}

/// `x` rounded to `digits` decimals.
pub fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// `a / b`, or 0 when `b` is not positive (an empty period, pool or class).
pub fn div(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// Nearest-rank quantile of sorted values (zero when there are none).
pub fn quantile<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let i = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}
