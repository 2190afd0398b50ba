//! Resolution: checking a written [`DistSpec`] and building the [`Dist`] that samples it.
//!
//! Every check happens here, once, before a run starts, so that sampling in the simulator's
//! hot loop never meets an invalid parameter; the messages name the offending parameter
//! (and, in a mixture, its component) because they are shown to the person who wrote it.

use std::path::Path;

use super::sampling::Dist;
use super::spec::{DistError, DistSpec};
use super::special::weibull_mean_factor;
use crate::units::Unit;

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

#[cfg(test)]
mod tests {
    use crate::dist::testing::spec;
    use crate::units::SecondsUnit;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

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
}
