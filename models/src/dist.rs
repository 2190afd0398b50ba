//! Distributions of the random quantities in a scenario.
//!
//! A scenario writes a distribution as a table tagged by `dist`, in the units of the field it
//! belongs to, e.g. `budget = { dist = "lognormal", p10 = "30M", p90 = "100M" }` or
//! `tool_gap = { dist = "exponential", mean = "10s" }`; a bare value is a constant
//! (`system_tokens = "25k"`). [`DistSpec`] is that written form; [`DistSpec::resolve`] checks it
//! and turns it into a [`Dist`], which samples with a caller-supplied generator and answers
//! means and quantiles in closed form (for validation and for sizing a run before it starts).
//!
//! Log-normal accepts any two of its quantiles, its median, its mean and its sigma, because
//! people describe heavy tails by their spread ("p10 = 30M, p90 = 100M") more often than by
//! mu and sigma.

use std::fmt;
use std::marker::PhantomData;

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
}

/// The standard normal quantile z_p.
pub fn z(p: f64) -> f64 {
    Normal::standard().inverse_cdf(p)
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

impl<U: Unit> DistSpec<U> {
    /// Checks the parameters and builds the sampler.
    pub fn resolve(&self) -> Result<Dist, DistError> {
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
        })
    }
}

impl Dist {
    /// Draws one value.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::LogNormal { sampler, .. } => sampler.sample(rng),
            Dist::Exponential { mean } => -mean * (1.0 - unit(rng)).ln(),
            Dist::Uniform { min, max } => min + (max - min) * unit(rng),
            Dist::Pareto { .. } => self.quantile(unit(rng)),
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
        }

        struct V<U>(PhantomData<U>);
        impl<'de, U: Unit> Visitor<'de> for V<U> {
            type Value = DistSpec<U>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "a {} or a distribution table {{ dist = \"constant\" | \"lognormal\" | \"pareto\" | \"exponential\" | \"uniform\", ... }}",
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
                })
            }
        }
        d.deserialize_any(V(PhantomData))
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
}
