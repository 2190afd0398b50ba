//! Prefix cache: which agent's context is resident on which replica.
//!
//! After a call completes, the replica keeps the agent's whole context (prompt and answer) in
//! KV blocks that are free to be reused: it costs no admission capacity, but it is evicted,
//! least recently used first, when an admission needs the room, and it expires after the
//! pool's retention time. The agent's next call that lands on the same replica skips prefill
//! for the part of its prompt that matches (a hit); elsewhere it recomputes everything.
//!
//! One entry per agent, on at most one replica (its latest context): a real engine may still
//! hold an older copy on another replica until it is evicted, which this model forgets
//! (slightly fewer hits after a routing change). Entries form an intrusive doubly linked list
//! per replica, so every operation is O(1) and allocation-free.

use super::kv::blocks;
use tokenfleet_engine::time::SimTime;

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Entry {
    replica: u32,
    tokens: u64,
    last_use: SimTime,
    prev: u32,
    next: u32,
}

#[derive(Debug, Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

/// Per-replica LRU lists of agents' resident contexts.
#[derive(Debug, Clone)]
pub struct PrefixCache {
    entries: Vec<Entry>,
    lists: Vec<List>,
    retained: Vec<u64>,
}

impl PrefixCache {
    pub fn new(agents: usize, replicas: usize) -> PrefixCache {
        PrefixCache {
            entries: vec![
                Entry {
                    replica: NONE,
                    tokens: 0,
                    last_use: SimTime::ZERO,
                    prev: NONE,
                    next: NONE,
                };
                agents
            ],
            lists: vec![
                List {
                    head: NONE,
                    tail: NONE
                };
                replicas
            ],
            retained: vec![0; replicas],
        }
    }

    /// KV blocks held by retained contexts on `replica`.
    #[inline]
    pub fn retained(&self, replica: u32) -> u64 {
        self.retained[replica as usize]
    }

    /// KV blocks of `agent`'s entry if it is on `replica`.
    #[inline]
    pub fn blocks_on(&self, agent: u32, replica: u32) -> u64 {
        let e = &self.entries[agent as usize];
        if e.replica == replica {
            blocks(e.tokens)
        } else {
            0
        }
    }

    /// The replica holding `agent`'s context, if it has not expired.
    #[inline]
    pub fn replica_of(&self, agent: u32, now: SimTime, retention: SimTime) -> Option<u32> {
        let e = &self.entries[agent as usize];
        (e.replica != NONE && now.saturating_sub(e.last_use) <= retention).then_some(e.replica)
    }

    /// Tokens of `agent`'s context resident on `replica` (0 if elsewhere or expired).
    #[inline]
    pub fn resident(&self, agent: u32, replica: u32, now: SimTime, retention: SimTime) -> u64 {
        let e = &self.entries[agent as usize];
        if e.replica == replica && now.saturating_sub(e.last_use) <= retention {
            e.tokens
        } else {
            0
        }
    }

    /// Where `agent`'s entry is (expired or not).
    #[inline]
    pub fn location(&self, agent: u32) -> Option<u32> {
        let r = self.entries[agent as usize].replica;
        (r != NONE).then_some(r)
    }

    /// Removes `agent`'s entry; returns the KV blocks it held.
    pub fn remove(&mut self, agent: u32) -> u64 {
        let e = self.entries[agent as usize];
        if e.replica == NONE {
            return 0;
        }
        let r = e.replica as usize;
        if e.prev != NONE {
            self.entries[e.prev as usize].next = e.next;
        } else {
            self.lists[r].head = e.next;
        }
        if e.next != NONE {
            self.entries[e.next as usize].prev = e.prev;
        } else {
            self.lists[r].tail = e.prev;
        }
        self.retained[r] -= blocks(e.tokens);
        let slot = &mut self.entries[agent as usize];
        slot.replica = NONE;
        slot.prev = NONE;
        slot.next = NONE;
        slot.tokens = 0;
        blocks(e.tokens)
    }

    /// Makes `agent`'s context of `tokens` resident on `replica` (most recently used).
    pub fn insert(&mut self, agent: u32, replica: u32, tokens: u64, now: SimTime) {
        self.remove(agent);
        let r = replica as usize;
        let tail = self.lists[r].tail;
        {
            let e = &mut self.entries[agent as usize];
            e.replica = replica;
            e.tokens = tokens;
            e.last_use = now;
            e.prev = tail;
            e.next = NONE;
        }
        if tail != NONE {
            self.entries[tail as usize].next = agent;
        } else {
            self.lists[r].head = agent;
        }
        self.lists[r].tail = agent;
        self.retained[r] += blocks(tokens);
    }

    /// Evicts the least recently used entry of `replica` other than `keep`; returns the blocks
    /// freed, or `None` if there is nothing to evict.
    pub fn evict_lru(&mut self, replica: u32, keep: u32) -> Option<u64> {
        let mut a = self.lists[replica as usize].head;
        if a == keep {
            a = self.entries[keep as usize].next;
        }
        (a != NONE).then(|| self.remove(a))
    }

    /// Drops every entry of `replica` (it is shut down).
    pub fn clear(&mut self, replica: u32) {
        while self.lists[replica as usize].head != NONE {
            let a = self.lists[replica as usize].head;
            self.remove(a);
        }
    }

    /// Drops the entries of `replica` unused for longer than `retention`.
    pub fn expire(&mut self, replica: u32, now: SimTime, retention: SimTime) {
        loop {
            let a = self.lists[replica as usize].head;
            if a == NONE || now.saturating_sub(self.entries[a as usize].last_use) <= retention {
                return;
            }
            self.remove(a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_order_eviction_and_accounting() {
        let mut p = PrefixCache::new(4, 2);
        let t = SimTime::from_secs;
        // Retained contexts occupy whole 16-token blocks.
        p.insert(0, 0, 100, t(1.0));
        p.insert(1, 0, 200, t(2.0));
        p.insert(2, 1, 50, t(3.0));
        assert_eq!(p.retained(0), 7 + 13);
        // Agent 0 moves to replica 1: its old copy goes.
        p.insert(0, 1, 150, t(4.0));
        assert_eq!((p.retained(0), p.retained(1)), (13, 4 + 10));
        // LRU on replica 1 is agent 2, unless it is the one being admitted.
        assert_eq!(p.evict_lru(1, 2), Some(10));
        assert_eq!(p.evict_lru(1, 3), Some(4));
        assert_eq!(p.evict_lru(1, 3), None);
        assert_eq!(p.resident(1, 0, t(5.0), t(10.0)), 200);
        assert_eq!(p.resident(1, 0, t(50.0), t(10.0)), 0, "expired");
        p.expire(0, t(50.0), t(10.0));
        assert_eq!(p.retained(0), 0);
        p.insert(3, 1, 64, t(60.0));
        p.clear(1);
        assert_eq!(p.retained(1), 0);
        assert_eq!(p.location(3), None);
    }
}
