//! Calibration and validation of the performance model against measured serving data.
//!
//! Every prediction goes through the simulator's own serving code: a one-replica pool
//! ([`Pool::standalone`]) driven by the closed loop of [`crate::closed_loop`], so what is
//! fitted and checked is the simulator, not a separate formula. The steps, run by
//! `tokenfleet calibrate` (see docs/performance-model.md):
//!
//! 1. Kernel efficiencies from microbenchmarks, each pinning one term: GEMM efficiency (BF16
//!    and FP8) from `h100_vllm_gemm.csv`, prefill-attention efficiency from
//!    `h100_vllm_prefill_attention.csv`, collective latencies and bandwidth from
//!    `h100_nccl.csv`.
//! 2. Per serving engine (vLLM, SGLang, TensorRT-LLM), the engine's memory efficiency and
//!    overheads by Nelder-Mead on the measured TTFT and TPOT of `h100_dense_ttft_tpot.csv`,
//!    minimising the mean absolute log error (a median-seeking loss).
//! 3. Held-out fits on subsets (a model or a device left out) that the accuracy tests use to
//!    check the model where it was not fitted.
//!
//! All of it is deterministic: fixed starting points, fixed iteration counts, no randomness.

use std::collections::BTreeMap;
use std::path::Path;

use rayon::prelude::*;
use tokenfleet_models::perf::{
    BenchmarkProtocol, Calibration, EngineProfile, FitSummary, LPU_ENGINE, PerfError, PerfParams,
    ReplicaShape,
};
use tokenfleet_models::power::PowerCurveFit;
use tokenfleet_models::precision::Precision;
use tokenfleet_models::{Catalog, Hardware, ModelArch};

use crate::closed_loop::{BenchError, ClosedLoop, ClosedLoopResult, Start, closed_loop};
use tokenfleet_setup::Pool;

/// The measured files the calibration reads (copies in tests/fixtures/measured).
pub const SERVING_CSV: &str = "h100_dense_ttft_tpot.csv";
pub const SPLITWISE_CSV: &str = "splitwise_llama2_70b_a100_h100.csv";
pub const GEMM_CSV: &str = "h100_vllm_gemm.csv";
pub const ATTENTION_CSV: &str = "h100_vllm_prefill_attention.csv";
pub const DECODE_ATTENTION_CSV: &str = "h100_vllm_decode_attention.csv";
pub const NCCL_CSV: &str = "h100_nccl.csv";

/// Why calibration or validation could not run.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error("{file} line {line}: {reason}")]
    Csv {
        file: String,
        line: usize,
        reason: String,
    },
    #[error("unknown {what} `{id}`")]
    Unknown { what: &'static str, id: String },
    #[error("{0}")]
    Perf(#[from] PerfError),
    #[error("{0}")]
    Bench(#[from] BenchError),
    #[error("{0}")]
    Calibration(#[from] tokenfleet_models::perf::CalibrationError),
    #[error("no measured rows for {0}")]
    NoData(String),
}

/// One measured closed-loop serving point (aiconfigurator's silicon samples).
#[derive(Debug, Clone, PartialEq)]
pub struct ServingPoint {
    /// Catalog model id.
    pub model: String,
    pub backend: String,
    /// The measurement campaign: the backend version, marked `/ep0` for the later campaign.
    pub campaign: String,
    pub weights: Precision,
    /// KV-cache precision: BF16, except in the later campaign (rows with `moe_ep` 0: TensorRT-LLM
    /// 1.2, vLLM 0.12 FP8) whose FP8 rows decode faster than streaming a BF16 cache allows
    /// (Qwen3-32B FP8, TP2, 48 x 4.5k-token contexts: 11.6 ms measured, 13 ms at full HBM
    /// bandwidth with BF16 KV), so they quantized the cache too.
    pub kv: Precision,
    pub isl: u32,
    pub osl: u32,
    pub concurrency: u32,
    pub tp: u32,
    pub pp: u32,
    pub ttft_s: f64,
    pub tpot_s: f64,
}

/// One splitwise measurement: a static batch of `batch` prompts of `prompt` tokens, then
/// `tokens` decode steps (means over the repeated runs).
#[derive(Debug, Clone, PartialEq)]
pub struct SplitwisePoint {
    /// Catalog device id.
    pub hardware: String,
    pub tp: u32,
    pub prompt: u32,
    pub batch: u32,
    pub tokens: u32,
    /// Time of the batch's prefill iteration.
    pub prompt_s: f64,
    /// Time of one decode iteration.
    pub token_s: f64,
    /// Mean power over the run as a fraction of the device's TDP (A100 rows only; the H100
    /// rows carry no power measurement).
    pub power_of_tdp: Option<f64>,
}

/// A GEMM microbenchmark: (low precision, m, n, k, seconds).
pub type GemmRow = (bool, u32, u32, u32, f64);
/// An attention microbenchmark: (batch, sequence or KV length, heads, head dim, seconds).
pub type AttentionRow = (u32, u32, u32, u32, f64);
/// Splitwise rows are averaged per (hardware, tp, prompt, batch, tokens).
type SplitwiseKey = (String, u32, u32, u32, u32);

/// The measured data sets, parsed.
#[derive(Debug, Clone, Default)]
pub struct MeasuredData {
    pub serving: Vec<ServingPoint>,
    pub splitwise: Vec<SplitwisePoint>,
    pub gemm: Vec<GemmRow>,
    /// (batch, sequence length, query heads, head dim, seconds), causal prefill, BF16 KV.
    pub attention: Vec<AttentionRow>,
    /// (batch, KV length, KV heads, head dim, seconds), decode step, BF16 KV.
    pub decode_attention: Vec<AttentionRow>,
    /// (op, devices, bytes, seconds), 16-bit payloads.
    pub nccl: Vec<(String, u32, f64, f64)>,
}

/// A CSV file with a header row: fields by column name.
struct Csv<'a> {
    file: &'a str,
    header: Vec<&'a str>,
    rows: Vec<(usize, Vec<&'a str>)>,
}

impl<'a> Csv<'a> {
    fn parse(file: &'a str, text: &'a str) -> Result<Csv<'a>, CalibrateError> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let header = lines
            .next()
            .map(|(_, l)| l.split(',').map(str::trim).collect())
            .ok_or_else(|| CalibrateError::Csv {
                file: file.into(),
                line: 1,
                reason: "empty file".into(),
            })?;
        let rows = lines
            .map(|(i, l)| (i + 1, l.split(',').map(str::trim).collect()))
            .collect();
        Ok(Csv { file, header, rows })
    }
    fn col(&self, name: &str) -> Result<usize, CalibrateError> {
        self.header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| CalibrateError::Csv {
                file: self.file.into(),
                line: 1,
                reason: format!("no column `{name}`"),
            })
    }
    fn get<T: std::str::FromStr>(
        &self,
        row: &(usize, Vec<&str>),
        col: usize,
    ) -> Result<T, CalibrateError> {
        row.1
            .get(col)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| CalibrateError::Csv {
                file: self.file.into(),
                line: row.0,
                reason: format!(
                    "column `{}`: cannot read `{}`",
                    self.header[col],
                    row.1.get(col).unwrap_or(&"")
                ),
            })
    }
    fn text<'r>(&self, row: &'r (usize, Vec<&'a str>), col: usize) -> &'a str {
        row.1.get(col).copied().unwrap_or("")
    }
}

/// The catalog id of a Hugging Face model name ("meta-llama/Llama-3.1-8B-Instruct" ->
/// "llama-3.1-8b").
pub fn catalog_model_id(hf: &str) -> String {
    let name = hf.rsplit('/').next().unwrap_or(hf).to_ascii_lowercase();
    name.trim_end_matches("-instruct").to_string()
}

impl MeasuredData {
    /// Reads the five files from `dir`.
    pub fn from_dir(dir: &Path) -> Result<MeasuredData, CalibrateError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|e| CalibrateError::Io {
                path: path.display().to_string(),
                reason: e.to_string(),
            })
        };
        Ok(MeasuredData {
            serving: parse_serving(&read(SERVING_CSV)?)?,
            splitwise: parse_splitwise(&read(SPLITWISE_CSV)?)?,
            gemm: parse_gemm(&read(GEMM_CSV)?)?,
            attention: parse_attention(&read(ATTENTION_CSV)?)?,
            decode_attention: parse_decode_attention(&read(DECODE_ATTENTION_CSV)?)?,
            nccl: parse_nccl(&read(NCCL_CSV)?)?,
        })
    }
}

/// Parses h100_dense_ttft_tpot.csv. An empty precision is the checkpoint's BF16.
pub fn parse_serving(text: &str) -> Result<Vec<ServingPoint>, CalibrateError> {
    let csv = Csv::parse(SERVING_CSV, text)?;
    let c = |n| csv.col(n);
    let (model, backend, precision) = (c("model")?, c("backend")?, c("precision")?);
    let version = c("backend_version")?;
    let (isl, osl, conc, tp, pp) = (c("isl")?, c("osl")?, c("concurrency")?, c("tp")?, c("pp")?);
    let ep = c("moe_ep")?;
    let (ttft, tpot) = (c("ttft_ms")?, c("tpot_ms")?);
    let mut out = Vec::with_capacity(csv.rows.len());
    for row in &csv.rows {
        let p = csv.text(row, precision);
        let weights = if p.is_empty() {
            Precision::Bf16
        } else {
            Precision::parse(p).ok_or_else(|| CalibrateError::Csv {
                file: SERVING_CSV.into(),
                line: row.0,
                reason: format!("unknown precision `{p}`"),
            })?
        };
        let later_campaign = csv.get::<u32>(row, ep)? == 0;
        let v = csv.text(row, version);
        out.push(ServingPoint {
            model: catalog_model_id(csv.text(row, model)),
            backend: csv.text(row, backend).to_string(),
            campaign: format!(
                "{}{}",
                if v.is_empty() { "unversioned" } else { v },
                if later_campaign { "/ep0" } else { "" }
            ),
            weights,
            kv: if later_campaign && weights == Precision::Fp8 {
                Precision::Fp8
            } else {
                Precision::Bf16
            },
            isl: csv.get(row, isl)?,
            osl: csv.get(row, osl)?,
            concurrency: csv.get(row, conc)?,
            tp: csv.get(row, tp)?,
            pp: csv.get(row, pp)?,
            ttft_s: csv.get::<f64>(row, ttft)? / 1e3,
            tpot_s: csv.get::<f64>(row, tpot)? / 1e3,
        });
    }
    Ok(out)
}

/// Parses the splitwise file: Llama-2-70B rows on A100 and H100 (not the power-capped H100),
/// averaged over repeated runs of the same configuration.
pub fn parse_splitwise(text: &str) -> Result<Vec<SplitwisePoint>, CalibrateError> {
    let csv = Csv::parse(SPLITWISE_CSV, text)?;
    let c = |n| csv.col(n);
    let (model, hw, prompt, batch, tokens) = (
        c("model")?,
        c("hardware")?,
        c("prompt_size")?,
        c("batch_size")?,
        c("token_size")?,
    );
    let (pt, tt, tp) = (c("prompt_time")?, c("token_time")?, c("tensor_parallel")?);
    let avg_power = c("average_power")?;
    // (prompt s, token s, power sum, rows, rows with power)
    let mut groups: BTreeMap<SplitwiseKey, (f64, f64, f64, u32, u32)> = BTreeMap::new();
    for row in &csv.rows {
        if csv.text(row, model) != "llama2-70b" {
            continue;
        }
        let hardware = match csv.text(row, hw) {
            "a100-80gb" => "a100-80gb-sxm",
            "h100-80gb" => "h100-sxm",
            _ => continue,
        };
        let key = (
            hardware.to_string(),
            csv.get(row, tp)?,
            csv.get(row, prompt)?,
            csv.get(row, batch)?,
            csv.get(row, tokens)?,
        );
        let e = groups.entry(key).or_insert((0.0, 0.0, 0.0, 0, 0));
        e.0 += csv.get::<f64>(row, pt)? / 1e3;
        e.1 += csv.get::<f64>(row, tt)? / 1e3;
        e.3 += 1;
        // Zero means "not measured" in this file.
        let power: f64 = csv.get(row, avg_power)?;
        if power > 0.0 {
            e.2 += power;
            e.4 += 1;
        }
    }
    Ok(groups
        .into_iter()
        .map(
            |((hardware, tp, prompt, batch, tokens), (p, t, w, n, nw))| SplitwisePoint {
                hardware,
                tp,
                prompt,
                batch,
                tokens,
                prompt_s: p / n as f64,
                token_s: t / n as f64,
                power_of_tdp: (nw > 0).then(|| w / nw as f64),
            },
        )
        .collect())
}

fn parse_gemm(text: &str) -> Result<Vec<GemmRow>, CalibrateError> {
    let csv = Csv::parse(GEMM_CSV, text)?;
    let (dt, m, n, k, lat) = (
        csv.col("gemm_dtype")?,
        csv.col("m")?,
        csv.col("n")?,
        csv.col("k")?,
        csv.col("latency")?,
    );
    csv.rows
        .iter()
        .map(|r| {
            Ok((
                csv.text(r, dt) != "bfloat16",
                csv.get(r, m)?,
                csv.get(r, n)?,
                csv.get(r, k)?,
                csv.get::<f64>(r, lat)? / 1e3,
            ))
        })
        .collect()
}

fn parse_attention(text: &str) -> Result<Vec<AttentionRow>, CalibrateError> {
    let csv = Csv::parse(ATTENTION_CSV, text)?;
    let (b, s, h, d, kv, w, lat) = (
        csv.col("batch_size")?,
        csv.col("isl")?,
        csv.col("num_heads")?,
        csv.col("head_dim")?,
        csv.col("kv_cache_dtype")?,
        csv.col("window_size")?,
        csv.col("latency")?,
    );
    let mut out = Vec::new();
    for r in &csv.rows {
        // Full causal attention with a BF16 cache (window 0 means no sliding window).
        if csv.text(r, kv) != "bfloat16" || csv.text(r, w) != "0" {
            continue;
        }
        out.push((
            csv.get(r, b)?,
            csv.get(r, s)?,
            csv.get(r, h)?,
            csv.get(r, d)?,
            csv.get::<f64>(r, lat)? / 1e3,
        ));
    }
    Ok(out)
}

fn parse_decode_attention(text: &str) -> Result<Vec<AttentionRow>, CalibrateError> {
    let csv = Csv::parse(DECODE_ATTENTION_CSV, text)?;
    let (b, isl, step, h, d, kv, w, lat) = (
        csv.col("batch_size")?,
        csv.col("isl")?,
        csv.col("step")?,
        csv.col("num_key_value_heads")?,
        csv.col("head_dim")?,
        csv.col("kv_cache_dtype")?,
        csv.col("window_size")?,
        csv.col("latency")?,
    );
    let mut out = Vec::new();
    for r in &csv.rows {
        if csv.text(r, kv) != "bfloat16" || csv.text(r, w) != "0" {
            continue;
        }
        // The query attends to the `isl` prompt tokens plus the `step` generated ones.
        let len = csv.get::<u32>(r, isl)? + csv.get::<u32>(r, step)?;
        out.push((
            csv.get(r, b)?,
            len,
            csv.get(r, h)?,
            csv.get(r, d)?,
            csv.get::<f64>(r, lat)? / 1e3,
        ));
    }
    Ok(out)
}

fn parse_nccl(text: &str) -> Result<Vec<(String, u32, f64, f64)>, CalibrateError> {
    let csv = Csv::parse(NCCL_CSV, text)?;
    let (op, dt, n, size, lat) = (
        csv.col("op_name")?,
        csv.col("nccl_dtype")?,
        csv.col("num_gpus")?,
        csv.col("message_size")?,
        csv.col("latency")?,
    );
    let mut out = Vec::new();
    for r in &csv.rows {
        // 16-bit payloads: `message_size` counts elements of 2 bytes.
        if csv.text(r, dt) != "half" {
            continue;
        }
        out.push((
            csv.text(r, op).to_string(),
            csv.get(r, n)?,
            csv.get::<f64>(r, size)? * 2.0,
            csv.get::<f64>(r, lat)? / 1e3,
        ));
    }
    Ok(out)
}

/// Median and 90th percentile of `v` (0 for an empty set).
pub fn median_p90(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let x = p * (s.len() - 1) as f64;
        let (i, f) = (x.floor() as usize, x - x.floor());
        if i + 1 < s.len() {
            s[i] * (1.0 - f) + s[i + 1] * f
        } else {
            s[i]
        }
    };
    (q(0.5), q(0.9))
}

/// Kernel-level constants pinned by the microbenchmarks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KernelFit {
    /// Fixed latency of one GEMM (BF16, memory-bound shapes) and of one decode-attention
    /// kernel; a layer runs four GEMMs (QKV, output, gate-up, down) and one attention.
    pub gemm_latency_s: f64,
    pub attention_latency_s: f64,
    pub layer_overhead_s: f64,
    pub compute_efficiency: f64,
    pub lowp_compute_efficiency: f64,
    pub attention_efficiency: f64,
    pub allreduce_latency_s: f64,
    pub allreduce_latency_per_rank_s: f64,
    pub alltoall_latency_s: f64,
    pub collective_efficiency: f64,
}

/// Least squares of `y` on the columns of `x` with weights `w` (normal equations, Gaussian
/// elimination; the systems here are 2x2 or 3x3).
fn weighted_least_squares(x: &[Vec<f64>], y: &[f64], w: &[f64]) -> Option<Vec<f64>> {
    let k = x.first()?.len();
    let mut a = vec![vec![0.0; k + 1]; k];
    for ((row, &yi), &wi) in x.iter().zip(y).zip(w) {
        for i in 0..k {
            for j in 0..k {
                a[i][j] += wi * row[i] * row[j];
            }
            a[i][k] += wi * row[i] * yi;
        }
    }
    for col in 0..k {
        let pivot = (col..k).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        a.swap(col, pivot);
        if a[col][col].abs() < 1e-300 {
            return None;
        }
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (x, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    Some((0..k).map(|i| a[i][k] / a[i][i]).collect())
}

/// Fits the kernel constants on the H100 microbenchmarks (peaks from the catalog's H100).
pub fn fit_kernels(data: &MeasuredData, h100: &Hardware) -> Result<KernelFit, CalibrateError> {
    // GEMM: achieved FLOP/s over the compute-bound shapes (m >= 2048 rows: well past the
    // ridge point of both precisions) as total FLOPs over total time, so each shape counts by
    // its share of an iteration's time, as it does in a layer; the shapes are a Llama-70B
    // layer's (QKV, output, gate-up, down).
    let share = |lowp: bool| {
        let peak = if lowp {
            h100.fp8_flops.unwrap_or(h100.bf16_flops)
        } else {
            h100.bf16_flops
        };
        let (flops, secs) = data
            .gemm
            .iter()
            .filter(|g| g.0 == lowp && g.1 >= 2048)
            .fold((0.0, 0.0), |(f, s), &(_, m, n, k, t)| {
                (f + 2.0 * m as f64 * n as f64 * k as f64, s + t)
            });
        if secs <= 0.0 {
            Err(CalibrateError::NoData(format!(
                "{GEMM_CSV} (lowp = {lowp}, m >= 2048)"
            )))
        } else {
            Ok((flops / secs / peak).min(1.0))
        }
    };
    let compute_efficiency = share(false)?;
    let lowp_compute_efficiency = share(true)?;

    // Fixed GEMM latency: intercept of time against weight bytes over memory-bound BF16
    // shapes (m <= 16 rows), weighted for relative error.
    let (mut x, mut y, mut w) = (Vec::new(), Vec::new(), Vec::new());
    for &(lowp, m, n, k, t) in &data.gemm {
        if !lowp && m <= 16 {
            x.push(vec![1.0, 2.0 * n as f64 * k as f64]);
            y.push(t);
            w.push(1.0 / (t * t));
        }
    }
    let gemm_latency_s = weighted_least_squares(&x, &y, &w)
        .ok_or_else(|| CalibrateError::NoData(format!("{GEMM_CSV} (bf16, m <= 16)")))?[0]
        .max(0.0);
    // Fixed decode-attention latency: intercept of time against batch and KV bytes read.
    let (mut x, mut y, mut w) = (Vec::new(), Vec::new(), Vec::new());
    for &(b, len, h, d, t) in &data.decode_attention {
        let kv_bytes = 2.0 * 2.0 * b as f64 * len as f64 * h as f64 * d as f64;
        x.push(vec![1.0, b as f64, kv_bytes]);
        y.push(t);
        w.push(1.0 / (t * t));
    }
    let attention_latency_s = weighted_least_squares(&x, &y, &w)
        .ok_or_else(|| CalibrateError::NoData(DECODE_ATTENTION_CSV.into()))?[0]
        .max(0.0);

    // Prefill attention: t = a + b * tokens + c * pairs, weighted by 1/t^2 (relative errors);
    // the pair coefficient gives the efficiency of the attention FLOPs.
    let (mut x, mut y, mut w) = (Vec::new(), Vec::new(), Vec::new());
    let mut flops_per_pair = 0.0;
    for &(b, s, h, d, t) in &data.attention {
        let (b, s) = (b as f64, s as f64);
        x.push(vec![1.0, b * s, b * s * (s + 1.0) / 2.0]);
        y.push(t);
        w.push(1.0 / (t * t));
        flops_per_pair = 4.0 * h as f64 * d as f64;
    }
    let c = weighted_least_squares(&x, &y, &w)
        .ok_or_else(|| CalibrateError::NoData(ATTENTION_CSV.into()))?;
    let attention_efficiency = (flops_per_pair / c[2] / h100.bf16_flops).clamp(0.05, 1.0);

    // Collectives: latency = the smallest message's time per device count, a line in the
    // device count for all-reduce; bandwidth = bus bandwidth of the largest message over the
    // per-direction link bandwidth, averaged over device counts.
    let op_points = |op: &str| -> Vec<(u32, f64, f64)> {
        data.nccl
            .iter()
            .filter(|p| p.0 == op)
            .map(|p| (p.1, p.2, p.3))
            .collect()
    };
    let smallest = |pts: &[(u32, f64, f64)], n: u32| {
        let min_size = pts
            .iter()
            .filter(|p| p.0 == n)
            .map(|p| p.1)
            .fold(f64::INFINITY, f64::min);
        let v: Vec<f64> = pts
            .iter()
            .filter(|p| p.0 == n && p.1 == min_size)
            .map(|p| p.2)
            .collect();
        median_p90(&v).0
    };
    let largest_busbw = |pts: &[(u32, f64, f64)], n: u32, factor: f64| {
        let max_size = pts
            .iter()
            .filter(|p| p.0 == n)
            .map(|p| p.1)
            .fold(0.0, f64::max);
        let v: Vec<f64> = pts
            .iter()
            .filter(|p| p.0 == n && p.1 == max_size)
            .map(|p| factor * p.1 / p.2)
            .collect();
        median_p90(&v).0
    };
    let ar = op_points("all_reduce");
    let counts: Vec<u32> = {
        let mut c: Vec<u32> = ar.iter().map(|p| p.0).collect();
        c.sort();
        c.dedup();
        c
    };
    if counts.len() < 2 {
        return Err(CalibrateError::NoData(format!("{NCCL_CSV} all_reduce")));
    }
    let xs: Vec<Vec<f64>> = counts.iter().map(|&n| vec![1.0, n as f64 - 2.0]).collect();
    let ys: Vec<f64> = counts.iter().map(|&n| smallest(&ar, n)).collect();
    let line = weighted_least_squares(&xs, &ys, &vec![1.0; xs.len()])
        .ok_or_else(|| CalibrateError::NoData(NCCL_CSV.into()))?;
    let busbw: Vec<f64> = counts
        .iter()
        .map(|&n| largest_busbw(&ar, n, 2.0 * (n as f64 - 1.0) / n as f64))
        .collect();
    let collective_efficiency =
        (busbw.iter().sum::<f64>() / busbw.len() as f64 / h100.scaleup_bandwidth).clamp(0.05, 1.0);
    let a2a = op_points("alltoall");
    let a2a_lat: Vec<f64> = counts.iter().map(|&n| smallest(&a2a, n)).collect();
    Ok(KernelFit {
        gemm_latency_s,
        attention_latency_s,
        layer_overhead_s: 4.0 * gemm_latency_s + attention_latency_s,
        compute_efficiency,
        lowp_compute_efficiency,
        attention_efficiency,
        allreduce_latency_s: line[0].max(0.0),
        allreduce_latency_per_rank_s: line[1].max(0.0),
        alltoall_latency_s: median_p90(&a2a_lat).0,
        collective_efficiency,
    })
}

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

/// Builds a one-replica pool.
#[allow(clippy::too_many_arguments)]
pub fn pool(
    catalog: &Catalog,
    hardware: &str,
    model: &str,
    shape: ReplicaShape,
    params: &PerfParams,
    max_batch_tokens: u32,
    max_seqs: u32,
) -> Result<Pool, CalibrateError> {
    let hw = catalog
        .hardware(hardware)
        .ok_or_else(|| CalibrateError::Unknown {
            what: "hardware",
            id: hardware.into(),
        })?;
    let (name, arch) = model_arch(catalog, model)?;
    Ok(Pool::standalone(
        hw,
        &name,
        &arch,
        shape,
        params,
        max_batch_tokens,
        max_seqs,
    )?)
}

/// Measured requests for a closed loop of `concurrency` clients: enough rounds for the
/// clients' phases to settle, at least 64 requests.
pub fn requests_for(concurrency: u32) -> u32 {
    (3 * concurrency).max(64)
}

/// Predicts one measured serving point (H100, the engine's batching defaults).
pub fn predict_serving(
    catalog: &Catalog,
    point: &ServingPoint,
    profile: &EngineProfile,
    params: &PerfParams,
) -> Result<ClosedLoopResult, CalibrateError> {
    let shape = ReplicaShape::new(point.tp, point.pp, point.weights, point.kv);
    let p = pool(
        catalog,
        "h100-sxm",
        &point.model,
        shape,
        params,
        profile.max_batch_tokens,
        profile.max_seqs,
    )?;
    Ok(closed_loop(
        &p,
        ClosedLoop {
            concurrency: point.concurrency,
            isl: point.isl,
            osl: point.osl,
            requests: requests_for(point.concurrency),
            start: Start::of(profile.protocol(&point.campaign), point.concurrency),
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
fn predict_splitwise_with(
    catalog: &Catalog,
    point: &SplitwisePoint,
    params: &PerfParams,
    power_exponent: Option<f64>,
) -> Result<ClosedLoopResult, CalibrateError> {
    let shape = ReplicaShape::new(point.tp, 1, Precision::Bf16, Precision::Bf16);
    let budget = point.batch * point.prompt + point.batch;
    let mut p = pool(
        catalog,
        &point.hardware,
        "llama-2-70b",
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

/// Absolute relative errors of predictions against measurements.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Errors {
    pub tpot: Vec<f64>,
    pub ttft: Vec<f64>,
    /// Rows the model could not run (does not fit), counted apart.
    pub failed: usize,
}

impl Errors {
    pub fn tpot_median_p90(&self) -> (f64, f64) {
        median_p90(&self.tpot)
    }
    pub fn ttft_median_p90(&self) -> (f64, f64) {
        median_p90(&self.ttft)
    }
    pub fn summary(&self, data: &str) -> FitSummary {
        let (tm, tp) = self.tpot_median_p90();
        let (fm, fp) = self.ttft_median_p90();
        let r = |x: f64| (x * 1e4).round() / 1e4;
        FitSummary {
            data: data.to_string(),
            rows: self.tpot.len() as u32,
            tpot_median_error: r(tm),
            tpot_p90_error: r(tp),
            ttft_median_error: r(fm),
            ttft_p90_error: r(fp),
        }
    }
}

fn rel(pred: f64, meas: f64) -> f64 {
    (pred / meas - 1.0).abs()
}

/// Errors of `profile` (with `params`) on measured serving points.
pub fn serving_errors(
    catalog: &Catalog,
    points: &[&ServingPoint],
    profile: &EngineProfile,
    params: &PerfParams,
) -> Errors {
    let results: Vec<Option<(f64, f64)>> = points
        .par_iter()
        .map(|p| {
            predict_serving(catalog, p, profile, params)
                .ok()
                .map(|r| (rel(r.tpot_s, p.tpot_s), rel(r.ttft_s, p.ttft_s)))
        })
        .collect();
    collect_errors(results)
}

/// Errors of `params` on splitwise points (prompt time as TTFT, token time as TPOT).
pub fn splitwise_errors(
    catalog: &Catalog,
    points: &[&SplitwisePoint],
    params: &PerfParams,
) -> Errors {
    let results: Vec<Option<(f64, f64)>> = points
        .par_iter()
        .map(|p| {
            predict_splitwise(catalog, p, params)
                .ok()
                .map(|r| (rel(r.tpot_s, p.token_s), rel(r.ttft_s, p.prompt_s)))
        })
        .collect();
    collect_errors(results)
}

fn collect_errors(results: Vec<Option<(f64, f64)>>) -> Errors {
    let mut e = Errors::default();
    for r in results {
        match r {
            Some((tpot, ttft)) => {
                e.tpot.push(tpot);
                e.ttft.push(ttft);
            }
            None => e.failed += 1,
        }
    }
    e
}

/// A parameter the engine fit adjusts, with the transform that keeps it in range.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Free {
    MemoryEfficiency,
    ComputeScale,
    IterationOverhead,
    LayerOverhead,
    PerSeqOverhead,
    RequestOverhead,
}

impl Free {
    fn get(self, p: &PerfParams) -> f64 {
        match self {
            Free::MemoryEfficiency => p.memory_efficiency,
            Free::ComputeScale => p.compute_efficiency,
            Free::IterationOverhead => p.iteration_overhead_s,
            Free::LayerOverhead => p.layer_overhead_s,
            Free::PerSeqOverhead => p.per_seq_overhead_s,
            Free::RequestOverhead => p.request_overhead_s,
        }
    }
    /// Sets the parameter from its unconstrained coordinate `z`.
    fn set(self, p: &mut PerfParams, z: f64, base: &PerfParams) {
        let logistic = |z: f64| 1.0 / (1.0 + (-z).exp());
        match self {
            Free::MemoryEfficiency => p.memory_efficiency = 0.3 + 0.7 * logistic(z),
            // One factor on the kernel-measured GEMM and attention efficiencies: engines fuse
            // and schedule kernels differently from the isolated microbenchmarks.
            Free::ComputeScale => {
                let s = 0.4 + 1.1 * logistic(z);
                p.compute_efficiency = (base.compute_efficiency * s).min(1.0);
                p.lowp_compute_efficiency = (base.lowp_compute_efficiency * s).min(1.0);
                p.attention_efficiency = (base.attention_efficiency * s).min(1.0);
            }
            Free::IterationOverhead => p.iteration_overhead_s = z.exp(),
            Free::LayerOverhead => p.layer_overhead_s = z.exp(),
            Free::PerSeqOverhead => p.per_seq_overhead_s = z.exp(),
            Free::RequestOverhead => p.request_overhead_s = z.exp(),
        }
    }
    fn coordinate(self, p: &PerfParams, base: &PerfParams) -> f64 {
        let logit = |y: f64| (y / (1.0 - y)).ln();
        match self {
            Free::MemoryEfficiency => logit(((p.memory_efficiency - 0.3) / 0.7).clamp(0.01, 0.99)),
            Free::ComputeScale => logit(
                ((p.compute_efficiency / base.compute_efficiency - 0.4) / 1.1).clamp(0.01, 0.99),
            ),
            _ => self.get(p).max(1e-7).ln(),
        }
    }
}

/// What an engine fit adjusts. Compute efficiencies, collectives and the per-layer kernel
/// latency are pinned by the microbenchmarks: with one model in a fit (the held-out fits) the
/// per-layer and per-iteration overheads cannot be told apart, and pinning keeps the fits
/// comparable.
const ENGINE_FREE: [Free; 4] = [
    Free::MemoryEfficiency,
    Free::IterationOverhead,
    Free::PerSeqOverhead,
    Free::RequestOverhead,
];
/// The splitwise engine is not one of the three: its kernels and launch costs are its own
/// (a layer costs ten times the H100 kernels' latency), so the compute scale and the
/// per-layer overhead are fitted too; it timed iterations inside the engine, so there is no
/// client-side request overhead.
const SPLITWISE_FREE: [Free; 5] = [
    Free::MemoryEfficiency,
    Free::ComputeScale,
    Free::IterationOverhead,
    Free::LayerOverhead,
    Free::PerSeqOverhead,
];

/// Nelder-Mead minimisation of `f` from `x0` with initial steps `step`, `iters` iterations.
/// Deterministic; returns the best point and value.
pub fn nelder_mead(
    f: &dyn Fn(&[f64]) -> f64,
    x0: &[f64],
    step: f64,
    iters: usize,
) -> (Vec<f64>, f64) {
    let n = x0.len();
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n + 1);
    simplex.push((x0.to_vec(), f(x0)));
    for i in 0..n {
        let mut x = x0.to_vec();
        x[i] += step;
        let v = f(&x);
        simplex.push((x, v));
    }
    let combine = |a: &[f64], b: &[f64], t: f64| -> Vec<f64> {
        a.iter().zip(b).map(|(a, b)| a + t * (b - a)).collect()
    };
    for _ in 0..iters {
        if tokenfleet_engine::interrupt::requested() {
            break;
        }
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let centroid: Vec<f64> = (0..n)
            .map(|j| simplex[..n].iter().map(|p| p.0[j]).sum::<f64>() / n as f64)
            .collect();
        let worst = simplex[n].clone();
        let reflected = combine(&centroid, &worst.0, -1.0);
        let fr = f(&reflected);
        if fr < simplex[0].1 {
            let expanded = combine(&centroid, &worst.0, -2.0);
            let fe = f(&expanded);
            simplex[n] = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
        } else if fr < simplex[n - 1].1 {
            simplex[n] = (reflected, fr);
        } else {
            let contracted = if fr < worst.1 {
                combine(&centroid, &reflected, 0.5)
            } else {
                combine(&centroid, &worst.0, 0.5)
            };
            let fc = f(&contracted);
            if fc < worst.1.min(fr) {
                simplex[n] = (contracted, fc);
            } else {
                let best = simplex[0].0.clone();
                for p in simplex.iter_mut().skip(1) {
                    p.0 = combine(&best, &p.0, 0.5);
                    p.1 = f(&p.0);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    simplex.swap_remove(0)
}

/// TTFT errors count twice in the loss: the TTFT target (25% median) is the harder one to
/// meet and TPOT keeps a margin on its own (the fits land far below its 15%).
const TTFT_WEIGHT: f64 = 2.0;

/// The loss of a set of predictions: mean absolute log error of TPOT plus that of TTFT
/// (medians are what the targets are stated in, and the L1 loss seeks them); a row the model
/// cannot run costs as much as a factor-of-e error on both.
fn log_loss(pairs: &[Option<(f64, f64, f64, f64)>]) -> f64 {
    let n = pairs.len().max(1) as f64;
    pairs
        .iter()
        .map(|p| match p {
            Some((pt, mt, pf, mf)) => (pt / mt).ln().abs() + TTFT_WEIGHT * (pf / mf).ln().abs(),
            None => 2.0,
        })
        .sum::<f64>()
        / n
}

/// The loss of `profile` on serving points (see [`log_loss`]).
pub fn engine_loss(catalog: &Catalog, points: &[&ServingPoint], profile: &EngineProfile) -> f64 {
    let preds: Vec<_> = points
        .par_iter()
        .map(|p| {
            predict_serving(catalog, p, profile, &profile.params)
                .ok()
                .map(|r| (r.tpot_s, p.tpot_s, r.ttft_s, p.ttft_s))
        })
        .collect();
    log_loss(&preds)
}

/// The benchmark protocols the fit chooses among.
pub fn protocols() -> Vec<BenchmarkProtocol> {
    let mut v = vec![BenchmarkProtocol::Staggered, BenchmarkProtocol::Lockstep];
    v.extend((2..=12).map(|rounds| BenchmarkProtocol::Burst { rounds }));
    v.extend(
        [128, 192, 256, 384, 512, 768, 1024, 1536, 2048]
            .map(|total| BenchmarkProtocol::Requests { total }),
    );
    v
}

/// Fits an engine on serving points: its free parameters from `start` under a 5-round
/// benchmark, then for each measurement campaign the benchmark protocol that explains its rows
/// best with those parameters (the engine's default: that of its largest campaign), then the
/// parameters again under those protocols.
pub fn fit_engine(
    catalog: &Catalog,
    points: &[&ServingPoint],
    profile: &EngineProfile,
    start: &PerfParams,
    iters: usize,
) -> EngineProfile {
    let mut p = profile.clone();
    p.benchmark = BenchmarkProtocol::Burst { rounds: 5 };
    p.campaigns.clear();
    let fit_params = |p: &EngineProfile, start: &PerfParams| {
        fit(start, &ENGINE_FREE, iters, &|params| {
            let candidate = EngineProfile {
                params: *params,
                ..p.clone()
            };
            engine_loss(catalog, points, &candidate)
        })
    };
    p.params = fit_params(&p, start);
    let mut campaigns: Vec<(&str, usize)> = Vec::new();
    for point in points {
        match campaigns.iter_mut().find(|c| c.0 == point.campaign) {
            Some(c) => c.1 += 1,
            None => campaigns.push((&point.campaign, 1)),
        }
    }
    campaigns.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (i, (campaign, _)) in campaigns.iter().enumerate() {
        let rows: Vec<&ServingPoint> = points
            .iter()
            .copied()
            .filter(|q| q.campaign == *campaign)
            .collect();
        let mut best = (f64::INFINITY, p.benchmark);
        for protocol in protocols() {
            let candidate = EngineProfile {
                benchmark: protocol,
                ..p.clone()
            };
            let loss = engine_loss(catalog, &rows, &candidate);
            if loss < best.0 {
                best = (loss, protocol);
            }
        }
        p.campaigns.insert(campaign.to_string(), best.1);
        if i == 0 {
            p.benchmark = best.1;
        }
    }
    p.params = fit_params(&p, &p.params);
    p
}

/// The `[holdout.*]` profile of the splitwise engine (fitted on its H100 rows).
pub const SPLITWISE_ENGINE: &str = "splitwise-h100";

/// Splitwise's power readings at 8,192-token prompts are 0.17-0.18 of TDP at every TP degree:
/// barely above the A100's idle (61 W of 400 W) while it computes the file's longest
/// prefills, and a third of what the same configurations draw at 4,096 tokens. A failed
/// reading (the sampling window missed the run), so those rows are left out of the fit.
const POWER_FAILED_PROMPT: u32 = 8192;

/// The splitwise rows the power curve is fitted on: every row with a power reading but the
/// failed ones.
pub fn power_rows(data: &MeasuredData) -> Vec<&SplitwisePoint> {
    data.splitwise
        .iter()
        .filter(|p| p.power_of_tdp.is_some() && p.prompt < POWER_FAILED_PROMPT)
        .collect()
}

/// Errors (predicted minus measured mean power, fractions of TDP) of the power curve with
/// exponent `gamma` on `rows`, each run through the simulator's closed loop with `params`.
pub fn power_errors(
    catalog: &Catalog,
    rows: &[&SplitwisePoint],
    params: &PerfParams,
    gamma: f64,
) -> Result<Vec<f64>, CalibrateError> {
    rows.par_iter()
        .map(|p| {
            let r = predict_splitwise_with(catalog, p, params, Some(gamma))?;
            Ok(r.power_of_tdp - p.power_of_tdp.unwrap_or(f64::NAN))
        })
        .collect()
}

/// Median and largest absolute error (fractions of TDP) of the curve with exponent `gamma`.
pub fn power_error_stats(
    catalog: &Catalog,
    rows: &[&SplitwisePoint],
    params: &PerfParams,
    gamma: f64,
) -> Result<(f64, f64), CalibrateError> {
    let abs: Vec<f64> = power_errors(catalog, rows, params, gamma)?
        .iter()
        .map(|e| e.abs())
        .collect();
    Ok((median_p90(&abs).0, abs.iter().cloned().fold(0.0, f64::max)))
}

/// Fits the power curve's exponent γ (tokenfleet_models::power) on the splitwise power
/// readings, by golden-section search of the squared error over γ in [0.2, 1.5], with the
/// activity each run has under `params` (the splitwise engine's profile).
pub fn fit_power(
    catalog: &Catalog,
    data: &MeasuredData,
    params: &PerfParams,
) -> Result<PowerCurveFit, CalibrateError> {
    let rows = power_rows(data);
    if rows.is_empty() {
        return Err(CalibrateError::NoData(format!(
            "{SPLITWISE_CSV}: no rows with a power reading"
        )));
    }
    let sse = |g: f64| -> Result<f64, CalibrateError> {
        Ok(power_errors(catalog, &rows, params, g)?
            .iter()
            .map(|e| e * e)
            .sum())
    };
    let phi = (5f64.sqrt() - 1.0) / 2.0;
    let (mut lo, mut hi) = (0.2f64, 1.5f64);
    let (mut x1, mut x2) = (hi - phi * (hi - lo), lo + phi * (hi - lo));
    let (mut f1, mut f2) = (sse(x1)?, sse(x2)?);
    while hi - lo > 1e-4 {
        if f1 <= f2 {
            (hi, x2, f2) = (x2, x1, f1);
            x1 = hi - phi * (hi - lo);
            f1 = sse(x1)?;
        } else {
            (lo, x1, f1) = (x1, x2, f2);
            x2 = lo + phi * (hi - lo);
            f2 = sse(x2)?;
        }
    }
    // Three decimals: the file is read by people, and the fit is flat at that scale.
    let gamma = ((lo + hi) / 2.0 * 1e3).round() / 1e3;
    let ((fm, fx), (lm, lx)) = (
        power_error_stats(catalog, &rows, params, gamma)?,
        power_error_stats(catalog, &rows, params, 1.0)?,
    );
    let r = |x: f64| (x * 1e4).round() / 1e4;
    Ok(PowerCurveFit {
        exponent: gamma,
        data: format!(
            "{SPLITWISE_CSV}: A100 rows with a power reading, prompts below {POWER_FAILED_PROMPT}"
        ),
        rows: rows.len() as u32,
        median_error: r(fm),
        max_error: r(fx),
        linear_median_error: r(lm),
        linear_max_error: r(lx),
    })
}

/// Fits the splitwise engine on splitwise points, from `start`.
pub fn fit_splitwise(
    catalog: &Catalog,
    points: &[&SplitwisePoint],
    start: &PerfParams,
    iters: usize,
) -> PerfParams {
    fit(start, &SPLITWISE_FREE, iters, &|params| {
        let preds: Vec<_> = points
            .par_iter()
            .map(|p| {
                predict_splitwise(catalog, p, params)
                    .ok()
                    .map(|r| (r.tpot_s, p.token_s, r.ttft_s, p.prompt_s))
            })
            .collect();
        log_loss(&preds)
    })
}

fn fit(
    start: &PerfParams,
    free: &[Free],
    iters: usize,
    loss: &(dyn Fn(&PerfParams) -> f64 + Sync),
) -> PerfParams {
    let base = *start;
    let apply = |z: &[f64]| {
        let mut p = base;
        for (f, &zi) in free.iter().zip(z) {
            f.set(&mut p, zi, &base);
        }
        p
    };
    let z0: Vec<f64> = free.iter().map(|f| f.coordinate(&base, &base)).collect();
    let f = |z: &[f64]| loss(&apply(z));
    // A restart from the best point with a smaller simplex escapes a collapsed simplex.
    let (first, _) = nelder_mead(&f, &z0, 0.5, iters);
    let (best, _) = nelder_mead(&f, &first, 0.15, iters / 2 + 1);
    apply(&best)
}

/// What `tokenfleet calibrate` produces.
#[derive(Debug, Clone)]
pub struct CalibrationRun {
    pub kernels: KernelFit,
    pub calibration: Calibration,
}

/// The measured serving rows of one backend, optionally without one model.
pub fn serving_rows<'a>(
    data: &'a MeasuredData,
    backend: &str,
    without_model: Option<&str>,
    only_model: Option<&str>,
) -> Vec<&'a ServingPoint> {
    data.serving
        .iter()
        .filter(|p| p.backend == backend)
        .filter(|p| without_model.is_none_or(|m| p.model != m))
        .filter(|p| only_model.is_none_or(|m| p.model == m))
        .collect()
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

/// The LPU profile: not fitted (no measured LPU data); see its description and the docs.
pub fn lpu_profile(kernels: &KernelFit) -> EngineProfile {
    EngineProfile {
        description: "Groq-style LPU: statically scheduled SRAM pipeline. Not fitted: the per-layer latency is derived from Groq's published 300 tokens/s per user on Llama-2-70B (80 layers: 1/300/80 = 41.7 µs per layer, TechPowerUp 2024-02), which also gives its 750 tokens/s on Llama-2-7B (32 layers); no launch or scheduler overheads (compiler-scheduled, Groq ISCA 2022); kernel efficiencies as measured on H100; all SRAM usable.".into(),
        max_batch_tokens: 8192,
        max_seqs: 1024,
        benchmark: BenchmarkProtocol::Staggered,
        campaigns: BTreeMap::new(),
        params: PerfParams {
            compute_efficiency: kernels.compute_efficiency,
            lowp_compute_efficiency: kernels.lowp_compute_efficiency,
            attention_efficiency: kernels.attention_efficiency,
            memory_efficiency: 0.9,
            iteration_overhead_s: 0.0,
            layer_overhead_s: 1.0 / 300.0 / 80.0,
            per_seq_overhead_s: 0.0,
            allreduce_latency_s: 0.0,
            allreduce_latency_per_rank_s: 0.0,
            alltoall_latency_s: 0.0,
            collective_efficiency: kernels.collective_efficiency,
            p2p_latency_s: 0.0,
            request_overhead_s: 0.0,
            memory_utilization: 1.0,
            reserved_bytes_per_device: 0.0,
        },
        fit: None,
    }
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
    let mut holdout = BTreeMap::new();

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

    // Held out: each engine that measured two models is fitted without one and kept for
    // the accuracy tests to predict the other.
    for (id, left_out) in [("trtllm", "llama-3.1-8b"), ("vllm", "llama-3.1-70b")] {
        let base = &engine[id];
        let rows = serving_rows(data, id, Some(left_out), None);
        let mut profile = fit_engine(catalog, &rows, base, &start, iters);
        profile.description = format!(
            "{}, without {left_out} (held out: the accuracy tests predict it)",
            base.description
        );
        let fitted = serving_errors(catalog, &rows, &profile, &profile.params);
        profile.fit =
            Some(fitted.summary(&format!("{SERVING_CSV}: backend {id} without {left_out}")));
        let held = serving_rows(data, id, None, Some(left_out));
        let e = serving_errors(catalog, &held, &profile, &profile.params);
        progress(&format!(
            "held out {left_out} from {id}: {:?}",
            e.summary("")
        ));
        holdout.insert(format!("{id}-without-{left_out}"), profile);
    }

    // Splitwise measured its own engine on A100 and H100: fitted on H100 only, so A100 is a
    // device the model was not fitted on.
    let h100_rows: Vec<&SplitwisePoint> = data
        .splitwise
        .iter()
        .filter(|p| p.hardware == "h100-sxm")
        .collect();
    let a100_rows: Vec<&SplitwisePoint> = data
        .splitwise
        .iter()
        .filter(|p| p.hardware == "a100-80gb-sxm")
        .collect();
    // Splitwise ran Llama-2-70B in BF16 at TP2 on 80 GB GPUs (69 GB of weights per GPU) with
    // batches of up to 64 x 640 tokens, so its engine used all memory but the reserve
    // (vLLM's 0.9 default would not even hold the weights).
    let sw_start = PerfParams {
        request_overhead_s: 0.0,
        memory_utilization: 1.0,
        ..start
    };
    let sw = fit_splitwise(catalog, &h100_rows, &sw_start, iters);
    let fitted = splitwise_errors(catalog, &h100_rows, &sw);
    let held = splitwise_errors(catalog, &a100_rows, &sw);
    progress(&format!(
        "splitwise: H100 (fit) {:?}, A100 (held out) {:?}",
        fitted.summary(""),
        held.summary("")
    ));
    holdout.insert(
        SPLITWISE_ENGINE.to_string(),
        EngineProfile {
            description: "The engine of the splitwise measurements (Llama-2-70B, static batches), fitted on its H100 rows only; its A100 rows are held out".into(),
            max_batch_tokens: 8192,
            max_seqs: 64,
            params: sw,
            benchmark: BenchmarkProtocol::Lockstep,
            campaigns: BTreeMap::new(),
            fit: Some(fitted.summary(&format!("{SPLITWISE_CSV}: H100 rows"))),
        },
    );

    // The power curve, with the activity the splitwise engine's runs have in the simulator.
    let power = fit_power(catalog, data, &sw)?;
    progress(&format!("power curve: {power:?}"));

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

/// The errors of a calibration on one data set.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetErrors {
    /// The profile that made the predictions (`[engine.*]` or `[holdout.*]` id).
    pub profile: String,
    /// What the rows are and whether the profile was fitted on them: labels end in `(fit)`
    /// or `(held out...)`.
    pub label: String,
    pub errors: Errors,
}

impl DatasetErrors {
    fn new(profile: &str, label: String, errors: Errors) -> DatasetErrors {
        DatasetErrors {
            profile: profile.to_string(),
            label,
            errors,
        }
    }
}

/// The errors of `cal` on every measured data set: per engine and model, per engine, all
/// H100 rows (each by its engine's profile), and the held-out profiles on what they left out.
/// This is what `tokenfleet calibrate --check` prints and what tests/perf_accuracy.rs bounds.
pub fn check(catalog: &Catalog, data: &MeasuredData, cal: &Calibration) -> Vec<DatasetErrors> {
    let mut out = Vec::new();
    let mut pooled = Errors::default();
    for (id, profile) in &cal.engine {
        let rows = serving_rows(data, id, None, None);
        if rows.is_empty() {
            continue;
        }
        let mut models: Vec<&str> = rows.iter().map(|p| p.model.as_str()).collect();
        models.sort_unstable();
        models.dedup();
        for model in models {
            let subset: Vec<_> = rows.iter().copied().filter(|p| p.model == model).collect();
            let e = serving_errors(catalog, &subset, profile, &profile.params);
            out.push(DatasetErrors::new(id, format!("{model} on {id} (fit)"), e));
        }
        let e = serving_errors(catalog, &rows, profile, &profile.params);
        pooled.tpot.extend(&e.tpot);
        pooled.ttft.extend(&e.ttft);
        pooled.failed += e.failed;
        out.push(DatasetErrors::new(id, format!("all {id} rows (fit)"), e));
    }
    out.push(DatasetErrors::new(
        "all",
        "all H100 rows (fit)".into(),
        pooled,
    ));
    for (id, profile) in &cal.holdout {
        if let Some((backend, left_out)) = id.split_once("-without-") {
            let held = serving_rows(data, backend, None, Some(left_out));
            let e = serving_errors(catalog, &held, profile, &profile.params);
            out.push(DatasetErrors::new(
                id,
                format!("{left_out} on {backend} (held out)"),
                e,
            ));
            // A campaign measured only on the held-out model has a benchmark protocol the fit
            // set cannot tell. The full fit's choice for it is a fact about how that campaign
            // was measured, not about the model, but it was chosen on these very rows, so this
            // line is shown apart and is not a held-out error.
            if let Ok(full) = cal.profile(backend) {
                let unseen: Vec<&str> = held
                    .iter()
                    .map(|p| p.campaign.as_str())
                    .filter(|c| !profile.campaigns.contains_key(*c))
                    .collect();
                if !unseen.is_empty() {
                    let mut matched = profile.clone();
                    for c in unseen {
                        matched.campaigns.insert(c.to_string(), full.protocol(c));
                    }
                    let e = serving_errors(catalog, &held, &matched, &matched.params);
                    out.push(DatasetErrors::new(
                        id,
                        format!("{left_out} on {backend} (held out, protocol from full fit)"),
                        e,
                    ));
                }
            }
        } else if id.starts_with("splitwise") {
            for (hw, label) in [
                ("h100-sxm", "splitwise H100 (fit)"),
                ("a100-80gb-sxm", "splitwise A100 (held out)"),
            ] {
                let rows: Vec<&SplitwisePoint> =
                    data.splitwise.iter().filter(|p| p.hardware == hw).collect();
                out.push(DatasetErrors::new(
                    id,
                    label.into(),
                    splitwise_errors(catalog, &rows, &profile.params),
                ));
            }
        }
    }
    out
}
