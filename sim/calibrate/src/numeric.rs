//! Pure numerics the fits are made of: quantiles, weighted least squares, Nelder-Mead and
//! golden-section search. Nothing here knows what is fitted; every method is deterministic
//! (fixed starts, fixed iteration counts, no randomness), so a calibration is reproducible.

/// Median and 90th percentile of `v` (0 for an empty set).
pub fn median_p90(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let x = p * (s.len() - 1) as f64;
        let (i, f) = (x.floor() as usize, x - x.floor());
        if i + 1 < s.len() {
            s[i] * (1.0 - f) + s[i + 1] * f
        } else {
            s[i]
        }
    };
    (q(0.5), q(0.9))
}

/// Least squares of `y` on the columns of `x` with weights `w` (normal equations, Gaussian
/// elimination; the systems here are 2x2 or 3x3).
pub fn weighted_least_squares(x: &[Vec<f64>], y: &[f64], w: &[f64]) -> Option<Vec<f64>> {
    let k = x.first()?.len();
    let mut a = vec![vec![0.0; k + 1]; k];
    for ((row, &yi), &wi) in x.iter().zip(y).zip(w) {
        for i in 0..k {
            for j in 0..k {
                a[i][j] += wi * row[i] * row[j];
            }
            a[i][k] += wi * row[i] * yi;
        }
    }
    for col in 0..k {
        let pivot = (col..k).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        a.swap(col, pivot);
        if a[col][col].abs() < 1e-300 {
            return None;
        }
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (x, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    Some((0..k).map(|i| a[i][k] / a[i][i]).collect())
}

/// Nelder-Mead minimisation of `f` from `x0` with initial steps `step`, `iters` iterations.
/// Deterministic; returns the best point and value.
pub fn nelder_mead(
    f: &dyn Fn(&[f64]) -> f64,
    x0: &[f64],
    step: f64,
    iters: usize,
) -> (Vec<f64>, f64) {
    let n = x0.len();
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n + 1);
    simplex.push((x0.to_vec(), f(x0)));
    for i in 0..n {
        let mut x = x0.to_vec();
        x[i] += step;
        let v = f(&x);
        simplex.push((x, v));
    }
    let combine = |a: &[f64], b: &[f64], t: f64| -> Vec<f64> {
        a.iter().zip(b).map(|(a, b)| a + t * (b - a)).collect()
    };
    for _ in 0..iters {
        if tokenfleet_engine::interrupt::requested() {
            break;
        }
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let centroid: Vec<f64> = (0..n)
            .map(|j| simplex[..n].iter().map(|p| p.0[j]).sum::<f64>() / n as f64)
            .collect();
        let worst = simplex[n].clone();
        let reflected = combine(&centroid, &worst.0, -1.0);
        let fr = f(&reflected);
        if fr < simplex[0].1 {
            let expanded = combine(&centroid, &worst.0, -2.0);
            let fe = f(&expanded);
            simplex[n] = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
        } else if fr < simplex[n - 1].1 {
            simplex[n] = (reflected, fr);
        } else {
            let contracted = if fr < worst.1 {
                combine(&centroid, &reflected, 0.5)
            } else {
                combine(&centroid, &worst.0, 0.5)
            };
            let fc = f(&contracted);
            if fc < worst.1.min(fr) {
                simplex[n] = (contracted, fc);
            } else {
                let best = simplex[0].0.clone();
                for p in simplex.iter_mut().skip(1) {
                    p.0 = combine(&best, &p.0, 0.5);
                    p.1 = f(&p.0);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    simplex.swap_remove(0)
}

/// Golden-section search for the minimum of a unimodal `f` on `[lo, hi]`, narrowing the
/// bracket until it is at most `tol` wide; returns the last bracket's midpoint. The first
/// error of `f` ends the search.
pub fn golden_section<E>(
    f: impl Fn(f64) -> Result<f64, E>,
    lo: f64,
    hi: f64,
    tol: f64,
) -> Result<f64, E> {
    let phi = (5f64.sqrt() - 1.0) / 2.0;
    let (mut lo, mut hi) = (lo, hi);
    let (mut x1, mut x2) = (hi - phi * (hi - lo), lo + phi * (hi - lo));
    let (mut f1, mut f2) = (f(x1)?, f(x2)?);
    while hi - lo > tol {
        if f1 <= f2 {
            (hi, x2, f2) = (x2, x1, f1);
            x1 = hi - phi * (hi - lo);
            f1 = f(x1)?;
        } else {
            (lo, x1, f1) = (x1, x2, f2);
            x2 = lo + phi * (hi - lo);
            f2 = f(x2)?;
        }
    }
    Ok((lo + hi) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_ranks() {
        let v: Vec<f64> = (1..=11).rev().map(f64::from).collect();
        assert_eq!(median_p90(&v), (6.0, 10.0));
        let (m, p) = median_p90(&[2.0, 1.0]);
        assert!(
            (m - 1.5).abs() < 1e-12 && (p - 1.9).abs() < 1e-12,
            "{m} {p}"
        );
        assert_eq!(median_p90(&[]), (0.0, 0.0));
    }

    #[test]
    fn least_squares_recovers_a_line_and_refuses_a_singular_system() {
        let x: Vec<Vec<f64>> = (0..5).map(|i| vec![1.0, f64::from(i)]).collect();
        let y: Vec<f64> = (0..5).map(|i| 2.0 + 3.0 * f64::from(i)).collect();
        let c = weighted_least_squares(&x, &y, &[1.0; 5]).unwrap();
        assert!(
            (c[0] - 2.0).abs() < 1e-12 && (c[1] - 3.0).abs() < 1e-12,
            "{c:?}"
        );
        let same = vec![vec![1.0, 1.0]; 3];
        assert_eq!(weighted_least_squares(&same, &[1.0; 3], &[1.0; 3]), None);
        assert_eq!(weighted_least_squares(&[], &[], &[]), None);
    }

    #[test]
    fn nelder_mead_finds_the_minimum_of_a_bowl_deterministically() {
        let f = |z: &[f64]| (z[0] - 1.0).powi(2) + 10.0 * (z[1] + 2.0).powi(2);
        let (x, v) = nelder_mead(&f, &[0.0, 0.0], 0.5, 200);
        assert!(
            (x[0] - 1.0).abs() < 1e-3 && (x[1] + 2.0).abs() < 1e-3,
            "{x:?}"
        );
        assert!(v < 1e-6);
        assert_eq!(nelder_mead(&f, &[0.0, 0.0], 0.5, 200), (x, v));
    }

    #[test]
    fn golden_section_brackets_the_minimum_and_stops_at_the_first_error() {
        let x = golden_section(|x| Ok::<_, ()>((x - 0.7) * (x - 0.7)), 0.2, 1.5, 1e-6).unwrap();
        assert!((x - 0.7).abs() < 1e-5, "{x}");
        let calls = std::cell::Cell::new(0);
        let e = golden_section(
            |_| {
                calls.set(calls.get() + 1);
                Err("no")
            },
            0.0,
            1.0,
            1e-3,
        );
        assert_eq!(e, Err("no"));
        assert_eq!(calls.get(), 1);
    }
}
