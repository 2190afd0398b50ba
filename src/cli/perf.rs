//! `tokenfleet perf`: TTFT, TPOT, latency and throughput of a closed loop of requests on one
//! replica, predicted by the simulator's own serving code (tokenfleet_calibrate::closed_loop).
//! The replica's sizing, the run and its figures are tokenfleet_calibrate::perf_run; this file
//! parses the arguments and prints.

use anyhow::{Result, anyhow, bail};
use clap::Args;
use serde_json::json;
use tokenfleet_calibrate::closed_loop::{DEFAULT_ROUNDS, Start};
use tokenfleet_calibrate::perf_run::{self, PerfQuery, engine_for};
use tokenfleet_models::perf::Calibration;
use tokenfleet_models::{Catalog, Precision};

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
    #[arg(long, allow_negative_numbers = true, value_parser = super::values::whole::<u32>(1, 1024))]
    tp: Option<u32>,
    /// Pipeline-parallel degree [default: 1; for LPUs as many stages as the chips need].
    #[arg(long, allow_negative_numbers = true, value_parser = super::values::whole::<u32>(1, 1024))]
    pp: Option<u32>,
    /// Expert-parallel degree for MoE models (a multiple of tp; above tp, attention runs
    /// data-parallel).
    #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = super::values::whole::<u32>(1, 1024))]
    ep: u32,
    /// Weight precision: bf16, fp8, fp4, int4 [default: the model's published precision].
    #[arg(long)]
    precision: Option<String>,
    /// KV-cache precision.
    #[arg(long, default_value = "bf16")]
    kv_precision: String,
    /// Input tokens per request.
    #[arg(long, allow_negative_numbers = true, value_parser = super::values::whole::<u32>(1, 10_000_000))]
    isl: u32,
    /// Output tokens per request.
    #[arg(long, allow_negative_numbers = true, value_parser = super::values::whole::<u32>(1, 10_000_000))]
    osl: u32,
    /// Concurrent requests (clients with no think time).
    #[arg(long, allow_negative_numbers = true, value_parser = super::values::whole::<u32>(1, 1_000_000))]
    concurrency: u32,
    /// Serving engine profile (see models/catalog/calibration.toml) [default: vllm].
    #[arg(long)]
    engine: Option<String>,
    /// How the benchmark's clients run: `burst` (all start at once; the mean covers
    /// `--rounds` requests per client, the burst included, as AIPerf and vLLM's bench serve
    /// report), `steady` (clients' phases spread out: a long-running deployment), `lockstep`
    /// (all at once, first round only: a static batch).
    #[arg(long, default_value = "burst", value_parser = ["burst", "steady", "lockstep"])]
    benchmark: String,
    /// Requests per client a `burst` benchmark averages over (AIPerf's `--request-count`
    /// divided by the concurrency).
    #[arg(long, default_value_t = DEFAULT_ROUNDS, allow_negative_numbers = true, value_parser = super::values::whole::<u32>(1, 1000))]
    rounds: u32,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

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
    let (engine_id, profile) = engine_for(calibration, a.engine.as_deref(), hw)?;
    let weights = a
        .precision
        .as_deref()
        .map(|p| precision(p, "--precision"))
        .transpose()?;
    let kv = precision(&a.kv_precision, "--kv-precision")?;
    if a.rounds == 0 {
        bail!("--rounds must be at least 1 (requests per client the benchmark averages over)");
    }
    let start = match a.benchmark.as_str() {
        "steady" => Start::Staggered,
        "lockstep" => Start::Together,
        _ => Start::Benchmark { rounds: a.rounds },
    };
    let run = perf_run::run(&PerfQuery {
        hardware: hw,
        model,
        profile,
        tp: a.tp,
        pp: a.pp,
        ep: a.ep,
        weights,
        kv,
        isl: a.isl,
        osl: a.osl,
        concurrency: a.concurrency,
        start,
    })?;
    let (r, tp, pp, weights) = (&run.result, run.tp, run.pp, run.weights);
    let devices = run.devices();
    let per_device = run.output_tokens_per_s_per_device();
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
            "output_tokens_per_s_per_user": run.output_tokens_per_s_per_user(),
            "kv_capacity_tokens": run.pool.perf.kv_capacity_tokens,
            "power_w_per_device": run.power_w,
            "usd_per_device_hour": run.usd_per_device_hour,
            "usd_per_million_output_tokens": run.usd_per_million_output_tokens,
            "benchmark": a.benchmark,
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
        "closed loop ({} benchmark): {} clients, {} in / {} out tokens, {} requests measured",
        a.benchmark, a.concurrency, a.isl, a.osl, r.requests
    );
    println!("  TTFT          {:>10.1} ms", r.ttft_s * 1e3);
    println!(
        "  TPOT          {:>10.2} ms   ({:.0} tokens/s per user)",
        r.tpot_s * 1e3,
        run.output_tokens_per_s_per_user()
    );
    println!("  end-to-end    {:>10.1} ms", r.e2e_s * 1e3);
    println!(
        "  throughput    {:>10.0} output tokens/s per replica, {:.0} per device",
        r.output_tokens_per_s, per_device
    );
    println!(
        "  KV capacity   {:>10} tokens; power {:.0} W per device",
        run.pool.perf.kv_capacity_tokens, run.power_w
    );
    if let Some(c) = run.usd_per_million_output_tokens {
        println!("  cost          {c:>10.3} $ per million output tokens");
    }
    Ok(())
}
