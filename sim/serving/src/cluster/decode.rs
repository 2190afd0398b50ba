//! The decoding part of a replica's batch, in closed form.
//!
//! Every decoding sequence gains exactly one token per iteration, so updating each sequence
//! after every epoch, and summing their contexts before the next, is work per sequence per
//! event that carries no information. [`Decoding`] keeps a clock instead (iterations decoded
//! so far) and each sequence's context relative to it, so that an epoch of `k` iterations is
//! `clock += k`. What a plan needs is kept as aggregates:
//!
//! - the context sum (`base_sum + n x clock`, in wrapping integers: the true value is far
//!   below 2^64, so it comes out exact);
//! - the first completion, with the sequences ordered by the clock at which they complete;
//! - the KV blocks `i` more iterations take: a sequence with context `c` takes a new block at
//!   every token that lands on a block boundary, so over `i` iterations it takes
//!   `i / 16 + [(-c mod 16) < i mod 16]`; counting the sequences by `c mod 16` makes that sum
//!   16 terms whatever the batch size.
//!
//! Sequences completing at the same iteration come out in the order they were admitted, as
//! they would from a batch scanned in admission order, so the run's event order and outputs
//! are those of the per-sequence update it replaces (checked in `tests` against it).

use super::kv::{BLOCK_TOKENS, blocks};

/// A decoding sequence: context `base + clock`, output complete when the clock reaches `end`.
#[derive(Debug, Clone, Copy)]
struct Seq {
    call: u32,
    /// Admission order in the replica (ties between completions go by it).
    order: u64,
    base: u64,
    end: u64,
}

impl Seq {
    #[inline]
    fn key(&self) -> (u64, u64) {
        (self.end, self.order)
    }
}

/// The decoding sequences of a replica's batch.
#[derive(Debug, Clone)]
pub struct Decoding {
    clock: u64,
    /// Sorted by (end, order), descending: the next to complete is last.
    seqs: Vec<Seq>,
    /// Sum of `base` (wrapping).
    base_sum: u64,
    /// Sequences by `base mod 16`.
    residues: [u32; BLOCK_TOKENS as usize],
}

/// A sequence leaving the set: its call, context and output tokens still to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leaving {
    pub call: u32,
    pub ctx: u64,
    pub decode_left: u32,
}

impl Decoding {
    pub fn with_capacity(n: usize) -> Decoding {
        Decoding {
            clock: 0,
            seqs: Vec::with_capacity(n),
            base_sum: 0,
            residues: [0; BLOCK_TOKENS as usize],
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.seqs.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.seqs.is_empty()
    }

    #[inline]
    fn residue(base: u64) -> usize {
        (base % BLOCK_TOKENS) as usize
    }

    /// Adds a sequence with context `ctx` and `decode_left` (at least 1) tokens to produce.
    pub fn insert(&mut self, call: u32, order: u64, ctx: u64, decode_left: u32) {
        debug_assert!(decode_left > 0);
        let s = Seq {
            call,
            order,
            base: ctx.wrapping_sub(self.clock),
            end: self.clock + decode_left as u64,
        };
        let at = self.seqs.partition_point(|x| x.key() > s.key());
        self.seqs.insert(at, s);
        self.base_sum = self.base_sum.wrapping_add(s.base);
        self.residues[Self::residue(s.base)] += 1;
    }

    fn take(&mut self, at: usize) -> Leaving {
        let s = self.seqs.remove(at);
        self.base_sum = self.base_sum.wrapping_sub(s.base);
        self.residues[Self::residue(s.base)] -= 1;
        Leaving {
            call: s.call,
            ctx: s.base.wrapping_add(self.clock),
            decode_left: (s.end - self.clock) as u32,
        }
    }

    /// The sum of the sequences' contexts.
    #[inline]
    pub fn ctx_sum(&self) -> u64 {
        self.base_sum
            .wrapping_add((self.seqs.len() as u64).wrapping_mul(self.clock))
    }

    /// Iterations until the first completion (`u64::MAX` if none).
    #[inline]
    pub fn until_first_done(&self) -> u64 {
        self.seqs.last().map_or(u64::MAX, |s| s.end - self.clock)
    }

    /// KV blocks the sequences take beyond their current ones after `i` more iterations.
    #[inline]
    pub fn growth(&self, i: u64) -> u64 {
        let whole = self.seqs.len() as u64 * (i / BLOCK_TOKENS);
        let part = (i % BLOCK_TOKENS) as usize;
        if part == 0 {
            return whole;
        }
        // A sequence with context c takes its next block after (-c mod 16) tokens.
        let shift = self.clock % BLOCK_TOKENS;
        let mut n = 0u64;
        for (rho, &count) in self.residues.iter().enumerate() {
            let first = (rho as u64 + shift).wrapping_neg() % BLOCK_TOKENS;
            n += count as u64 * ((first as usize) < part) as u64;
        }
        whole + n
    }

    /// Decodes `k` iterations (no more than until the first completion).
    #[inline]
    pub fn advance(&mut self, k: u64) {
        debug_assert!(k <= self.until_first_done());
        self.clock += k;
    }

    /// Removes a sequence whose output is complete, if any: in admission order.
    #[inline]
    pub fn pop_done(&mut self) -> Option<Leaving> {
        match self.seqs.last() {
            Some(s) if s.end == self.clock => Some(self.take(self.seqs.len() - 1)),
            _ => None,
        }
    }

    /// Removes the most recently admitted sequence (to preempt it).
    pub fn remove_latest(&mut self) -> Option<Leaving> {
        let at = (0..self.seqs.len()).max_by_key(|&i| self.seqs[i].order)?;
        Some(self.take(at))
    }

    /// Ids of the sequences' calls.
    pub fn calls(&self) -> impl Iterator<Item = u32> + '_ {
        self.seqs.iter().map(|s| s.call)
    }

    /// KV blocks the sequences hold (a decoding sequence holds the blocks of its context).
    pub fn blocks(&self) -> u64 {
        self.seqs
            .iter()
            .map(|s| blocks(s.base.wrapping_add(self.clock)))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-sequence bookkeeping the set replaces: (call, order, ctx, decode_left), in
    /// admission order.
    #[derive(Default)]
    struct Reference {
        seqs: Vec<(u32, u64, u64, u32)>,
    }

    impl Reference {
        fn growth(&self, i: u64) -> u64 {
            self.seqs
                .iter()
                .map(|s| blocks(s.2 + i) - blocks(s.2))
                .sum()
        }
        fn advance(&mut self, k: u64) -> Vec<Leaving> {
            for s in &mut self.seqs {
                s.2 += k;
                s.3 -= k as u32;
            }
            let done = self
                .seqs
                .iter()
                .filter(|s| s.3 == 0)
                .map(|s| Leaving {
                    call: s.0,
                    ctx: s.2,
                    decode_left: 0,
                })
                .collect();
            self.seqs.retain(|s| s.3 > 0);
            done
        }
    }

    #[test]
    fn matches_updating_every_sequence() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut set = Decoding::with_capacity(64);
        let mut reference = Reference::default();
        let mut order = 0;
        let mut completions = 0;
        for round in 0..20_000 {
            // Admissions (some completing together), the odd preemption, then an epoch.
            for _ in 0..next(3) {
                if set.len() < 64 {
                    let (ctx, left) = (1 + next(40_000), 1 + next(300) as u32);
                    set.insert(order as u32, order, ctx, left);
                    reference.seqs.push((order as u32, order, ctx, left));
                    order += 1;
                }
            }
            if round % 97 == 0
                && let Some(l) = set.remove_latest()
            {
                let r = reference.seqs.pop().expect("same sequences");
                assert_eq!((l.call, l.ctx, l.decode_left), (r.0, r.2, r.3));
            }
            let ctx: u64 = reference.seqs.iter().map(|s| s.2).sum();
            assert_eq!(set.ctx_sum(), ctx);
            assert_eq!(set.len(), reference.seqs.len());
            let held: u64 = reference.seqs.iter().map(|s| blocks(s.2)).sum();
            assert_eq!(set.blocks(), held);
            let first = reference.seqs.iter().map(|s| s.3 as u64).min();
            assert_eq!(set.until_first_done(), first.unwrap_or(u64::MAX));
            let Some(first) = first else { continue };
            for i in [0, 1, 15, 16, 17, 31, 33, next(first + 1), first] {
                assert_eq!(set.growth(i), reference.growth(i), "growth over {i}");
            }
            // An epoch ends at the first completion or before it.
            let k = if next(2) == 0 { first } else { 1 + next(first) };
            set.advance(k);
            let mut done = Vec::new();
            while let Some(l) = set.pop_done() {
                done.push(l);
            }
            let want = reference.advance(k);
            completions += want.len();
            assert_eq!(done, want, "round {round}");
        }
        assert!(completions > 10_000, "{completions} completions");
    }
}
