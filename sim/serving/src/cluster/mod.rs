//! Inference clusters: pools of replicas, continuous batching, KV and prefix cache, routing,
//! admission control and autoscaling.
//!
//! A [`Cluster`] is a cell's slice of the scenario's pools. Each [`Replica`] runs continuous
//! batching with chunked prefill, the way vLLM and SGLang do: every iteration each decoding
//! sequence produces one token and the rest of the token budget (`max_batch_tokens`) goes to
//! prefill chunks, first come first served ([`replica`] has the details of admission, KV blocks
//! and preemption). The batch advances in closed form ([`epoch`]): one event per change of the
//! batch, not per iteration. A call arriving at a busy replica joins at the end of the
//! iteration in progress.
//!
//! Calls are routed among the routable (active) replicas of the pools serving their model:
//! round robin, least loaded, power of two choices, or session affinity (back to the replica
//! holding the agent's context unless it is much busier). Or they wait in one shared queue per
//! model and go to the first replica with a free sequence slot (a gateway queue, first come
//! first served). Admission control rejects a call when the queue it would join is full or the
//! agent exceeds the pool's rate limit; rejected calls are returned to the caller to count,
//! never dropped silently. An autoscaler per pool
//! adds replicas (after a provisioning delay) or drains them, and replicas cost money only
//! while provisioned.
//!
//! Each concept has its file: [`call`] (a call as the cluster sees it), [`kv`] (the KV block),
//! [`replica`] with [`epoch`] and [`decode`] (continuous batching in closed form), [`prefix`]
//! (the prefix cache), [`router`] (routing and shared queues), [`admission`] (rejections and
//! rate limits), [`autoscaler`], and [`serve`], the [`Cluster`] that ties them together.

pub mod admission;
pub mod autoscaler;
pub mod call;
pub mod decode;
pub mod epoch;
pub mod kv;
pub mod prefix;
pub mod replica;
pub mod router;
pub mod serve;

pub use admission::{Rejection, Submitted};
pub use autoscaler::ScaleActions;
pub use call::Call;
pub use kv::{BLOCK_TOKENS, blocks};
pub use replica::{Replica, ReplicaState};
pub use serve::Cluster;
