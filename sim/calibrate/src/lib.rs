//! # tokenfleet-calibrate: the performance model against measured data
//!
//! [`closed_loop`] drives one replica with N clients that send the next request as soon as
//! the last is answered, the way serving benchmarks measure, through the simulator's own
//! serving code; [`perf_run`] sizes the replica (SRAM chips by [`lpu`]), runs the loop and
//! derives throughput, power and cost ([`cost`]) for `tokenfleet perf`.
//!
//! The rest calibrates and validates the performance model against the measured serving data
//! in tests/fixtures/measured ([`data`]; `tokenfleet calibrate`, see
//! docs/performance-model.md). Every prediction goes through the simulator's own serving code
//! ([`predict`]: a one-replica pool driven by the closed loop), so what is fitted and checked
//! is the simulator, not a separate formula. The steps:
//!
//! 1. [`kernels`]: kernel efficiencies from microbenchmarks, each pinning one term: GEMM
//!    efficiency (BF16 and FP8) from `h100_vllm_gemm.csv`, prefill-attention efficiency from
//!    `h100_vllm_prefill_attention.csv`, collective latencies and bandwidth from
//!    `h100_nccl.csv`.
//! 2. [`engine`]: per serving engine (vLLM, SGLang, TensorRT-LLM), the engine's memory
//!    efficiency and overheads by Nelder-Mead on the measured TTFT and TPOT of
//!    `h100_dense_ttft_tpot.csv`, minimising the mean absolute log error (a median-seeking
//!    loss).
//! 3. [`holdout`]: held-out fits on subsets (a model or a device left out) that the accuracy
//!    tests use to check the model where it was not fitted.
//!
//! [`power`] fits the power curve, [`calibrate()`] runs it all, and [`check()`] reports the
//! errors of a calibration per data set. All of it is deterministic: fixed starting points,
//! fixed iteration counts, no randomness.
//!
//! Depends on `tokenfleet-models` (the model it fits), `tokenfleet-engine` (time, random
//! streams, the event queue, stop requests), `tokenfleet-setup` (a standalone pool) and
//! `tokenfleet-serving` (the replica it drives). It must never depend on fleets, the
//! scenario parser or the reports.

pub mod calibrate;
pub mod check;
pub mod closed_loop;
pub mod cost;
pub mod data;
pub mod engine;
pub mod error;
pub mod holdout;
pub mod kernels;
pub mod lpu;
pub mod numeric;
pub mod perf_run;
pub mod power;
pub mod predict;

pub use calibrate::{CalibrationRun, calibrate};
pub use check::{DatasetErrors, Errors, check};
pub use data::MeasuredData;
pub use error::CalibrateError;
