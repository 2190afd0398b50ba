//! What the reports show as the user wrote it: a segment's inputs (the assumptions page of
//! `report.html`) and the published figures to compare with. The resolved [`Segment`](tokenfleet_workload::Segment) holds fitted
//! distributions, which no longer say what was written ("p10 30M, p90 100M"); the setup keeps
//! these few fields instead of the whole parsed file, so that nothing downstream of the parser
//! depends on it.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use tokenfleet_models::dist::DistSpec;
use tokenfleet_models::units::{SecondsUnit, TokenUnit, Tokens};

/// One segment's written inputs, found by the segment's name.
#[derive(Debug, Clone)]
pub struct SegmentInputs {
    pub name: String,
    pub kind: Option<String>,
    pub daily_tokens: DistSpec<TokenUnit>,
    pub profile: ProfileSpec,
    pub timezone: i32,
    /// Mean tokens of one task, when the segment runs tasks.
    pub task_tokens: Option<Tokens>,
    pub spread: f64,
    pub system_tokens: DistSpec<TokenUnit>,
    pub new_tokens: DistSpec<TokenUnit>,
    pub output_tokens: DistSpec<TokenUnit>,
    pub tool_gap: DistSpec<SecondsUnit>,
    pub summary_tokens: DistSpec<TokenUnit>,
}

/// A published figure to set beside the simulated one (`[[reference]]`): "1M agents at about
/// $1,000 a day".
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedFigure {
    pub label: String,
    pub usd_per_year: Option<f64>,
    pub usd_per_agent_day: Option<f64>,
    pub source: String,
    /// The price set to compare with (default: the billed one).
    pub price_set: Option<String>,
}

/// A daily activity profile: a built-in name or 24 hourly weights (local time).
#[derive(Debug, Clone, PartialEq)]
pub enum ProfileSpec {
    Named(String),
    Weights(Vec<f64>),
}
impl Default for ProfileSpec {
    fn default() -> Self {
        ProfileSpec::Named("flat".into())
    }
}
impl Serialize for ProfileSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ProfileSpec::Named(n) => s.serialize_str(n),
            ProfileSpec::Weights(w) => w.serialize(s),
        }
    }
}
impl<'de> Deserialize<'de> for ProfileSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ProfileSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a profile name or a list of 24 hourly weights")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ProfileSpec, E> {
                Ok(ProfileSpec::Named(s.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<ProfileSpec, A::Error> {
                let mut w = Vec::new();
                while let Some(x) = a.next_element::<f64>()? {
                    w.push(x);
                }
                Ok(ProfileSpec::Weights(w))
            }
        }
        d.deserialize_any(V)
    }
}
