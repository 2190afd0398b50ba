//! Accelerators: what a device can compute, hold, move, draw and cost.
//!
//! [`DeviceSpec`] is the written form (the built-in `catalog/hardware.toml`, or a scenario's own
//! `[[device]]` tables); every figure may carry its source and date (`{ value = "989 TFLOPS",
//! source = "...", date = "2023-09" }`) and the built-in catalog must (a test checks it).
//! [`Hardware`] is the resolved form in base units that the performance, power and cost models
//! read.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::precision::Precision;
use crate::units::{Bandwidth, Bytes, Flops, Usd, UsdPerHour, Watts};

/// Where a figure comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub source: String,
    pub date: String,
}

/// A figure with an optional source: either a bare value or `{ value, source, date }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sourced<T> {
    pub value: T,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sourced<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full<T> {
            value: T,
            source: String,
            date: String,
        }
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Sourced<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a value, or a table { value = ..., source = \"...\", date = \"YYYY-MM\" }",
                )
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let f = Full::<T>::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Sourced {
                    value: f.value,
                    source: Some(Source {
                        source: f.source,
                        date: f.date,
                    }),
                })
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                let value = T::deserialize(de::value::StrDeserializer::<E>::new(s))?;
                Ok(Sourced {
                    value,
                    source: None,
                })
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                let value = T::deserialize(de::value::F64Deserializer::<E>::new(v))?;
                Ok(Sourced {
                    value,
                    source: None,
                })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                let value = T::deserialize(de::value::I64Deserializer::<E>::new(v))?;
                Ok(Sourced {
                    value,
                    source: None,
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                let value = T::deserialize(de::value::U64Deserializer::<E>::new(v))?;
                Ok(Sourced {
                    value,
                    source: None,
                })
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// Rental price: a default and the market range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RentSpec {
    pub value: UsdPerHour,
    #[serde(default)]
    pub low: Option<UsdPerHour>,
    #[serde(default)]
    pub high: Option<UsdPerHour>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub date: Option<String>,
}

/// The class of device, which decides where weights live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// GPU with HBM/GDDR.
    Gpu,
    /// NPU/accelerator with HBM (Ascend, Gaudi).
    Npu,
    /// SRAM-only chip (Groq LPU): weights and KV must fit in on-chip memory across chips.
    Lpu,
}

/// A device as written in a catalog or scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSpec {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub vendor: String,
    pub kind: DeviceKind,
    pub scaleup_domain: Sourced<u32>,
    pub bf16: Sourced<Flops>,
    #[serde(default)]
    pub fp8: Option<Sourced<Flops>>,
    #[serde(default)]
    pub fp4: Option<Sourced<Flops>>,
    #[serde(default)]
    pub int8: Option<Sourced<Flops>>,
    pub memory: Sourced<Bytes>,
    pub memory_bandwidth: Sourced<Bandwidth>,
    pub scaleup_bandwidth: Sourced<Bandwidth>,
    pub tdp: Sourced<Watts>,
    /// Measured idle draw; when unknown, estimated from the catalog (see [`Hardware::idle_w`]).
    #[serde(default)]
    pub idle_power: Option<Sourced<Watts>>,
    #[serde(default)]
    pub price: Option<Sourced<Usd>>,
    #[serde(default)]
    pub rent: Option<RentSpec>,
}

/// Rental price range, USD per device-hour.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rent {
    pub usd_per_hour: f64,
    pub low: f64,
    pub high: f64,
}

/// A resolved device, in base units (FLOP/s, bytes, bytes/s, watts, USD).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hardware {
    pub id: String,
    pub name: String,
    pub vendor: String,
    pub kind: DeviceKind,
    pub scaleup_domain: u32,
    pub bf16_flops: f64,
    pub fp8_flops: Option<f64>,
    pub fp4_flops: Option<f64>,
    pub int8_ops: Option<f64>,
    pub memory_bytes: f64,
    pub memory_bandwidth: f64,
    /// Per device, per direction.
    pub scaleup_bandwidth: f64,
    pub tdp_w: f64,
    /// Idle power. Where no measurement exists it is `tdp_w` times the median idle/TDP ratio of
    /// the catalog's measured devices, and `idle_estimated` is set.
    pub idle_w: f64,
    pub idle_estimated: bool,
    pub price_usd: Option<f64>,
    pub rent: Option<Rent>,
}

/// A device spec that cannot be used, with the field at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("device `{id}`: field `{field}` {reason}")]
pub struct HardwareError {
    pub id: String,
    pub field: &'static str,
    pub reason: String,
}

impl DeviceSpec {
    /// Measured idle/TDP ratio, if the spec has both.
    pub fn idle_ratio(&self) -> Option<f64> {
        let tdp = self.tdp.value.get();
        self.idle_power
            .as_ref()
            .filter(|_| tdp > 0.0)
            .map(|i| i.value.get() / tdp)
    }

    /// Resolves the spec; `idle_fraction` estimates idle power when none is given.
    pub fn resolve(&self, idle_fraction: f64) -> Result<Hardware, HardwareError> {
        let err = |field: &'static str, reason: &str| HardwareError {
            id: self.id.clone(),
            field,
            reason: reason.to_string(),
        };
        let positive = |field: &'static str, v: f64| {
            if v > 0.0 {
                Ok(v)
            } else {
                Err(err(field, "must be positive"))
            }
        };
        if self.scaleup_domain.value == 0 {
            return Err(err("scaleup_domain", "must be at least 1"));
        }
        let tdp = positive("tdp", self.tdp.value.get())?;
        let (idle, idle_estimated) = match &self.idle_power {
            Some(i) => (i.value.get(), false),
            None => (tdp * idle_fraction, true),
        };
        if idle > tdp {
            return Err(err("idle_power", "must not exceed tdp"));
        }
        let rent = match &self.rent {
            None => None,
            Some(r) => {
                let v = positive("rent", r.value.get())?;
                let low = r.low.map_or(v, |x| x.get());
                let high = r.high.map_or(v, |x| x.get());
                if !(low <= v && v <= high) {
                    return Err(err("rent", "needs low <= value <= high"));
                }
                Some(Rent {
                    usd_per_hour: v,
                    low,
                    high,
                })
            }
        };
        Ok(Hardware {
            id: self.id.clone(),
            name: self.name.clone(),
            vendor: self.vendor.clone(),
            kind: self.kind,
            scaleup_domain: self.scaleup_domain.value,
            bf16_flops: positive("bf16", self.bf16.value.get())?,
            fp8_flops: self.fp8.as_ref().map(|f| f.value.get()),
            fp4_flops: self.fp4.as_ref().map(|f| f.value.get()),
            int8_ops: self.int8.as_ref().map(|f| f.value.get()),
            memory_bytes: positive("memory", self.memory.value.get())?,
            memory_bandwidth: positive("memory_bandwidth", self.memory_bandwidth.value.get())?,
            scaleup_bandwidth: positive("scaleup_bandwidth", self.scaleup_bandwidth.value.get())?,
            tdp_w: tdp,
            idle_w: idle,
            idle_estimated,
            price_usd: self.price.as_ref().map(|p| p.value.get()),
            rent,
        })
    }

    /// Names of the numeric figures that carry no source (the built-in catalog must have none).
    pub fn unsourced_fields(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut check = |name: &'static str, s: Option<&Option<Source>>| {
            if let Some(None) = s {
                out.push(name);
            }
        };
        check("scaleup_domain", Some(&self.scaleup_domain.source));
        check("bf16", Some(&self.bf16.source));
        check("fp8", self.fp8.as_ref().map(|f| &f.source));
        check("fp4", self.fp4.as_ref().map(|f| &f.source));
        check("int8", self.int8.as_ref().map(|f| &f.source));
        check("memory", Some(&self.memory.source));
        check("memory_bandwidth", Some(&self.memory_bandwidth.source));
        check("scaleup_bandwidth", Some(&self.scaleup_bandwidth.source));
        check("tdp", Some(&self.tdp.source));
        check("idle_power", self.idle_power.as_ref().map(|f| &f.source));
        check("price", self.price.as_ref().map(|f| &f.source));
        if let Some(r) = &self.rent
            && (r.source.is_none() || r.date.is_none())
        {
            out.push("rent");
        }
        out
    }
}

impl Hardware {
    /// Dense matmul throughput for weights stored at `weights` precision, and whether it is a
    /// low-precision (FP8/FP4/INT8) tensor-core rate, whose kernels reach a different share of
    /// peak than BF16 ones (per-block scales, activation quantization).
    ///
    /// FP8 and FP4 weights use the device's native rate. Without one the engine falls back to
    /// weight-only kernels that dequantize to BF16 (vLLM's Marlin W8A16/W4A16 on Ampere and on
    /// Hopper for FP4), so the BF16 rate applies; LPUs and NPUs run FP8 checkpoints as INT8
    /// (Groq TruePoint, Ascend W8A8), so their INT8 rate applies. Weight-only INT4 always
    /// multiplies in BF16.
    pub fn matmul(&self, weights: Precision) -> (f64, bool) {
        let int8 = match self.kind {
            DeviceKind::Gpu => None,
            DeviceKind::Npu | DeviceKind::Lpu => self.int8_ops,
        };
        let fp8 = self.fp8_flops.or(int8);
        let native = match weights {
            Precision::Bf16 | Precision::Int4 => None,
            Precision::Fp8 => fp8,
            Precision::Fp4 => self.fp4_flops.or(match self.kind {
                DeviceKind::Gpu => None,
                _ => fp8,
            }),
        };
        match native {
            Some(rate) => (rate, true),
            None => (self.bf16_flops, false),
        }
    }

    /// Dense matmul throughput for weights stored at `weights` precision (see [`Self::matmul`]).
    pub fn matmul_flops(&self, weights: Precision) -> f64 {
        self.matmul(weights).0
    }

    /// Whether the device computes `p` natively (for warnings, not errors: it still runs).
    pub fn supports(&self, p: Precision) -> bool {
        match p {
            Precision::Bf16 | Precision::Int4 => true,
            Precision::Fp8 | Precision::Fp4 => self.matmul(p).1,
        }
    }
}
