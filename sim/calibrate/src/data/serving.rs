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

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "system,model,backend,backend_version,precision,mode,isl,osl,concurrency,tp,pp,moe_ep,ttft_ms,tpot_ms";

    #[test]
    fn rows_name_catalog_models_campaigns_and_the_kv_precision() {
        let text = format!(
            "{HEADER}\n\
             h100_sxm,Qwen/Qwen3-32B,sglang,0.5.1,,agg,1024,128,16,2,1,1,840.8,16.5\n\
             \n\
             h100_sxm,meta-llama/Llama-3.1-8B-Instruct,trtllm,1.2,fp8,agg,4096,512,48,1,1,0,100,8\n"
        );
        let rows = parse_serving(&text).unwrap();
        assert_eq!(rows.len(), 2);
        let (a, b) = (&rows[0], &rows[1]);
        assert_eq!(
            (a.model.as_str(), a.campaign.as_str()),
            ("qwen3-32b", "0.5.1")
        );
        assert_eq!((a.weights, a.kv), (Precision::Bf16, Precision::Bf16));
        assert_eq!(
            (a.isl, a.osl, a.concurrency, a.tp, a.pp),
            (1024, 128, 16, 2, 1)
        );
        assert!((a.ttft_s - 0.8408).abs() < 1e-12 && (a.tpot_s - 0.0165).abs() < 1e-12);
        // The later campaign (moe_ep 0) quantized the KV cache of its FP8 rows.
        assert_eq!(
            (b.model.as_str(), b.campaign.as_str()),
            ("llama-3.1-8b", "1.2/ep0")
        );
        assert_eq!((b.weights, b.kv), (Precision::Fp8, Precision::Fp8));
    }

    #[test]
    fn errors_name_the_file_the_line_and_the_column() {
        let bad_value = format!("{HEADER}\nh100_sxm,m,vllm,1,,agg,many,128,16,2,1,1,1,1\n");
        assert_eq!(
            parse_serving(&bad_value).unwrap_err().to_string(),
            "h100_dense_ttft_tpot.csv line 2: column `isl`: cannot read `many`"
        );
        let bad_precision = format!("{HEADER}\nh100_sxm,m,vllm,1,fp9,agg,1,1,1,1,1,1,1,1\n");
        assert_eq!(
            parse_serving(&bad_precision).unwrap_err().to_string(),
            "h100_dense_ttft_tpot.csv line 2: unknown precision `fp9`"
        );
        assert_eq!(
            parse_serving("model,backend\n").unwrap_err().to_string(),
            "h100_dense_ttft_tpot.csv line 1: no column `precision`"
        );
        assert_eq!(
            parse_serving("\n\n").unwrap_err().to_string(),
            "h100_dense_ttft_tpot.csv line 1: empty file"
        );
    }
}
