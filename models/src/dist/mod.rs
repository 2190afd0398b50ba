//! Distributions of the random quantities in a scenario.
//!
//! A scenario writes a distribution as a table tagged by `dist`, in the units of the field it
//! belongs to, e.g. `budget = { dist = "lognormal", p10 = "30M", p90 = "100M" }` or
//! `tool_gap = { dist = "exponential", mean = "10s" }`; a bare value is a constant
//! (`system_tokens = "25k"`). [`DistSpec`] is that written form; [`DistSpec::resolve`] checks it
//! and turns it into a [`Dist`], which samples with a caller-supplied generator and answers
//! means, quantiles and the CDF (for validation and for sizing a run before it starts).
//!
//! The families: `constant`, `lognormal` (any two of its quantiles, its median, its mean and
//! its sigma, because people describe heavy tails by their spread, "p10 = 30M, p90 = 100M",
//! more often than by mu and sigma), `pareto` (optionally truncated), `exponential`,
//! `uniform`, `weibull` and `gamma` (a `shape` and either `scale` or `mean`), `empirical`
//! (the values of a CSV column, or inline `values`, resampled with linear interpolation
//! between order statistics) and `mixture` (weighted components, each any of the above).
//! Empirical values are in the field's base unit: tokens, or seconds for durations.
//!
//! [`fit`] fits the parametric families to data (maximum likelihood) and ranks them by their
//! Kolmogorov-Smirnov distance: `tokenfleet fit` prints the result as a scenario fragment.

mod de;
mod empirical;
pub mod fit;
mod params;
mod print;
mod resolve;
mod sampling;
mod spec;
mod special;
#[cfg(test)]
mod testing;

pub use empirical::read_csv_column;
pub use sampling::{Dist, unit};
pub use spec::{Component, DistError, DistSpec, EmpiricalSpec, LogNormalSpec, ShapeSpec};
pub use special::z;
