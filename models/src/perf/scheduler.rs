//! How a serving engine's scheduler shares iterations between prefills and decodes,
//! [`Scheduler`], and how it admits requests into its KV cache, [`Admission`]. It decides the time to first token under load as much as the kernels do,
//! so it belongs to the engine profile, and the fleet simulation and `tokenfleet perf` run the
//! same policy through the same replica code.

use serde::{Deserialize, Serialize};

/// The prefill policy of an engine's scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheduler {
    /// Chunked prefill mixed into decode iterations, decodes first: every running sequence
    /// produces its token and the rest of the token budget goes to prefill chunks in
    /// admission order (vLLM V1, TensorRT-LLM's in-flight batching with chunked context).
    #[default]
    Mixed,
    /// Prefill first, in batches of their own: while prompts wait, the engine runs prefill
    /// batches (up to the chunk budget) and the decoding sequences pause; decoding resumes
    /// when no prefill is pending (SGLang's default scheduler, `chunked_prefill_size` budget,
    /// no mixed chunks). Requests that arrive together are prefilled together and finish
    /// together, so a benchmark's clients stay in step.
    PrefillFirst,
}

/// How an engine decides that a waiting request fits in its KV cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Admission {
    /// Blocks for the prompt at admission; decoding takes more as it goes, and when the cache
    /// is full the latest sequence is preempted and recomputed later (vLLM; SGLang retracts
    /// likewise).
    #[default]
    Prompt,
    /// Blocks for the prompt and the whole output at admission, so nothing is ever preempted
    /// and a request that would not fit waits (TensorRT-LLM's default capacity scheduler,
    /// `GUARANTEED_NO_EVICT`).
    WholeRequest,
}
