//! The ledger: every call and every replica-interval, posted per (pool, hour).
//!
//! Everything here is an integer (tokens, nanoseconds, pico-dollars, histogram counts), so
//! merging two ledgers is exact and order-free: cells can be merged in any order, on any thread
//! count or shard split, and give the same bytes. Costs and energy are not posted as money
//! while simulating; they are priced at the end from the integer replica-time counters (see
//! [`PoolHourCost`]), which is the same sum over device-intervals done once.

use hdrhistogram::Histogram;
use tokenfleet_models::Money;
use tokenfleet_models::prices::Charge;

use tokenfleet_engine::time::{NS_PER_HOUR, NS_PER_SEC, SimTime, for_each_hour};
use tokenfleet_setup::Pool;

/// Latency histograms record microseconds with 2 significant digits (≤ 1% error).
fn histogram() -> Histogram<u64> {
    let mut h = Histogram::new(2).expect("2 significant digits is valid");
    h.auto(true);
    h
}

/// What happened in one pool during one simulated hour.
#[derive(Debug, Clone)]
pub struct PoolHour {
    pub calls_arrived: u64,
    pub calls_completed: u64,
    pub calls_rejected: u64,
    /// Of the rejected calls, those over an agent's rate limit (the rest found a full queue).
    pub calls_rate_limited: u64,
    /// Sequences preempted for KV memory (each is recomputed later).
    pub preemptions: u64,
    /// Prompt tokens computed by prefill, recomputation after preemption included.
    pub prefill_tokens: u64,
    pub input_uncached: u64,
    pub input_cached: u64,
    pub output: u64,
    /// Tokens that a prefix cache could have served (shared with the agent's previous call).
    pub reusable: u64,
    pub revenue_uncached: Money,
    pub revenue_cached: Money,
    pub revenue_output: Money,
    pub revenue_reasoning: Money,
    pub revenue_blended: Money,
    /// Itemized and blended revenue under every price set (index 0 is the billed one).
    pub sets: Vec<(Money, Money)>,
    /// What rejected calls would have paid (billed set, their reusable prefix as cached).
    pub revenue_lost: Money,
    /// Calls over the SLA's latency targets, and the revenue refunded for them.
    pub calls_late: u64,
    pub penalty: Money,
    /// Replica-nanoseconds spent iterating.
    pub busy_ns: u128,
    /// Replica-nanoseconds in the roofline-bound part of iterations.
    pub active_ns: u128,
    /// Replica-nanoseconds at full dynamic power: the time-integral of the power curve's
    /// dynamic share (between `active_ns` and `busy_ns` for a concave curve).
    pub powered_ns: u128,
    /// Replica-nanoseconds provisioned.
    pub provisioned_ns: u128,
    /// Waiting calls x nanoseconds.
    pub queue_area: u128,
    /// Calls in the pool (waiting or running) x nanoseconds: the time-integral of the number
    /// in system, L x T in Little's law. It changes only when a call is admitted to a queue or
    /// completes, and each change is posted as it happens, so it is exact.
    pub in_system_area: u128,
    /// Calls still waiting or running when the horizon cut the run (posted in the horizon's
    /// hour), and the sum of their ages then: the boundary term of Little's law.
    pub in_flight: u64,
    pub in_flight_age_ns: u128,
    /// Most KV tokens a replica of the pool held (running calls and retained prefixes) over
    /// any stretch of time in the hour.
    pub kv_peak_tokens: u64,
    /// KV tokens reserved by running calls x nanoseconds.
    pub kv_used_area: u128,
    /// KV tokens held by retained prefixes x nanoseconds.
    pub kv_retained_area: u128,
    pub ttft_sum_ns: u128,
    pub e2e_sum_ns: u128,
    /// Calls admitted to a batch for the first time (readmissions after a preemption are not
    /// counted again), by the hour of admission.
    pub calls_started: u64,
    /// Of those, calls admitted later than they arrived.
    pub calls_waited: u64,
    /// Sum over started calls of admission time - arrival time: the exact queueing delay.
    pub wait_sum_ns: u128,
    pub ttft_us: Histogram<u64>,
    pub e2e_us: Histogram<u64>,
    /// Time per output token after the first, of calls with at least two output tokens.
    pub tpot_us: Histogram<u64>,
}

impl PoolHour {
    fn with_sets(sets: usize) -> PoolHour {
        PoolHour {
            sets: vec![(Money::ZERO, Money::ZERO); sets],
            ..PoolHour::default()
        }
    }
}

impl Default for PoolHour {
    fn default() -> Self {
        PoolHour {
            calls_arrived: 0,
            calls_completed: 0,
            calls_rejected: 0,
            calls_rate_limited: 0,
            preemptions: 0,
            prefill_tokens: 0,
            input_uncached: 0,
            input_cached: 0,
            output: 0,
            reusable: 0,
            revenue_uncached: Money::ZERO,
            revenue_cached: Money::ZERO,
            revenue_output: Money::ZERO,
            revenue_reasoning: Money::ZERO,
            revenue_blended: Money::ZERO,
            sets: Vec::new(),
            revenue_lost: Money::ZERO,
            calls_late: 0,
            penalty: Money::ZERO,
            busy_ns: 0,
            active_ns: 0,
            powered_ns: 0,
            provisioned_ns: 0,
            queue_area: 0,
            in_system_area: 0,
            in_flight: 0,
            in_flight_age_ns: 0,
            kv_peak_tokens: 0,
            kv_used_area: 0,
            kv_retained_area: 0,
            ttft_sum_ns: 0,
            e2e_sum_ns: 0,
            calls_started: 0,
            calls_waited: 0,
            wait_sum_ns: 0,
            ttft_us: histogram(),
            e2e_us: histogram(),
            tpot_us: histogram(),
        }
    }
}

impl PoolHour {
    pub fn merge(&mut self, o: &PoolHour) {
        self.calls_arrived += o.calls_arrived;
        self.calls_completed += o.calls_completed;
        self.calls_rejected += o.calls_rejected;
        self.calls_rate_limited += o.calls_rate_limited;
        self.preemptions += o.preemptions;
        self.prefill_tokens += o.prefill_tokens;
        self.input_uncached += o.input_uncached;
        self.input_cached += o.input_cached;
        self.output += o.output;
        self.reusable += o.reusable;
        self.revenue_uncached += o.revenue_uncached;
        self.revenue_cached += o.revenue_cached;
        self.revenue_output += o.revenue_output;
        self.revenue_reasoning += o.revenue_reasoning;
        self.revenue_blended += o.revenue_blended;
        if self.sets.len() < o.sets.len() {
            self.sets.resize(o.sets.len(), (Money::ZERO, Money::ZERO));
        }
        for (a, b) in self.sets.iter_mut().zip(&o.sets) {
            a.0 += b.0;
            a.1 += b.1;
        }
        self.revenue_lost += o.revenue_lost;
        self.calls_late += o.calls_late;
        self.penalty += o.penalty;
        self.busy_ns += o.busy_ns;
        self.active_ns += o.active_ns;
        self.powered_ns += o.powered_ns;
        self.provisioned_ns += o.provisioned_ns;
        self.queue_area += o.queue_area;
        self.in_system_area += o.in_system_area;
        self.in_flight += o.in_flight;
        self.in_flight_age_ns += o.in_flight_age_ns;
        // A maximum merges exactly in any order, like the sums.
        self.kv_peak_tokens = self.kv_peak_tokens.max(o.kv_peak_tokens);
        self.kv_used_area += o.kv_used_area;
        self.kv_retained_area += o.kv_retained_area;
        self.ttft_sum_ns += o.ttft_sum_ns;
        self.e2e_sum_ns += o.e2e_sum_ns;
        self.calls_started += o.calls_started;
        self.calls_waited += o.calls_waited;
        self.wait_sum_ns += o.wait_sum_ns;
        self.ttft_us
            .add(&o.ttft_us)
            .expect("auto-resizing histograms merge");
        self.tpot_us
            .add(&o.tpot_us)
            .expect("auto-resizing histograms merge");
        self.e2e_us
            .add(&o.e2e_us)
            .expect("auto-resizing histograms merge");
    }

    /// Itemized revenue (billed set, before SLA refunds).
    pub fn revenue_itemized(&self) -> Money {
        self.revenue_uncached + self.revenue_cached + self.revenue_output + self.revenue_reasoning
    }
}

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

    /// A replica's busy time within hour `hour`, summed by a [`BusyMeter`].
    fn busy_in_hour(&mut self, pool: usize, hour: u64, ns: u64, active_s: f64, powered_s: f64) {
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

/// The cost of one (pool, hour) row: hardware from provisioned device-time, energy from the
/// power model over provisioned and active time, each rounded once to the pico-dollar. Energy is
/// always measured (`energy_mj`) but billed only when the pool pays for its power.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PoolHourCost {
    pub hardware: Money,
    pub energy: Money,
    /// Facility energy (after PUE), millijoules.
    pub energy_mj: u128,
}

impl PoolHourCost {
    /// The cost of `row`, the pool's row for simulated `hour`.
    pub fn of(row: &PoolHour, pool: &Pool, hour: usize) -> PoolHourCost {
        let devices = pool.perf.devices as u128;
        let hardware = pool.device_rate.over_ns(row.provisioned_ns * devices);
        // Idle power whenever provisioned, plus the dynamic part of the power curve.
        let joules_device = pool.power.idle_w * (row.provisioned_ns as f64 / 1e9)
            + pool.power.dynamic_joules(row.powered_ns as f64 / 1e9);
        let energy_mj = (joules_device * devices as f64 * pool.pue * 1000.0).round() as u128;
        // pico$/kWh * mJ / (3.6e9 mJ/kWh), rounded to the nearest pico-dollar. Rented devices'
        // hourly price already includes their power, so it is counted but not billed again.
        let energy = if pool.pay_energy {
            Money::from_pico(
                (pool.electricity_pico_per_kwh[hour % 24] * energy_mj as i128 + 1_800_000_000)
                    / 3_600_000_000,
            )
        } else {
            Money::ZERO
        };
        PoolHourCost {
            hardware,
            energy,
            energy_mj,
        }
    }

    pub fn total(&self) -> Money {
        self.hardware + self.energy
    }
}

/// The length of one hour bucket in nanoseconds, for time-averages.
pub const HOUR_NS: u128 = NS_PER_HOUR as u128;

#[cfg(test)]
mod tests {
    use super::*;

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
