//! Property tests: the invariants of docs/invariants.md on random small scenarios.
//!
//! A strategy draws valid scenarios as TOML text (the real entry point: what a user writes),
//! small enough to run in a few tens of milliseconds: a fleet of up to 150 agents in one or two
//! segments (agents or monitors, reasoning, compaction, retries, sub-agents), one to three
//! pools of catalog hardware that fits the model, with batch and queue limits from generous to
//! overloaded (rejections, preemptions), every router, rate limits, autoscaling, rented or
//! owned devices, electricity prices and tariffs, one or two price sets with time-of-day
//! periods, an SLA, and cell sampling. Each case is run on one thread, on two threads and as
//! merged shards, and every run is checked against every invariant.

mod common;

use std::fmt;
use std::sync::OnceLock;

use proptest::prelude::*;
use tokenfleet_fleet::run::{RunOutput, Shard, run_shard};
use tokenfleet_models::Money;
use tokenfleet_models::prices::Usage;
use tokenfleet_reports::calls::CallsSampleCsv;
use tokenfleet_reports::hourly::HourlyCsv;
use tokenfleet_reports::json::SummaryJson;
use tokenfleet_reports::partial::{PartialFile, ScenarioSource};
use tokenfleet_reports::{Report, ReportContext, Summary};
use tokenfleet_scenario::Origin;
use tokenfleet_scenario::Scenario;
use tokenfleet_serving::ledger::PoolHourCost;
use tokenfleet_setup::Setup;

/// A device and a model shape that fits it, and whether the catalog quotes a rental range.
struct Combo {
    hardware: &'static str,
    model: &'static str,
    tp: u32,
    weights: &'static str,
    kv_cache: Option<&'static str>,
    rent_range: bool,
}

const fn combo(
    hardware: &'static str,
    model: &'static str,
    tp: u32,
    weights: &'static str,
    kv_cache: Option<&'static str>,
    rent_range: bool,
) -> Combo {
    Combo {
        hardware,
        model,
        tp,
        weights,
        kv_cache,
        rent_range,
    }
}

const MODELS: [&str; 2] = ["llama-3.1-8b", "qwen3-32b"];

/// The index in `COMBOS` of the smallest KV cache (a bf16 cache holds about half a context
/// window, so long outputs preempt).
const SMALL_CACHE: usize = 4;

const COMBOS: &[Combo] = &[
    combo("h100-sxm", "llama-3.1-8b", 1, "bf16", None, true),
    combo("h200-sxm", "llama-3.1-8b", 1, "fp8", Some("fp8"), true),
    combo("a100-80gb-sxm", "llama-3.1-8b", 1, "bf16", None, true),
    // Small caches: a few long contexts fill them.
    combo("rtx-4090", "llama-3.1-8b", 1, "fp8", Some("fp8"), true),
    combo("rtx-4090", "llama-3.1-8b", 1, "fp8", None, true),
    combo("mi300x", "llama-3.1-8b", 1, "bf16", None, true),
    combo("b200", "llama-3.1-8b", 1, "fp8", None, true),
    combo("h100-sxm", "qwen3-32b", 2, "bf16", None, true),
    combo("h200-sxm", "qwen3-32b", 1, "fp8", Some("fp8"), true),
    combo("mi355x", "qwen3-32b", 1, "bf16", None, false),
];

#[derive(Clone, Debug)]
enum Budget {
    Lognormal { p10_k: u32, ratio: f64 },
    Pareto { min_k: u32, alpha: f64 },
    Constant { k: u32 },
}

#[derive(Clone, Debug)]
enum Gap {
    Exponential { mean_s: f64 },
    Uniform { min_s: f64, width_s: f64 },
}

#[derive(Clone, Debug)]
struct Sub {
    probability: f64,
    fanout: u32,
    calls: u32,
}

#[derive(Clone, Debug)]
struct SegmentCase {
    monitor: bool,
    model_pick: usize,
    budget: Budget,
    task_k: u32,
    spread: f64,
    system: u32,
    new_mean: u32,
    output_p10: u32,
    output_ratio: f64,
    reasoning_mean: Option<u32>,
    keep_reasoning: bool,
    gap: Gap,
    compact_at: f64,
    summary: u32,
    retry_max: u32,
    backoff_s: u32,
    sub: Option<Sub>,
    profile: &'static str,
    timezone: i32,
}

#[derive(Clone, Debug)]
enum CostCase {
    Rent {
        cents: u32,
    },
    RentRange(&'static str),
    Own {
        price: Option<u32>,
        months: u32,
        overhead: f64,
        cost_of_capital: f64,
    },
}

#[derive(Clone, Debug)]
enum Electricity {
    Price {
        mills: u32,
    },
    Region(&'static str),
    Tariff {
        peak_mills: u32,
        off_mills: u32,
        from: u32,
        hours: u32,
        timezone: i32,
    },
}

#[derive(Clone, Debug)]
struct Autoscale {
    below: u32,
    above: u32,
    metric: &'static str,
    target: f64,
    interval_s: u32,
    delay_s: u32,
    window_s: u32,
}

#[derive(Clone, Debug)]
struct PoolCase {
    combo: usize,
    replicas: u32,
    max_seqs: u32,
    max_batch_tokens: u32,
    queue_limit: u32,
    router: &'static str,
    slack: u32,
    retention_s: u32,
    rate_limit: Option<(u32, u32)>,
    autoscale: Option<Autoscale>,
    cost: CostCase,
    pay_energy: Option<bool>,
    electricity: Option<Electricity>,
    pue: Option<f64>,
}

#[derive(Clone, Debug)]
struct PriceCase {
    /// Micro-dollars per million tokens: whole pico-dollars per token, so billing is exact.
    input: u32,
    cached_share: f64,
    output: u32,
    blended: Option<u32>,
    /// A time-of-day period (UTC hours from, length) at other rates.
    period: Option<(u32, u32, f64)>,
    /// A second, what-if price set scaling the first.
    alt_scale: Option<f64>,
}

#[derive(Clone, Debug)]
struct Sla {
    ttft_ms: u32,
    e2e_s: Option<u32>,
    penalty: f64,
}

/// A random small scenario; printed as its TOML text when a case fails.
#[derive(Clone)]
struct Case {
    seed: u64,
    agents: u32,
    minutes: u32,
    replicas_per_cell: u32,
    sample: Option<f64>,
    weekend: bool,
    segments: Vec<SegmentCase>,
    share0: f64,
    pools: Vec<PoolCase>,
    prices: [PriceCase; 2],
    energy: Electricity,
    pue: f64,
    sla: Option<Sla>,
    shards: usize,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{} shards of\n{}", self.shards, self.toml())
    }
}

fn electricity(e: &Electricity) -> String {
    match e {
        Electricity::Price { mills } => format!("\"${:.3}/kWh\"", *mills as f64 / 1000.0),
        Electricity::Region(r) => format!("\"{r}\""),
        Electricity::Tariff {
            peak_mills,
            off_mills,
            from,
            hours,
            timezone,
        } => format!(
            "{{ peak = \"${:.3}/kWh\", off_peak = \"${:.3}/kWh\", peak_hours = \"{:02}:00-{:02}:00\", timezone = {timezone} }}",
            *peak_mills as f64 / 1000.0,
            *off_mills as f64 / 1000.0,
            from,
            (from + hours) % 24
        ),
    }
}

fn per_m(micro: u64) -> String {
    format!("\"${}.{:06}/M\"", micro / 1_000_000, micro % 1_000_000)
}

impl Case {
    /// The models the pools serve, in `MODELS` order.
    fn served(&self) -> Vec<&'static str> {
        MODELS
            .iter()
            .copied()
            .filter(|m| self.pools.iter().any(|p| COMBOS[p.combo].model == *m))
            .collect()
    }

    fn toml(&self) -> String {
        use std::fmt::Write;
        let served = self.served();
        let mut s = String::new();
        let w = &mut s;
        writeln!(w, "name = \"prop\"\nseed = {}\n", self.seed).unwrap();
        writeln!(w, "[simulation]\nduration = \"{}min\"", self.minutes).unwrap();
        if self.weekend {
            writeln!(w, "start = \"saturday\"").unwrap();
        }
        writeln!(
            w,
            "\n[engine]\nreplicas_per_cell = {}\nsample = {}\ncalls_sample_rate = 1\ncalls_sample_max = 10000000\n",
            self.replicas_per_cell,
            self.sample
                .map_or("\"full\"".to_string(), |f| format!("{f}"))
        )
        .unwrap();
        writeln!(w, "[fleet]\nagents = {}\n", self.agents).unwrap();
        for (i, g) in self.segments.iter().enumerate() {
            let share = match (self.segments.len(), i) {
                (1, _) => 1.0,
                (_, 0) => self.share0,
                _ => 1.0 - self.share0,
            };
            let model = served[g.model_pick % served.len()];
            writeln!(
                w,
                "[[fleet.segment]]\nname = \"s{i}\"\nshare = {share}\nmodel = \"{model}\"\nprofile = \"{}\"\ntimezone = {}",
                g.profile, g.timezone
            )
            .unwrap();
            if g.monitor {
                writeln!(w, "kind = \"monitor\"").unwrap();
            }
            if self.weekend {
                writeln!(w, "weekend = {{ factor = 0.5 }}").unwrap();
            }
            match g.budget {
                Budget::Lognormal { p10_k, ratio } => writeln!(
                    w,
                    "daily_tokens = {{ dist = \"lognormal\", p10 = \"{p10_k}k\", p90 = \"{:.0}k\" }}",
                    p10_k as f64 * ratio
                ),
                Budget::Pareto { min_k, alpha } => writeln!(
                    w,
                    "daily_tokens = {{ dist = \"pareto\", min = \"{min_k}k\", alpha = {alpha}, max = \"{}k\" }}",
                    min_k * 4
                ),
                Budget::Constant { k } => writeln!(w, "daily_tokens = \"{k}k\""),
            }
            .unwrap();
            writeln!(w, "\n[fleet.segment.task]").unwrap();
            if !g.monitor {
                writeln!(w, "tokens = \"{}k\"\nspread = {}", g.task_k, g.spread).unwrap();
            }
            writeln!(
                w,
                "system_tokens = {}\nnew_tokens = {{ dist = \"exponential\", mean = {} }}\noutput_tokens = {{ dist = \"lognormal\", p10 = {}, p90 = {:.0} }}",
                g.system,
                g.new_mean,
                g.output_p10,
                g.output_p10 as f64 * g.output_ratio
            )
            .unwrap();
            if let Some(r) = g.reasoning_mean {
                writeln!(
                    w,
                    "reasoning_tokens = {{ dist = \"exponential\", mean = {r} }}\nkeep_reasoning = {}",
                    g.keep_reasoning
                )
                .unwrap();
            }
            match g.gap {
                Gap::Exponential { mean_s } => writeln!(
                    w,
                    "tool_gap = {{ dist = \"exponential\", mean = \"{mean_s}s\" }}"
                ),
                Gap::Uniform { min_s, width_s } => writeln!(
                    w,
                    "tool_gap = {{ dist = \"uniform\", min = \"{min_s}s\", max = \"{}s\" }}",
                    min_s + width_s
                ),
            }
            .unwrap();
            // Qwen3-32B's 40k window must leave room for the prompt, a summary and a call.
            let compact_at = if model == "qwen3-32b" {
                g.compact_at.max(0.62)
            } else {
                g.compact_at
            };
            writeln!(
                w,
                "compact_at = {compact_at}\nsummary_tokens = {}",
                g.summary
            )
            .unwrap();
            writeln!(
                w,
                "\n[fleet.segment.task.retry]\nmax = {}\nbackoff = \"{}s\"",
                g.retry_max, g.backoff_s
            )
            .unwrap();
            if let (Some(sub), false) = (&g.sub, g.monitor) {
                writeln!(
                    w,
                    "\n[fleet.segment.task.subagents]\nprobability = {}\nfanout = {}\ncalls = {}\nresult_tokens = 500",
                    sub.probability, sub.fanout, sub.calls
                )
                .unwrap();
            }
            writeln!(w).unwrap();
        }
        for (i, p) in self.pools.iter().enumerate() {
            let c = &COMBOS[p.combo];
            writeln!(
                w,
                "[[cluster.pool]]\nname = \"p{i}\"\nhardware = \"{}\"\nmodel = \"{}\"\nreplicas = {}\ntp = {}\nweights = \"{}\"",
                c.hardware, c.model, p.replicas, c.tp, c.weights
            )
            .unwrap();
            if let Some(kv) = c.kv_cache {
                writeln!(w, "kv_cache = \"{kv}\"").unwrap();
            }
            writeln!(
                w,
                "max_seqs = {}\nmax_batch_tokens = {}\nqueue_limit = {}\nrouter = \"{}\"\naffinity_slack = {}\nprefix_retention = \"{}s\"",
                p.max_seqs, p.max_batch_tokens, p.queue_limit, p.router, p.slack, p.retention_s
            )
            .unwrap();
            if let Some((calls, per)) = p.rate_limit {
                writeln!(w, "rate_limit = {{ calls = {calls}, per = \"{per}s\" }}").unwrap();
            }
            if let Some(a) = &p.autoscale {
                writeln!(
                    w,
                    "autoscale = {{ min = {}, max = {}, metric = \"{}\", target = {}, interval = \"{}s\", provision_delay = \"{}s\", scale_down_window = \"{}s\" }}",
                    p.replicas.saturating_sub(a.below).max(1),
                    p.replicas + a.above,
                    a.metric,
                    a.target,
                    a.interval_s,
                    a.delay_s,
                    a.window_s
                )
                .unwrap();
            }
            match &p.cost {
                CostCase::RentRange(point) if c.rent_range => {
                    writeln!(w, "rent = \"{point}\"").unwrap()
                }
                // No catalog range for the device: a quoted price instead.
                CostCase::RentRange(_) => writeln!(w, "rent = \"$2.50/h\"").unwrap(),
                CostCase::Rent { cents } => {
                    writeln!(w, "rent = \"${}.{:02}/h\"", cents / 100, cents % 100).unwrap()
                }
                CostCase::Own {
                    price,
                    months,
                    overhead,
                    cost_of_capital,
                } => {
                    let price = price.map_or(String::new(), |p| format!("price = \"${p}\", "));
                    writeln!(
                        w,
                        "own = {{ {price}depreciation = \"{}d\", overhead = {overhead}, cost_of_capital = {cost_of_capital} }}",
                        months * 30
                    )
                    .unwrap()
                }
            }
            if let Some(pay) = p.pay_energy {
                writeln!(w, "pay_energy = {pay}").unwrap();
            }
            if let Some(e) = &p.electricity {
                writeln!(w, "electricity = {}", electricity(e)).unwrap();
            }
            if let Some(pue) = p.pue {
                writeln!(w, "pue = {pue}").unwrap();
            }
            writeln!(w).unwrap();
        }
        writeln!(
            w,
            "[energy]\nelectricity = {}\npue = {}\n",
            electricity(&self.energy),
            self.pue
        )
        .unwrap();
        for set in ["list", "alt"] {
            for m in &served {
                let i = MODELS.iter().position(|x| x == m).unwrap();
                let pc = &self.prices[i];
                let scale = match (set, pc.alt_scale) {
                    ("list", _) => 1.0,
                    (_, Some(s)) => s,
                    (_, None) => continue,
                };
                let rate = |micro: u32| per_m((micro as f64 * scale).round() as u64);
                let cached = (pc.input as f64 * pc.cached_share).round() as u32;
                writeln!(
                    w,
                    "[[price]]\nname = \"{set}\"\nmodel = \"{m}\"\ninput = {}\ncached_input = {}\noutput = {}",
                    rate(pc.input),
                    rate(cached),
                    rate(pc.output)
                )
                .unwrap();
                if let Some(b) = pc.blended {
                    writeln!(w, "blended = {}", rate(b)).unwrap();
                }
                if let Some((from, hours, factor)) = pc.period {
                    let f = |micro: u32| rate((micro as f64 * factor).round() as u32);
                    writeln!(
                        w,
                        "[[price.period]]\nstart = \"{:02}:00\"\nend = \"{:02}:30\"\ninput = {}\ncached_input = {}\noutput = {}",
                        from,
                        (from + hours) % 24,
                        f(pc.input),
                        f(cached),
                        f(pc.output)
                    )
                    .unwrap();
                }
                writeln!(w).unwrap();
            }
        }
        if let Some(sla) = &self.sla {
            writeln!(w, "[sla]\nttft = \"{}ms\"", sla.ttft_ms).unwrap();
            if let Some(e2e) = sla.e2e_s {
                writeln!(w, "e2e = \"{e2e}s\"").unwrap();
            }
            writeln!(w, "penalty = {}", sla.penalty).unwrap();
        }
        s
    }

    /// The scenario, resolved; the strategy only draws valid scenarios.
    fn setup(&self) -> Setup {
        let origin = Origin {
            file: "prop.toml".into(),
            dir: None,
            text: self.toml(),
        };
        let scenario = Scenario::from_text(&origin, &[]).unwrap_or_else(|e| panic!("{e}"));
        scenario.resolve(&origin).unwrap_or_else(|e| panic!("{e}"))
    }
}

/// Two decimal places, so that the TOML text shows what was drawn.
fn dec(lo: f64, hi: f64) -> impl Strategy<Value = f64> {
    ((lo * 100.0) as u32..=(hi * 100.0) as u32).prop_map(|x| x as f64 / 100.0)
}

fn segment() -> impl Strategy<Value = SegmentCase> {
    let budget = prop_oneof![
        (1000u32..=8000, dec(1.2, 3.0))
            .prop_map(|(p10_k, ratio)| Budget::Lognormal { p10_k, ratio }),
        (1000u32..=5000, dec(1.3, 3.0)).prop_map(|(min_k, alpha)| Budget::Pareto { min_k, alpha }),
        (2000u32..=20_000).prop_map(|k| Budget::Constant { k }),
    ];
    let gap = prop_oneof![
        dec(0.5, 8.0).prop_map(|mean_s| Gap::Exponential { mean_s }),
        (dec(0.0, 3.0), dec(0.5, 8.0)).prop_map(|(min_s, width_s)| Gap::Uniform { min_s, width_s }),
    ];
    let sub = proptest::option::weighted(
        0.3,
        (dec(0.01, 0.2), 1u32..=3, 1u32..=4).prop_map(|(probability, fanout, calls)| Sub {
            probability,
            fanout,
            calls,
        }),
    );
    (
        (
            proptest::bool::weighted(0.15),
            0usize..2,
            budget,
            50u32..=3000,
            dec(0.0, 1.5),
            500u32..=4000,
            100u32..=2000,
        ),
        (
            10u32..=150,
            dec(2.0, 8.0),
            proptest::option::weighted(0.5, 50u32..=1000),
            any::<bool>(),
            gap,
            dec(0.35, 0.95),
            500u32..=2000,
        ),
        (
            0u32..=3,
            1u32..=5,
            sub,
            prop_oneof![Just("flat"), Just("workday"), Just("evening")],
            -12i32..=14,
        ),
    )
        .prop_map(
            |(
                (monitor, model_pick, budget, task_k, spread, system, new_mean),
                (
                    output_p10,
                    output_ratio,
                    reasoning_mean,
                    keep_reasoning,
                    gap,
                    compact_at,
                    summary,
                ),
                (retry_max, backoff_s, sub, profile, timezone),
            )| SegmentCase {
                monitor,
                model_pick,
                budget,
                task_k,
                spread,
                system,
                new_mean,
                output_p10,
                output_ratio,
                reasoning_mean,
                keep_reasoning,
                gap,
                compact_at,
                summary,
                retry_max,
                backoff_s,
                sub,
                profile,
                timezone,
            },
        )
}

fn electricity_case() -> impl Strategy<Value = Electricity> {
    prop_oneof![
        (20u32..=300).prop_map(|mills| Electricity::Price { mills }),
        prop_oneof![Just("us"), Just("us-texas"), Just("china-west")].prop_map(Electricity::Region),
        (50u32..=400, 10u32..=200, 0u32..24, 1u32..=23, -8i32..=9).prop_map(
            |(peak_mills, off_mills, from, hours, timezone)| Electricity::Tariff {
                peak_mills,
                off_mills,
                from,
                hours,
                timezone,
            }
        ),
    ]
}

fn pool() -> impl Strategy<Value = PoolCase> {
    let autoscale = proptest::option::weighted(
        0.25,
        (
            0u32..=2,
            0u32..=3,
            prop_oneof![Just("kv"), Just("busy"), Just("queue")],
            dec(0.2, 1.0),
            30u32..=600,
            0u32..=600,
            0u32..=900,
        )
            .prop_map(
                |(below, above, metric, target, interval_s, delay_s, window_s)| Autoscale {
                    below,
                    above,
                    metric,
                    target,
                    interval_s,
                    delay_s,
                    window_s,
                },
            ),
    );
    let cost = prop_oneof![
        (50u32..=900).prop_map(|cents| CostCase::Rent { cents }),
        prop_oneof![Just("low"), Just("typical"), Just("high")].prop_map(CostCase::RentRange),
        (
            proptest::option::of(1000u32..=50_000),
            4u32..=72,
            dec(0.0, 1.0),
            dec(0.0, 0.15)
        )
            .prop_map(|(price, months, overhead, cost_of_capital)| CostCase::Own {
                price,
                months,
                overhead,
                cost_of_capital,
            }),
    ];
    // From overloaded (one sequence, a one-call queue) to generous.
    let batch = prop_oneof![
        (1u32..=4, 1u32..=4),
        (4u32..=64, 4u32..=64),
        (64u32..=256, 64u32..=1024)
    ];
    (
        (
            // A third of the pools have the small cache, where long outputs preempt.
            prop_oneof![1 => Just(SMALL_CACHE), 2 => 0..COMBOS.len()],
            1u32..=4,
            batch,
            prop_oneof![Just(2048u32), Just(4096), Just(8192)],
            prop_oneof![
                Just("round-robin"),
                Just("least-loaded"),
                Just("power-of-two"),
                Just("affinity")
            ],
            0u32..=16,
            30u32..=3600,
        ),
        (
            proptest::option::weighted(0.15, (1u32..=10, 5u32..=120)),
            autoscale,
            cost,
            proptest::option::of(any::<bool>()),
            proptest::option::weighted(0.3, electricity_case()),
            proptest::option::weighted(0.2, dec(1.0, 2.0)),
        ),
    )
        .prop_map(
            |(
                (
                    combo,
                    replicas,
                    (max_seqs, queue_limit),
                    max_batch_tokens,
                    router,
                    slack,
                    retention_s,
                ),
                (rate_limit, autoscale, cost, pay_energy, electricity, pue),
            )| PoolCase {
                combo,
                replicas,
                max_seqs,
                max_batch_tokens,
                queue_limit,
                router,
                slack,
                retention_s,
                rate_limit,
                autoscale,
                cost,
                pay_energy,
                electricity,
                pue,
            },
        )
}

fn price() -> impl Strategy<Value = PriceCase> {
    (
        10_000u32..=5_000_000,
        dec(0.0, 1.0),
        20_000u32..=20_000_000,
        proptest::option::of(10_000u32..=5_000_000),
        proptest::option::weighted(0.3, (0u32..24, 1u32..=12, dec(0.2, 2.0))),
        proptest::option::weighted(0.3, dec(0.1, 3.0)),
    )
        .prop_map(
            |(input, cached_share, output, blended, period, alt_scale)| PriceCase {
                input,
                cached_share,
                output,
                blended,
                period,
                alt_scale,
            },
        )
}

fn scenario() -> impl Strategy<Value = Case> {
    (
        (
            // TOML integers are signed 64-bit.
            0..=i64::MAX as u64,
            10u32..=150,
            15u32..=100,
            1u32..=3,
            proptest::option::weighted(0.15, prop_oneof![Just(0.5), Just(0.75)]),
            proptest::bool::weighted(0.15),
        ),
        (
            proptest::collection::vec(segment(), 1..=2),
            dec(0.2, 0.8),
            proptest::collection::vec(pool(), 1..=3),
            [price(), price()],
            electricity_case(),
            dec(1.0, 2.0),
        ),
        (
            proptest::option::weighted(
                0.3,
                (
                    50u32..=5000,
                    proptest::option::of(5u32..=120),
                    dec(0.0, 1.0),
                )
                    .prop_map(|(ttft_ms, e2e_s, penalty)| Sla {
                        ttft_ms,
                        e2e_s,
                        penalty,
                    }),
            ),
            2usize..=3,
        ),
    )
        .prop_map(
            |(
                (seed, agents, minutes, replicas_per_cell, sample, weekend),
                (segments, share0, pools, prices, energy, pue),
                (sla, shards),
            )| Case {
                seed,
                agents,
                minutes,
                replicas_per_cell,
                sample,
                weekend,
                segments,
                share0,
                pools,
                prices,
                energy,
                pue,
                sla,
                shards,
            },
        )
}

fn pools() -> &'static (rayon::ThreadPool, rayon::ThreadPool) {
    static POOLS: OnceLock<(rayon::ThreadPool, rayon::ThreadPool)> = OnceLock::new();
    POOLS.get_or_init(|| {
        let make = |n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
        };
        (make(1), make(2))
    })
}

/// summary.json (without its wall-clock fields), hourly.csv and calls_sample.csv.
fn render(setup: &Setup, run: &RunOutput) -> Vec<(&'static str, String)> {
    let summary = Summary::new(setup, run);
    let ctx = ReportContext {
        setup,
        run,
        summary: &summary,
    };
    let reports: [&dyn Report; 3] = [&SummaryJson, &HourlyCsv, &CallsSampleCsv];
    reports
        .iter()
        .map(|r| {
            let mut bytes = Vec::new();
            r.write(&ctx, &mut bytes).unwrap();
            let mut text = String::from_utf8(bytes).unwrap();
            if r.file_name() == "summary.json" {
                let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
                let engine = v["engine"].as_object_mut().unwrap();
                for k in ["wall_seconds", "events_per_second", "calls_per_second"] {
                    engine.remove(k).expect("a wall-clock field");
                }
                text = serde_json::to_string_pretty(&v).unwrap();
            }
            (r.file_name(), text)
        })
        .collect()
}

fn assert_same_bytes(a: &[(&str, String)], b: &[(&str, String)], what: &str) {
    for ((name, x), (_, y)) in a.iter().zip(b) {
        assert!(x == y, "{name} differs: {what}");
    }
}

/// Invariant 1, per segment and per agent: the segments' tallies add up to the fleet's, and
/// the agents' realized tokens (their own calls and their sub-agents') to the tokens completed.
fn check_segments(out: &RunOutput) {
    let t = &out.tally;
    let sum = |f: fn(&tokenfleet_fleet::results::SegmentTally) -> u64| -> u64 {
        out.segments.iter().map(f).sum()
    };
    assert_eq!(sum(|s| s.calls_completed), t.calls_completed);
    assert_eq!(sum(|s| s.input), t.input_completed);
    assert_eq!(sum(|s| s.input_cached), t.input_cached_completed);
    assert_eq!(sum(|s| s.output), t.output_completed);
    assert_eq!(sum(|s| s.rejected), t.calls_rejected);
    assert_eq!(sum(|s| s.retries), t.retries);
    assert_eq!(sum(|s| s.tasks_started), t.tasks_started);
    assert!(sum(|s| s.subagent_calls) <= t.subagent_calls);
    assert!(sum(|s| s.compactions) <= t.compactions);
    let realized: u64 = out.agent_days.iter().map(|a| a.realized).sum();
    assert_eq!(
        realized,
        t.input_completed + t.output_completed,
        "agents' tokens"
    );
}

/// Invariant 2: revenue is the sum over calls (every call is sampled here), by token class and
/// per price set; SLA refunds are the sum over late calls; hardware cost is the device-time at
/// the quoted rate; the summary's totals are the sums of their components.
fn check_money(case: &Case, setup: &Setup, out: &RunOutput) {
    let total = out.ledger.total();
    let t = &out.tally;
    assert_eq!(
        out.calls.len() as u64,
        t.calls_completed,
        "every call sampled"
    );
    let sets = setup.price_sets.len();
    let (mut itemized, mut blended, mut penalty) = (Money::ZERO, Money::ZERO, Money::ZERO);
    let mut per_set = vec![Money::ZERO; sets];
    for c in &out.calls {
        let served = &setup.served[setup.pools[c.pool as usize].model];
        // No generated sheet gives reasoning a rate of its own.
        assert_eq!(common::call_charge(setup, c, 0), c.revenue);
        let tokens = (c.input_uncached + c.input_cached + c.output) as u64;
        assert_eq!(served.blended().of(tokens), c.revenue_blended);
        for (k, slot) in per_set.iter_mut().enumerate() {
            *slot += common::call_charge(setup, c, k);
        }
        itemized += c.revenue;
        blended += c.revenue_blended;
        if let Some(sla) = setup.sla {
            let late = sla.ttft.is_some_and(|x| c.ttft > x) || sla.e2e.is_some_and(|x| c.e2e > x);
            if late {
                penalty += Money::from_pico(c.revenue.pico() * sla.penalty_ppm as i128 / 1_000_000);
            }
        }
    }
    assert_eq!(itemized, total.revenue_itemized(), "itemized revenue");
    assert_eq!(blended, total.revenue_blended, "blended revenue");
    assert_eq!(penalty, total.penalty, "SLA refunds");
    assert_eq!(per_set[0], itemized, "the billed set");
    for (k, s) in per_set.iter().enumerate() {
        assert_eq!(*s, total.sets[k].0, "price set {k}");
        let by_agents: Money = out.agent_days.iter().map(|a| a.revenue[k]).sum();
        assert_eq!(by_agents, *s, "price set {k} over agents");
    }
    // By class, from the tokens alone, where one rate applies all day.
    for (m, served) in setup.served.iter().enumerate() {
        let pc = &case.prices[MODELS.iter().position(|x| *x == served.id).unwrap()];
        if pc.period.is_some() {
            continue;
        }
        let rates = served.sheet().charge(
            &Usage {
                input_uncached: 1,
                input_cached: 1,
                output: 1,
                reasoning: 0,
            },
            0,
        );
        let mut pt = tokenfleet_serving::ledger::PoolHour::default();
        for p in served.pools.iter() {
            pt.merge(&out.ledger.pool_total(*p));
        }
        let of = |rate: Money, n: u64| Money::from_pico(rate.pico() * n as i128);
        assert_eq!(
            pt.revenue_uncached,
            of(rates.input_uncached, pt.input_uncached),
            "model {m}"
        );
        assert_eq!(pt.revenue_cached, of(rates.input_cached, pt.input_cached));
        assert_eq!(
            pt.revenue_output + pt.revenue_reasoning,
            of(rates.output, pt.output)
        );
    }

    // Hardware: the device-time at the rate, rounded once per (pool, hour) row.
    for (p, pool) in setup.pools.iter().enumerate() {
        let pt = out.ledger.pool_total(p);
        let simulated = out.replicas_simulated[p] as u128;
        if pool.autoscale.is_none() {
            assert_eq!(
                pt.provisioned_ns,
                simulated * setup.horizon.ns() as u128,
                "pool {p}: every replica provisioned throughout"
            );
        } else {
            assert!(pt.provisioned_ns <= simulated * setup.horizon.ns() as u128);
        }
        let devices = pool.perf.devices as u128;
        let hardware: Money = (0..setup.hours)
            .map(|h| PoolHourCost::of(out.ledger.row(p, h), pool, h).hardware)
            .sum();
        let exact = pool.device_rate.over_ns(pt.provisioned_ns * devices);
        assert!(
            (hardware - exact).pico().abs() <= setup.hours as i128,
            "pool {p}: hardware {hardware:?} vs {exact:?}"
        );
    }

    // The summary's figures are the sums of their parts (to the displayed micro-dollar).
    let s = Summary::new(setup, out);
    let close = |a: f64, b: f64, n: f64, what: &str| {
        assert!(
            (a - b).abs() <= n * 1e-6 + 1e-9 * a.abs(),
            "{what}: {a} vs {b}"
        );
    };
    let r = &s.revenue_usd;
    let c = &r.itemized_by_class;
    close(
        r.itemized,
        c.input_uncached + c.input_cached + c.output + c.reasoning,
        4.0,
        "itemized revenue by class",
    );
    close(
        s.cost_usd.total,
        s.cost_usd.hardware + s.cost_usd.energy,
        2.0,
        "cost",
    );
    let n = s.pools.len() as f64;
    close(
        s.cost_usd.hardware,
        s.pools.iter().map(|p| p.cost_usd.hardware).sum(),
        n + 1.0,
        "hardware over pools",
    );
    close(
        s.cost_usd.energy,
        s.pools.iter().map(|p| p.cost_usd.energy).sum(),
        n + 1.0,
        "energy over pools",
    );
    close(
        s.margin_usd,
        r.itemized - r.sla_penalty - s.cost_usd.total,
        4.0,
        "margin",
    );
}

/// Invariant 3: KV within capacity at every moment (the peak) and on average, busy time within
/// provisioned time, roofline-active time within busy time, and each device's mean power
/// between its idle power and its TDP (energy between idle x time and peak x time).
fn check_bounds(setup: &Setup, out: &RunOutput) {
    for (p, pool) in setup.pools.iter().enumerate() {
        let cap = pool.perf.kv_capacity_tokens;
        let devices = pool.perf.devices as f64;
        for h in 0..setup.hours {
            let r = out.ledger.row(p, h);
            assert!(
                r.kv_peak_tokens <= cap,
                "pool {p} hour {h}: KV peak {} beyond capacity {cap}",
                r.kv_peak_tokens
            );
            assert!(
                r.kv_used_area + r.kv_retained_area <= cap as u128 * r.provisioned_ns,
                "pool {p} hour {h}: KV beyond capacity"
            );
            assert!(r.busy_ns <= r.provisioned_ns, "pool {p} hour {h}: busy");
            assert!(r.active_ns <= r.busy_ns, "pool {p} hour {h}: active");
            let cost = PoolHourCost::of(r, pool, h);
            let device_s = r.provisioned_ns as f64 / 1e9 * devices * pool.pue;
            let (lo, hi) = (
                pool.power.idle_w * device_s * 1000.0,
                pool.power.peak_w * device_s * 1000.0,
            );
            let mj = cost.energy_mj as f64;
            assert!(
                mj >= lo * (1.0 - 1e-9) - 1.0 && mj <= hi * (1.0 + 1e-9) + 1.0,
                "pool {p} hour {h}: energy {mj} mJ outside [{lo}, {hi}]"
            );
            if !pool.pay_energy {
                assert_eq!(cost.energy, Money::ZERO, "rented power is not billed twice");
            }
        }
    }
    let s = Summary::new(setup, out);
    let unit = |x: f64| (0.0..=1.0).contains(&x);
    assert!(
        unit(s.utilization.mean) && unit(s.utilization.active) && unit(s.utilization.peak_hour)
    );
    for p in &s.pools {
        assert!(unit(p.utilization) && unit(p.active), "{}", p.name);
        assert!(unit(p.kv_occupancy) && unit(p.kv_peak), "{}", p.name);
    }
}

/// Invariant 4: time runs forward: no event scheduled in the past (in `check_conservation`),
/// each call's first token comes before its end, and nothing completes after the horizon.
fn check_time(setup: &Setup, out: &RunOutput) {
    for c in &out.calls {
        assert!(c.ttft <= c.e2e, "first token after completion: {c:?}");
        assert!(c.issued.ns() + c.e2e.ns() <= setup.horizon.ns(), "{c:?}");
    }
}

/// Invariant 6, Little's law per pool. The sim integrates the number of calls in the pool
/// exactly, so over the horizon T:
///
///   area = sum over completed calls of their time in the pool + R,
///
/// R being the ages at the horizon of the n calls still in flight. Hence L = area / T,
/// λ = admitted / T and W = mean time in the pool of completed calls satisfy
/// L - λW = (R - nW) / T, and since 0 <= R <= nT and 0 <= W <= T: |L - λW| <= n.
/// The first identity is checked exactly, the bound on the summary's rounded figures.
fn check_littles_law(setup: &Setup, out: &RunOutput) {
    let horizon = setup.horizon.ns() as u128;
    let mut in_flight = 0;
    for p in 0..setup.pools.len() {
        let pt = out.ledger.pool_total(p);
        let admitted = pt.calls_arrived - pt.calls_rejected;
        assert_eq!(
            admitted,
            pt.calls_completed + pt.in_flight,
            "pool {p}: calls"
        );
        assert_eq!(
            pt.in_system_area,
            pt.e2e_sum_ns + pt.in_flight_age_ns,
            "pool {p}: time in system"
        );
        assert!(pt.in_flight_age_ns <= pt.in_flight as u128 * horizon);
        in_flight += pt.in_flight;
    }
    assert_eq!(in_flight, out.tally.calls_in_flight);
    let s = Summary::new(setup, out);
    let (num, den) = out.demand_scale(setup);
    let scale = num as f64 / den as f64;
    for (i, p) in s.pools.iter().enumerate() {
        let (l, lambda, w) = (
            p.mean_in_system,
            p.arrival_rate_per_s,
            p.mean_time_in_system_s,
        );
        // The documented tolerance: the calls in flight at the horizon.
        let rounding = 1e-6 * (1.0 + lambda + w);
        assert!(
            (l - lambda * w).abs() <= p.calls_in_flight as f64 + rounding,
            "pool {}: L = {l}, λW = {lambda} x {w}, {} in flight",
            p.name,
            p.calls_in_flight
        );
        // And the difference is exactly the boundary term (R - nW) / T.
        let pt = out.ledger.pool_total(i);
        let w_ns = pt.e2e_sum_ns as f64 / pt.calls_completed.max(1) as f64;
        let boundary = (pt.in_flight_age_ns as f64 - pt.in_flight as f64 * w_ns)
            / setup.horizon.ns() as f64
            * scale;
        assert!(
            (l - lambda * w - boundary).abs() <= rounding * (1.0 + scale) + 1e-9 * l,
            "pool {}: L - λW = {} but the calls in flight account for {boundary}",
            p.name,
            l - lambda * w
        );
    }
}

/// Invariant 5: the bytes of the outputs do not depend on the thread count or on how the
/// cells are split into shards (and shards survive their trip through partial.json).
fn check_determinism(case: &Case, setup: &Setup, one: &RunOutput) {
    let expected = render(setup, one);
    let two = pools()
        .1
        .install(|| tokenfleet_fleet::run(setup, setup.seed, None, &|_| {}));
    assert_same_bytes(&expected, &render(setup, &two), "1 vs 2 threads");

    let count = case.shards;
    let parts: Vec<RunOutput> = (0..count)
        .map(|index| {
            let part = pools().1.install(|| {
                run_shard(
                    setup,
                    setup.seed,
                    None,
                    Some(Shard { index, count }),
                    &|_| {},
                )
            });
            // Odd shards go through partial.json, as `tokenfleet merge` reads them.
            if index % 2 == 1 {
                let source = ScenarioSource {
                    file: "prop.toml".into(),
                    dir: None,
                    text: case.toml(),
                    overrides: Vec::new(),
                    sample: None,
                };
                let json = serde_json::to_string(&PartialFile::new(source, &part)).unwrap();
                let file: PartialFile = serde_json::from_str(&json).unwrap();
                file.into_run().unwrap()
            } else {
                part
            }
        })
        .rev()
        .collect();
    let merged = RunOutput::merge(parts, setup.engine.calls_sample_max as usize).unwrap();
    assert_same_bytes(
        &expected,
        &render(setup, &merged),
        &format!("{count} shards merged vs the whole run"),
    );
}

/// Every invariant of one case, from its TOML text.
fn check_case(case: &Case) -> (Setup, RunOutput) {
    let setup = case.setup();
    let one = pools()
        .0
        .install(|| tokenfleet_fleet::run(&setup, setup.seed, None, &|_| {}));
    common::check_conservation(&one);
    check_segments(&one);
    check_money(case, &setup, &one);
    check_bounds(&setup, &one);
    check_time(&setup, &one);
    check_littles_law(&setup, &one);
    (setup, one)
}

proptest! {
    // A failing case prints as its scenario's TOML: that text, not a seed (which would draw
    // another case once the strategy changes), is what a regression test keeps. 64 cases keep
    // the file at a few seconds; PROPTEST_CASES=5000 hunts longer.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(64),
        max_shrink_iters: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn invariants_hold_on_random_small_scenarios(case in scenario()) {
        let (setup, one) = check_case(&case);
        check_determinism(&case, &setup, &one);
    }
}

/// The property test is only as good as its scenarios: on a fixed sample of them, every
/// mechanism the invariants must survive happens at least once.
#[test]
fn the_scenario_generator_exercises_every_mechanism() {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    use std::cell::RefCell;
    let config = Config {
        cases: 40,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let seen = RefCell::new(std::collections::BTreeMap::<&str, u64>::new());
    TestRunner::new_with_rng(config, rng)
        .run(&scenario(), |case| {
            let (setup, out) = check_case(&case);
            let (t, total) = (&out.tally, out.ledger.total());
            let autoscaled = setup.pools.iter().enumerate().any(|(p, pool)| {
                pool.autoscale.is_some()
                    && out.ledger.pool_total(p).provisioned_ns
                        != out.replicas_simulated[p] as u128 * setup.horizon.ns() as u128
            });
            let mut seen = seen.borrow_mut();
            for (what, n) in [
                (
                    "queue-full rejections",
                    total.calls_rejected - total.calls_rate_limited,
                ),
                ("rate-limited calls", total.calls_rate_limited),
                ("preemptions", total.preemptions),
                ("calls in flight at the horizon", t.calls_in_flight),
                ("compactions", t.compactions),
                ("sub-agent calls", t.subagent_calls),
                ("retries", t.retries),
                ("late calls", total.calls_late),
                ("autoscaled pools", autoscaled as u64),
                ("sampled runs", (out.layout.sampled_fraction() < 1.0) as u64),
                ("several cells", (out.layout.simulated.len() > 1) as u64),
            ] {
                *seen.entry(what).or_default() += n;
            }
            Ok(())
        })
        .unwrap();
    let seen = seen.into_inner();
    let missing: Vec<_> = seen.iter().filter(|(_, n)| **n == 0).collect();
    assert!(missing.is_empty(), "never happened: {missing:?} ({seen:?})");
}
