//! Groq-style LPUs: statically scheduled pipelines of SRAM-only chips. An SRAM chip has no
//! off-chip memory, so a replica is sized by memory, not by choice: as many chips as hold the
//! weights and the KV cache of every request in flight, laid out in pipeline stages of whole
//! 8-chip nodes (GroqNode). Here too is the engine profile the calibration writes for them
//! (not fitted: there is no measured LPU data).
//!
//! The sizing ([`lpu_layout`], [`lpu_degrees`]) is pure device arithmetic and belongs beside
//! `chips_needed` in `tokenfleet_models::perf` (models/src/perf/lpu.rs after the split of
//! models/); it lives here until that crate is free to change.

use std::collections::BTreeMap;

use tokenfleet_models::perf::{BenchmarkProtocol, EngineProfile, PerfParams, chips_needed};
use tokenfleet_models::precision::Precision;
use tokenfleet_models::{Hardware, ModelArch};

use crate::kernels::KernelFit;

/// Chips in one GroqNode, the unit a pipeline stage is built of.
pub const CHIPS_PER_NODE: u32 = 8;

/// Tensor and pipeline degrees for `chips` LPU chips: the given ones, else stages of 8 chips
/// (one GroqNode) with at most one stage per layer.
pub fn lpu_layout(chips: u32, tp: Option<u32>, pp: Option<u32>, layers: u32) -> (u32, u32) {
    match (tp, pp) {
        (Some(tp), Some(pp)) => (tp, pp),
        (None, Some(pp)) => (chips.div_ceil(pp.max(1)).max(1), pp),
        (tp, None) => {
            let tp = tp.unwrap_or_else(|| {
                let per_stage = chips.div_ceil(layers.max(1)).max(CHIPS_PER_NODE);
                per_stage.div_ceil(CHIPS_PER_NODE) * CHIPS_PER_NODE
            });
            (tp, chips.div_ceil(tp.max(1)).max(1))
        }
    }
}

/// Tensor and pipeline degrees of an LPU replica of `model` that holds the weights and the
/// KV cache of `tokens_in_flight` tokens (every request in flight), with the degrees the user
/// gave kept ([`lpu_layout`]).
#[allow(clippy::too_many_arguments)]
pub fn lpu_degrees(
    model: &ModelArch,
    weights: Precision,
    kv: Precision,
    tokens_in_flight: u64,
    hw: &Hardware,
    params: &PerfParams,
    tp: Option<u32>,
    pp: Option<u32>,
) -> (u32, u32) {
    // Chips in 8-chip nodes (GroqNode), enough for the weights and the KV cache of every
    // request in flight; stages of 8 chips, wider stages if there would be more stages than
    // layers.
    let chips = chips_needed(model, weights, kv, tokens_in_flight, hw, params);
    lpu_layout(chips, tp, pp, model.layers)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lpu_stages_are_whole_nodes_with_at_most_one_stage_per_layer() {
        // Few chips per layer: stages of one node.
        assert_eq!(lpu_layout(300, None, None, 80), (8, 38));
        // More stages of one node than layers: wider stages, still whole nodes.
        assert_eq!(lpu_layout(1000, None, None, 32), (32, 32));
        assert_eq!(lpu_layout(1000, None, None, 30), (40, 25));
        // What the user gives is kept; the other degree covers the chips.
        assert_eq!(lpu_layout(100, Some(16), None, 80), (16, 7));
        assert_eq!(lpu_layout(100, None, Some(4), 80), (25, 4));
        assert_eq!(lpu_layout(100, Some(3), Some(5), 80), (3, 5));
        assert_eq!(lpu_layout(1, None, None, 0), (8, 1));
    }
}
