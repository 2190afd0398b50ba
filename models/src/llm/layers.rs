//! Layers whose memory of the past is bounded: sliding-window attention (gpt-oss alternates
//! banded and dense layers) and linear attention (Gated DeltaNet in Qwen3-Next and Qwen3.5,
//! three of every four layers).
//!
//! Neither keeps a KV cache that grows with the context. A sliding-window layer keeps the K
//! and V of at most `window` tokens per sequence; a Gated DeltaNet layer keeps a fixed-size
//! recurrent state (one key x value matrix per value head) and a short convolution buffer.
//! [`ModelArch`](crate::llm::ModelArch) therefore counts per-token KV only over its
//! full-attention layers, and these layers' bounded memory as a per-sequence state.

use serde::Serialize;
use serde_json::Value;

use super::json::{ModelError, get_u32, need_u32};

/// Layers that attend only to the last `window` tokens (Hugging Face `sliding_attention`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlidingWindow {
    pub layers: u32,
    pub window: u32,
}

/// Gated DeltaNet linear-attention layers (Hugging Face `linear_attention`, the
/// `linear_*` fields of the config).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinearAttention {
    pub layers: u32,
    pub key_heads: u32,
    pub value_heads: u32,
    pub key_head_dim: u32,
    pub value_head_dim: u32,
    /// Width of the depthwise causal convolution over q, k and v.
    pub conv_kernel: u32,
}

impl LinearAttention {
    fn key_dim(&self) -> f64 {
        self.key_heads as f64 * self.key_head_dim as f64
    }
    fn value_dim(&self) -> f64 {
        self.value_heads as f64 * self.value_head_dim as f64
    }
    /// One key_head_dim x value_head_dim state matrix per value head.
    fn state_matrix_values(&self) -> f64 {
        self.value_heads as f64 * self.key_head_dim as f64 * self.value_head_dim as f64
    }
    /// Channels of the causal convolution: queries, keys and values.
    fn conv_dim(&self) -> f64 {
        2.0 * self.key_dim() + self.value_dim()
    }

    /// Parameters of one layer: the q, k, v and output-gate (z) input projections, the
    /// per-value-head decay and step-size projections (a, b), the convolution and the output
    /// projection (transformers' `Qwen3NextGatedDeltaNet`; norms and the per-head `A_log` and
    /// `dt_bias` vectors are left out, as everywhere).
    pub fn params_per_layer(&self, hidden: u32) -> f64 {
        let h = hidden as f64;
        let (k, v) = (self.key_dim(), self.value_dim());
        h * (2.0 * k + 2.0 * v)
            + h * 2.0 * self.value_heads as f64
            + self.conv_dim() * self.conv_kernel as f64
            + v * h
    }

    /// Values one sequence keeps in one layer: a key_head_dim x value_head_dim state per value
    /// head and the convolution's last `conv_kernel - 1` inputs.
    pub fn state_values_per_layer(&self) -> f64 {
        self.state_matrix_values() + self.conv_dim() * self.conv_kernel.saturating_sub(1) as f64
    }

    /// FLOPs per token per layer of the recurrence: per value head, the state is read against
    /// the key, updated by a rank-one correction and read against the query (three
    /// key x value products, 2 FLOPs per multiply-add).
    pub fn flops_per_token_per_layer(&self) -> f64 {
        6.0 * self.state_matrix_values()
    }
}

/// How many layers of each kind a config's `layer_types` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LayerCounts {
    pub full: u32,
    pub sliding: u32,
    pub linear: u32,
}

impl LayerCounts {
    /// Counts Hugging Face's layer type names; an unknown name is an error (its memory would
    /// be guessed).
    pub fn from_layer_types(types: &[Value]) -> Result<LayerCounts, String> {
        let mut c = LayerCounts::default();
        for t in types {
            match t.as_str() {
                Some("full_attention") => c.full += 1,
                Some("sliding_attention") => c.sliding += 1,
                Some("linear_attention") => c.linear += 1,
                _ => {
                    return Err(format!(
                        "unknown layer type {t}; known: full_attention, sliding_attention, linear_attention"
                    ));
                }
            }
        }
        Ok(c)
    }

    /// Qwen3-Next style configs without `layer_types`: every `interval`-th layer is full
    /// attention, the others linear.
    pub fn every_nth_full(layers: u32, interval: u32) -> LayerCounts {
        let full = layers / interval.max(1);
        LayerCounts {
            full,
            sliding: 0,
            linear: layers - full,
        }
    }
}

/// The sliding-window and linear-attention layers of a config: counted from `layer_types`
/// (gpt-oss, Gemma, Qwen3.5), or every `full_attention_interval`-th layer full and the others
/// linear where only that is given (Qwen3-Next). A config with neither is all full attention,
/// including one with a `sliding_window` but no `layer_types` (Mistral-style windows on every
/// layer, or Qwen's unused `max_window_layers`): its KV is then overstated, never understated.
pub(super) fn bounded_layers(
    v: &Value,
    layers: u32,
) -> Result<(Option<SlidingWindow>, Option<LinearAttention>), ModelError> {
    let counts = match v.get("layer_types").and_then(Value::as_array) {
        Some(types) => {
            let c = LayerCounts::from_layer_types(types).map_err(|reason| ModelError::Invalid {
                field: "layer_types",
                reason,
            })?;
            if types.len() != layers as usize {
                return Err(ModelError::Invalid {
                    field: "layer_types",
                    reason: format!("{} entries for {layers} layers", types.len()),
                });
            }
            c
        }
        None => match get_u32(v, "full_attention_interval")? {
            Some(n) if v.get("linear_num_value_heads").is_some() => {
                LayerCounts::every_nth_full(layers, n)
            }
            _ => LayerCounts {
                full: layers,
                ..LayerCounts::default()
            },
        },
    };
    let sliding = match counts.sliding {
        0 => None,
        n => Some(SlidingWindow {
            layers: n,
            window: need_u32(v, "sliding_window")?,
        }),
    };
    let linear = match counts.linear {
        0 => None,
        n => Some(LinearAttention {
            layers: n,
            key_heads: need_u32(v, "linear_num_key_heads")?,
            value_heads: need_u32(v, "linear_num_value_heads")?,
            key_head_dim: need_u32(v, "linear_key_head_dim")?,
            value_head_dim: need_u32(v, "linear_value_head_dim")?,
            conv_kernel: need_u32(v, "linear_conv_kernel_dim")?,
        }),
    };
    Ok((sliding, linear))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Qwen3.5-397B-A17B's Gated DeltaNet (16 key heads, 64 value heads of 128, kernel 4).
    fn qwen35() -> LinearAttention {
        LinearAttention {
            layers: 45,
            key_heads: 16,
            value_heads: 64,
            key_head_dim: 128,
            value_head_dim: 128,
            conv_kernel: 4,
        }
    }

    #[test]
    fn gated_deltanet_parameters_and_state() {
        let la = qwen35();
        // qkvz 4096 x 20480, ab 4096 x 128, conv 12288 x 4, out 8192 x 4096.
        let want = 4096.0 * 20480.0 + 4096.0 * 128.0 + 12288.0 * 4.0 + 8192.0 * 4096.0;
        assert_eq!(la.params_per_layer(4096), want);
        // 64 heads x 128 x 128 plus 3 x 12288 convolution inputs.
        assert_eq!(la.state_values_per_layer(), 1_048_576.0 + 36_864.0);
        assert_eq!(la.flops_per_token_per_layer(), 6.0 * 1_048_576.0);
    }

    #[test]
    fn layer_types_are_counted_and_unknown_ones_refused() {
        let types: Vec<Value> = ["sliding_attention", "full_attention"]
            .iter()
            .cycle()
            .take(36)
            .map(|s| Value::from(*s))
            .collect();
        let c = LayerCounts::from_layer_types(&types).unwrap();
        assert_eq!((c.full, c.sliding, c.linear), (18, 18, 0));
        let e = LayerCounts::from_layer_types(&[Value::from("mamba")]).unwrap_err();
        assert!(e.contains("mamba"), "{e}");
        let c = LayerCounts::every_nth_full(48, 4);
        assert_eq!((c.full, c.linear), (12, 36));
    }

    #[test]
    fn bounded_layers_need_their_fields_and_a_type_per_layer() {
        let types = serde_json::json!(["sliding_attention", "full_attention"]);
        let ok = serde_json::json!({ "layer_types": types, "sliding_window": 128 });
        let (w, l) = bounded_layers(&ok, 2).unwrap();
        assert_eq!(
            w,
            Some(SlidingWindow {
                layers: 1,
                window: 128
            })
        );
        assert!(l.is_none());
        let e = bounded_layers(&ok, 3).unwrap_err();
        assert!(
            matches!(
                e,
                ModelError::Invalid {
                    field: "layer_types",
                    ..
                }
            ),
            "{e}"
        );
        let e = bounded_layers(&serde_json::json!({ "layer_types": types }), 2).unwrap_err();
        assert_eq!(e, ModelError::Missing("sliding_window"));
        // A window without layer_types (Qwen3's unused one, Mistral's) is full attention.
        let (w, l) = bounded_layers(&serde_json::json!({ "sliding_window": 4096 }), 2).unwrap();
        assert!(w.is_none() && l.is_none());
    }
}
