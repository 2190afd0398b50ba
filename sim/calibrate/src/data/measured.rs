//! All the measured data sets, read from one directory, and the subsets the fits and checks
//! select from them.

use std::path::Path;

use crate::data::microbench::{
    ATTENTION_CSV, AttentionRow, DECODE_ATTENTION_CSV, GEMM_CSV, GemmRow, NCCL_CSV, NcclRow,
    parse_attention, parse_decode_attention, parse_gemm, parse_nccl,
};
use crate::data::serving::{SERVING_CSV, ServingPoint, parse_serving};
use crate::data::splitwise::{SPLITWISE_CSV, SplitwisePoint, parse_splitwise};
use crate::data::throughput::{THROUGHPUT_CSV, ThroughputPoint, parse_throughput};
use crate::error::CalibrateError;

/// The measured data sets, parsed.
#[derive(Debug, Clone, Default)]
pub struct MeasuredData {
    pub serving: Vec<ServingPoint>,
    pub splitwise: Vec<SplitwisePoint>,
    /// Check-only: NVIDIA's TensorRT-LLM maximum throughput on devices and models never fitted.
    pub throughput: Vec<ThroughputPoint>,
    pub gemm: Vec<GemmRow>,
    /// (batch, sequence length, query heads, head dim, seconds), causal prefill, BF16 KV.
    pub attention: Vec<AttentionRow>,
    /// (batch, KV length, KV heads, head dim, seconds), decode step, BF16 KV.
    pub decode_attention: Vec<AttentionRow>,
    /// (op, devices, bytes, seconds), 16-bit payloads.
    pub nccl: Vec<NcclRow>,
}

impl MeasuredData {
    /// Reads the seven files from `dir`.
    pub fn from_dir(dir: &Path) -> Result<MeasuredData, CalibrateError> {
        let read = |name: &str| {
            let path = dir.join(name);
            let limit = tokenfleet_models::input::DATA_MAX_BYTES;
            tokenfleet_models::input::read_string(&path, limit, "measured data").map_err(|e| {
                CalibrateError::Io {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                }
            })
        };
        Ok(MeasuredData {
            serving: parse_serving(&read(SERVING_CSV)?)?,
            splitwise: parse_splitwise(&read(SPLITWISE_CSV)?)?,
            throughput: parse_throughput(&read(THROUGHPUT_CSV)?)?,
            gemm: parse_gemm(&read(GEMM_CSV)?)?,
            attention: parse_attention(&read(ATTENTION_CSV)?)?,
            decode_attention: parse_decode_attention(&read(DECODE_ATTENTION_CSV)?)?,
            nccl: parse_nccl(&read(NCCL_CSV)?)?,
        })
    }
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

/// The splitwise rows measured on `hardware` (a catalog device id).
pub fn splitwise_rows<'a>(data: &'a MeasuredData, hardware: &str) -> Vec<&'a SplitwisePoint> {
    data.splitwise
        .iter()
        .filter(|p| p.hardware == hardware)
        .collect()
}
