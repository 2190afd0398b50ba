//! The numeric flags' parsers: each says the accepted range when a value is outside it, a
//! negative number included (clap would otherwise take `-1` for a flag and say only that it
//! is unexpected). Paired with `allow_negative_numbers` on each argument.

/// A whole number from `lo` to `hi`, as a `T`.
pub fn whole<T: TryFrom<u64>>(
    lo: u64,
    hi: u64,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    move |s: &str| {
        let accepted = || format!("accepted: a whole number from {lo} to {hi}");
        let v: u64 = s.trim().parse().map_err(|_| accepted())?;
        if !(lo..=hi).contains(&v) {
            return Err(accepted());
        }
        T::try_from(v).map_err(|_| accepted())
    }
}

/// A finite number in `(lo, hi]` (`lo` excluded) or `[lo, hi]`, as `what` says in the message.
pub fn number(
    lo: f64,
    lo_included: bool,
    hi: f64,
    hi_included: bool,
) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync + 'static {
    move |s: &str| {
        let accepted = || {
            format!(
                "accepted: a number {} {lo} and {} {hi}",
                if lo_included { "from" } else { "above" },
                if hi_included { "up to" } else { "below" }
            )
        };
        let v: f64 = s.trim().parse().map_err(|_| accepted())?;
        let above = if lo_included { v >= lo } else { v > lo };
        let below = if hi_included { v <= hi } else { v < hi };
        if v.is_finite() && above && below {
            Ok(v)
        } else {
            Err(accepted())
        }
    }
}

/// `I/N`, a shard of a run or a sweep.
pub fn shard(s: &str) -> Result<tokenfleet_fleet::run::Shard, String> {
    s.parse()
        .map_err(|e: tokenfleet_fleet::run::ShardError| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_stated_and_enforced() {
        let t = whole::<u32>(1, 8);
        assert_eq!(t("8"), Ok(8));
        for bad in ["-1", "0", "9", "x", "1.5"] {
            assert_eq!(
                t(bad),
                Err("accepted: a whole number from 1 to 8".into()),
                "{bad}"
            );
        }
        let f = number(0.0, false, 1.0, true);
        assert_eq!(f("1"), Ok(1.0));
        for bad in ["0", "-0.5", "1.01", "nan", "inf"] {
            assert!(f(bad).is_err(), "{bad}");
        }
        assert!(shard("-1/2").unwrap_err().contains("expected I/N"));
    }
}
