//! The event queue: events ordered by (time, sequence number).
//!
//! Ties in time are broken by the order in which events were scheduled, never by float time or
//! by memory layout, so a run is a pure function of its inputs. Events are a small `Copy` enum
//! of ids (see `cell::Event`); all state lives in vectors indexed by those ids.
//!
//! Scheduling in the past is a bug in a handler: it is counted (and the event clamped to now so
//! that time never runs backwards) and a test asserts the count stays zero.

use crate::time::SimTime;

/// The order key is (time, seq) packed in one integer: one branch-free comparison per heap
/// level instead of two dependent ones (the heap's sift is the engine's hottest loop).
#[derive(Clone, Copy)]
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

/// A binary min-heap of entries with unique keys.
///
/// Not `std::collections::BinaryHeap` because its `push` writes the new entry at the end and
/// reads it straight back to sift it up; with an entry stored in parts that read cannot be
/// forwarded from the store and stalls (profiled in docs/performance.md). Here a new entry is
/// kept in registers while its parents move down, and written once where it belongs; `pop`
/// walks the hole to the bottom along the smaller children and lifts the last entry from
/// there, as std does. Keys are unique, so the pop order is the same as any correct heap's.
struct MinHeap<E> {
    v: Vec<Entry<E>>,
}

impl<E: Copy> MinHeap<E> {
    fn with_capacity(n: usize) -> Self {
        MinHeap {
            v: Vec::with_capacity(n),
        }
    }

    #[inline]
    fn peek(&self) -> Option<&Entry<E>> {
        self.v.first()
    }

    #[inline]
    fn len(&self) -> usize {
        self.v.len()
    }

    #[inline]
    fn push(&mut self, e: Entry<E>) {
        let i = self.v.len();
        self.v.push(e);
        // SAFETY: `i` is below the length, i + 1.
        unsafe { Self::lift(self.v.as_mut_ptr(), i, e) }
    }

    /// Moves parents of the hole at `i` down while they come after `e`, then writes `e`.
    ///
    /// # Safety
    /// `i` and its ancestors must be indices of `v`'s initialized entries.
    #[inline]
    unsafe fn lift(v: *mut Entry<E>, mut i: usize, e: Entry<E>) {
        unsafe {
            while i > 0 {
                let p = (i - 1) / 2;
                let parent = *v.add(p);
                if parent.key <= e.key {
                    break;
                }
                *v.add(i) = parent;
                i = p;
            }
            *v.add(i) = e;
        }
    }

    #[inline]
    fn pop(&mut self) -> Option<Entry<E>> {
        let last = self.v.pop()?;
        let n = self.v.len();
        if n == 0 {
            return Some(last);
        }
        let v = self.v.as_mut_ptr();
        // SAFETY: every index read or written is below `n`, the length.
        unsafe {
            let top = *v;
            // Down to the bottom along the smaller children...
            let mut i = 0;
            let mut c = 1;
            while c + 1 < n {
                c += ((*v.add(c + 1)).key < (*v.add(c)).key) as usize;
                *v.add(i) = *v.add(c);
                i = c;
                c = 2 * i + 1;
            }
            if c < n {
                *v.add(i) = *v.add(c);
                i = c;
            }
            // ... then up to where the last entry belongs (rarely far).
            Self::lift(v, i, last);
            Some(top)
        }
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
    heaps: [MinHeap<E>; LANES],
    seq: u64,
    now: SimTime,
    processed: u64,
    past_schedules: u64,
}

impl<E: Copy> EventQueue<E> {
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heaps: [
                MinHeap::with_capacity(n),
                MinHeap::with_capacity(64),
                MinHeap::with_capacity(n),
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

    /// The lane whose top is the next event, if any.
    #[inline]
    fn next_lane(&self) -> Option<usize> {
        let mut best: Option<(usize, u128)> = None;
        for (i, h) in self.heaps.iter().enumerate() {
            if let Some(top) = h.peek()
                && best.is_none_or(|(_, b)| top.key < b)
            {
                best = Some((i, top.key));
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
        self.heaps.iter().all(|h| h.len() == 0)
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
    fn the_heap_pops_what_a_sorted_list_pops() {
        // Interleaved pushes and pops with many equal times: the order must be exactly
        // (time, schedule order), as a stable sort of what was pushed gives it.
        let mut q = EventQueue::with_capacity(4);
        let mut pending: Vec<(u64, u64)> = Vec::new(); // (time, id)
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut id = 0u64;
        let mut now = 0u64;
        for round in 0..20_000 {
            if next() % 3 != 0 || pending.is_empty() {
                let t = now + next() % 50;
                let lane = [Lane::Main, Lane::Fast, Lane::Slow][(next() % 3) as usize];
                q.schedule_in(lane, SimTime(t), id);
                pending.push((t, id));
                id += 1;
            } else {
                let i = (0..pending.len()).min_by_key(|&i| pending[i]).unwrap();
                let want = pending.remove(i);
                let got = q.pop().unwrap();
                assert_eq!(got, (SimTime(want.0), want.1), "round {round}");
                now = want.0;
            }
        }
        assert_eq!(q.len(), pending.len());
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
