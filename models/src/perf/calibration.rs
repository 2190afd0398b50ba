//! The fitted performance parameters, per serving engine, compiled in from
//! `catalog/calibration.toml`.
//!
//! `tokenfleet calibrate` writes that file from the measured data in `tests/fixtures/measured`
//! (see docs/performance-model.md); its header says how and on what it was produced. Engines
//! differ in scheduling and per-iteration overheads (a C++ runtime vs a Python scheduler), so
//! each has its own [`PerfParams`]; what depends on the hardware comes from the hardware's own
//! figures, so one engine's set applies to every device it runs on.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::params::PerfParams;
use crate::hardware::{DeviceKind, Hardware};

/// The compiled-in calibration file.
pub const CALIBRATION_TOML: &str = include_str!("../../catalog/calibration.toml");

/// The profile used for SRAM chips (devices of kind `lpu`) whatever engine is asked for: their
/// statically scheduled pipelines share nothing with a GPU engine's overheads.
pub const LPU_ENGINE: &str = "lpu";

/// How well a profile's fit reproduces its data (absolute relative errors, as fractions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitSummary {
    /// The measured rows the profile was fitted on.
    pub data: String,
    pub rows: u32,
    pub tpot_median_error: f64,
    pub tpot_p90_error: f64,
    pub ttft_median_error: f64,
    pub ttft_p90_error: f64,
}

/// One serving engine: its batching defaults and its fitted parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineProfile {
    pub description: String,
    /// Token budget of one iteration (vLLM max_num_batched_tokens, SGLang
    /// chunked_prefill_size, TensorRT-LLM max_num_tokens).
    pub max_batch_tokens: u32,
    /// Sequences in one batch at most.
    pub max_seqs: u32,
    /// How iterations are shared between prefills and decodes.
    #[serde(default)]
    pub scheduler: super::scheduler::Scheduler,
    /// How requests are admitted into the KV cache.
    #[serde(default)]
    pub admission: super::scheduler::Admission,
    pub params: PerfParams,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit: Option<FitSummary>,
}

/// All engine profiles and the one the simulator uses by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    pub default_engine: String,
    pub engine: BTreeMap<String, EngineProfile>,
    /// Profiles fitted on subsets of the data, which the accuracy tests use to predict what
    /// was left out (a model, a device). Not for simulation.
    #[serde(default)]
    pub holdout: BTreeMap<String, EngineProfile>,
    /// The fitted shape of the idle-to-TDP power curve (crate::power).
    pub power: crate::power::PowerCurveFit,
}

/// A calibration file that cannot be used, or an engine that is not in it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalibrationError {
    #[error("calibration file: {0}")]
    Parse(String),
    #[error("unknown engine `{engine}`; accepted: {accepted}")]
    UnknownEngine { engine: String, accepted: String },
}

impl Calibration {
    /// The compiled-in calibration, parsed once.
    pub fn builtin() -> Result<&'static Calibration, CalibrationError> {
        static BUILTIN: OnceLock<Result<Calibration, CalibrationError>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| Calibration::parse(CALIBRATION_TOML))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parses and checks a calibration file.
    pub fn parse(text: &str) -> Result<Calibration, CalibrationError> {
        let c: Calibration =
            toml::from_str(text).map_err(|e| CalibrationError::Parse(e.to_string()))?;
        if !c.engine.contains_key(&c.default_engine) {
            return Err(CalibrationError::Parse(format!(
                "default_engine `{}` has no [engine.{}] table",
                c.default_engine, c.default_engine
            )));
        }
        if !c.engine.contains_key(LPU_ENGINE) {
            return Err(CalibrationError::Parse(format!(
                "the [engine.{LPU_ENGINE}] profile for SRAM chips is missing"
            )));
        }
        let gamma = c.power.exponent;
        // Above 1 the curve would be convex, below 0.2 a step: neither is a device.
        if !(0.2..=1.5).contains(&gamma) {
            return Err(CalibrationError::Parse(format!(
                "power.exponent = {gamma} is not in [0.2, 1.5]"
            )));
        }
        for (id, e) in c.engine.iter().chain(&c.holdout) {
            let p = &e.params;
            let fractions = [
                ("compute_efficiency", p.compute_efficiency),
                ("lowp_compute_efficiency", p.lowp_compute_efficiency),
                ("attention_efficiency", p.attention_efficiency),
                ("memory_efficiency", p.memory_efficiency),
                ("collective_efficiency", p.collective_efficiency),
                ("memory_utilization", p.memory_utilization),
                ("kv_free_fraction", p.kv_free_fraction),
            ];
            if let Some(t) = p.memory_utilization_by_devices
                && let Some(v) = t.iter().find(|v| !(**v > 0.0 && **v <= 1.0))
            {
                return Err(CalibrationError::Parse(format!(
                    "engine.{id}.params.memory_utilization_by_devices has {v}, not in (0, 1]"
                )));
            }
            for (name, v) in fractions {
                if !(v > 0.0 && v <= 1.0) {
                    return Err(CalibrationError::Parse(format!(
                        "engine.{id}.params.{name} = {v} is not in (0, 1]"
                    )));
                }
            }
            let times = [
                ("iteration_overhead_s", p.iteration_overhead_s),
                ("layer_overhead_s", p.layer_overhead_s),
                ("moe_layer_overhead_s", p.moe_layer_overhead_s),
                ("per_seq_overhead_s", p.per_seq_overhead_s),
                ("allreduce_latency_s", p.allreduce_latency_s),
                (
                    "allreduce_latency_per_rank_s",
                    p.allreduce_latency_per_rank_s,
                ),
                ("alltoall_latency_s", p.alltoall_latency_s),
                ("p2p_latency_s", p.p2p_latency_s),
                ("request_overhead_s", p.request_overhead_s),
                ("lowp_activation_bytes", p.lowp_activation_bytes),
                ("reserved_bytes_per_device", p.reserved_bytes_per_device),
            ];
            for (name, v) in times {
                if !(v >= 0.0 && v.is_finite()) {
                    return Err(CalibrationError::Parse(format!(
                        "engine.{id}.params.{name} = {v} must be finite and not negative"
                    )));
                }
            }
            if e.max_seqs == 0 || e.max_seqs >= e.max_batch_tokens {
                return Err(CalibrationError::Parse(format!(
                    "engine.{id}: max_seqs must be between 1 and max_batch_tokens - 1"
                )));
            }
        }
        Ok(c)
    }

    pub fn profile(&self, engine: &str) -> Result<&EngineProfile, CalibrationError> {
        self.engine
            .get(engine)
            .ok_or_else(|| CalibrationError::UnknownEngine {
                engine: engine.to_string(),
                accepted: self.engine_ids(),
            })
    }

    /// The default engine's profile (present: [`Calibration::parse`] checks it).
    pub fn default_profile(&self) -> &EngineProfile {
        &self.engine[&self.default_engine]
    }

    /// The profile to use for `engine` (default: the default engine) on `hw`: SRAM chips
    /// always use the LPU profile.
    pub fn profile_for(
        &self,
        engine: Option<&str>,
        hw: &Hardware,
    ) -> Result<&EngineProfile, CalibrationError> {
        if hw.kind == DeviceKind::Lpu {
            return self.profile(LPU_ENGINE);
        }
        self.profile(engine.unwrap_or(&self.default_engine))
    }

    pub fn engine_ids(&self) -> String {
        self.engine.keys().cloned().collect::<Vec<_>>().join(", ")
    }

    /// The file text: `header` (comment lines) and the tables.
    pub fn to_toml(&self, header: &str) -> Result<String, CalibrationError> {
        let body = toml::to_string(self).map_err(|e| CalibrationError::Parse(e.to_string()))?;
        Ok(format!("{header}\n{body}"))
    }
}

impl Default for PerfParams {
    /// The calibrated parameters of the default engine (catalog/calibration.toml). The
    /// compiled-in file is checked by a test; were it unreadable, the provisional values apply.
    fn default() -> Self {
        Calibration::builtin()
            .map(|c| c.default_profile().params)
            .unwrap_or(PerfParams::PROVISIONAL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Catalog;

    #[test]
    fn builtin_calibration_parses_and_round_trips() {
        let c = Calibration::builtin().unwrap();
        assert!(c.engine.contains_key("vllm"));
        let text = c.to_toml("# test").unwrap();
        assert_eq!(&Calibration::parse(&text).unwrap(), c);
    }

    #[test]
    fn lpus_get_the_lpu_profile_and_unknown_engines_are_named() {
        let c = Calibration::builtin().unwrap();
        let cat = Catalog::builtin().unwrap();
        let lpu = cat.hardware("groq-lpu").unwrap();
        let gpu = cat.hardware("h100-sxm").unwrap();
        assert_eq!(
            c.profile_for(Some("vllm"), lpu).unwrap(),
            c.profile(LPU_ENGINE).unwrap()
        );
        assert_eq!(c.profile_for(None, gpu).unwrap(), c.default_profile());
        let e = c.profile_for(Some("nope"), gpu).unwrap_err();
        assert!(e.to_string().contains("vllm"), "{e}");
    }

    #[test]
    fn bad_values_are_rejected() {
        let c = Calibration::builtin().unwrap();
        let mut bad = c.clone();
        bad.engine.get_mut("vllm").unwrap().params.memory_efficiency = 1.5;
        let text = bad.to_toml("").unwrap();
        assert!(Calibration::parse(&text).is_err());
        let mut bad = c.clone();
        bad.default_engine = "nope".into();
        assert!(Calibration::parse(&bad.to_toml("").unwrap()).is_err());
    }
}
