//! What a plan's search will cost before it starts, by the run's own estimate
//! (`tokenfleet_fleet::budget`), so that a plan of days is refused before its first probe.

use tokenfleet_fleet::budget::Estimate;
use tokenfleet_fleet::run::Demand;

/// What a plan's search costs, by the run's estimate: for each candidate, sized at twice its
/// lower bound `lb` (`setups` holds it resolved there), the probes of the expected search
/// (two doublings from the lower bound, then bisection to the count: exact below 100
/// replicas, to `precision` above), each a sampled run of `cells` cells, plus the verification
/// of the cheapest (`verify_seeds` + 1 seeds at two counts); candidates run `threads` at once.
///
/// Why the expected and not the worst case: when no count meets the targets the doubling runs
/// on to `--max-replicas`, and refusing every plan for that would refuse the ordinary ones.
/// The estimate is there to catch the plans that take days whatever the answer.
pub fn plan_cost(
    setups: &[(tokenfleet_setup::Setup, u64)],
    cells: u32,
    precision: f64,
    verify_seeds: u32,
    threads: usize,
) -> Option<Estimate> {
    let mut total: Option<Estimate> = None;
    for (setup, lb) in setups {
        let layout = Demand::Fleet.layout(setup, setup.seed, Some(1.0));
        let simulated = (cells as usize).min(layout.cells);
        let one = Estimate::new(
            setup,
            layout.cells,
            simulated,
            Demand::Fleet.calls(setup),
            1,
        );
        let probes = search_probes(*lb, precision) as f64;
        total = Some(match total {
            None => Estimate {
                calls: one.calls * probes,
                seconds: one.seconds * probes,
                replica_seconds: one.replica_seconds * probes,
                ..one
            },
            Some(t) => Estimate {
                calls: t.calls + one.calls * probes,
                seconds: t.seconds + one.seconds * probes,
                replica_seconds: t.replica_seconds + one.replica_seconds * probes,
                ..if one.bytes > t.bytes { one } else { t }
            },
        });
    }
    let t = total?;
    // Candidates in parallel: the time divides by the threads, the memory multiplies.
    let at_once = threads.max(1).min(setups.len().max(1)) as f64;
    let verify = 2.0 * (verify_seeds as f64 + 1.0) / setups.len() as f64;
    let scale = (1.0 + verify) / at_once;
    Some(Estimate {
        calls: t.calls * (1.0 + verify),
        seconds: t.seconds * scale,
        replica_seconds: t.replica_seconds * scale,
        bytes: t.bytes * at_once,
        replica_bytes: t.replica_bytes * at_once,
        inflight_bytes: t.inflight_bytes * at_once,
        agents: t.agents * at_once,
        parallel_cells: at_once,
        ..t
    })
}

/// Probes of the expected search from lower bound `lb`: two doublings, then bisection (exact
/// below 100 replicas, to `precision` above).
fn search_probes(lb: u64, precision: f64) -> u64 {
    let steps = if lb <= 100 {
        (lb as f64).log2().ceil()
    } else {
        (1.0 / precision.max(1e-6)).log2().ceil()
    };
    3 + steps.max(0.0) as u64
}

/// Probes a plan is expected to simulate, by the same count as [`plan_cost`]: the search of
/// each candidate that can serve the model (`bounds`: its lower bound, `None` when it cannot),
/// and the verification (`verify_seeds` + 1 seeds at two counts). What the progress bar
/// counts down; a search that needs more raises it.
pub fn expected_probes(bounds: &[Option<u64>], precision: f64, verify_seeds: u32) -> u64 {
    let search: u64 = bounds
        .iter()
        .flatten()
        .map(|&lb| search_probes(lb, precision))
        .sum();
    search + 2 * (verify_seeds as u64 + 1)
}
