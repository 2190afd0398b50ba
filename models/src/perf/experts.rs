//! Mixture-of-experts routing: how many distinct experts a batch of tokens touches, which
//! decides how many expert weights an iteration streams from memory.

use std::sync::Arc;

pub(super) fn experts_touched(experts: f64, active: f64, tokens: f64) -> f64 {
    if experts == 0.0 {
        return 0.0;
    }
    experts * (1.0 - (1.0 - active / experts).powf(tokens))
}

/// [`ReplicaPerf::experts_touched`](crate::perf::ReplicaPerf::experts_touched) for every
/// token count an iteration of the default token budget can have, computed once: `powf` per
/// iteration plan was a tenth of the simulator's time on MoE models (docs/performance.md). The
/// values are the same `powf` results, so simulations are unchanged; larger counts fall back
/// to computing.
#[derive(Clone, Default, PartialEq)]
pub(super) struct TouchedTable(pub(super) Arc<[f64]>);

impl TouchedTable {
    const LEN: usize = 8193;
    pub(super) fn new(experts: f64, active: f64) -> TouchedTable {
        if experts == 0.0 {
            return TouchedTable::default();
        }
        TouchedTable(
            (0..Self::LEN)
                .map(|t| experts_touched(experts, active, t as f64))
                .collect(),
        )
    }
}

impl std::fmt::Debug for TouchedTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TouchedTable({} entries)", self.0.len())
    }
}
