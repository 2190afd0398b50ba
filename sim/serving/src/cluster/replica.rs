//! One replica: its running batch, its waiting queue and its KV blocks.
//!
//! **KV blocks.** The cache is paged in blocks of [`BLOCK_TOKENS`] tokens, as in vLLM. A call
//! is admitted (first come, first served, with head-of-line blocking) when a batch slot and the
//! blocks for its whole prompt are free above a 1% watermark; retained prefixes of earlier calls
//! are evicted, least recently used first, to make that room. Decoding sequences take a new
//! block every 16 tokens. When the batch would outgrow memory, the most recently admitted
//! sequence is preempted: its blocks are freed, its computed context stays as an evictable
//! cached prefix, and it goes back to the head of the queue to be recomputed (vLLM's recompute
//! preemption with prefix caching).
//!
//! **Epochs.** A plan fixes the batch for `k` iterations: until a prefill finishes, a sequence
//! completes, or KV growth would exceed the free blocks (found by bisection on the block count,
//! which is monotone in the iteration index). `k` is capped at one iteration in stepping mode.
//!
//! **Two sets.** The batch is kept as the sequences still prefilling, in admission order, and
//! the decoding ones in closed form ([`Decoding`]): an epoch costs work per prefilling
//! sequence and per completion, not per sequence in the batch. Every prefilling sequence was
//! admitted after every decoding one (prefills finish in admission order), so the two sets
//! are the batch in admission order, as vLLM's scheduler keeps it.

use std::collections::VecDeque;

use super::call::Call;
use super::decode::Decoding;
use super::epoch::Epoch;
use super::kv::{BLOCK_TOKENS, blocks};
use super::prefix::PrefixCache;
use crate::ledger::busy::BusyMeter;
use crate::ledger::rows::Ledger;
use std::sync::Arc;
use tokenfleet_engine::time::SimTime;
use tokenfleet_setup::Pool;

use tokenfleet_models::perf::{Admission, Scheduler};
use tokenfleet_models::power::ShareTable;

/// Where a replica is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaState {
    /// Serving and receiving calls.
    Active,
    /// Booting: paid for, not serving yet.
    Provisioning,
    /// Finishing its calls before shutting down; receives no new ones.
    Draining,
    /// Not provisioned, not paid for.
    Off,
}

/// KV blocks a call holds once its whole output is generated.
#[inline]
fn final_blocks(call: &Call) -> u64 {
    blocks(call.prompt as u64 + call.output as u64)
}

/// A sequence of the batch whose prompt is not all computed yet.
#[derive(Debug, Clone, Copy)]
struct Prefill {
    call: u32,
    /// Admission order in the replica.
    order: u64,
    /// Context tokens computed and resident.
    ctx: u64,
    prefill_left: u32,
    /// Output tokens still to produce.
    decode_left: u32,
    /// Prefill tokens per iteration in the current epoch (0: not prefilling this epoch).
    chunk: u32,
    /// KV blocks allocated (the whole prompt's, at admission).
    blocks: u64,
}

/// A replica of a pool.
#[derive(Debug, Clone)]
pub struct Replica {
    pub pool: u16,
    /// The pool's power curve, to turn each epoch's activity into energy.
    power: Arc<ShareTable>,
    pub state: ReplicaState,
    prefilling: Vec<Prefill>,
    decoding: Decoding,
    /// Admissions so far (orders the batch).
    admitted: u64,
    waiting: VecDeque<u32>,
    used_blocks: u64,
    /// Blocks the running sequences will hold when their outputs are complete: what an
    /// [`Admission::WholeRequest`] engine reserves.
    final_blocks: u64,
    epoch: Option<Epoch>,
    /// The current epoch runs prefills only ([`Scheduler::PrefillFirst`]).
    decode_paused: bool,
    /// Iterations of the current epoch after which the pending event fires.
    event_iters: u64,
    /// Bumped whenever the pending event is replaced; events carry it to detect staleness.
    pub version: u32,
    /// Waiting and KV levels were last posted to the ledger at this time.
    pub levels_since: SimTime,
    /// Provisioned (paid for) since this time, unless `Off`.
    pub on_since: SimTime,
    /// Busy time of the current hour, not yet posted.
    busy: BusyMeter,
}

impl Replica {
    pub fn new(pool: u16, state: ReplicaState, max_seqs: u32, power: Arc<ShareTable>) -> Replica {
        Replica {
            pool,
            power,
            state,
            prefilling: Vec::with_capacity(max_seqs as usize),
            decoding: Decoding::with_capacity(max_seqs as usize),
            admitted: 0,
            waiting: VecDeque::new(),
            used_blocks: 0,
            final_blocks: 0,
            epoch: None,
            decode_paused: false,
            event_iters: 0,
            version: 0,
            levels_since: SimTime::ZERO,
            on_since: SimTime::ZERO,
            busy: BusyMeter::default(),
        }
    }

    /// Calls running or waiting: the router's measure of load.
    #[inline]
    pub fn load(&self) -> usize {
        self.running() + self.waiting.len()
    }
    /// Sequences in the batch.
    #[inline]
    fn running(&self) -> usize {
        self.prefilling.len() + self.decoding.len()
    }
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }
    pub fn used_blocks(&self) -> u64 {
        self.used_blocks
    }
    pub fn is_idle(&self) -> bool {
        self.running() == 0 && self.waiting.is_empty()
    }
    pub fn is_iterating(&self) -> bool {
        self.epoch.is_some()
    }
    /// Ids of calls running or waiting.
    pub fn calls(&self) -> impl Iterator<Item = u32> + '_ {
        self.decoding
            .calls()
            .chain(self.prefilling.iter().map(|s| s.call))
            .chain(self.waiting.iter().copied())
    }

    pub fn enqueue(&mut self, id: u32) {
        self.waiting.push_back(id);
    }

    /// A call arrived while the replica iterates: it joins at the end of the iteration in
    /// progress. Returns the new event (time, version) if that comes before the pending one.
    pub fn wake_for_arrival(&mut self, now: SimTime) -> Option<(SimTime, u32)> {
        let e = self.epoch?;
        let k = e.done_by(now.ns()) + 1;
        if k < self.event_iters {
            self.event_iters = k;
            self.version = self.version.wrapping_add(1);
            Some((SimTime(e.end_ns(k)), self.version))
        } else {
            None
        }
    }

    /// Iterations the pending event completes.
    pub fn event_iters(&self) -> u64 {
        self.event_iters
    }

    /// Applies `k` iterations of the current epoch, ending at `now`; completed call ids are
    /// appended to `done`.
    pub fn advance(
        &mut self,
        k: u64,
        calls: &mut [Call],
        ledger: &mut Ledger,
        now: SimTime,
        done: &mut Vec<u32>,
    ) {
        let Some(e) = self.epoch.take() else { return };
        let active = e.active(k);
        self.post_busy(ledger, SimTime(e.start_ns), now, active);
        // Decoding sequences take their KV blocks token by token; the epoch ends at the first
        // completion at the latest.
        if !self.decode_paused {
            self.used_blocks += self.decoding.growth(k);
            self.decoding.advance(k);
            while let Some(s) = self.decoding.pop_done() {
                self.used_blocks -= blocks(s.ctx);
                self.final_blocks -= final_blocks(&calls[s.call as usize]);
                done.push(s.call);
            }
        }
        // Prefills finish in admission order: the finished ones are the first.
        let k32 = k as u32;
        let mut finished = 0;
        for s in self.prefilling.iter_mut() {
            if s.chunk == 0 {
                break;
            }
            let n = k32 * s.chunk;
            s.prefill_left -= n;
            s.ctx += n as u64;
            if s.prefill_left > 0 {
                break;
            }
            finished += 1;
        }
        for s in self.prefilling.drain(..finished) {
            // The last prefill iteration samples an output token.
            let c = &mut calls[s.call as usize];
            if c.first_token == SimTime::ZERO {
                c.first_token = now;
            }
            if s.decode_left == 1 {
                self.used_blocks -= s.blocks;
                self.final_blocks -= final_blocks(&calls[s.call as usize]);
                done.push(s.call);
            } else {
                // A whole prompt's blocks are exactly its context's.
                debug_assert_eq!(s.blocks, blocks(s.ctx));
                self.decoding
                    .insert(s.call, s.order, s.ctx, s.decode_left - 1);
            }
        }
        debug_assert_eq!(
            self.used_blocks,
            self.decoding.blocks() + self.prefilling.iter().map(|s| s.blocks).sum::<u64>(),
            "KV blocks held by the batch"
        );
    }

    /// Admits what fits and plans the next epoch from `now`; returns the milestone time, or
    /// `None` if the batch is empty.
    #[allow(clippy::too_many_arguments)]
    pub fn plan(
        &mut self,
        r: u32,
        pool: &Pool,
        prefix: &mut PrefixCache,
        calls: &mut [Call],
        ledger: &mut Ledger,
        now: SimTime,
        max_iters: u64,
    ) -> Option<SimTime> {
        let cap = pool.perf.kv_capacity_tokens / BLOCK_TOKENS;
        let watermark = cap / 100;
        prefix.expire(r, now, pool.retention);
        self.admit(r, pool, cap, watermark, prefix, calls, ledger, now);
        loop {
            if self.running() == 0 {
                self.epoch = None;
                return None;
            }
            let (k, cost_in) = self.compose(pool, max_iters);
            // KV growth over the epoch must fit in the blocks not used by running sequences
            // (retained prefixes are evicted as needed).
            if self.decode_paused {
                // Prefill chunks use blocks allocated at admission: nothing grows.
                return Some(self.start_epoch(pool, k, cost_in, now));
            }
            let free = cap - self.used_blocks;
            // A decoding sequence holds the blocks of its context, so `i` more tokens need at
            // most ceil(i / BLOCK_TOKENS) + 1 more blocks. When even that fits (KV not nearly
            // full) the exact growth cannot change anything and is not computed.
            let bound = self.decoding.len() as u64 * (k.div_ceil(BLOCK_TOKENS) + 1);
            debug_assert!(self.decoding.growth(k) <= bound);
            let mut k = k;
            if bound > free && self.decoding.growth(k) > free {
                let (mut lo, mut hi) = (0, k);
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if self.decoding.growth(mid) <= free {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                k = lo;
                if k == 0 {
                    debug_assert!(self.running() > 1, "one sequence always fits");
                    self.preempt_last(r, prefix, calls, ledger, now);
                    continue;
                }
            }
            let retained = prefix.retained(r);
            let g = if self.used_blocks + retained + bound <= cap {
                bound
            } else {
                self.decoding.growth(k)
            };
            while self.used_blocks + prefix.retained(r) + g > cap {
                if prefix.evict_lru(r, u32::MAX).is_none() {
                    break;
                }
            }
            return Some(self.start_epoch(pool, k, cost_in, now));
        }
    }

    /// Starts an epoch of `k` iterations of the composed batch; returns its end.
    #[allow(clippy::type_complexity)]
    fn start_epoch(
        &mut self,
        pool: &Pool,
        k: u64,
        cost_in: (u32, u32, u32, f64, f64, f64, f64),
        now: SimTime,
    ) -> SimTime {
        let (tokens, seqs, logits, pairs0, pairs_step, ctx0, ctx_step) = cost_in;
        let cost = pool.perf.iteration_cost(tokens, seqs, logits);
        let e = Epoch::new(now.ns(), k, &cost, pairs0, pairs_step, ctx0, ctx_step);
        self.epoch = Some(e);
        self.event_iters = k;
        self.version = self.version.wrapping_add(1);
        SimTime(e.end_ns(k))
    }

    #[allow(clippy::too_many_arguments)]
    fn admit(
        &mut self,
        r: u32,
        pool: &Pool,
        cap: u64,
        watermark: u64,
        prefix: &mut PrefixCache,
        calls: &mut [Call],
        ledger: &mut Ledger,
        now: SimTime,
    ) {
        while let Some(&id) = self.waiting.front() {
            if self.running() >= pool.max_seqs as usize {
                break;
            }
            let call = calls[id as usize];
            let total = call.prompt as u64 + call.generated as u64;
            // A preempted call finds its own computed context, if still cached.
            let reusable = if call.preemptions > 0 {
                total
            } else {
                call.reusable as u64
            };
            let own = prefix.resident(call.agent, r, now, pool.retention);
            let own_blocks = if own > 0 {
                prefix.blocks_on(call.agent, r)
            } else {
                0
            };
            let need = blocks(total);
            let reserve = if self.running() == 0 { 0 } else { watermark };
            // A whole-request engine counts the blocks every running sequence will hold at
            // the end of its output, and this request's too.
            let (whole, reserved, final_need) = (
                pool.admission == Admission::WholeRequest,
                self.final_blocks,
                // (A request longer than the whole cache is admitted alone on its prompt, as
                // under the prompt rule, rather than never.)
                final_blocks(&call).min(cap),
            );
            let fits = |used: u64, retained: u64| {
                let (held, want) = if whole {
                    (reserved.max(used), final_need)
                } else {
                    (used, need)
                };
                cap.saturating_sub(held + retained) + own_blocks >= want + reserve
            };
            while !fits(self.used_blocks, prefix.retained(r)) {
                if prefix.evict_lru(r, call.agent).is_none() {
                    break;
                }
            }
            if !fits(self.used_blocks, prefix.retained(r)) {
                break; // head-of-line blocking, as in vLLM's FCFS scheduler
            }
            // At least one prompt token is computed to produce logits.
            let hit = own.min(reusable).min(total - 1);
            if prefix.location(call.agent) == Some(r) {
                prefix.remove(call.agent);
            }
            self.waiting.pop_front();
            self.used_blocks += need;
            self.final_blocks += final_need;
            let c = &mut calls[id as usize];
            if c.preemptions == 0 {
                c.hit = hit as u32;
                ledger.started(self.pool as usize, now, now.saturating_sub(c.issued));
            }
            ledger.prefilled(self.pool as usize, now, total - hit);
            self.prefilling.push(Prefill {
                call: id,
                order: self.admitted,
                ctx: hit,
                prefill_left: (total - hit) as u32,
                decode_left: call.output - call.generated,
                chunk: 0,
                blocks: need,
            });
            self.admitted += 1;
        }
    }

    /// Preempts the most recently admitted sequence.
    fn preempt_last(
        &mut self,
        r: u32,
        prefix: &mut PrefixCache,
        calls: &mut [Call],
        ledger: &mut Ledger,
        now: SimTime,
    ) {
        // The prefilling sequences were all admitted after the decoding ones.
        let (call, ctx) = if let Some(v) = self.prefilling.pop() {
            self.used_blocks -= v.blocks;
            calls[v.call as usize].preemptions += 1;
            (v.call, v.ctx)
        } else {
            let v = self
                .decoding
                .remove_latest()
                .expect("a sequence to preempt");
            self.used_blocks -= blocks(v.ctx);
            let c = &mut calls[v.call as usize];
            c.preemptions += 1;
            c.generated = c.output - v.decode_left;
            (v.call, v.ctx)
        };
        let c = &calls[call as usize];
        self.final_blocks -= final_blocks(c);
        // The computed context stays cached (evictable) unless the agent's latest context is
        // cached elsewhere, which one entry per agent cannot also hold.
        if prefix.location(c.agent).is_none_or(|x| x == r) {
            prefix.insert(c.agent, r, ctx, now);
        }
        self.waiting.push_front(call);
        ledger.preempted(self.pool as usize, now);
    }

    /// Chooses this epoch's prefill chunks and iteration count; returns the count and the
    /// inputs of the cost model (tokens, seqs, logits, pairs and context at iteration 0 and
    /// their growth per iteration).
    #[allow(clippy::type_complexity)]
    fn compose(
        &mut self,
        pool: &Pool,
        max_iters: u64,
    ) -> (u64, (u32, u32, u32, f64, f64, f64, f64)) {
        // Under a prefill-first scheduler, pending prefills run in batches of their own and the
        // decoding sequences sit this epoch out.
        self.decode_paused =
            pool.scheduler == Scheduler::PrefillFirst && !self.prefilling.is_empty();
        let (n_decode, k_decode, ctx_decoding) = if self.decode_paused {
            (0, u64::MAX, 0.0)
        } else {
            // A decoding sequence attends once to each token of its context. (Every term
            // here is an integer far below 2^53, so the float sums are exact in any order.)
            (
                self.decoding.len() as u64,
                self.decoding.until_first_done(),
                self.decoding.ctx_sum() as f64,
            )
        };
        let mut budget = pool.max_batch_tokens as u64 - n_decode;
        let mut k_prefill = u64::MAX;
        let (mut pairs0, mut pairs_step, mut ctx0, mut ctx_step) =
            (ctx_decoding, 0.0, ctx_decoding, 0.0);
        let (mut tokens, mut seqs, mut logits) = (n_decode, n_decode, n_decode);
        let mut first_prefill = true;
        for s in self.prefilling.iter_mut() {
            s.chunk = 0;
            if budget == 0 {
                continue;
            }
            let left = s.prefill_left as u64;
            if first_prefill && left >= budget {
                // A long prefill takes whole chunks until less than a chunk is left; nothing
                // else prefills meanwhile.
                s.chunk = budget as u32;
                k_prefill = left / budget;
            } else {
                // Short prefills are packed into one iteration.
                s.chunk = left.min(budget) as u32;
                k_prefill = 1;
            }
            first_prefill = false;
            budget -= s.chunk as u64;
            let c = s.chunk as f64;
            tokens += s.chunk as u64;
            seqs += 1;
            logits += 1;
            pairs0 += c * s.ctx as f64 + c * (c + 1.0) / 2.0;
            pairs_step += c * c;
            ctx0 += s.ctx as f64;
            ctx_step += c;
        }
        pairs_step += n_decode as f64;
        ctx_step += n_decode as f64;
        let k = k_prefill.min(k_decode).min(max_iters).max(1);
        (
            k,
            (
                tokens as u32,
                seqs as u32,
                logits as u32,
                pairs0,
                pairs_step,
                ctx0,
                ctx_step,
            ),
        )
    }

    /// Posts the busy time summed but not yet posted (at the end of a run).
    pub fn flush_busy(&mut self, ledger: &mut Ledger) {
        self.busy.flush(ledger, self.pool as usize);
    }

    /// Ends the run at `horizon`: posts the busy time of the iteration in progress.
    pub fn finish(&mut self, horizon: SimTime, ledger: &mut Ledger) {
        if let Some(e) = self.epoch.take() {
            let k = e.done_by(horizon.ns());
            // The iteration in progress at the horizon counts in proportion.
            let (t0, t1) = (e.end_ns(k) as f64, e.end_ns(k + 1) as f64);
            let frac = if t1 > t0 {
                ((horizon.ns() as f64 - t0) / (t1 - t0)).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let active = e.active(k) + frac * (e.active(k + 1) - e.active(k));
            self.post_busy(ledger, SimTime(e.start_ns), horizon, active);
        }
    }

    /// Posts an epoch's iterating time, its roofline-bound part and its power: the curve is
    /// applied to the epoch's mean activity (its iterations share one batch, so their
    /// activities differ only by their growing contexts).
    fn post_busy(&mut self, ledger: &mut Ledger, from: SimTime, to: SimTime, active_s: f64) {
        let elapsed = to.saturating_sub(from).secs();
        let powered_s = if elapsed > 0.0 {
            elapsed * self.power.share(active_s / elapsed)
        } else {
            0.0
        };
        self.busy
            .add(ledger, self.pool as usize, from, to, active_s, powered_s);
    }
}
