//! Human units for scenario and catalog files.
//!
//! Every physical quantity in a tokenfleet file is written the way people say it: `"2s"`,
//! `"700 W"`, `"$2.50/h"`, `"30M"` tokens, `"80 GB"`, `"3.35 TB/s"`, `"$0.30/M"`. A
//! [`Quantity<U>`] holds the value as an `f64` in the unit's base (seconds, watts, bytes, bytes
//! per second, USD, USD per hour, USD per kWh, USD per million tokens, FLOP/s, a plain ratio).
//!
//! Parsing is strict on purpose: NaN, infinities, negative values and a suffix that does not
//! belong to the quantity are errors whose message lists the accepted forms, because a planner
//! who writes `"2 parsecs"` must be told, not silently given zero. Bare numbers are accepted only
//! where they cannot be misread (token counts, counts, fractions); a bare `2` for a duration
//! could mean seconds or hours, so it is refused.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A kind of quantity: what it is called, which spellings it accepts, how it prints.
pub trait Unit {
    /// Name used in error messages ("duration", "power").
    const WHAT: &'static str;
    /// The accepted forms, shown when parsing fails.
    const ACCEPTED: &'static str;
    /// Whether a bare number (no unit) is unambiguous for this quantity.
    const BARE_NUMBER: bool;
    /// Whether the value must be a whole number.
    const INTEGRAL: bool = false;
    /// The largest value that makes sense, with why (in words, for the message): beyond it a
    /// value is a typo or an attack, and may overflow the exact integer money it becomes.
    const MAX: Option<(f64, &'static str)> = None;
    /// Multiplier for a unit suffix (already trimmed, may be empty), or `None` if unknown.
    fn suffix(suffix: &str) -> Option<f64>;
    /// The canonical text form of a base-unit value (parses back to the same value).
    fn format(v: f64) -> String;
}

/// Why a quantity did not parse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid {what} {text:?}: {reason}; accepted: {accepted}")]
pub struct UnitError {
    pub what: &'static str,
    pub text: String,
    pub reason: String,
    pub accepted: &'static str,
}

/// A value of unit `U`, in `U`'s base unit.
pub struct Quantity<U>(f64, PhantomData<U>);

impl<U> Quantity<U> {
    pub const fn new(v: f64) -> Self {
        Quantity(v, PhantomData)
    }
    pub const fn get(&self) -> f64 {
        self.0
    }
}
impl<U> Default for Quantity<U> {
    fn default() -> Self {
        Quantity::new(0.0)
    }
}
impl<U> Clone for Quantity<U> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<U> Copy for Quantity<U> {}
impl<U> PartialEq for Quantity<U> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<U: Unit> fmt::Debug for Quantity<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&U::format(self.0))
    }
}
impl<U: Unit> fmt::Display for Quantity<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&U::format(self.0))
    }
}

impl<U: Unit> std::str::FromStr for Quantity<U> {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        parse::<U>(s).map(Quantity::new)
    }
}

/// Parses `text` as a quantity of unit `U`, returning its value in the base unit.
pub fn parse<U: Unit>(text: &str) -> Result<f64, UnitError> {
    let err = |reason: &str| UnitError {
        what: U::WHAT,
        text: text.to_string(),
        reason: reason.to_string(),
        accepted: U::ACCEPTED,
    };
    let t = text.trim();
    let dollar = t.starts_with('$');
    let t = t.strip_prefix('$').unwrap_or(t).trim_start();
    let (num, rest) = split_number(t);
    if num.is_empty() {
        return Err(err("no number"));
    }
    let cleaned: String = num.chars().filter(|c| *c != '_' && *c != ',').collect();
    let n: f64 = cleaned.parse().map_err(|_| err("not a number"))?;
    let suffix = rest.trim();
    // A leading "$" is the unit of a plain amount ("$30000").
    let unit_given = !suffix.is_empty() || (dollar && U::suffix("").is_some());
    let mult = if !unit_given && !U::BARE_NUMBER {
        return Err(err("a unit is required"));
    } else {
        U::suffix(suffix).ok_or_else(|| err(&format!("unknown unit {suffix:?}")))?
    };
    check_value::<U>(n * mult).map_err(|r| err(&r.to_string()))
}

/// Why a number cannot be the value of a quantity; the reason part of a [`UnitError`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum ValueError {
    #[error("not a finite number")]
    NotFinite,
    #[error("must not be negative")]
    Negative,
    #[error("must be a whole number")]
    NotWhole,
    #[error("must be at most {0} ({1})")]
    Above(String, &'static str),
}

fn check_value<U: Unit>(v: f64) -> Result<f64, ValueError> {
    if !v.is_finite() {
        return Err(ValueError::NotFinite);
    }
    if v < 0.0 {
        return Err(ValueError::Negative);
    }
    if U::INTEGRAL && v.fract() != 0.0 {
        return Err(ValueError::NotWhole);
    }
    if let Some((max, why)) = U::MAX
        && v > max
    {
        return Err(ValueError::Above(U::format(max), why));
    }
    Ok(v)
}

/// Splits "3.35TB/s" into ("3.35", "TB/s"); an exponent is part of the number only when digits
/// follow it, so "5min" and "2e6" both split correctly.
fn split_number(t: &str) -> (&str, &str) {
    let b = t.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'_' || b[i] == b',') {
        i += 1;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    (&t[..i], &t[i..])
}

/// Formats a number compactly without losing precision (shortest round-trip form).
fn num(v: f64) -> String {
    let s = format!("{v}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

impl<U: Unit> Serialize for Quantity<U> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&U::format(self.0))
    }
}

impl<'de, U: Unit> Deserialize<'de> for Quantity<U> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<U>(PhantomData<U>);
        impl<U: Unit> Visitor<'_> for V<U> {
            type Value = Quantity<U>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a {} ({})", U::WHAT, U::ACCEPTED)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                s.parse().map_err(|e: UnitError| E::custom(e))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                if !U::BARE_NUMBER {
                    return Err(E::custom(format!(
                        "invalid {} {v}: a unit is required; accepted: {}",
                        U::WHAT,
                        U::ACCEPTED
                    )));
                }
                check_value::<U>(v).map(Quantity::new).map_err(|r| {
                    E::custom(format!(
                        "invalid {} {v}: {r}; accepted: {}",
                        U::WHAT,
                        U::ACCEPTED
                    ))
                })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                self.visit_f64(v as f64)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

fn metric(s: &str) -> Option<f64> {
    Some(match s {
        "" => 1.0,
        "k" | "K" => 1e3,
        "M" | "m" => 1e6,
        "B" | "G" | "b" | "g" => 1e9,
        "T" | "t" => 1e12,
        _ => return None,
    })
}

/// The dearest token price accepted, $/M tokens. List prices top out near $600/M (2026);
/// as exact money it is 1e10 pico-dollars a token, so a year of the largest fleet accepted
/// (1e9 agents x 1e9 tokens a day x 366 days = 3.7e20 tokens) is 3.7e30 pico-dollars, far
/// inside the i128 that money is summed in (1.7e38), and the price itself far inside the i64
/// it is kept in (9.2e18 pico-dollars a token; beyond about $9.2e12/M it would saturate).
pub const MAX_USD_PER_MTOK: f64 = 10_000.0;
/// The dearest hourly price of one device accepted.
pub const MAX_USD_PER_HOUR: f64 = 10_000.0;
/// The dearest electricity accepted, $/kWh.
pub const MAX_USD_PER_KWH: f64 = 10.0;
/// The largest amount of money accepted (capex per device, budgets).
pub const MAX_USD: f64 = 1e12;

macro_rules! unit {
    ($(#[$doc:meta])* $name:ident, $what:expr, $accepted:expr, bare = $bare:expr $(, integral = $int:expr)?
     $(, max = $max:expr)?,
     suffix = |$s:ident| $suffix:expr, format = |$v:ident| $format:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub enum $name {}
        impl Unit for $name {
            const WHAT: &'static str = $what;
            const ACCEPTED: &'static str = $accepted;
            const BARE_NUMBER: bool = $bare;
            $(const INTEGRAL: bool = $int;)?
            $(const MAX: Option<(f64, &'static str)> = Some($max);)?
            fn suffix($s: &str) -> Option<f64> {
                $suffix
            }
            fn format($v: f64) -> String {
                $format
            }
        }
    };
}

unit!(
    /// A number of tokens (base: tokens). "30M", "1.5k", "2e6", 100000.
    TokenUnit, "token count", "a number with an optional k, M, B or T suffix, e.g. 30M, 1.5k, 2e6, 100000",
    bare = true,
    suffix = |s| metric(s.trim_end_matches("tokens").trim_end_matches("tok").trim()),
    format = |v| num(v)
);
unit!(
    /// A whole count (agents, replicas). "1M", 2000000, 1e6.
    CountUnit, "count", "a whole number with an optional k, M or B suffix, e.g. 1000000, 1M, 1e6",
    bare = true, integral = true,
    suffix = |s| metric(s),
    format = |v| num(v)
);
unit!(
    /// A duration (base: seconds). "150ms", "10s", "5min", "24h", "5y".
    SecondsUnit, "duration", "a number with ns, us, ms, s, min, h, d, w or y, e.g. 150ms, 10s, 24h, 5y",
    bare = false,
    suffix = |s| Some(match s {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        "w" | "week" | "weeks" => 7.0 * 86_400.0,
        "y" | "yr" | "yrs" | "year" | "years" => 365.25 * 86_400.0,
        _ => return None,
    }),
    format = |v| format!("{}s", num(v))
);
unit!(
    /// Electrical power (base: watts). "700W", "1.2 kW", "10 MW".
    WattsUnit, "power", "a number with W, kW, MW or GW, e.g. 700W, 10.2 kW",
    bare = false,
    suffix = |s| Some(match s {
        "W" | "w" => 1.0,
        "kW" | "KW" | "kw" => 1e3,
        "MW" | "mw" => 1e6,
        "GW" | "gw" => 1e9,
        _ => return None,
    }),
    format = |v| format!("{}W", num(v))
);
unit!(
    /// Memory size (base: bytes). "80GB" (decimal), "80 GiB" (binary).
    BytesUnit, "memory size", "a number with B, kB, MB, GB, TB (decimal) or KiB, MiB, GiB, TiB (binary), e.g. 80GB",
    bare = false,
    suffix = |s| bytes_suffix(s),
    format = |v| format!("{}B", num(v))
);
unit!(
    /// Bandwidth (base: bytes per second). "3.35 TB/s", "450GB/s".
    BandwidthUnit, "bandwidth", "a number with GB/s or TB/s (or MB/s, GiB/s), e.g. 3.35TB/s",
    bare = false,
    suffix = |s| s.strip_suffix("/s").and_then(bytes_suffix),
    format = |v| format!("{}B/s", num(v))
);
unit!(
    /// Compute throughput (base: FLOP/s). "989 TFLOPS", "9 PFLOPS".
    FlopsUnit, "compute throughput", "a number with GFLOPS, TFLOPS or PFLOPS (or TOPS), e.g. 989 TFLOPS",
    bare = false,
    suffix = |s| Some(match s {
        "FLOPS" | "OPS" => 1.0,
        "GFLOPS" | "GOPS" => 1e9,
        "TFLOPS" | "TOPS" => 1e12,
        "PFLOPS" | "POPS" => 1e15,
        _ => return None,
    }),
    format = |v| format!("{}FLOPS", num(v))
);
unit!(
    /// An amount of money (base: USD). "$30000", "$30k", "$2.5M", "1200 USD".
    UsdUnit, "amount of money", "a dollar amount, e.g. $30000, $30k, $2.5M, 1200 USD",
    bare = false,
    max = (MAX_USD, "a trillion dollars, more than any fleet's capex"),
    suffix = |s| usd_amount(s),
    format = |v| format!("${}", num(v))
);
unit!(
    /// A price per hour (base: USD per hour). "$2.50/h", "$60/day".
    UsdPerHourUnit, "hourly price", "dollars per hour or per day, e.g. $2.50/h, $2.50/hr, $60/day",
    bare = false,
    max = (MAX_USD_PER_HOUR, "a device-hour; a whole 8-GPU node rents for under $100/h"),
    suffix = |s| {
        let (amount, per) = s.rsplit_once('/')?;
        let m = usd_amount(amount.trim())?;
        let h = match per.trim() {
            "h" | "hr" | "hour" => 1.0,
            "day" | "d" => 24.0,
            "month" | "mo" => 730.5,
            _ => return None,
        };
        Some(m / h)
    },
    format = |v| format!("${}/h", num(v))
);
unit!(
    /// An electricity price (base: USD per kWh). "$0.08/kWh", "$80/MWh".
    UsdPerKwhUnit, "electricity price", "dollars per kWh or MWh, e.g. $0.08/kWh, $80/MWh",
    bare = false,
    max = (MAX_USD_PER_KWH, "the dearest retail tariffs are below $1/kWh"),
    suffix = |s| {
        let (amount, per) = s.rsplit_once('/')?;
        let m = usd_amount(amount.trim())?;
        match per.trim() {
            "kWh" | "kwh" => Some(m),
            "MWh" | "mwh" => Some(m / 1000.0),
            _ => None,
        }
    },
    format = |v| format!("${}/kWh", num(v))
);
unit!(
    /// A token price (base: USD per million tokens). "$0.30/M", "$30/Mtok", "$0.0003/k".
    UsdPerMTokUnit, "token price", "dollars per million tokens, e.g. $0.30/M, $30/Mtok, $0.0003/ktok",
    bare = false,
    max = (MAX_USD_PER_MTOK, "the dearest list price is about $600/M"),
    suffix = |s| {
        let (amount, per) = s.rsplit_once('/')?;
        let m = usd_amount(amount.trim())?;
        let per = per.trim();
        let per = per.strip_suffix("tokens").or_else(|| per.strip_suffix("tok")).unwrap_or(per).trim();
        match per {
            "M" | "1M" | "m" => Some(m),
            "k" | "K" | "1k" | "1K" => Some(m * 1e3),
            "" | "1" => Some(m * 1e6),
            _ => None,
        }
    },
    format = |v| format!("${}/M", num(v))
);
unit!(
    /// A ratio in [0, ∞): 0.8 or "80%". Upper bounds are checked where they matter.
    FractionUnit, "fraction", "a number such as 0.8 or a percentage such as 80%",
    bare = true,
    suffix = |s| match s { "" => Some(1.0), "%" => Some(0.01), _ => None },
    format = |v| num(v)
);

fn bytes_suffix(s: &str) -> Option<f64> {
    Some(match s {
        "B" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "TiB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    })
}

fn usd_amount(s: &str) -> Option<f64> {
    let s = s
        .strip_suffix("USD")
        .or_else(|| s.strip_suffix("usd"))
        .unwrap_or(s)
        .trim();
    metric(s)
}

/// Token counts ("30M").
pub type Tokens = Quantity<TokenUnit>;
/// Whole counts ("1M" agents).
pub type Count = Quantity<CountUnit>;
/// Durations, in seconds.
pub type Seconds = Quantity<SecondsUnit>;
/// Power, in watts.
pub type Watts = Quantity<WattsUnit>;
/// Memory sizes, in bytes.
pub type Bytes = Quantity<BytesUnit>;
/// Bandwidths, in bytes per second.
pub type Bandwidth = Quantity<BandwidthUnit>;
/// Compute throughputs, in FLOP/s.
pub type Flops = Quantity<FlopsUnit>;
/// Money amounts, in USD.
pub type Usd = Quantity<UsdUnit>;
/// Hourly prices, in USD per hour.
pub type UsdPerHour = Quantity<UsdPerHourUnit>;
/// Electricity prices, in USD per kWh.
pub type UsdPerKwh = Quantity<UsdPerKwhUnit>;
/// Token prices, in USD per million tokens.
pub type UsdPerMTok = Quantity<UsdPerMTokUnit>;
/// Ratios.
pub type Fraction = Quantity<FractionUnit>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_people_write() {
        assert_eq!(parse::<TokenUnit>("30M").unwrap(), 30e6);
        assert_eq!(parse::<TokenUnit>("1.5k").unwrap(), 1500.0);
        assert_eq!(parse::<TokenUnit>("2e6").unwrap(), 2e6);
        assert_eq!(parse::<TokenUnit>("100_000").unwrap(), 1e5);
        assert_eq!(parse::<SecondsUnit>("150ms").unwrap(), 0.15);
        assert_eq!(parse::<SecondsUnit>("5min").unwrap(), 300.0);
        assert_eq!(parse::<SecondsUnit>("24 h").unwrap(), 86_400.0);
        assert_eq!(parse::<WattsUnit>("10.2 kW").unwrap(), 10_200.0);
        assert_eq!(parse::<BytesUnit>("80GB").unwrap(), 80e9);
        assert_eq!(parse::<BandwidthUnit>("3.35TB/s").unwrap(), 3.35e12);
        assert_eq!(parse::<UsdUnit>("$30k").unwrap(), 30_000.0);
        assert_eq!(parse::<UsdPerHourUnit>("$2.50/h").unwrap(), 2.5);
        assert_eq!(parse::<UsdPerHourUnit>("$60/day").unwrap(), 2.5);
        assert_eq!(parse::<UsdPerKwhUnit>("$0.08/kWh").unwrap(), 0.08);
        assert_eq!(parse::<UsdPerKwhUnit>("$80/MWh").unwrap(), 0.08);
        assert_eq!(parse::<UsdPerMTokUnit>("$0.30/M").unwrap(), 0.30);
        assert_eq!(parse::<UsdPerMTokUnit>("$30/Mtok").unwrap(), 30.0);
        assert!((parse::<UsdPerMTokUnit>("$0.0003/ktok").unwrap() - 0.3).abs() < 1e-12);
        assert_eq!(parse::<FractionUnit>("80%").unwrap(), 0.8);
        assert_eq!(parse::<CountUnit>("1M").unwrap(), 1e6);
        assert_eq!(parse::<FlopsUnit>("989 TFLOPS").unwrap(), 989e12);
    }

    #[test]
    fn rejects_what_it_cannot_read_and_says_what_it_accepts() {
        let e = parse::<SecondsUnit>("2 parsecs").unwrap_err();
        assert!(e.to_string().contains("unknown unit \"parsecs\""), "{e}");
        assert!(e.to_string().contains("accepted: a number with ns"), "{e}");
        assert!(
            parse::<SecondsUnit>("2").is_err(),
            "bare durations are ambiguous"
        );
        assert!(parse::<TokenUnit>("NaN").is_err());
        assert!(parse::<TokenUnit>("inf").is_err());
        assert!(parse::<TokenUnit>("-5").is_err());
        assert!(parse::<CountUnit>("1.5").is_err());
        assert!(parse::<TokenUnit>("1e999").is_err());
        assert!(parse::<UsdPerHourUnit>("$2.50").is_err());
    }

    #[test]
    fn value_checks_give_their_reason() {
        let reason = |r: Result<f64, UnitError>| r.unwrap_err().reason;
        assert_eq!(reason(parse::<TokenUnit>("1e999")), "not a finite number");
        assert_eq!(reason(parse::<TokenUnit>("-5")), "must not be negative");
        assert_eq!(reason(parse::<CountUnit>("1.5")), "must be a whole number");
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            n: Quantity<CountUnit>,
        }
        let e = toml::from_str::<T>("n = 1.5").unwrap_err();
        let want = format!(
            "invalid count 1.5: must be a whole number; accepted: {}",
            CountUnit::ACCEPTED
        );
        assert!(e.to_string().contains(&want), "{e}");
    }

    #[test]
    fn formats_round_trip() {
        fn rt<U: Unit>(s: &str) {
            let v = parse::<U>(s).unwrap();
            assert_eq!(parse::<U>(&U::format(v)).unwrap(), v, "{s}");
        }
        rt::<SecondsUnit>("150ms");
        rt::<TokenUnit>("30M");
        rt::<UsdPerHourUnit>("$2.5/h");
        rt::<WattsUnit>("700W");
        rt::<BandwidthUnit>("3.35TB/s");
        rt::<UsdPerMTokUnit>("$0.028/M");
        rt::<FractionUnit>("0.8");
        rt::<BytesUnit>("80GB");
        rt::<UsdUnit>("$30k");
        rt::<UsdPerKwhUnit>("$0.08/kWh");
    }

    #[test]
    fn deserializes_numbers_and_strings() {
        #[derive(Deserialize)]
        struct T {
            a: Tokens,
            b: Tokens,
            c: Seconds,
        }
        let t: T = toml::from_str("a = 30000000\nb = \"30M\"\nc = \"2s\"").unwrap();
        assert_eq!((t.a.get(), t.b.get(), t.c.get()), (30e6, 30e6, 2.0));
        let e = toml::from_str::<T>("a = 1\nb = 2\nc = 2").err().unwrap();
        assert!(e.to_string().contains("a unit is required"), "{e}");
    }
}
