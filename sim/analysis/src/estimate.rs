//! What a sweep will cost before it starts, by the run's own estimate
//! (`tokenfleet_fleet::budget`), so that a sweep of days is refused up front.

use tokenfleet_fleet::budget::Estimate;
use tokenfleet_fleet::run::Demand;
use tokenfleet_scenario::{Origin, Scenario};

use crate::sweep::{SweepError, SweepOptions, budget_per_seed, grid};

/// The most points [`estimate`] resolves one by one.
pub const ESTIMATED_POINTS: usize = 200;

/// What the whole sweep costs, by the run's estimate (`tokenfleet_fleet::budget`): each point
/// resolved and sized as its runs will be (one thread per run, `threads` runs at a time), the
/// times summed over points and seeds, the memory of the biggest point's runs in flight.
/// Draws are left at the scenario's values: they move prices and rates, not sizes. Beyond
/// [`ESTIMATED_POINTS`] points, every k-th is sized and the time scaled by k (resolving every
/// point of a 100,000-point grid would itself take minutes).
pub fn estimate(
    origin: &Origin,
    opts: &SweepOptions,
    threads: usize,
) -> Result<Estimate, SweepError> {
    let scenario = Scenario::from_text(origin, &opts.overrides)
        .map_err(|e| SweepError::Invalid(e.to_string()))?;
    let seeds = opts.seeds.max(1) as usize;
    let mut overrides = opts.overrides.clone();
    overrides.extend(budget_per_seed(&scenario, opts.sample, seeds as u32));
    let points = grid(&opts.varies);
    let stride = points.len().div_ceil(ESTIMATED_POINTS).max(1);
    let share = opts.shard.map_or(1.0, |sh| 1.0 / sh.count as f64);
    let mut total: Option<Estimate> = None;
    for (point, values) in points.iter().enumerate().step_by(stride) {
        let mut o = overrides.clone();
        o.extend(
            opts.varies
                .iter()
                .zip(values)
                .map(|(v, x)| format!("{}={x}", v.path)),
        );
        let setup = Scenario::from_text(origin, &o)
            .and_then(|s| s.resolve(origin))
            .map_err(|error| SweepError::Point {
                point,
                values: values.join(", "),
                error,
            })?;
        let layout = Demand::Fleet.layout(&setup, setup.seed, opts.sample);
        let cells = layout.cells_of(None).len();
        let mut one = Estimate::new(&setup, layout.cells, cells, Demand::Fleet.calls(&setup), 1)
            .repeated(seeds, threads);
        one.seconds *= stride as f64 * share;
        one.calls *= stride as f64 * share;
        total = Some(match total {
            None => one,
            Some(t) => Estimate {
                calls: t.calls + one.calls,
                seconds: t.seconds + one.seconds,
                ..if one.bytes > t.bytes { one } else { t }
            },
        });
    }
    Ok(total.expect("a grid has at least one point"))
}
