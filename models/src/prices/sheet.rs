//! A resolved price sheet and what it charges: the rates of the base, of each long-context
//! tier and of each time-of-day period, and a call's itemized charge.
//!
//! Which rates apply is decided per call, as providers bill: during a period's window its rates
//! replace the base and its tiers; otherwise the highest tier whose threshold the call's input
//! exceeds replaces every base rate of the call, not only the tokens above the threshold.

use serde::Serialize;

use crate::money::{Money, TokenPrice};

/// Per-token rates of one tier or period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    pub input: TokenPrice,
    pub cached_input: TokenPrice,
    pub cache_write: Option<TokenPrice>,
    pub output: TokenPrice,
    pub reasoning: TokenPrice,
}

/// A daily window [start, end) in minutes after 00:00 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Window {
    pub start_min: u32,
    pub end_min: u32,
}

impl Window {
    /// Whether minute-of-day `m` falls in the window (which may wrap past midnight).
    #[inline]
    pub fn contains(&self, m: u32) -> bool {
        if self.start_min <= self.end_min {
            self.start_min <= m && m < self.end_min
        } else {
            m >= self.start_min || m < self.end_min
        }
    }
}

/// A resolved price sheet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceSheet {
    pub name: String,
    pub base: Rates,
    /// (threshold in input tokens, rates), ascending.
    pub tiers: Vec<(u64, Rates)>,
    /// Time-of-day windows whose rates replace the base (and its tiers).
    pub periods: Vec<(Window, Rates)>,
    /// Uncached input is billed at the cache-write rate (it is written to the cache for the
    /// next call), as Anthropic bills prompt prefixes marked for caching.
    pub bill_cache_writes: bool,
}

impl Rates {
    fn scaled(&self, f: f64) -> Rates {
        let x = |p: TokenPrice| TokenPrice::from_usd_per_mtok(p.usd_per_mtok() * f);
        Rates {
            input: x(self.input),
            cached_input: x(self.cached_input),
            cache_write: self.cache_write.map(x),
            output: x(self.output),
            reasoning: x(self.reasoning),
        }
    }
}

impl PriceSheet {
    /// Every rate (base, tiers and periods) times `f`: "what if list prices fall 30%".
    pub fn scale(&mut self, f: f64) {
        self.base = self.base.scaled(f);
        for (_, r) in &mut self.tiers {
            *r = r.scaled(f);
        }
        for (_, r) in &mut self.periods {
            *r = r.scaled(f);
        }
    }
}

/// A call's token counts by billing class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input_uncached: u64,
    pub input_cached: u64,
    /// Visible output tokens.
    pub output: u64,
    /// Reasoning (thinking) output tokens.
    pub reasoning: u64,
}

/// A call's revenue by token class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Charge {
    pub input_uncached: Money,
    pub input_cached: Money,
    pub output: Money,
    pub reasoning: Money,
}

impl Charge {
    pub fn total(&self) -> Money {
        self.input_uncached + self.input_cached + self.output + self.reasoning
    }
}

impl PriceSheet {
    /// The rates that apply to a call with `input_tokens` of input at `minute` of the UTC day.
    #[inline]
    pub fn rates_for(&self, input_tokens: u64, minute: u32) -> &Rates {
        for (w, r) in &self.periods {
            if w.contains(minute) {
                return r;
            }
        }
        let mut r = &self.base;
        for (above, t) in &self.tiers {
            if input_tokens > *above {
                r = t;
            }
        }
        r
    }

    /// Itemized revenue of one call made at `minute` of the UTC day.
    #[inline]
    pub fn charge(&self, u: &Usage, minute: u32) -> Charge {
        let r = self.rates_for(u.input_uncached + u.input_cached, minute);
        let uncached = match (self.bill_cache_writes, r.cache_write) {
            (true, Some(w)) => w,
            _ => r.input,
        };
        Charge {
            input_uncached: uncached.of(u.input_uncached),
            input_cached: r.cached_input.of(u.input_cached),
            output: r.output.of(u.output),
            reasoning: r.reasoning.of(u.reasoning),
        }
    }
}
