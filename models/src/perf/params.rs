//! A serving engine's efficiencies and overheads, [`PerfParams`].
//!
//! Its `Default` is the calibrated set and lives in `calibration.rs`, beside the compiled-in
//! file it reads: the calibration holds `PerfParams`, so defining the default here would make
//! the two files depend on each other.

use serde::{Deserialize, Serialize};

/// Efficiencies and overheads of a serving engine, independent of the hardware: every
/// hardware-specific figure (peak FLOPs, bandwidths, capacities) comes from
/// [`Hardware`](crate::hardware::Hardware), so a set fitted on one device transfers to others.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerfParams {
    /// Fraction of peak BF16 matmul throughput reached by the linear layers' GEMMs.
    pub compute_efficiency: f64,
    /// Fraction of the peak low-precision (FP8/FP4/INT8) rate reached by scaled GEMMs.
    pub lowp_compute_efficiency: f64,
    /// Bytes moved per BF16 activation element a low-precision GEMM quantizes first (see
    /// `quant.rs`); 0 for files written before it was modelled.
    #[serde(default)]
    pub lowp_activation_bytes: f64,
    /// Fraction of peak BF16 throughput reached by attention (prefill) kernels.
    pub attention_efficiency: f64,
    /// Fraction of peak memory bandwidth reached when streaming weights and KV cache.
    pub memory_efficiency: f64,
    /// Fixed cost of one iteration (scheduler, sampling launch, host-device sync), seconds.
    pub iteration_overhead_s: f64,
    /// Fixed cost per transformer layer per iteration (kernel launch and tail latency of the
    /// layer's ~6 kernels), seconds.
    pub layer_overhead_s: f64,
    /// Added fixed cost per mixture-of-experts layer per iteration: the kernels a routed MLP
    /// runs beyond a dense one (router GEMM, top-k, sorting tokens by expert, the weighted sum
    /// of the experts' outputs), seconds; 0 for files written before it was modelled.
    #[serde(default)]
    pub moe_layer_overhead_s: f64,
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
    /// Share of the memory left after the weights (within the usable share) that the KV
    /// cache takes. TensorRT-LLM sizes its cache this way (`kv_cache_free_gpu_memory_fraction`,
    /// 0.9 by default) with the weights allowed the whole device; vLLM and SGLang give the
    /// cache all of a fixed share of the device instead (1 here, the share in
    /// `memory_utilization`).
    #[serde(default = "one")]
    pub kv_free_fraction: f64,
    /// `memory_utilization` by the replica's device count where the engine makes it depend
    /// on it, for 1, 2, 4, 8 and 16 or more devices (SGLang's `mem_fraction_static`: 0.88,
    /// 0.87, 0.85, 0.81, 0.79, sglang server_args.py); none: `memory_utilization` throughout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_utilization_by_devices: Option<[f64; 5]>,
}

fn one() -> f64 {
    1.0
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
        lowp_activation_bytes: 0.0,
        attention_efficiency: 0.6,
        memory_efficiency: 0.8,
        iteration_overhead_s: 2.0e-3,
        layer_overhead_s: 20e-6,
        moe_layer_overhead_s: 0.0,
        per_seq_overhead_s: 20e-6,
        allreduce_latency_s: 6e-6,
        allreduce_latency_per_rank_s: 1.6e-6,
        alltoall_latency_s: 7e-6,
        collective_efficiency: 0.8,
        p2p_latency_s: 10e-6,
        request_overhead_s: 0.0,
        memory_utilization: 0.9,
        reserved_bytes_per_device: 3.5e9,
        kv_free_fraction: 1.0,
        memory_utilization_by_devices: None,
    };

    /// The share of a device's memory the engine may use on a replica of `devices` devices.
    pub fn memory_utilization_for(&self, devices: u32) -> f64 {
        match self.memory_utilization_by_devices {
            None => self.memory_utilization,
            Some(t) => match devices {
                0..=1 => t[0],
                2..=3 => t[1],
                4..=7 => t[2],
                8..=15 => t[3],
                _ => t[4],
            },
        }
    }

    /// Latency of one all-reduce across `n` devices.
    pub fn allreduce_latency(&self, n: u32) -> f64 {
        if n <= 1 {
            0.0
        } else {
            self.allreduce_latency_s + self.allreduce_latency_per_rank_s * (n - 2) as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_share_follows_the_device_count_where_the_engine_says_so() {
        let flat = PerfParams::PROVISIONAL;
        assert_eq!(flat.memory_utilization_for(8), flat.memory_utilization);
        let sglang = PerfParams {
            memory_utilization_by_devices: Some([0.88, 0.87, 0.85, 0.81, 0.79]),
            ..flat
        };
        let shares: Vec<f64> = [1, 2, 3, 4, 8, 12, 16, 72]
            .map(|n| sglang.memory_utilization_for(n))
            .to_vec();
        assert_eq!(shares, [0.88, 0.87, 0.87, 0.85, 0.81, 0.81, 0.79, 0.79]);
    }
}
