//! Trace replay: recorded traffic on a scenario's cluster and prices.
//!
//! Two kinds of trace. **Request traces** (Azure's CSV, Mooncake's JSONL) are open loop: every
//! row is one call issued at its recorded time, whatever the cluster does. **Session traces**
//! (Claude Code's JSON) are closed loop: a session's next request waits for the previous
//! answer plus the recorded think time, and sub-agents start together where the session spawns
//! them, the parent waiting for all of them (as Claude Code's Task tool does). Either way every
//! recorded request becomes exactly one call: rejected calls are not retried (a session moves
//! on).
//!
//! **Prefix reuse.** The prefix cache holds one context per owner. Session contexts own one
//! each and reuse the block-id prefix they share with their previous request. Mooncake
//! requests are grouped into prefix chains by their block ids (see
//! [`mooncake::chain_by_prefix`]); Azure rows carry no prefix information and reuse nothing.
//!
//! **Fleet.** `copies` multiplies the trace: copy 0 is the recording; copy k >= 1 starts
//! shifted by a uniform draw over the trace's span, and each of its requests (think times for
//! sessions) gets an independent uniform jitter in [0, `jitter`). `speed` divides every time.
//! A unit (a request, a prefix chain or a session, times copies) is the unit of cells: unit u
//! lives in cell u mod cells, as agents do.

pub mod azure;
pub mod claude_code;
mod error;
mod fields;
pub mod fit;
mod locate;
mod model;
pub mod mooncake;
mod read;
mod replay;
pub mod sample;

pub use error::TraceError;
pub use model::{Context, Format, Item, Request, Session, SessionCall, Trace};
pub use read::{guess_format, open, read};
pub use replay::{Replay, ReplayError, ReplayOptions};
