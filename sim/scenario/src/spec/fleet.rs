//! `[fleet]`: the agents, their `[[fleet.segment]]`s and each segment's agent loop
//! (`task`, its retries and sub-agents).

use serde::{Deserialize, Serialize};

use tokenfleet_models::dist::DistSpec;
use tokenfleet_models::units::{
    Count, CountUnit, Fraction, Seconds, SecondsUnit, TokenUnit, Tokens,
};
use tokenfleet_setup::ProfileSpec;

/// The agents.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetSpec {
    pub agents: Count,
    #[serde(rename = "segment")]
    pub segments: Vec<SegmentSpec>,
}

/// A kind of agent and its share of the fleet.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentSpec {
    pub name: String,
    pub share: Fraction,
    /// A shipped fragment (`coding-agent`, `openclaw-heavy`, ...) merged under this segment's
    /// own keys before the scenario is read (see `workload::presets`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// "agent" (tasks started by the profile; the default), "monitor" (one endless loop
    /// around the clock) or "open-loop" (independent calls every `tool_gap`, answered or not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Model id the segment's agents call.
    pub model: String,
    /// Tokens (input + output) an agent spends on a full weekday.
    pub daily_tokens: DistSpec<TokenUnit>,
    /// When in the (local) day tasks start.
    #[serde(default)]
    pub profile: ProfileSpec,
    /// Hours east of UTC where the segment's agents live (the simulated day is UTC).
    #[serde(default)]
    pub timezone: i32,
    /// Saturdays and Sundays (local): activity factor and profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekend: Option<WeekendSpec>,
    pub task: TaskSpec,
}

/// How weekends differ from weekdays.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeekendSpec {
    /// A weekend day's activity (and budget) relative to a weekday's. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<Fraction>,
    /// The shape of a weekend day (default: the segment's profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileSpec>,
}

/// The agent loop of one task.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// Mean tokens (input + output, all calls) of one task; sets how many tasks a budget buys.
    /// Required for agents; monitors run one endless loop and ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Tokens>,
    /// Log-normal sigma of task sizes around that mean.
    #[serde(default = "default_spread")]
    pub spread: f64,
    /// System prompt and tool schemas: the context every task starts from.
    pub system_tokens: DistSpec<TokenUnit>,
    /// New tokens per call (user turn or tool result) appended to the context.
    pub new_tokens: DistSpec<TokenUnit>,
    /// Visible output tokens per call (they join the context too).
    pub output_tokens: DistSpec<TokenUnit>,
    /// Reasoning (thinking) tokens per call: decoded and billed as output. Default 0.
    #[serde(default = "default_zero_tokens")]
    pub reasoning_tokens: DistSpec<TokenUnit>,
    /// Whether reasoning stays in the context for the next calls (interleaved thinking, as
    /// MiniMax-M2 requires). Default false: dropped, as Anthropic, OpenAI and DeepSeek do.
    #[serde(default)]
    pub keep_reasoning: bool,
    /// Tool execution and think time between an answer and the next call.
    pub tool_gap: DistSpec<SecondsUnit>,
    /// Compact the context when it would exceed this fraction of the model's window.
    #[serde(default = "default_compact_at")]
    pub compact_at: Fraction,
    /// Size of the summary a compaction produces.
    #[serde(default = "default_summary_tokens")]
    pub summary_tokens: DistSpec<TokenUnit>,
    /// Retries of rejected calls.
    #[serde(default)]
    pub retry: RetrySpec,
    /// Sub-agents the loop fans out to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subagents: Option<SubAgentSpec>,
}
fn default_spread() -> f64 {
    0.5
}
fn default_compact_at() -> Fraction {
    Fraction::new(0.85)
}
fn default_summary_tokens() -> DistSpec<TokenUnit> {
    DistSpec::Constant {
        value: Tokens::new(4000.0),
    }
}
fn default_zero_tokens() -> DistSpec<TokenUnit> {
    DistSpec::Constant {
        value: Tokens::new(0.0),
    }
}

/// Retries of a rejected call: up to `max` more attempts, waiting `backoff`, then `factor`
/// times longer each time, spread by +-`jitter` (a share of the wait).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    #[serde(default = "default_retry_max")]
    pub max: u32,
    #[serde(default = "default_backoff")]
    pub backoff: Seconds,
    #[serde(default = "default_backoff_factor")]
    pub factor: f64,
    #[serde(default = "default_jitter")]
    pub jitter: Fraction,
}
fn default_retry_max() -> u32 {
    3
}
fn default_backoff() -> Seconds {
    Seconds::new(2.0)
}
fn default_backoff_factor() -> f64 {
    2.0
}
fn default_jitter() -> Fraction {
    Fraction::new(0.5)
}
impl Default for RetrySpec {
    fn default() -> Self {
        RetrySpec {
            max: default_retry_max(),
            backoff: default_backoff(),
            factor: default_backoff_factor(),
            jitter: default_jitter(),
        }
    }
}

/// Sub-agents: short loops with their own context that an answer fans out to. Loop fields
/// left out are the parent's.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubAgentSpec {
    /// Chance that an answer starts sub-agents.
    pub probability: Fraction,
    /// How many start together (at most 16).
    #[serde(default = "default_fanout")]
    pub fanout: DistSpec<CountUnit>,
    /// Calls in each sub-agent's loop.
    pub calls: DistSpec<CountUnit>,
    /// Tokens each hands back into the parent's context.
    #[serde(default = "default_result_tokens")]
    pub result_tokens: DistSpec<TokenUnit>,
    /// The parent waits for all of them (Claude Code's Task tool). Default true.
    #[serde(default = "default_true")]
    pub blocking: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_tokens: Option<DistSpec<TokenUnit>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_tokens: Option<DistSpec<TokenUnit>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<DistSpec<TokenUnit>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<DistSpec<TokenUnit>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_gap: Option<DistSpec<SecondsUnit>>,
}
fn default_fanout() -> DistSpec<CountUnit> {
    DistSpec::Constant {
        value: Count::new(1.0),
    }
}
fn default_result_tokens() -> DistSpec<TokenUnit> {
    DistSpec::Constant {
        value: Tokens::new(1000.0),
    }
}
fn default_true() -> bool {
    true
}
