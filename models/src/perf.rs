//! The performance model: how long one iteration of a continuously batched replica takes.
//!
//! An iteration processes `tokens` new tokens (one per decoding sequence plus prefill chunks)
//! and reads the KV cache of every sequence in the batch. Its time is a roofline plus fixed
//! costs:
//!
//! ```text
//! t = max(compute, memory) + overhead + per_seq * seqs + collectives(tokens)
//! compute = (2 * active_layer_params * tokens + 2 * head_params * logits) / (matmul_peak * eff_c)
//!         + attention_flops_per_pair * pairs / (bf16_peak * eff_a)
//! memory  = (weights_touched(tokens) + kv_bytes_per_token * context_read) / (bandwidth * eff_m)
//! ```
//!
//! Every term is linear in `pairs` and `context_read` for a fixed `tokens`, which is what lets
//! the simulator solve a whole run of iterations in closed form (see `tokenfleet-sim`'s batch
//! module). [`ReplicaPerf`] precomputes the constants for one (hardware, model, parallelism,
//! precision) and exposes them as [`IterationCost`] coefficients.
//!
//! The efficiencies and overheads live in [`PerfParams`]; their values and how they were
//! obtained are documented in docs/performance-model.md.

use serde::{Deserialize, Serialize};

use crate::hardware::Hardware;
use crate::llm::{Attention, ModelArch};
use crate::precision::Precision;

/// Efficiencies and overheads of a serving engine on a class of hardware.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerfParams {
    /// Fraction of peak matmul throughput reached by the weight GEMMs.
    pub compute_efficiency: f64,
    /// Fraction of peak BF16 throughput reached by attention kernels.
    pub attention_efficiency: f64,
    /// Fraction of peak memory bandwidth reached when streaming weights and KV.
    pub memory_efficiency: f64,
    /// Fixed cost of one iteration (scheduling, kernel launches), seconds.
    pub iteration_overhead_s: f64,
    /// Cost per sequence in the batch per iteration (sampling, bookkeeping), seconds.
    pub per_seq_overhead_s: f64,
    /// Latency of one tensor-parallel all-reduce, seconds (two per layer).
    pub collective_latency_s: f64,
    /// Fraction of device memory the engine may use (vLLM's gpu_memory_utilization).
    pub memory_utilization: f64,
    /// Memory per device held back for activations, CUDA context and graphs, bytes.
    pub reserved_bytes_per_device: f64,
}

impl Default for PerfParams {
    /// Provisional defaults from public constants (REFERENCE.md §3-4): GEMMs at ≈ 80% of peak
    /// (measured BF16 8192² GEMM on H100), HBM streaming at ≈ 80% (NVIDIA aiconfigurator), 3.5 GB
    /// reserved per GPU (aiconfigurator), vLLM's default 0.9 memory utilization; overheads sized
    /// so that Llama-3.1-70B FP8 TP8 decode on H100 lands near the measured 9.1 ms (c=4) and
    /// 15.5 ms (c=64) TPOT. The calibrated set replaces these (catalog/calibration.toml).
    fn default() -> Self {
        PerfParams {
            compute_efficiency: 0.8,
            attention_efficiency: 0.6,
            memory_efficiency: 0.8,
            iteration_overhead_s: 2.0e-3,
            per_seq_overhead_s: 60e-6,
            collective_latency_s: 20e-6,
            memory_utilization: 0.9,
            reserved_bytes_per_device: 3.5e9,
        }
    }
}

/// How a model is laid out on a replica's devices.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReplicaShape {
    /// Tensor-parallel degree.
    pub tp: u32,
    /// Pipeline-parallel degree.
    pub pp: u32,
    pub weights: Precision,
    pub kv: Precision,
}

impl ReplicaShape {
    pub fn devices(&self) -> u32 {
        self.tp * self.pp
    }
}

/// Why a model cannot be served in a given shape.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PerfError {
    #[error(
        "{model} in {weights} needs {need_gb:.1} GB of weights but {devices} x {hardware} offer {have_gb:.1} GB usable; use more devices per replica (tp/pp), a smaller precision or a larger device"
    )]
    DoesNotFit {
        model: String,
        hardware: String,
        weights: Precision,
        devices: u32,
        need_gb: f64,
        have_gb: f64,
    },
    #[error("tp and pp must be at least 1")]
    BadShape,
}

/// The constant parts of an iteration's cost for one replica.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplicaPerf {
    pub devices: u32,
    pub shape: ReplicaShape,
    /// FLOPs per new token in the layers.
    flops_per_token: f64,
    /// FLOPs per logit row (output head).
    flops_per_logit: f64,
    /// Attention FLOPs per (query, context) token pair.
    flops_per_pair: f64,
    /// Effective matmul throughput of one pipeline stage's devices, FLOP/s.
    matmul_rate: f64,
    /// Effective attention throughput, FLOP/s.
    attention_rate: f64,
    /// Effective memory bandwidth of one stage's devices, bytes/s.
    memory_rate: f64,
    /// Weight bytes read every iteration regardless of routing (attention, dense, shared,
    /// embeddings' head), for the whole replica.
    always_read_bytes: f64,
    /// Bytes of one routed expert in one layer.
    expert_bytes: f64,
    moe_layers: f64,
    experts: f64,
    active_experts: f64,
    /// KV bytes per context token (at the cache precision).
    pub kv_bytes_per_token: f64,
    /// Memory replication of KV across TP ranks (MLA latents and KV heads fewer than TP ranks
    /// are stored on every rank that needs them).
    pub kv_replication: f64,
    iteration_overhead_s: f64,
    per_seq_overhead_s: f64,
    /// Collective latency per iteration (2 all-reduces per layer when tp > 1) plus pipeline
    /// stage hand-offs.
    collective_fixed_s: f64,
    /// All-reduce transfer time per new token.
    collective_per_token_s: f64,
    /// Total weight bytes of the replica.
    pub weight_bytes: f64,
    /// KV-cache capacity of the replica, in context tokens.
    pub kv_capacity_tokens: u64,
    pub max_context: u32,
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

impl ReplicaPerf {
    /// Lays `model` out on `shape.tp * shape.pp` devices of `hw`.
    pub fn new(
        model_name: &str,
        model: &ModelArch,
        hw: &Hardware,
        shape: ReplicaShape,
        params: &PerfParams,
    ) -> Result<ReplicaPerf, PerfError> {
        if shape.tp == 0 || shape.pp == 0 {
            return Err(PerfError::BadShape);
        }
        let devices = shape.devices();
        let wbytes = shape.weights.bytes_per_value();
        let weight_bytes = model.total_params() * wbytes;
        let stage_devices = shape.tp as f64;

        let usable_per_device =
            hw.memory_bytes * params.memory_utilization - params.reserved_bytes_per_device;
        let usable = usable_per_device.max(0.0) * devices as f64;
        if weight_bytes >= usable {
            return Err(PerfError::DoesNotFit {
                model: model_name.to_string(),
                hardware: hw.id.clone(),
                weights: shape.weights,
                devices,
                need_gb: weight_bytes / 1e9,
                have_gb: usable / 1e9,
            });
        }
        let kv_bytes_per_token = model.kv_bytes_per_token(shape.kv);
        let kv_replication = match &model.attention {
            Attention::Gqa { kv_heads, .. } => (shape.tp as f64 / *kv_heads as f64).max(1.0),
            Attention::Mla { .. } => shape.tp as f64,
        };
        let kv_capacity_tokens =
            ((usable - weight_bytes) / (kv_bytes_per_token * kv_replication)).floor() as u64;

        let (always_read_params, expert_params, moe_layers, experts, active) = match &model.moe {
            None => (model.total_params(), 0.0, 0.0, 0.0, 0.0),
            Some(m) => (
                model.non_expert_layer_params() + model.head_params(),
                model.expert_params(),
                model.moe_layers() as f64,
                m.experts as f64,
                m.active as f64,
            ),
        };

        // Tensor parallelism: two all-reduces per layer of each token's hidden vector (BF16);
        // a ring all-reduce moves 2(t-1)/t of the message over each device's link.
        let (collective_fixed_s, collective_per_token_s) = if shape.tp > 1 {
            let t = shape.tp as f64;
            let per_token_bytes =
                2.0 * model.layers as f64 * model.hidden as f64 * 2.0 * 2.0 * (t - 1.0) / t;
            (
                2.0 * model.layers as f64 * params.collective_latency_s,
                per_token_bytes / hw.scaleup_bandwidth,
            )
        } else {
            (0.0, 0.0)
        };
        let pipeline_fixed_s = (shape.pp as f64 - 1.0) * params.collective_latency_s;

        Ok(ReplicaPerf {
            devices,
            shape,
            flops_per_token: 2.0 * model.active_layer_params(),
            flops_per_logit: 2.0 * model.head_params(),
            flops_per_pair: model.attention_flops_per_pair(),
            matmul_rate: stage_devices * hw.matmul_flops(shape.weights) * params.compute_efficiency,
            attention_rate: stage_devices * hw.bf16_flops * params.attention_efficiency,
            // With pipeline parallelism one stage holds 1/pp of the weights; an iteration
            // traverses all stages in sequence, so the whole model streams at one stage's rate.
            memory_rate: stage_devices * hw.memory_bandwidth * params.memory_efficiency,
            always_read_bytes: always_read_params * wbytes,
            expert_bytes: expert_params * wbytes,
            moe_layers,
            experts,
            active_experts: active,
            kv_bytes_per_token,
            kv_replication,
            iteration_overhead_s: params.iteration_overhead_s,
            per_seq_overhead_s: params.per_seq_overhead_s,
            collective_fixed_s: collective_fixed_s + pipeline_fixed_s,
            collective_per_token_s,
            weight_bytes,
            kv_capacity_tokens,
            max_context: model.max_context,
        })
    }

    /// Expected distinct experts touched per MoE layer when `tokens` tokens each pick
    /// `active` of `experts` (uniform routing).
    pub fn experts_touched(&self, tokens: f64) -> f64 {
        if self.experts == 0.0 {
            return 0.0;
        }
        self.experts * (1.0 - (1.0 - self.active_experts / self.experts).powf(tokens))
    }

    /// Cost coefficients for an iteration of `tokens` new tokens over `seqs` sequences, of
    /// which `logits` produce a token.
    pub fn iteration_cost(&self, tokens: u32, seqs: u32, logits: u32) -> IterationCost {
        let t = tokens as f64;
        let weight_bytes =
            self.always_read_bytes + self.moe_layers * self.experts_touched(t) * self.expert_bytes;
        IterationCost {
            compute_base: (self.flops_per_token * t + self.flops_per_logit * logits as f64)
                / self.matmul_rate,
            compute_per_pair: self.flops_per_pair / self.attention_rate,
            memory_base: weight_bytes / self.memory_rate,
            memory_per_ctx_token: self.kv_bytes_per_token / self.memory_rate,
            fixed: self.iteration_overhead_s
                + self.per_seq_overhead_s * seqs as f64
                + self.collective_fixed_s
                + self.collective_per_token_s * t,
        }
    }
}
