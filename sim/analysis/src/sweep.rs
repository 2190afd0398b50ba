//! Fleet-size (and any-parameter) sweeps with uncertainty bands.
//!
//! A sweep varies scenario fields over a grid (`--vary PATH=SPEC`, several make a product),
//! runs every point with several seeds, and optionally re-plans the cluster at each point so
//! the curve shows what the fleet needs as it grows, not one fixed cluster drowning. Uncertain
//! inputs (`--draw PATH=DIST`) are drawn once per seed: Monte-Carlo over parameters on top of
//! the simulation's own randomness.
//!
//! Seeds are common random numbers: seed k is the same (simulation seed, parameter draws) at
//! every point, so differences between points are the parameter's effect, not noise.

use std::sync::atomic::{AtomicUsize, Ordering};

use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::plan::{PlanOptions, plan};
use tokenfleet_engine::rng::{Subsystem, stream};
use tokenfleet_fleet::metrics::{Headline, headline};
use tokenfleet_fleet::run::{Shard, run};
use tokenfleet_models::dist::unit;
use tokenfleet_models::quantity::{fmt_number, split_quantity};
use tokenfleet_scenario::{Origin, SampleSpec, Scenario, ScenarioError};

/// One varied field and its values (as text, in the field's units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vary {
    pub path: String,
    pub values: Vec<String>,
}

/// A `--vary` or `--draw` that does not parse, or a grid too large to run: the message names
/// the flag and what is accepted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ArgumentError(pub String);

impl From<String> for ArgumentError {
    fn from(message: String) -> ArgumentError {
        ArgumentError(message)
    }
}

/// Parses `PATH=SPEC`: SPEC is a list (`a,b,c`), a linear range (`LO..HI:N`) or a log range
/// (`LO..HI:log:N`); LO and HI may carry units (`$1/M..$3/M:5`, `1e5..1e7:log:9`).
pub fn parse_vary(arg: &str) -> Result<Vary, ArgumentError> {
    let (path, spec) = arg.split_once('=').ok_or_else(|| {
        format!("--vary {arg}: expected PATH=SPEC, e.g. fleet.agents=1e5..1e7:log:9")
    })?;
    let (path, spec) = (path.trim().to_string(), spec.trim());
    let bad = |why: &str| {
        format!(
            "--vary {arg}: {why}; SPEC is a list a,b,c, a range LO..HI:N or a log range LO..HI:log:N"
        )
    };
    let values = if let Some((lo, rest)) = spec.split_once("..") {
        let mut parts = rest.split(':');
        let hi = parts.next().ok_or_else(|| bad("missing HI"))?;
        let (log, n) = match (parts.next(), parts.next(), parts.next()) {
            (Some("log"), Some(n), None) => (true, n),
            (Some(n), None, None) => (false, n),
            _ => return Err(bad("expected :N or :log:N after the range").into()),
        };
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| bad("N is not a whole number"))?;
        if n < 2 {
            return Err(bad("a range needs N >= 2 points").into());
        }
        if n > MAX_RUNS {
            return Err(bad(&format!("at most {MAX_RUNS} points")).into());
        }
        let (lp, l, ls) = split_quantity(lo.trim()).ok_or_else(|| bad("LO is not a number"))?;
        let (hp, h, hs) = split_quantity(hi.trim()).ok_or_else(|| bad("HI is not a number"))?;
        if lp != hp || ls != hs {
            return Err(bad("LO and HI must have the same unit").into());
        }
        if log && (l <= 0.0 || h <= 0.0) {
            return Err(bad("a log range needs positive ends").into());
        }
        // Whole ends a whole step or more apart are counts; $1..$2 in 3 points is not.
        let whole = l.fract() == 0.0 && h.fract() == 0.0 && (h - l).abs() >= (n - 1) as f64;
        (0..n)
            .map(|i| {
                let t = i as f64 / (n - 1) as f64;
                let x = if log {
                    (l.ln() + t * (h.ln() - l.ln())).exp()
                } else {
                    l + t * (h - l)
                };
                // Counts give whole points; anything else 6 significant digits.
                let x = if whole { x.round() } else { sig6(x) };
                format!("{lp}{}{ls}", fmt_number(x))
            })
            .collect()
    } else {
        spec.split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect::<Vec<_>>()
    };
    if values.is_empty() {
        return Err(bad("no values").into());
    }
    Ok(Vary { path, values })
}

fn sig6(x: f64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    let d = 6 - x.abs().log10().ceil() as i32;
    let f = 10f64.powi(d);
    (x * f).round() / f
}

/// An uncertain input: a distribution drawn once per seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draw {
    pub path: String,
    pub kind: DrawKind,
    pub prefix: String,
    pub suffix: String,
    /// Whether drawn values are rounded to whole numbers (both parameters were).
    pub whole: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum DrawKind {
    Uniform {
        lo: f64,
        hi: f64,
    },
    LogUniform {
        lo: f64,
        hi: f64,
    },
    /// Normal, truncated at zero.
    Normal {
        mean: f64,
        sd: f64,
    },
    LogNormal {
        median: f64,
        sigma: f64,
    },
}

/// Parses `PATH=uniform(LO, HI)`, `loguniform(LO, HI)`, `normal(MEAN, SD)` or
/// `lognormal(MEDIAN, SIGMA)`; values may carry units (`uniform($1/M, $2/M)`).
pub fn parse_draw(arg: &str) -> Result<Draw, ArgumentError> {
    let bad = |why: &str| {
        format!(
            "--draw {arg}: {why}; accepted: uniform(LO, HI), loguniform(LO, HI), normal(MEAN, SD), lognormal(MEDIAN, SIGMA)"
        )
    };
    let (path, spec) = arg
        .split_once('=')
        .ok_or_else(|| bad("expected PATH=DIST"))?;
    let spec = spec.trim();
    let (name, args) = spec.split_once('(').ok_or_else(|| bad("missing ("))?;
    let args = args.strip_suffix(')').ok_or_else(|| bad("missing )"))?;
    let (a, b) = args
        .split_once(',')
        .ok_or_else(|| bad("two parameters needed"))?;
    let (pa, x, sa) =
        split_quantity(a.trim()).ok_or_else(|| bad("first parameter is not a number"))?;
    let (pb, y, sb) =
        split_quantity(b.trim()).ok_or_else(|| bad("second parameter is not a number"))?;
    let (kind, prefix, suffix) = match name.trim() {
        "uniform" | "loguniform" => {
            if pa != pb || sa != sb {
                return Err(bad("both ends need the same unit").into());
            }
            if y < x {
                return Err(bad("HI is below LO").into());
            }
            if name.trim() == "uniform" {
                (DrawKind::Uniform { lo: x, hi: y }, pa, sa)
            } else if x <= 0.0 {
                return Err(bad("loguniform needs positive ends").into());
            } else {
                (DrawKind::LogUniform { lo: x, hi: y }, pa, sa)
            }
        }
        "normal" => (DrawKind::Normal { mean: x, sd: y }, pa, sa),
        "lognormal" => {
            if x <= 0.0 {
                return Err(bad("the median must be positive").into());
            }
            (
                DrawKind::LogNormal {
                    median: x,
                    sigma: y,
                },
                pa,
                sa,
            )
        }
        _ => return Err(bad(&format!("unknown distribution `{}`", name.trim())).into()),
    };
    Ok(Draw {
        path: path.trim().to_string(),
        kind,
        prefix,
        suffix,
        whole: x.fract() == 0.0 && y.fract() == 0.0,
    })
}

impl Draw {
    fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> String {
        let u = unit(rng);
        let z = tokenfleet_models::dist::z(u.clamp(1e-12, 1.0 - 1e-12));
        let x = match self.kind {
            DrawKind::Uniform { lo, hi } => lo + u * (hi - lo),
            DrawKind::LogUniform { lo, hi } => (lo.ln() + u * (hi.ln() - lo.ln())).exp(),
            DrawKind::Normal { mean, sd } => (mean + sd * z).max(0.0),
            DrawKind::LogNormal { median, sigma } => median * (sigma * z).exp(),
        };
        let x = if self.whole { x.round() } else { sig6(x) };
        format!("{}{}{}", self.prefix, fmt_number(x), self.suffix)
    }
}

/// What to sweep.
#[derive(Debug, Clone, Default)]
pub struct SweepOptions {
    pub overrides: Vec<String>,
    pub varies: Vec<Vary>,
    pub draws: Vec<Draw>,
    pub seeds: u32,
    pub seed: Option<u64>,
    pub sample: Option<f64>,
    /// Re-plan the cluster at every point (and seed) with these options.
    pub plan: Option<PlanOptions>,
    pub shard: Option<Shard>,
}

/// One run of the sweep.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepRow {
    pub point: usize,
    pub seed_index: u32,
    pub seed: u64,
    /// The varied fields' values at this point.
    pub values: Vec<String>,
    /// The drawn inputs' values for this seed.
    pub drawn: Vec<String>,
    pub agents: u64,
    /// The plan at this point, when re-planning: (hardware, tp, replicas).
    pub plan: Option<(String, u32, u64)>,
    pub headline: Headline,
}

/// Why a sweep could not run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    // `error`, not `source`: the message already carries it, and a source would print twice.
    #[error("point {point} ({values}): {error}")]
    Point {
        point: usize,
        values: String,
        error: ScenarioError,
    },
    #[error("point {point} ({values}): {message}")]
    Plan {
        point: usize,
        values: String,
        message: String,
    },
    #[error("{0}")]
    Invalid(String),
}

/// Every combination of the varied values (the last field varies fastest).
/// Most runs one sweep makes (points x seeds): beyond it a sweep would take days and its grid
/// alone much memory; split it, or shard it.
pub const MAX_RUNS: usize = 100_000;

/// Checks that the grid of `varies` with `seeds` seeds stays within [`MAX_RUNS`].
pub fn check_size(varies: &[Vary], seeds: u32) -> Result<(), ArgumentError> {
    let runs = varies
        .iter()
        .map(|v| v.values.len() as f64)
        .product::<f64>()
        * seeds.max(1) as f64;
    if runs > MAX_RUNS as f64 {
        return Err(format!(
            "--vary/--seeds: {runs:.0} runs; accepted: at most {MAX_RUNS} (fewer points or seeds, or several sweeps)"
        )
        .into());
    }
    Ok(())
}

pub fn grid(varies: &[Vary]) -> Vec<Vec<String>> {
    let mut points: Vec<Vec<String>> = vec![Vec::new()];
    for v in varies {
        points = points
            .into_iter()
            .flat_map(|p| {
                v.values
                    .iter()
                    .map(move |x| [p.clone(), vec![x.clone()]].concat())
            })
            .collect();
    }
    points
}

/// A point's seeds share one run's sampling budget: with `engine.sample = "auto"`, each run
/// simulates about `max_sampled_calls / seeds` calls (at least a million). The seeds sample
/// different cells, so the point's band then carries the sampling error as well as the
/// seed-to-seed spread, and a 5-seed sweep costs about what five single runs of a point would
/// cost at a fifth of the budget each: a 9 x 5 sweep of a million-agent scenario stays within
/// minutes. An explicit `--sample` or a "full"/fractional scenario is left alone.
pub(crate) fn budget_per_seed(s: &Scenario, sample: Option<f64>, seeds: u32) -> Option<String> {
    if sample.is_some() || seeds < 2 || !matches!(s.engine.sample, SampleSpec::Auto) {
        return None;
    }
    let per_run = (s.engine.max_sampled_calls.get() / seeds as f64).max(1e6);
    Some(format!("engine.max_sampled_calls={}", per_run.round()))
}

/// Runs the sweep (this shard's runs of it). `progress()` is called after each run.
pub fn sweep(
    origin: &Origin,
    opts: &SweepOptions,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<SweepRow>, SweepError> {
    let scenario = Scenario::from_text(origin, &opts.overrides)
        .map_err(|e| SweepError::Invalid(e.to_string()))?;
    let base = scenario
        .resolve(origin)
        .map_err(|e| SweepError::Invalid(e.to_string()))?;
    let base_seed = opts.seed.unwrap_or(base.seed);
    let points = grid(&opts.varies);
    let seeds = opts.seeds.max(1);
    let mut overrides = opts.overrides.clone();
    overrides.extend(budget_per_seed(&scenario, opts.sample, seeds));
    let opts = &SweepOptions {
        overrides,
        ..opts.clone()
    };
    let runs: Vec<(usize, u32)> = (0..points.len())
        .flat_map(|p| (0..seeds).map(move |s| (p, s)))
        .enumerate()
        .filter(|(i, _)| opts.shard.is_none_or(|sh| i % sh.count == sh.index))
        .map(|(_, r)| r)
        .collect();
    let done = AtomicUsize::new(0);
    runs.par_iter()
        .map(|&(point, k)| {
            let values = &points[point];
            let label = || {
                opts.varies
                    .iter()
                    .zip(values)
                    .map(|(v, x)| format!("{}={x}", v.path))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let seed = base_seed.wrapping_add(k as u64);
            // The same draws for seed k at every point (common random numbers).
            let drawn: Vec<String> = opts
                .draws
                .iter()
                .enumerate()
                .map(|(d, draw)| {
                    draw.draw(&mut stream(
                        base_seed,
                        Subsystem::Sweep,
                        (k as u64) << 16 | d as u64,
                    ))
                })
                .collect();
            let mut overrides = opts.overrides.clone();
            overrides.extend(
                opts.varies
                    .iter()
                    .zip(values)
                    .map(|(v, x)| format!("{}={x}", v.path)),
            );
            overrides.extend(
                opts.draws
                    .iter()
                    .zip(&drawn)
                    .map(|(d, x)| format!("{}={x}", d.path)),
            );
            let mut planned = None;
            if let Some(p) = &opts.plan {
                let popts = PlanOptions {
                    overrides: overrides.clone(),
                    seed: Some(seed),
                    ..p.clone()
                };
                let result = plan(origin, &popts, &|_| {}).map_err(|e| SweepError::Plan {
                    point,
                    values: label(),
                    message: e.to_string(),
                })?;
                let chosen = result.chosen.ok_or_else(|| SweepError::Plan {
                    point,
                    values: label(),
                    message: "no candidate meets the targets".into(),
                })?;
                let pool = format!("cluster.pool.\"{}\"", result.pool);
                overrides.push(format!("{pool}.hardware=\"{}\"", chosen.candidate.hardware));
                overrides.push(format!("{pool}.tp={}", chosen.candidate.tp));
                overrides.push(format!("{pool}.weights=\"{}\"", chosen.candidate.weights));
                overrides.push(format!("{pool}.replicas={}", chosen.replicas));
                planned = Some((
                    chosen.candidate.hardware.clone(),
                    chosen.candidate.tp,
                    chosen.replicas,
                ));
            }
            let setup = Scenario::from_text(origin, &overrides)
                .and_then(|s| s.resolve(origin))
                .map_err(|error| SweepError::Point {
                    point,
                    values: label(),
                    error,
                })?;
            let out = run(&setup, seed, opts.sample, &|_| {});
            let row = SweepRow {
                point,
                seed_index: k,
                seed,
                values: values.clone(),
                drawn,
                agents: setup.agents,
                plan: planned,
                headline: headline(&setup, &out),
            };
            done.fetch_add(1, Ordering::Relaxed);
            progress();
            Ok(row)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|mut rows| {
            rows.sort_by_key(|r| (r.point, r.seed_index));
            rows
        })
}

/// A named figure of a run's headline.
pub type Metric = (&'static str, fn(&Headline) -> f64);

/// The figures sweeps report, by name.
pub const METRICS: &[Metric] = &[
    ("revenue_itemized_usd", |h| h.revenue_itemized_usd),
    ("revenue_blended_usd", |h| h.revenue_blended_usd),
    ("cost_usd", |h| h.cost_usd),
    ("margin_itemized_usd", |h| h.margin_itemized_usd),
    ("margin_blended_usd", |h| h.margin_blended_usd),
    ("utilization", |h| h.utilization),
    ("devices", |h| h.devices as f64),
    ("purchase_value_usd", |h| h.purchase_value_usd),
    ("power_mw_installed", |h| h.power_mw_installed),
    ("ttft_p99_s", |h| h.ttft_p99_s),
    ("e2e_p99_s", |h| h.e2e_p99_s),
    ("rejected_share", |h| h.rejected_share),
    ("tokens", |h| h.tokens),
    ("cost_usd_per_mtok", |h| h.cost_usd_per_mtok),
];

/// The index of the metric called `name` in [`METRICS`]; panics on a name not in the list,
/// which is a programming error (the names are constants of this crate's callers).
pub fn metric_index(name: &str) -> usize {
    METRICS
        .iter()
        .position(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no metric {name:?}"))
}

/// p10, p50 and p90 of one metric at one point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Band {
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
}

/// The bands of every metric at every point: `[point][metric]`.
pub fn bands(rows: &[SweepRow], points: usize) -> Vec<Vec<Band>> {
    (0..points)
        .map(|p| {
            let at: Vec<&SweepRow> = rows.iter().filter(|r| r.point == p).collect();
            METRICS
                .iter()
                .map(|(_, f)| {
                    let mut v: Vec<f64> = at.iter().map(|r| f(&r.headline)).collect();
                    v.sort_by(f64::total_cmp);
                    let q = |p: f64| {
                        if v.is_empty() {
                            return f64::NAN;
                        }
                        // Linear interpolation between order statistics.
                        let x = p * (v.len() - 1) as f64;
                        let (i, f) = (x.floor() as usize, x.fract());
                        v[i] + f * (v[(i + 1).min(v.len() - 1)] - v[i])
                    };
                    Band {
                        p10: q(0.1),
                        p50: q(0.5),
                        p90: q(0.9),
                    }
                })
                .collect()
        })
        .collect()
}

/// Where the median of `ys` crosses zero along numeric `xs` (linear interpolation), if it does.
pub fn break_even(xs: &[f64], ys: &[f64]) -> Option<f64> {
    xs.windows(2).zip(ys.windows(2)).find_map(|(x, y)| {
        if (y[0] <= 0.0) != (y[1] <= 0.0) && y[0] != y[1] {
            Some(x[0] + (x[1] - x[0]) * (-y[0]) / (y[1] - y[0]))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_ranges_and_log_ranges_with_units() {
        assert_eq!(parse_vary("a=1,2,3").unwrap().values, vec!["1", "2", "3"]);
        assert_eq!(
            parse_vary("fleet.agents=1e5..1e7:log:3").unwrap().values,
            vec!["100000", "1000000", "10000000"]
        );
        assert_eq!(
            parse_vary("p=$1/M..$2/M:3").unwrap().values,
            vec!["$1/M", "$1.5/M", "$2/M"]
        );
        assert!(
            parse_vary("p=$1/M..2:3")
                .unwrap_err()
                .0
                .contains("same unit")
        );
        assert!(parse_vary("p=1..2:1").unwrap_err().0.contains("N >= 2"));
        assert!(parse_vary("nothing").unwrap_err().0.contains("PATH=SPEC"));
    }

    #[test]
    fn grids_are_products() {
        let v = [parse_vary("a=1,2").unwrap(), parse_vary("b=x,y,z").unwrap()];
        let g = grid(&v);
        assert_eq!(g.len(), 6);
        assert_eq!(g[1], vec!["1", "y"]);
    }

    #[test]
    fn draws_respect_their_ranges() {
        let d = parse_draw("p=uniform($1/M, $2/M)").unwrap();
        let mut r = stream(1, Subsystem::Sweep, 0);
        for _ in 0..100 {
            let v = d.draw(&mut r);
            let (_, x, suf) = split_quantity(&v).unwrap();
            assert!((1.0..=2.0).contains(&x) && suf == "/M", "{v}");
        }
        assert!(
            parse_draw("p=cauchy(1, 2)")
                .unwrap_err()
                .0
                .contains("unknown distribution")
        );
    }

    #[test]
    fn break_even_interpolates() {
        assert_eq!(break_even(&[1.0, 2.0, 3.0], &[-2.0, -1.0, 1.0]), Some(2.5));
        assert_eq!(break_even(&[1.0, 2.0], &[1.0, 2.0]), None);
    }
}
