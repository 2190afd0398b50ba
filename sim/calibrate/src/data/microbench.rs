//! The H100 kernel microbenchmarks: GEMMs, prefill and decode attention, and NCCL
//! collectives, one reader each; every row keeps only what the kernel fit needs.

use crate::data::csv::Csv;
use crate::error::CalibrateError;

pub const GEMM_CSV: &str = "h100_vllm_gemm.csv";
pub const ATTENTION_CSV: &str = "h100_vllm_prefill_attention.csv";
pub const DECODE_ATTENTION_CSV: &str = "h100_vllm_decode_attention.csv";
pub const NCCL_CSV: &str = "h100_nccl.csv";

/// A GEMM microbenchmark: (low precision, m, n, k, seconds).
pub type GemmRow = (bool, u32, u32, u32, f64);
/// An attention microbenchmark: (batch, sequence or KV length, heads, head dim, seconds).
pub type AttentionRow = (u32, u32, u32, u32, f64);
/// A collective microbenchmark: (op, devices, bytes, seconds).
pub type NcclRow = (String, u32, f64, f64);

pub(crate) fn parse_gemm(text: &str) -> Result<Vec<GemmRow>, CalibrateError> {
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

pub(crate) fn parse_attention(text: &str) -> Result<Vec<AttentionRow>, CalibrateError> {
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

// Shaped like `parse_attention`, but the decode file has other columns (`step`, and the KV
// heads rather than the query heads) and its length is prompt plus generated tokens: the two
// readers share the `Csv` helper, not a body.
pub(crate) fn parse_decode_attention(text: &str) -> Result<Vec<AttentionRow>, CalibrateError> {
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

pub(crate) fn parse_nccl(text: &str) -> Result<Vec<NcclRow>, CalibrateError> {
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
