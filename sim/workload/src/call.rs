//! What one call sends and expects: the demand an agent, a sub-agent or a replayed trace hands
//! to the cell, whatever serves it.

/// What one call sends and expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallSpec {
    /// Input tokens (the whole context plus new tokens).
    pub prompt: u32,
    /// Leading input tokens identical to the previous call's context.
    pub reusable: u32,
    /// Output tokens decoded, reasoning included.
    pub output: u32,
    /// Of which reasoning tokens.
    pub reasoning: u32,
    /// A compaction (summarising) call.
    pub compaction: bool,
}
