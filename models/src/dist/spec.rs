//! The written forms of distributions: what a scenario or catalog file says, with values in the
//! field's unit, before any check.
//!
//! They serialize as written (`Serialize` is derived); reading is in `de.rs`, because a bare
//! value must also read as a constant, which a derived tagged enum cannot do. Checking and
//! building the sampler is [`DistSpec::resolve`], in `resolve.rs`.

use serde::{Deserialize, Serialize};

use crate::units::{Quantity, Unit};

/// A distribution as written in a scenario, with values in unit `U`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "dist", rename_all = "lowercase", bound = "")]
pub enum DistSpec<U: Unit> {
    /// Always the same value.
    Constant { value: Quantity<U> },
    /// Log-normal, by exactly two of: p10, p25, p50 (or median), p75, p90, p99, mean, sigma.
    #[serde(rename = "lognormal")]
    LogNormal(LogNormalSpec<U>),
    /// Pareto with minimum `min` and tail index `alpha`; optional upper truncation `max`.
    Pareto {
        min: Quantity<U>,
        alpha: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        max: Option<Quantity<U>>,
    },
    /// Exponential with the given mean.
    Exponential { mean: Quantity<U> },
    /// Uniform on [min, max].
    Uniform { min: Quantity<U>, max: Quantity<U> },
    /// Weibull: `P(X > x) = exp(-(x/scale)^shape)`, by `shape` and `scale` or `mean`.
    Weibull(ShapeSpec<U>),
    /// Gamma with `shape` and `scale` (or `mean` = shape x scale).
    Gamma(ShapeSpec<U>),
    /// The empirical distribution of data: a CSV column or inline values (base units).
    Empirical(EmpiricalSpec),
    /// A weighted mixture of distributions.
    Mixture { components: Vec<Component<U>> },
}

/// The parameters a log-normal may be given by; exactly two must be set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
pub struct LogNormalSpec<U: Unit> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p10: Option<Quantity<U>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p25: Option<Quantity<U>>,
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "median")]
    pub p50: Option<Quantity<U>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p75: Option<Quantity<U>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90: Option<Quantity<U>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99: Option<Quantity<U>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<Quantity<U>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma: Option<f64>,
}

/// A shape parameter and a scale, given directly or through the mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound = "")]
pub struct ShapeSpec<U: Unit> {
    pub shape: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<Quantity<U>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<Quantity<U>>,
}

/// Where empirical values come from: `file` + `column` (a CSV with a header row; the path
/// relative to the scenario file) or inline `values`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmpiricalSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<f64>>,
}

/// One weighted component of a mixture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Component<U: Unit> {
    pub weight: f64,
    #[serde(flatten)]
    pub dist: DistSpec<U>,
}

/// Why a distribution spec cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct DistError(pub String);
