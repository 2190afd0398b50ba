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
//! whole run of iterations in closed form (see `tokenfleet-serving`'s `cluster::epoch`).
//!
//! [`ReplicaPerf`] precomputes the constants for one (hardware, model, parallelism, precision)
//! and hands out [`IterationCost`] coefficients. The efficiencies and overheads are
//! [`PerfParams`], fitted per serving engine on measured data by `tokenfleet calibrate` and
//! compiled in from `catalog/calibration.toml` ([`Calibration`]). The model, its assumptions
//! and its measured error are in docs/performance-model.md.

mod calibration;
mod cost;
mod experts;
mod layout;
mod lpu;
mod params;
mod quant;
mod replica;
mod scheduler;
mod shape;

pub use calibration::{
    CALIBRATION_TOML, Calibration, CalibrationError, EngineProfile, FitSummary, LPU_ENGINE,
};
pub use cost::IterationCost;
pub use lpu::{CHIPS_PER_NODE, chips_needed, lpu_degrees, lpu_layout};
pub use params::PerfParams;
pub use replica::{PerfError, ReplicaPerf};
pub use scheduler::{Admission, Scheduler};
pub use shape::ReplicaShape;
