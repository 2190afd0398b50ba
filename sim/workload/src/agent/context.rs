//! The context of one loop of calls: how it grows, what a prefix cache can reuse, and when
//! it compacts.
//!
//! A task starts from the system prompt and tool schemas; each call sends the whole context
//! plus new tokens (the user turn or a tool result), and the answer joins the context.
//! Reasoning tokens are decoded and billed as output but dropped from the next prompt, as the
//! Anthropic, OpenAI and DeepSeek APIs do with earlier turns' thinking, unless the segment
//! keeps them (MiniMax-M2's interleaved thinking must be sent back). The part of the prompt
//! shared with the previous call (`reusable`) is what a prefix cache can serve: the previous
//! prompt and answer, or only the previous prompt when reasoning was dropped from between them.
//! When the context would pass the compaction threshold, the agent spends one call summarising
//! it and continues from the system prompt plus the summary.

use rand::Rng;

use super::draw::tokens;
use crate::call::CallSpec;
use crate::loop_params::LoopParams;

/// The context of one loop of calls, O(1).
#[derive(Debug, Clone, Copy, Default)]
pub struct LoopState {
    /// Tokens in the context.
    pub context: u64,
    /// Leading tokens of the next prompt that the previous call's context shares.
    pub reusable: u64,
    /// The context a loop starts from (system prompt and tools).
    pub system: u64,
    /// Tokens to add to the next call beyond its own new tokens (sub-agents' results).
    pub pending: u64,
    /// Calls made in the loop.
    pub step: u32,
}

impl LoopState {
    /// Restarts from the system prompt, which the previous loop's context shares.
    pub fn start(&mut self, system: u64) {
        self.system = system;
        self.context = system;
        self.reusable = system;
        self.pending = 0;
        self.step = 0;
    }

    /// The next call: the context plus new tokens, or a compaction.
    pub fn next_call<R: Rng + ?Sized>(&mut self, p: &LoopParams, rng: &mut R) -> CallSpec {
        let new = tokens(p.new_tokens.sample(rng), 1) + self.pending;
        let out = tokens(p.output_tokens.sample(rng), 1);
        let reasoning = tokens(p.reasoning_tokens.sample(rng), 0);
        self.step += 1;
        if self.context + new > p.compact_at && self.context > self.system {
            // The new tokens wait for the compacted context; results stay pending.
            let summary = tokens(p.summary_tokens.sample(rng), 1);
            let prompt = self.context.min(p.window.saturating_sub(summary).max(1));
            return CallSpec {
                prompt: prompt as u32,
                reusable: self.reusable.min(prompt) as u32,
                output: summary.min(p.window.saturating_sub(prompt)).max(1) as u32,
                reasoning: 0,
                compaction: true,
            };
        }
        self.pending = 0;
        let prompt = (self.context + new).min(p.compact_at.max(self.context + 1));
        let room = p.window.saturating_sub(prompt).max(1);
        let output = (out + reasoning).min(room).max(1);
        // When the window clips the answer, the visible part is kept first.
        let reasoning = output.saturating_sub(out);
        CallSpec {
            prompt: prompt as u32,
            reusable: self.reusable.min(prompt) as u32,
            output: output as u32,
            reasoning: reasoning as u32,
            compaction: false,
        }
    }

    /// A call of this loop completed.
    pub fn complete(&mut self, spec: &CallSpec, keep_reasoning: bool) {
        let (prompt, output) = (spec.prompt as u64, spec.output as u64);
        if spec.compaction {
            self.context = self.system + output;
            self.reusable = self.system;
        } else if spec.reasoning > 0 && !keep_reasoning {
            // The next prompt is this prompt + the visible answer: the reasoning between
            // them breaks the cached prefix after the prompt.
            self.context = prompt + output - spec.reasoning as u64;
            self.reusable = prompt;
        } else {
            self.context = prompt + output;
            self.reusable = self.context;
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use tokenfleet_engine::rng::{Subsystem, stream};
    use tokenfleet_models::dist::Dist;

    fn params(reasoning: f64, keep: bool) -> LoopParams {
        LoopParams {
            system_tokens: Dist::Constant(1000.0),
            new_tokens: Dist::Constant(100.0),
            output_tokens: Dist::Constant(50.0),
            reasoning_tokens: Dist::Constant(reasoning),
            keep_reasoning: keep,
            tool_gap: Dist::Constant(1.0),
            compact_at: 1500,
            window: 2000,
            summary_tokens: Dist::Constant(200.0),
        }
    }

    #[test]
    fn the_context_grows_and_compacts() {
        let p = params(0.0, false);
        let mut rng = stream(1, Subsystem::AgentLoop, 0);
        let mut lp = LoopState::default();
        lp.start(1000);
        let a = lp.next_call(&p, &mut rng);
        assert_eq!((a.prompt, a.reusable, a.output), (1100, 1000, 50));
        lp.complete(&a, false);
        let b = lp.next_call(&p, &mut rng);
        assert_eq!((b.prompt, b.reusable), (1250, 1150));
        lp.complete(&b, false);
        let c = lp.next_call(&p, &mut rng);
        lp.complete(&c, false);
        assert_eq!(c.prompt, 1400);
        // 1450 + 100 passes 1500: a compaction call, then system + summary.
        let d = lp.next_call(&p, &mut rng);
        assert!(d.compaction);
        assert_eq!((d.prompt, d.output), (1450, 200));
        lp.complete(&d, false);
        let e = lp.next_call(&p, &mut rng);
        assert_eq!((e.prompt, e.reusable), (1300, 1000));
    }

    #[test]
    fn dropped_reasoning_is_billed_but_not_kept() {
        let p = params(30.0, false);
        let mut rng = stream(1, Subsystem::AgentLoop, 0);
        let mut lp = LoopState::default();
        lp.start(1000);
        let a = lp.next_call(&p, &mut rng);
        assert_eq!((a.output, a.reasoning), (80, 30));
        lp.complete(&a, false);
        let b = lp.next_call(&p, &mut rng);
        // Prompt + visible answer + new; only the old prompt is a cached prefix.
        assert_eq!((b.prompt, b.reusable), (1100 + 50 + 100, 1100));
        let mut kept = LoopState::default();
        kept.start(1000);
        let a = kept.next_call(&params(30.0, true), &mut rng);
        kept.complete(&a, true);
        let b = kept.next_call(&params(30.0, true), &mut rng);
        assert_eq!((b.prompt, b.reusable), (1180 + 100, 1180));
    }
}
