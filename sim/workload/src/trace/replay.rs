//! A trace made ready to replay: the options (speed, copies, jitter, horizon) checked, calls
//! cut to the served model's window, and the per-copy time shifts and jitters drawn from the
//! seed (so a replay is reproducible and independent of thread count).

use tokenfleet_engine::rng::{Subsystem, hash_unit, hash3};
use tokenfleet_engine::time::MAX_SPAN_S;

use super::model::Trace;
use crate::call::CallSpec;

/// How to replay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplayOptions {
    /// Time runs this many times faster (0.5: twice as slow).
    pub speed: f64,
    /// Copies of the trace.
    pub copies: u32,
    /// Upper bound of the uniform jitter added to copies' request times (seconds).
    pub jitter_s: f64,
    /// The horizon; default: the replay's span plus an hour to drain, in whole hours.
    pub duration_s: Option<f64>,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            speed: 1.0,
            copies: 1,
            jitter_s: 1.0,
            duration_s: None,
        }
    }
}

/// A trace ready to replay on a setup.
#[derive(Debug, Clone)]
pub struct Replay {
    pub trace: Trace,
    pub options: ReplayOptions,
    /// Calls whose prompt was cut to fit the model's window (prompt + output <= window).
    pub clipped: u64,
    /// The usable window of the served model, in tokens.
    pub window: u64,
}

/// Why a replay cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReplayError {
    #[error("--trace-model {0}: no pool serves it; models served: {1}")]
    Model(String, String),
    #[error("{0}")]
    Options(String),
}

impl Replay {
    /// Prepares `trace` for `setup`'s cluster: the model's window bounds every call.
    pub fn new(trace: Trace, options: ReplayOptions, window: u64) -> Result<Replay, ReplayError> {
        if !(options.speed.is_finite() && options.speed > 0.0) {
            return Err(ReplayError::Options(format!(
                "--trace-speed {}: must be a positive number",
                options.speed
            )));
        }
        if options.copies == 0 {
            return Err(ReplayError::Options(
                "--trace-copies 0: need at least one copy".into(),
            ));
        }
        if !(options.jitter_s.is_finite() && options.jitter_s >= 0.0) {
            return Err(ReplayError::Options(
                "--trace-jitter: must be a non-negative duration".into(),
            ));
        }
        let units = trace.units() as u128 * options.copies as u128;
        if units > u32::MAX as u128 / 2 || trace.rows as u128 * options.copies as u128 > 1 << 40 {
            return Err(ReplayError::Options(format!(
                "--trace-copies {}: {} copies of {} units is beyond what one run replays",
                options.copies,
                options.copies,
                trace.units()
            )));
        }
        if let Some(d) = options.duration_s
            && !(d > 0.0 && d <= MAX_SPAN_S)
        {
            return Err(ReplayError::Options(
                "--trace-duration: must be positive and at most 366 days".into(),
            ));
        }
        let mut r = Replay {
            trace,
            options,
            clipped: 0,
            window,
        };
        // The horizon sizes the hourly ledger: a slowed-down or jittered replay of a long trace
        // must not ask for centuries of it.
        let horizon = r.horizon_s();
        if !horizon.is_finite() || horizon > MAX_SPAN_S + 2.0 * 3600.0 {
            return Err(ReplayError::Options(format!(
                "--trace-speed {} --trace-copies {} --trace-jitter {}s: the replay would last {} days (the trace spans {} days; copies start over twice its span); accepted: at most 366 days; raise --trace-speed, lower --trace-jitter or give --trace-duration",
                tokenfleet_engine::text::num(options.speed),
                options.copies,
                tokenfleet_engine::text::num(options.jitter_s),
                tokenfleet_engine::text::num((horizon / 86_400.0).round()),
                tokenfleet_engine::text::num(r.trace.span() / 86_400.0)
            )));
        }
        let fits = |input: u32, output: u32| (input as u64 + output as u64) <= window;
        r.clipped = r
            .trace
            .requests
            .iter()
            .map(|q| (q.input, q.output))
            .chain(
                r.trace
                    .sessions
                    .iter()
                    .flat_map(|s| s.calls.iter().map(|c| (c.input, c.output))),
            )
            .filter(|&(i, o)| !fits(i, o))
            .count() as u64
            * options.copies as u64;
        Ok(r)
    }

    /// A call for a recorded (input, output, reusable), cut to fit the window.
    pub fn spec(&self, input: u32, output: u32, reusable: u32) -> CallSpec {
        let w = self.window.max(2);
        let output = (output.max(1) as u64).min(w / 2);
        let prompt = (input.max(1) as u64).min(w - output);
        CallSpec {
            prompt: prompt as u32,
            reusable: (reusable as u64).min(prompt) as u32,
            output: output as u32,
            reasoning: 0,
            compaction: false,
        }
    }

    /// Units in the replay: units of the trace times copies.
    pub fn units(&self) -> u64 {
        self.trace.units() * self.options.copies as u64
    }

    /// Calls the replay generates: rows times copies.
    pub fn calls(&self) -> u64 {
        self.trace.rows * self.options.copies as u64
    }

    /// Start shift of copy `copy`, in simulated seconds.
    pub fn shift(&self, seed: u64, copy: u32) -> f64 {
        if copy == 0 {
            return 0.0;
        }
        let u = hash_unit(hash3(seed, Subsystem::TraceCopy, copy as u64));
        u * self.trace.span() / self.options.speed
    }

    /// Jitter of item `k` of unit `unit` (copies >= 1 only), in seconds.
    pub fn jitter(&self, seed: u64, copy: u32, unit: u64, k: u64) -> f64 {
        if copy == 0 || self.options.jitter_s == 0.0 {
            return 0.0;
        }
        let h = hash3(
            seed ^ 0x5EED_7A1E,
            Subsystem::TraceCopy,
            unit.rotate_left(24) ^ k,
        );
        hash_unit(h) * self.options.jitter_s
    }

    /// The horizon: the requested duration, or the replay's span plus an hour, in whole hours.
    pub fn horizon_s(&self) -> f64 {
        match self.options.duration_s {
            Some(d) => d,
            None => {
                let span = self.trace.span() / self.options.speed;
                let shifted = if self.options.copies > 1 {
                    2.0 * span
                } else {
                    span
                };
                let end = shifted + self.options.jitter_s + 3600.0;
                (end / 3600.0).ceil() * 3600.0
            }
        }
    }
}
