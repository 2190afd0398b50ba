//! # tokenfleet-workload: the demand
//!
//! Fleets of agents, each running loops of LLM calls, and recorded traffic to replay instead.
//! A [`Segment`] is a kind of agent (its budget distribution, activity over the horizon and
//! loop parameters); an [`Agent`] is one of them, holding its own random streams and the
//! state of its current task; a [`SubAgent`] is a short loop an agent fans out to. The cell's
//! event loop asks agents for their next task start and next call, and tells them when a call
//! completed or was rejected. [`feasibility`] checks that a segment's loop can spend its budget
//! in a day; [`trace`] reads recorded traces (Azure, Mooncake, Claude Code) and prepares them
//! for replay. The shipped segment presets are scenario fragments: they live with the parser
//! (`tokenfleet_scenario::presets`).
//!
//! Depends on `tokenfleet-models` (distributions) and `tokenfleet-engine` (time, random
//! streams). It must never depend on the cluster, the setup, the scenario parser or the
//! runner: demand is generated without knowing what serves it.

pub mod activity;
mod agent;
mod call;
pub mod feasibility;
mod loop_params;
pub mod profile;
mod segment;
pub mod trace;

pub use activity::Activity;
pub use agent::{After, Agent, LoopState, Rejection, SubAgent, TaskPlanning};
pub use call::CallSpec;
pub use loop_params::{LoopParams, Retry, SubAgents};
pub use profile::Profile;
pub use segment::{Segment, SegmentKind};
