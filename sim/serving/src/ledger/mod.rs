//! The ledger: every call and every replica-interval, posted per (pool, hour).
//!
//! Everything here is an integer (tokens, nanoseconds, pico-dollars, histogram counts), so
//! merging two ledgers is exact and order-free: cells can be merged in any order, on any thread
//! count or shard split, and give the same bytes. Costs and energy are not posted as money
//! while simulating; they are priced at the end from the integer replica-time counters (see
//! [`PoolHourCost`]), which is the same sum over device-intervals done once.
//!
//! [`pool_hour`] is one row, [`rows`] the table of them and what is posted to it, [`busy`]
//! the meter that sums a replica's busy time within an hour, and [`cost`] the price of a row.

pub mod busy;
pub mod cost;
pub mod pool_hour;
pub mod rows;

pub use busy::BusyMeter;
pub use cost::PoolHourCost;
pub use pool_hour::PoolHour;
pub use rows::{CompletedCall, HOUR_NS, Ledger, Levels};
