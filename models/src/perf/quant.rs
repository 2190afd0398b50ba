//! Activation quantization in front of low-precision GEMMs.
//!
//! An FP8 (or FP4) GEMM multiplies low-precision activations, so the engine first quantizes
//! each GEMM's BF16 input per token (vLLM's `scaled_fp8_quant`, TensorRT-LLM's quantize
//! kernels): one more pass over every input activation, memory-bound and proportional to the
//! tokens of the iteration. The H100 GEMM microbenchmarks show it plainly: FP8 GEMMs of small
//! width `n` reach a third of the FP8 peak at any batch, because the quantization of the
//! `m x k` input costs as much as the GEMM itself, while BF16 GEMMs of the same shapes reach
//! 80% of theirs. The bytes moved per quantized element are fitted on those microbenchmarks
//! (`tokenfleet calibrate`, `kernels.rs`), together with the FP8 tensor-core efficiency that
//! remains once this pass is accounted for. Engines that fuse the quantization into the
//! preceding normalization (some of vLLM's compile passes) save part of it; the fit on
//! isolated GEMMs does not see that, which is a known overestimate of at most this term.

use crate::llm::{Attention, ModelArch};

/// BF16 activation elements that one token feeds into the GEMMs of all layers, per device of
/// a stage with `tp` tensor-parallel ranks: the attention block's input (hidden, replicated on
/// every rank) and output projection's input (its share of the heads), and the MLP's input
/// (hidden) and down projection's input (its share of the intermediate width; for routed
/// experts, the `active` experts' width spread over the stage's ranks).
pub(super) fn gemm_inputs_per_token(model: &ModelArch, tp: f64, stage: f64) -> f64 {
    let hidden = model.hidden as f64;
    let o_input = match &model.attention {
        Attention::Gqa {
            heads, head_dim, ..
        } => (*heads * *head_dim) as f64,
        Attention::Mla {
            heads, v_head_dim, ..
        } => (*heads * *v_head_dim) as f64,
    };
    let attention = hidden + o_input / tp;
    let dense = hidden + model.dense_intermediate as f64 / tp;
    match &model.moe {
        None => model.layers as f64 * (attention + dense),
        Some(m) => {
            let moe_layers = model.moe_layers() as f64;
            let dense_layers = model.layers as f64 - moe_layers;
            let routed = m.active as f64 * m.expert_intermediate as f64 / stage;
            let shared = m.shared_intermediate as f64 / tp;
            dense_layers * (attention + dense) + moe_layers * (attention + hidden + routed + shared)
        }
    }
}
