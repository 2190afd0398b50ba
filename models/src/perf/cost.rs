//! An iteration's cost: [`IterationCost`], its linear coefficients, and how a
//! [`ReplicaPerf`]'s constants give them for a batch of new tokens and sequences.
//!
//! The coefficients are linear in attention pairs and in context tokens read, so that the
//! simulator can solve a whole run of iterations in closed form (the module documentation of
//! [`perf`](crate::perf) derives the formula).

use super::experts::experts_touched;
use super::replica::ReplicaPerf;

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
        // Layers with a bounded memory add attention work per new token on the compute side
        // and a state read per sequence on the memory side (both zero for other models).
        IterationCost {
            compute_base: linear + self.bounded_per_token_s * t,
            compute_per_pair: per_pair,
            memory_base: linear + self.state_read_s * seqs as f64,
            memory_per_ctx_token: self.kv_read_s,
            fixed: self.fixed_s + self.per_seq_overhead_s * seqs as f64 + self.per_token_comm_s * t,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::perf::replica::tests::perf;
    use crate::perf::shape::ReplicaShape;
    use crate::precision::Precision;

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

    /// Sliding-window and linear-attention layers read their state once per sequence, on the
    /// memory side; other models read nothing per sequence.
    #[test]
    fn bounded_memory_layers_read_a_state_per_sequence() {
        let shape = ReplicaShape::new(4, 1, Precision::Fp8, Precision::Bf16);
        let p = perf("qwen3.5-397b-a17b", "b300", shape).unwrap();
        // Same tokens and logits, 32 more sequences.
        let (a, b) = (p.iteration_cost(64, 32, 32), p.iteration_cost(64, 64, 32));
        assert_eq!(a.compute_base, b.compute_base);
        let per_seq = (b.memory_base - a.memory_base) / 32.0;
        // 97.7 MB of DeltaNet state read and written back, over 4 GPUs at 8 TB/s x efficiency.
        let lo = 2.0 * p.state_bytes_per_seq / 4.0 / 8e12;
        assert!(per_seq > lo && per_seq < 2.0 * lo, "{per_seq} vs {lo}");
        let llama = perf("llama-3.1-70b", "h100-sxm", shape).unwrap();
        let (a, b) = (
            llama.iteration_cost(64, 32, 32),
            llama.iteration_cost(64, 64, 32),
        );
        assert_eq!(a.memory_base, b.memory_base);
        assert_eq!(llama.state_bytes_per_seq, 0.0);
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
}
