//! LLM architectures, read from Hugging Face `config.json`.
//!
//! A serving simulator needs four numbers from a model: the parameters each token multiplies
//! (FLOPs), the bytes of weights an iteration reads, the KV-cache bytes each context token
//! occupies, and the attention work per (query, context) token pair. All four follow from the
//! architecture, so [`ModelArch`] is built from the model owner's `config.json` rather than
//! typed in: dense and mixture-of-experts feed-forward layers (routed, shared and leading dense
//! layers), grouped-query attention and multi-head latent attention (MLA, DeepSeek/Kimi/GLM),
//! and hybrids whose other layers have a bounded memory: sliding-window layers (gpt-oss) and
//! Gated DeltaNet linear attention (Qwen3.5), read by `llm/layers.rs`.
//!
//! Conventions: parameter counts exclude multi-token-prediction modules (served separately, if
//! at all) and norms/biases (well under 0.1%). Total parameters count the input embedding and
//! the output head separately unless they are tied.

use serde::Serialize;
use serde_json::Value;

use crate::precision::Precision;

mod json;
mod layers;
pub use json::ModelError;
use json::{get_u32, need_u32};
use layers::bounded_layers;
pub use layers::{LinearAttention, SlidingWindow};

/// The attention block's shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Attention {
    /// Multi-head / grouped-query attention: K and V cached per KV head.
    Gqa {
        heads: u32,
        kv_heads: u32,
        head_dim: u32,
        /// A sigmoid gate on the attention output, projected with the queries (Qwen3.5's
        /// `attn_output_gate`): the query projection is twice as wide.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        output_gate: bool,
    },
    /// Multi-head latent attention: one compressed latent plus a rotary key cached per token.
    Mla {
        heads: u32,
        q_lora_rank: Option<u32>,
        kv_lora_rank: u32,
        qk_nope_head_dim: u32,
        qk_rope_head_dim: u32,
        v_head_dim: u32,
        /// DeepSeek sparse attention indexer (V3.2, GLM-5), if present.
        indexer: Option<Indexer>,
    },
}

/// The lightning indexer of DeepSeek sparse attention.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indexer {
    pub heads: u32,
    pub head_dim: u32,
    pub topk: u32,
}

/// The mixture-of-experts part of the feed-forward layers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Moe {
    /// Routed experts per MoE layer.
    pub experts: u32,
    /// Routed experts each token activates.
    pub active: u32,
    /// Intermediate size of one routed expert.
    pub expert_intermediate: u32,
    /// Total intermediate size of the always-active shared expert(s), 0 if none.
    pub shared_intermediate: u32,
    /// Number of leading layers that are dense instead of MoE.
    pub dense_layers: u32,
}

/// An LLM architecture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelArch {
    pub layers: u32,
    pub hidden: u32,
    pub vocab: u32,
    pub tied_embeddings: bool,
    pub max_context: u32,
    pub attention: Attention,
    /// Intermediate size of the dense feed-forward layers (all layers of a dense model, the
    /// leading dense layers of an MoE model).
    pub dense_intermediate: u32,
    pub moe: Option<Moe>,
    /// Precision the owner ships the weights in (from `quantization_config`/`torch_dtype`).
    pub native_precision: Precision,
    /// Layers that attend to a sliding window instead of the whole context, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sliding_window: Option<SlidingWindow>,
    /// Linear-attention layers in place of attention, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linear_attention: Option<LinearAttention>,
}

impl ModelArch {
    /// Reads a Hugging Face `config.json` (multimodal configs: the `text_config` part).
    pub fn from_hf_config(json: &str) -> Result<ModelArch, ModelError> {
        let root: Value =
            serde_json::from_str(json).map_err(|e| ModelError::Json(e.to_string()))?;
        let v = root.get("text_config").unwrap_or(&root);
        let layers = need_u32(v, "num_hidden_layers")?;
        let hidden = need_u32(v, "hidden_size")?;
        let heads = need_u32(v, "num_attention_heads")?;
        let vocab = need_u32(v, "vocab_size")?;
        // Optional only for MoE models without dense layers (Qwen3.5 has none); checked below.
        let intermediate = match get_u32(v, "intermediate_size")? {
            Some(0) => {
                return Err(ModelError::Invalid {
                    field: "intermediate_size",
                    reason: "must be positive".into(),
                });
            }
            n => n,
        };
        let max_context = need_u32(v, "max_position_embeddings")?;
        let tied_embeddings = v
            .get("tie_word_embeddings")
            .and_then(Value::as_bool)
            .unwrap_or(false);

        let attention = if let Some(kv_lora_rank) = get_u32(v, "kv_lora_rank")? {
            let indexer = match get_u32(v, "index_n_heads")? {
                Some(ih) => Some(Indexer {
                    heads: ih,
                    head_dim: need_u32(v, "index_head_dim")?,
                    topk: need_u32(v, "index_topk")?,
                }),
                None => None,
            };
            Attention::Mla {
                heads,
                q_lora_rank: get_u32(v, "q_lora_rank")?,
                kv_lora_rank,
                qk_nope_head_dim: need_u32(v, "qk_nope_head_dim")?,
                qk_rope_head_dim: need_u32(v, "qk_rope_head_dim")?,
                v_head_dim: need_u32(v, "v_head_dim")?,
                indexer,
            }
        } else {
            let kv_heads = get_u32(v, "num_key_value_heads")?.unwrap_or(heads);
            let head_dim = get_u32(v, "head_dim")?.unwrap_or(hidden / heads);
            if kv_heads == 0 || heads % kv_heads != 0 {
                return Err(ModelError::Invalid {
                    field: "num_key_value_heads",
                    reason: format!("{kv_heads} does not divide num_attention_heads {heads}"),
                });
            }
            Attention::Gqa {
                heads,
                kv_heads,
                head_dim,
                output_gate: v
                    .get("attn_output_gate")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            }
        };

        let experts = [
            get_u32(v, "n_routed_experts")?,
            get_u32(v, "num_local_experts")?,
            get_u32(v, "num_experts")?,
        ]
        .into_iter()
        .flatten()
        .find(|n| *n > 1);
        let moe = match experts {
            None => None,
            Some(experts) => {
                let active = need_u32(v, "num_experts_per_tok")?;
                if active > experts {
                    return Err(ModelError::Invalid {
                        field: "num_experts_per_tok",
                        reason: format!("{active} exceeds the {experts} experts"),
                    });
                }
                // MiniMax names the expert size `intermediate_size`; DeepSeek and Qwen use
                // `moe_intermediate_size` and keep `intermediate_size` for dense layers.
                let expert_intermediate = match get_u32(v, "moe_intermediate_size")? {
                    Some(n) => n,
                    None => intermediate.ok_or(ModelError::Missing("intermediate_size"))?,
                };
                let shared_intermediate = match get_u32(v, "n_shared_experts")? {
                    Some(n) => n * expert_intermediate,
                    None => get_u32(v, "shared_expert_intermediate_size")?
                        .or(get_u32(v, "shared_intermediate_size")?)
                        .unwrap_or(0),
                };
                let dense_layers = get_u32(v, "first_k_dense_replace")?.unwrap_or(0);
                if dense_layers > layers {
                    return Err(ModelError::Invalid {
                        field: "first_k_dense_replace",
                        reason: format!("{dense_layers} exceeds the {layers} layers"),
                    });
                }
                Some(Moe {
                    experts,
                    active,
                    expert_intermediate,
                    shared_intermediate,
                    dense_layers,
                })
            }
        };

        let dense_intermediate = match (intermediate, &moe) {
            (Some(n), _) => n,
            (None, Some(m)) if m.dense_layers == 0 => 0,
            (None, _) => return Err(ModelError::Missing("intermediate_size")),
        };
        let (sliding_window, linear_attention) = bounded_layers(v, layers)?;

        let quant = v
            .get("quantization_config")
            .or_else(|| root.get("quantization_config"));
        let native_precision = match quant {
            Some(q) => {
                let method = q.get("quant_method").and_then(Value::as_str).unwrap_or("");
                let fmt = q.get("fmt").and_then(Value::as_str).unwrap_or("");
                if method == "fp8" || fmt.starts_with("float8") {
                    Precision::Fp8
                } else if method.contains("fp4") || json.contains("nvfp4") || json.contains("NVFP4")
                {
                    Precision::Fp4
                } else if method == "compressed-tensors" && json.contains("\"num_bits\": 4") {
                    Precision::Int4
                } else {
                    Precision::Bf16
                }
            }
            None => Precision::Bf16,
        };

        Ok(ModelArch {
            layers,
            hidden,
            vocab,
            tied_embeddings,
            max_context,
            attention,
            dense_intermediate,
            moe,
            native_precision,
            sliding_window,
            linear_attention,
        })
    }

    /// Parameters of one attention block (projections, plus the sparse-attention indexer).
    pub fn attention_params_per_layer(&self) -> f64 {
        let h = self.hidden as f64;
        match &self.attention {
            Attention::Gqa {
                heads,
                kv_heads,
                head_dim,
                output_gate,
            } => {
                let q = (*heads * *head_dim) as f64;
                let kv = (*kv_heads * *head_dim) as f64;
                let gate = if *output_gate { h * q } else { 0.0 };
                h * q + 2.0 * h * kv + q * h + gate
            }
            Attention::Mla {
                heads,
                q_lora_rank,
                kv_lora_rank,
                qk_nope_head_dim,
                qk_rope_head_dim,
                v_head_dim,
                indexer,
            } => {
                let nh = *heads as f64;
                let qk = (*qk_nope_head_dim + *qk_rope_head_dim) as f64;
                let q = match q_lora_rank {
                    Some(r) => h * *r as f64 + *r as f64 * nh * qk,
                    None => h * nh * qk,
                };
                let kv_a = h * (*kv_lora_rank + *qk_rope_head_dim) as f64;
                let kv_b = *kv_lora_rank as f64 * nh * (*qk_nope_head_dim + *v_head_dim) as f64;
                let o = nh * *v_head_dim as f64 * h;
                let idx = indexer.as_ref().map_or(0.0, |i| {
                    let q_in = q_lora_rank.map_or(h, |r| r as f64);
                    q_in * (i.heads * i.head_dim) as f64
                        + h * i.head_dim as f64
                        + h * i.heads as f64
                });
                q + kv_a + kv_b + o + idx
            }
        }
    }

    fn mlp_params(&self, intermediate: u32) -> f64 {
        // Gated (SwiGLU) MLP: gate, up and down projections.
        3.0 * self.hidden as f64 * intermediate as f64
    }

    /// Parameters of one routed expert.
    pub fn expert_params(&self) -> f64 {
        self.moe
            .as_ref()
            .map_or(0.0, |m| self.mlp_params(m.expert_intermediate))
    }

    /// Number of MoE layers.
    pub fn moe_layers(&self) -> u32 {
        self.moe
            .as_ref()
            .map_or(0, |m| self.layers - m.dense_layers)
    }

    /// Parameters of all layers except routed experts (attention, dense and shared MLPs,
    /// routers), excluding embeddings.
    pub fn non_expert_layer_params(&self) -> f64 {
        let l = self.layers as f64;
        // Sliding-window layers have the attention block's weights; linear-attention layers
        // their own.
        let attn = match &self.linear_attention {
            None => l * self.attention_params_per_layer(),
            Some(la) => {
                (self.layers - la.layers) as f64 * self.attention_params_per_layer()
                    + la.layers as f64 * la.params_per_layer(self.hidden)
            }
        };
        match &self.moe {
            None => attn + l * self.mlp_params(self.dense_intermediate),
            Some(m) => {
                let dense = m.dense_layers as f64 * self.mlp_params(self.dense_intermediate);
                let moe_l = self.moe_layers() as f64;
                let shared = moe_l * self.mlp_params(m.shared_intermediate);
                let router = moe_l * self.hidden as f64 * m.experts as f64;
                attn + dense + shared + router
            }
        }
    }

    /// Input embedding plus output head (one matrix if tied).
    pub fn embedding_params(&self) -> f64 {
        let e = self.vocab as f64 * self.hidden as f64;
        if self.tied_embeddings { e } else { 2.0 * e }
    }

    /// All parameters.
    pub fn total_params(&self) -> f64 {
        let routed = self.moe.as_ref().map_or(0.0, |m| {
            self.moe_layers() as f64 * m.experts as f64 * self.expert_params()
        });
        self.non_expert_layer_params() + routed + self.embedding_params()
    }

    /// Parameters a token activates, counting both embedding matrices (the convention of
    /// most published "active parameter" figures).
    pub fn active_params(&self) -> f64 {
        let routed = self.moe.as_ref().map_or(0.0, |m| {
            self.moe_layers() as f64 * m.active as f64 * self.expert_params()
        });
        self.non_expert_layer_params() + routed + self.embedding_params()
    }

    /// Parameters a token multiplies in the matmuls of the layers (no embeddings): the basis
    /// of per-token FLOPs. The output head is counted separately, per logit computed.
    pub fn active_layer_params(&self) -> f64 {
        let routed = self.moe.as_ref().map_or(0.0, |m| {
            self.moe_layers() as f64 * m.active as f64 * self.expert_params()
        });
        self.non_expert_layer_params() + routed
    }

    /// Output-head parameters (the vocabulary projection).
    pub fn head_params(&self) -> f64 {
        self.vocab as f64 * self.hidden as f64
    }

    /// Values cached per context token per layer (K and V, or MLA's latent + rope key).
    fn kv_values_per_token_per_layer(&self) -> f64 {
        match &self.attention {
            Attention::Gqa {
                kv_heads, head_dim, ..
            } => 2.0 * (*kv_heads * *head_dim) as f64,
            Attention::Mla {
                kv_lora_rank,
                qk_rope_head_dim,
                ..
            } => (*kv_lora_rank + *qk_rope_head_dim) as f64,
        }
    }

    /// Layers that attend to the whole context and cache K and V for every context token:
    /// all layers but the sliding-window and linear-attention ones.
    pub fn full_attention_layers(&self) -> u32 {
        self.layers
            - self.sliding_window.as_ref().map_or(0, |w| w.layers)
            - self.linear_attention.as_ref().map_or(0, |l| l.layers)
    }

    /// KV-cache bytes per context token, at the given cache precision, over the
    /// full-attention layers only. Excludes a sparse-attention indexer's own small key cache
    /// (128 values per token per layer).
    ///
    /// The approximation for hybrid models: a sliding-window layer's KV stops growing at
    /// `window` tokens and a linear-attention layer keeps a fixed state, so neither grows with
    /// the context; both are counted once per sequence by
    /// [`state_bytes_per_sequence`](Self::state_bytes_per_sequence) instead (for contexts
    /// shorter than the window that overstates the window layers' KV, by at most `window`
    /// tokens' worth). The KV capacity of a replica, in tokens, is computed from this figure
    /// and does not set the per-sequence state aside (see docs/performance-model.md).
    pub fn kv_bytes_per_token(&self, kv: Precision) -> f64 {
        self.full_attention_layers() as f64
            * self.kv_values_per_token_per_layer()
            * kv.bytes_per_value()
    }

    /// Bytes of memory one sequence holds whatever its length: the K and V of a full window
    /// in each sliding-window layer (at the KV precision) and the recurrent state of each
    /// linear-attention layer, kept at BF16 (the model's dtype, which engines keep it in by
    /// default whatever the KV precision).
    /// Zero for models whose layers all attend to the whole context.
    pub fn state_bytes_per_sequence(&self, kv: Precision) -> f64 {
        self.window_kv_bytes_per_sequence(kv) + self.linear_state_bytes_per_sequence()
    }

    /// K and V of a full window in every sliding-window layer, at the KV precision.
    pub fn window_kv_bytes_per_sequence(&self, kv: Precision) -> f64 {
        self.sliding_window.as_ref().map_or(0.0, |w| {
            w.layers as f64
                * w.window as f64
                * self.kv_values_per_token_per_layer()
                * kv.bytes_per_value()
        })
    }

    /// Recurrent state and convolution buffer of every linear-attention layer, at BF16.
    pub fn linear_state_bytes_per_sequence(&self) -> f64 {
        self.linear_attention.as_ref().map_or(0.0, |l| {
            l.layers as f64 * l.state_values_per_layer() * Precision::Bf16.bytes_per_value()
        })
    }

    /// Attention FLOPs per new token of the layers with a bounded memory: a full window of
    /// (query, key) pairs in each sliding-window layer, the state recurrence in each
    /// linear-attention layer. Zero for models whose layers all attend to the whole context.
    pub fn bounded_attention_flops_per_token(&self) -> f64 {
        let window = self.sliding_window.as_ref().map_or(0.0, |w| {
            w.layers as f64 * w.window as f64 * self.attention_flops_per_pair_per_layer()
        });
        let linear = self
            .linear_attention
            .as_ref()
            .map_or(0.0, |l| l.layers as f64 * l.flops_per_token_per_layer());
        window + linear
    }

    fn attention_flops_per_pair_per_layer(&self) -> f64 {
        match &self.attention {
            Attention::Gqa {
                heads, head_dim, ..
            } => 4.0 * (*heads * *head_dim) as f64,
            Attention::Mla {
                heads,
                qk_nope_head_dim,
                qk_rope_head_dim,
                v_head_dim,
                ..
            } => 2.0 * *heads as f64 * (*qk_nope_head_dim + *qk_rope_head_dim + *v_head_dim) as f64,
        }
    }

    /// Attention FLOPs for one (query token, context token) pair across the full-attention
    /// layers: scores (Q·K) and the weighted sum of values, 2 FLOPs per multiply-add.
    pub fn attention_flops_per_pair(&self) -> f64 {
        self.full_attention_layers() as f64 * self.attention_flops_per_pair_per_layer()
    }
}

// Which parallel degrees a model can be split by, as the serving engines ship it.
//
// Tensor parallelism splits the attention heads across devices, so the query heads must
// divide evenly (vLLM: `num_attention_heads % tp == 0`); K and V heads are split too, or, when
// there are fewer of them than devices, replicated: `kv_heads % tp == 0 || tp % kv_heads ==
// 0`. Latent attention (MLA) caches one latent per token and splits only the query heads.
// Expert parallelism puts whole experts on devices, so the routed experts must divide by ep.
// A `tp = 3` for a 32-head model is not a slower configuration, it is one no engine runs.

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

#[cfg(test)]
mod tests {
    use super::*;

    const LLAMA_8B: &str =
        include_str!("../catalog/models/meta-llama--Meta-Llama-3.1-8B_config.json");

    #[test]
    fn reads_a_dense_config() {
        let m = ModelArch::from_hf_config(LLAMA_8B).unwrap();
        assert_eq!(m.layers, 32);
        assert!(m.moe.is_none());
        assert!((m.total_params() / 8.03e9 - 1.0).abs() < 0.01);
        assert_eq!(m.kv_bytes_per_token(Precision::Bf16), 131_072.0);
    }

    #[test]
    fn missing_fields_are_named() {
        let e = ModelArch::from_hf_config(r#"{"hidden_size": 4096}"#).unwrap_err();
        assert_eq!(e, ModelError::Missing("num_hidden_layers"));
        let e = ModelArch::from_hf_config("{").unwrap_err();
        assert!(matches!(e, ModelError::Json(_)));
    }
}
