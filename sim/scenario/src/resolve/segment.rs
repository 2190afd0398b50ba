//! One `[[fleet.segment]]`: its kind, time zone, daily profiles and weekends, its budget and
//! its agent loop (the loop itself is checked in `task.rs`), made into a workload `Segment`.
//!
//! Whether the pools serving the segment's model can carry its budget is checked by the
//! caller (`fleet.rs`), which knows the pools.

use tokenfleet_setup::ProfileSpec;
use tokenfleet_workload::{Activity, Profile, Segment, SegmentKind, profile};

use super::checker::Checker;
use super::simulation::Calendar;
use super::task::{loop_params, retries, subagent_params, task_size};
use crate::spec::fleet::SegmentSpec;

/// Where a segment sits in the run: its agents, the served model they call and the context
/// window every pool serving it can hold.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seat {
    pub(crate) agents: u64,
    pub(crate) first_agent: u64,
    pub(crate) model: usize,
    pub(crate) window: u64,
}

/// The segment at `path`, or `None` once a problem makes it unusable (every problem found on
/// the way is reported).
pub(crate) fn segment(
    c: &mut Checker,
    path: &str,
    g: &SegmentSpec,
    seat: Seat,
    calendar: Calendar,
) -> Option<Segment> {
    let kind = match g.kind.as_deref() {
        None | Some("agent") => SegmentKind::Agent,
        Some("monitor") => SegmentKind::Monitor,
        Some("open-loop") => SegmentKind::OpenLoop,
        Some(other) => {
            c.add(
                format!("{path}.kind"),
                format!("unknown kind `{other}`; accepted: agent, monitor, open-loop"),
            );
            return None;
        }
    };
    if !(-12..=14).contains(&g.timezone) {
        c.add(
            format!("{path}.timezone"),
            "must be between -12 and 14 hours",
        );
    }
    // Profiles in local time: the activity rotates them by the time zone.
    let profile = profile_of(c, format!("{path}.profile"), &g.profile, g.timezone);
    let local = profile_of(c, format!("{path}.profile"), &g.profile, 0);
    let weekend_spec = g.weekend.as_ref();
    let weekend_factor = weekend_spec.and_then(|w| w.factor).map_or(1.0, |f| f.get());
    if !(0.0..=10.0).contains(&weekend_factor) {
        c.add(
            format!("{path}.weekend.factor"),
            "must be between 0 and 10 (a weekend day's activity relative to a weekday's)",
        );
    }
    let weekend_local = match weekend_spec.and_then(|w| w.profile.as_ref()) {
        Some(p) => profile_of(c, format!("{path}.weekend.profile"), p, 0),
        None => local.clone(),
    };
    if kind == SegmentKind::Monitor && g.weekend.is_some() && weekend_factor == 0.0 {
        // Allowed: a monitor that sleeps on weekends.
    }
    let t = &g.task;
    let budget = c.dist(format!("{path}.daily_tokens"), &g.daily_tokens);
    let main = loop_params(c, &format!("{path}.task"), t, seat.window);
    if kind == SegmentKind::OpenLoop
        && main
            .as_ref()
            .is_some_and(|m| m.tool_gap.mean().is_nan() || m.tool_gap.mean() <= 0.0)
    {
        c.add(
            format!("{path}.task.tool_gap"),
            "open-loop calls need a positive mean gap between sends (it sets their rate)",
        );
    }
    let retry = retries(c, &format!("{path}.task"), &t.retry);
    let task_tokens = task_size(c, &format!("{path}.task"), kind, t);
    if !(t.spread.is_finite() && (0.0..=3.0).contains(&t.spread)) {
        c.add(format!("{path}.task.spread"), "must be between 0 and 3");
    }
    let subagents = match &t.subagents {
        None => Some(None),
        Some(sub) => subagent_params(
            c,
            &format!("{path}.task.subagents"),
            sub,
            t,
            seat.window,
            kind,
        )
        .map(Some),
    };
    let (
        Some(profile),
        Some(local),
        Some(weekend_local),
        Some(budget),
        Some(main),
        Some(task_tokens),
        Some(subagents),
    ) = (
        profile,
        local,
        weekend_local,
        budget,
        main,
        task_tokens,
        subagents,
    )
    else {
        return None;
    };
    if budget.mean().is_infinite() {
        c.add(
            format!("{path}.daily_tokens"),
            "the budget distribution has no finite mean; bound it (Pareto alpha > 1 or a max)",
        );
        return None;
    }
    let activity = Activity::new(
        &local,
        &weekend_local,
        weekend_factor,
        g.timezone,
        calendar.start_day,
        calendar.horizon_s.max(1.0),
    );
    Some(Segment {
        name: g.name.clone(),
        share: g.share.get(),
        kind,
        agents: seat.agents,
        first_agent: seat.first_agent,
        model: seat.model,
        window: seat.window,
        budget,
        profile,
        activity,
        task_tokens,
        task_spread: t.spread,
        main_growth: main.growth(),
        main,
        subagents,
        retry,
    })
}

/// A profile, `tz` hours east of UTC (the activity rotates local profiles by the time zone).
fn profile_of(c: &mut Checker, field: String, spec: &ProfileSpec, tz: i32) -> Option<Profile> {
    match spec {
        ProfileSpec::Named(name) => match Profile::named(name, tz) {
            Some(p) => Some(p),
            None => {
                c.add(
                    field,
                    format!(
                        "unknown profile `{name}`; accepted: {}, or 24 hourly weights",
                        profile::builtin_names()
                    ),
                );
                None
            }
        },
        ProfileSpec::Weights(w) => match Profile::new(w, tz) {
            Ok(p) => Some(p),
            Err(e) => {
                c.add(field, e.to_string());
                None
            }
        },
    }
}
