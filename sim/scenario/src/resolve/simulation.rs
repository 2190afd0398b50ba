//! `[simulation]` and `[engine]`: the simulated span (its length and first weekday) and how
//! the run is executed.

use tokenfleet_setup::{EngineSetup, Sample};
use tokenfleet_workload::activity;

use super::checker::Checker;
use crate::spec::scenario::Scenario;
use crate::spec::simulation::{EngineSpec, SampleSpec};

/// The simulated span, as the segments' activity tables need it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Calendar {
    pub(crate) horizon_s: f64,
    /// Weekday of the first simulated day (0 is Monday).
    pub(crate) start_day: u32,
}

/// The horizon in seconds and in (started) hours. A horizon that cannot be simulated is a
/// problem, and the rest is still checked on a day.
pub(crate) fn horizon(s: &Scenario, c: &mut Checker) -> (f64, usize) {
    let mut horizon_s = s.simulation.duration.get();
    if !(horizon_s > 0.0 && horizon_s <= tokenfleet_engine::time::MAX_SPAN_S) {
        c.add(
            "simulation.duration",
            format!(
                "{}; accepted: a positive duration of at most a year (366d)",
                if horizon_s > 0.0 {
                    "beyond what one run simulates"
                } else {
                    "must be positive"
                }
            ),
        );
        // The rest is still checked, on a day: activity tables are sized by the horizon.
        horizon_s = 86_400.0;
    }
    let hours = (horizon_s / 3600.0).ceil().max(1.0) as usize;
    (horizon_s, hours)
}

/// The weekday of the first simulated day (default Monday).
pub(crate) fn start_day(s: &Scenario, c: &mut Checker) -> u32 {
    match &s.simulation.start {
        None => 0,
        Some(name) => match activity::weekday(name) {
            Some(d) => d,
            None => {
                c.add(
                    "simulation.start",
                    format!(
                        "unknown weekday `{name}`; accepted: {} (or their first three letters)",
                        activity::WEEKDAYS.join(", ")
                    ),
                );
                0
            }
        },
    }
}

/// The range of `engine.max_sampled_calls`.
const MIN_SAMPLED_CALLS: f64 = 1e3;
const MAX_SAMPLED_CALLS: f64 = 1e11;

/// How the run is executed: cells, sampling and the calls sample.
pub(crate) fn engine(e: &EngineSpec, c: &mut Checker) -> EngineSetup {
    if e.replicas_per_cell.get() < 1.0 {
        c.add("engine.replicas_per_cell", "must be at least 1");
    }
    let max_calls = e.max_sampled_calls.get();
    if !(MIN_SAMPLED_CALLS..=MAX_SAMPLED_CALLS).contains(&max_calls) {
        c.add(
            "engine.max_sampled_calls",
            format!(
                "must be from 1000 to 100B (fewer calls say nothing about latency percentiles; \
                 a run of more is refused by its size anyway); got {max_calls}"
            ),
        );
    }
    if e.calls_sample_rate.get() > 1.0 {
        c.add("engine.calls_sample_rate", "must be at most 1");
    }
    let sample = match e.sample {
        SampleSpec::Auto => Sample::Auto {
            max_calls: e.max_sampled_calls.get().max(1.0),
        },
        SampleSpec::Full => Sample::Fraction(1.0),
        SampleSpec::Fraction(f) => Sample::Fraction(f),
    };
    EngineSetup {
        stepping: e.stepping,
        replicas_per_cell: e.replicas_per_cell.get() as u64,
        sample,
        calls_sample_rate: e.calls_sample_rate.get(),
        calls_sample_max: e.calls_sample_max.get() as u64,
    }
}
