//! Simulated time: one integer newtype, nanoseconds since the start of the simulated day.
//!
//! Integer time makes event order exact (no two float sums that "should" be equal but differ in
//! the last bit) and a u64 of nanoseconds spans 584 years. Nanoseconds rather than microseconds
//! because closed-form batch milestones are rounded once per event, and the stepping reference
//! test compares completion times to within a microsecond.

use std::fmt;

pub const NS_PER_SEC: u64 = 1_000_000_000;
pub const NS_PER_HOUR: u64 = 3_600 * NS_PER_SEC;
/// The longest simulated horizon, and the longest recorded span a trace may cover: a year.
/// Anything longer is a unit mistake or a corrupt value, and would size the hourly ledger by it.
pub const MAX_SPAN_S: f64 = 366.0 * 86_400.0;

/// An instant or a span of simulated time, in nanoseconds.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct SimTime(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// From seconds, rounded to the nearest nanosecond; negative and NaN give zero and
    /// overflow saturates.
    #[inline]
    pub fn from_secs(s: f64) -> SimTime {
        let ns = (s * NS_PER_SEC as f64).round();
        if ns.is_nan() || ns <= 0.0 {
            SimTime(0)
        } else if ns >= u64::MAX as f64 {
            SimTime::MAX
        } else {
            SimTime(ns as u64)
        }
    }
    pub const fn from_hours(h: u64) -> SimTime {
        SimTime(h * NS_PER_HOUR)
    }
    #[inline]
    pub fn secs(self) -> f64 {
        self.0 as f64 / NS_PER_SEC as f64
    }
    #[inline]
    pub const fn ns(self) -> u64 {
        self.0
    }
    /// The index of the simulated hour this instant falls in.
    #[inline]
    pub const fn hour(self) -> usize {
        (self.0 / NS_PER_HOUR) as usize
    }
    #[inline]
    pub fn saturating_add(self, d: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
    #[inline]
    pub fn saturating_sub(self, d: SimTime) -> SimTime {
        SimTime(self.0.saturating_sub(d.0))
    }
}

impl fmt::Debug for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.9}s", self.secs())
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0 / NS_PER_SEC;
        write!(f, "{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    }
}

/// Splits the span [from, to) at hour boundaries and calls `f(hour, ns_in_that_hour)`.
#[inline]
pub fn for_each_hour(from: SimTime, to: SimTime, mut f: impl FnMut(usize, u64)) {
    let mut t = from.0;
    while t < to.0 {
        let h = t / NS_PER_HOUR;
        let end = ((h + 1) * NS_PER_HOUR).min(to.0);
        f(h as usize, end - t);
        t = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn splits_spans_at_hours() {
        let mut parts = Vec::new();
        for_each_hour(
            SimTime::from_secs(3000.0),
            SimTime::from_secs(7300.0),
            |h, ns| parts.push((h, ns)),
        );
        assert_eq!(
            parts,
            vec![
                (0, 600 * NS_PER_SEC),
                (1, 3600 * NS_PER_SEC),
                (2, 100 * NS_PER_SEC)
            ]
        );
    }
    #[test]
    fn rounding_and_saturation() {
        assert_eq!(SimTime::from_secs(1.5e-9).0, 2);
        assert_eq!(SimTime::from_secs(-1.0), SimTime::ZERO);
        assert_eq!(SimTime::from_secs(f64::NAN), SimTime::ZERO);
        assert_eq!(SimTime::from_secs(1e30), SimTime::MAX);
    }
}
