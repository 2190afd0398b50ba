//! Closed-form runs of identical batch iterations.
//!
//! Between two events that change a replica's batch (an admission, a prefill finishing, a
//! sequence completing) every iteration processes the same sequences with the same chunk
//! sizes. Only the context lengths grow, by a fixed number of tokens per iteration, so the
//! attention pairs and the KV bytes read grow linearly in the iteration index `i`:
//!
//! ```text
//! t(i) = max(c0 + c1*i, m0 + m1*i) + fixed
//! ```
//!
//! The time of the first `k` iterations is a sum of two arithmetic series split where the
//! compute and memory lines cross, so an [`Epoch`] answers "when does iteration k end" in O(1)
//! and "how many iterations are done by time t" by a binary search over that, instead of
//! simulating iterations one by one. This is what keeps tokenfleet at a handful of events per
//! LLM call. `tests` compares it against stepping iteration by iteration.

use tokenfleet_models::perf::IterationCost;

/// A run of `iters` identical iterations starting at `start_ns`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Epoch {
    pub start_ns: u64,
    /// Iterations planned before the batch changes (the next milestone).
    pub iters: u64,
    /// compute(i) = c0 + c1 i (seconds).
    pub c0: f64,
    pub c1: f64,
    /// memory(i) = m0 + m1 i (seconds).
    pub m0: f64,
    pub m1: f64,
    /// Fixed seconds per iteration.
    pub fixed: f64,
    /// Where the compute and memory lines cross, as the first index of the second line's
    /// reign (see [`Epoch::roofline_sum`]), unclamped: computed once here because every
    /// `end_ns` of an arrival's search needs it.
    cross: u64,
}

/// Sum of a + b*i for i in [p, q).
#[inline]
fn lin_sum(a: f64, b: f64, p: u64, q: u64) -> f64 {
    if q <= p {
        return 0.0;
    }
    let n = (q - p) as f64;
    n * a + b * (p + q - 1) as f64 * n / 2.0
}

impl Epoch {
    /// Builds an epoch from the cost coefficients and the batch's attention pairs and context
    /// tokens read at iteration 0 and their growth per iteration.
    pub fn new(
        start_ns: u64,
        iters: u64,
        cost: &IterationCost,
        pairs0: f64,
        pairs_step: f64,
        ctx0: f64,
        ctx_step: f64,
    ) -> Epoch {
        Epoch::from_lines(
            start_ns,
            iters,
            cost.compute_base + cost.compute_per_pair * pairs0,
            cost.compute_per_pair * pairs_step,
            cost.memory_base + cost.memory_per_ctx_token * ctx0,
            cost.memory_per_ctx_token * ctx_step,
            cost.fixed,
        )
    }

    /// An epoch whose iteration `i` takes `max(c0 + c1 i, m0 + m1 i) + fixed` seconds.
    pub fn from_lines(
        start_ns: u64,
        iters: u64,
        c0: f64,
        c1: f64,
        m0: f64,
        m1: f64,
        fixed: f64,
    ) -> Epoch {
        let cross = if c1 == m1 {
            0
        } else {
            let x = (m0 - c0) / (c1 - m1);
            let j = if c1 > m1 { x.ceil() } else { x.floor() + 1.0 };
            if j.is_nan() || j <= 0.0 {
                0
            } else if j >= u64::MAX as f64 {
                u64::MAX
            } else {
                j as u64
            }
        };
        Epoch {
            start_ns,
            iters,
            c0,
            c1,
            m0,
            m1,
            fixed,
            cross,
        }
    }

    /// Seconds of `max(compute, memory)` over the first `k` iterations: one arithmetic series
    /// on each side of the lines' crossing.
    #[inline]
    fn roofline_sum(&self, k: u64) -> f64 {
        let (a, b, c, d) = (self.c0, self.c1, self.m0, self.m1);
        if b == d {
            return if a >= c {
                lin_sum(a, b, 0, k)
            } else {
                lin_sum(c, d, 0, k)
            };
        }
        let j = self.cross.min(k);
        if b > d {
            // compute >= memory for i >= the crossing
            lin_sum(c, d, 0, j) + lin_sum(a, b, j, k)
        } else {
            // compute >= memory below the crossing
            lin_sum(a, b, 0, j) + lin_sum(c, d, j, k)
        }
    }

    /// Seconds taken by the first `k` iterations.
    #[inline]
    pub fn elapsed(&self, k: u64) -> f64 {
        self.roofline_sum(k) + self.fixed * k as f64
    }

    /// Roofline-bound seconds of the first `k` iterations (the part that draws power above
    /// idle; fixed overheads excluded).
    #[inline]
    pub fn active(&self, k: u64) -> f64 {
        self.roofline_sum(k)
    }

    /// The end of iteration `k`, in nanoseconds.
    #[inline]
    pub fn end_ns(&self, k: u64) -> u64 {
        self.start_ns + (self.elapsed(k) * 1e9).round() as u64
    }

    /// The number of whole iterations finished by `t_ns` (at most `iters`).
    ///
    /// The iterations of an epoch differ only by their growing contexts, so the mean
    /// iteration time guesses the answer to within a few; galloping from the guess brackets it
    /// and bisection finishes: a handful of evaluations instead of log2(iters) (this is called
    /// on every arrival at a busy replica).
    pub fn done_by(&self, t_ns: u64) -> u64 {
        if t_ns <= self.start_ns {
            return 0;
        }
        let n = self.iters;
        let end = self.end_ns(n);
        if end <= t_ns {
            return n;
        }
        // Invariant: end_ns(lo) <= t < end_ns(hi); end_ns(0) = start <= t.
        let span = (end - self.start_ns).max(1) as u128;
        let guess = ((t_ns - self.start_ns) as u128 * n as u128 / span) as u64;
        let (mut lo, mut hi);
        let mut step = 1;
        if self.end_ns(guess) <= t_ns {
            lo = guess;
            loop {
                let probe = lo + step;
                if probe >= n {
                    hi = n;
                    break;
                }
                if self.end_ns(probe) <= t_ns {
                    lo = probe;
                    step *= 2;
                } else {
                    hi = probe;
                    break;
                }
            }
        } else {
            hi = guess;
            loop {
                if hi <= step {
                    lo = 0;
                    break;
                }
                let probe = hi - step;
                if self.end_ns(probe) <= t_ns {
                    lo = probe;
                    break;
                }
                hi = probe;
                step *= 2;
            }
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.end_ns(mid) <= t_ns {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The reference: iterate one by one.
    pub(crate) fn stepped(e: &Epoch, k: u64) -> f64 {
        (0..k)
            .map(|i| {
                let i = i as f64;
                (e.c0 + e.c1 * i).max(e.m0 + e.m1 * i) + e.fixed
            })
            .sum()
    }

    fn epoch(c0: f64, c1: f64, m0: f64, m1: f64) -> Epoch {
        Epoch::from_lines(1_000, 500, c0, c1, m0, m1, 0.002)
    }

    #[test]
    fn matches_stepping_through_crossovers() {
        let cases = [
            epoch(0.010, 0.0, 0.005, 0.0),    // compute-bound flat
            epoch(0.005, 0.0, 0.010, 0.0),    // memory-bound flat
            epoch(0.004, 0.0, 0.002, 2e-5),   // memory overtakes compute at i=100
            epoch(0.002, 3e-5, 0.004, 1e-5),  // compute overtakes memory at i=100
            epoch(0.004, 1e-5, 0.004, 1e-5),  // equal lines
            epoch(0.004, 1e-5, 0.0041, 1e-5), // parallel lines
            epoch(0.0, 0.0, 0.0, 0.0),        // only fixed cost
        ];
        for e in cases {
            for k in [0, 1, 2, 99, 100, 101, 257, 500] {
                let closed = e.elapsed(k);
                let step = stepped(&e, k);
                assert!(
                    (closed - step).abs() < 1e-9,
                    "{e:?} k={k}: {closed} vs {step}"
                );
            }
        }
    }

    #[test]
    fn done_by_inverts_end() {
        let e = epoch(0.004, 0.0, 0.002, 2e-5);
        for k in [0u64, 1, 50, 100, 499, 500] {
            let t = e.end_ns(k);
            assert_eq!(e.done_by(t), k, "exactly at the end of iteration {k}");
            if k > 0 {
                assert_eq!(
                    e.done_by(t - 1),
                    k - 1,
                    "just before the end of iteration {k}"
                );
            }
        }
        assert_eq!(e.done_by(u64::MAX / 2), 500);
        assert_eq!(e.done_by(0), 0);
    }

    #[test]
    fn done_by_agrees_with_a_scan_of_every_iteration() {
        // The galloping search must find what a scan finds, including far from its guess
        // (steeply growing memory lines make the mean iteration time a poor guess).
        let cases = [
            epoch(0.004, 0.0, 0.002, 2e-5),
            epoch(0.002, 3e-5, 0.004, 1e-5),
            epoch(0.0001, 0.0, 0.0001, 1e-4),
            epoch(0.0, 0.0, 0.0, 0.0),
        ];
        for e in cases {
            let ends: Vec<u64> = (0..=e.iters).map(|k| e.end_ns(k)).collect();
            let last = *ends.last().unwrap();
            let mut t = e.start_ns;
            while t <= last + 10 {
                let scan = ends.iter().rposition(|&end| end <= t).unwrap() as u64;
                assert_eq!(e.done_by(t), scan.min(e.iters), "{e:?} at t={t}");
                t += 997_331;
            }
        }
    }
}
