//! The parameters of a loop of calls (an agent's task, or a sub-agent's short loop), of the
//! sub-agents an answer fans out to, and of retries. A loop's mean growth per call and its mean
//! prompt are computed here in closed form, compaction included (the context grows from the
//! system prompt and restarts from the system prompt plus a summary when it would pass the
//! threshold): the estimates that size a run and check its budgets, and the growth an agent
//! uses to decide when its task is done.

use tokenfleet_models::dist::Dist;

/// The parameters of one loop of calls (an agent's task, or a sub-agent's short loop).
#[derive(Debug, Clone)]
pub struct LoopParams {
    /// System prompt and tool schemas: the context a loop starts from.
    pub system_tokens: Dist,
    /// New tokens per call (user turn or tool result).
    pub new_tokens: Dist,
    /// Visible output tokens per call (they join the context).
    pub output_tokens: Dist,
    /// Reasoning tokens per call: decoded and billed as output.
    pub reasoning_tokens: Dist,
    /// Whether reasoning stays in the context (interleaved-thinking models such as
    /// MiniMax-M2) or is dropped from the next call's prompt (Anthropic, OpenAI, DeepSeek).
    pub keep_reasoning: bool,
    /// Tool execution and think time between an answer and the next call.
    pub tool_gap: Dist,
    /// Context size (tokens) at which the loop compacts.
    pub compact_at: u64,
    /// Context window the loop can use, in tokens.
    pub window: u64,
    pub summary_tokens: Dist,
}

impl LoopParams {
    /// Mean tokens a call adds to the context (new tokens, visible output, and reasoning if
    /// kept).
    pub fn growth(&self) -> f64 {
        self.new_tokens.mean()
            + self.output_tokens.mean()
            + if self.keep_reasoning {
                self.reasoning_tokens.mean()
            } else {
                0.0
            }
    }

    /// Mean prompt tokens of a call `k` calls into a loop (0-based), with compaction: the
    /// context grows from the system prompt by `growth()` per call and restarts from system
    /// + summary when it would pass `compact_at`.
    pub fn mean_prompt_at(&self, k: f64) -> f64 {
        let s = self.system_tokens.mean();
        let g = self.growth().max(1.0);
        let first = s + self.new_tokens.mean();
        let cap = self.compact_at as f64;
        if first + g * k <= cap {
            return first + g * k;
        }
        // Past the first compaction the context cycles between system + summary and cap.
        let restart = s + self.summary_tokens.mean() + self.new_tokens.mean();
        let period = ((cap - restart) / g).max(1.0);
        let k0 = ((cap - first) / g).max(0.0);
        let phase = ((k - k0) % (period + 1.0)).max(0.0);
        (restart + g * phase).min(cap)
    }

    /// Mean prompt over a loop's first `k` calls.
    pub fn mean_prompt_over(&self, k: f64) -> f64 {
        let n = k.max(1.0);
        if n <= 64.0 {
            let m = n.ceil() as usize;
            return (0..m).map(|i| self.mean_prompt_at(i as f64)).sum::<f64>() / m as f64;
        }
        // Long loops: average 64 evenly spaced calls.
        (0..64)
            .map(|i| self.mean_prompt_at((i as f64 + 0.5) * n / 64.0))
            .sum::<f64>()
            / 64.0
    }

    /// Mean tokens (input + output) per call over a loop of `k` calls.
    pub fn mean_call_tokens(&self, k: f64) -> f64 {
        self.mean_prompt_over(k) + self.output_tokens.mean() + self.reasoning_tokens.mean()
    }
}

/// Sub-agents: short loops an agent fans out to from one of its answers.
#[derive(Debug, Clone)]
pub struct SubAgents {
    /// Chance that an answer (not a compaction, not a task's last) spawns sub-agents.
    pub probability: f64,
    /// How many start at once (drawn, rounded, clamped to 1..=`max_fanout`).
    pub fanout: Dist,
    pub max_fanout: u32,
    /// Calls per sub-agent loop (at least one).
    pub calls: Dist,
    /// Tokens each returns into the parent's context (its next call's new tokens).
    pub result_tokens: Dist,
    /// The parent waits for all of them (Claude Code's Task tool) or runs on.
    pub blocking: bool,
    pub params: LoopParams,
}

/// Retries of rejected calls: `max` more attempts after the first, waiting
/// `backoff * factor^(attempt - 1)`, spread by +-`jitter` (a share of the wait).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retry {
    pub max: u32,
    pub backoff_s: f64,
    pub factor: f64,
    pub jitter: f64,
}

impl Retry {
    /// The wait before attempt `attempt + 1` (attempt >= 1), given a uniform draw `u`.
    #[inline]
    pub fn delay(&self, attempt: u32, u: f64) -> f64 {
        let base = self.backoff_s * self.factor.powi(attempt.saturating_sub(1) as i32);
        base * (1.0 - self.jitter + 2.0 * self.jitter * u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_jitters_around_its_mean() {
        let r = Retry {
            max: 3,
            backoff_s: 2.0,
            factor: 2.0,
            jitter: 0.5,
        };
        assert_eq!(r.delay(1, 0.5), 2.0);
        assert_eq!(r.delay(3, 0.5), 8.0);
        assert_eq!(r.delay(1, 0.0), 1.0);
        assert_eq!(r.delay(1, 1.0), 3.0);
    }
}
