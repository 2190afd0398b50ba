//! Step 1 of a calibration: the kernel-level constants, each pinned by one H100
//! microbenchmark rather than fitted to end-to-end latencies, so that the engine fits that
//! follow adjust only what a microbenchmark cannot see (memory efficiency and overheads).
//! GEMM efficiency (BF16 and FP8) comes from `h100_vllm_gemm.csv`, prefill-attention
//! efficiency from `h100_vllm_prefill_attention.csv`, the fixed kernel latencies from the
//! memory-bound GEMMs and the decode-attention kernels, and collective latencies and bandwidth
//! from `h100_nccl.csv`.

use tokenfleet_models::Hardware;

use crate::data::{ATTENTION_CSV, DECODE_ATTENTION_CSV, GEMM_CSV, MeasuredData, NCCL_CSV};
use crate::error::CalibrateError;
use crate::numeric::{median_p90, weighted_least_squares};

/// Kernel-level constants pinned by the microbenchmarks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KernelFit {
    /// Fixed latency of one GEMM (BF16, memory-bound shapes) and of one decode-attention
    /// kernel; a layer runs four GEMMs (QKV, output, gate-up, down) and one attention.
    pub gemm_latency_s: f64,
    pub attention_latency_s: f64,
    pub layer_overhead_s: f64,
    /// Four more kernels per routed MLP (router GEMM, top-k, token sort, weighted sum), each
    /// at the fixed latency of a small kernel (`perf/params.rs`).
    pub moe_layer_overhead_s: f64,
    pub compute_efficiency: f64,
    pub lowp_compute_efficiency: f64,
    /// Bytes moved per input element a low-precision GEMM quantizes (`perf/quant.rs`).
    pub lowp_activation_bytes: f64,
    pub attention_efficiency: f64,
    pub allreduce_latency_s: f64,
    pub allreduce_latency_per_rank_s: f64,
    pub alltoall_latency_s: f64,
    pub collective_efficiency: f64,
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
    // FP8: time = FLOPs / (peak x efficiency) + quantize bytes / bandwidth over the same
    // compute-bound shapes, by least squares on relative errors (`perf/quant.rs`): the wide
    // and the narrow shapes tell the tensor-core rate from the pass over the input, which a
    // single efficiency would blur into one number too low for wide GEMMs and too high for
    // narrow ones.
    let (lowp_compute_efficiency, lowp_activation_bytes) = {
        let peak = h100.fp8_flops.unwrap_or(h100.bf16_flops);
        let (mut x, mut y, mut w) = (Vec::new(), Vec::new(), Vec::new());
        for &(lowp, m, n, k, t) in &data.gemm {
            if lowp && m >= 2048 {
                let (m, n, k) = (m as f64, n as f64, k as f64);
                x.push(vec![2.0 * m * n * k / peak, m * k / h100.memory_bandwidth]);
                y.push(t);
                w.push(1.0 / (t * t));
            }
        }
        match weighted_least_squares(&x, &y, &w) {
            Some(c) if c[0] > 0.0 && c[1] >= 0.0 => ((1.0 / c[0]).min(1.0), c[1]),
            _ => (share(true)?, 0.0),
        }
    };

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
        moe_layer_overhead_s: 4.0 * gemm_latency_s,
        compute_efficiency,
        lowp_compute_efficiency,
        lowp_activation_bytes,
        attention_efficiency,
        allreduce_latency_s: line[0].max(0.0),
        allreduce_latency_per_rank_s: line[1].max(0.0),
        alltoall_latency_s: median_p90(&a2a_lat).0,
        collective_efficiency,
    })
}
