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

use super::model::{Format, Item, Trace};

/// The samples a trace gives for each loop quantity.
#[derive(Debug, Default)]
struct Samples {
    /// The context a loop starts from (a session's or chain's first prompt).
    start: Vec<f64>,
    /// Tokens a call adds beyond the previous prompt and answer.
    new: Vec<f64>,
    output: Vec<f64>,
    /// Seconds before a call (think time, or the gap between arrivals).
    gap: Vec<f64>,
    /// Tokens (input + output) per loop.
    loop_tokens: Vec<f64>,
    /// Calls per loop.
    loop_calls: Vec<f64>,
    /// The gaps are arrivals of independent requests, not an agent's think time.
    open_loop: bool,
}

fn samples(t: &Trace) -> Samples {
    let mut s = Samples::default();
    if t.sessions.is_empty() {
        s.open_loop = true;
        let chains = t.chain_start.len() - 1;
        let mut chained = false;
        for c in 0..chains {
            let reqs = &t.chain_reqs[t.chain_start[c] as usize..t.chain_start[c + 1] as usize];
            let mut tokens = 0.0;
            for (i, &k) in reqs.iter().enumerate() {
                let r = &t.requests[k as usize];
                s.output.push(r.output as f64);
                tokens += r.input as f64 + r.output as f64;
                if i == 0 {
                    s.start.push(r.input as f64);
                } else {
                    chained = true;
                    let p = &t.requests[reqs[i - 1] as usize];
                    s.new
                        .push((r.input as f64 - (p.input as f64 + p.output as f64)).max(1.0));
                    s.gap.push((r.at - p.at).max(0.0));
                }
            }
            s.loop_tokens.push(tokens);
            s.loop_calls.push(reqs.len() as f64);
        }
        if !chained {
            // Independent requests: the gaps between arrivals of the whole trace.
            s.gap = t
                .requests
                .windows(2)
                .map(|w| (w[1].at - w[0].at).max(0.0))
                .collect();
        } else {
            s.open_loop = false;
        }
        return s;
    }
    for sess in &t.sessions {
        for ctx in &sess.contexts {
            let mut prev: Option<(u32, u32)> = None;
            let (mut tokens, mut calls) = (0.0, 0.0);
            for item in &sess.items[ctx.items.start as usize..ctx.items.end as usize] {
                let Item::Call(k) = *item else { continue };
                let c = &sess.calls[k as usize];
                s.output.push(c.output as f64);
                tokens += c.input as f64 + c.output as f64;
                calls += 1.0;
                match prev {
                    None => s.start.push(c.input as f64),
                    Some((pi, po)) => {
                        s.new
                            .push((c.input as f64 - (pi as f64 + po as f64)).max(1.0));
                        s.gap.push(c.think);
                    }
                }
                prev = Some((c.input, c.output));
            }
            if calls > 0.0 && ctx.parent.is_none() {
                s.loop_tokens.push(tokens);
                s.loop_calls.push(calls);
            }
        }
    }
    s
}

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

/// `key = <best fit>` with comments, or a constant when the data cannot be fitted.
fn fitted<U: Unit>(out: &mut String, key: &str, what: &str, values: &[f64], unit: &str) {
    let st = fit::stats(values);
    stats_comment(out, what, &st, unit);
    let fits = fit::fit::<U>(values).unwrap_or_default();
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

/// The fragment for `t`.
pub fn fragment(t: &Trace, shown: &str) -> String {
    let s = samples(t);
    let mut out = String::new();
    let span_h = t.span() / 3600.0;
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
        t.reusable_share() * 100.0,
        match t.format {
            Format::Azure => ": none recorded",
            Format::Mooncake => ", 512-token blocks, within prefix chains",
            Format::ClaudeCode => ", per context",
        }
    );
    if !s.loop_calls.is_empty() {
        let st = fit::stats(&s.loop_calls);
        let _ = writeln!(
            out,
            "# Loops ({}): {} with calls per loop p10 {:.0}, p50 {:.0}, p90 {:.0}, mean {:.1}.",
            if t.sessions.is_empty() {
                "prefix chains"
            } else {
                "sessions"
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
    let mean_tokens = fit::stats(&s.loop_tokens).mean.max(1000.0);
    let _ = writeln!(
        out,
        "# mean tokens (input + output) per loop\ntokens = \"{}\"",
        fit::round_sig(mean_tokens, 4)
    );
    if s.loop_tokens.len() >= 2 {
        let logs: Vec<f64> = s.loop_tokens.iter().map(|v| v.max(1.0).ln()).collect();
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
