//! Which parallel degrees a model can be split by, as the serving engines ship it.
//!
//! Tensor parallelism splits the attention heads across devices, so the query heads must
//! divide evenly (vLLM: `num_attention_heads % tp == 0`); K and V heads are split too, or, when
//! there are fewer of them than devices, replicated: `kv_heads % tp == 0 || tp % kv_heads ==
//! 0`. Latent attention (MLA) caches one latent per token and splits only the query heads.
//! Expert parallelism puts whole experts on devices, so the routed experts must divide by ep.
//! A `tp = 3` for a 32-head model is not a slower configuration, it is one no engine runs.

use super::{Attention, ModelArch};

impl ModelArch {
    /// Whether an engine can split this model's attention over `tp` devices.
    pub fn splits_by_tp(&self, tp: u32) -> bool {
        if tp == 0 {
            return false;
        }
        match self.attention {
            Attention::Gqa {
                heads, kv_heads, ..
            } => {
                heads.is_multiple_of(tp)
                    && (kv_heads.is_multiple_of(tp) || tp.is_multiple_of(kv_heads.max(1)))
            }
            Attention::Mla { heads, .. } => heads.is_multiple_of(tp),
        }
    }

    /// The tensor-parallel degrees an engine accepts (every divisor of the query heads that
    /// also suits the KV heads).
    pub fn tp_degrees(&self) -> Vec<u32> {
        let heads = match self.attention {
            Attention::Gqa { heads, .. } | Attention::Mla { heads, .. } => heads,
        };
        (1..=heads).filter(|&t| self.splits_by_tp(t)).collect()
    }

    /// The expert-parallel degrees: 1, and for a mixture of experts every divisor of its
    /// routed experts.
    pub fn ep_degrees(&self) -> Vec<u32> {
        match &self.moe {
            None => vec![1],
            Some(m) => (1..=m.experts)
                .filter(|e| m.experts.is_multiple_of(*e))
                .collect(),
        }
    }
}

/// A list of degrees, for a message: `1, 2, 4, 8, 16, 32`.
pub fn degrees_list(ds: &[u32]) -> String {
    ds.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}
