//! The whole calibration `tokenfleet calibrate` runs (see docs/performance-model.md): the
//! kernel constants from the microbenchmarks, one profile per serving engine fitted on its
//! measured rows, the held-out fits, the power curve and the (unfitted) LPU profile, together
//! the [`Calibration`] that is written to models/catalog/calibration.toml. All of it is
//! deterministic: fixed starting points, fixed iteration counts, no randomness, so the same
//! data give the same file.

use std::collections::BTreeMap;

use tokenfleet_models::Catalog;
use tokenfleet_models::perf::{
    BenchmarkProtocol, Calibration, EngineProfile, LPU_ENGINE, PerfParams,
};

use crate::check::serving_errors;
use crate::data::{MeasuredData, SERVING_CSV, serving_rows};
use crate::engine::fit_engine;
use crate::error::CalibrateError;
use crate::holdout::{SPLITWISE_ENGINE, fit_splitwise_engine, fit_without_models};
use crate::kernels::{KernelFit, fit_kernels};
use crate::lpu::lpu_profile;
use crate::power::fit_power;

/// What `tokenfleet calibrate` produces.
#[derive(Debug, Clone)]
pub struct CalibrationRun {
    pub kernels: KernelFit,
    pub calibration: Calibration,
}

/// The engines the measured data covers, with their batching defaults on an H100: vLLM's
/// OpenAI server (max_num_batched_tokens 8192, max_num_seqs 1024 on GPUs of ≥ 70 GiB,
/// vllm/engine/arg_utils.py), SGLang (chunked_prefill_size 8192 for 60-160 GB GPUs,
/// sglang server_args.py; max running requests bounded by memory, 1024 here), TensorRT-LLM
/// (max_num_tokens 8192, max_batch_size 2048 defaults of trtllm-serve).
pub fn engine_defaults() -> Vec<(&'static str, &'static str, u32, u32)> {
    vec![
        (
            "vllm",
            "vLLM (V1 engine, chunked prefill), fitted on its H100 rows",
            8192,
            1024,
        ),
        (
            "sglang",
            "SGLang (chunked prefill), fitted on its H100 rows",
            8192,
            1024,
        ),
        (
            "trtllm",
            "TensorRT-LLM (in-flight batching), fitted on its H100 rows",
            8192,
            2048,
        ),
    ]
}

/// Runs the whole calibration: kernels, one profile per engine, held-out fits.
pub fn calibrate(
    catalog: &Catalog,
    data: &MeasuredData,
    iters: usize,
    mut progress: impl FnMut(&str),
) -> Result<CalibrationRun, CalibrateError> {
    let h100 = catalog
        .hardware("h100-sxm")
        .ok_or_else(|| CalibrateError::Unknown {
            what: "hardware",
            id: "h100-sxm".into(),
        })?;
    let kernels = fit_kernels(data, h100)?;
    progress(&format!("kernels: {kernels:?}"));
    let start = PerfParams {
        compute_efficiency: kernels.compute_efficiency,
        lowp_compute_efficiency: kernels.lowp_compute_efficiency,
        attention_efficiency: kernels.attention_efficiency,
        allreduce_latency_s: kernels.allreduce_latency_s,
        allreduce_latency_per_rank_s: kernels.allreduce_latency_per_rank_s,
        alltoall_latency_s: kernels.alltoall_latency_s,
        collective_efficiency: kernels.collective_efficiency,
        layer_overhead_s: kernels.layer_overhead_s,
        p2p_latency_s: PerfParams::PROVISIONAL.p2p_latency_s,
        // A start inside the range the data imply (tens of ms of client-side latency at low
        // load): the fit works on log scales and cannot climb from zero.
        request_overhead_s: 0.02,
        ..PerfParams::PROVISIONAL
    };
    let mut engine = BTreeMap::new();

    for (id, description, max_batch_tokens, max_seqs) in engine_defaults() {
        let rows = serving_rows(data, id, None, None);
        if rows.is_empty() {
            return Err(CalibrateError::NoData(format!("backend {id}")));
        }
        let profile = EngineProfile {
            description: description.into(),
            max_batch_tokens,
            max_seqs,
            params: start,
            benchmark: BenchmarkProtocol::default(),
            campaigns: BTreeMap::new(),
            fit: None,
        };
        let mut profile = fit_engine(catalog, &rows, &profile, &start, iters);
        let e = serving_errors(catalog, &rows, &profile, &profile.params);
        profile.fit = Some(e.summary(&format!("{SERVING_CSV}: backend {id}, all rows")));
        progress(&format!("engine {id}: {:?}", profile.fit));
        engine.insert(id.to_string(), profile);
    }

    let mut holdout = fit_without_models(catalog, data, &engine, &start, iters, &mut progress);
    let sw = fit_splitwise_engine(catalog, data, &start, iters, &mut progress);

    // The power curve, with the activity the splitwise engine's runs have in the simulator.
    let power = fit_power(catalog, data, &sw.params)?;
    progress(&format!("power curve: {power:?}"));
    holdout.insert(SPLITWISE_ENGINE.to_string(), sw);

    engine.insert(LPU_ENGINE.to_string(), lpu_profile(&kernels));
    let calibration = Calibration {
        default_engine: "vllm".into(),
        engine,
        holdout,
        power,
    };
    Ok(CalibrationRun {
        kernels,
        calibration,
    })
}
