//! # tokenfleet-calibrate: the performance model against measured data
//!
//! [`closed_loop`] drives one replica with N clients that send the next request as soon as
//! the last is answered, the way serving benchmarks measure, through the simulator's own
//! serving code (`tokenfleet perf` prints it). [`fit`] fits the performance model's kernel
//! efficiencies, engine overheads and power curve to the measured data in
//! tests/fixtures/measured and reports the errors of a calibration (`tokenfleet calibrate`).
//!
//! Depends on `tokenfleet-models` (the model it fits), `tokenfleet-setup` (a standalone pool)
//! and `tokenfleet-serving` (the replica it drives). It must never depend on fleets, the
//! scenario parser or the reports.

pub mod closed_loop;
pub mod fit;
