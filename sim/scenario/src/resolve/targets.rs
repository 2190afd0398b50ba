//! `[[reference]]` and `[sla]`: published figures to compare with (each naming a price set
//! that exists) and the service-level targets late calls are refunded against.

use tokenfleet_engine::time::SimTime;
use tokenfleet_setup::{PublishedFigure, Sla};

use super::checker::Checker;
use super::served::price_sets;
use crate::spec::scenario::Scenario;
use crate::spec::targets::SlaSpec;

/// The published figures; one that names a price set the scenario does not have is a problem.
pub(crate) fn references(s: &Scenario, c: &mut Checker) -> Vec<PublishedFigure> {
    let sets = price_sets(s);
    for (i, r) in s.references.iter().enumerate() {
        if let Some(n) = &r.price_set
            && !sets.contains(n)
        {
            c.add(
                format!("reference[{i}].price_set"),
                format!("no price set `{n}`; sets: {}", sets.join(", ")),
            );
        }
    }
    s.references
        .iter()
        .map(|r| PublishedFigure {
            label: r.label.clone(),
            usd_per_year: r.usd_per_year.map(|v| v.get()),
            usd_per_agent_day: r.usd_per_agent_day.map(|v| v.get()),
            source: r.source.clone(),
            price_set: r.price_set.clone(),
        })
        .collect()
}

/// The service-level targets, if the scenario sets any.
pub(crate) fn sla(spec: Option<&SlaSpec>, c: &mut Checker) -> Option<Sla> {
    let sla = spec.map(|a| Sla {
        ttft: a.ttft.map(|t| SimTime::from_secs(t.get())),
        e2e: a.e2e.map(|t| SimTime::from_secs(t.get())),
        penalty_ppm: (a.penalty.get() * 1e6).round() as u64,
    });
    if let Some(a) = spec {
        if a.penalty.get() > 1.0 {
            c.add(
                "sla.penalty",
                "a refund above 100% of the revenue is not accepted",
            );
        }
        if a.ttft.is_none() && a.e2e.is_none() {
            c.add("sla", "give a `ttft` or an `e2e` target");
        }
    }
    sla
}
