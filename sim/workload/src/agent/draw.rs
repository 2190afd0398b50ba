//! The two roundings every loop applies to its draws: a drawn size to whole tokens (at least
//! `min`; a draw that is not finite counts as `min`), and a drawn gap in seconds to a later
//! simulated time.

use tokenfleet_engine::time::SimTime;

#[inline]
pub(super) fn tokens(x: f64, min: u64) -> u64 {
    if x.is_finite() {
        (x.round().max(0.0) as u64).max(min)
    } else {
        min
    }
}

#[inline]
pub(super) fn after(now: SimTime, secs: f64) -> SimTime {
    now.saturating_add(SimTime::from_secs(secs))
}
