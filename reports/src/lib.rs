//! # tokenfleet-reports: what a run leaves behind
//!
//! Reads a finished run ([`tokenfleet_fleet::RunOutput`] with its
//! [`tokenfleet_setup::Setup`]) and writes it out; it never simulates. [`summary::Summary`]
//! computes the headline figures once; each output file is one [`Report`] implementation in its
//! own module (`summary.json`, `hourly.csv`, `calls_sample.csv`, the [`charts`], `report.html`
//! in [`html`], the `manifest.json` that lets [`rundir`] read a run directory back), and
//! [`table`] renders the short table printed at the end of a run. [`write_reports`] writes them
//! into a temporary directory and renames it into place only when every file is complete, so an
//! interrupted run never leaves a half report that looks whole. [`compare`] sets two run
//! directories side by side (`tokenfleet compare`); [`sweep`], [`sensitivity`] and [`plan`]
//! write the outputs of those commands.
//!
//! What it depends on: tokenfleet-models (money, units, prices, distributions) and, of the
//! simulator's crates, only what describes a *result*: the resolved setup (tokenfleet-setup), a
//! run's output with its tallies, agent days and sampled calls (tokenfleet-fleet), the
//! ledger's rows and their cost (tokenfleet-serving), segment kinds (tokenfleet-workload), the
//! results of sweeps, sensitivity analyses and plans (tokenfleet-analysis), the reading of a
//! swept value as a number (`tokenfleet_models::quantity::split_quantity`), and `interrupt`
//! (tokenfleet-engine), so that a forced exit removes a half-written directory. What it must
//! never depend on: the engine's run functions. It never simulates, i.e. never calls
//! tokenfleet-fleet's `run`, `run_shard`, `run_replay` or `simulate`, nor the drivers that call
//! them (tokenfleet-analysis's `sweep::sweep`, `sensitivity::sensitivity` and `plan::plan`,
//! tokenfleet-calibrate): the CLI runs them and hands their results here, so every figure in
//! an output is a function of what the run recorded, and a run directory can be rewritten from
//! a merge of shards. No simulator crate and not tokenfleet-models depends on this crate.
//!
//! The file layout has no import cycles: this file only declares the modules and re-exports
//! what the CLI uses; the error type is in `error`, the [`Report`] trait and its context in
//! `report`, the atomic writes in `write`, the list of a run's files in `standard`, and the
//! arithmetic every output shares in `num` (the fleet scaling is `tokenfleet_fleet::scale`).

pub mod calls;
pub mod charts;
pub mod compare;
pub mod economics;
mod error;
mod formats;
pub mod hourly;
pub mod html;
pub mod json;
pub mod manifest;
mod num;
pub mod output;
pub mod partial;
pub mod plan;
mod report;
pub mod rundir;
pub mod sensitivity;
mod standard;
pub mod summary;
pub mod sweep;
pub mod table;
mod write;

pub use error::ReportError;
pub use manifest::OutputMeta;
pub use output::{check_dir, check_file, default_dir};
pub use report::{Report, ReportContext};
pub use standard::standard_reports;
pub use summary::Summary;
pub use write::{
    write_dir_atomically, write_file, write_file_atomically, write_files, write_reports,
};
