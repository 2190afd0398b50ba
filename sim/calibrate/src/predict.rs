//! Predictions of the measured points by the simulator's own serving code: a one-replica
//! pool ([`Pool::for_engine`], or [`Pool::standalone`] for splitwise's own engine) driven by the closed loop of [`crate::closed_loop`], so what
//! is fitted and checked is the simulator, not a separate formula.

use tokenfleet_models::perf::{EngineProfile, PerfParams, ReplicaShape};
use tokenfleet_models::precision::Precision;
use tokenfleet_models::{Catalog, Hardware, ModelArch};
use tokenfleet_setup::Pool;

use crate::closed_loop::{ClosedLoop, ClosedLoopResult, Start, closed_loop, requests_for};
use crate::data::{ServingPoint, SplitwisePoint, ThroughputPoint};
use crate::error::CalibrateError;

/// The catalog model a measured row names.
pub fn model_arch(catalog: &Catalog, id: &str) -> Result<(String, ModelArch), CalibrateError> {
    catalog
        .model(id)
        .map(|m| (m.name.clone(), m.arch.clone()))
        .ok_or_else(|| CalibrateError::Unknown {
            what: "model",
            id: id.into(),
        })
}

/// The catalog device a measured row names.
fn hardware<'c>(catalog: &'c Catalog, id: &str) -> Result<&'c Hardware, CalibrateError> {
    catalog.hardware(id).ok_or_else(|| CalibrateError::Unknown {
        what: "hardware",
        id: id.into(),
    })
}

/// A one-replica pool of `model` on `device`, run as `engine` runs it, with `params`.
fn engine_pool(
    catalog: &Catalog,
    device: &str,
    model: &str,
    shape: ReplicaShape,
    engine: &EngineProfile,
    params: &PerfParams,
) -> Result<Pool, CalibrateError> {
    let (name, arch) = model_arch(catalog, model)?;
    Ok(Pool::for_engine(
        hardware(catalog, device)?,
        &name,
        &arch,
        shape,
        engine,
        params,
    )?)
}

/// Predicts one measured serving point (H100, the engine's batching defaults).
pub fn predict_serving(
    catalog: &Catalog,
    point: &ServingPoint,
    profile: &EngineProfile,
    params: &PerfParams,
) -> Result<ClosedLoopResult, CalibrateError> {
    let shape = ReplicaShape::new(point.tp, point.pp, point.weights, point.kv);
    let p = engine_pool(catalog, "h100-sxm", &point.model, shape, profile, params)?;
    Ok(closed_loop(
        &p,
        ClosedLoop {
            concurrency: point.concurrency,
            isl: point.isl,
            osl: point.osl,
            requests: requests_for(point.concurrency),
            start: Start::BENCHMARK,
        },
    )?)
}

/// Predicts one splitwise point: a static batch (all prompts prefilled in one iteration,
/// then decoded together), which is a closed loop of `batch` clients on an engine whose token
/// budget holds the whole batch.
pub fn predict_splitwise(
    catalog: &Catalog,
    point: &SplitwisePoint,
    params: &PerfParams,
) -> Result<ClosedLoopResult, CalibrateError> {
    predict_splitwise_with(catalog, point, params, None)
}

/// [`predict_splitwise`] with the power curve's exponent set to `power_exponent`.
pub(crate) fn predict_splitwise_with(
    catalog: &Catalog,
    point: &SplitwisePoint,
    params: &PerfParams,
    power_exponent: Option<f64>,
) -> Result<ClosedLoopResult, CalibrateError> {
    let shape = ReplicaShape::new(point.tp, 1, Precision::Bf16, Precision::Bf16);
    let budget = point.batch * point.prompt + point.batch;
    let (name, arch) = model_arch(catalog, "llama-2-70b")?;
    let mut p = Pool::standalone(
        hardware(catalog, &point.hardware)?,
        &name,
        &arch,
        shape,
        params,
        budget,
        point.batch,
    )?;
    if let Some(g) = power_exponent {
        p.power.exponent = g;
    }
    Ok(closed_loop(
        &p,
        ClosedLoop {
            concurrency: point.batch,
            isl: point.prompt,
            osl: point.tokens,
            requests: 2 * point.batch,
            start: Start::Together,
        },
    )?)
}

/// Predicts one maximum-throughput point: per-GPU output tokens per second of an engine kept
/// full (as many clients as the engine takes sequences, each sending its next request at
/// once, measured in the steady state), as `trtllm-bench throughput` measures with every
/// request queued at once.
pub fn predict_throughput(
    catalog: &Catalog,
    point: &ThroughputPoint,
    profile: &EngineProfile,
) -> Result<f64, CalibrateError> {
    let shape = ReplicaShape {
        tp: point.tp,
        pp: 1,
        ep: point.ep,
        weights: point.weights,
        kv: point.kv,
    };
    let p = engine_pool(
        catalog,
        &point.hardware,
        &point.model,
        shape,
        profile,
        &profile.params,
    )?;
    let concurrency = profile.max_seqs;
    let r = closed_loop(
        &p,
        ClosedLoop {
            concurrency,
            isl: point.isl,
            osl: point.osl,
            requests: 2 * concurrency,
            start: Start::Staggered,
        },
    )?;
    Ok(r.output_tokens_per_s / p.perf.devices as f64)
}
