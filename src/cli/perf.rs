//! `tokenfleet perf`: TTFT, TPOT, latency and throughput of a closed loop of requests on one
//! replica, predicted by the simulator's own serving code (tokenfleet_calibrate::closed_loop).

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use serde_json::json;
use tokenfleet_calibrate::closed_loop::{ClosedLoop, Start, closed_loop, requests_for};
use tokenfleet_models::hardware::DeviceKind;
use tokenfleet_models::perf::{Calibration, PerfError, ReplicaPerf, ReplicaShape, chips_needed};
use tokenfleet_models::{Catalog, Precision};
use tokenfleet_setup::Pool;

#[derive(Args)]
pub struct PerfArgs {
    /// Device id (see the catalog), e.g. h100-sxm.
    #[arg(long)]
    hardware: String,
    /// Model id (see the catalog), e.g. llama-3.1-70b.
    #[arg(long)]
    model: String,
    /// Tensor-parallel degree [default: the smallest power of two that holds the model and
    /// the requests; for LPUs 8].
    #[arg(long)]
    tp: Option<u32>,
    /// Pipeline-parallel degree [default: 1; for LPUs as many stages as the chips need].
    #[arg(long)]
    pp: Option<u32>,
    /// Expert-parallel degree for MoE models (a multiple of tp; above tp, attention runs
    /// data-parallel).
    #[arg(long, default_value_t = 1)]
    ep: u32,
    /// Weight precision: bf16, fp8, fp4, int4 [default: the model's published precision].
    #[arg(long)]
    precision: Option<String>,
    /// KV-cache precision.
    #[arg(long, default_value = "bf16")]
    kv_precision: String,
    /// Input tokens per request.
    #[arg(long)]
    isl: u32,
    /// Output tokens per request.
    #[arg(long)]
    osl: u32,
    /// Concurrent requests (clients with no think time).
    #[arg(long)]
    concurrency: u32,
    /// Serving engine profile (see models/catalog/calibration.toml) [default: vllm].
    #[arg(long)]
    engine: Option<String>,
    /// Measured requests after the warm-up round [default: 3 x concurrency, at least 64].
    #[arg(long)]
    requests: Option<u32>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Tensor and pipeline degrees for `chips` LPU chips: the given ones, else stages of 8 chips
/// (one GroqNode) with at most one stage per layer.
fn lpu_layout(chips: u32, tp: Option<u32>, pp: Option<u32>, layers: u32) -> (u32, u32) {
    match (tp, pp) {
        (Some(tp), Some(pp)) => (tp, pp),
        (None, Some(pp)) => (chips.div_ceil(pp.max(1)).max(1), pp),
        (tp, None) => {
            let tp = tp.unwrap_or_else(|| {
                let per_stage = chips.div_ceil(layers.max(1)).max(8);
                per_stage.div_ceil(8) * 8
            });
            (tp, chips.div_ceil(tp.max(1)).max(1))
        }
    }
}

/// Straight-line depreciation when a device has a price but no rent (REFERENCE.md §7:
/// 5 years is the sensible default).
const DEPRECIATION_YEARS: f64 = 5.0;

fn precision(s: &str, flag: &str) -> Result<Precision> {
    Precision::parse(s)
        .ok_or_else(|| anyhow!("unknown {flag} `{s}`; accepted: {}", Precision::ACCEPTED))
}

pub fn perf(a: PerfArgs) -> Result<()> {
    if a.isl == 0 || a.osl == 0 || a.concurrency == 0 {
        bail!("--isl, --osl and --concurrency must be at least 1");
    }
    let catalog = Catalog::builtin()?;
    let hw = catalog.hardware(&a.hardware).ok_or_else(|| {
        anyhow!(
            "unknown hardware `{}`; accepted: {}",
            a.hardware,
            catalog.device_ids()
        )
    })?;
    let model = catalog.model(&a.model).ok_or_else(|| {
        anyhow!(
            "unknown model `{}`; accepted: {}",
            a.model,
            catalog.model_ids()
        )
    })?;
    let calibration = Calibration::builtin()?;
    let profile = calibration.profile_for(a.engine.as_deref(), hw)?;
    let engine_id = if hw.kind == DeviceKind::Lpu {
        tokenfleet_models::perf::LPU_ENGINE.to_string()
    } else {
        a.engine
            .clone()
            .unwrap_or_else(|| calibration.default_engine.clone())
    };
    let weights = match &a.precision {
        Some(p) => precision(p, "--precision")?,
        None => model.arch.native_precision,
    };
    let kv = precision(&a.kv_precision, "--kv-precision")?;
    let need_tokens = a.isl as u64 + a.osl as u64;

    let shape_for = |tp: u32, pp: u32| ReplicaShape {
        tp,
        pp,
        ep: a.ep,
        weights,
        kv,
    };
    let (tp, pp) = match (a.tp, a.pp, hw.kind) {
        (Some(tp), Some(pp), _) => (tp, pp),
        (tp, pp, DeviceKind::Lpu) => {
            // Chips in 8-chip nodes (GroqNode), enough for the weights and the KV cache of
            // every request in flight; stages of 8 chips, wider stages if there would be more
            // stages than layers.
            let chips = chips_needed(
                &model.arch,
                weights,
                kv,
                need_tokens * a.concurrency as u64,
                hw,
                &profile.params,
            );
            lpu_layout(chips, tp, pp, model.arch.layers)
        }
        (Some(tp), None, _) => (tp, 1),
        (None, pp, _) => {
            let pp = pp.unwrap_or(1);
            // The smallest power of two within the scale-up domain that holds the weights and
            // one request's KV cache.
            let mut tp = a.ep.max(1);
            loop {
                let ok = ReplicaPerf::new(
                    &model.name,
                    &model.arch,
                    hw,
                    shape_for(tp, pp),
                    &profile.params,
                )
                .map(|p| p.kv_capacity_tokens >= need_tokens)
                .unwrap_or(false);
                if ok || tp >= hw.scaleup_domain {
                    break;
                }
                tp *= 2;
            }
            (tp, pp)
        }
    };
    let shape = shape_for(tp, pp);
    let pool = Pool::standalone(
        hw,
        &model.name,
        &model.arch,
        shape,
        &profile.params,
        profile.max_batch_tokens,
        profile.max_seqs,
    )
    .map_err(|e| match e {
        PerfError::DoesNotFit { min_devices, .. } => anyhow!(
            "{e} (with tp = {tp}, pp = {pp}: try --tp {})",
            min_devices.next_power_of_two()
        ),
        other => anyhow!(other),
    })?;
    let requests = a.requests.unwrap_or_else(|| requests_for(a.concurrency));
    let r = closed_loop(
        &pool,
        ClosedLoop {
            concurrency: a.concurrency,
            isl: a.isl,
            osl: a.osl,
            requests,
            start: Start::Staggered,
        },
    )
    .with_context(|| {
        format!(
            "{} on {} x {} (tp {tp}, pp {pp})",
            model.name, pool.perf.devices, hw.id
        )
    })?;
    let devices = pool.perf.devices;
    let per_device = r.output_tokens_per_s / devices as f64;
    let power_w = pool.power.power_w(r.activity);
    let usd_per_device_hour = hw.rent.map(|x| x.usd_per_hour).or_else(|| {
        hw.price_usd
            .map(|p| p / (DEPRECIATION_YEARS * 365.25 * 24.0))
    });
    let usd_per_m_output = usd_per_device_hour
        .map(|c| c * devices as f64 / 3600.0 / r.output_tokens_per_s.max(1e-12) * 1e6);
    if a.json {
        let v = json!({
            "hardware": hw.id,
            "model": model.id,
            "engine": engine_id,
            "tp": tp,
            "pp": pp,
            "ep": a.ep,
            "precision": weights.name(),
            "kv_precision": kv.name(),
            "isl": a.isl,
            "osl": a.osl,
            "concurrency": a.concurrency,
            "devices": devices,
            "ttft_ms": r.ttft_s * 1e3,
            "tpot_ms": r.tpot_s * 1e3,
            "e2e_ms": r.e2e_s * 1e3,
            "output_tokens_per_s": r.output_tokens_per_s,
            "output_tokens_per_s_per_device": per_device,
            "output_tokens_per_s_per_user": 1.0 / r.tpot_s.max(1e-12),
            "kv_capacity_tokens": pool.perf.kv_capacity_tokens,
            "power_w_per_device": power_w,
            "usd_per_device_hour": usd_per_device_hour,
            "usd_per_million_output_tokens": usd_per_m_output,
            "requests_measured": r.requests,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "{} on {} x {} (tp {tp}, pp {pp}, ep {}), {} weights, {} KV, engine {engine_id}",
        model.name, devices, hw.name, a.ep, weights, kv
    );
    println!(
        "closed loop: {} clients, {} in / {} out tokens, {} requests measured",
        a.concurrency, a.isl, a.osl, r.requests
    );
    println!("  TTFT          {:>10.1} ms", r.ttft_s * 1e3);
    println!(
        "  TPOT          {:>10.2} ms   ({:.0} tokens/s per user)",
        r.tpot_s * 1e3,
        1.0 / r.tpot_s.max(1e-12)
    );
    println!("  end-to-end    {:>10.1} ms", r.e2e_s * 1e3);
    println!(
        "  throughput    {:>10.0} output tokens/s per replica, {:.0} per device",
        r.output_tokens_per_s, per_device
    );
    println!(
        "  KV capacity   {:>10} tokens; power {:.0} W per device",
        pool.perf.kv_capacity_tokens, power_w
    );
    if let Some(c) = usd_per_m_output {
        println!("  cost          {c:>10.3} $ per million output tokens");
    }
    Ok(())
}
