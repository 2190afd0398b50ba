//! How a model's bytes spread over a replica's devices: weights per device, the memory an
//! engine may use on a device, and how often the KV cache is replicated across TP ranks.
//!
//! Shared by replica construction and by LPU chip sizing, which must count bytes the same way
//! for a replica sized by [`chips_needed`](crate::perf::chips_needed) to fit.

use super::params::PerfParams;
use super::shape::ReplicaShape;
use crate::hardware::Hardware;
use crate::llm::{Attention, ModelArch};

/// Embeddings and the output head stay BF16 in quantized checkpoints (FP8, NVFP4 and AWQ
/// exports exclude `lm_head` and the embedding from quantization; DeepSeek-V3 ships them in
/// BF16 beside FP8 layers).
pub(super) const EMBEDDING_BYTES: f64 = 2.0;

/// Weight bytes of a model laid out in `shape`, per device (the largest share).
pub(super) fn weight_bytes_per_device(model: &ModelArch, shape: &ReplicaShape) -> f64 {
    let wb = shape.weights.bytes_per_value();
    let (tp, pp) = (shape.tp as f64, shape.pp as f64);
    let stage = shape.stage_devices() as f64;
    let routed = model
        .moe
        .as_ref()
        .map_or(0.0, |m| model.moe_layers() as f64 * m.experts as f64);
    // Attention, dense and shared weights are split over the TP group (and replicated in each
    // DP group); routed experts over the whole stage; embeddings are vocabulary-parallel.
    model.non_expert_layer_params() * wb / (tp * pp)
        + routed * model.expert_params() * wb / (stage * pp)
        + model.embedding_params() * EMBEDDING_BYTES / (tp * pp)
}

/// Usable bytes per device for weights and KV under `params`, on a replica of `devices`.
pub(super) fn usable_per_device(hw: &Hardware, params: &PerfParams, devices: u32) -> f64 {
    (hw.memory_bytes * params.memory_utilization_for(devices) - params.reserved_bytes_per_device)
        .max(0.0)
}

/// KV replication factor across the TP ranks of one attention group.
pub(super) fn kv_replication(model: &ModelArch, tp: u32) -> f64 {
    match &model.attention {
        Attention::Gqa { kv_heads, .. } => (tp as f64 / *kv_heads as f64).max(1.0),
        // One latent per token serves all heads, so every TP rank keeps the whole latent.
        Attention::Mla { .. } => tp as f64,
    }
}

/// Bytes of one sequence's bounded-memory state that an iteration moves, summed over the
/// devices of its attention group: sliding-window KV is read and replicated like the full KV;
/// a linear-attention state is read and written back, its value heads split over the TP
/// ranks (replicated only when the ranks outnumber the key heads).
pub(super) fn state_traffic_per_seq(model: &ModelArch, shape: &ReplicaShape) -> f64 {
    let window = model.window_kv_bytes_per_sequence(shape.kv) * kv_replication(model, shape.tp);
    let linear = model.linear_attention.as_ref().map_or(0.0, |l| {
        let replication = (shape.tp as f64 / l.key_heads as f64).max(1.0);
        2.0 * model.linear_state_bytes_per_sequence() * replication
    });
    window + linear
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::precision::Precision;

    #[test]
    fn models_without_bounded_layers_move_no_state() {
        let m = ModelArch::from_hf_config(include_str!(
            "../../catalog/models/meta-llama--Meta-Llama-3.1-8B_config.json"
        ))
        .unwrap();
        let shape = ReplicaShape::new(2, 1, Precision::Bf16, Precision::Bf16);
        assert_eq!(state_traffic_per_seq(&m, &shape), 0.0);
    }
}
