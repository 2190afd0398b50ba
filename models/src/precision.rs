//! Numeric precisions for weights, KV cache and compute.

use serde::{Deserialize, Serialize};

/// A storage/compute precision.
///
/// `Int4` is weight-only quantization (AWQ/GPTQ style): weights stored in 4 bits with per-group
/// scales, dequantized and multiplied in BF16, so it saves bytes but not FLOPs. `Fp4` is
/// NVFP4/MXFP4 with native FP4 tensor-core math where the hardware has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    Bf16,
    Fp8,
    Fp4,
    Int4,
}

impl Precision {
    pub const ALL: [Precision; 4] = [
        Precision::Bf16,
        Precision::Fp8,
        Precision::Fp4,
        Precision::Int4,
    ];
    pub const ACCEPTED: &'static str = "bf16, fp8, fp4, int4";

    /// Bytes per stored value, including block-scale overhead: NVFP4 keeps one FP8 scale per 16
    /// values (4.5 bits), INT4 one FP16 scale per 128-value group (4.125 bits).
    pub fn bytes_per_value(self) -> f64 {
        match self {
            Precision::Bf16 => 2.0,
            Precision::Fp8 => 1.0,
            Precision::Fp4 => 4.5 / 8.0,
            Precision::Int4 => 4.125 / 8.0,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Precision::Bf16 => "bf16",
            Precision::Fp8 => "fp8",
            Precision::Fp4 => "fp4",
            Precision::Int4 => "int4",
        }
    }

    pub fn parse(s: &str) -> Option<Precision> {
        match s.to_ascii_lowercase().as_str() {
            "bf16" | "fp16" | "bfloat16" => Some(Precision::Bf16),
            "fp8" | "float8" => Some(Precision::Fp8),
            "fp4" | "nvfp4" | "mxfp4" => Some(Precision::Fp4),
            "int4" | "awq" | "gptq" | "w4a16" => Some(Precision::Int4),
            _ => None,
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
