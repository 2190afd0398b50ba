//! Fitting distributions to data.
//!
//! The parametric families are fitted by maximum likelihood and ranked by their
//! Kolmogorov-Smirnov distance to the data, which reads directly as the largest gap between
//! the data's CDF and the fit's. Fitted parameters are rounded to four significant digits:
//! they are printed for people, as a scenario fragment.

use super::sampling::Dist;
use super::spec::{Component, DistError, DistSpec, LogNormalSpec, ShapeSpec};
use crate::units::{Quantity, Unit};

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
    let n = v.len();
    // The same piecewise-linear quantile as an empirical distribution's.
    let q = |p: f64| {
        if n == 0 {
            return 0.0;
        }
        let h = p * (n - 1) as f64;
        let i = (h.floor() as usize).min(n - 1);
        let j = (i + 1).min(n - 1);
        v[i] + (v[j] - v[i]) * (h - i as f64)
    };
    Stats {
        n,
        mean: v.iter().sum::<f64>() / n.max(1) as f64,
        p10: q(0.10),
        p50: q(0.50),
        p90: q(0.90),
        p99: q(0.99),
        zeros: v.iter().filter(|x| **x == 0.0).count() as f64 / n.max(1) as f64,
    }
}

/// Ranks at which [`ks_distance`] evaluates the fit on a large sample.
///
/// Why: a trace of ten million requests gives ten million values per quantity, and the four
/// fits' CDFs at every one of them was most of `tokenfleet fit`'s time. Between two evaluated
/// ranks the data's CDF moves by at most 1/KS_RANKS and the fit's by its own increment, so
/// the distance found is below the exact one by at most that much: under 2e-4 at 8192 ranks,
/// well below the 3 decimals printed and the gaps between the fits being ranked.
pub const KS_RANKS: usize = 8192;

/// The KS distance between sorted data and a distribution (sampled at [`KS_RANKS`] evenly
/// spaced ranks when there are more values than that).
pub fn ks_distance(sorted: &[f64], d: &Dist) -> f64 {
    let n = sorted.len();
    let nf = n as f64;
    let at = |i: usize| {
        let f = d.cdf(sorted[i]);
        (f - i as f64 / nf)
            .abs()
            .max(((i + 1) as f64 / nf - f).abs())
    };
    if n <= KS_RANKS {
        return (0..n).map(at).fold(0.0, f64::max);
    }
    (0..KS_RANKS)
        .map(|j| at(j * (n - 1) / (KS_RANKS - 1)))
        .fold(0.0, f64::max)
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

    // Weibull: the shape's likelihood equation by safeguarded Newton steps.
    if let Some((k, scale)) = weibull_mle(&x, &logs, mean_log, var_log) {
        push(DistSpec::Weibull(ShapeSpec {
            shape: round_sig(k, 4),
            scale: Some(q(round_sig(scale, 4))),
            mean: None,
        }));
    }
    out.sort_by(|a, b| a.ks.total_cmp(&b.ks));
    Ok(out)
}

/// The Weibull maximum-likelihood (shape, scale) of sorted positive `x` with logs `logs`, or
/// None when the shape is outside 0.02-50.
///
/// The shape solves g(k) = sum(w ln x)/sum(w) - 1/k - mean(ln x) = 0 with w = x^k, which
/// increases in k. Why Newton rather than bisection: each evaluation is a pass over the data,
/// and bisection's 100 passes of `powf` were most of `tokenfleet fit`'s time on a ten-million
/// request trace; Newton from the log-moment start (var ln x = pi^2 / 6k^2) takes about six,
/// and falls back to bisecting its bracket whenever a step would leave it.
fn weibull_mle(x: &[f64], logs: &[f64], mean_log: f64, var_log: f64) -> Option<(f64, f64)> {
    let top = *logs.last()?;
    // Powers scaled by the largest value, so they cannot overflow: w = exp(k (ln x - ln top)).
    let sums = |k: f64| {
        let (mut sw, mut swu, mut swuu) = (0.0, 0.0, 0.0);
        for l in logs {
            let u = l - top;
            let w = (k * u).exp();
            sw += w;
            swu += w * u;
            swuu += w * u * u;
        }
        (sw, swu, swuu)
    };
    let target = mean_log - top;
    let g = |k: f64| {
        let (sw, swu, swuu) = sums(k);
        let v = swu / sw - 1.0 / k - target;
        let dv = (swuu * sw - swu * swu) / (sw * sw) + 1.0 / (k * k);
        (v, dv)
    };
    let (mut lo, mut hi) = (0.02f64, 50f64);
    if g(lo).0 >= 0.0 || g(hi).0 <= 0.0 {
        return None;
    }
    let mut k = (std::f64::consts::PI / (6.0 * var_log).sqrt()).clamp(lo, hi);
    if !k.is_finite() {
        k = 1.0;
    }
    for _ in 0..200 {
        let (v, dv) = g(k);
        if v < 0.0 {
            lo = k;
        } else {
            hi = k;
        }
        let newton = k - v / dv;
        let next = if newton.is_finite() && newton > lo && newton < hi {
            newton
        } else {
            (lo * hi).sqrt()
        };
        let done = (next - k).abs() <= 1e-10 * k || hi - lo <= 1e-10 * k;
        k = next;
        if done {
            break;
        }
    }
    let n = x.len() as f64;
    let scale = x[x.len() - 1] * (sums(k).0 / n).powf(1.0 / k);
    Some((k, scale))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::fit;
    use crate::dist::testing::spec;
    use crate::units::TokenUnit;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

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

    #[test]
    fn sampled_ks_is_within_its_stated_error_of_the_exact_one() {
        let truth = spec::<TokenUnit>(r#"{ dist = "lognormal", p50 = 1000, sigma = 1.0 }"#)
            .resolve()
            .unwrap();
        let fitted = spec::<TokenUnit>(r#"{ dist = "gamma", shape = 1.2, mean = 1600 }"#)
            .resolve()
            .unwrap();
        let mut r = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut xs: Vec<f64> = (0..200_000).map(|_| truth.sample(&mut r)).collect();
        xs.sort_by(f64::total_cmp);
        let n = xs.len() as f64;
        let exact = xs
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let f = fitted.cdf(*x);
                (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
            })
            .fold(0.0, f64::max);
        let sampled = fit::ks_distance(&xs, &fitted);
        assert!(sampled <= exact + 1e-15, "{sampled} > {exact}");
        assert!(
            exact - sampled < 2.0 / fit::KS_RANKS as f64,
            "{exact} vs {sampled}"
        );
    }
}
