//! Random streams: one independent generator per (seed, subsystem, entity id).
//!
//! Why streams instead of one generator: adding an agent or a replica must not shift everybody
//! else's draws, two router policies must see identical demand (common random numbers), and a
//! cell must draw the same numbers whichever thread or shard runs it. The generator is
//! Xoshiro256++ (fast, `Clone`, fully specified, so identical on every platform and version);
//! its 256-bit state is filled by SplitMix64 from a hash of the triple, written out here rather
//! than taken from a library default that could change.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator every stream uses.
pub type SimRng = Xoshiro256PlusPlus;

/// The subsystems that draw random numbers; each has its own streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Subsystem {
    /// An agent's daily budget and fixed traits.
    AgentTraits = 1,
    /// An agent's task schedule for the day.
    AgentDay = 2,
    /// An agent's loop: token counts, gaps.
    AgentLoop = 3,
    /// Which cells a sampled run simulates.
    CellSample = 4,
    /// Which calls are written to the call sample.
    CallSample = 5,
    /// Randomized routing (power of two choices) in a cell.
    Router = 6,
    /// Uncertain scenario inputs drawn per sweep seed.
    Sweep = 7,
    /// A sub-agent's loop: its size, token counts, gaps.
    SubAgent = 8,
    /// Trace replay: the start shift and jitter of each copy of a trace.
    TraceCopy = 9,
    /// A serving benchmark's client latency per request (`tokenfleet perf`, calibration).
    BenchClient = 10,
    /// Which of a huge trace's values `tokenfleet fit` keeps to fit.
    FitSample = 11,
}

/// SplitMix64's output function (Steele, Lea, Flood 2014).
#[inline]
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A well-mixed 64-bit hash of (seed, subsystem, id).
#[inline]
pub fn hash3(seed: u64, sub: Subsystem, id: u64) -> u64 {
    splitmix64(splitmix64(splitmix64(seed) ^ sub as u64) ^ id)
}

/// The generator of stream (seed, subsystem, id).
pub fn stream(seed: u64, sub: Subsystem, id: u64) -> SimRng {
    let mut x = hash3(seed, sub, id);
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_exact_mut(8) {
        x = splitmix64(x);
        chunk.copy_from_slice(&x.to_le_bytes());
    }
    SimRng::from_seed(bytes)
}

/// A uniform in [0, 1) derived from a hash (for one-off deterministic decisions).
#[inline]
pub fn hash_unit(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(1, Subsystem::AgentLoop, 7), |r, _| {
                Some(r.next_u64())
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(1, Subsystem::AgentLoop, 7), |r, _| {
                Some(r.next_u64())
            })
            .collect();
        let c: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(1, Subsystem::AgentLoop, 8), |r, _| {
                Some(r.next_u64())
            })
            .collect();
        let d: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(stream(1, Subsystem::AgentDay, 7), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    /// Pins the generator's output so that a dependency upgrade that changed it would be seen.
    #[test]
    fn stream_output_is_pinned() {
        let mut r = stream(42, Subsystem::AgentTraits, 0);
        let first = r.next_u64();
        assert_eq!(first, 17_274_577_063_177_634_114);
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
    }
}
