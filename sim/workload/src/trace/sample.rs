//! What `tokenfleet fit` reads from a trace: the values of each loop quantity and the facts
//! for its header, gathered from a trace in memory or, for Azure's CSV, from a stream.
//!
//! Why bounded: a week of Azure's trace is tens of millions of rows, and five quantities of
//! eight bytes a value would be most of a gigabyte before the fitting starts. Each quantity
//! keeps a uniform random sample of at most [`FIT_SAMPLE`] values (reservoir sampling, from a
//! fixed stream, so the same trace gives the same fragment), and its count, mean and share
//! of zeros exactly. A million values put a fitted parameter's sampling error near 0.1% and a
//! p99's near 1%, below what the four printed digits and the fits' own misfit show.

use std::io::BufRead;

use rand::Rng;
use tokenfleet_engine::rng::{SimRng, Subsystem, stream};

use super::azure;
use super::error::TraceError;
use super::model::{Format, Item, Trace};

/// The most values of one quantity that are kept to fit.
pub const FIT_SAMPLE: usize = 1_000_000;

/// A uniform sample of at most `cap` values of a stream, and the stream's exact count, sum
/// and zeros.
#[derive(Debug)]
pub struct Reservoir {
    pub values: Vec<f64>,
    /// Values offered.
    pub seen: u64,
    pub sum: f64,
    pub zeros: u64,
    cap: usize,
    rng: SimRng,
}

impl Reservoir {
    fn new(cap: usize, id: u64) -> Reservoir {
        Reservoir {
            values: Vec::new(),
            seen: 0,
            sum: 0.0,
            zeros: 0,
            cap,
            rng: stream(0, Subsystem::FitSample, id),
        }
    }

    pub fn push(&mut self, x: f64) {
        self.seen += 1;
        self.sum += x;
        self.zeros += (x == 0.0) as u64;
        if self.values.len() < self.cap {
            self.values.push(x);
        } else {
            // Algorithm R: the value replaces a kept one with probability cap / seen.
            let j = self.rng.next_u64() % self.seen;
            if (j as usize) < self.cap {
                self.values[j as usize] = x;
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.seen == 0
    }

    /// The exact mean of every value offered.
    pub fn mean(&self) -> f64 {
        self.sum / self.seen.max(1) as f64
    }

    /// The kept values are a sample, not all of them.
    pub fn sampled(&self) -> bool {
        self.seen > self.values.len() as u64
    }
}

/// The samples a trace gives for each loop quantity.
#[derive(Debug)]
pub struct Samples {
    /// The context a loop starts from (a session's or chain's first prompt).
    pub start: Reservoir,
    /// Tokens a call adds beyond the previous prompt and answer.
    pub new: Reservoir,
    pub output: Reservoir,
    /// Seconds before a call (think time, or the gap between arrivals).
    pub gap: Reservoir,
    /// Tokens (input + output) per loop.
    pub loop_tokens: Reservoir,
    /// Calls per loop.
    pub loop_calls: Reservoir,
    /// The gaps are arrivals of independent requests, not an agent's think time.
    pub open_loop: bool,
}

impl Samples {
    fn with_cap(cap: usize) -> Samples {
        Samples {
            start: Reservoir::new(cap, 0),
            new: Reservoir::new(cap, 1),
            output: Reservoir::new(cap, 2),
            gap: Reservoir::new(cap, 3),
            loop_tokens: Reservoir::new(cap, 4),
            loop_calls: Reservoir::new(cap, 5),
            open_loop: false,
        }
    }
}

/// A trace as `tokenfleet fit` sees it.
#[derive(Debug)]
pub struct Summary {
    pub format: Format,
    pub rows: u64,
    /// Seconds from the first request to the last.
    pub span: f64,
    /// Input tokens a prefix cache could serve, over all input.
    pub reusable_share: f64,
    /// Loops are sessions (else prefix chains).
    pub sessions: bool,
    pub samples: Samples,
}

impl Summary {
    /// The summary of a trace in memory.
    pub fn of(t: &Trace) -> Summary {
        Summary::of_capped(t, FIT_SAMPLE)
    }

    fn of_capped(t: &Trace, cap: usize) -> Summary {
        Summary {
            format: t.format,
            rows: t.rows,
            span: t.span(),
            reusable_share: t.reusable_share(),
            sessions: !t.sessions.is_empty(),
            samples: samples(t, cap),
        }
    }

    /// The summary of an Azure CSV read as a stream: every request stands alone, so the gaps
    /// are between arrivals of the whole trace, as [`Summary::of`] finds them.
    pub fn of_azure(file: &str, reader: impl BufRead) -> Result<Summary, TraceError> {
        let mut s = Samples::with_cap(FIT_SAMPLE);
        s.open_loop = true;
        let mut last: Option<f64> = None;
        let rows = azure::scan(file, reader, |r| {
            s.start.push(r.input as f64);
            s.output.push(r.output as f64);
            s.loop_tokens.push(r.input as f64 + r.output as f64);
            s.loop_calls.push(1.0);
            if let Some(p) = last {
                s.gap.push((r.at - p).max(0.0));
            }
            last = Some(r.at);
        })?;
        Ok(Summary {
            format: Format::Azure,
            rows,
            span: last.unwrap_or(0.0),
            reusable_share: 0.0,
            sessions: false,
            samples: s,
        })
    }
}

fn samples(t: &Trace, cap: usize) -> Samples {
    let mut s = Samples::with_cap(cap);
    if t.sessions.is_empty() {
        s.open_loop = true;
        let chains = t.chain_start.len() - 1;
        let mut chained = false;
        let mut gaps = Reservoir::new(cap, 3);
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
                    gaps.push((r.at - p.at).max(0.0));
                }
            }
            s.loop_tokens.push(tokens);
            s.loop_calls.push(reqs.len() as f64);
        }
        if chained {
            s.open_loop = false;
            s.gap = gaps;
        } else {
            // Independent requests: the gaps between arrivals of the whole trace.
            for w in t.requests.windows(2) {
                s.gap.push((w[1].at - w[0].at).max(0.0));
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn azure_text(rows: usize) -> String {
        let mut t = String::from("TIMESTAMP,ContextTokens,GeneratedTokens\n");
        for i in 0..rows {
            let s = i as f64 * 0.37 + (i % 7) as f64 * 0.05;
            t.push_str(&format!(
                "2023-11-16 00:{:02}:{:09.6},{},{}\n",
                (s / 60.0) as u32,
                s % 60.0,
                100 + (i * 7919) % 5000,
                1 + (i * 104_729) % 700
            ));
        }
        t
    }

    #[test]
    fn the_stream_and_the_trace_in_memory_agree() {
        let text = azure_text(500);
        let t = azure::parse("a.csv", &text).unwrap();
        let a = Summary::of(&t);
        let b = Summary::of_azure("a.csv", text.as_bytes()).unwrap();
        assert_eq!((a.rows, a.span), (b.rows, b.span));
        for (x, y) in [
            (&a.samples.start, &b.samples.start),
            (&a.samples.output, &b.samples.output),
            (&a.samples.gap, &b.samples.gap),
            (&a.samples.loop_tokens, &b.samples.loop_tokens),
        ] {
            assert_eq!(x.values, y.values);
            assert_eq!((x.seen, x.sum), (y.seen, y.sum));
        }
    }

    #[test]
    fn a_capped_sample_keeps_exact_counts_and_a_uniform_subset() {
        let text = azure_text(5_000);
        let t = azure::parse("a.csv", &text).unwrap();
        let s = Summary::of_capped(&t, 1000).samples;
        assert_eq!(s.output.seen, 5000);
        assert_eq!(s.output.values.len(), 1000);
        assert!(s.output.sampled());
        let all: Vec<f64> = t.requests.iter().map(|r| r.output as f64).collect();
        let exact = all.iter().sum::<f64>() / all.len() as f64;
        assert!((s.output.mean() - exact).abs() < 1e-9);
        // A uniform sample's mean is within a few standard errors of the whole's.
        let sd = (all.iter().map(|x| (x - exact).powi(2)).sum::<f64>() / 5000.0).sqrt();
        let kept = s.output.values.iter().sum::<f64>() / 1000.0;
        assert!(
            (kept - exact).abs() < 4.0 * sd / 1000f64.sqrt(),
            "{kept} vs {exact}"
        );
        // Every kept value is one of the trace's, and the sample is the same every time.
        assert!(s.output.values.iter().all(|v| all.contains(v)));
        assert_eq!(
            Summary::of_capped(&t, 1000).samples.output.values,
            s.output.values
        );
    }
}
