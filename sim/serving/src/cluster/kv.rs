//! The KV cache's unit of memory: a block of [`BLOCK_TOKENS`] tokens.
//!
//! The cache is paged as in vLLM: a sequence holds whole blocks, so a context of `n` tokens
//! takes [`blocks`]`(n)` of them. The replica, its decoding set and the prefix cache all count
//! in blocks; this file is the one place that says how big a block is.

/// Tokens per KV block (vLLM's default block size).
pub const BLOCK_TOKENS: u64 = 16;

/// KV blocks needed for `tokens` tokens.
#[inline]
pub fn blocks(tokens: u64) -> u64 {
    tokens.div_ceil(BLOCK_TOKENS)
}
