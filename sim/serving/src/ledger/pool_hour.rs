//! One (pool, hour) row of the ledger: what happened in a pool during one simulated hour.
//!
//! Every field is an integer sum (or a maximum, or a histogram of integer counts), so rows
//! merge exactly and in any order: two cells' rows, two shards' rows or all the hours of a
//! pool. Latencies are kept both as exact sums (for means) and as histograms (for
//! percentiles).

use hdrhistogram::Histogram;
use tokenfleet_models::Money;

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
    pub(super) fn with_sets(sets: usize) -> PoolHour {
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
