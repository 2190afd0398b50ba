//! # tokenfleet-serving: the inference cluster
//!
//! What serves the calls: [`cluster`] holds a cell's replicas, routes each call to one (round
//! robin, least loaded, power of two, session affinity or a shared queue), admits it against
//! the pool's queue limit and rate limit, and scales pools up and down; each replica batches
//! continuously, in closed form between milestones (an epoch of identical iterations is one
//! event), with a paged KV cache and a prefix cache that outlives calls. The [`ledger`] books
//! what happened per pool and hour in integers: tokens by class, calls, busy and provisioned
//! time, energy, money and latency histograms.
//!
//! Depends on `tokenfleet-models` (performance and power models), `tokenfleet-engine` (time,
//! random streams) and `tokenfleet-setup` (the pools). It must never depend on agents, the
//! scenario parser or the runner: a call arrives as a [`cluster::Call`], from a generated agent
//! or a replayed trace alike.

pub mod cluster;
pub mod ledger;
