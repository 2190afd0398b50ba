//! The distributions of a trace, as a scenario fragment to paste (`tokenfleet fit TRACE`).
//!
//! For each quantity (a loop's starting context, new tokens per call, output tokens, the gap
//! before a call) the log-normal, gamma, Weibull and exponential fits are ranked by their
//! Kolmogorov-Smirnov distance to the data, and the best is printed as a `[fleet.segment.task]`
//! key, with the data's quantiles and the other fits as comments. Zeros (a gap of 0 s) become
//! a mixture weight on zero.

use std::fmt::Write;

use tokenfleet_models::dist::DistSpec;
use tokenfleet_models::dist::fit::{self, Stats};
use tokenfleet_models::units::{Quantity, SecondsUnit, TokenUnit, Unit};

use super::model::Format;
use super::sample::{Reservoir, Summary};

/// A number for people: whole above 100, three significant digits below.
fn num(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{}", fit::round_sig(x, 3))
    }
}

fn stats_comment(out: &mut String, what: &str, st: &Stats, unit: &str) {
    let _ = writeln!(
        out,
        "# {what}: {} values; p10 {}{unit}, p50 {}{unit}, p90 {}{unit}, p99 {}{unit}, mean {}{unit}{}",
        st.n,
        num(st.p10),
        num(st.p50),
        num(st.p90),
        num(st.p99),
        num(st.mean),
        if st.zeros > 0.0 {
            format!(", {:.1}% zeros", st.zeros * 100.0)
        } else {
            String::new()
        }
    );
}

/// Statistics of a quantity: quantiles from the kept values, count, mean and zeros exact.
fn stats(r: &Reservoir) -> Stats {
    let mut st = fit::stats(&r.values);
    st.n = r.seen as usize;
    st.mean = r.mean();
    st.zeros = r.zeros as f64 / r.seen.max(1) as f64;
    st
}

/// `key = <best fit>` with comments, or a constant when the data cannot be fitted.
fn fitted<U: Unit>(out: &mut String, key: &str, what: &str, values: &Reservoir, unit: &str) {
    let st = stats(values);
    stats_comment(out, what, &st, unit);
    if values.sampled() {
        let _ = writeln!(
            out,
            "#   fitted on a uniform random sample of {} of them",
            values.values.len()
        );
    }
    let fits = fit::fit::<U>(&values.values).unwrap_or_default();
    let others: Vec<String> = fits
        .iter()
        .map(|f| format!("{} KS {:.3}", family(&f.spec), f.ks))
        .collect();
    let spec: DistSpec<U> = match fits.into_iter().next() {
        Some(best) => {
            let _ = writeln!(out, "#   fits (best first): {}", others.join(", "));
            fit::with_zeros(best.spec, st.zeros)
        }
        None => {
            let _ = writeln!(
                out,
                "#   too few distinct positive values to fit: a constant"
            );
            DistSpec::Constant {
                value: Quantity::new(fit::round_sig(st.mean, 4)),
            }
        }
    };
    let _ = writeln!(out, "{key} = {}", spec.to_toml());
}

fn family<U: Unit>(d: &DistSpec<U>) -> &'static str {
    match d {
        DistSpec::LogNormal(_) => "lognormal",
        DistSpec::Gamma(_) => "gamma",
        DistSpec::Weibull(_) => "weibull",
        DistSpec::Exponential { .. } => "exponential",
        DistSpec::Pareto { .. } => "pareto",
        DistSpec::Uniform { .. } => "uniform",
        DistSpec::Constant { .. } => "constant",
        DistSpec::Empirical(_) => "empirical",
        DistSpec::Mixture { .. } => "mixture",
    }
}

/// The fragment for the trace `t` (a [`Summary`] of it).
pub fn fragment(t: &Summary, shown: &str) -> String {
    let s = &t.samples;
    let mut out = String::new();
    let span_h = t.span / 3600.0;
    let _ = writeln!(
        out,
        "# Fitted by `tokenfleet fit {shown}`: {} trace, {} requests over {:.2} h.",
        t.format.name(),
        t.rows,
        span_h
    );
    let _ = writeln!(
        out,
        "# Prefix reuse: {:.1}% of input tokens repeat the previous request's prefix (block ids{}).",
        t.reusable_share * 100.0,
        match t.format {
            Format::Azure => ": none recorded",
            Format::Mooncake => ", 512-token blocks, within prefix chains",
            Format::ClaudeCode => ", per context",
        }
    );
    if !s.loop_calls.is_empty() {
        let st = stats(&s.loop_calls);
        let _ = writeln!(
            out,
            "# Loops ({}): {} with calls per loop p10 {:.0}, p50 {:.0}, p90 {:.0}, mean {:.1}.",
            if t.sessions {
                "sessions"
            } else {
                "prefix chains"
            },
            st.n,
            st.p10,
            st.p50,
            st.p90,
            st.mean
        );
    }
    let _ = writeln!(
        out,
        "# Paste under a [[fleet.segment]] (set name, share, model, daily_tokens); keys left out keep their defaults."
    );
    let _ = writeln!(out, "[fleet.segment.task]");
    let mean_tokens = s.loop_tokens.mean().max(1000.0);
    let _ = writeln!(
        out,
        "# mean tokens (input + output) per loop\ntokens = \"{}\"",
        fit::round_sig(mean_tokens, 4)
    );
    if s.loop_tokens.values.len() >= 2 {
        let logs: Vec<f64> = s
            .loop_tokens
            .values
            .iter()
            .map(|v| v.max(1.0).ln())
            .collect();
        let m = logs.iter().sum::<f64>() / logs.len() as f64;
        let sd = (logs.iter().map(|l| (l - m).powi(2)).sum::<f64>() / logs.len() as f64).sqrt();
        let _ = writeln!(
            out,
            "# log-normal sigma of tokens per loop\nspread = {}",
            fit::round_sig(sd.clamp(0.0, 3.0), 3)
        );
    }
    fitted::<TokenUnit>(
        &mut out,
        "system_tokens",
        "first prompt of a loop (tokens)",
        &s.start,
        "",
    );
    if s.new.is_empty() {
        let _ = writeln!(
            out,
            "# no follow-up calls: every request stands alone (a one-call loop)\nnew_tokens = 1"
        );
    } else {
        fitted::<TokenUnit>(
            &mut out,
            "new_tokens",
            "tokens a call adds beyond the previous prompt and answer",
            &s.new,
            "",
        );
    }
    fitted::<TokenUnit>(
        &mut out,
        "output_tokens",
        "output tokens per call",
        &s.output,
        "",
    );
    let gap_what = if s.open_loop {
        "seconds between arrivals of the whole trace (a fleet's rate, not one agent's think time)"
    } else {
        "seconds before a call (think and tool time)"
    };
    if s.gap.is_empty() {
        let _ = writeln!(out, "# no gaps in the trace\ntool_gap = \"0s\"");
    } else {
        fitted::<SecondsUnit>(&mut out, "tool_gap", gap_what, &s.gap, " s");
    }
    out
}
