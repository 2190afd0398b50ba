//! `tokenfleet plan SCENARIO`: the cheapest cluster that meets the targets.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

use super::batch::RunnerArgs;
use super::output::output_dir;
use tokenfleet_analysis::plan::{PlanError, PlanOptions, PlanProgress, plan};
use tokenfleet_models::precision::Precision;
use tokenfleet_models::units::{Fraction, Seconds, Usd, Watts};
use tokenfleet_reports::plan::{render_plan, write_plan};
use tokenfleet_scenario::Scenario;

#[derive(Args)]
pub struct PlanArgs {
    /// Scenario file with a [plan] section, or give the targets as flags (the built-in default
    /// scenario when omitted).
    scenario: Option<PathBuf>,
    #[command(flatten)]
    runner: RunnerArgs,
    /// Override a field, e.g. --set fleet.agents=2000000 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Target TTFT p99 (e.g. 2s).
    #[arg(long)]
    ttft_p99: Option<Seconds>,
    /// Target TPOT p99 (e.g. 80ms).
    #[arg(long)]
    tpot_p99: Option<Seconds>,
    /// Target end-to-end p99 (e.g. 60s).
    #[arg(long)]
    e2e_p99: Option<Seconds>,
    /// Most rejected calls, as a share (e.g. 0.001).
    #[arg(long)]
    max_rejected: Option<Fraction>,
    /// Most installed facility power (e.g. 50MW).
    #[arg(long)]
    power_cap: Option<Watts>,
    /// Most the devices may cost to buy (e.g. $2B).
    #[arg(long)]
    capex_budget: Option<Usd>,
    /// Device types to try (repeatable; default: the scenario's [plan] or the pool's).
    #[arg(long = "hardware")]
    hardware: Vec<String>,
    /// Tensor-parallel degrees to try (repeatable).
    #[arg(long = "tp", allow_negative_numbers = true, value_parser = super::values::whole::<u32>(1, 1024))]
    tp: Vec<u32>,
    /// Weight precisions to try (repeatable: bf16, fp8, fp4, int4).
    #[arg(long = "weights", value_parser = parse_precision)]
    weights: Vec<Precision>,
    /// Relative precision of replica counts above 100 (e.g. 0.01 = within 1%).
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true, value_parser = super::values::number(0.0, false, 1.0, false))]
    precision: f64,
    /// Largest replica count to try.
    #[arg(long, default_value_t = 1_000_000, allow_negative_numbers = true, value_parser = super::values::whole::<u64>(1, 10_000_000))]
    max_replicas: u64,
    /// Print the plan as JSON.
    #[arg(long)]
    json: bool,
    /// Plan even if the estimate of memory or time exceeds what this machine has.
    #[arg(long)]
    force: bool,
}

fn parse_precision(s: &str) -> Result<Precision, String> {
    Precision::parse(s)
        .ok_or_else(|| format!("unknown precision {s:?}; accepted: {}", Precision::ACCEPTED))
}

pub fn run(a: PlanArgs) -> Result<()> {
    // Overrides apply to the [plan] section too (`--set plan.tp=[1,2]`).
    let (scenario, origin) = Scenario::load(a.scenario.as_deref(), &a.set)?;
    let mut spec = scenario.plan.clone().unwrap_or_default();
    let t = &mut spec.targets;
    t.ttft_p99 = a.ttft_p99.or(t.ttft_p99);
    t.tpot_p99 = a.tpot_p99.or(t.tpot_p99);
    t.e2e_p99 = a.e2e_p99.or(t.e2e_p99);
    t.rejected_share = a.max_rejected.or(t.rejected_share);
    t.power_cap = a.power_cap.or(t.power_cap);
    t.capex_budget = a.capex_budget.or(t.capex_budget);
    if !a.hardware.is_empty() {
        spec.hardware = a.hardware.clone();
    }
    if !a.tp.is_empty() {
        spec.tp = a.tp.clone();
    }
    if !a.weights.is_empty() {
        spec.weights = a.weights.clone();
    }
    let pool = a.runner.pool()?;
    let opts = PlanOptions {
        overrides: a.set.clone(),
        seed: a.runner.seed,
        spec: Some(spec),
        precision: a.precision,
        max_replicas: a.max_replicas,
        // Refused up front, by the same estimate as `run`, rather than after hours.
        budget: (!a.force).then(tokenfleet_fleet::budget::Machine::detect),
    };
    let inputs: Vec<&Path> = a.scenario.iter().map(PathBuf::as_path).collect();
    let dir = output_dir(
        a.runner.out.as_deref(),
        &format!("{}-plan", scenario.name),
        &inputs,
    )?;
    eprintln!(
        "planning {} (each probe is a simulated run) ...",
        origin.file
    );
    // The total is the search's expected count of probes until the search knows better.
    let bar = super::progress::Progress::new("plan", "probes", 0);
    let progress = |p: PlanProgress| bar.set(p.probes, p.expected);
    let result = pool
        .install(|| plan(&origin, &opts, &progress))
        .map_err(|e| match e {
            PlanError::Refused(r) => anyhow::anyhow!("{}: {r}", origin.file),
            e => e.into(),
        })?;
    bar.finish();
    tokenfleet_engine::interrupt::check()?;
    let made = super::made::of_scenario(&origin, &a.set)?;
    write_plan(&dir, &scenario.name, &result, &made)
        .with_context(|| format!("cannot write the plan to {}", dir.display()))?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", render_plan(&result));
    }
    eprintln!(
        "{} probes in {:.1}s; wrote {} (report.html, plan.csv, plan.json, frontier.csv, charts/)",
        result.probes_run,
        result.wall_seconds,
        dir.display()
    );
    Ok(())
}
