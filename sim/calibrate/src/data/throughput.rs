//! NVIDIA's published TensorRT-LLM maximum-throughput measurements
//! (`trtllm_max_throughput.csv`): per-GPU output throughput of an offline run, every request
//! queued at once, on devices and models the fit never saw. Check-only data.

use tokenfleet_models::precision::Precision;

use crate::data::csv::Csv;
use crate::error::CalibrateError;

pub const THROUGHPUT_CSV: &str = "trtllm_max_throughput.csv";

/// One measured maximum-throughput point.
#[derive(Debug, Clone, PartialEq)]
pub struct ThroughputPoint {
    /// Catalog device and model ids.
    pub hardware: String,
    pub model: String,
    pub weights: Precision,
    /// The cache precision the run states, BF16 where it states none.
    pub kv: Precision,
    /// Attention tensor degree and expert degree in this project's terms: a "DEP" mapping
    /// (attention data-parallel over the expert GPUs) is `tp` 1 with `ep` GPUs.
    pub tp: u32,
    pub ep: u32,
    pub isl: u32,
    pub osl: u32,
    pub tokens_per_s_per_gpu: f64,
}

pub fn parse_throughput(text: &str) -> Result<Vec<ThroughputPoint>, CalibrateError> {
    let csv = Csv::parse(THROUGHPUT_CSV, text)?;
    let c = |n| csv.col(n);
    let (hw, model, prec, kv, tp, ep, dp) = (
        c("device")?,
        c("catalog_model")?,
        c("precision")?,
        c("kv_precision")?,
        c("tp")?,
        c("ep")?,
        c("attention_dp")?,
    );
    let (isl, osl, value) = (c("isl")?, c("osl")?, c("output_tokens_per_s_per_gpu")?);
    let precision = |row: &(usize, Vec<&str>), col: usize, empty: Precision| {
        let s = row.1.get(col).copied().unwrap_or("");
        if s.is_empty() {
            return Ok(empty);
        }
        Precision::parse(s).ok_or_else(|| CalibrateError::Csv {
            file: THROUGHPUT_CSV.into(),
            line: row.0,
            reason: format!("unknown precision `{s}`; accepted: {}", Precision::ACCEPTED),
        })
    };
    let mut out = Vec::with_capacity(csv.rows.len());
    for row in &csv.rows {
        let attention_dp: String = csv.get(row, dp)?;
        let ep: u32 = csv.get(row, ep)?;
        out.push(ThroughputPoint {
            hardware: csv.get(row, hw)?,
            model: csv.get(row, model)?,
            weights: precision(row, prec, Precision::Bf16)?,
            kv: precision(row, kv, Precision::Bf16)?,
            tp: if attention_dp == "true" {
                1
            } else {
                csv.get(row, tp)?
            },
            ep,
            isl: csv.get(row, isl)?,
            osl: csv.get(row, osl)?,
            tokens_per_s_per_gpu: csv.get(row, value)?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dep_mappings_become_data_parallel_attention() {
        let text = "device,model,catalog_model,precision,kv_precision,tp,ep,attention_dp,isl,osl,output_tokens_per_s_per_gpu\n\
                    b200,DeepSeek-R1-0528,deepseek-v3,fp4,fp8,4,4,true,1000,1000,6463\n\
                    h200-sxm,Llama-3.3-70B-Instruct,llama-3.1-70b,fp8,,2,1,false,1000,1000,2587\n";
        let p = parse_throughput(text).unwrap();
        assert_eq!((p[0].tp, p[0].ep, p[0].kv), (1, 4, Precision::Fp8));
        assert_eq!((p[1].tp, p[1].ep, p[1].kv), (2, 1, Precision::Bf16));
        assert!(parse_throughput(&text.replace("fp4", "fp5")).is_err());
    }
}
