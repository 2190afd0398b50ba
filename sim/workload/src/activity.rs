//! Activity over the simulated horizon: when, hour by hour, a segment's agents work.
//!
//! A [`Profile`] is the shape of one local day. [`Activity`] lays profiles out over the whole
//! horizon in UTC: every simulated hour gets the weight its local hour has in the profile of
//! its local day, a weekday or a weekend day (Saturday and Sunday in the agents' time zone,
//! counted from the scenario's `start` weekday), times the weekend factor on weekend days.
//! Each weekday's weights sum to one, so the horizon's total weight is its length in
//! "weekday equivalents": 1 for a 24-hour weekday run, 1/12-ish for a two-hour one, 5.6 for a
//! week whose weekends run at 30%. An agent's budget for the run is its daily budget times
//! that total, and its task starts are order statistics of this piecewise-uniform density.

use crate::profile::Profile;

/// Days of the week, Monday first (ISO 8601).
pub const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The weekday index (Monday = 0) of a name: full English name or its first three letters,
/// any case.
pub fn weekday(name: &str) -> Option<u32> {
    let n = name.trim().to_ascii_lowercase();
    WEEKDAYS
        .iter()
        .position(|d| *d == n || (n.len() == 3 && d.starts_with(&n)))
        .map(|i| i as u32)
}

/// Activity weights per UTC hour of the horizon.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// cdf[h] = weight before hour h; cdf[hours] = total.
    cdf: Vec<f64>,
    /// Horizon length in seconds.
    horizon_s: f64,
}

impl Activity {
    /// Builds the activity of a horizon of `horizon_s` seconds starting at 00:00 UTC of
    /// weekday `start` (Monday = 0), for agents `timezone` hours east of UTC. `weekday` and
    /// `weekend` are the local-day profiles built with timezone 0 (local hours), and
    /// `weekend_factor` scales weekend days.
    pub fn new(
        weekday: &Profile,
        weekend: &Profile,
        weekend_factor: f64,
        timezone: i32,
        start: u32,
        horizon_s: f64,
    ) -> Activity {
        let hours = (horizon_s / 3600.0).ceil().max(1.0) as usize;
        let mut cdf = Vec::with_capacity(hours + 1);
        cdf.push(0.0);
        let mut acc = 0.0;
        for h in 0..hours {
            let local = h as i64 + timezone as i64;
            let day = local.div_euclid(24);
            let hour = local.rem_euclid(24) as usize;
            let dow = (start as i64 + day).rem_euclid(7);
            let w = if dow >= 5 {
                weekend.utc_weights[hour] * weekend_factor
            } else {
                weekday.utc_weights[hour]
            };
            // The last hour may be cut by the horizon.
            let part = ((horizon_s - h as f64 * 3600.0) / 3600.0).clamp(0.0, 1.0);
            acc += w * part;
            cdf.push(acc);
        }
        Activity { cdf, horizon_s }
    }

    /// Total weight of the horizon, in weekday equivalents.
    pub fn total(&self) -> f64 {
        *self.cdf.last().expect("at least one hour")
    }

    /// The second of the horizon by which a share `u` in [0, 1) of its activity has happened.
    #[inline]
    pub fn inverse(&self, u: f64) -> f64 {
        let total = self.total();
        if total <= 0.0 {
            return self.horizon_s;
        }
        let target = u.clamp(0.0, 1.0 - 1e-15) * total;
        // First hour whose cumulative weight exceeds the target (skips idle hours).
        let hours = self.cdf.len() - 1;
        let h = (self.cdf.partition_point(|c| *c <= target).max(1) - 1).min(hours - 1);
        let w = self.cdf[h + 1] - self.cdf[h];
        let frac = if w > 0.0 {
            ((target - self.cdf[h]) / w).clamp(0.0, 1.0)
        } else {
            0.0
        };
        // Within a cut last hour the weight covers only its first part.
        let len = (self.horizon_s - h as f64 * 3600.0).clamp(0.0, 3600.0);
        (h as f64 * 3600.0 + frac * len).min(self.horizon_s)
    }

    /// Share of the horizon's activity before second `s`.
    pub fn share_before(&self, s: f64) -> f64 {
        let total = self.total();
        if total <= 0.0 || s >= self.horizon_s {
            return 1.0;
        }
        let s = s.max(0.0);
        let h = (s / 3600.0).floor() as usize;
        let len = (self.horizon_s - h as f64 * 3600.0).clamp(1e-9, 3600.0);
        let frac = ((s - h as f64 * 3600.0) / len).clamp(0.0, 1.0);
        (self.cdf[h] + frac * (self.cdf[h + 1] - self.cdf[h])) / total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat() -> Profile {
        Profile::named("flat", 0).unwrap()
    }

    #[test]
    fn a_weekday_is_one_and_weekends_scale() {
        let p = flat();
        let day = Activity::new(&p, &p, 0.3, 0, 0, 86_400.0);
        assert!((day.total() - 1.0).abs() < 1e-12);
        let week = Activity::new(&p, &p, 0.3, 0, 0, 7.0 * 86_400.0);
        assert!((week.total() - 5.6).abs() < 1e-9);
        // Starting on a Saturday, the first two days are weekend days.
        let sat = Activity::new(&p, &p, 0.0, 0, 5, 3.0 * 86_400.0);
        assert!((sat.total() - 1.0).abs() < 1e-9);
        assert!(sat.inverse(0.0) >= 2.0 * 86_400.0 - 1e-6);
        let two_hours = Activity::new(&p, &p, 1.0, 0, 0, 7_200.0);
        assert!((two_hours.total() - 2.0 / 24.0).abs() < 1e-12);
        let half_hour = Activity::new(&p, &p, 1.0, 0, 0, 1_800.0);
        assert!((half_hour.total() - 0.5 / 24.0).abs() < 1e-12);
        assert!(half_hour.inverse(0.999) <= 1_800.0);
    }

    #[test]
    fn time_zones_move_the_weekend() {
        let p = flat();
        // Friday 00:00 UTC, agents at UTC+10: their Saturday starts at 14:00 UTC.
        let a = Activity::new(&p, &p, 0.0, 10, 4, 86_400.0);
        assert!((a.total() - 14.0 / 24.0).abs() < 1e-9);
        assert!(a.inverse(0.999_999) <= 14.0 * 3600.0 + 1e-6);
    }

    #[test]
    fn inverse_and_share_agree() {
        let w = Profile::named("workday", 3).unwrap();
        let e = Profile::named("evening", 3).unwrap();
        let a = Activity::new(&w, &e, 0.5, 3, 2, 5.5 * 86_400.0);
        for i in 1..100 {
            let u = i as f64 / 100.0;
            let t = a.inverse(u);
            assert!((a.share_before(t) - u).abs() < 1e-9, "{u} {t}");
        }
    }

    #[test]
    fn weekday_names() {
        assert_eq!(weekday("Monday"), Some(0));
        assert_eq!(weekday("sat"), Some(5));
        assert_eq!(weekday("sun"), Some(6));
        assert_eq!(weekday("funday"), None);
    }
}
