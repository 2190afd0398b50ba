//! What `tokenfleet perf` computes: the replica a model needs on a device (the given tensor
//! and pipeline degrees; on an LPU as many chips as its SRAM needs; else the smallest tensor
//! degree that holds the model and one request), a closed loop of requests on it
//! ([`crate::closed_loop`]), and the figures derived from the loop: throughput per device and
//! per user, power and cost. The command only parses its arguments and prints this.

use tokenfleet_models::hardware::DeviceKind;
use tokenfleet_models::perf::{
    Calibration, CalibrationError, EngineProfile, LPU_ENGINE, PerfError, ReplicaPerf, ReplicaShape,
};
use tokenfleet_models::precision::Precision;
use tokenfleet_models::{Hardware, Model};
use tokenfleet_setup::Pool;

use crate::closed_loop::{
    BenchError, ClosedLoop, ClosedLoopResult, Start, closed_loop, requests_for,
};
use crate::cost::{usd_per_device_hour, usd_per_million_output_tokens};
use tokenfleet_models::perf::lpu_degrees;

/// One `tokenfleet perf` run: `concurrency` clients with no think time, each sending requests
/// of `isl` input and `osl` output tokens to one replica of `model` on `hardware`.
#[derive(Debug, Clone, Copy)]
pub struct PerfQuery<'a> {
    pub hardware: &'a Hardware,
    pub model: &'a Model,
    /// The engine profile ([`engine_for`]).
    pub profile: &'a EngineProfile,
    /// Tensor and pipeline degrees; those not given are chosen (see the module's opening).
    pub tp: Option<u32>,
    pub pp: Option<u32>,
    pub ep: u32,
    /// Weight precision [default: the model's published precision].
    pub weights: Option<Precision>,
    pub kv: Precision,
    pub isl: u32,
    pub osl: u32,
    pub concurrency: u32,
    /// How the benchmark's clients start and what its mean covers.
    pub start: Start,
}

/// What a run found.
#[derive(Debug, Clone)]
pub struct PerfRun {
    pub tp: u32,
    pub pp: u32,
    pub weights: Precision,
    /// The one-replica pool the loop ran on.
    pub pool: Pool,
    pub result: ClosedLoopResult,
    /// Mean power per device at the loop's activity.
    pub power_w: f64,
    /// The device's hourly cost ([`crate::cost`]), if the catalog has a rent or a price.
    pub usd_per_device_hour: Option<f64>,
    pub usd_per_million_output_tokens: Option<f64>,
}

impl PerfRun {
    /// Devices of the replica.
    pub fn devices(&self) -> u32 {
        self.pool.perf.devices
    }
    pub fn output_tokens_per_s_per_device(&self) -> f64 {
        self.result.output_tokens_per_s / self.devices() as f64
    }
    /// One client's decode speed: the inverse of TPOT.
    pub fn output_tokens_per_s_per_user(&self) -> f64 {
        1.0 / self.result.tpot_s.max(1e-12)
    }
}

/// Why a run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PerfRunError {
    /// The replica's devices cannot hold the model, with a tensor degree that could.
    #[error("{error} (with tp = {tp}, pp = {pp}: try --tp {try_tp})")]
    DoesNotFit {
        error: PerfError,
        tp: u32,
        pp: u32,
        try_tp: u32,
    },
    #[error(transparent)]
    Perf(PerfError),
    #[error("{model} on {devices} x {hardware} (tp {tp}, pp {pp})")]
    Bench {
        model: String,
        devices: u32,
        hardware: String,
        tp: u32,
        pp: u32,
        #[source]
        source: BenchError,
    },
}

/// The engine profile a run on `hw` uses and the name it goes by: SRAM chips always use the
/// LPU profile ([`Calibration::profile_for`]), other devices the `requested` engine or the
/// calibration's default.
pub fn engine_for<'c>(
    calibration: &'c Calibration,
    requested: Option<&str>,
    hw: &Hardware,
) -> Result<(String, &'c EngineProfile), CalibrationError> {
    let profile = calibration.profile_for(requested, hw)?;
    let id = if hw.kind == DeviceKind::Lpu {
        LPU_ENGINE.to_string()
    } else {
        requested.map_or_else(|| calibration.default_engine.clone(), str::to_string)
    };
    Ok((id, profile))
}

/// Tensor and pipeline degrees of the replica for `q` at weight precision `weights`.
fn degrees(q: &PerfQuery, weights: Precision) -> (u32, u32) {
    let (hw, arch, params) = (q.hardware, &q.model.arch, &q.profile.params);
    let need_tokens = q.isl as u64 + q.osl as u64;
    match (q.tp, q.pp, hw.kind) {
        (Some(tp), Some(pp), _) => (tp, pp),
        (tp, pp, DeviceKind::Lpu) => lpu_degrees(
            arch,
            weights,
            q.kv,
            need_tokens * q.concurrency as u64,
            hw,
            params,
            tp,
            pp,
        ),
        (Some(tp), None, _) => (tp, 1),
        (None, pp, _) => {
            let pp = pp.unwrap_or(1);
            // The smallest power of two within the scale-up domain that holds the weights and
            // one request's KV cache. With experts spread over `ep` devices the attention
            // degree must divide `ep`, and starts (and stays) at `ep`: no data-parallel
            // attention unless asked for with --tp.
            let mut tp = q.ep.max(1);
            let cap = if q.ep > 1 {
                q.ep
            } else {
                hw.scaleup_domain.max(1)
            };
            loop {
                let ok =
                    ReplicaPerf::new(&q.model.name, arch, hw, shape(q, tp, pp, weights), params)
                        .map(|p| p.kv_capacity_tokens >= need_tokens)
                        .unwrap_or(false);
                if ok || tp.saturating_mul(2) > cap {
                    break;
                }
                tp *= 2;
            }
            (tp, pp)
        }
    }
}

fn shape(q: &PerfQuery, tp: u32, pp: u32, weights: Precision) -> ReplicaShape {
    ReplicaShape {
        tp,
        pp,
        ep: q.ep,
        weights,
        kv: q.kv,
    }
}

/// Sizes the replica, runs the closed loop on it and derives the figures.
pub fn run(q: &PerfQuery) -> Result<PerfRun, PerfRunError> {
    let (hw, model, profile) = (q.hardware, q.model, q.profile);
    let weights = q.weights.unwrap_or(model.arch.native_precision);
    if hw.kind == DeviceKind::Lpu && q.ep > 1 {
        return Err(PerfRunError::Perf(PerfError::BadShape(format!(
            "expert parallelism (ep = {}) is not modelled on SRAM chips: an LPU pipeline holds each layer's experts on that layer's stage; leave out --ep",
            q.ep
        ))));
    }
    let (tp, pp) = degrees(q, weights);
    let pool = Pool::for_engine(
        hw,
        &model.name,
        &model.arch,
        shape(q, tp, pp, weights),
        profile,
        &profile.params,
    )
    .map_err(|e| match e {
        PerfError::DoesNotFit { min_devices, .. } => PerfRunError::DoesNotFit {
            error: e,
            tp,
            pp,
            try_tp: min_devices.next_power_of_two(),
        },
        other => PerfRunError::Perf(other),
    })?;
    let result = closed_loop(
        &pool,
        ClosedLoop {
            concurrency: q.concurrency,
            isl: q.isl,
            osl: q.osl,
            requests: requests_for(q.concurrency),
            start: q.start,
        },
    )
    .map_err(|source| PerfRunError::Bench {
        model: model.name.clone(),
        devices: pool.perf.devices,
        hardware: hw.id.clone(),
        tp,
        pp,
        source,
    })?;
    let devices = pool.perf.devices;
    let power_w = pool.power.power_w(result.activity);
    let usd_per_device_hour = usd_per_device_hour(hw);
    let usd_per_million_output_tokens = usd_per_device_hour
        .map(|c| usd_per_million_output_tokens(c, devices, result.output_tokens_per_s));
    Ok(PerfRun {
        tp,
        pp,
        weights,
        pool,
        result,
        power_w,
        usd_per_device_hour,
        usd_per_million_output_tokens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenfleet_models::Catalog;
    use tokenfleet_models::perf::chips_needed;

    #[test]
    fn sram_chips_always_run_the_lpu_profile() {
        let (c, cal) = (Catalog::builtin().unwrap(), Calibration::builtin().unwrap());
        let lpu = c.hardware("groq-lpu").unwrap();
        let (id, profile) = engine_for(cal, Some("sglang"), lpu).unwrap();
        assert_eq!(
            (id.as_str(), profile),
            (LPU_ENGINE, cal.profile(LPU_ENGINE).unwrap())
        );
        let h100 = c.hardware("h100-sxm").unwrap();
        let (id, profile) = engine_for(cal, None, h100).unwrap();
        assert_eq!((&id, profile), (&cal.default_engine, cal.default_profile()));
        assert_eq!(engine_for(cal, Some("sglang"), h100).unwrap().0, "sglang");
        assert!(engine_for(cal, Some("nope"), h100).is_err());
    }

    #[test]
    fn replicas_get_the_smallest_tensor_degree_that_holds_a_request_or_enough_chips() {
        let (c, cal) = (Catalog::builtin().unwrap(), Calibration::builtin().unwrap());
        let model = c.model("llama-3.1-70b").unwrap();
        let h100 = c.hardware("h100-sxm").unwrap();
        let q = PerfQuery {
            hardware: h100,
            model,
            profile: cal.default_profile(),
            tp: None,
            pp: None,
            ep: 1,
            weights: None,
            kv: Precision::Bf16,
            isl: 2048,
            osl: 256,
            concurrency: 4,
            start: Start::BENCHMARK,
        };
        let bf16 = model.arch.native_precision;
        let (tp, pp) = degrees(&q, bf16);
        assert_eq!(pp, 1);
        assert!(tp.is_power_of_two() && tp > 1, "{tp}");
        let fits = |tp| {
            ReplicaPerf::new(
                &model.name,
                &model.arch,
                h100,
                shape(&q, tp, 1, bf16),
                &q.profile.params,
            )
            .is_ok_and(|p| p.kv_capacity_tokens >= 2048 + 256)
        };
        assert!(fits(tp) && !fits(tp / 2));
        assert_eq!(degrees(&PerfQuery { tp: Some(2), ..q }, bf16), (2, 1));
        assert_eq!(degrees(&PerfQuery { pp: Some(2), ..q }, bf16).1, 2);
        // An LPU replica holds the weights and the KV cache of all four requests.
        let lpu = c.hardware("groq-lpu").unwrap();
        let on_lpu = PerfQuery {
            hardware: lpu,
            profile: cal.profile(LPU_ENGINE).unwrap(),
            ..q
        };
        let (tp, pp) = degrees(&on_lpu, Precision::Fp8);
        let chips = chips_needed(
            &model.arch,
            Precision::Fp8,
            Precision::Bf16,
            4 * (2048 + 256),
            lpu,
            &on_lpu.profile.params,
        );
        assert_eq!(tp % 8, 0);
        assert!(
            tp * pp >= chips && tp * (pp - 1) < chips,
            "{tp} x {pp} for {chips}"
        );
    }
}
