//! `[energy]`: what electricity costs (a price, a catalog region or a peak/off-peak tariff)
//! and the sites' PUE; a pool may override both.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use tokenfleet_models::units::UsdPerKwh;

/// An electricity price: a price, a catalog region, or a peak/off-peak tariff.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ElectricitySpec {
    Price(UsdPerKwh),
    Region(String),
    Tariff(TariffSpec),
}

/// A two-rate time-of-day tariff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TariffSpec {
    pub peak: UsdPerKwh,
    pub off_peak: UsdPerKwh,
    /// Local "HH:MM-HH:MM" window of the peak rate.
    pub peak_hours: String,
    /// Hours east of UTC of the site (the simulated day is UTC).
    #[serde(default)]
    pub timezone: i32,
}

impl<'de> Deserialize<'de> for ElectricitySpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ElectricitySpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a price such as \"$0.08/kWh\", a region id, or { peak, off_peak, peak_hours, timezone }")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ElectricitySpec, E> {
                if s.trim_start().starts_with('$')
                    || s.chars().next().is_some_and(|c| c.is_ascii_digit())
                {
                    s.parse().map(ElectricitySpec::Price).map_err(E::custom)
                } else {
                    Ok(ElectricitySpec::Region(s.to_string()))
                }
            }
            fn visit_map<A: de::MapAccess<'de>>(self, m: A) -> Result<ElectricitySpec, A::Error> {
                TariffSpec::deserialize(de::value::MapAccessDeserializer::new(m))
                    .map(ElectricitySpec::Tariff)
            }
        }
        d.deserialize_any(V)
    }
}

/// Electricity and cooling.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergySpec {
    #[serde(default = "default_electricity")]
    pub electricity: ElectricitySpec,
    #[serde(default = "default_pue")]
    pub pue: f64,
}
/// The US industrial average (catalog region "us": EIA, 2023).
fn default_electricity() -> ElectricitySpec {
    ElectricitySpec::Region("us".into())
}
/// Between the 2024 industry average (1.56, Uptime Institute) and hyperscale sites (1.1-1.2).
fn default_pue() -> f64 {
    1.3
}
impl Default for EnergySpec {
    fn default() -> Self {
        EnergySpec {
            electricity: default_electricity(),
            pue: default_pue(),
        }
    }
}
