//! From a written scenario to a checked [`Setup`].
//!
//! Every check records a [`Problem`] with the field path and goes on, so a user sees all that
//! is wrong with a file at once rather than one error per attempt.

use std::path::Path;

use tokenfleet_models::Money;
use tokenfleet_models::catalog::{Catalog, ModelEntry};
use tokenfleet_models::dist::{Dist, DistSpec};
use tokenfleet_models::hardware::{Hardware, Sourced};
use tokenfleet_models::money::{MoneyRate, TokenPrice};
use tokenfleet_models::perf::{Calibration, ReplicaPerf, ReplicaShape};
use tokenfleet_models::power::PowerModel;
use tokenfleet_models::precision::Precision;
use tokenfleet_models::prices::{
    PriceSheet, PriceSheetSpec, Window, from_genai_prices, from_litellm, parse_clock,
};
use tokenfleet_models::units::Unit;

use crate::suggest::closest;

use crate::{
    ElectricitySpec, PriceSpec, Problem, ProfileSpec, RentSpec, SampleSpec, Scenario, SubAgentSpec,
    TaskSpec,
};
use tokenfleet_engine::time::SimTime;
use tokenfleet_models::units::TokenUnit;
use tokenfleet_setup::{
    Autoscale, CostMode, EngineSetup, ModelPrice, Pool, PublishedFigure, RateLimit, Sample,
    ScaleMetric, SegmentInputs, ServedModel, Setup, Sla,
};
use tokenfleet_workload::{
    Activity, LoopParams, Profile, Retry, Segment, SegmentKind, SubAgents, activity, feasibility,
    profile,
};

/// A rent from the scenario: a price, or a point of the catalog's market range.
fn rent_price(r: RentSpec, hw: &Hardware) -> Result<f64, String> {
    let range = || {
        hw.rent.ok_or_else(|| {
            format!(
                "the catalog has no rental range for `{}`; give a price such as \"$2.50/h\"",
                hw.id
            )
        })
    };
    Ok(match r {
        RentSpec::Price(p) => p.get(),
        RentSpec::Low => range()?.low,
        RentSpec::Typical => range()?.usd_per_hour,
        RentSpec::High => range()?.high,
    })
}

/// Electricity per UTC hour of the day (pico-dollars per kWh) and a label for reports.
fn tariff(e: &ElectricitySpec, catalog: &Catalog) -> Result<([i128; 24], String), String> {
    let pico = |usd: f64| Money::from_usd(usd).pico();
    Ok(match e {
        ElectricitySpec::Price(p) => ([pico(p.get()); 24], format!("${}/kWh", p.get())),
        ElectricitySpec::Region(id) => {
            let r = catalog.regions.get(id).ok_or_else(|| {
                format!("unknown electricity region `{id}`; accepted: {}, a price such as \"$0.08/kWh\", or {{ peak, off_peak, peak_hours }}", catalog.region_ids())
            })?;
            let v = r.price.value.get();
            ([pico(v); 24], format!("{} (${v}/kWh)", r.name))
        }
        ElectricitySpec::Tariff(t) => {
            let (a, b) = t.peak_hours.split_once('-').ok_or_else(|| {
                format!("peak_hours {:?}: expected \"HH:MM-HH:MM\"", t.peak_hours)
            })?;
            let start = parse_clock(a).map_err(|e| e.to_string())?;
            let end = parse_clock(b).map_err(|e| e.to_string())? % 1440;
            let w = Window {
                start_min: start,
                end_min: end,
            };
            let mut hours = [0i128; 24];
            for (h, slot) in hours.iter_mut().enumerate() {
                // The local minute at the middle of UTC hour h decides the rate for that hour.
                let local = ((h as i32 * 60 + 30 + t.timezone * 60).rem_euclid(1440)) as u32;
                *slot = pico(if w.contains(local) {
                    t.peak.get()
                } else {
                    t.off_peak.get()
                });
            }
            (
                hours,
                format!(
                    "${}/kWh peak {} (UTC{:+}), ${}/kWh off-peak",
                    t.peak.get(),
                    t.peak_hours,
                    t.timezone,
                    t.off_peak.get()
                ),
            )
        }
    })
}

struct Checker<'a> {
    problems: Vec<Problem>,
    /// The scenario file's directory: where relative data paths start.
    dir: Option<&'a Path>,
}

impl Checker<'_> {
    /// Records a problem once: an entry shared by several models or sets is checked each time
    /// it is used, but a user should read about it once.
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        let p = Problem {
            path: path.into(),
            line: None,
            set_by: None,
            message: message.into(),
        };
        if !self
            .problems
            .iter()
            .any(|q| q.path == p.path && q.message == p.message)
        {
            self.problems.push(p);
        }
    }
    fn dist<U: Unit>(&mut self, path: String, spec: &DistSpec<U>) -> Option<Dist> {
        match spec.resolve_in(self.dir) {
            Ok(d) => Some(d),
            Err(e) => {
                self.add(path, e.0);
                None
            }
        }
    }
}

/// Largest fleet and cluster accepted, to refuse absurd inputs up front rather than run out
/// of memory.
const MAX_AGENTS: f64 = 1e9;
const MAX_REPLICAS: f64 = 1e7;

pub(super) fn resolve(s: &Scenario, dir: Option<&Path>) -> Result<Setup, Vec<Problem>> {
    let mut c = Checker {
        problems: Vec::new(),
        dir,
    };
    let mut catalog = match Catalog::builtin() {
        Ok(cat) => cat,
        Err(e) => {
            c.add("(built-in catalog)", e.to_string());
            return Err(c.problems);
        }
    };

    // Scenario-defined devices and models.
    for (i, d) in s.devices.iter().enumerate() {
        if let Err(e) = catalog.add_device(d.clone()) {
            c.add(format!("device[{i}]"), e.reason);
        }
    }
    for (i, m) in s.models.iter().enumerate() {
        let path = format!("model[{i}]");
        let text = match (&m.config, &m.hf_config) {
            (Some(file), None) => {
                let p = dir.map_or_else(|| Path::new(file).to_path_buf(), |d| d.join(file));
                match std::fs::read_to_string(&p) {
                    Ok(t) => t,
                    Err(e) => {
                        c.add(
                            format!("{path}.config"),
                            format!("cannot read {}: {e}", p.display()),
                        );
                        continue;
                    }
                }
            }
            (None, Some(table)) => serde_json::to_string(table).unwrap_or_default(),
            _ => {
                c.add(path, "give exactly one of `config` (a config.json path) or `hf_config` (its keys inline)");
                continue;
            }
        };
        let entry = ModelEntry {
            id: m.id.clone(),
            name: m.name.clone().unwrap_or_else(|| m.id.clone()),
            hf: String::new(),
            config: m.config.clone().unwrap_or_else(|| "(inline)".into()),
            price_sheet: None,
            published: None,
        };
        if let Err(e) = catalog.add_model(entry, &text) {
            c.add(path, e.reason);
        }
    }

    let mut horizon_s = s.simulation.duration.get();
    if !(horizon_s > 0.0 && horizon_s <= tokenfleet_engine::time::MAX_SPAN_S) {
        c.add(
            "simulation.duration",
            format!(
                "{}; accepted: a positive duration of at most a year (366d)",
                if horizon_s > 0.0 {
                    "beyond what one run simulates"
                } else {
                    "must be positive"
                }
            ),
        );
        // The rest is still checked, on a day: activity tables are sized by the horizon.
        horizon_s = 86_400.0;
    }
    let hours = (horizon_s / 3600.0).ceil().max(1.0) as usize;

    let mut agents = s.fleet.agents.get();
    if agents < 1.0 {
        c.add("fleet.agents", "the fleet needs at least one agent");
    } else if agents > MAX_AGENTS {
        c.add(
            "fleet.agents",
            format!("{agents:e} agents is beyond what tokenfleet simulates (at most 1e9); simulate a representative fleet and scale"),
        );
        // The rest is still checked, on a fleet whose counts add up in a u64.
        agents = MAX_AGENTS;
    }
    let agents = agents as u64;

    // Served models: every model named by a segment or a pool.
    let mut served: Vec<ServedModel> = Vec::new();
    // Pools.
    let mut pools = Vec::new();
    if s.cluster.pools.is_empty() {
        c.add(
            "cluster.pool",
            "the cluster needs at least one [[cluster.pool]]",
        );
    }
    // The calibrated engine profile (catalog/calibration.toml); SRAM chips use their own.
    let calibration = match Calibration::builtin() {
        Ok(cal) => Some(cal),
        Err(e) => {
            c.add("cluster.pool", e.to_string());
            None
        }
    };
    for (i, p) in s.cluster.pools.iter().enumerate() {
        let path = format!("cluster.pool[{i}]");
        let hw = match catalog.hardware(&p.hardware) {
            Some(h) => h.clone(),
            None => {
                let ids: Vec<&str> = catalog.devices.keys().map(String::as_str).collect();
                let hint = closest(&p.hardware, &ids)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                c.add(format!("{path}.hardware"), format!("unknown hardware `{}`{hint}; accepted: {}, or define it in a [[device]] table", p.hardware, catalog.device_ids()));
                continue;
            }
        };
        let Some(model_idx) = served_index(
            &mut served,
            &catalog,
            s,
            dir,
            &p.model,
            format!("{path}.model"),
            &mut c,
        ) else {
            continue;
        };
        let replicas = p.replicas.get();
        if replicas < 1.0 {
            c.add(format!("{path}.replicas"), "must be at least 1");
            continue;
        }
        if replicas > MAX_REPLICAS {
            c.add(format!("{path}.replicas"), "at most 1e7 replicas per pool");
            continue;
        }
        if p.tp == 0 || p.pp == 0 {
            c.add(format!("{path}.tp"), "tp and pp must be at least 1");
            continue;
        }
        let rate_limit = match &p.rate_limit {
            None => None,
            Some(rl) if rl.calls.get() >= 1.0 && rl.per.get() > 0.0 => Some(RateLimit {
                burst: rl.calls.get(),
                per_second: rl.calls.get() / rl.per.get(),
            }),
            Some(_) => {
                c.add(
                    format!("{path}.rate_limit"),
                    "needs calls >= 1 and a positive period",
                );
                continue;
            }
        };
        let autoscale = match &p.autoscale {
            None => None,
            Some(a) => {
                let (min, max) = (a.min.get() as u64, a.max.get() as u64);
                let r = replicas as u64;
                let bad_target = match a.metric {
                    ScaleMetric::Kv | ScaleMetric::Busy => {
                        a.target.is_nan() || a.target <= 0.0 || a.target > 1.0
                    }
                    ScaleMetric::Queue => {
                        a.target.is_nan() || a.target <= 0.0 || a.target.is_infinite()
                    }
                };
                if min < 1 || min > r || r > max || max as f64 > MAX_REPLICAS {
                    c.add(format!("{path}.autoscale"), format!("needs 1 <= min <= replicas <= max (got min {min}, replicas {r}, max {max})"));
                    continue;
                }
                if bad_target {
                    c.add(
                        format!("{path}.autoscale.target"),
                        "must be in (0, 1] for kv and busy, positive for queue",
                    );
                    continue;
                }
                if a.interval.get() < 1.0 {
                    c.add(format!("{path}.autoscale.interval"), "must be at least 1s");
                    continue;
                }
                Some(Autoscale {
                    min,
                    max,
                    metric: a.metric,
                    target: a.target,
                    interval: SimTime::from_secs(a.interval.get()),
                    provision_delay: SimTime::from_secs(a.provision_delay.get()),
                    scale_down_window: SimTime::from_secs(a.scale_down_window.get()),
                })
            }
        };
        if p.max_seqs == 0 || p.max_seqs >= p.max_batch_tokens {
            c.add(
                format!("{path}.max_seqs"),
                format!(
                    "must be between 1 and max_batch_tokens - 1 ({})",
                    p.max_batch_tokens.saturating_sub(1)
                ),
            );
            continue;
        }
        let arch = served[model_idx].arch.clone();
        let shape = ReplicaShape::new(
            p.tp,
            p.pp,
            p.weights.unwrap_or(arch.native_precision),
            p.kv_cache.unwrap_or(Precision::Bf16),
        );
        let Some(calibration) = calibration else {
            continue;
        };
        let perf_params = match calibration.profile_for(None, &hw) {
            Ok(profile) => profile.params,
            Err(e) => {
                c.add(format!("{path}.hardware"), e.to_string());
                continue;
            }
        };
        let perf = match ReplicaPerf::new(&served[model_idx].name, &arch, &hw, shape, &perf_params)
        {
            Ok(perf) => perf,
            Err(e) => {
                c.add(format!("{path}.tp"), e.to_string());
                continue;
            }
        };
        // One maximal call (a full context window) must fit in a replica's KV cache, or it
        // could never be admitted.
        let window = (arch.max_context as u64).min(perf.kv_capacity_tokens);
        if window < 4096 {
            c.add(format!("{path}.tp"), format!(
                "a replica holds only {} tokens of KV cache after weights; give it more devices or memory",
                perf.kv_capacity_tokens
            ));
            continue;
        }
        let cost = match (&p.rent, &p.own) {
            (Some(_), Some(_)) => {
                c.add(
                    format!("{path}.own"),
                    "give either `rent` or `own`, not both",
                );
                continue;
            }
            (Some(r), None) => match rent_price(*r, &hw) {
                Ok(v) => CostMode::Rent {
                    usd_per_device_hour: v,
                },
                Err(e) => {
                    c.add(format!("{path}.rent"), e);
                    continue;
                }
            },
            (None, Some(o)) => {
                let price = match o.price.map(|p| p.get()).or(hw.price_usd) {
                    Some(p) => p,
                    None => {
                        c.add(
                            format!("{path}.own.price"),
                            format!(
                                "no purchase price for `{}` in the catalog; give own.price",
                                hw.id
                            ),
                        );
                        continue;
                    }
                };
                let years = o.depreciation.get() / (365.25 * 86_400.0);
                if years < 0.25 {
                    c.add(
                        format!("{path}.own.depreciation"),
                        "must be at least 3 months",
                    );
                    continue;
                }
                CostMode::Own {
                    price_usd: price,
                    depreciation_years: years,
                    overhead: o.overhead.get(),
                    cost_of_capital: o.cost_of_capital.get(),
                }
            }
            (None, None) => match hw.rent {
                Some(r) => CostMode::Rent {
                    usd_per_device_hour: r.usd_per_hour,
                },
                None => match hw.price_usd {
                    Some(price) => CostMode::Own {
                        price_usd: price,
                        depreciation_years: 5.0,
                        overhead: 0.0,
                        cost_of_capital: 0.0,
                    },
                    None => {
                        c.add(format!("{path}.rent"), format!("the catalog has neither a rent nor a price for `{}`; give `rent` or `own`", hw.id));
                        continue;
                    }
                },
            },
        };
        let device_rate = MoneyRate::from_usd_per_hour(cost.usd_per_device_hour());
        let espec = p
            .electricity
            .clone()
            .unwrap_or_else(|| s.energy.electricity.clone());
        let (electricity, electricity_label) = match tariff(&espec, &catalog) {
            Ok(t) => t,
            Err(e) => {
                let field = if p.electricity.is_some() {
                    format!("{path}.electricity")
                } else {
                    "energy.electricity".into()
                };
                c.add(field, e);
                continue;
            }
        };
        let pue = p.pue.unwrap_or(s.energy.pue);
        if !(1.0..=3.0).contains(&pue) {
            c.add(
                match p.pue {
                    Some(_) => format!("{path}.pue"),
                    None => "energy.pue".to_string(),
                },
                format!("PUE {pue} is outside [1, 3]"),
            );
        }
        served[model_idx].pools.push(pools.len());
        pools.push(Pool {
            name: p.name.clone(),
            power: PowerModel::new(hw.idle_w, hw.tdp_w, calibration.power.exponent),
            hardware: hw,
            model: model_idx,
            replicas: replicas as u64,
            replicas_max: autoscale.map_or(replicas as u64, |a| a.max),
            perf,
            max_batch_tokens: p.max_batch_tokens,
            max_seqs: p.max_seqs,
            queue_limit: p.queue_limit,
            router: p.router,
            affinity_slack: p.affinity_slack,
            retention: SimTime::from_secs(p.prefix_retention.get()),
            rate_limit,
            autoscale,
            cost,
            device_rate,
            pay_energy: p.pay_energy.unwrap_or(matches!(cost, CostMode::Own { .. })),
            electricity_pico_per_kwh: electricity,
            electricity_label,
            pue,
        });
    }
    {
        let mut names: Vec<&str> = s.cluster.pools.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        for w in names.windows(2) {
            if w[0] == w[1] {
                c.add("cluster.pool", format!("two pools are named `{}`", w[0]));
            }
        }
    }

    // Segments.
    let start_day = match &s.simulation.start {
        None => 0,
        Some(name) => match activity::weekday(name) {
            Some(d) => d,
            None => {
                c.add(
                    "simulation.start",
                    format!(
                        "unknown weekday `{name}`; accepted: {} (or their first three letters)",
                        activity::WEEKDAYS.join(", ")
                    ),
                );
                0
            }
        },
    };
    let mut segments = Vec::new();
    if s.fleet.segments.is_empty() {
        c.add(
            "fleet.segment",
            "the fleet needs at least one [[fleet.segment]]",
        );
    }
    let share_sum: f64 = s.fleet.segments.iter().map(|g| g.share.get()).sum();
    if !s.fleet.segments.is_empty() && (share_sum - 1.0).abs() > 1e-6 {
        c.add(
            "fleet.segment",
            format!("segment shares sum to {share_sum}, not 1"),
        );
    }
    // Agents per segment by largest remainder, so counts are exact and sum to the fleet.
    let counts = apportion(
        agents,
        &s.fleet
            .segments
            .iter()
            .map(|g| g.share.get())
            .collect::<Vec<_>>(),
    );
    let mut first_agent = 0;
    for (i, g) in s.fleet.segments.iter().enumerate() {
        let path = format!("fleet.segment[{i}]");
        let Some(model) = served_index(
            &mut served,
            &catalog,
            s,
            dir,
            &g.model,
            format!("{path}.model"),
            &mut c,
        ) else {
            continue;
        };
        let n = counts.get(i).copied().unwrap_or(0);
        let start = first_agent;
        first_agent += n;
        if served[model].pools.is_empty() {
            // A pool that was declared but failed its own checks was reported already.
            if !s.cluster.pools.iter().any(|p| p.model == g.model) {
                c.add(
                    format!("{path}.model"),
                    format!(
                        "no pool serves `{}`; add a [[cluster.pool]] with model = \"{}\"",
                        g.model, g.model
                    ),
                );
            }
            continue;
        }
        let window = served[model]
            .pools
            .iter()
            .map(|&p| (served[model].arch.max_context as u64).min(pools[p].perf.kv_capacity_tokens))
            .min()
            .unwrap_or(0);
        let kind = match g.kind.as_deref() {
            None | Some("agent") => SegmentKind::Agent,
            Some("monitor") => SegmentKind::Monitor,
            Some("open-loop") => SegmentKind::OpenLoop,
            Some(other) => {
                c.add(
                    format!("{path}.kind"),
                    format!("unknown kind `{other}`; accepted: agent, monitor, open-loop"),
                );
                continue;
            }
        };
        if !(-12..=14).contains(&g.timezone) {
            c.add(
                format!("{path}.timezone"),
                "must be between -12 and 14 hours",
            );
        }
        // Profiles in local time: the activity rotates them by the time zone.
        let profile_of = |c: &mut Checker, field: String, spec: &ProfileSpec, tz: i32| match spec {
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
        };
        let profile = profile_of(&mut c, format!("{path}.profile"), &g.profile, g.timezone);
        let local = profile_of(&mut c, format!("{path}.profile"), &g.profile, 0);
        let weekend_spec = g.weekend.as_ref();
        let weekend_factor = weekend_spec.and_then(|w| w.factor).map_or(1.0, |f| f.get());
        if !(0.0..=10.0).contains(&weekend_factor) {
            c.add(
                format!("{path}.weekend.factor"),
                "must be between 0 and 10 (a weekend day's activity relative to a weekday's)",
            );
        }
        let weekend_local = match weekend_spec.and_then(|w| w.profile.as_ref()) {
            Some(p) => profile_of(&mut c, format!("{path}.weekend.profile"), p, 0),
            None => local.clone(),
        };
        if kind == SegmentKind::Monitor && g.weekend.is_some() && weekend_factor == 0.0 {
            // Allowed: a monitor that sleeps on weekends.
        }
        let t = &g.task;
        let budget = c.dist(format!("{path}.daily_tokens"), &g.daily_tokens);
        let main = loop_params(&mut c, &format!("{path}.task"), t, window);
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
        let retry = &t.retry;
        if retry.max > 100 {
            c.add(format!("{path}.task.retry.max"), "at most 100 retries");
        }
        if !(retry.factor.is_finite() && (1.0..=10.0).contains(&retry.factor)) {
            c.add(
                format!("{path}.task.retry.factor"),
                "must be between 1 and 10",
            );
        }
        if retry.jitter.get() > 1.0 {
            c.add(
                format!("{path}.task.retry.jitter"),
                "must be between 0 and 1 (a share of the wait)",
            );
        }
        if retry.backoff.get() > 86_400.0 {
            c.add(format!("{path}.task.retry.backoff"), "at most a day");
        }
        let task_tokens = match (kind, t.tokens) {
            (SegmentKind::Agent, None) => {
                c.add(
                    format!("{path}.task.tokens"),
                    "missing: the mean tokens of a task (e.g. \"5M\"), which sets how many tasks a budget buys",
                );
                None
            }
            (SegmentKind::Agent, Some(tok)) if tok.get() < 1000.0 => {
                c.add(
                    format!("{path}.task.tokens"),
                    "a task must spend at least 1000 tokens",
                );
                None
            }
            (SegmentKind::Agent, Some(tok)) => Some(tok.get()),
            (SegmentKind::Monitor | SegmentKind::OpenLoop, _) => Some(f64::INFINITY),
        };
        if !(t.spread.is_finite() && (0.0..=3.0).contains(&t.spread)) {
            c.add(format!("{path}.task.spread"), "must be between 0 and 3");
        }
        let subagents = match &t.subagents {
            None => Some(None),
            Some(sub) => subagent_params(
                &mut c,
                &format!("{path}.task.subagents"),
                sub,
                t,
                window,
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
            continue;
        };
        if budget.mean().is_infinite() {
            c.add(
                format!("{path}.daily_tokens"),
                "the budget distribution has no finite mean; bound it (Pareto alpha > 1 or a max)",
            );
            continue;
        }
        let activity = Activity::new(
            &local,
            &weekend_local,
            weekend_factor,
            g.timezone,
            start_day,
            horizon_s.max(1.0),
        );
        let seg = Segment {
            name: g.name.clone(),
            share: g.share.get(),
            kind,
            agents: n,
            first_agent: start,
            model,
            window,
            budget,
            profile,
            activity,
            task_tokens,
            task_spread: t.spread,
            main_growth: main.growth(),
            main,
            subagents,
            retry: Retry {
                max: retry.max,
                backoff_s: retry.backoff.get(),
                factor: retry.factor,
                jitter: retry.jitter.get(),
            },
        };
        // The fastest pool serving the model bounds service time from below.
        let perf = served[model]
            .pools
            .iter()
            .map(|&p| &pools[p].perf)
            .min_by(|a, b| {
                let t = |x: &ReplicaPerf| x.iteration_cost(1, 1, 1).time(0.0, 0.0);
                t(a).total_cmp(&t(b))
            })
            .expect("a pool serves the model");
        if let Err(message) = feasibility::check(&seg, perf) {
            c.add(format!("{path}.daily_tokens"), message.to_string());
            continue;
        }
        segments.push(seg);
    }
    {
        let mut names: Vec<&str> = s.fleet.segments.iter().map(|g| g.name.as_str()).collect();
        names.sort_unstable();
        for w in names.windows(2) {
            if w[0] == w[1] {
                c.add(
                    "fleet.segment",
                    format!("two segments are named `{}`", w[0]),
                );
            }
        }
    }

    let e = &s.engine;
    if e.replicas_per_cell.get() < 1.0 {
        c.add("engine.replicas_per_cell", "must be at least 1");
    }
    if e.calls_sample_rate.get() > 1.0 {
        c.add("engine.calls_sample_rate", "must be at most 1");
    }
    let sample = match e.sample {
        SampleSpec::Auto => Sample::Auto {
            max_calls: e.max_sampled_calls.get().max(1.0),
        },
        SampleSpec::Full => Sample::Fraction(1.0),
        SampleSpec::Fraction(f) => Sample::Fraction(f),
    };

    let sla = s.sla.as_ref().map(|a| Sla {
        ttft: a.ttft.map(|t| SimTime::from_secs(t.get())),
        e2e: a.e2e.map(|t| SimTime::from_secs(t.get())),
        penalty_ppm: (a.penalty.get() * 1e6).round() as u64,
    });
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
    if let Some(a) = &s.sla {
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
    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    Ok(Setup {
        name: s.name.clone(),
        description: s.description.clone(),
        seed: s.seed,
        horizon: SimTime::from_secs(horizon_s),
        hours,
        agents,
        segments,
        served,
        pools,
        engine: EngineSetup {
            stepping: e.stepping,
            replicas_per_cell: e.replicas_per_cell.get() as u64,
            sample,
            calls_sample_rate: e.calls_sample_rate.get(),
            calls_sample_max: e.calls_sample_max.get() as u64,
        },
        price_sets: price_sets(s),
        sla,
        segment_inputs: s.fleet.segments.iter().map(segment_inputs).collect(),
        references: s
            .references
            .iter()
            .map(|r| PublishedFigure {
                label: r.label.clone(),
                usd_per_year: r.usd_per_year.map(|v| v.get()),
                usd_per_agent_day: r.usd_per_agent_day.map(|v| v.get()),
                source: r.source.clone(),
                price_set: r.price_set.clone(),
            })
            .collect(),
    })
}

/// What the reports show of a segment as written.
fn segment_inputs(s: &super::SegmentSpec) -> SegmentInputs {
    SegmentInputs {
        name: s.name.clone(),
        kind: s.kind.clone(),
        daily_tokens: s.daily_tokens.clone(),
        profile: s.profile.clone(),
        timezone: s.timezone,
        task_tokens: s.task.tokens,
        spread: s.task.spread,
        system_tokens: s.task.system_tokens.clone(),
        new_tokens: s.task.new_tokens.clone(),
        output_tokens: s.task.output_tokens.clone(),
        tool_gap: s.task.tool_gap.clone(),
        summary_tokens: s.task.summary_tokens.clone(),
    }
}

/// Checks a loop's distributions and compaction threshold.
fn loop_params(c: &mut Checker, path: &str, t: &TaskSpec, window: u64) -> Option<LoopParams> {
    let system = c.dist(format!("{path}.system_tokens"), &t.system_tokens);
    let new = c.dist(format!("{path}.new_tokens"), &t.new_tokens);
    let output = c.dist(format!("{path}.output_tokens"), &t.output_tokens);
    let reasoning = c.dist(format!("{path}.reasoning_tokens"), &t.reasoning_tokens);
    let gap = c.dist(format!("{path}.tool_gap"), &t.tool_gap);
    let summary = c.dist(format!("{path}.summary_tokens"), &t.summary_tokens);
    let compact_frac = t.compact_at.get();
    if !(compact_frac > 0.0 && compact_frac <= 1.0) {
        c.add(format!("{path}.compact_at"), "must be in (0, 1]");
        return None;
    }
    let (Some(system), Some(new), Some(output), Some(reasoning), Some(gap), Some(summary)) =
        (system, new, output, reasoning, gap, summary)
    else {
        return None;
    };
    let p = LoopParams {
        system_tokens: system,
        new_tokens: new,
        output_tokens: output,
        reasoning_tokens: reasoning,
        keep_reasoning: t.keep_reasoning,
        tool_gap: gap,
        compact_at: (window as f64 * compact_frac) as u64,
        window,
        summary_tokens: summary,
    };
    check_room(c, path, &p)?;
    Some(p)
}

/// The compaction threshold must leave room for a system prompt, a summary and a call.
fn check_room(c: &mut Checker, path: &str, p: &LoopParams) -> Option<()> {
    let floor = p.system_tokens.quantile(0.99)
        + p.summary_tokens.quantile(0.99)
        + p.new_tokens.quantile(0.99)
        + p.output_tokens.quantile(0.99)
        + p.reasoning_tokens.quantile(0.99);
    if floor >= p.compact_at as f64 {
        c.add(format!("{path}.compact_at"), format!(
            "compaction at {} tokens leaves no room: the system prompt, a summary, new, output and reasoning tokens already need about {floor:.0} (p99); the usable window is {} tokens",
            p.compact_at, p.window
        ));
        return None;
    }
    Some(())
}

/// Largest fan-out of sub-agents at once.
const MAX_FANOUT: f64 = 16.0;

fn subagent_params(
    c: &mut Checker,
    path: &str,
    sub: &SubAgentSpec,
    parent: &TaskSpec,
    window: u64,
    kind: SegmentKind,
) -> Option<SubAgents> {
    if kind != SegmentKind::Agent {
        c.add(path, "only agents fan out to sub-agents (not monitors or open-loop traffic); remove [task.subagents] or use kind = \"agent\"");
        return None;
    }
    let p = sub.probability.get();
    if p > 1.0 {
        c.add(format!("{path}.probability"), "must be between 0 and 1");
    }
    let fanout = c.dist(format!("{path}.fanout"), &sub.fanout);
    let calls = c.dist(format!("{path}.calls"), &sub.calls);
    let result = c.dist(format!("{path}.result_tokens"), &sub.result_tokens);
    let own = |c: &mut Checker,
               field: &str,
               spec: &Option<DistSpec<TokenUnit>>,
               dflt: &DistSpec<TokenUnit>| {
        c.dist(format!("{path}.{field}"), spec.as_ref().unwrap_or(dflt))
    };
    let system = own(
        c,
        "system_tokens",
        &sub.system_tokens,
        &parent.system_tokens,
    );
    let new = own(c, "new_tokens", &sub.new_tokens, &parent.new_tokens);
    let output = own(
        c,
        "output_tokens",
        &sub.output_tokens,
        &parent.output_tokens,
    );
    let reasoning = own(
        c,
        "reasoning_tokens",
        &sub.reasoning_tokens,
        &parent.reasoning_tokens,
    );
    let gap = c.dist(
        format!("{path}.tool_gap"),
        sub.tool_gap.as_ref().unwrap_or(&parent.tool_gap),
    );
    let summary = c.dist(format!("{path}.summary_tokens"), &parent.summary_tokens);
    let (
        Some(fanout),
        Some(calls),
        Some(result),
        Some(system),
        Some(new),
        Some(output),
        Some(reasoning),
        Some(gap),
        Some(summary),
    ) = (
        fanout, calls, result, system, new, output, reasoning, gap, summary,
    )
    else {
        return None;
    };
    if p > 1.0 {
        return None;
    }
    let max_fanout = fanout.quantile(0.999).round();
    if !(max_fanout.is_finite() && max_fanout <= MAX_FANOUT) {
        c.add(
            format!("{path}.fanout"),
            format!("at most {MAX_FANOUT} sub-agents start together; this distribution's p99.9 is {max_fanout}"),
        );
        return None;
    }
    if calls.mean() > 10_000.0 {
        c.add(
            format!("{path}.calls"),
            "a sub-agent loop is short: at most 10,000 calls on average",
        );
        return None;
    }
    let params = LoopParams {
        system_tokens: system,
        new_tokens: new,
        output_tokens: output,
        reasoning_tokens: reasoning,
        keep_reasoning: parent.keep_reasoning,
        tool_gap: gap,
        compact_at: (window as f64 * parent.compact_at.get().clamp(0.01, 1.0)) as u64,
        window,
        summary_tokens: summary,
    };
    check_room(c, path, &params)?;
    Some(SubAgents {
        probability: p,
        fanout,
        max_fanout: (max_fanout as u32).max(1),
        calls,
        result_tokens: result,
        blocking: sub.blocking,
        params,
    })
}

fn served_index(
    served: &mut Vec<ServedModel>,
    catalog: &Catalog,
    s: &Scenario,
    dir: Option<&Path>,
    id: &str,
    path: String,
    c: &mut Checker,
) -> Option<usize> {
    if let Some(i) = served.iter().position(|m| m.id == id) {
        return Some(i);
    }
    let Some(model) = catalog.model(id) else {
        let ids: Vec<&str> = catalog.models.keys().map(String::as_str).collect();
        let hint = closest(id, &ids)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        c.add(
            path,
            format!(
                "unknown model `{id}`{hint}; accepted: {}, or define it in a [[model]] table",
                catalog.model_ids()
            ),
        );
        return None;
    };
    let prices = model_prices(s, catalog, dir, id, model.price_sheet.as_deref(), c)?;
    served.push(ServedModel {
        id: id.to_string(),
        name: model.name.clone(),
        arch: model.arch.clone(),
        prices,
        pools: Vec::new(),
    });
    Some(served.len() - 1)
}

/// The default name of a price set.
const DEFAULT_SET: &str = "list";

/// The names of the price sets, in order of first appearance (the first is billed).
pub fn price_sets(s: &Scenario) -> Vec<String> {
    let mut sets: Vec<String> = Vec::new();
    for p in &s.prices {
        let n = p.name.clone().unwrap_or_else(|| DEFAULT_SET.to_string());
        if !sets.contains(&n) {
            sets.push(n);
        }
    }
    if sets.is_empty() {
        sets.push(DEFAULT_SET.to_string());
    }
    sets
}

/// A model's prices in every set.
fn model_prices(
    s: &Scenario,
    catalog: &Catalog,
    dir: Option<&Path>,
    model: &str,
    default_sheet: Option<&str>,
    c: &mut Checker,
) -> Option<Vec<ModelPrice>> {
    let entries: Vec<(usize, &PriceSpec)> = s
        .prices
        .iter()
        .enumerate()
        .filter(|(_, p)| p.model == model)
        .collect();
    let set_of = |p: &PriceSpec| p.name.clone().unwrap_or_else(|| DEFAULT_SET.to_string());
    for (k, (i, p)) in entries.iter().enumerate() {
        if entries[..k].iter().any(|(_, q)| set_of(q) == set_of(p)) {
            c.add(
                format!("price[{i}].model"),
                format!(
                    "a second [[price]] for model `{model}` in set `{}`",
                    set_of(p)
                ),
            );
            return None;
        }
    }
    let mut out = Vec::new();
    for set in price_sets(s) {
        // A model missing from a set is priced there by its first entry.
        let entry = entries
            .iter()
            .find(|(_, p)| set_of(p) == set)
            .or(entries.first());
        let (sheet, blended, blended_source) = match entry {
            Some((i, spec)) => resolve_price(
                catalog,
                dir,
                model,
                default_sheet,
                &format!("price[{i}]"),
                spec,
                c,
            )?,
            None => {
                let Some(sheet) = default_sheet.and_then(|id| catalog.sheet(id)) else {
                    c.add("price", format!(
                        "no prices for model `{model}`: add a [[price]] with model = \"{model}\" and `sheet` (one of {}), inline `input`/`output` rates, or an import (`litellm`, `genai_prices`)",
                        catalog.sheet_ids()
                    ));
                    return None;
                };
                let (b, src) = default_blend(sheet);
                (sheet.clone(), b, src)
            }
        };
        out.push(ModelPrice {
            set,
            sheet,
            blended,
            blended_source,
        });
    }
    Some(out)
}

fn default_blend(sheet: &PriceSheet) -> (TokenPrice, String) {
    let b = (3.0 * sheet.base.input.usd_per_mtok() + sheet.base.output.usd_per_mtok()) / 4.0;
    (
        TokenPrice::from_usd_per_mtok(b),
        "3:1 input:output blend of the sheet".to_string(),
    )
}

/// One [[price]] entry: its sheet (catalog, import or inline) and blended price.
fn resolve_price(
    catalog: &Catalog,
    dir: Option<&Path>,
    model: &str,
    default_sheet: Option<&str>,
    path: &str,
    spec: &PriceSpec,
    c: &mut Checker,
) -> Option<(PriceSheet, TokenPrice, String)> {
    let inline = spec.input.is_some() || spec.output.is_some();
    let given = [
        spec.sheet.is_some(),
        spec.litellm.is_some(),
        spec.genai_prices.is_some(),
        inline,
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if given > 1 {
        c.add(
            path,
            "give one of `sheet`, `litellm`, `genai_prices` or inline rates (input, output, ...)",
        );
        return None;
    }
    let read = |file: &str, field: &str, c: &mut Checker| -> Option<String> {
        let p = dir.map_or_else(|| Path::new(file).to_path_buf(), |d| d.join(file));
        match std::fs::read_to_string(&p) {
            Ok(t) => Some(t),
            Err(e) => {
                c.add(
                    format!("{path}.{field}.file"),
                    format!("cannot read {}: {e}", p.display()),
                );
                None
            }
        }
    };
    let written: Option<PriceSheetSpec> = if let Some(l) = &spec.litellm {
        let text = read(&l.file, "litellm", c)?;
        match from_litellm(&text, &l.key, &l.file) {
            Ok(w) => Some(w),
            Err(e) => {
                c.add(format!("{path}.litellm"), e.to_string());
                return None;
            }
        }
    } else if let Some(g) = &spec.genai_prices {
        let text = read(&g.file, "genai_prices", c)?;
        match from_genai_prices(&text, &g.provider, &g.model, &g.file) {
            Ok(w) => Some(w),
            Err(e) => {
                c.add(format!("{path}.genai_prices"), e.to_string());
                return None;
            }
        }
    } else if inline {
        let (Some(input), Some(output)) = (spec.input, spec.output) else {
            c.add(path, "inline rates need both `input` and `output`");
            return None;
        };
        let plain = |v| Sourced {
            value: v,
            source: None,
        };
        Some(PriceSheetSpec {
            id: model.to_string(),
            name: format!("{model} (scenario)"),
            input: plain(input),
            cached_input: spec.cached_input.map(plain),
            cache_write: spec.cache_write.map(plain),
            output: plain(output),
            reasoning: spec.reasoning.map(plain),
            tiers: spec.tiers.clone(),
            periods: spec.periods.clone(),
        })
    } else {
        None
    };
    let mut sheet = match written {
        Some(w) => match w.resolve() {
            Ok(sheet) => sheet,
            Err(e) => {
                c.add(path, e.to_string());
                return None;
            }
        },
        None => {
            let Some(id) = spec.sheet.as_deref().or(default_sheet) else {
                c.add(path, format!(
                    "no prices for model `{model}`: give `sheet` (one of {}), inline `input`/`output` rates, or an import (`litellm`, `genai_prices`)",
                    catalog.sheet_ids()
                ));
                return None;
            };
            match catalog.sheet(id) {
                Some(sheet) => sheet.clone(),
                None => {
                    c.add(
                        format!("{path}.sheet"),
                        format!(
                            "unknown price sheet `{id}`; accepted: {}",
                            catalog.sheet_ids()
                        ),
                    );
                    return None;
                }
            }
        }
    };
    if let Some(f) = spec.scale {
        if !(f.is_finite() && f > 0.0) {
            c.add(
                format!("{path}.scale"),
                format!("scale {f}: must be a positive number (1 = the sheet as listed)"),
            );
            return None;
        }
        sheet.scale(f);
    }
    if spec.cache_writes {
        if sheet.base.cache_write.is_none() {
            c.add(
                format!("{path}.cache_writes"),
                "the sheet has no cache_write price",
            );
            return None;
        }
        sheet.bill_cache_writes = true;
    }
    let (blended, source) = match spec.blended {
        Some(b) => (
            TokenPrice::from_usd_per_mtok(b.get()),
            "scenario".to_string(),
        ),
        None => default_blend(&sheet),
    };
    Some((sheet, blended, source))
}

/// Splits `n` into parts proportional to `shares` (largest remainder, ties by index).
pub fn apportion(n: u64, shares: &[f64]) -> Vec<u64> {
    let total: f64 = shares.iter().sum();
    if shares.is_empty() || total <= 0.0 || total.is_nan() {
        return vec![0; shares.len()];
    }
    let exact: Vec<f64> = shares.iter().map(|s| n as f64 * s / total).collect();
    let mut out: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    // Saturating: with n near u64::MAX the floors can sum past it.
    let floors = out.iter().fold(0u64, |a, &b| a.saturating_add(b));
    // At most one unit per share is left by exact arithmetic; more is float rounding of a
    // count beyond 2^53, which no valid scenario has.
    let mut left = n.saturating_sub(floors).min(shares.len() as u64);
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = exact[a] - exact[a].floor();
        let rb = exact[b] - exact[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &i in order.iter().cycle() {
        if left == 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::apportion;

    #[test]
    fn apportion_is_exact() {
        assert_eq!(apportion(10, &[0.5, 0.3, 0.2]), vec![5, 3, 2]);
        assert_eq!(apportion(7, &[1.0, 1.0, 1.0]), vec![3, 2, 2]);
        assert_eq!(
            apportion(1_000_000, &[0.7, 0.3]).iter().sum::<u64>(),
            1_000_000
        );
        // Found by the fuzzer: u64::MAX agents made the floors overflow and the remainder
        // loop run for ever.
        assert_eq!(apportion(u64::MAX, &[0.35, 0.65]).len(), 2);
    }
}
