//! `tokenfleet sweep SCENARIO --vary PATH=SPEC ...`: curves with uncertainty bands.

use std::path::{Path, PathBuf};

use super::output::output_dir;
use anyhow::{Context, Result, bail};
use clap::Args;
use tokenfleet_analysis::estimate::estimate;
use tokenfleet_analysis::plan::PlanOptions;
use tokenfleet_analysis::sweep::{SweepOptions, check_size, grid, parse_draw, parse_vary, sweep};
use tokenfleet_fleet::budget::{self, Machine};
use tokenfleet_fleet::run::Shard;
use tokenfleet_reports::partial::ScenarioSource;
use tokenfleet_reports::sweep::{
    SWEEP_FORMAT, SweepFile, SweepPartial, render_sweep, sweep_break_even, write_sweep,
};
use tokenfleet_reports::{OutputMeta, write_files};
use tokenfleet_scenario::Scenario;

#[derive(Args)]
pub struct SweepArgs {
    /// The scenario file (the built-in default when omitted).
    scenario: Option<PathBuf>,
    /// A field and its values: a list (a,b,c), a range (LO..HI:N) or a log range (LO..HI:log:N),
    /// e.g. fleet.agents=1e5..1e7:log:9 (repeatable: several make a grid).
    #[arg(long = "vary", value_name = "PATH=SPEC", required = true)]
    vary: Vec<String>,
    /// An uncertain input drawn once per seed: uniform(LO, HI), loguniform(LO, HI),
    /// normal(MEAN, SD) or lognormal(MEDIAN, SIGMA), e.g. 'price[0].blended=uniform($1/M, $2/M)'.
    #[arg(long = "draw", value_name = "PATH=DIST")]
    draw: Vec<String>,
    /// Seeds per point.
    #[arg(long, default_value_t = 5, allow_negative_numbers = true, value_parser = super::values::whole::<u32>(1, u32::MAX as u64))]
    seeds: u32,
    /// Re-plan the cluster at every point (uses the scenario's [plan] section).
    #[arg(long)]
    plan: bool,
    #[command(flatten)]
    common: super::batch::BatchArgs,
    /// Run part I of N of the runs and write a partial result for `tokenfleet merge`.
    #[arg(long, value_name = "I/N", allow_hyphen_values = true, value_parser = super::values::shard)]
    shard: Option<Shard>,
    /// Run even if the estimate of memory or time exceeds what this machine has.
    #[arg(long)]
    force: bool,
}

pub fn run(a: SweepArgs) -> Result<()> {
    let (scenario, origin) = Scenario::load(a.scenario.as_deref(), &a.common.set)?;
    let varies = a
        .vary
        .iter()
        .map(|v| parse_vary(v))
        .collect::<Result<Vec<_>, _>>()?;
    let draws = a
        .draw
        .iter()
        .map(|d| parse_draw(d))
        .collect::<Result<Vec<_>, _>>()?;
    if a.plan && scenario.plan.is_none() {
        bail!(
            "--plan needs a [plan] section with targets in {}",
            origin.file
        );
    }
    let opts = SweepOptions {
        overrides: a.common.set.clone(),
        varies: varies.clone(),
        draws: draws.clone(),
        seeds: a.seeds.max(1),
        seed: a.common.runner.seed,
        sample: a.common.sample,
        plan: a.plan.then(|| PlanOptions {
            precision: 0.02,
            max_replicas: 1_000_000,
            ..Default::default()
        }),
        shard: a.shard,
    };
    check_size(&varies, opts.seeds)?;
    let total = (grid(&varies).len() as u64) * opts.seeds as u64;
    let total = match a.shard {
        Some(s) => (0..total)
            .filter(|i| *i as usize % s.count == s.index)
            .count() as u64,
        None => total,
    };
    let inputs: Vec<&Path> = a.scenario.iter().map(PathBuf::as_path).collect();
    let default_name = match a.shard {
        Some(s) => format!("{}-sweep.shard-{}-of-{}", scenario.name, s.index, s.count),
        None => format!("{}-sweep", scenario.name),
    };
    let dir = output_dir(a.common.runner.out.as_deref(), &default_name, &inputs)?;
    let pool = a.common.pool()?;
    // Refused up front, by the same estimate as `run`, rather than after hours.
    if !a.force {
        let e = estimate(&origin, &opts, pool.current_num_threads())?;
        budget::check(&e, &Machine::detect()).map_err(|r| {
            anyhow::anyhow!(
                "{}: sweep of {total} runs: {}",
                origin.file,
                r.to_string().replace("this run would", "these runs would")
            )
        })?;
    }
    let bar = super::progress::Progress::new("sweep", "runs", total);
    let progress = || bar.inc(1);
    let rows = pool.install(|| sweep(&origin, &opts, &progress))?;
    bar.finish();
    tokenfleet_engine::interrupt::check()?;
    let file = SweepFile {
        scenario: scenario.name.clone(),
        varies,
        draws,
        seeds: opts.seeds,
        planned: a.plan,
        rows,
    };
    if let Some(shard) = a.shard {
        let partial = SweepPartial {
            format: SWEEP_FORMAT.into(),
            source: ScenarioSource {
                file: origin.file.clone(),
                dir: origin.dir.as_ref().map(|d| d.display().to_string()),
                text: origin.text.clone(),
                overrides: a.common.set.clone(),
                sample: a.common.sample,
                command_line: super::made::whole_command_line(),
            },
            shard,
            sweep: file,
        };
        let meta = OutputMeta {
            command: "sweep",
            scenario: scenario.name.clone(),
            seed: None,
            made: super::made::of_scenario(&origin, &a.common.set)?,
        };
        write_files(
            &dir,
            &meta,
            &[("sweep_partial.json".into(), serde_json::to_vec(&partial)?)],
        )?;
        eprintln!(
            "sweep shard {shard}: {} runs; wrote {}",
            partial.sweep.rows.len(),
            dir.display()
        );
        return Ok(());
    }
    let made = super::made::of_scenario(&origin, &a.common.set)?;
    finish(&dir, &file, &made, bar.elapsed().as_secs_f64())
}

/// Writes a whole sweep and prints its summary.
pub fn finish(
    dir: &std::path::Path,
    file: &SweepFile,
    made: &tokenfleet_reports::manifest::Made,
    seconds: f64,
) -> Result<()> {
    write_sweep(dir, file, made)
        .with_context(|| format!("cannot write the sweep to {}", dir.display()))?;
    print!("{}", render_sweep(file));
    if let Some(be) = sweep_break_even(file) {
        println!("  break-even along {}: {}", be.field, be.describe());
    }
    eprintln!(
        "{} runs in {seconds:.1}s; wrote {} (report.html, sweep.csv, bands.csv, charts/)",
        file.rows.len(),
        dir.display()
    );
    Ok(())
}
