//! The engine profile the calibration writes for Groq-style LPUs (statically scheduled
//! pipelines of SRAM-only chips): not fitted, as there is no measured LPU data. How many chips
//! and stages a replica takes is device arithmetic, in `tokenfleet_models::perf`
//! (`chips_needed`, `lpu_degrees`).

use tokenfleet_models::perf::{Admission, EngineProfile, PerfParams, Scheduler};

use crate::kernels::KernelFit;

/// The LPU profile: not fitted (no measured LPU data); see its description and the docs.
pub fn lpu_profile(kernels: &KernelFit) -> EngineProfile {
    EngineProfile {
        description: "Groq-style LPU: statically scheduled SRAM pipeline. Not fitted: the per-layer latency is derived from Groq's published 300 tokens/s per user on Llama-2-70B (80 layers: 1/300/80 = 41.7 µs per layer, TechPowerUp 2024-02), which also gives its 750 tokens/s on Llama-2-7B (32 layers); no launch or scheduler overheads (compiler-scheduled, Groq ISCA 2022); kernel efficiencies as measured on H100; all SRAM usable.".into(),
        max_batch_tokens: 8192,
        max_seqs: 1024,
        scheduler: Scheduler::Mixed,
        admission: Admission::Prompt,
        params: PerfParams {
            compute_efficiency: kernels.compute_efficiency,
            lowp_compute_efficiency: kernels.lowp_compute_efficiency,
            // Integer datapaths take their operands as they are: no quantization pass.
            lowp_activation_bytes: 0.0,
            attention_efficiency: kernels.attention_efficiency,
            memory_efficiency: 0.9,
            iteration_overhead_s: 0.0,
            layer_overhead_s: 1.0 / 300.0 / 80.0,
            // Compiled schedules have no kernel launches to add.
            moe_layer_overhead_s: 0.0,
            per_seq_overhead_s: 0.0,
            allreduce_latency_s: 0.0,
            allreduce_latency_per_rank_s: 0.0,
            alltoall_latency_s: 0.0,
            collective_efficiency: kernels.collective_efficiency,
            p2p_latency_s: 0.0,
            request_overhead_s: 0.0,
            memory_utilization: 1.0,
            reserved_bytes_per_device: 0.0,
            kv_free_fraction: 1.0,
            memory_utilization_by_devices: None,
        },
        fit: None,
    }
}
