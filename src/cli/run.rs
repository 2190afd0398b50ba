//! `tokenfleet run [SCENARIO]`: simulate and write the reports.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokenfleet_reports::partial::{PartialJson, ScenarioSource};
use tokenfleet_reports::{Report, ReportContext, Summary, standard_reports, table, write_reports};
use tokenfleet_sim::Scenario;
use tokenfleet_sim::run::{Layout, Shard, run_shard};

#[derive(Args)]
pub struct RunArgs {
    /// Scenario file (TOML); the built-in default (scenarios/openclaw-2026.toml) if omitted.
    scenario: Option<PathBuf>,
    /// Output directory (default: out/<scenario name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Random seed (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Override a field, e.g. --set fleet.agents=2000000 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Simulate every cell of the fleet instead of a sample.
    #[arg(long, conflicts_with = "sample")]
    full: bool,
    /// Simulate this fraction of cells (0 < F <= 1) and scale.
    #[arg(long, value_name = "F")]
    sample: Option<f64>,
    /// Simulate only part I of N of the cells and write a partial result for `tokenfleet merge`
    /// (I from 0; e.g. from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX).
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Where the output directory will end up, if `out` is a temporary place (compare).
    #[arg(skip)]
    final_dir: Option<PathBuf>,
}

impl RunArgs {
    /// A plain run of `scenario` into `out`, which will be moved to `final_dir` (for
    /// `tokenfleet compare`).
    pub(super) fn of(
        scenario: PathBuf,
        out: PathBuf,
        final_dir: PathBuf,
        seed: Option<u64>,
        threads: Option<usize>,
    ) -> RunArgs {
        RunArgs {
            scenario: Some(scenario),
            out: Some(out),
            final_dir: Some(final_dir),
            seed,
            threads,
            set: Vec::new(),
            full: false,
            sample: None,
            shard: None,
        }
    }
}

pub fn run(a: RunArgs) -> Result<()> {
    let (scenario, origin) = Scenario::load(a.scenario.as_deref(), &a.set)?;
    let setup = scenario.resolve(&origin)?;
    let seed = a.seed.unwrap_or(setup.seed);
    let sample = match (a.full, a.sample) {
        (true, _) => Some(1.0),
        (false, Some(f)) if f > 0.0 && f <= 1.0 => Some(f),
        (false, Some(f)) => bail!("--sample {f}: must be a fraction in (0, 1]"),
        (false, None) => None,
    };
    if a.threads == Some(0) {
        bail!("--threads 0: need at least one thread");
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;

    let layout = Layout::new(&setup, seed, sample);
    let cells = match a.shard {
        Some(s) => layout
            .simulated
            .iter()
            .skip(s.index)
            .step_by(s.count)
            .count(),
        None => layout.simulated.len(),
    };
    let total = (cells * setup.hours) as u64;
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} simulating {pos}/{len} cell-hours [{bar:30}] {elapsed} (eta {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let started = Instant::now();
    let shown = AtomicBool::new(false);
    let progress = |n: u64| {
        bar.inc(n);
        // Only runs that take a while get a bar; short ones stay quiet.
        if !shown.load(Ordering::Relaxed) && started.elapsed() > Duration::from_secs(1) {
            shown.store(true, Ordering::Relaxed);
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    };
    let out = pool.install(|| run_shard(&setup, seed, sample, a.shard, &progress));
    bar.finish_and_clear();

    let summary = Summary::new(&setup, &out);
    if let Some(shard) = a.shard {
        let dir = a.out.unwrap_or_else(|| {
            PathBuf::from("out").join(format!(
                "{}.shard-{}-of-{}",
                setup.name, shard.index, shard.count
            ))
        });
        let source = ScenarioSource {
            file: origin.file.clone(),
            dir: origin.dir.as_ref().map(|d| d.display().to_string()),
            text: origin.text.clone(),
            overrides: a.set.clone(),
            sample,
        };
        let ctx = ReportContext {
            setup: &setup,
            run: &out,
            summary: &summary,
        };
        let reports: Vec<Box<dyn Report>> = vec![Box::new(PartialJson(source))];
        write_reports(&dir, &ctx, &reports)
            .with_context(|| format!("cannot write the partial result to {}", dir.display()))?;
        eprintln!(
            "shard {shard}: {} cells, {} calls in {:.2}s; wrote {} (combine the shards with `tokenfleet merge`)",
            cells,
            out.tally.calls_completed,
            out.wall_seconds,
            dir.join("partial.json").display()
        );
        return Ok(());
    }
    let dir = a
        .out
        .unwrap_or_else(|| PathBuf::from("out").join(&setup.name));
    let ctx = ReportContext {
        setup: &setup,
        run: &out,
        summary: &summary,
    };
    write_reports(&dir, &ctx, &standard_reports())
        .with_context(|| format!("cannot write the reports to {}", dir.display()))?;
    print!("{}", table::render(&summary));
    eprintln!("wrote {}", a.final_dir.as_ref().unwrap_or(&dir).display());
    Ok(())
}
