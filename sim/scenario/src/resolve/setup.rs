//! From a written scenario to a checked [`Setup`]: one call per section, in the order their
//! problems are reported.
//!
//! The order is part of the behaviour (a user reads the problems in it, and the checker keeps
//! the first of two equal ones): catalog additions, the horizon, the fleet's size, the pools
//! (with the models they serve), the start day, the segments, the engine, the references and
//! the SLA.

use std::path::Path;

use tokenfleet_engine::time::SimTime;
use tokenfleet_setup::Setup;

use super::checker::Checker;
use super::served::price_sets;
use super::simulation::Calendar;
use super::{catalog, fleet, pools, simulation, targets};
use crate::error::Problem;
use crate::spec::scenario::Scenario;

/// The setup a scenario describes, or every problem found in it.
pub(crate) fn resolve(s: &Scenario, dir: Option<&Path>) -> Result<Setup, Vec<Problem>> {
    let mut c = Checker::new(dir);
    if let Some(why) = tokenfleet_models::names::name_problem(&s.name) {
        c.add(
            "name",
            format!("the name becomes the output directory out/<name>: {why}"),
        );
    }
    let Some(catalog) = catalog::catalog(s, &mut c) else {
        return Err(c.problems);
    };
    let (horizon_s, hours) = simulation::horizon(s, &mut c);
    let agents = fleet::agents(s, &mut c);
    // Served models: every model named by a segment or a pool.
    let mut served = Vec::new();
    let pools = pools::pools(s, &catalog, &mut served, &mut c);
    let calendar = Calendar {
        horizon_s,
        start_day: simulation::start_day(s, &mut c),
    };
    let segments = fleet::segments(s, &catalog, &mut served, &pools, agents, calendar, &mut c);
    let engine = simulation::engine(&s.engine, &mut c);
    let references = targets::references(s, &mut c);
    let sla = targets::sla(s.sla.as_ref(), &mut c);
    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    Ok(Setup {
        replay: None,
        name: s.name.clone(),
        description: s.description.clone(),
        seed: s.seed,
        horizon: SimTime::from_secs(horizon_s),
        hours,
        agents,
        segments,
        served,
        pools,
        engine,
        price_sets: price_sets(s),
        sla,
        segment_inputs: s.fleet.segments.iter().map(fleet::segment_inputs).collect(),
        references,
    })
}
