//! `[simulation]` (how long, from which weekday) and `[engine]` (how the run is executed:
//! cells, sampling, the calls sample; not what is simulated).

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use tokenfleet_models::units::{Count, Fraction, Seconds};

/// How long to simulate, from 00:00 UTC of which weekday.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationSpec {
    #[serde(default = "default_duration")]
    pub duration: Seconds,
    /// Weekday of the first simulated day ("monday" ... "sunday" or "mon" ... "sun"); decides
    /// which simulated days are weekend days. Default Monday.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
}
fn default_duration() -> Seconds {
    Seconds::new(86_400.0)
}
impl Default for SimulationSpec {
    fn default() -> Self {
        SimulationSpec {
            duration: default_duration(),
            start: None,
        }
    }
}

/// How the run is executed (not what is simulated).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSpec {
    /// Replicas of the largest pool per cell; cells are the unit of parallelism and sampling.
    #[serde(default = "default_replicas_per_cell")]
    pub replicas_per_cell: Count,
    /// "auto" (sample cells so that about `max_sampled_calls` calls are simulated), "full",
    /// or a fraction of cells.
    #[serde(default)]
    pub sample: SampleSpec,
    #[serde(default = "default_max_sampled_calls")]
    pub max_sampled_calls: Count,
    /// Share of calls written to calls_sample.csv (decided by a hash, so deterministic).
    #[serde(default = "default_calls_sample_rate")]
    pub calls_sample_rate: Fraction,
    /// Upper bound on rows in calls_sample.csv.
    #[serde(default = "default_calls_sample_max")]
    pub calls_sample_max: Count,
    /// Simulate batches iteration by iteration instead of in closed form (a reference for
    /// tests and benchmarks; same results, many more events).
    #[serde(default)]
    pub stepping: bool,
}
fn default_replicas_per_cell() -> Count {
    Count::new(8.0)
}
fn default_max_sampled_calls() -> Count {
    Count::new(15e6)
}
fn default_calls_sample_rate() -> Fraction {
    Fraction::new(1e-3)
}
fn default_calls_sample_max() -> Count {
    Count::new(100_000.0)
}
impl Default for EngineSpec {
    fn default() -> Self {
        EngineSpec {
            replicas_per_cell: default_replicas_per_cell(),
            sample: SampleSpec::default(),
            max_sampled_calls: default_max_sampled_calls(),
            calls_sample_rate: default_calls_sample_rate(),
            calls_sample_max: default_calls_sample_max(),
            stepping: false,
        }
    }
}

/// "auto", "full" or a fraction in (0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum SampleSpec {
    #[default]
    Auto,
    Full,
    Fraction(f64),
}

impl Serialize for SampleSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            SampleSpec::Auto => s.serialize_str("auto"),
            SampleSpec::Full => s.serialize_str("full"),
            SampleSpec::Fraction(f) => s.serialize_f64(*f),
        }
    }
}

impl<'de> Deserialize<'de> for SampleSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = SampleSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"auto\", \"full\" or a fraction of cells in (0, 1]")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<SampleSpec, E> {
                match s {
                    "auto" => Ok(SampleSpec::Auto),
                    "full" => Ok(SampleSpec::Full),
                    _ => match s.parse::<Fraction>() {
                        Ok(f) => self.visit_f64(f.get()),
                        Err(_) => Err(E::custom(format!(
                            "invalid sample {s:?}; accepted: \"auto\", \"full\" or a fraction in (0, 1]"
                        ))),
                    },
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<SampleSpec, E> {
                if v > 0.0 && v <= 1.0 {
                    Ok(SampleSpec::Fraction(v))
                } else {
                    Err(E::custom(format!(
                        "invalid sample {v}; accepted: \"auto\", \"full\" or a fraction in (0, 1]"
                    )))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SampleSpec, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SampleSpec, E> {
                self.visit_f64(v as f64)
            }
        }
        d.deserialize_any(V)
    }
}
