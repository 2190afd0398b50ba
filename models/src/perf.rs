//! The performance model: how long one iteration of a continuously batched replica takes.
//!
//! An iteration processes `tokens` new tokens (one per decoding sequence plus prefill chunks)
//! over `seqs` sequences, `logits` of which sample a token, and reads the KV cache of every
//! sequence in the batch. Its time is a roofline per operator class plus fixed costs:
//!
//! ```text
//! t = linear(tokens, logits) + max(attention_compute(pairs), kv_read(ctx)) + fixed
//! linear    = max(2 * active_layer_params * tokens / matmul + 2 * head_params * logits / head,
//!                 weights_touched(tokens) / memory)
//! attention_compute = flops_per_pair * pairs / attention     (pairs: (query, key) token pairs)
//! kv_read   = kv_bytes_per_token * replication * ctx / memory
//! fixed     = iteration + layers * per_layer + seqs * per_seq + collectives(tokens) + hops
//! ```
//!
//! The linear layers (GEMMs) and attention are separate kernels, so each is bounded by its own
//! roofline and their times add; within attention, prefill pairs are compute-bound and decode
//! context reads memory-bound, and one `max` covers both. For a fixed (tokens, seqs, logits)
//! the time is `max(c0 + c1 * pairs, m0 + m1 * ctx) + fixed` with `c0 = m0 = linear`: linear
//! in attention pairs and in context tokens read, which is what lets the simulator solve a
//! whole run of iterations in closed form (see `tokenfleet-sim`'s `cluster::epoch`).
//!
//! [`ReplicaPerf`] precomputes the constants for one (hardware, model, parallelism, precision)
//! and hands out [`IterationCost`] coefficients. The efficiencies and overheads are
//! [`PerfParams`], fitted per serving engine on measured data by `tokenfleet calibrate` and
//! compiled in from `catalog/calibration.toml` ([`Calibration`]). The model, its assumptions
//! and its measured error are in docs/performance-model.md.

mod calibration;

pub use calibration::{
    BenchmarkProtocol, CALIBRATION_TOML, Calibration, CalibrationError, EngineProfile, FitSummary,
    LPU_ENGINE,
};

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::hardware::{DeviceKind, Hardware};
use crate::llm::{Attention, ModelArch};
use crate::precision::Precision;

/// Efficiencies and overheads of a serving engine, independent of the hardware: every
/// hardware-specific figure (peak FLOPs, bandwidths, capacities) comes from [`Hardware`], so a
/// set fitted on one device transfers to others.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerfParams {
    /// Fraction of peak BF16 matmul throughput reached by the linear layers' GEMMs.
    pub compute_efficiency: f64,
    /// Fraction of the peak low-precision (FP8/FP4/INT8) rate reached by scaled GEMMs.
    pub lowp_compute_efficiency: f64,
    /// Fraction of peak BF16 throughput reached by attention (prefill) kernels.
    pub attention_efficiency: f64,
    /// Fraction of peak memory bandwidth reached when streaming weights and KV cache.
    pub memory_efficiency: f64,
    /// Fixed cost of one iteration (scheduler, sampling launch, host-device sync), seconds.
    pub iteration_overhead_s: f64,
    /// Fixed cost per transformer layer per iteration (kernel launch and tail latency of the
    /// layer's ~6 kernels), seconds.
    pub layer_overhead_s: f64,
    /// Cost per sequence in the batch per iteration (input preparation, sampling), seconds.
    pub per_seq_overhead_s: f64,
    /// Latency of one all-reduce of a small message across 2 devices, seconds.
    pub allreduce_latency_s: f64,
    /// Added all-reduce latency per device beyond 2, seconds.
    pub allreduce_latency_per_rank_s: f64,
    /// Latency of one all-to-all (MoE dispatch or combine under expert parallelism), seconds.
    pub alltoall_latency_s: f64,
    /// Fraction of the scale-up link bandwidth collectives reach on large messages.
    pub collective_efficiency: f64,
    /// Latency of one pipeline-stage hand-off, seconds.
    pub p2p_latency_s: f64,
    /// Client-visible latency per request outside the engine's iterations (HTTP, scheduling
    /// hand-offs, detokenization, streaming), added to time to first token, seconds.
    pub request_overhead_s: f64,
    /// Fraction of device memory the engine may use (vLLM's gpu_memory_utilization).
    pub memory_utilization: f64,
    /// Memory per device held back for activations, CUDA context and graphs, bytes.
    pub reserved_bytes_per_device: f64,
}

impl PerfParams {
    /// The provisional values used before calibration, and where the fit starts: GEMMs at
    /// ≈ 80% of peak (measured BF16 8192² GEMM on H100, REFERENCE.md §3), HBM streaming at ≈ 80%
    /// (NVIDIA aiconfigurator), 3.5 GB reserved per GPU (aiconfigurator), vLLM's default 0.9
    /// memory utilization, collective latencies of the NCCL all-reduce on H100 (6 µs at 2
    /// GPUs, 16 µs at 8; shared/data/measured/h100_nccl.csv) and aiconfigurator's 10 µs p2p
    /// latency; iteration overheads sized on two measured H100 points (REFERENCE.md §4).
    pub const PROVISIONAL: PerfParams = PerfParams {
        compute_efficiency: 0.8,
        lowp_compute_efficiency: 0.6,
        attention_efficiency: 0.6,
        memory_efficiency: 0.8,
        iteration_overhead_s: 2.0e-3,
        layer_overhead_s: 20e-6,
        per_seq_overhead_s: 20e-6,
        allreduce_latency_s: 6e-6,
        allreduce_latency_per_rank_s: 1.6e-6,
        alltoall_latency_s: 7e-6,
        collective_efficiency: 0.8,
        p2p_latency_s: 10e-6,
        request_overhead_s: 0.0,
        memory_utilization: 0.9,
        reserved_bytes_per_device: 3.5e9,
    };

    /// Latency of one all-reduce across `n` devices.
    pub fn allreduce_latency(&self, n: u32) -> f64 {
        if n <= 1 {
            0.0
        } else {
            self.allreduce_latency_s + self.allreduce_latency_per_rank_s * (n - 2) as f64
        }
    }
}

impl Default for PerfParams {
    /// The calibrated parameters of the default engine (catalog/calibration.toml). The
    /// compiled-in file is checked by a test; were it unreadable, the provisional values apply.
    fn default() -> Self {
        Calibration::builtin()
            .map(|c| c.default_profile().params)
            .unwrap_or(PerfParams::PROVISIONAL)
    }
}

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
    compute_per_token_s: f64,
    compute_per_logit_s: f64,
    /// Seconds of attention compute per (query, key) pair: prefill kernels, and decode-only
    /// iterations (which differ for absorbed MLA).
    prefill_pair_s: f64,
    decode_pair_s: f64,
    /// Seconds to stream the weights always read (attention, dense, shared experts, routers,
    /// output head) and one routed expert of one layer, per device.
    always_read_s: f64,
    expert_read_s: f64,
    moe_layers: f64,
    experts: f64,
    active_experts: f64,
    #[serde(skip)]
    touched: TouchedTable,
    /// Seconds to read one context token's KV cache (all layers, per device).
    kv_read_s: f64,
    /// KV bytes per context token (at the cache precision).
    pub kv_bytes_per_token: f64,
    /// Memory replication of KV across TP ranks (MLA latents and KV heads fewer than TP ranks
    /// are stored on every rank that needs them).
    pub kv_replication: f64,
    /// Fixed seconds per iteration: engine, per-layer, collective latencies, pipeline hops.
    fixed_s: f64,
    per_seq_overhead_s: f64,
    /// Collective transfer seconds per new token (TP all-reduce, EP all-to-all, PP hand-off).
    per_token_comm_s: f64,
    /// Client-visible latency per request outside the iterations (see [`PerfParams`]).
    pub request_overhead_s: f64,
    /// Weight bytes held by the replica (including replicas of attention weights under DP).
    pub weight_bytes: f64,
    /// KV-cache capacity of the replica, in context tokens.
    pub kv_capacity_tokens: u64,
    pub max_context: u32,
}

fn experts_touched(experts: f64, active: f64, tokens: f64) -> f64 {
    if experts == 0.0 {
        return 0.0;
    }
    experts * (1.0 - (1.0 - active / experts).powf(tokens))
}

/// [`ReplicaPerf::experts_touched`] for every token count an iteration of the default token
/// budget can have, computed once: `powf` per iteration plan was a tenth of the simulator's
/// time on MoE models (docs/performance.md). The values are the same `powf` results, so
/// simulations are unchanged; larger counts fall back to computing.
#[derive(Clone, Default, PartialEq)]
struct TouchedTable(Arc<[f64]>);

impl TouchedTable {
    const LEN: usize = 8193;
    fn new(experts: f64, active: f64) -> TouchedTable {
        if experts == 0.0 {
            return TouchedTable::default();
        }
        TouchedTable(
            (0..Self::LEN)
                .map(|t| experts_touched(experts, active, t as f64))
                .collect(),
        )
    }
}

impl std::fmt::Debug for TouchedTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TouchedTable({} entries)", self.0.len())
    }
}

/// An iteration's cost as linear coefficients, for a fixed number of new tokens and sequences.
///
/// `compute(pairs) = compute_base + compute_per_pair * pairs`,
/// `memory(ctx) = memory_base + memory_per_ctx_token * ctx`, and the iteration takes
/// `max(compute, memory) + fixed`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IterationCost {
    pub compute_base: f64,
    pub compute_per_pair: f64,
    pub memory_base: f64,
    pub memory_per_ctx_token: f64,
    pub fixed: f64,
}

impl IterationCost {
    /// Time of an iteration with `pairs` attention pairs and `ctx` context tokens read.
    #[inline]
    pub fn time(&self, pairs: f64, ctx: f64) -> f64 {
        self.busy(pairs, ctx) + self.fixed
    }
    /// The roofline-bound part of the iteration (excludes fixed overheads).
    #[inline]
    pub fn busy(&self, pairs: f64, ctx: f64) -> f64 {
        let c = self.compute_base + self.compute_per_pair * pairs;
        let m = self.memory_base + self.memory_per_ctx_token * ctx;
        c.max(m)
    }
}

/// Embeddings and the output head stay BF16 in quantized checkpoints (FP8, NVFP4 and AWQ
/// exports exclude `lm_head` and the embedding from quantization; DeepSeek-V3 ships them in
/// BF16 beside FP8 layers).
const EMBEDDING_BYTES: f64 = 2.0;
/// Activations exchanged by collectives are BF16.
const ACTIVATION_BYTES: f64 = 2.0;

/// Weight bytes of a model laid out in `shape`, per device (the largest share).
fn weight_bytes_per_device(model: &ModelArch, shape: &ReplicaShape) -> f64 {
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

/// Usable bytes per device for weights and KV under `params`.
fn usable_per_device(hw: &Hardware, params: &PerfParams) -> f64 {
    (hw.memory_bytes * params.memory_utilization - params.reserved_bytes_per_device).max(0.0)
}

/// KV replication factor across the TP ranks of one attention group.
fn kv_replication(model: &ModelArch, tp: u32) -> f64 {
    match &model.attention {
        Attention::Gqa { kv_heads, .. } => (tp as f64 / *kv_heads as f64).max(1.0),
        // One latent per token serves all heads, so every TP rank keeps the whole latent.
        Attention::Mla { .. } => tp as f64,
    }
}

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
        let usable = usable_per_device(hw, params);
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
        let kv_capacity_tokens = kv_capacity(usable - per_device) as u64;

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
            + allreduces * params.allreduce_latency(shape.tp)
            + alltoalls * params.alltoall_latency_s
            + hops * params.p2p_latency_s;
        let per_token_comm_s =
            ar_per_token + a2a_per_token + hops * hidden * ACTIVATION_BYTES / link;

        Ok(ReplicaPerf {
            devices,
            shape,
            compute_per_token_s: 2.0 * model.active_layer_params() / matmul_rate,
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

    /// Expected distinct experts touched per MoE layer when `tokens` tokens each pick
    /// `active` of `experts` (uniform routing).
    pub fn experts_touched(&self, tokens: f64) -> f64 {
        experts_touched(self.experts, self.active_experts, tokens)
    }

    /// Cost coefficients for an iteration of `tokens` new tokens over `seqs` sequences, of
    /// which `logits` produce a token.
    pub fn iteration_cost(&self, tokens: u32, seqs: u32, logits: u32) -> IterationCost {
        let t = tokens as f64;
        let compute = self.compute_per_token_s * t + self.compute_per_logit_s * logits as f64;
        let touched = match self.touched.0.get(tokens as usize) {
            Some(&x) => x,
            None => self.experts_touched(t),
        };
        let memory = self.always_read_s + self.moe_layers * touched * self.expert_read_s;
        let linear = compute.max(memory);
        // A batch with prefill chunks runs the prefill attention kernels, whose pairs
        // dominate; a decode-only batch runs the decode kernels (absorbed MLA).
        let per_pair = if tokens > seqs {
            self.prefill_pair_s
        } else {
            self.decode_pair_s
        };
        IterationCost {
            compute_base: linear,
            compute_per_pair: per_pair,
            memory_base: linear,
            memory_per_ctx_token: self.kv_read_s,
            fixed: self.fixed_s + self.per_seq_overhead_s * seqs as f64 + self.per_token_comm_s * t,
        }
    }
}

/// Attention FLOPs per (query, key) pair across all layers: in prefill kernels and in decode
/// kernels. For GQA both are QK scores plus the weighted sum of V, 2 FLOPs per multiply-add.
/// MLA decodes "absorbed" (queries projected into the latent space, so scores and values are
/// over the kv_lora_rank latent plus the rotary key: more FLOPs per pair, no decompression)
/// and prefills as ordinary multi-head attention over decompressed keys and values, as
/// vLLM's and SGLang's MLA backends do.
fn pair_flops(model: &ModelArch) -> (f64, f64) {
    let layers = model.layers as f64;
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
mod tests {
    use super::*;
    use crate::Catalog;

    fn perf(model: &str, hw: &str, shape: ReplicaShape) -> Result<ReplicaPerf, PerfError> {
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
    fn cost_is_linear_in_pairs_and_context() {
        let p = perf(
            "llama-3.1-70b",
            "h100-sxm",
            ReplicaShape::new(4, 1, Precision::Fp8, Precision::Bf16),
        )
        .unwrap();
        for (tokens, seqs) in [(32, 32), (2048, 9)] {
            let c = p.iteration_cost(tokens, seqs, seqs);
            let t = |pairs: f64, ctx: f64| c.time(pairs, ctx);
            // On each side of the roofline the time is affine in its variable.
            let (a, b, d) = (t(1e3, 1e9), t(2e3, 1e9), t(3e3, 1e9));
            assert!(((b - a) - (d - b)).abs() < 1e-12);
            let (a, b, d) = (t(1e12, 1e3), t(2e12, 1e3), t(3e12, 1e3));
            assert!(((b - a) - (d - b)).abs() < 1e-9);
        }
    }

    #[test]
    fn decode_is_bound_by_streaming_the_weights() {
        let p = perf(
            "llama-3.1-70b",
            "h100-sxm",
            ReplicaShape::new(8, 1, Precision::Fp8, Precision::Bf16),
        )
        .unwrap();
        let c = p.iteration_cost(1, 1, 1);
        // ≈ 70.6 GB / 8 GPUs of FP8 layers plus the BF16 head, at 3.35 TB/s x 0.8.
        let roofline = c.busy(1000.0, 1000.0);
        assert!(roofline > 2.7e-3 && roofline < 3.6e-3, "{roofline}");
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
    fn mla_decode_reads_the_latent_and_does_more_flops_per_pair() {
        let p = perf(
            "deepseek-v3",
            "h200-sxm",
            ReplicaShape::new(8, 1, Precision::Fp8, Precision::Bf16),
        )
        .unwrap();
        let decode = p.iteration_cost(64, 64, 64).compute_per_pair;
        let prefill = p.iteration_cost(4096, 2, 2).compute_per_pair;
        assert!(decode > 3.0 * prefill, "{decode} vs {prefill}");
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
