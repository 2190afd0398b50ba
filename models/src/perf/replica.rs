//! Building a [`ReplicaPerf`]: laying a model out on a replica's devices, checking that it fits,
//! and precomputing the constants of every iteration's cost.
//!
//! Everything that depends only on (hardware, model, shape, precision, engine) is computed
//! here once, so that an iteration's cost (`cost.rs`) is a few multiply-adds in the
//! simulator's inner loop.

use serde::Serialize;

use super::experts::TouchedTable;
use super::layout::{
    EMBEDDING_BYTES, kv_replication, state_traffic_per_seq, usable_per_device,
    weight_bytes_per_device,
};
use super::lpu::chips_needed;
use super::params::PerfParams;
use super::quant::gemm_inputs_per_token;
use super::shape::ReplicaShape;
use crate::hardware::{DeviceKind, Hardware};
use crate::llm::{Attention, ModelArch};
use crate::precision::Precision;

/// Why a model cannot be served in a given shape.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PerfError {
    #[error(
        "{model} in {weights} needs {need_gb:.1} GB of weights per device but {devices} x {hardware} offer {have_gb:.1} GB usable each; it needs at least {min_devices} devices (tp/pp), a smaller precision or a larger device"
    )]
    DoesNotFit {
        model: String,
        hardware: String,
        weights: Precision,
        devices: u32,
        need_gb: f64,
        have_gb: f64,
        /// The fewest devices whose usable memory holds the weights.
        min_devices: u32,
    },
    #[error(
        "{model} in {weights} needs at least {min_chips} {hardware} chips to hold its weights in on-chip SRAM ({full_context_chips} to also hold one {context}-token context in {kv} KV); the replica has {chips}"
    )]
    TooFewChips {
        model: String,
        hardware: String,
        weights: Precision,
        kv: Precision,
        chips: u32,
        /// Chips whose SRAM holds the weights alone.
        min_chips: u32,
        /// Chips whose SRAM holds the weights and one full context window.
        full_context_chips: u32,
        context: u32,
    },
    #[error("invalid replica shape: {0}")]
    BadShape(String),
}

/// The constant parts of an iteration's cost for one replica.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplicaPerf {
    pub devices: u32,
    pub shape: ReplicaShape,
    /// Seconds of GEMM compute per new token and per logit row.
    pub(super) compute_per_token_s: f64,
    pub(super) compute_per_logit_s: f64,
    /// Seconds of attention compute per (query, key) pair: prefill kernels, and decode-only
    /// iterations (which differ for absorbed MLA).
    pub(super) prefill_pair_s: f64,
    pub(super) decode_pair_s: f64,
    /// Seconds to stream the weights always read (attention, dense, shared experts, routers,
    /// output head) and one routed expert of one layer, per device.
    pub(super) always_read_s: f64,
    pub(super) expert_read_s: f64,
    pub(super) moe_layers: f64,
    pub(super) experts: f64,
    pub(super) active_experts: f64,
    #[serde(skip)]
    pub(super) touched: TouchedTable,
    /// Seconds to read one context token's KV cache (all layers, per device).
    pub(super) kv_read_s: f64,
    /// KV bytes per context token (at the cache precision).
    pub kv_bytes_per_token: f64,
    /// Seconds of attention compute per new token in the layers with a bounded memory
    /// (sliding-window and linear-attention layers), and seconds per sequence in the batch to
    /// read their state (and write a linear-attention state back), per device. Zero for models
    /// whose layers all attend to the whole context.
    pub(super) bounded_per_token_s: f64,
    pub(super) state_read_s: f64,
    /// Memory one sequence holds whatever its length (`ModelArch::state_bytes_per_sequence`),
    /// not set aside from the KV capacity.
    pub state_bytes_per_seq: f64,
    /// Memory replication of KV across TP ranks (MLA latents and KV heads fewer than TP ranks
    /// are stored on every rank that needs them).
    pub kv_replication: f64,
    /// Fixed seconds per iteration: engine, per-layer, collective latencies, pipeline hops.
    pub(super) fixed_s: f64,
    pub(super) per_seq_overhead_s: f64,
    /// Collective transfer seconds per new token (TP all-reduce, EP all-to-all, PP hand-off).
    pub(super) per_token_comm_s: f64,
    /// Client-visible latency per request outside the iterations (see [`PerfParams`]).
    pub request_overhead_s: f64,
    /// Weight bytes held by the replica (including replicas of attention weights under DP).
    pub weight_bytes: f64,
    /// KV-cache capacity of the replica, in context tokens.
    pub kv_capacity_tokens: u64,
    pub max_context: u32,
}

/// Activations exchanged by collectives are BF16.
const ACTIVATION_BYTES: f64 = 2.0;

impl ReplicaPerf {
    /// Lays `model` out on `shape.devices()` devices of `hw`.
    pub fn new(
        model_name: &str,
        model: &ModelArch,
        hw: &Hardware,
        shape: ReplicaShape,
        params: &PerfParams,
    ) -> Result<ReplicaPerf, PerfError> {
        if shape.tp == 0 || shape.pp == 0 || shape.ep == 0 {
            return Err(PerfError::BadShape(
                "tp, pp and ep must be at least 1".into(),
            ));
        }
        if shape.ep > 1 {
            if model.moe.is_none() {
                return Err(PerfError::BadShape(format!(
                    "ep = {} needs a mixture-of-experts model; {model_name} is dense",
                    shape.ep
                )));
            }
            if !shape.ep.is_multiple_of(shape.tp) {
                return Err(PerfError::BadShape(format!(
                    "ep ({}) must be a multiple of tp ({}): attention runs data-parallel in ep/tp groups",
                    shape.ep, shape.tp
                )));
            }
        }
        // SRAM chips are split by layers and columns, not by heads (lpu.rs): no head rule.
        if hw.kind != DeviceKind::Lpu && !model.splits_by_tp(shape.tp) {
            return Err(PerfError::BadShape(format!(
                "tp = {} does not divide the attention heads of {model_name}; accepted: {}",
                shape.tp,
                crate::llm::degrees_list(&model.tp_degrees())
            )));
        }
        if shape.ep > 1
            && let Some(moe) = &model.moe
            && !moe.experts.is_multiple_of(shape.ep)
        {
            return Err(PerfError::BadShape(format!(
                "ep = {} does not divide the {} routed experts of {model_name}; accepted: {}",
                shape.ep,
                moe.experts,
                crate::llm::degrees_list(&model.ep_degrees())
            )));
        }
        if shape.pp > model.layers {
            return Err(PerfError::BadShape(format!(
                "pp ({}) exceeds the {} layers of {model_name}",
                shape.pp, model.layers
            )));
        }
        let devices = shape.devices();
        let (tp, pp) = (shape.tp as f64, shape.pp as f64);
        let dp = shape.dp() as f64;
        let stage = shape.stage_devices() as f64;
        let all = devices as f64;
        let wb = shape.weights.bytes_per_value();

        let per_device = weight_bytes_per_device(model, &shape);
        let usable = usable_per_device(hw, params, shape.devices());
        let kv_bytes_per_token = model.kv_bytes_per_token(shape.kv);
        let kv_replication = kv_replication(model, shape.tp);
        let kv_capacity = |free_per_device: f64| {
            (free_per_device.max(0.0) * all / (kv_bytes_per_token * kv_replication)).floor()
        };
        if hw.kind == DeviceKind::Lpu && per_device >= usable {
            // SRAM chips have no off-chip memory: the weights must fit across the chips, and
            // the KV cache of the requests in flight in what is left (the context window a
            // scenario may use is capped at that capacity, as on any device).
            let chips =
                |context: u64| chips_needed(model, shape.weights, shape.kv, context, hw, params);
            return Err(PerfError::TooFewChips {
                model: model_name.to_string(),
                hardware: hw.id.clone(),
                weights: shape.weights,
                kv: shape.kv,
                chips: devices,
                min_chips: chips(0),
                full_context_chips: chips(model.max_context as u64),
                context: model.max_context,
            });
        } else if per_device >= usable {
            let whole = per_device * all;
            return Err(PerfError::DoesNotFit {
                model: model_name.to_string(),
                hardware: hw.id.clone(),
                weights: shape.weights,
                devices,
                need_gb: per_device / 1e9,
                have_gb: usable / 1e9,
                min_devices: if usable > 0.0 {
                    (whole / usable).floor() as u32 + 1
                } else {
                    u32::MAX
                },
            });
        }
        let kv_capacity_tokens =
            kv_capacity(params.kv_free_fraction * (usable - per_device)) as u64;

        // Compute: a pipelined replica keeps every stage busy with micro-batches, so a
        // compute-bound iteration runs at the rate of all devices; memory streaming happens
        // stage after stage, so it runs at one stage's bandwidth.
        let (matmul_peak, lowp) = hw.matmul(shape.weights);
        let gemm_eff = if lowp {
            params.lowp_compute_efficiency
        } else {
            params.compute_efficiency
        };
        let matmul_rate = all * matmul_peak * gemm_eff;
        // Quantizing the GEMM inputs streams them once more, per device: a pipeline's stages
        // and the attention DP groups each do their share of the tokens.
        let quant_per_token_s = if lowp {
            params.lowp_activation_bytes * gemm_inputs_per_token(model, tp, stage)
                / (pp * dp * hw.memory_bandwidth * params.memory_efficiency)
        } else {
            0.0
        };
        let head_rate = all * hw.bf16_flops * params.compute_efficiency;
        let attention_rate = all * hw.bf16_flops * params.attention_efficiency;
        let memory_rate = hw.memory_bandwidth * params.memory_efficiency;

        let (prefill_pair_flops, decode_pair_flops) = pair_flops(model);
        let (always_params, expert_params, moe_layers, experts, active) = match &model.moe {
            None => (model.non_expert_layer_params(), 0.0, 0.0, 0.0, 0.0),
            Some(m) => (
                model.non_expert_layer_params(),
                model.expert_params(),
                model.moe_layers() as f64,
                m.experts as f64,
                m.active as f64,
            ),
        };
        // Per device: attention/dense weights are read by every TP rank of every DP group
        // (1/tp each), routed experts by their owner (1/stage each), the head vocab-parallel.
        let always_bytes = always_params * wb / tp + model.head_params() * EMBEDDING_BYTES / tp;
        let expert_bytes = expert_params * wb / stage;

        // Collectives. Without EP every layer does two all-reduces (after attention and after
        // the MLP or MoE); with EP an MoE layer's second one becomes a dispatch and a combine
        // all-to-all. Ring all-reduce moves 2(t-1)/t of the message per device; an all-to-all
        // sends each token's hidden vector to its `active` experts, (ep-1)/ep of them remote,
        // spread over the ep senders.
        let layers = model.layers as f64;
        let hidden = model.hidden as f64;
        let link = hw.scaleup_bandwidth * params.collective_efficiency;
        let ep_moe_layers = if shape.ep > 1 { moe_layers } else { 0.0 };
        let (allreduces, ar_per_token) = if shape.tp > 1 {
            (
                2.0 * layers - ep_moe_layers,
                (2.0 * layers - ep_moe_layers) * 2.0 * (tp - 1.0) / tp * hidden * ACTIVATION_BYTES
                    / link
                    / dp,
            )
        } else {
            (0.0, 0.0)
        };
        let (alltoalls, a2a_per_token) = if shape.ep > 1 {
            let e = shape.ep as f64;
            (
                2.0 * ep_moe_layers,
                2.0 * ep_moe_layers * active * hidden * ACTIVATION_BYTES * (e - 1.0)
                    / (e * e)
                    / link,
            )
        } else {
            (0.0, 0.0)
        };
        let hops = pp - 1.0;
        let fixed_s = params.iteration_overhead_s
            + layers * params.layer_overhead_s
            + moe_layers * params.moe_layer_overhead_s
            + allreduces * params.allreduce_latency(shape.tp)
            + alltoalls * params.alltoall_latency_s
            + hops * params.p2p_latency_s;
        let per_token_comm_s =
            ar_per_token + a2a_per_token + hops * hidden * ACTIVATION_BYTES / link;

        Ok(ReplicaPerf {
            devices,
            shape,
            compute_per_token_s: 2.0 * model.active_layer_params() / matmul_rate
                + quant_per_token_s,
            compute_per_logit_s: 2.0 * model.head_params() / head_rate,
            prefill_pair_s: prefill_pair_flops / attention_rate,
            decode_pair_s: decode_pair_flops / attention_rate,
            always_read_s: always_bytes / memory_rate,
            expert_read_s: expert_bytes / memory_rate,
            moe_layers,
            experts,
            active_experts: active,
            touched: TouchedTable::new(experts, active),
            kv_read_s: kv_bytes_per_token * kv_replication / stage / memory_rate,
            kv_bytes_per_token,
            bounded_per_token_s: model.bounded_attention_flops_per_token() / attention_rate,
            state_read_s: state_traffic_per_seq(model, &shape) / stage / memory_rate,
            state_bytes_per_seq: model.state_bytes_per_sequence(shape.kv),
            kv_replication,
            fixed_s,
            per_seq_overhead_s: params.per_seq_overhead_s,
            per_token_comm_s,
            request_overhead_s: params.request_overhead_s,
            weight_bytes: per_device * all,
            kv_capacity_tokens,
            max_context: model.max_context,
        })
    }
}

/// Attention FLOPs per (query, key) pair across the full-attention layers (the others'
/// bounded work is `bounded_per_token_s`): in prefill kernels and in decode kernels. For GQA both are QK scores plus the weighted sum of V, 2 FLOPs per multiply-add.
/// MLA decodes "absorbed" (queries projected into the latent space, so scores and values are
/// over the kv_lora_rank latent plus the rotary key: more FLOPs per pair, no decompression)
/// and prefills as ordinary multi-head attention over decompressed keys and values, as
/// vLLM's and SGLang's MLA backends do.
fn pair_flops(model: &ModelArch) -> (f64, f64) {
    let layers = model.full_attention_layers() as f64;
    match &model.attention {
        Attention::Gqa {
            heads, head_dim, ..
        } => {
            let f = layers * 4.0 * (*heads * *head_dim) as f64;
            (f, f)
        }
        Attention::Mla {
            heads,
            kv_lora_rank,
            qk_nope_head_dim,
            qk_rope_head_dim,
            v_head_dim,
            ..
        } => {
            let h = *heads as f64;
            let mha = 2.0 * h * (*qk_nope_head_dim + *qk_rope_head_dim + *v_head_dim) as f64;
            let absorbed = 2.0 * h * (2 * *kv_lora_rank + *qk_rope_head_dim) as f64;
            (layers * mha, layers * absorbed)
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::Catalog;

    pub(crate) fn perf(
        model: &str,
        hw: &str,
        shape: ReplicaShape,
    ) -> Result<ReplicaPerf, PerfError> {
        let c = Catalog::builtin().unwrap();
        let m = c.model(model).unwrap();
        ReplicaPerf::new(
            &m.name,
            &m.arch,
            c.hardware(hw).unwrap(),
            shape,
            &PerfParams::PROVISIONAL,
        )
    }

    #[test]
    fn shapes_are_checked() {
        let fp8 = |tp, pp, ep| ReplicaShape {
            tp,
            pp,
            ep,
            weights: Precision::Fp8,
            kv: Precision::Bf16,
        };
        assert!(matches!(
            perf("llama-3.1-70b", "h100-sxm", fp8(0, 1, 1)),
            Err(PerfError::BadShape(_))
        ));
        assert!(matches!(
            perf("llama-3.1-70b", "h100-sxm", fp8(8, 1, 8)),
            Err(PerfError::BadShape(_))
        ));
        assert!(matches!(
            perf("deepseek-v3", "h200-sxm", fp8(8, 1, 12)),
            Err(PerfError::BadShape(_))
        ));
        let e = perf("deepseek-v3", "h100-sxm", fp8(4, 1, 1)).unwrap_err();
        match e {
            PerfError::DoesNotFit { min_devices, .. } => {
                assert!((9..=12).contains(&min_devices), "{min_devices}")
            }
            other => panic!("{other}"),
        }
        assert!(e.to_string().contains("at least"));
    }

    #[test]
    fn expert_parallelism_spreads_experts_and_uses_all_to_all() {
        let tp8 = perf(
            "deepseek-v3",
            "h200-sxm",
            ReplicaShape::new(8, 1, Precision::Fp8, Precision::Bf16),
        )
        .unwrap();
        let ep8 = perf(
            "deepseek-v3",
            "h200-sxm",
            ReplicaShape {
                ep: 8,
                ..ReplicaShape::new(8, 1, Precision::Fp8, Precision::Bf16)
            },
        )
        .unwrap();
        assert_eq!(tp8.devices, ep8.devices);
        // Same weights per device; the collectives differ.
        assert!((tp8.weight_bytes - ep8.weight_bytes).abs() < 1.0);
        assert_ne!(
            tp8.iteration_cost(64, 64, 64).fixed,
            ep8.iteration_cost(64, 64, 64).fixed
        );
        // DP attention: 2 groups of TP4 hold attention twice, experts once.
        let dp2 = perf(
            "deepseek-v3",
            "h200-sxm",
            ReplicaShape {
                ep: 8,
                ..ReplicaShape::new(4, 1, Precision::Fp8, Precision::Bf16)
            },
        )
        .unwrap();
        assert_eq!(dp2.devices, 8);
        assert!(dp2.weight_bytes > ep8.weight_bytes);
        // MLA latents are replicated per TP rank: half the replication, more KV room.
        assert!(dp2.kv_capacity_tokens > ep8.kv_capacity_tokens);
    }

    #[test]
    fn lpus_need_enough_chips_for_their_weights_and_count_the_context() {
        let c = Catalog::builtin().unwrap();
        let m = c.model("llama-3.1-70b").unwrap();
        let hw = c.hardware("groq-lpu").unwrap();
        let params = PerfParams {
            memory_utilization: 1.0,
            reserved_bytes_per_device: 0.0,
            ..PerfParams::PROVISIONAL
        };
        let need = chips_needed(&m.arch, Precision::Fp8, Precision::Fp8, 8192, hw, &params);
        // 70.6 GB of FP8 weights (BF16 embeddings: +1 GB) and 8k tokens x 160 KiB in 230 MB chips.
        assert!((310..=330).contains(&need), "{need}");
        let weights_only = chips_needed(&m.arch, Precision::Fp8, Precision::Fp8, 0, hw, &params);
        assert!(weights_only < need);
        let full = chips_needed(
            &m.arch,
            Precision::Fp8,
            Precision::Fp8,
            m.arch.max_context as u64,
            hw,
            &params,
        );
        let e = ReplicaPerf::new(
            &m.name,
            &m.arch,
            hw,
            ReplicaShape::new(8, 8, Precision::Fp8, Precision::Fp8),
            &params,
        )
        .unwrap_err();
        match &e {
            PerfError::TooFewChips {
                min_chips,
                full_context_chips,
                chips,
                ..
            } => {
                assert_eq!(*min_chips, weights_only);
                assert_eq!(*full_context_chips, full);
                assert_eq!(*chips, 64);
            }
            other => panic!("{other}"),
        }
        assert!(e.to_string().contains(&weights_only.to_string()), "{e}");
        // A replica sized for weights and one 8k context holds that context.
        let ok = ReplicaPerf::new(
            &m.name,
            &m.arch,
            hw,
            ReplicaShape::new(8, need.div_ceil(8), Precision::Fp8, Precision::Fp8),
            &params,
        )
        .unwrap();
        assert!(ok.kv_capacity_tokens >= 8192, "{}", ok.kv_capacity_tokens);
        assert!(ok.kv_capacity_tokens < m.arch.max_context as u64);
    }

    #[test]
    fn precision_without_native_support_falls_back_to_bf16_math() {
        let c = Catalog::builtin().unwrap();
        let a100 = c.hardware("a100-80gb-sxm").unwrap();
        assert_eq!(a100.matmul(Precision::Fp8), (a100.bf16_flops, false));
        let h100 = c.hardware("h100-sxm").unwrap();
        assert_eq!(h100.matmul(Precision::Fp4), (h100.bf16_flops, false));
        assert!(h100.matmul(Precision::Fp8).1);
        let b200 = c.hardware("b200").unwrap();
        assert_eq!(b200.matmul(Precision::Fp4), (b200.fp4_flops.unwrap(), true));
        let lpu = c.hardware("groq-lpu").unwrap();
        assert_eq!(lpu.matmul(Precision::Fp8), (lpu.int8_ops.unwrap(), true));
    }
}
