//! A replica's busy time, summed within the hour and posted to the ledger once per hour.
//!
//! This is the one ledger write per epoch on the hot path; [`BusyMeter`] says why it sums in
//! `f64` within an hour and rounds once, and what that costs in exactness (nothing visible).

use super::rows::Ledger;
use tokenfleet_engine::time::{NS_PER_HOUR, SimTime};

/// A replica's busy time, summed within the current hour and posted to the ledger once per
/// hour.
///
/// A replica iterates in epochs of a few milliseconds, so it posts busy time hundreds of
/// thousands of times a day; splitting each posting at hour boundaries and rounding it to
/// nanoseconds cost 4.6% of the run (docs/performance.md). Within an hour the seconds are
/// summed in `f64` (exact to 1e-16 relative, far below the nanosecond) and rounded once at
/// the flush; an epoch that crosses an hour is split as before.
#[derive(Debug, Clone, Copy)]
pub struct BusyMeter {
    /// The hour being summed (`u64::MAX`: none).
    hour: u64,
    ns: u64,
    active_s: f64,
    powered_s: f64,
}

impl Default for BusyMeter {
    fn default() -> Self {
        BusyMeter {
            hour: u64::MAX,
            ns: 0,
            active_s: 0.0,
            powered_s: 0.0,
        }
    }
}

impl BusyMeter {
    /// Busy over [from, to) of which `active_s` roofline-bound and `powered_s` powered
    /// (as for [`Ledger::busy`]).
    #[inline]
    pub fn add(
        &mut self,
        ledger: &mut Ledger,
        pool: usize,
        from: SimTime,
        to: SimTime,
        active_s: f64,
        powered_s: f64,
    ) {
        let (from, to) = (from.ns(), to.ns());
        if to <= from {
            return;
        }
        let h = from / NS_PER_HOUR;
        let within = to <= (h + 1) * NS_PER_HOUR;
        if within && h == self.hour {
            self.ns += to - from;
            self.active_s += active_s;
            self.powered_s += powered_s;
            return;
        }
        self.flush(ledger, pool);
        if within {
            *self = BusyMeter {
                hour: h,
                ns: to - from,
                active_s,
                powered_s,
            };
        } else {
            ledger.busy(pool, SimTime(from), SimTime(to), active_s, powered_s);
        }
    }

    /// Posts the hour summed so far.
    pub fn flush(&mut self, ledger: &mut Ledger, pool: usize) {
        if self.ns > 0 {
            ledger.busy_in_hour(pool, self.hour, self.ns, self.active_s, self.powered_s);
        }
        *self = BusyMeter::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenfleet_engine::time::for_each_hour;

    /// The meter posts, per hour, the exact busy nanoseconds and the active and powered
    /// seconds to the nanosecond, including epochs that cross an hour and idle gaps.
    #[test]
    fn the_busy_meter_posts_each_hours_exact_sums() {
        let hours = 4;
        let mut ledger = Ledger::new(2, hours, 1);
        let mut meter = BusyMeter::default();
        let mut want = vec![(0u128, 0.0f64, 0.0f64); hours];
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut t = 0u64;
        let end = hours as u64 * NS_PER_HOUR;
        let mut epochs = 0;
        while t < end {
            // Epochs of 1 ms to 40 s, sometimes after an idle gap.
            let len = 1_000_000 + next() % 40_000_000_000;
            if next() % 4 == 0 {
                t += next() % 10_000_000_000;
            }
            let to = (t + len).min(end);
            if to <= t {
                break;
            }
            let secs = (to - t) as f64 / 1e9;
            let active = secs * (next() % 1000) as f64 / 1000.0;
            let powered = active + (secs - active) * 0.5;
            meter.add(&mut ledger, 1, SimTime(t), SimTime(to), active, powered);
            for_each_hour(SimTime(t), SimTime(to), |h, ns| {
                let share = ns as f64 / (to - t) as f64;
                want[h].0 += ns as u128;
                want[h].1 += active * share;
                want[h].2 += powered * share;
            });
            epochs += 1;
            t = to;
        }
        meter.flush(&mut ledger, 1);
        assert!(epochs > 500, "{epochs} epochs");
        for (h, (busy, active, powered)) in want.iter().enumerate() {
            let r = ledger.row(1, h);
            assert_eq!(r.busy_ns, *busy, "hour {h}");
            for (got, s) in [(r.active_ns, active), (r.powered_ns, powered)] {
                let exact = s * 1e9;
                assert!(
                    (got as f64 - exact).abs() <= 2.0,
                    "hour {h}: {got} vs {exact}"
                );
            }
            assert_eq!(ledger.row(0, h).busy_ns, 0, "other pools untouched");
        }
    }
}
