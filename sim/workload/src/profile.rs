//! Daily activity profiles: when in the day an agent starts its tasks.
//!
//! A profile is 24 hourly weights in the agents' local time, rotated to UTC by the segment's
//! time zone (the simulated day is UTC, so segments in different zones peak at different
//! simulated hours). Task start times are drawn by inverting the piecewise-uniform CDF.
//!
//! The built-in shapes are assumptions, not measurements: `workday` follows office hours
//! (9:00-18:00 plateau, a lunch dip, an evening tail), `evening` a consumer's after-work peak,
//! `flat` always-on monitors. Users with data should give their own 24 weights.

/// Names and local-time hourly weights of the built-in profiles.
pub const BUILTIN: &[(&str, [f64; 24])] = &[
    ("flat", [1.0; 24]),
    (
        "workday",
        [
            0.10, 0.06, 0.04, 0.04, 0.04, 0.06, 0.15, 0.35, 0.70, 0.95, 1.00, 1.00, //
            0.80, 0.95, 1.00, 1.00, 0.95, 0.85, 0.60, 0.45, 0.40, 0.35, 0.25, 0.15,
        ],
    ),
    (
        "evening",
        [
            0.35, 0.20, 0.10, 0.06, 0.05, 0.05, 0.08, 0.15, 0.25, 0.30, 0.35, 0.40, //
            0.45, 0.45, 0.45, 0.50, 0.55, 0.65, 0.80, 0.95, 1.00, 1.00, 0.85, 0.60,
        ],
    ),
];

/// The names accepted for `profile`.
pub fn builtin_names() -> String {
    BUILTIN
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why hourly weights are not a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// Not one weight per hour.
    #[error("needs 24 hourly weights, got {0}")]
    Hours(usize),
    /// A weight that is negative or not a number.
    #[error("weights must be finite and non-negative")]
    Weight,
    /// No activity at all.
    #[error("at least one weight must be positive")]
    AllZero,
}

/// A normalized daily profile in UTC, as a cumulative distribution over 24 hours.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// cdf[h] = share of the day's activity before UTC hour h; cdf[24] = 1.
    cdf: [f64; 25],
    /// The UTC hourly weights, normalized to sum to 1.
    pub utc_weights: [f64; 24],
}

impl Profile {
    /// Builds a profile from local-time weights and a time zone (hours east of UTC).
    pub fn new(local: &[f64], timezone: i32) -> Result<Profile, ProfileError> {
        if local.len() != 24 {
            return Err(ProfileError::Hours(local.len()));
        }
        if local.iter().any(|w| !w.is_finite() || *w < 0.0) {
            return Err(ProfileError::Weight);
        }
        let total: f64 = local.iter().sum();
        if total <= 0.0 {
            return Err(ProfileError::AllZero);
        }
        let mut utc_weights = [0.0; 24];
        for (h, w) in utc_weights.iter_mut().enumerate() {
            // UTC hour h is local hour h + timezone.
            let local_h = (h as i32 + timezone).rem_euclid(24) as usize;
            *w = local[local_h] / total;
        }
        let mut cdf = [0.0; 25];
        for h in 0..24 {
            cdf[h + 1] = cdf[h] + utc_weights[h];
        }
        cdf[24] = 1.0;
        Ok(Profile { cdf, utc_weights })
    }

    pub fn named(name: &str, timezone: i32) -> Option<Profile> {
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, w)| Profile::new(w, timezone).expect("built-in profiles are valid"))
    }

    /// The second of the UTC day at which a share `u` in [0, 1) of the activity has happened.
    #[inline]
    pub fn inverse(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0 - 1e-15);
        // First hour whose cumulative share exceeds u (skips zero-weight hours).
        let mut h = 0;
        while h < 23 && self.cdf[h + 1] <= u {
            h += 1;
        }
        let w = self.cdf[h + 1] - self.cdf[h];
        let frac = if w > 0.0 { (u - self.cdf[h]) / w } else { 0.0 };
        (h as f64 + frac.clamp(0.0, 1.0)) * 3600.0
    }

    /// Share of the day's activity in UTC hours [0, hours).
    pub fn share_before(&self, hours: f64) -> f64 {
        if hours >= 24.0 {
            return 1.0;
        }
        let h = hours.floor() as usize;
        self.cdf[h] + (hours - h as f64) * self.utc_weights[h]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_follows_the_weights() {
        let p = Profile::named("workday", 0).unwrap();
        let n = 100_000;
        let mut counts = [0usize; 24];
        for i in 0..n {
            let t = p.inverse((i as f64 + 0.5) / n as f64);
            counts[(t / 3600.0) as usize] += 1;
        }
        for (h, c) in counts.iter().enumerate() {
            let share = *c as f64 / n as f64;
            assert!((share - p.utc_weights[h]).abs() < 1e-3, "hour {h}");
        }
    }

    #[test]
    fn time_zones_rotate_the_day() {
        let local = Profile::named("workday", 0).unwrap();
        let tokyo = Profile::named("workday", 9).unwrap();
        // 10:00 local in Tokyo is 01:00 UTC.
        assert_eq!(tokyo.utc_weights[1], local.utc_weights[10]);
    }

    #[test]
    fn rejects_bad_weights() {
        assert_eq!(Profile::new(&[1.0; 23], 0), Err(ProfileError::Hours(23)));
        assert_eq!(Profile::new(&[0.0; 24], 0), Err(ProfileError::AllZero));
        let mut w = [1.0; 24];
        w[3] = f64::NAN;
        assert_eq!(Profile::new(&w, 0), Err(ProfileError::Weight));
        assert_eq!(
            ProfileError::Hours(23).to_string(),
            "needs 24 hourly weights, got 23"
        );
    }
}
