//! The per-(pool, hour) ledger of a run or a part of it, and what is posted to it.
//!
//! A cell posts each event as it happens: a call arrived, was rejected, started, prefilled or
//! completed; a replica was busy, held levels (waiting, in system, KV) or was provisioned over
//! an interval, split at hour boundaries. Intervals are posted in integer nanoseconds, so the
//! time-integrals are exact and ledgers merge by integer sums.

use tokenfleet_models::Money;
use tokenfleet_models::prices::Charge;

use super::pool_hour::PoolHour;
use tokenfleet_engine::time::{NS_PER_HOUR, NS_PER_SEC, SimTime, for_each_hour};

/// A replica's levels, constant between two postings.
#[derive(Debug, Clone, Copy, Default)]
pub struct Levels {
    /// Calls queued.
    pub waiting: u64,
    /// Calls queued or running.
    pub in_system: u64,
    /// KV tokens reserved by running calls.
    pub kv_used: u64,
    /// KV tokens held by retained prefixes.
    pub kv_retained: u64,
}

/// A completed call as the ledger sees it.
#[derive(Debug, Clone, Copy)]
pub struct CompletedCall {
    pub pool: usize,
    pub finished: SimTime,
    pub uncached: u64,
    pub cached: u64,
    pub reusable: u64,
    pub output: u64,
    pub charge: Charge,
    pub blended: Money,
    pub ttft: SimTime,
    pub e2e: SimTime,
    /// Refund owed for missing the SLA (zero if on time).
    pub penalty: Money,
    pub late: bool,
}

/// The per-(pool, hour) ledger of a run or a part of it.
#[derive(Debug, Clone)]
pub struct Ledger {
    pub hours: usize,
    pub pools: usize,
    rows: Vec<PoolHour>,
}

impl Ledger {
    /// A ledger of `pools` x `hours` rows, each keeping revenue under `sets` price sets.
    pub fn new(pools: usize, hours: usize, sets: usize) -> Ledger {
        Ledger {
            hours,
            pools,
            rows: (0..pools * hours)
                .map(|_| PoolHour::with_sets(sets))
                .collect(),
        }
    }

    #[inline]
    fn hour_of(&self, t: SimTime) -> usize {
        t.hour().min(self.hours - 1)
    }

    /// A ledger from its rows (pool-major: all hours of pool 0, then pool 1, ...).
    pub fn from_rows(pools: usize, hours: usize, rows: Vec<PoolHour>) -> Option<Ledger> {
        (rows.len() == pools * hours).then_some(Ledger { hours, pools, rows })
    }

    /// The rows, pool-major.
    pub fn rows(&self) -> &[PoolHour] {
        &self.rows
    }

    #[inline]
    pub fn row(&self, pool: usize, hour: usize) -> &PoolHour {
        &self.rows[pool * self.hours + hour]
    }

    #[inline]
    fn row_mut(&mut self, pool: usize, hour: usize) -> &mut PoolHour {
        &mut self.rows[pool * self.hours + hour]
    }

    pub fn arrived(&mut self, pool: usize, t: SimTime) {
        let h = self.hour_of(t);
        self.row_mut(pool, h).calls_arrived += 1;
    }

    pub fn rejected(&mut self, pool: usize, t: SimTime, rate_limited: bool) {
        let h = self.hour_of(t);
        let r = self.row_mut(pool, h);
        r.calls_rejected += 1;
        r.calls_rate_limited += rate_limited as u64;
    }

    /// A rejected call's forgone revenue.
    pub fn lost(&mut self, pool: usize, t: SimTime, revenue: Money) {
        let h = self.hour_of(t);
        self.row_mut(pool, h).revenue_lost += revenue;
    }

    pub fn preempted(&mut self, pool: usize, t: SimTime) {
        let h = self.hour_of(t);
        self.row_mut(pool, h).preemptions += 1;
    }

    /// A call is admitted to a batch for the first time at `t`, `wait` after it arrived.
    pub fn started(&mut self, pool: usize, t: SimTime, wait: SimTime) {
        let h = self.hour_of(t);
        let r = self.row_mut(pool, h);
        r.calls_started += 1;
        r.calls_waited += (wait > SimTime::ZERO) as u64;
        r.wait_sum_ns += wait.ns() as u128;
    }

    pub fn prefilled(&mut self, pool: usize, t: SimTime, tokens: u64) {
        let h = self.hour_of(t);
        self.row_mut(pool, h).prefill_tokens += tokens;
    }

    /// Posts a completed call; `sets` holds its (itemized, blended) revenue under every set.
    pub fn completed(&mut self, c: &CompletedCall, sets: &[(Money, Money)]) {
        let h = self.hour_of(c.finished);
        let r = self.row_mut(c.pool, h);
        for (a, b) in r.sets.iter_mut().zip(sets) {
            a.0 += b.0;
            a.1 += b.1;
        }
        r.calls_late += c.late as u64;
        r.penalty += c.penalty;
        r.revenue_reasoning += c.charge.reasoning;
        r.calls_completed += 1;
        r.input_uncached += c.uncached;
        r.input_cached += c.cached;
        r.reusable += c.reusable;
        r.output += c.output;
        r.revenue_uncached += c.charge.input_uncached;
        r.revenue_cached += c.charge.input_cached;
        r.revenue_output += c.charge.output;
        r.revenue_blended += c.blended;
        r.ttft_sum_ns += c.ttft.ns() as u128;
        r.e2e_sum_ns += c.e2e.ns() as u128;
        // Auto-resizing histograms grow to any value; `record` only fails on u64 overflow.
        let _ = r.ttft_us.record((c.ttft.ns() / 1000).max(1));
        let _ = r.e2e_us.record((c.e2e.ns() / 1000).max(1));
        if c.output > 1 {
            let tpot_ns = c.e2e.ns().saturating_sub(c.ttft.ns()) / (c.output - 1);
            let _ = r.tpot_us.record((tpot_ns / 1000).max(1));
        }
    }

    /// A replica iterated over [from, to), `active_s` of it roofline-bound, drawing
    /// `powered_s` seconds' worth of its dynamic power range.
    pub fn busy(&mut self, pool: usize, from: SimTime, to: SimTime, active_s: f64, powered_s: f64) {
        let total = to.ns().saturating_sub(from.ns());
        if total == 0 {
            return;
        }
        let ns_of = |s: f64| (s * NS_PER_SEC as f64).round().clamp(0.0, total as f64);
        let (active_ns, powered_ns) = (ns_of(active_s), ns_of(powered_s));
        let hours = self.hours;
        for_each_hour(from, to, |h, ns| {
            let r = &mut self.rows[pool * hours + h.min(hours - 1)];
            let share = ns as f64 / total as f64;
            r.busy_ns += ns as u128;
            // Through u64 (the values are below 2^53 ns): f64 to u128 is a library call.
            r.active_ns += (active_ns * share).round() as u64 as u128;
            r.powered_ns += (powered_ns * share).round() as u64 as u128;
        });
    }

    /// A replica's busy time within hour `hour`, summed by a [`BusyMeter`](super::busy::BusyMeter).
    pub(super) fn busy_in_hour(
        &mut self,
        pool: usize,
        hour: u64,
        ns: u64,
        active_s: f64,
        powered_s: f64,
    ) {
        let ns_of = |s: f64| (s * NS_PER_SEC as f64).round().clamp(0.0, ns as f64) as u64;
        let h = (hour as usize).min(self.hours - 1);
        let r = self.row_mut(pool, h);
        r.busy_ns += ns as u128;
        r.active_ns += ns_of(active_s) as u128;
        r.powered_ns += ns_of(powered_s) as u128;
    }

    /// Time-weighted levels of a replica over [from, to).
    #[inline]
    pub fn levels(&mut self, pool: usize, from: SimTime, to: SimTime, l: &Levels) {
        if to <= from {
            return;
        }
        let hours = self.hours;
        let kv = l.kv_used + l.kv_retained;
        for_each_hour(from, to, |h, ns| {
            let r = &mut self.rows[pool * hours + h.min(hours - 1)];
            let ns = ns as u128;
            r.queue_area += l.waiting as u128 * ns;
            r.in_system_area += l.in_system as u128 * ns;
            r.kv_used_area += l.kv_used as u128 * ns;
            r.kv_retained_area += l.kv_retained as u128 * ns;
            r.kv_peak_tokens = r.kv_peak_tokens.max(kv);
        });
    }

    /// A call still in the pool at the horizon, `age` after it arrived.
    pub fn in_flight(&mut self, pool: usize, horizon: SimTime, age: SimTime) {
        let h = self.hour_of(horizon);
        let r = self.row_mut(pool, h);
        r.in_flight += 1;
        r.in_flight_age_ns += age.ns() as u128;
    }

    /// `replicas` replicas of `pool` provisioned over [from, to).
    pub fn provisioned(&mut self, pool: usize, replicas: u64, from: SimTime, to: SimTime) {
        let hours = self.hours;
        for_each_hour(from, to, |h, ns| {
            self.rows[pool * hours + h.min(hours - 1)].provisioned_ns +=
                replicas as u128 * ns as u128;
        });
    }

    pub fn merge(&mut self, o: &Ledger) {
        assert_eq!(
            (self.pools, self.hours),
            (o.pools, o.hours),
            "ledgers of different shapes"
        );
        for (a, b) in self.rows.iter_mut().zip(&o.rows) {
            a.merge(b);
        }
    }

    /// All hours of one pool merged.
    pub fn pool_total(&self, pool: usize) -> PoolHour {
        let mut t = PoolHour::with_sets(self.rows.first().map_or(0, |r| r.sets.len()));
        for h in 0..self.hours {
            t.merge(self.row(pool, h));
        }
        t
    }

    /// Everything merged.
    pub fn total(&self) -> PoolHour {
        let mut t = PoolHour::with_sets(self.rows.first().map_or(0, |r| r.sets.len()));
        for r in &self.rows {
            t.merge(r);
        }
        t
    }
}

/// The length of one hour bucket in nanoseconds, for time-averages.
pub const HOUR_NS: u128 = NS_PER_HOUR as u128;
