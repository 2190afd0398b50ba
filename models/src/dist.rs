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

use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::Rng;
use rand_distr::Distribution;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

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

/// A resolved distribution over non-negative reals, in base units.
#[derive(Debug, Clone)]
pub enum Dist {
    Constant(f64),
    LogNormal {
        mu: f64,
        sigma: f64,
        sampler: rand_distr::LogNormal<f64>,
    },
    Pareto {
        min: f64,
        alpha: f64,
        max: Option<f64>,
    },
    Exponential {
        mean: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    Weibull {
        shape: f64,
        scale: f64,
    },
    Gamma {
        shape: f64,
        scale: f64,
        sampler: rand_distr::Gamma<f64>,
    },
    /// Sorted values; shared, because a column may be large and setups are cloned.
    Empirical {
        sorted: Arc<[f64]>,
        mean: f64,
    },
    /// Cumulative normalized weights (the last is 1) and the components.
    Mixture {
        cum: Vec<f64>,
        parts: Vec<Dist>,
    },
}

/// The standard normal quantile z_p.
pub fn z(p: f64) -> f64 {
    Normal::standard().inverse_cdf(p)
}

/// The standard normal CDF.
fn phi(x: f64) -> f64 {
    Normal::standard().cdf(x)
}

impl<U: Unit> LogNormalSpec<U> {
    fn resolve(&self) -> Result<(f64, f64), DistError> {
        let mut quantiles: Vec<(f64, f64, &str)> = Vec::new();
        for (p, v, name) in [
            (0.10, self.p10, "p10"),
            (0.25, self.p25, "p25"),
            (0.50, self.p50, "p50"),
            (0.75, self.p75, "p75"),
            (0.90, self.p90, "p90"),
            (0.99, self.p99, "p99"),
        ] {
            if let Some(v) = v {
                if v.get() <= 0.0 {
                    return Err(DistError(format!("lognormal {name} must be positive")));
                }
                quantiles.push((p, v.get(), name));
            }
        }
        let given = quantiles.len() + self.mean.is_some() as usize + self.sigma.is_some() as usize;
        if given != 2 {
            return Err(DistError(format!(
                "lognormal needs exactly two of p10, p25, p50 (median), p75, p90, p99, mean, sigma; got {given}"
            )));
        }
        if let Some(s) = self.sigma
            && !(s.is_finite() && s >= 0.0)
        {
            return Err(DistError(
                "lognormal sigma must be a finite number >= 0".into(),
            ));
        }
        if let Some(m) = self.mean
            && m.get() <= 0.0
        {
            return Err(DistError("lognormal mean must be positive".into()));
        }
        let (mu, sigma) = match (quantiles.as_slice(), self.mean, self.sigma) {
            ([(pa, a, na), (pb, b, nb)], None, None) => {
                if b <= a {
                    return Err(DistError(format!(
                        "lognormal {nb} ({b}) must be larger than {na} ({a})"
                    )));
                }
                let sigma = (b.ln() - a.ln()) / (z(*pb) - z(*pa));
                (a.ln() - sigma * z(*pa), sigma)
            }
            ([(p, x, _)], None, Some(s)) => (x.ln() - s * z(*p), s),
            ([], Some(m), Some(s)) => (m.get().ln() - s * s / 2.0, s),
            ([(p, x, name)], Some(m), None) => {
                // mean = exp(mu + s^2/2), x = exp(mu + s z): s^2/2 - z s - ln(m/x) = 0.
                let zp = z(*p);
                let c = (m.get() / x).ln();
                let disc = zp * zp + 2.0 * c;
                if disc < 0.0 {
                    return Err(DistError(format!(
                        "lognormal mean {} is not reachable with {name} {x}",
                        m.get()
                    )));
                }
                let s = zp + disc.sqrt();
                if s < 0.0 {
                    return Err(DistError(format!(
                        "lognormal mean {} is below what {name} {x} allows",
                        m.get()
                    )));
                }
                (x.ln() - s * zp, s)
            }
            _ => unreachable!("exactly two parameters were checked above"),
        };
        Ok((mu, sigma))
    }
}

impl<U: Unit> ShapeSpec<U> {
    /// (shape, scale), with `mean_factor(shape)` = mean / scale.
    fn resolve(
        &self,
        what: &str,
        mean_factor: impl Fn(f64) -> f64,
    ) -> Result<(f64, f64), DistError> {
        let k = self.shape;
        if !(k.is_finite() && k > 0.0) {
            return Err(DistError(format!("{what} shape must be a positive number")));
        }
        let scale = match (self.scale, self.mean) {
            (Some(s), None) => s.get(),
            (None, Some(m)) => m.get() / mean_factor(k),
            _ => {
                return Err(DistError(format!(
                    "{what} needs `shape` and exactly one of `scale`, `mean`"
                )));
            }
        };
        if !(scale.is_finite() && scale > 0.0) {
            return Err(DistError(format!(
                "{what} scale (or mean) must be positive"
            )));
        }
        Ok((k, scale))
    }
}

/// Gamma(1 + 1/k): the mean of a Weibull of unit scale.
fn weibull_mean_factor(k: f64) -> f64 {
    statrs::function::gamma::gamma(1.0 + 1.0 / k)
}

impl EmpiricalSpec {
    fn load(&self, dir: Option<&Path>) -> Result<Vec<f64>, DistError> {
        let values = match (&self.file, &self.column, &self.values) {
            (None, None, Some(v)) => v.clone(),
            (Some(file), Some(column), None) => {
                let path = dir.map_or_else(|| PathBuf::from(file), |d| d.join(file));
                read_csv_column(&path, column)?
            }
            _ => {
                return Err(DistError(
                    "empirical needs either `file` and `column` (a CSV column) or `values`".into(),
                ));
            }
        };
        if values.is_empty() {
            return Err(DistError("empirical needs at least one value".into()));
        }
        if let Some(v) = values.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
            return Err(DistError(format!(
                "empirical values must be finite and non-negative, found {v}"
            )));
        }
        Ok(values)
    }
}

/// The numbers in column `column` (by header name) of a CSV file.
pub fn read_csv_column(path: &Path, column: &str) -> Result<Vec<f64>, DistError> {
    let shown = path.display();
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|e| DistError(format!("cannot read {shown}: {e}")))?;
    let headers = rdr
        .headers()
        .map_err(|e| DistError(format!("{shown}: {e}")))?
        .clone();
    let Some(idx) = headers.iter().position(|h| h.trim() == column) else {
        let names: Vec<&str> = headers.iter().collect();
        return Err(DistError(format!(
            "{shown} has no column `{column}`; columns: {}",
            names.join(", ")
        )));
    };
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| DistError(format!("{shown}: {e}")))?;
        let line = rec.position().map_or(0, |p| p.line());
        let text = rec.get(idx).unwrap_or("").trim();
        let v: f64 = text.parse().map_err(|_| {
            DistError(format!(
                "{shown} line {line}: column `{column}`: {text:?} is not a number"
            ))
        })?;
        out.push(v);
    }
    Ok(out)
}

impl<U: Unit> DistSpec<U> {
    /// Checks the parameters and builds the sampler (files relative to the working directory).
    pub fn resolve(&self) -> Result<Dist, DistError> {
        self.resolve_in(None)
    }

    /// Checks the parameters and builds the sampler; `dir` is where relative paths of
    /// empirical files start (the scenario file's directory).
    pub fn resolve_in(&self, dir: Option<&Path>) -> Result<Dist, DistError> {
        let pos = |v: f64, what: &str| {
            if v > 0.0 && v.is_finite() {
                Ok(v)
            } else {
                Err(DistError(format!("{what} must be positive")))
            }
        };
        Ok(match self {
            DistSpec::Constant { value } => Dist::Constant(value.get()),
            DistSpec::LogNormal(spec) => {
                let (mu, sigma) = spec.resolve()?;
                let sampler = rand_distr::LogNormal::new(mu, sigma)
                    .map_err(|e| DistError(format!("lognormal: {e}")))?;
                Dist::LogNormal { mu, sigma, sampler }
            }
            DistSpec::Pareto { min, alpha, max } => {
                let min = pos(min.get(), "pareto min")?;
                let alpha = pos(*alpha, "pareto alpha")?;
                if let Some(m) = max
                    && m.get() <= min
                {
                    return Err(DistError("pareto max must be larger than min".into()));
                }
                Dist::Pareto {
                    min,
                    alpha,
                    max: max.map(|m| m.get()),
                }
            }
            DistSpec::Exponential { mean } => Dist::Exponential {
                mean: pos(mean.get(), "exponential mean")?,
            },
            DistSpec::Uniform { min, max } => {
                if max.get() < min.get() {
                    return Err(DistError("uniform max must not be below min".into()));
                }
                Dist::Uniform {
                    min: min.get(),
                    max: max.get(),
                }
            }
            DistSpec::Weibull(spec) => {
                let (shape, scale) = spec.resolve("weibull", weibull_mean_factor)?;
                Dist::Weibull { shape, scale }
            }
            DistSpec::Gamma(spec) => {
                let (shape, scale) = spec.resolve("gamma", |k| k)?;
                let sampler = rand_distr::Gamma::new(shape, scale)
                    .map_err(|e| DistError(format!("gamma: {e}")))?;
                Dist::Gamma {
                    shape,
                    scale,
                    sampler,
                }
            }
            DistSpec::Empirical(spec) => Dist::empirical(spec.load(dir)?),
            DistSpec::Mixture { components } => {
                if components.is_empty() {
                    return Err(DistError("mixture needs at least one component".into()));
                }
                let mut total = 0.0;
                let mut parts = Vec::with_capacity(components.len());
                for (i, c) in components.iter().enumerate() {
                    if !(c.weight.is_finite() && c.weight >= 0.0) {
                        return Err(DistError(format!(
                            "mixture component {i}: weight must be a non-negative number"
                        )));
                    }
                    total += c.weight;
                    let d = c
                        .dist
                        .resolve_in(dir)
                        .map_err(|e| DistError(format!("mixture component {i}: {e}")))?;
                    parts.push(d);
                }
                if total <= 0.0 {
                    return Err(DistError("mixture weights must not all be zero".into()));
                }
                let mut acc = 0.0;
                let mut cum: Vec<f64> = components
                    .iter()
                    .map(|c| {
                        acc += c.weight / total;
                        acc
                    })
                    .collect();
                *cum.last_mut().expect("not empty") = 1.0;
                Dist::Mixture { cum, parts }
            }
        })
    }
}

impl<U: Unit> DistSpec<U> {
    /// The spec as an inline TOML value (`{ dist = "lognormal", p50 = "1200", sigma = 0.9 }`),
    /// `dist` first, ready to paste into a scenario.
    pub fn to_toml(&self) -> String {
        match toml::Value::try_from(self) {
            Ok(v) => inline(&v),
            Err(e) => format!("\"(cannot print: {e})\""),
        }
    }
}

/// Inline TOML with a table's `dist` key first.
fn inline(v: &toml::Value) -> String {
    match v {
        toml::Value::Table(t) => {
            let mut keys: Vec<&String> = t.keys().collect();
            keys.sort_by_key(|k| (k.as_str() != "dist", k.as_str() == "weight", (*k).clone()));
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{k} = {}", inline(&t[k.as_str()])))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        toml::Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(inline).collect();
            format!("[{}]", parts.join(", "))
        }
        other => other.to_string(),
    }
}

impl Dist {
    /// The empirical distribution of `values` (finite, non-negative, at least one).
    pub fn empirical(mut values: Vec<f64>) -> Dist {
        values.sort_by(f64::total_cmp);
        let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
        Dist::Empirical {
            sorted: values.into(),
            mean,
        }
    }

    /// Draws one value.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::LogNormal { sampler, .. } => sampler.sample(rng),
            Dist::Exponential { mean } => -mean * (1.0 - unit(rng)).ln(),
            Dist::Uniform { min, max } => min + (max - min) * unit(rng),
            Dist::Pareto { .. } | Dist::Weibull { .. } | Dist::Empirical { .. } => {
                self.quantile(unit(rng))
            }
            Dist::Gamma { sampler, .. } => sampler.sample(rng),
            Dist::Mixture { cum, parts } => {
                let u = unit(rng);
                let i = cum.partition_point(|c| *c <= u).min(parts.len() - 1);
                parts[i].sample(rng)
            }
        }
    }

    /// The mean (infinite for a Pareto with alpha <= 1 and no upper bound).
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::LogNormal { mu, sigma, .. } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Exponential { mean } => *mean,
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Pareto { min, alpha, max } => match max {
                None if *alpha <= 1.0 => f64::INFINITY,
                None => alpha * min / (alpha - 1.0),
                Some(h) => {
                    let (l, h, a) = (*min, *h, *alpha);
                    let norm = 1.0 - (l / h).powf(a);
                    if (a - 1.0).abs() < 1e-12 {
                        l * (h / l).ln() / norm
                    } else {
                        a * l.powf(a) * (l.powf(1.0 - a) - h.powf(1.0 - a)) / ((a - 1.0) * norm)
                    }
                }
            },
            Dist::Weibull { shape, scale } => scale * weibull_mean_factor(*shape),
            Dist::Gamma { shape, scale, .. } => shape * scale,
            Dist::Empirical { mean, .. } => *mean,
            Dist::Mixture { cum, parts } => {
                let mut prev = 0.0;
                parts
                    .iter()
                    .zip(cum)
                    .map(|(d, c)| {
                        let w = c - prev;
                        prev = *c;
                        if w > 0.0 { w * d.mean() } else { 0.0 }
                    })
                    .sum()
            }
        }
    }

    /// P(X <= x).
    pub fn cdf(&self, x: f64) -> f64 {
        if x.is_nan() {
            return 0.0;
        }
        match self {
            Dist::Constant(v) => f64::from(x >= *v),
            Dist::LogNormal { mu, sigma, .. } => {
                if x <= 0.0 {
                    0.0
                } else if *sigma == 0.0 {
                    f64::from(x.ln() >= *mu)
                } else {
                    phi((x.ln() - mu) / sigma)
                }
            }
            Dist::Exponential { mean } => {
                if x <= 0.0 {
                    0.0
                } else {
                    1.0 - (-x / mean).exp()
                }
            }
            Dist::Uniform { min, max } => {
                if x < *min {
                    0.0
                } else if x >= *max {
                    1.0
                } else {
                    (x - min) / (max - min)
                }
            }
            Dist::Pareto { min, alpha, max } => {
                if x <= *min {
                    return 0.0;
                }
                match max {
                    None => 1.0 - (min / x).powf(*alpha),
                    Some(h) if x >= *h => 1.0,
                    Some(h) => (1.0 - (min / x).powf(*alpha)) / (1.0 - (min / h).powf(*alpha)),
                }
            }
            Dist::Weibull { shape, scale } => {
                if x <= 0.0 {
                    0.0
                } else {
                    1.0 - (-(x / scale).powf(*shape)).exp()
                }
            }
            Dist::Gamma { shape, scale, .. } => {
                if x <= 0.0 {
                    0.0
                } else {
                    statrs::function::gamma::gamma_lr(*shape, x / scale)
                }
            }
            Dist::Empirical { sorted, .. } => {
                let n = sorted.len();
                if x < sorted[0] {
                    return 0.0;
                }
                if x >= sorted[n - 1] {
                    return 1.0;
                }
                // Inverse of the piecewise-linear quantile function.
                let i = sorted.partition_point(|v| *v <= x).max(1) - 1;
                let (a, b) = (sorted[i], sorted[i + 1]);
                let frac = if b > a { (x - a) / (b - a) } else { 1.0 };
                (i as f64 + frac) / (n - 1) as f64
            }
            Dist::Mixture { cum, parts } => {
                let mut prev = 0.0;
                let mut f = 0.0;
                for (d, c) in parts.iter().zip(cum) {
                    f += (c - prev) * d.cdf(x);
                    prev = *c;
                }
                f.clamp(0.0, 1.0)
            }
        }
    }

    /// The p-quantile, p in [0, 1).
    pub fn quantile(&self, p: f64) -> f64 {
        let p = p.clamp(0.0, 1.0 - 1e-15);
        match self {
            Dist::Constant(v) => *v,
            Dist::LogNormal { mu, sigma, .. } => (mu + sigma * z(p.max(1e-300))).exp(),
            Dist::Exponential { mean } => -mean * (1.0 - p).ln(),
            Dist::Uniform { min, max } => min + (max - min) * p,
            Dist::Pareto { min, alpha, max } => {
                let tail = match max {
                    None => 1.0 - p,
                    Some(h) => 1.0 - p * (1.0 - (min / h).powf(*alpha)),
                };
                min / tail.powf(1.0 / alpha)
            }
            Dist::Weibull { shape, scale } => scale * (-(1.0 - p).ln()).powf(1.0 / shape),
            Dist::Gamma { shape, scale, .. } => {
                match statrs::distribution::Gamma::new(*shape, 1.0 / scale) {
                    Ok(g) => g.inverse_cdf(p),
                    Err(_) => f64::NAN,
                }
            }
            Dist::Empirical { sorted, .. } => {
                let n = sorted.len();
                let h = p * (n - 1) as f64;
                let i = (h.floor() as usize).min(n - 1);
                let j = (i + 1).min(n - 1);
                sorted[i] + (sorted[j] - sorted[i]) * (h - i as f64)
            }
            Dist::Mixture { parts, .. } => {
                // Bisection on the CDF between the components' own p-quantiles, which
                // bracket the mixture's.
                let (mut lo, mut hi) = parts.iter().fold((f64::INFINITY, 0.0f64), |(l, h), d| {
                    let q = d.quantile(p);
                    (l.min(q), h.max(q))
                });
                if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
                    return lo;
                }
                for _ in 0..200 {
                    let mid = 0.5 * (lo + hi);
                    if self.cdf(mid) < p {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                    if hi - lo <= 1e-12 * hi.abs().max(1e-300) {
                        break;
                    }
                }
                hi
            }
        }
    }
}

/// A uniform draw in [0, 1) with 53 bits.
#[inline]
pub fn unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

impl<'de, U: Unit> Deserialize<'de> for DistSpec<U> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// The tagged table form; separate so that a bare value can be a constant.
        #[derive(Deserialize)]
        #[serde(
            tag = "dist",
            rename_all = "lowercase",
            deny_unknown_fields,
            bound = ""
        )]
        enum Tagged<U: Unit> {
            Constant {
                value: Quantity<U>,
            },
            #[serde(rename = "lognormal", alias = "log-normal")]
            LogNormal(LogNormalSpec<U>),
            Pareto {
                min: Quantity<U>,
                alpha: f64,
                #[serde(default)]
                max: Option<Quantity<U>>,
            },
            Exponential {
                mean: Quantity<U>,
            },
            Uniform {
                min: Quantity<U>,
                max: Quantity<U>,
            },
            Weibull(ShapeSpec<U>),
            Gamma(ShapeSpec<U>),
            Empirical(EmpiricalSpec),
            Mixture {
                components: Vec<Component<U>>,
            },
        }

        struct V<U>(PhantomData<U>);
        impl<'de, U: Unit> Visitor<'de> for V<U> {
            type Value = DistSpec<U>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "a {} or a distribution table {{ dist = \"constant\" | \"lognormal\" | \"pareto\" | \"exponential\" | \"uniform\" | \"weibull\" | \"gamma\" | \"empirical\" | \"mixture\", ... }}",
                    U::WHAT
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                let value: Quantity<U> = s.parse().map_err(E::custom)?;
                Ok(DistSpec::Constant { value })
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                let value = Quantity::<U>::deserialize(de::value::F64Deserializer::<E>::new(v))?;
                Ok(DistSpec::Constant { value })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                self.visit_f64(v as f64)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let t = Tagged::<U>::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(match t {
                    Tagged::Constant { value } => DistSpec::Constant { value },
                    Tagged::LogNormal(spec) => DistSpec::LogNormal(spec),
                    Tagged::Pareto { min, alpha, max } => DistSpec::Pareto { min, alpha, max },
                    Tagged::Exponential { mean } => DistSpec::Exponential { mean },
                    Tagged::Uniform { min, max } => DistSpec::Uniform { min, max },
                    Tagged::Weibull(s) => DistSpec::Weibull(s),
                    Tagged::Gamma(s) => DistSpec::Gamma(s),
                    Tagged::Empirical(s) => DistSpec::Empirical(s),
                    Tagged::Mixture { components } => DistSpec::Mixture { components },
                })
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// Fitting distributions to data.
pub mod fit {
    use super::*;

    /// A fitted distribution and how well it fits.
    #[derive(Debug, Clone)]
    pub struct Fitted<U: Unit> {
        pub spec: DistSpec<U>,
        pub dist: Dist,
        /// Kolmogorov-Smirnov distance to the data: max |F_data(x) - F(x)|.
        pub ks: f64,
    }

    /// Summary statistics of data, for comparing a fit with it.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct Stats {
        pub n: usize,
        pub mean: f64,
        pub p10: f64,
        pub p50: f64,
        pub p90: f64,
        pub p99: f64,
        /// Share of values equal to zero.
        pub zeros: f64,
    }

    /// Statistics of `values` (any order).
    pub fn stats(values: &[f64]) -> Stats {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let q = |p: f64| {
            if v.is_empty() {
                0.0
            } else {
                Dist::Empirical {
                    sorted: v.clone().into(),
                    mean: 0.0,
                }
                .quantile(p)
            }
        };
        Stats {
            n: v.len(),
            mean: v.iter().sum::<f64>() / v.len().max(1) as f64,
            p10: q(0.10),
            p50: q(0.50),
            p90: q(0.90),
            p99: q(0.99),
            zeros: v.iter().filter(|x| **x == 0.0).count() as f64 / v.len().max(1) as f64,
        }
    }

    /// The KS distance between sorted data and a distribution.
    pub fn ks_distance(sorted: &[f64], d: &Dist) -> f64 {
        let n = sorted.len() as f64;
        let mut worst: f64 = 0.0;
        for (i, x) in sorted.iter().enumerate() {
            let f = d.cdf(*x);
            worst = worst
                .max((f - i as f64 / n).abs())
                .max(((i + 1) as f64 / n - f).abs());
        }
        worst
    }

    /// Fits log-normal, gamma, Weibull and exponential distributions to the positive values
    /// by maximum likelihood, best (smallest KS distance) first. Values of zero are left out
    /// (the caller may model them as a mixture weight; see [`with_zeros`]).
    pub fn fit<U: Unit>(values: &[f64]) -> Result<Vec<Fitted<U>>, DistError> {
        let mut x: Vec<f64> = values
            .iter()
            .copied()
            .filter(|v| v.is_finite() && *v > 0.0)
            .collect();
        if x.len() < 2 {
            return Err(DistError(format!(
                "need at least two positive values to fit, got {}",
                x.len()
            )));
        }
        x.sort_by(f64::total_cmp);
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let logs: Vec<f64> = x.iter().map(|v| v.ln()).collect();
        let mean_log = logs.iter().sum::<f64>() / n;
        let q = |v: f64| Quantity::<U>::new(v);
        let mut out = Vec::new();
        let mut push = |spec: DistSpec<U>| {
            if let Ok(dist) = spec.resolve() {
                let ks = ks_distance(&x, &dist);
                if ks.is_finite() {
                    out.push(Fitted { spec, dist, ks });
                }
            }
        };

        // Log-normal: the mean and standard deviation of the logs.
        let var_log = logs.iter().map(|l| (l - mean_log).powi(2)).sum::<f64>() / n;
        push(DistSpec::LogNormal(LogNormalSpec {
            p10: None,
            p25: None,
            p50: Some(q(round_sig(mean_log.exp(), 4))),
            p75: None,
            p90: None,
            p99: None,
            mean: None,
            sigma: Some(round_sig(var_log.sqrt(), 4)),
        }));

        // Exponential: the mean.
        push(DistSpec::Exponential {
            mean: q(round_sig(mean, 4)),
        });

        // Gamma: Minka's closed-form start, then Newton steps on the profile likelihood.
        let s = (mean.ln() - mean_log).max(1e-12);
        let mut k = (3.0 - s + ((s - 3.0).powi(2) + 24.0 * s).sqrt()) / (12.0 * s);
        for _ in 0..20 {
            let f = k.ln() - statrs::function::gamma::digamma(k) - s;
            let h = 1e-6 * k;
            let df = ((k + h).ln() - statrs::function::gamma::digamma(k + h) - s - f) / h;
            if df == 0.0 || !df.is_finite() {
                break;
            }
            let next = (k - f / df).max(k / 10.0);
            if (next - k).abs() < 1e-10 * k {
                k = next;
                break;
            }
            k = next;
        }
        if k.is_finite() && k > 0.0 {
            push(DistSpec::Gamma(ShapeSpec {
                shape: round_sig(k, 4),
                scale: None,
                mean: Some(q(round_sig(mean, 4))),
            }));
        }

        // Weibull: solve the shape's likelihood equation by bisection on ln k.
        let g = |k: f64| {
            let (mut sw, mut swl) = (0.0, 0.0);
            for (v, l) in x.iter().zip(&logs) {
                let w = (v / x[x.len() - 1]).powf(k); // scaled to avoid overflow
                sw += w;
                swl += w * l;
            }
            swl / sw - 1.0 / k - mean_log
        };
        let (mut lo, mut hi) = (0.02f64.ln(), 50f64.ln());
        if g(lo.exp()) < 0.0 && g(hi.exp()) > 0.0 {
            for _ in 0..100 {
                let mid = 0.5 * (lo + hi);
                if g(mid.exp()) < 0.0 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let k = (0.5 * (lo + hi)).exp();
            let top = x[x.len() - 1];
            let scale = top * (x.iter().map(|v| (v / top).powf(k)).sum::<f64>() / n).powf(1.0 / k);
            push(DistSpec::Weibull(ShapeSpec {
                shape: round_sig(k, 4),
                scale: Some(q(round_sig(scale, 4))),
                mean: None,
            }));
        }
        out.sort_by(|a, b| a.ks.total_cmp(&b.ks));
        Ok(out)
    }

    /// `spec`, or a mixture with a point mass at zero when a share `zeros` of the data is 0.
    pub fn with_zeros<U: Unit>(spec: DistSpec<U>, zeros: f64) -> DistSpec<U> {
        if zeros <= 0.0 {
            return spec;
        }
        DistSpec::Mixture {
            components: vec![
                Component {
                    weight: round_sig(zeros, 4),
                    dist: DistSpec::Constant {
                        value: Quantity::new(0.0),
                    },
                },
                Component {
                    weight: round_sig(1.0 - zeros, 4),
                    dist: spec,
                },
            ],
        }
    }

    /// `x` rounded to `digits` significant digits (fitted parameters are printed for people).
    pub fn round_sig(x: f64, digits: i32) -> f64 {
        if x == 0.0 || !x.is_finite() {
            return x;
        }
        let m = 10f64.powi(digits - 1 - x.abs().log10().floor() as i32);
        (x * m).round() / m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{SecondsUnit, TokenUnit};
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn spec<U: Unit>(s: &str) -> DistSpec<U> {
        #[derive(Deserialize)]
        #[serde(bound = "")]
        struct W<U: Unit> {
            d: DistSpec<U>,
        }
        toml::from_str::<W<U>>(&format!("d = {s}")).unwrap().d
    }

    fn empirical_quantile(d: &Dist, p: f64, n: usize) -> f64 {
        let mut r = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut v: Vec<f64> = (0..n).map(|_| d.sample(&mut r)).collect();
        v.sort_by(f64::total_cmp);
        v[(p * n as f64) as usize]
    }

    #[test]
    fn lognormal_by_two_quantiles_hits_them() {
        let d = spec::<TokenUnit>(r#"{ dist = "lognormal", p10 = "30M", p90 = "100M" }"#)
            .resolve()
            .unwrap();
        assert!((d.quantile(0.1) / 30e6 - 1.0).abs() < 1e-9);
        assert!((d.quantile(0.9) / 100e6 - 1.0).abs() < 1e-9);
        // And sampling reproduces them within 2% on 200k draws.
        assert!((empirical_quantile(&d, 0.1, 200_000) / 30e6 - 1.0).abs() < 0.02);
        assert!((empirical_quantile(&d, 0.9, 200_000) / 100e6 - 1.0).abs() < 0.02);
    }

    #[test]
    fn lognormal_other_parameterizations_agree() {
        let a = spec::<TokenUnit>(r#"{ dist = "lognormal", median = 1000, sigma = 0.5 }"#)
            .resolve()
            .unwrap();
        let mean = a.mean();
        let b = spec::<TokenUnit>(&format!(
            r#"{{ dist = "lognormal", mean = {mean}, sigma = 0.5 }}"#
        ))
        .resolve()
        .unwrap();
        assert!((b.quantile(0.5) - 1000.0).abs() < 1e-6);
        let c = spec::<TokenUnit>(&format!(
            r#"{{ dist = "lognormal", mean = {mean}, p50 = 1000 }}"#
        ))
        .resolve()
        .unwrap();
        assert!((c.quantile(0.9) - a.quantile(0.9)).abs() < 1e-6);
    }

    #[test]
    fn pareto_tail_and_truncation() {
        let d = spec::<TokenUnit>(r#"{ dist = "pareto", min = "1M", alpha = 1.5 }"#)
            .resolve()
            .unwrap();
        // P(X > x) = (min/x)^alpha: the 0.99 quantile is min * 100^(1/1.5).
        assert!((d.quantile(0.99) / (1e6 * 100f64.powf(1.0 / 1.5)) - 1.0).abs() < 1e-9);
        assert!((d.mean() - 3e6).abs() < 1.0);
        let t = spec::<TokenUnit>(r#"{ dist = "pareto", min = "1M", alpha = 1.5, max = "10M" }"#)
            .resolve()
            .unwrap();
        let mut r = Xoshiro256PlusPlus::seed_from_u64(1);
        let n = 200_000;
        let m: f64 = (0..n).map(|_| t.sample(&mut r)).sum::<f64>() / n as f64;
        assert!((m / t.mean() - 1.0).abs() < 0.01, "{m} vs {}", t.mean());
        assert!(t.quantile(0.999_999) <= 10e6 * (1.0 + 1e-9));
    }

    #[test]
    fn bare_values_are_constants_and_units_apply() {
        let d = spec::<SecondsUnit>(r#""10s""#).resolve().unwrap();
        assert_eq!(d.sample(&mut Xoshiro256PlusPlus::seed_from_u64(0)), 10.0);
        let e = spec::<SecondsUnit>(r#"{ dist = "exponential", mean = "2min" }"#)
            .resolve()
            .unwrap();
        assert_eq!(e.mean(), 120.0);
    }

    #[test]
    fn bad_specs_explain_themselves() {
        let e = spec::<TokenUnit>(r#"{ dist = "lognormal", p10 = "30M" }"#)
            .resolve()
            .unwrap_err();
        assert!(e.0.contains("exactly two"), "{e}");
        let e = spec::<TokenUnit>(r#"{ dist = "lognormal", p10 = "100M", p90 = "30M" }"#)
            .resolve()
            .unwrap_err();
        assert!(e.0.contains("must be larger"), "{e}");
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct W {
            d: DistSpec<TokenUnit>,
        }
        let e = toml::from_str::<W>(r#"d = { dist = "cauchy", x = 1 }"#).unwrap_err();
        assert!(e.to_string().contains("unknown variant `cauchy`"), "{e}");
        let e = toml::from_str::<W>(r#"d = { dist = "pareto", min = 1, alpha = 2, typo = 3 }"#)
            .unwrap_err();
        assert!(e.to_string().contains("unknown field `typo`"), "{e}");
    }

    #[test]
    fn weibull_and_gamma_by_scale_or_mean() {
        let w = spec::<TokenUnit>(r#"{ dist = "weibull", shape = 1.5, scale = 1000 }"#)
            .resolve()
            .unwrap();
        // P(X > scale) = 1/e.
        assert!((w.cdf(1000.0) - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
        assert!((w.quantile(w.cdf(1234.0)) - 1234.0).abs() < 1e-6);
        let wm = spec::<TokenUnit>(&format!(
            r#"{{ dist = "weibull", shape = 1.5, mean = {} }}"#,
            w.mean()
        ))
        .resolve()
        .unwrap();
        assert!((wm.quantile(0.5) - w.quantile(0.5)).abs() < 1e-6);
        let g = spec::<SecondsUnit>(r#"{ dist = "gamma", shape = 2.0, mean = "10s" }"#)
            .resolve()
            .unwrap();
        assert_eq!(g.mean(), 10.0);
        assert!((g.cdf(g.quantile(0.9)) - 0.9).abs() < 1e-6);
        for d in [&w, &g] {
            let mut r = Xoshiro256PlusPlus::seed_from_u64(3);
            let n = 200_000;
            let m: f64 = (0..n).map(|_| d.sample(&mut r)).sum::<f64>() / n as f64;
            assert!((m / d.mean() - 1.0).abs() < 0.01, "{m} vs {}", d.mean());
            assert!((empirical_quantile(d, 0.9, n) / d.quantile(0.9) - 1.0).abs() < 0.02);
        }
        let e = spec::<TokenUnit>(r#"{ dist = "gamma", shape = 2.0 }"#)
            .resolve()
            .unwrap_err();
        assert!(e.0.contains("exactly one of `scale`, `mean`"), "{e}");
    }

    #[test]
    fn empirical_interpolates_and_reads_csv_columns() {
        let d = spec::<TokenUnit>(r#"{ dist = "empirical", values = [30, 10, 20, 40] }"#)
            .resolve()
            .unwrap();
        assert_eq!(d.quantile(0.0), 10.0);
        assert_eq!(d.quantile(0.5), 25.0);
        assert_eq!(d.mean(), 25.0);
        assert!((d.cdf(25.0) - 0.5).abs() < 1e-12);
        let dir = std::env::temp_dir().join(format!("tf-dist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("x.csv"), "a,b\n1,5\n2,7\n3,x\n").unwrap();
        let ok = spec::<TokenUnit>(r#"{ dist = "empirical", file = "x.csv", column = "a" }"#)
            .resolve_in(Some(&dir))
            .unwrap();
        assert_eq!(ok.mean(), 2.0);
        let e = spec::<TokenUnit>(r#"{ dist = "empirical", file = "x.csv", column = "b" }"#)
            .resolve_in(Some(&dir))
            .unwrap_err();
        assert!(e.0.contains("line 4") && e.0.contains("\"x\""), "{e}");
        let e = spec::<TokenUnit>(r#"{ dist = "empirical", file = "x.csv", column = "c" }"#)
            .resolve_in(Some(&dir))
            .unwrap_err();
        assert!(e.0.contains("no column `c`") && e.0.contains("a, b"), "{e}");
        let e = spec::<TokenUnit>(r#"{ dist = "empirical", file = "nope.csv", column = "a" }"#)
            .resolve_in(Some(&dir))
            .unwrap_err();
        assert!(e.0.contains("nope.csv"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn mixtures_weight_their_components() {
        let d = spec::<SecondsUnit>(
            r#"{ dist = "mixture", components = [
                { weight = 3, dist = "constant", value = "1s" },
                { weight = 1, dist = "exponential", mean = "100s" },
            ] }"#,
        )
        .resolve()
        .unwrap();
        assert!((d.mean() - (0.75 + 25.0)).abs() < 1e-9);
        assert!((d.cdf(1.0) - (0.75 + 0.25 * (1.0 - (-0.01f64).exp()))).abs() < 1e-12);
        let q = d.quantile(0.9);
        assert!((d.cdf(q) - 0.9).abs() < 1e-9, "{q}");
        let mut r = Xoshiro256PlusPlus::seed_from_u64(5);
        let n = 100_000;
        let ones = (0..n).filter(|_| d.sample(&mut r) == 1.0).count() as f64 / n as f64;
        assert!((ones - 0.75).abs() < 0.01, "{ones}");
        let e = spec::<SecondsUnit>(
            r#"{ dist = "mixture", components = [{ weight = 1, dist = "exponential", mean = "0s" }] }"#,
        )
        .resolve()
        .unwrap_err();
        assert!(e.0.contains("component 0"), "{e}");
    }

    #[test]
    fn specs_serialize_back_to_what_they_parse_from() {
        for text in [
            r#"{ dist = "weibull", shape = 1.5, scale = "1000" }"#,
            r#"{ dist = "gamma", shape = 2.0, mean = "500" }"#,
            r#"{ dist = "empirical", values = [1.0, 2.0] }"#,
            r#"{ dist = "mixture", components = [{ weight = 0.5, dist = "constant", value = "0" }, { weight = 0.5, dist = "lognormal", p50 = "10", sigma = 1.0 }] }"#,
        ] {
            let a = spec::<TokenUnit>(text);
            #[derive(Serialize, Deserialize)]
            #[serde(bound = "")]
            struct W<U: Unit> {
                d: DistSpec<U>,
            }
            let back = toml::to_string(&W { d: a.clone() }).unwrap();
            let b: W<TokenUnit> = toml::from_str(&back).unwrap();
            assert_eq!(format!("{a:?}"), format!("{:?}", b.d), "{back}");
        }
    }

    #[test]
    fn specs_print_as_inline_toml_with_dist_first() {
        let d = spec::<SecondsUnit>(
            r#"{ dist = "mixture", components = [{ weight = 0.5, dist = "lognormal", p50 = "10s", sigma = 1.0 }, { weight = 0.5, dist = "constant", value = "0s" }] }"#,
        );
        let text = d.to_toml();
        assert!(text.starts_with("{ dist = \"mixture\""), "{text}");
        assert!(
            text.contains("{ dist = \"lognormal\", p50 = \"10s\", sigma = 1.0, weight = 0.5 }"),
            "{text}"
        );
        let back = spec::<SecondsUnit>(&text);
        assert_eq!(format!("{back:?}"), format!("{d:?}"));
    }

    #[test]
    fn fits_recover_their_parameters() {
        let mut r = Xoshiro256PlusPlus::seed_from_u64(11);
        let truth = spec::<TokenUnit>(r#"{ dist = "lognormal", median = 1000, sigma = 0.8 }"#)
            .resolve()
            .unwrap();
        let xs: Vec<f64> = (0..20_000).map(|_| truth.sample(&mut r)).collect();
        let fits = fit::fit::<TokenUnit>(&xs).unwrap();
        assert!(matches!(fits[0].spec, DistSpec::LogNormal(_)), "{fits:?}");
        assert!((fits[0].dist.quantile(0.5) / 1000.0 - 1.0).abs() < 0.03);
        assert!(fits[0].ks < 0.02);
        let truth = spec::<TokenUnit>(r#"{ dist = "weibull", shape = 0.7, scale = 500 }"#)
            .resolve()
            .unwrap();
        let xs: Vec<f64> = (0..20_000).map(|_| truth.sample(&mut r)).collect();
        let fits = fit::fit::<TokenUnit>(&xs).unwrap();
        let DistSpec::Weibull(w) = &fits[0].spec else {
            panic!("{fits:?}")
        };
        assert!((w.shape - 0.7).abs() < 0.03, "{w:?}");
        let truth = spec::<TokenUnit>(r#"{ dist = "gamma", shape = 3.0, scale = 100 }"#)
            .resolve()
            .unwrap();
        let xs: Vec<f64> = (0..20_000).map(|_| truth.sample(&mut r)).collect();
        let fits = fit::fit::<TokenUnit>(&xs).unwrap();
        let DistSpec::Gamma(g) = &fits[0].spec else {
            panic!("{fits:?}")
        };
        assert!((g.shape - 3.0).abs() < 0.15, "{g:?}");
        assert!(fit::fit::<TokenUnit>(&[0.0, 1.0]).is_err());
    }
}
