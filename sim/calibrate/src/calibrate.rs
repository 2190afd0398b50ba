//! The whole calibration `tokenfleet calibrate` runs (see docs/performance-model.md): the
//! kernel constants from the microbenchmarks, one profile per serving engine fitted on its
//! measured rows, the held-out fits, the power curve and the (unfitted) LPU profile, together
//! the [`Calibration`] that is written to models/catalog/calibration.toml. All of it is
//! deterministic: fixed starting points, fixed iteration counts, no randomness, so the same
//! data give the same file.

use std::collections::BTreeMap;

use tokenfleet_models::Catalog;
use tokenfleet_models::perf::{
    Admission, Calibration, EngineProfile, LPU_ENGINE, PerfParams, Scheduler,
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

/// A serving engine's defaults on an H100, as its documentation and source set them: what
/// the calibration does not fit.
#[derive(Debug, Clone, Copy)]
pub struct EngineDefaults {
    pub id: &'static str,
    pub description: &'static str,
    pub max_batch_tokens: u32,
    pub max_seqs: u32,
    pub scheduler: Scheduler,
    pub admission: Admission,
    /// How the engine sizes its KV cache ([`PerfParams`]'s memory fields).
    pub memory_utilization: f64,
    pub reserved_bytes_per_device: f64,
    pub kv_free_fraction: f64,
    pub memory_utilization_by_devices: Option<[f64; 5]>,
}

/// The engines the measured data covers, with their defaults:
/// - vLLM's OpenAI server: max_num_batched_tokens 8192, max_num_seqs 1024 on GPUs of ≥ 70 GiB
///   (vllm/engine/arg_utils.py); `gpu_memory_utilization` 0.9 of the device for weights,
///   activations and KV, activations and CUDA graphs taken as 3.5 GB (aiconfigurator).
/// - SGLang: prefill batches apart from decode batches ([`Scheduler::PrefillFirst`]);
///   chunked_prefill_size 8192 for GPUs above 25 GB, max running requests bounded by
///   memory (1024 here); `mem_fraction_static` of the device for weights and KV, activations
///   outside it: 0.88 on one GPU, 0.87 on 2, 0.85 on 4, 0.81 on 8, 0.79 on 16 or more
///   (sglang server_args.py, by world size).
/// - TensorRT-LLM (trtllm-serve): max_num_tokens 8192, max_batch_size 2048, the
///   `GUARANTEED_NO_EVICT` capacity scheduler ([`Admission::WholeRequest`]); the weights may
///   use the whole device but a 3.5 GB workspace, the KV cache takes
///   `kv_cache_free_gpu_memory_fraction` = 0.9 of what is left.
pub fn engine_defaults() -> Vec<EngineDefaults> {
    vec![
        EngineDefaults {
            id: "vllm",
            description: "vLLM (V1 engine, chunked prefill), fitted on its H100 rows",
            max_batch_tokens: 8192,
            max_seqs: 1024,
            scheduler: Scheduler::Mixed,
            admission: Admission::Prompt,
            memory_utilization: 0.9,
            reserved_bytes_per_device: 3.5e9,
            kv_free_fraction: 1.0,
            memory_utilization_by_devices: None,
        },
        EngineDefaults {
            id: "sglang",
            description: "SGLang (chunked prefill), fitted on its H100 rows",
            max_batch_tokens: 8192,
            max_seqs: 1024,
            scheduler: Scheduler::PrefillFirst,
            admission: Admission::Prompt,
            memory_utilization: 0.85,
            reserved_bytes_per_device: 0.0,
            kv_free_fraction: 1.0,
            memory_utilization_by_devices: Some([0.88, 0.87, 0.85, 0.81, 0.79]),
        },
        EngineDefaults {
            id: "trtllm",
            description: "TensorRT-LLM (in-flight batching), fitted on its H100 rows",
            max_batch_tokens: 8192,
            max_seqs: 2048,
            scheduler: Scheduler::Mixed,
            admission: Admission::WholeRequest,
            memory_utilization: 1.0,
            reserved_bytes_per_device: 3.5e9,
            kv_free_fraction: 0.9,
            memory_utilization_by_devices: None,
        },
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
        lowp_activation_bytes: kernels.lowp_activation_bytes,
        attention_efficiency: kernels.attention_efficiency,
        allreduce_latency_s: kernels.allreduce_latency_s,
        allreduce_latency_per_rank_s: kernels.allreduce_latency_per_rank_s,
        alltoall_latency_s: kernels.alltoall_latency_s,
        collective_efficiency: kernels.collective_efficiency,
        layer_overhead_s: kernels.layer_overhead_s,
        moe_layer_overhead_s: kernels.moe_layer_overhead_s,
        p2p_latency_s: PerfParams::PROVISIONAL.p2p_latency_s,
        // A start inside the range the data imply (tens of ms of client-side latency at low
        // load): the fit works on log scales and cannot climb from zero.
        request_overhead_s: 0.02,
        ..PerfParams::PROVISIONAL
    };
    let mut engine = BTreeMap::new();

    for d in engine_defaults() {
        let id = d.id;
        let rows = serving_rows(data, id, None, None);
        if rows.is_empty() {
            return Err(CalibrateError::NoData(format!("backend {id}")));
        }
        let start = PerfParams {
            memory_utilization: d.memory_utilization,
            reserved_bytes_per_device: d.reserved_bytes_per_device,
            kv_free_fraction: d.kv_free_fraction,
            memory_utilization_by_devices: d.memory_utilization_by_devices,
            ..start
        };
        let profile = EngineProfile {
            description: d.description.into(),
            max_batch_tokens: d.max_batch_tokens,
            max_seqs: d.max_seqs,
            scheduler: d.scheduler,
            admission: d.admission,
            params: start,
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
