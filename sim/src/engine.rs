//! The event queue: events ordered by (time, sequence number).
//!
//! Ties in time are broken by the order in which events were scheduled, never by float time or
//! by memory layout, so a run is a pure function of its inputs. Events are a small `Copy` enum
//! of ids (see `cell::Event`); all state lives in vectors indexed by those ids.
//!
//! Scheduling in the past is a bug in a handler: it is counted (and the event clamped to now so
//! that time never runs backwards) and a test asserts the count stays zero.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::time::SimTime;

/// The order key is (time, seq) packed in one integer: one branch-free comparison per heap
/// level instead of two dependent ones (the heap's sift is the engine's hottest loop).
struct Entry<E> {
    key: u128,
    event: E,
}

impl<E> Entry<E> {
    #[inline]
    fn time(&self) -> SimTime {
        SimTime((self.key >> 64) as u64)
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that the max-heap pops the earliest (time, seq) first.
    fn cmp(&self, o: &Self) -> Ordering {
        o.key.cmp(&self.key)
    }
}

/// Which of the queue's heaps an event goes to. The order of events does not depend on it: the
/// heaps share one sequence counter and `pop` takes the earliest (time, seq) of their tops.
/// Lanes keep each heap small, and a pop's cost grows with the depth of its heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Most events (an agent's next call after its tool gap: one per busy agent).
    Main = 0,
    /// Frequent, short-lived events of a few entities (a replica's next batch milestone, often
    /// superseded before it fires). Kept apart so that they are pushed and popped in a heap of
    /// a few entries instead of one of thousands (docs/performance.md).
    Fast = 1,
    /// Rare events far ahead (an idle agent's next task, hours away): one per agent, so they
    /// would otherwise make the main heap several levels deeper for the few times they fire.
    Slow = 2,
}

const LANES: usize = 3;

/// A future-event list with a clock.
pub struct EventQueue<E> {
    heaps: [BinaryHeap<Entry<E>>; LANES],
    seq: u64,
    now: SimTime,
    processed: u64,
    past_schedules: u64,
}

impl<E> EventQueue<E> {
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heaps: [
                BinaryHeap::with_capacity(n),
                BinaryHeap::with_capacity(64),
                BinaryHeap::with_capacity(n),
            ],
            seq: 0,
            now: SimTime::ZERO,
            processed: 0,
            past_schedules: 0,
        }
    }

    /// The current simulated time (the time of the last event popped).
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `time`; a time in the past is counted and clamped to now.
    #[inline]
    pub fn schedule(&mut self, time: SimTime, event: E) {
        self.schedule_in(Lane::Main, time, event);
    }

    /// Schedules `event` at `time` in `lane` (same order as [`EventQueue::schedule`]).
    #[inline]
    pub fn schedule_in(&mut self, lane: Lane, time: SimTime, event: E) {
        let time = if time < self.now {
            self.past_schedules += 1;
            debug_assert!(
                false,
                "event scheduled in the past: {time:?} < {:?}",
                self.now
            );
            self.now
        } else {
            time
        };
        let entry = Entry {
            key: (time.0 as u128) << 64 | self.seq as u128,
            event,
        };
        self.heaps[lane as usize].push(entry);
        self.seq += 1;
    }

    /// The lane whose top is the next event, if any (the max-heaps' order is reversed).
    #[inline]
    fn next_lane(&self) -> Option<usize> {
        let mut best: Option<(usize, &Entry<E>)> = None;
        for (i, h) in self.heaps.iter().enumerate() {
            if let Some(top) = h.peek()
                && best.is_none_or(|(_, b)| top > b)
            {
                best = Some((i, top));
            }
        }
        best.map(|(i, _)| i)
    }

    /// Time of the next event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heaps
            .iter()
            .filter_map(|h| h.peek().map(|e| e.time()))
            .min()
    }

    /// Removes the next event and advances the clock to it.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.pop_before(SimTime(u64::MAX))
    }

    /// Removes the next event if it comes before `horizon`, and advances the clock to it.
    #[inline]
    pub fn pop_before(&mut self, horizon: SimTime) -> Option<(SimTime, E)> {
        let lane = self.next_lane()?;
        if self.heaps[lane].peek().is_some_and(|e| e.time() >= horizon) {
            return None;
        }
        let e = self.heaps[lane].pop()?;
        let time = e.time();
        debug_assert!(time >= self.now);
        self.now = time;
        self.processed += 1;
        Some((time, e.event))
    }

    /// Advances the clock without an event (to the end of the horizon).
    pub fn advance_to(&mut self, t: SimTime) {
        if t > self.now {
            self.now = t;
        }
    }

    pub fn len(&self) -> usize {
        self.heaps.iter().map(|h| h.len()).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.heaps.iter().all(|h| h.is_empty())
    }
    /// Events popped so far.
    pub fn processed(&self) -> u64 {
        self.processed
    }
    /// Attempts to schedule an event before the current time (must stay zero).
    pub fn past_schedules(&self) -> u64 {
        self.past_schedules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_time_then_schedule_order() {
        let mut q = EventQueue::with_capacity(8);
        q.schedule(SimTime(5), 'a');
        q.schedule(SimTime(3), 'b');
        q.schedule(SimTime(5), 'c');
        q.schedule(SimTime(3), 'd');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['b', 'd', 'a', 'c']);
        assert_eq!(q.processed(), 4);
    }

    #[test]
    fn lanes_do_not_change_the_order() {
        // The same schedule in one lane and spread over three pops in the same order.
        let times = [7u64, 3, 7, 1, 3, 9, 1, 7];
        let mut one = EventQueue::with_capacity(8);
        let mut two = EventQueue::with_capacity(8);
        for (i, &t) in times.iter().enumerate() {
            one.schedule(SimTime(t), i);
            let lane = [Lane::Fast, Lane::Main, Lane::Slow][i % 3];
            two.schedule_in(lane, SimTime(t), i);
        }
        assert_eq!(one.peek_time(), two.peek_time());
        let a: Vec<_> = std::iter::from_fn(|| one.pop()).collect();
        let b: Vec<_> = std::iter::from_fn(|| two.pop()).collect();
        assert_eq!(a, b);
        assert!(two.is_empty());
    }

    #[test]
    #[cfg(not(debug_assertions))]
    fn past_schedules_are_counted_and_clamped() {
        let mut q = EventQueue::with_capacity(8);
        q.schedule(SimTime(10), 1);
        q.pop();
        q.schedule(SimTime(4), 2);
        assert_eq!(q.past_schedules(), 1);
        assert_eq!(q.pop(), Some((SimTime(10), 2)));
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "in the past")]
    fn past_schedules_panic_in_debug_builds() {
        let mut q = EventQueue::with_capacity(8);
        q.schedule(SimTime(10), 1);
        q.pop();
        q.schedule(SimTime(4), 2);
    }
}
