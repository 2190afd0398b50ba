//! Sizing SRAM machines (Groq LPUs): how many chips a model needs when weights and KV cache
//! must both stay on chip, and how they are laid out: pipeline stages of whole 8-chip nodes
//! (GroqNode), at most one stage per layer.

use super::layout::{kv_replication, usable_per_device, weight_bytes_per_device};
use super::params::PerfParams;
use super::shape::ReplicaShape;
use crate::hardware::Hardware;
use crate::llm::ModelArch;
use crate::precision::Precision;

/// The fewest chips (devices of kind `lpu`, or any device) whose usable memory holds the
/// weights at `weights` precision plus the KV cache of `context` tokens at `kv` precision,
/// with weights and KV spread evenly over the chips. SRAM machines (Groq) keep both on chip,
/// so this is the size of the smallest replica that can serve the model at that context.
pub fn chips_needed(
    model: &ModelArch,
    weights: Precision,
    kv: Precision,
    context: u64,
    hw: &Hardware,
    params: &PerfParams,
) -> u32 {
    chips_for(model, weights, kv, context, 1.0, hw, params)
}

/// [`chips_needed`] with the KV cache stored `replication` times (MLA latents on every tensor
/// rank, KV heads fewer than the ranks).
fn chips_for(
    model: &ModelArch,
    weights: Precision,
    kv: Precision,
    context: u64,
    replication: f64,
    hw: &Hardware,
    params: &PerfParams,
) -> u32 {
    let shape = ReplicaShape::new(1, 1, weights, kv);
    let weight_total = weight_bytes_per_device(model, &shape);
    let kv_total = model.kv_bytes_per_token(kv) * context as f64 * replication;
    let per_chip = usable_per_device(hw, params, 1);
    if per_chip <= 0.0 {
        return u32::MAX;
    }
    ((weight_total + kv_total) / per_chip)
        .ceil()
        .clamp(1.0, u32::MAX as f64) as u32
}

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
    // A wide stage may store the KV cache on every rank (MLA), which needs more chips, which
    // may widen the stage: repeat until the layout holds what it needs (a few rounds).
    let mut chips = chips_needed(model, weights, kv, tokens_in_flight, hw, params);
    let mut layout = lpu_layout(chips, tp, pp, model.layers);
    for _ in 0..16 {
        let replication = kv_replication(model, layout.0);
        let need = chips_for(
            model,
            weights,
            kv,
            tokens_in_flight,
            replication,
            hw,
            params,
        );
        if need <= layout.0.saturating_mul(layout.1) {
            break;
        }
        chips = chips.max(need);
        layout = lpu_layout(chips, tp, pp, model.layers);
    }
    layout
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
