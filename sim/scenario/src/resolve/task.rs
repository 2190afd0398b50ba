//! An agent's loop (`task`): its token distributions and compaction threshold, its retries,
//! the size of a task, and the sub-agents it fans out to (whose loops default to the
//! parent's).

use tokenfleet_models::dist::DistSpec;
use tokenfleet_models::units::TokenUnit;
use tokenfleet_workload::{LoopParams, Retry, SegmentKind, SubAgents};

use super::checker::Checker;
use crate::spec::fleet::{RetrySpec, SubAgentSpec, TaskSpec};

/// Checks a loop's distributions and compaction threshold.
pub(crate) fn loop_params(
    c: &mut Checker,
    path: &str,
    t: &TaskSpec,
    window: u64,
) -> Option<LoopParams> {
    let system = c.dist(format!("{path}.system_tokens"), &t.system_tokens);
    let new = c.dist(format!("{path}.new_tokens"), &t.new_tokens);
    let output = c.dist(format!("{path}.output_tokens"), &t.output_tokens);
    let reasoning = c.dist(format!("{path}.reasoning_tokens"), &t.reasoning_tokens);
    let gap = c.dist(format!("{path}.tool_gap"), &t.tool_gap);
    let summary = c.dist(format!("{path}.summary_tokens"), &t.summary_tokens);
    let compact_frac = t.compact_at.get();
    if !(compact_frac > 0.0 && compact_frac <= 1.0) {
        c.add(format!("{path}.compact_at"), "must be in (0, 1]");
        return None;
    }
    let (Some(system), Some(new), Some(output), Some(reasoning), Some(gap), Some(summary)) =
        (system, new, output, reasoning, gap, summary)
    else {
        return None;
    };
    let p = LoopParams {
        system_tokens: system,
        new_tokens: new,
        output_tokens: output,
        reasoning_tokens: reasoning,
        keep_reasoning: t.keep_reasoning,
        tool_gap: gap,
        compact_at: (window as f64 * compact_frac) as u64,
        window,
        summary_tokens: summary,
    };
    check_room(c, path, &p)?;
    Some(p)
}

/// The compaction threshold must leave room for a system prompt, a summary and a call.
fn check_room(c: &mut Checker, path: &str, p: &LoopParams) -> Option<()> {
    let floor = p.system_tokens.quantile(0.99)
        + p.summary_tokens.quantile(0.99)
        + p.new_tokens.quantile(0.99)
        + p.output_tokens.quantile(0.99)
        + p.reasoning_tokens.quantile(0.99);
    if floor >= p.compact_at as f64 {
        c.add(format!("{path}.compact_at"), format!(
            "compaction at {} tokens leaves no room: the system prompt, a summary, new, output and reasoning tokens already need about {floor:.0} (p99); the usable window is {} tokens",
            p.compact_at, p.window
        ));
        return None;
    }
    Some(())
}

/// Largest fan-out of sub-agents at once.
const MAX_FANOUT: f64 = 16.0;

pub(crate) fn subagent_params(
    c: &mut Checker,
    path: &str,
    sub: &SubAgentSpec,
    parent: &TaskSpec,
    window: u64,
    kind: SegmentKind,
) -> Option<SubAgents> {
    if kind != SegmentKind::Agent {
        c.add(path, "only agents fan out to sub-agents (not monitors or open-loop traffic); remove [task.subagents] or use kind = \"agent\"");
        return None;
    }
    let p = sub.probability.get();
    if p > 1.0 {
        c.add(format!("{path}.probability"), "must be between 0 and 1");
    }
    let fanout = c.dist(format!("{path}.fanout"), &sub.fanout);
    let calls = c.dist(format!("{path}.calls"), &sub.calls);
    let result = c.dist(format!("{path}.result_tokens"), &sub.result_tokens);
    let own = |c: &mut Checker,
               field: &str,
               spec: &Option<DistSpec<TokenUnit>>,
               dflt: &DistSpec<TokenUnit>| {
        c.dist(format!("{path}.{field}"), spec.as_ref().unwrap_or(dflt))
    };
    let system = own(
        c,
        "system_tokens",
        &sub.system_tokens,
        &parent.system_tokens,
    );
    let new = own(c, "new_tokens", &sub.new_tokens, &parent.new_tokens);
    let output = own(
        c,
        "output_tokens",
        &sub.output_tokens,
        &parent.output_tokens,
    );
    let reasoning = own(
        c,
        "reasoning_tokens",
        &sub.reasoning_tokens,
        &parent.reasoning_tokens,
    );
    let gap = c.dist(
        format!("{path}.tool_gap"),
        sub.tool_gap.as_ref().unwrap_or(&parent.tool_gap),
    );
    let summary = c.dist(format!("{path}.summary_tokens"), &parent.summary_tokens);
    let (
        Some(fanout),
        Some(calls),
        Some(result),
        Some(system),
        Some(new),
        Some(output),
        Some(reasoning),
        Some(gap),
        Some(summary),
    ) = (
        fanout, calls, result, system, new, output, reasoning, gap, summary,
    )
    else {
        return None;
    };
    if p > 1.0 {
        return None;
    }
    let max_fanout = fanout.quantile(0.999).round();
    if !(max_fanout.is_finite() && max_fanout <= MAX_FANOUT) {
        c.add(
            format!("{path}.fanout"),
            format!("at most {MAX_FANOUT} sub-agents start together; this distribution's p99.9 is {max_fanout}"),
        );
        return None;
    }
    if calls.mean() > 10_000.0 {
        c.add(
            format!("{path}.calls"),
            "a sub-agent loop is short: at most 10,000 calls on average",
        );
        return None;
    }
    let params = LoopParams {
        system_tokens: system,
        new_tokens: new,
        output_tokens: output,
        reasoning_tokens: reasoning,
        keep_reasoning: parent.keep_reasoning,
        tool_gap: gap,
        compact_at: (window as f64 * parent.compact_at.get().clamp(0.01, 1.0)) as u64,
        window,
        summary_tokens: summary,
    };
    check_room(c, path, &params)?;
    Some(SubAgents {
        probability: p,
        fanout,
        max_fanout: (max_fanout as u32).max(1),
        calls,
        result_tokens: result,
        blocking: sub.blocking,
        params,
    })
}

/// Retries of rejected calls; out-of-range settings are problems at `path` (the task's).
pub(crate) fn retries(c: &mut Checker, path: &str, retry: &RetrySpec) -> Retry {
    if retry.max > 100 {
        c.add(format!("{path}.retry.max"), "at most 100 retries");
    }
    if !(retry.factor.is_finite() && (1.0..=10.0).contains(&retry.factor)) {
        c.add(format!("{path}.retry.factor"), "must be between 1 and 10");
    }
    if retry.jitter.get() > 1.0 {
        c.add(
            format!("{path}.retry.jitter"),
            "must be between 0 and 1 (a share of the wait)",
        );
    }
    if retry.backoff.get() > 86_400.0 {
        c.add(format!("{path}.retry.backoff"), "at most a day");
    }
    Retry {
        max: retry.max,
        backoff_s: retry.backoff.get(),
        factor: retry.factor,
        jitter: retry.jitter.get(),
    }
}

/// The mean tokens of one task: required for agents; monitors and open-loop traffic run
/// without tasks.
pub(crate) fn task_size(
    c: &mut Checker,
    path: &str,
    kind: SegmentKind,
    t: &TaskSpec,
) -> Option<f64> {
    match (kind, t.tokens) {
        (SegmentKind::Agent, None) => {
            c.add(
                format!("{path}.tokens"),
                "missing: the mean tokens of a task (e.g. \"5M\"), which sets how many tasks a budget buys",
            );
            None
        }
        (SegmentKind::Agent, Some(tok)) if tok.get() < 1000.0 => {
            c.add(
                format!("{path}.tokens"),
                "a task must spend at least 1000 tokens",
            );
            None
        }
        (SegmentKind::Agent, Some(tok)) => Some(tok.get()),
        (SegmentKind::Monitor | SegmentKind::OpenLoop, _) => Some(f64::INFINITY),
    }
}
