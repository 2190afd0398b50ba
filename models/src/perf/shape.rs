//! A replica's parallel layout, [`ReplicaShape`]: tensor, pipeline and expert parallelism and
//! the precisions of weights and KV cache.

use serde::{Deserialize, Serialize};

use crate::precision::Precision;

/// How a model is laid out on a replica's devices.
///
/// `tp` devices share every layer (tensor parallelism); `pp` groups of them hold consecutive
/// layers (pipeline parallelism). With `ep > 1` the MoE layers' experts are spread over `ep`
/// devices (expert parallelism) and exchanged by all-to-all instead of all-reduce; `ep` is a
/// multiple of `tp`, and when it is larger the attention layers run data parallel in
/// `ep / tp` groups of `tp` devices (vLLM/SGLang "DP attention"), so a stage has
/// `max(tp, ep)` devices.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReplicaShape {
    /// Tensor-parallel degree.
    pub tp: u32,
    /// Pipeline-parallel degree.
    pub pp: u32,
    /// Expert-parallel degree (1: experts are tensor-parallel like dense layers).
    #[serde(default = "one")]
    pub ep: u32,
    pub weights: Precision,
    pub kv: Precision,
}

fn one() -> u32 {
    1
}

impl ReplicaShape {
    /// A tensor- and pipeline-parallel shape without expert parallelism.
    pub fn new(tp: u32, pp: u32, weights: Precision, kv: Precision) -> ReplicaShape {
        ReplicaShape {
            tp,
            pp,
            ep: 1,
            weights,
            kv,
        }
    }
    /// Attention data-parallel groups within a stage.
    pub fn dp(&self) -> u32 {
        if self.ep > self.tp && self.tp > 0 {
            self.ep / self.tp
        } else {
            1
        }
    }
    /// Devices of one pipeline stage.
    pub fn stage_devices(&self) -> u32 {
        self.tp * self.dp()
    }
    pub fn devices(&self) -> u32 {
        self.stage_devices() * self.pp
    }
}
