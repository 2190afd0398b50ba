//! Parameterizations: a log-normal by any two of its quantiles, median, mean and sigma, and a
//! Weibull or gamma by its shape and either its scale or its mean, solved into the parameters
//! the samplers take.
//!
//! Several forms are accepted because people describe heavy tails by their spread ("p10 = 30M,
//! p90 = 100M") more often than by mu and sigma; exactly two log-normal parameters are
//! required, so a spec never silently ignores one it was given.

use super::spec::{DistError, LogNormalSpec, ShapeSpec};
use super::special::z;
use crate::units::Unit;

impl<U: Unit> LogNormalSpec<U> {
    pub(super) fn resolve(&self) -> Result<(f64, f64), DistError> {
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
    pub(super) fn resolve(
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

#[cfg(test)]
mod tests {
    use crate::dist::sampling::Dist;
    use crate::dist::testing::spec;
    use crate::units::{SecondsUnit, TokenUnit};
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

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
}
