//! Exact money.
//!
//! Money is an integer number of pico-dollars (1e-12 USD) in an `i128`. Why so fine: token
//! prices are quoted per million tokens with up to three or four decimals ($0.028/M for
//! DeepSeek cached input), so one token of cached input costs 0.028 micro-dollars. In
//! pico-dollars every such price is a whole number per token, a call's revenue is exact, and a
//! fleet's revenue is an integer sum that is the same in any order, on any thread count. An
//! `i128` of pico-dollars holds 1.7e14 USD, far beyond any fleet-year.

use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

use serde::{Deserialize, Serialize};

/// Pico-dollars per dollar.
pub const PICO_PER_USD: i128 = 1_000_000_000_000;

/// An exact amount of money, in pico-dollars.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Money(i128);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_pico(p: i128) -> Money {
        Money(p)
    }
    /// Rounds a dollar amount to the nearest pico-dollar (for configured rates, not sums).
    pub fn from_usd(usd: f64) -> Money {
        Money((usd * PICO_PER_USD as f64).round() as i128)
    }
    pub const fn pico(self) -> i128 {
        self.0
    }
    /// The amount in dollars, as a float for display and charts.
    pub fn usd(self) -> f64 {
        // Split to keep full precision for large amounts.
        let whole = self.0 / PICO_PER_USD;
        let frac = self.0 % PICO_PER_USD;
        whole as f64 + frac as f64 / PICO_PER_USD as f64
    }
    /// Exact decimal text in dollars with all twelve decimals, e.g. "0.003124000000".
    pub fn exact_usd_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        let p = PICO_PER_USD as u128;
        format!("{sign}{}.{:012}", a / p, a % p)
    }
    /// Scales by a rational factor with rounding to the nearest pico-dollar (used to scale a
    /// sampled run up to the whole fleet).
    pub fn scale(self, num: u64, den: u64) -> Money {
        let n = self.0 * num as i128;
        let d = den as i128;
        let q = (2 * n.abs() + d) / (2 * d);
        Money(if n < 0 { -q } else { q })
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0 + o.0)
    }
}
impl AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        self.0 += o.0;
    }
}
impl Sub for Money {
    type Output = Money;
    fn sub(self, o: Money) -> Money {
        Money(self.0 - o.0)
    }
}
impl SubAssign for Money {
    fn sub_assign(&mut self, o: Money) {
        self.0 -= o.0;
    }
}
impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}
impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(it: I) -> Money {
        it.fold(Money::ZERO, Add::add)
    }
}

/// A price per token, in whole pico-dollars per token.
///
/// Built from a $/M-token quote by multiplying by 1e6 and rounding: exact for any quote with at
/// most six decimals per million tokens, which covers every public price sheet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPrice(i64);

impl TokenPrice {
    pub const ZERO: TokenPrice = TokenPrice(0);

    pub fn from_usd_per_mtok(usd_per_million: f64) -> TokenPrice {
        TokenPrice((usd_per_million * 1e6).round() as i64)
    }
    pub const fn pico_per_token(self) -> i64 {
        self.0
    }
    pub fn usd_per_mtok(self) -> f64 {
        self.0 as f64 / 1e6
    }
    /// The exact price of `tokens` tokens.
    #[inline]
    pub fn of(self, tokens: u64) -> Money {
        Money(self.0 as i128 * tokens as i128)
    }
}

/// A cost per unit of time, in pico-dollars per hour.
///
/// Per hour rather than per second because prices are quoted per hour: "$2.99/h" is a whole
/// number of pico-dollars per hour, so a whole number of device-hours costs exactly the quote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoneyRate(i128);

const NS_PER_HOUR: i128 = 3_600_000_000_000;

impl MoneyRate {
    pub fn from_usd_per_hour(usd_per_hour: f64) -> MoneyRate {
        MoneyRate((usd_per_hour * PICO_PER_USD as f64).round() as i128)
    }
    pub fn from_usd_per_second(usd_per_s: f64) -> MoneyRate {
        MoneyRate::from_usd_per_hour(usd_per_s * 3600.0)
    }
    pub fn usd_per_hour(self) -> f64 {
        self.0 as f64 / PICO_PER_USD as f64
    }
    /// The cost of `ns` nanoseconds at this rate, rounded to the nearest pico-dollar.
    pub fn over_ns(self, ns: u128) -> Money {
        let n = self.0 * ns as i128;
        Money((n + NS_PER_HOUR / 2) / NS_PER_HOUR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_token_prices_are_exact() {
        let p = TokenPrice::from_usd_per_mtok(0.028);
        assert_eq!(p.pico_per_token(), 28_000);
        // One million cached tokens cost exactly $0.028.
        assert_eq!(p.of(1_000_000), Money::from_usd(0.028));
        assert_eq!(p.of(1_000_000).exact_usd_string(), "0.028000000000");
    }

    #[test]
    fn sums_are_order_independent() {
        let prices = [0.03, 0.30, 1.20, 30.0, 0.028];
        let mut a = Money::ZERO;
        let mut b = Money::ZERO;
        for (i, p) in prices.iter().enumerate() {
            a += TokenPrice::from_usd_per_mtok(*p).of(1000 + i as u64 * 7919);
        }
        for (i, p) in prices.iter().enumerate().rev() {
            b += TokenPrice::from_usd_per_mtok(*p).of(1000 + i as u64 * 7919);
        }
        assert_eq!(a, b);
    }

    #[test]
    fn rates_over_time() {
        let r = MoneyRate::from_usd_per_hour(2.99);
        assert_eq!(
            r.over_ns(7 * 3_600_000_000_000),
            Money::from_usd(7.0 * 2.99)
        );
        assert_eq!(r.over_ns(1_800_000_000_000), Money::from_usd(2.99 / 2.0));
        assert!((r.usd_per_hour() - 2.99).abs() < 1e-12);
    }

    #[test]
    fn scaling_rounds_to_nearest() {
        assert_eq!(Money::from_pico(10).scale(1, 3), Money::from_pico(3));
        assert_eq!(Money::from_pico(20).scale(1, 3), Money::from_pico(7));
        assert_eq!(Money::from_pico(7).scale(50, 1), Money::from_pico(350));
    }
}
