//! Random small scenarios for the property tests (`tests/properties_*.rs`).
//!
//! A strategy ([`strategy::scenario`]) draws valid scenarios as TOML text (the real entry point: what a
//! user writes), small enough to run in a few tens of milliseconds: a fleet of up to 150 agents
//! in one or two segments (agents or monitors, reasoning, compaction, retries, sub-agents), one
//! to three pools of catalog hardware that fits the model, with batch and queue limits from
//! generous to overloaded (rejections, preemptions), every router, rate limits, autoscaling,
//! rented or owned devices, electricity prices and tariffs, one or two price sets with
//! time-of-day periods, an SLA, and cell sampling. A [`Case`] prints as its TOML text, so that
//! a failing case, once shrunk, can be kept in a regression test.

use std::fmt;

use proptest::test_runner::Config;
use tokenfleet_scenario::Origin;
use tokenfleet_scenario::Scenario;
use tokenfleet_setup::Setup;

pub mod strategy;

/// The property tests' configuration. A failing case prints as its scenario's TOML: that text,
/// not a seed (which would draw another case once the strategy changes), is what a regression
/// test keeps. 64 cases keep each file at a few seconds; PROPTEST_CASES=5000 hunts longer.
pub fn config() -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(64),
        max_shrink_iters: 200,
        failure_persistence: None,
        ..Config::default()
    }
}

/// A device and a model shape that fits it, and whether the catalog quotes a rental range.
pub struct Combo {
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

pub const MODELS: [&str; 2] = ["llama-3.1-8b", "qwen3-32b"];

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
pub struct PriceCase {
    /// Micro-dollars per million tokens: whole pico-dollars per token, so billing is exact.
    input: u32,
    cached_share: f64,
    output: u32,
    blended: Option<u32>,
    /// A time-of-day period (UTC hours from, length) at other rates.
    pub period: Option<(u32, u32, f64)>,
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
pub struct Case {
    seed: u64,
    agents: u32,
    minutes: u32,
    replicas_per_cell: u32,
    sample: Option<f64>,
    weekend: bool,
    segments: Vec<SegmentCase>,
    share0: f64,
    pools: Vec<PoolCase>,
    pub prices: [PriceCase; 2],
    energy: Electricity,
    pue: f64,
    sla: Option<Sla>,
    pub shards: usize,
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

    pub fn toml(&self) -> String {
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
    pub fn setup(&self) -> Setup {
        let origin = Origin {
            file: "prop.toml".into(),
            dir: None,
            text: self.toml(),
        };
        let scenario = Scenario::from_text(&origin, &[]).unwrap_or_else(|e| panic!("{e}"));
        scenario.resolve(&origin).unwrap_or_else(|e| panic!("{e}"))
    }
}
