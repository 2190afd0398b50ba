//! The special functions the families share: the standard normal (a log-normal is solved from
//! its quantiles through z_p and evaluated through the normal CDF) and the Weibull's mean
//! factor (used both to solve a Weibull given by its mean and to report the mean).

use statrs::distribution::{ContinuousCDF, Normal};

/// The standard normal quantile z_p.
pub fn z(p: f64) -> f64 {
    Normal::standard().inverse_cdf(p)
}

/// The standard normal CDF.
pub(super) fn phi(x: f64) -> f64 {
    Normal::standard().cdf(x)
}

/// Gamma(1 + 1/k): the mean of a Weibull of unit scale.
pub(super) fn weibull_mean_factor(k: f64) -> f64 {
    statrs::function::gamma::gamma(1.0 + 1.0 / k)
}
