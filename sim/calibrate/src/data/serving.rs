//! The measured closed-loop serving points (aiconfigurator's silicon samples,
//! `h100_dense_ttft_tpot.csv`): TTFT and TPOT of vLLM, SGLang and TensorRT-LLM on H100 at
//! given input and output lengths, concurrency and parallelism.

use tokenfleet_models::precision::Precision;

use crate::data::csv::Csv;
use crate::error::CalibrateError;

/// The measured files the calibration reads (copies in tests/fixtures/measured).
pub const SERVING_CSV: &str = "h100_dense_ttft_tpot.csv";

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

/// The catalog id of a Hugging Face model name ("meta-llama/Llama-3.1-8B-Instruct" ->
/// "llama-3.1-8b").
pub fn catalog_model_id(hf: &str) -> String {
    let name = hf.rsplit('/').next().unwrap_or(hf).to_ascii_lowercase();
    name.trim_end_matches("-instruct").to_string()
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
