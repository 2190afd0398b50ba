//! The events of a cell's loop: small, `Copy`, ids only (all state lives in vectors indexed
//! by those ids, so the queue stays a few cache lines of integers).

/// The cell's events: small, `Copy`, ids only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    TaskDue(u32),
    CallIssue(u32),
    /// A sub-agent slot sends its next call.
    SubIssue(u32),
    Step(u32, u32),
    /// A pool's autoscaler decides.
    Autoscale(u16),
    /// A provisioned replica starts serving.
    ReplicaReady(u32),
    /// The i-th recorded request of the cell's replayed traffic is due.
    Arrive(u32),
    /// A replayed session context sends its next request.
    SessionIssue(u32),
}
