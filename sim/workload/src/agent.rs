//! One agent: its budget, its plan for the horizon, and its loop of calls.
//!
//! **Budget.** An agent draws a daily token budget (a full weekday's) and gets
//! `budget x activity.total()` for the run: the horizon's length in weekday equivalents, so a
//! two-hour run or a week with quiet weekends gets its share. It plans
//! `N = round(budget / task_tokens)` tasks. Task sizes vary (log-normal weights), but the k-th
//! task's target is set from what is left: `remaining * w / (w + (m - 1) * E[w])` with m tasks
//! to go, and the last takes all that remains. A task stops when less than half of its next
//! call would fit in its target. So the realized tokens equal the budget within half a call,
//! unless the horizon ends first: the budget distribution in the scenario is the distribution
//! users get.
//!
//! **Plan.** Task start times are N draws from the segment's activity over the horizon,
//! generated in increasing order one at a time (`u_(i+1) = 1 - (1 - u_(i)) * V^(1/(N-i))`, the
//! sequential method for uniform order statistics) so an agent holds O(1) state instead of a
//! list. Tasks run one after another; a start that comes while a task is running waits.
//!
//! **Loop.** A task starts from the system prompt and tool schemas; each call sends the whole
//! context plus new tokens (the user turn or a tool result), and the answer joins the context.
//! Reasoning tokens are decoded and billed as output but dropped from the next prompt, as the
//! Anthropic, OpenAI and DeepSeek APIs do with earlier turns' thinking, unless the segment keeps
//! them (MiniMax-M2's interleaved thinking must be sent back). The part of the prompt shared
//! with the previous call (`reusable`) is what a prefix cache can serve: the previous prompt
//! and answer, or only the previous prompt when reasoning was dropped from between them. When
//! the context would pass the compaction threshold, the agent spends one call summarising it
//! and continues from the system prompt plus the summary.
//!
//! **Sub-agents.** An answer may fan out to sub-agents (Claude Code's Task tool): short loops
//! with their own context, started together. A blocking parent waits for all of them and
//! continues with their results as new tokens; a non-blocking one runs on. Their tokens count
//! towards the parent's budget and task.
//!
//! **Retries.** A rejected call is sent again after an exponential backoff with jitter, up to
//! `retry.max` times; then the agent gives up the task (a sub-agent gives up its loop).
//!
//! **Monitors.** A monitor runs one endless loop: a call every `tool_gap`, or later when its
//! spending is ahead of the activity profile (so the budget spreads over the whole horizon),
//! until the budget is spent.
//!
//! **Open loop.** An open-loop agent paces its calls as a monitor does but never waits for an
//! answer: the next call is due `tool_gap` after the previous one was sent, until the calls
//! sent cover the budget. Its calls are independent requests (system prompt plus new tokens,
//! no reusable prefix), the way API clients and load generators send them.

use rand::Rng;

use tokenfleet_engine::rng::{SimRng, Subsystem, splitmix64, stream};
use tokenfleet_engine::time::SimTime;
use tokenfleet_models::dist::unit;

use crate::loop_params::{LoopParams, Retry};
use crate::segment::{Segment, SegmentKind};

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

/// The outcome of planning: whether the agent has a task to run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TaskPlanning {
    /// Start a task with this first call.
    Start(CallSpec),
    /// Nothing to do (no pending task, or the budget is spent).
    Idle,
}

/// What happens after a call of an agent's own loop completed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum After {
    /// Issue the next call at this time.
    Issue(SimTime),
    /// Start `count` sub-agents now; the parent's next call is at `next` (non-blocking) or
    /// when they are all done (`None`).
    Spawn { count: u32, next: Option<SimTime> },
    /// The task is over (target reached, budget spent).
    Done,
}

/// What happens after a call was rejected.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rejection {
    /// Send it again at this time.
    Retry(SimTime),
    /// Give up (the task, or the sub-agent's loop).
    GiveUp,
}

#[inline]
fn tokens(x: f64, min: u64) -> u64 {
    if x.is_finite() {
        (x.round().max(0.0) as u64).max(min)
    } else {
        min
    }
}

#[inline]
fn after(now: SimTime, secs: f64) -> SimTime {
    now.saturating_add(SimTime::from_secs(secs))
}

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

/// An agent and its state: O(1), whatever the horizon.
#[derive(Debug, Clone)]
pub struct Agent {
    pub id: u64,
    pub segment: u16,
    day_rng: SimRng,
    loop_rng: SimRng,
    /// The drawn budget of a full weekday.
    pub daily: u64,
    /// Target tokens (input + output) for the horizon.
    pub budget: u64,
    /// Tokens of completed calls so far (sub-agents' included).
    pub realized: u64,
    system: u32,
    tasks_total: u32,
    tasks_emitted: u32,
    plan_u: f64,
    pending: u32,
    /// A task is running (a call in flight, a tool gap, or sub-agents it waits for).
    pub busy: bool,
    /// Tasks started so far; the current task's id is `task - 1`.
    pub task: u32,
    /// Tasks run to their end (not given up).
    pub tasks_done: u32,
    /// The current task's loop.
    pub lp: LoopState,
    target: u64,
    task_spent: u64,
    /// Attempts of the call being retried (0: none).
    attempt: u32,
    retry: Option<CallSpec>,
    /// Sub-agents running, and whether the parent waits for them.
    pub subs_active: u32,
    waiting: bool,
    /// Tokens of the calls sent (open loop: it stops sending when they cover the budget).
    issued: u64,
    /// Fan-outs so far (names the sub-agents' random streams).
    spawns: u32,
}

impl Agent {
    pub fn new(id: u64, segment: u16, seg: &Segment, seed: u64) -> Agent {
        let mut traits = stream(seed, Subsystem::AgentTraits, id);
        let daily = tokens(seg.budget.sample(&mut traits), 0);
        let system =
            tokens(seg.main.system_tokens.sample(&mut traits), 1).min(u32::MAX as u64) as u32;
        let budget = tokens(daily as f64 * seg.activity.total(), 0);
        let mut tasks_total = match seg.kind {
            SegmentKind::Agent => {
                // Stochastic rounding keeps E[tasks] = budget / task_tokens for small budgets.
                let exact = budget as f64 / seg.task_tokens;
                let mut n = exact.floor() as u64;
                if unit(&mut traits) < exact - exact.floor() {
                    n += 1;
                }
                n
            }
            SegmentKind::Monitor | SegmentKind::OpenLoop => 1,
        };
        if budget > 0 {
            tasks_total = tasks_total.max(1);
        } else {
            tasks_total = 0;
        }
        Agent {
            id,
            segment,
            day_rng: stream(seed, Subsystem::AgentDay, id),
            loop_rng: stream(seed, Subsystem::AgentLoop, id),
            daily,
            budget,
            realized: 0,
            system,
            tasks_total: tasks_total.min(u32::MAX as u64) as u32,
            tasks_emitted: 0,
            plan_u: 0.0,
            pending: 0,
            busy: false,
            task: 0,
            tasks_done: 0,
            lp: LoopState::default(),
            target: 0,
            task_spent: 0,
            attempt: 0,
            retry: None,
            subs_active: 0,
            waiting: false,
            issued: 0,
            spawns: 0,
        }
    }

    /// Planned tasks for the horizon.
    pub fn tasks_total(&self) -> u32 {
        self.tasks_total
    }

    /// The next planned task start (in increasing order), or `None` when all are planned.
    pub fn next_task_start(&mut self, seg: &Segment) -> Option<SimTime> {
        if self.tasks_emitted >= self.tasks_total {
            return None;
        }
        if seg.kind != SegmentKind::Agent {
            // One loop, from the first active moment plus a random phase of one poll.
            self.tasks_emitted += 1;
            let phase = unit(&mut self.day_rng) * seg.main.tool_gap.mean();
            return Some(SimTime::from_secs(seg.activity.inverse(0.0) + phase));
        }
        let left = (self.tasks_total - self.tasks_emitted) as f64;
        let v = unit(&mut self.day_rng);
        self.plan_u = 1.0 - (1.0 - self.plan_u) * v.powf(1.0 / left);
        self.tasks_emitted += 1;
        Some(SimTime::from_secs(seg.activity.inverse(self.plan_u)))
    }

    /// A planned start time arrived.
    pub fn task_due(&mut self) {
        self.pending += 1;
    }

    /// Starts the next pending task if the agent is free; returns its first call.
    pub fn begin_task(&mut self, seg: &Segment) -> TaskPlanning {
        if self.busy {
            return TaskPlanning::Idle;
        }
        while self.pending > 0 {
            self.pending -= 1;
            let remaining = self.budget.saturating_sub(self.realized);
            // Tasks still to run, this one included.
            let m = self.tasks_total.saturating_sub(self.task).max(1) as f64;
            self.task += 1;
            if remaining == 0 {
                continue;
            }
            self.target = match seg.kind {
                SegmentKind::Monitor | SegmentKind::OpenLoop => remaining,
                SegmentKind::Agent => {
                    let sigma = seg.task_spread;
                    let w =
                        (sigma * standard_normal(&mut self.loop_rng) - sigma * sigma / 2.0).exp();
                    let target = remaining as f64 * w / (w + (m - 1.0));
                    tokens(target, 1).min(remaining)
                }
            };
            self.task_spent = 0;
            self.lp.start(self.system as u64);
            self.attempt = 0;
            self.retry = None;
            self.busy = true;
            return TaskPlanning::Start(self.next_call(seg));
        }
        TaskPlanning::Idle
    }

    /// The next call of the running task (the rejected one again when retrying).
    pub fn next_call(&mut self, seg: &Segment) -> CallSpec {
        if let Some(spec) = self.retry.take() {
            return spec;
        }
        if seg.kind == SegmentKind::OpenLoop {
            return self.open_call(&seg.main);
        }
        self.lp.next_call(&seg.main, &mut self.loop_rng)
    }

    /// An independent request: the system prompt and new tokens in, output and reasoning out,
    /// within the window.
    fn open_call(&mut self, p: &LoopParams) -> CallSpec {
        let rng = &mut self.loop_rng;
        let new = tokens(p.new_tokens.sample(rng), 1);
        let out = tokens(p.output_tokens.sample(rng), 1);
        let reasoning = tokens(p.reasoning_tokens.sample(rng), 0);
        self.lp.step += 1;
        let room = p.window.max(2);
        let prompt = (self.system as u64 + new).min(room - 1);
        let output = (out + reasoning).min(room - prompt).max(1);
        CallSpec {
            prompt: prompt as u32,
            reusable: 0,
            output: output as u32,
            reasoning: output.saturating_sub(out) as u32,
            compaction: false,
        }
    }

    /// An open-loop agent sent `spec` at `now`: when its next call is due, or `None` once the
    /// calls sent cover its budget. Like a monitor's, the next call comes `tool_gap` later, or
    /// later still if the spending is ahead of the activity profile.
    pub fn open_next(&mut self, seg: &Segment, spec: &CallSpec, now: SimTime) -> Option<SimTime> {
        self.issued += spec.prompt as u64 + spec.output as u64;
        if self.issued >= self.budget {
            self.busy = false;
            return None;
        }
        let gap = seg.main.tool_gap.sample(&mut self.loop_rng);
        let share = self.issued as f64 / self.budget as f64;
        let paced = SimTime::from_secs(seg.activity.inverse(share));
        Some(after(now, gap).max(paced))
    }

    /// Tokens of a completed call, the agent's own or a sub-agent's of task `task`.
    #[inline]
    pub fn spent(&mut self, tokens: u64, task: u32) {
        self.realized += tokens;
        if task + 1 == self.task {
            self.task_spent += tokens;
        }
    }

    /// A call of the agent's own loop completed at `now`.
    pub fn complete(&mut self, seg: &Segment, spec: &CallSpec, now: SimTime) -> After {
        self.spent(spec.prompt as u64 + spec.output as u64, self.task - 1);
        self.lp.complete(spec, seg.main.keep_reasoning);
        self.attempt = 0;
        // Stop when less than half the next call's expected size is left: the overshoot
        // (or shortfall) is then under half a call either way, and zero on average.
        let half_next = (self.lp.context as f64 + seg.main_growth) as u64 / 2;
        if self.task_spent + half_next >= self.target || self.realized + half_next >= self.budget {
            self.busy = false;
            self.tasks_done += 1;
            return After::Done;
        }
        let gap = seg.main.tool_gap.sample(&mut self.loop_rng);
        if seg.kind == SegmentKind::Monitor {
            // Spend no faster than the activity profile allows.
            let share = self.realized as f64 / self.budget.max(1) as f64;
            let paced = SimTime::from_secs(seg.activity.inverse(share));
            return After::Issue(after(now, gap).max(paced));
        }
        if let Some(sub) = &seg.subagents
            && !spec.compaction
            && self.subs_active == 0
            && unit(&mut self.loop_rng) < sub.probability
        {
            let count = (sub.fanout.sample(&mut self.loop_rng).round() as u32)
                .clamp(1, sub.max_fanout.max(1));
            self.subs_active = count;
            self.spawns += 1;
            self.waiting = sub.blocking;
            let next = (!sub.blocking).then(|| after(now, gap));
            return After::Spawn { count, next };
        }
        After::Issue(after(now, gap))
    }

    /// A call of the agent's own loop was rejected at `now`.
    pub fn rejected(&mut self, seg: &Segment, spec: &CallSpec, now: SimTime) -> Rejection {
        self.attempt += 1;
        if self.attempt <= seg.retry.max {
            self.retry = Some(*spec);
            let wait = seg.retry.delay(self.attempt, unit(&mut self.loop_rng));
            return Rejection::Retry(after(now, wait));
        }
        self.abandon();
        Rejection::GiveUp
    }

    /// The agent gives up its task.
    pub fn abandon(&mut self) {
        self.busy = false;
        self.attempt = 0;
        self.retry = None;
        self.waiting = false;
    }

    /// The random stream of sub-agent `j` of the latest fan-out.
    pub fn sub_stream(&self, seed: u64, j: u32) -> SimRng {
        // One stream per (agent, fan-out, sub-agent): draws do not depend on event order.
        let id = splitmix64(splitmix64(self.id) ^ self.spawns as u64) ^ j as u64;
        stream(seed, Subsystem::SubAgent, id)
    }

    /// A sub-agent of task `task` ended (`result` tokens to hand back). Returns when the
    /// parent, if it was waiting for it and it was the last, sends its next call.
    pub fn sub_done(
        &mut self,
        seg: &Segment,
        task: u32,
        result: u64,
        now: SimTime,
    ) -> Option<SimTime> {
        self.subs_active = self.subs_active.saturating_sub(1);
        if task + 1 != self.task || !self.busy {
            return None; // a non-blocking parent's task already ended
        }
        self.lp.pending += result;
        if self.waiting && self.subs_active == 0 {
            self.waiting = false;
            let gap = seg.main.tool_gap.sample(&mut self.loop_rng);
            return Some(after(now, gap));
        }
        None
    }
}

/// A sub-agent: a short loop of its own, started by an agent's answer.
#[derive(Debug, Clone)]
pub struct SubAgent {
    rng: SimRng,
    pub lp: LoopState,
    /// Calls left in its loop.
    calls_left: u32,
    /// The parent's task it works for.
    pub task: u32,
    attempt: u32,
    retry: Option<CallSpec>,
    pub active: bool,
}

impl SubAgent {
    /// An idle slot.
    pub fn idle() -> SubAgent {
        SubAgent {
            rng: stream(0, Subsystem::SubAgent, 0),
            lp: LoopState::default(),
            calls_left: 0,
            task: 0,
            attempt: 0,
            retry: None,
            active: false,
        }
    }

    /// Starts a sub-agent loop for the parent's task `task` with its own stream.
    pub fn start(&mut self, seg: &Segment, mut rng: SimRng, task: u32) {
        let sub = seg.subagents.as_ref().expect("segment has sub-agents");
        let system = tokens(sub.params.system_tokens.sample(&mut rng), 1);
        self.calls_left = tokens(sub.calls.sample(&mut rng), 1).min(u32::MAX as u64) as u32;
        self.lp.start(system);
        self.rng = rng;
        self.task = task;
        self.attempt = 0;
        self.retry = None;
        self.active = true;
    }

    pub fn next_call(&mut self, seg: &Segment) -> CallSpec {
        if let Some(spec) = self.retry.take() {
            return spec;
        }
        let sub = seg.subagents.as_ref().expect("segment has sub-agents");
        self.lp.next_call(&sub.params, &mut self.rng)
    }

    /// One of its calls completed: the time of the next one, or `None` when the loop is
    /// over (then `result` tokens go back to the parent).
    pub fn complete(&mut self, seg: &Segment, spec: &CallSpec, now: SimTime) -> Option<SimTime> {
        let sub = seg.subagents.as_ref().expect("segment has sub-agents");
        self.lp.complete(spec, sub.params.keep_reasoning);
        self.attempt = 0;
        if !spec.compaction {
            self.calls_left = self.calls_left.saturating_sub(1);
        }
        if self.calls_left == 0 {
            self.active = false;
            return None;
        }
        let gap = sub.params.tool_gap.sample(&mut self.rng);
        Some(after(now, gap))
    }

    /// The tokens the finished loop hands back to its parent.
    pub fn result(&mut self, seg: &Segment) -> u64 {
        let sub = seg.subagents.as_ref().expect("segment has sub-agents");
        tokens(sub.result_tokens.sample(&mut self.rng), 0)
    }

    pub fn rejected(&mut self, retry: &Retry, spec: &CallSpec, now: SimTime) -> Rejection {
        self.attempt += 1;
        if self.attempt <= retry.max {
            self.retry = Some(*spec);
            let wait = retry.delay(self.attempt, unit(&mut self.rng));
            return Rejection::Retry(after(now, wait));
        }
        self.active = false;
        self.retry = None;
        Rejection::GiveUp
    }
}

/// A standard normal draw (Box-Muller; one of the pair is dropped to keep the stream simple).
fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1 = 1.0 - unit(rng);
    let u2 = unit(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
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
