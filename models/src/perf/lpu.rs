//! Sizing SRAM machines (Groq LPUs): how many chips a model needs when weights and KV cache
//! must both stay on chip.

use super::layout::{usable_per_device, weight_bytes_per_device};
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
    let shape = ReplicaShape::new(1, 1, weights, kv);
    let weight_total = weight_bytes_per_device(model, &shape);
    let kv_total = model.kv_bytes_per_token(kv) * context as f64;
    let per_chip = usable_per_device(hw, params);
    if per_chip <= 0.0 {
        return u32::MAX;
    }
    ((weight_total + kv_total) / per_chip)
        .ceil()
        .clamp(1.0, u32::MAX as f64) as u32
}
