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

struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, o: &Self) -> bool {
        self.time == o.time && self.seq == o.seq
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
        (o.time, o.seq).cmp(&(self.time, self.seq))
    }
}

/// A future-event list with a clock.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    seq: u64,
    now: SimTime,
    processed: u64,
    past_schedules: u64,
}

impl<E> EventQueue<E> {
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(n),
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
        self.heap.push(Entry {
            time,
            seq: self.seq,
            event,
        });
        self.seq += 1;
    }

    /// Time of the next event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.time)
    }

    /// Removes the next event and advances the clock to it.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let e = self.heap.pop()?;
        debug_assert!(e.time >= self.now);
        self.now = e.time;
        self.processed += 1;
        Some((e.time, e.event))
    }

    /// Advances the clock without an event (to the end of the horizon).
    pub fn advance_to(&mut self, t: SimTime) {
        if t > self.now {
            self.now = t;
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
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
