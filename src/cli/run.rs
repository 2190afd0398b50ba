//! `tokenfleet run [SCENARIO]`: simulate and write the reports; with `--trace FILE`, replay a
//! recorded trace on the scenario's cluster and prices instead of its fleet.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;

use super::batch::RunnerArgs;
use super::output::output_dir;
use tokenfleet_fleet::budget;
use tokenfleet_fleet::budget::{Estimate, Machine};
use tokenfleet_fleet::replay;
use tokenfleet_fleet::run::{Demand, Shard, simulate};
use tokenfleet_models::units::Seconds;
use tokenfleet_reports::partial::{PartialJson, ScenarioSource};
use tokenfleet_reports::{
    OutputMeta, Report, ReportContext, Summary, standard_reports, table, write_reports,
};
use tokenfleet_scenario::Scenario;
use tokenfleet_setup::Setup;
use tokenfleet_workload::trace;
use tokenfleet_workload::trace::{Format, Replay, ReplayOptions};

#[derive(Args)]
pub struct RunArgs {
    /// Scenario file (TOML); the built-in default (scenarios/openclaw-2026.toml) if omitted.
    scenario: Option<PathBuf>,
    /// Output (default: out/<scenario name>, or out/<scenario>-<trace> for a replay), seed and
    /// threads.
    #[command(flatten)]
    runner: RunnerArgs,
    /// Override a field, e.g. --set fleet.agents=2000000 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Simulate every cell of the fleet instead of a sample.
    #[arg(long, conflicts_with = "sample")]
    full: bool,
    /// Simulate this fraction of cells (0 < F <= 1) and scale.
    #[arg(long, value_name = "F", allow_negative_numbers = true, value_parser = super::values::number(0.0, false, 1.0, true))]
    sample: Option<f64>,
    /// Run even if the estimate of memory or time exceeds what this machine has.
    #[arg(long)]
    force: bool,
    /// Simulate only part I of N of the cells and write a partial result for `tokenfleet merge`
    /// (I from 0; e.g. from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX).
    #[arg(long, value_name = "I/N", allow_hyphen_values = true, value_parser = super::values::shard)]
    shard: Option<Shard>,
    /// Where the output directory will end up, if `out` is a temporary place (compare).
    #[arg(skip)]
    final_dir: Option<PathBuf>,
    /// Replay this trace on the scenario's cluster and prices instead of its fleet: every
    /// recorded request is one call.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// The trace's format (default: from the extension: .csv azure, .jsonl mooncake, .json or a
    /// directory claude-code).
    #[arg(long, value_name = "FORMAT", value_parser = ["azure", "mooncake", "claude-code"], requires = "trace")]
    trace_format: Option<String>,
    /// The served model the trace calls (default: the scenario's first segment's).
    #[arg(long, value_name = "MODEL", requires = "trace")]
    trace_model: Option<String>,
    /// Replay this many times faster (0.5: twice as slow).
    #[arg(long, value_name = "X", default_value_t = 1.0, requires = "trace", allow_negative_numbers = true, value_parser = super::values::number(0.0, false, 1e9, true))]
    trace_speed: f64,
    /// Copies of the trace: copy 0 as recorded, the others shifted over its span and jittered.
    #[arg(long, value_name = "N", default_value_t = 1, requires = "trace", allow_negative_numbers = true, value_parser = super::values::whole::<u32>(1, u32::MAX as u64))]
    trace_copies: u32,
    /// Upper bound of each copy's per-request jitter, e.g. 2s.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "1s",
        requires = "trace"
    )]
    trace_jitter: String,
    /// Simulated horizon of a replay (default: its span plus an hour, in whole hours).
    #[arg(long, value_name = "DURATION", requires = "trace")]
    trace_duration: Option<String>,
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
            runner: RunnerArgs {
                out: Some(out),
                seed,
                threads,
            },
            final_dir: Some(final_dir),
            set: Vec::new(),
            full: false,
            force: false,
            sample: None,
            shard: None,
            trace: None,
            trace_format: None,
            trace_model: None,
            trace_speed: 1.0,
            trace_copies: 1,
            trace_jitter: "1s".into(),
            trace_duration: None,
        }
    }
}

fn duration(flag: &str, text: &str) -> Result<f64> {
    let s: Seconds = text
        .parse()
        .map_err(|e| anyhow::anyhow!("{flag} {text}: {e}"))?;
    Ok(s.get())
}

pub fn run(a: RunArgs) -> Result<()> {
    let (scenario, origin) = Scenario::load(a.scenario.as_deref(), &a.set)?;
    let setup = scenario.resolve(&origin)?;
    let seed = a.runner.seed.unwrap_or(setup.seed);
    let sample = match (a.full, a.sample) {
        (true, _) => Some(1.0),
        (false, Some(f)) if f > 0.0 && f <= 1.0 => Some(f),
        (false, Some(f)) => bail!("--sample {f}: must be a fraction in (0, 1]"),
        (false, None) => None,
    };
    let pool = a.runner.pool()?;

    // A replay runs the scenario's cluster and prices on recorded traffic instead of its fleet.
    let (setup, replay, default_name) = match &a.trace {
        None => {
            let name = setup.name.clone();
            (setup, None, name)
        }
        Some(file) => {
            if a.shard.is_some() {
                bail!("--shard works on generated fleets only; replay a trace in one run");
            }
            let (rsetup, replay) = replay_setup(&a, file, &setup)?;
            let stem = file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "trace".into());
            let name = format!("{}-{stem}", setup.name);
            (rsetup, Some((replay, file)), name)
        }
    };
    // Checked before anything runs: a refused output costs no simulation.
    let default_name = match a.shard {
        Some(shard) => format!("{default_name}.shard-{}-of-{}", shard.index, shard.count),
        None => default_name,
    };
    let mut inputs: Vec<&Path> = a.scenario.iter().map(PathBuf::as_path).collect();
    inputs.extend(a.trace.as_deref());
    let dir = output_dir(a.runner.out.as_deref(), &default_name, &inputs)?;
    let demand = match &replay {
        None => Demand::Fleet,
        Some((r, _)) => Demand::Replay(r),
    };
    let layout = demand.layout(&setup, seed, sample);
    let cells = layout.cells_of(a.shard).len();
    // Refused up front rather than after hours, or killed by the kernel for its memory.
    let threads = pool.current_num_threads();
    let calls_total = demand.calls(&setup);
    let estimate = Estimate::new(&setup, layout.cells, cells, calls_total, threads);
    if !a.force {
        budget::check(&estimate, &Machine::detect())
            .map_err(|e| anyhow::anyhow!("{}: {e}", origin.file))?;
    }
    let total = (cells * setup.hours) as u64;
    let bar = super::progress::Progress::new("simulating", "cell-hours", total);
    let progress = |n: u64| bar.inc(n);
    let out = pool.install(|| simulate(&setup, demand, seed, layout, a.shard, &progress));
    bar.finish();
    tokenfleet_engine::interrupt::check()?;
    if let Some((replay, file)) = &replay {
        eprintln!(
            "replayed {} ({}): {} requests x {} cop{} = {} calls generated ({} completed, {} rejected, {} in flight){}",
            file.display(),
            replay.trace.format.name(),
            replay.trace.rows,
            replay.options.copies,
            if replay.options.copies == 1 {
                "y"
            } else {
                "ies"
            },
            out.tally.calls_generated,
            out.tally.calls_completed,
            out.tally.calls_rejected,
            out.tally.calls_in_flight,
            if replay.clipped > 0 {
                format!(
                    "; {} calls cut to the model's {}-token window",
                    replay.clipped, replay.window
                )
            } else {
                String::new()
            }
        );
    }

    let summary = Summary::new(&setup, &out);
    let meta = OutputMeta {
        command: "run",
        scenario: setup.name.clone(),
        seed: Some(seed),
        made: super::made::of_scenario(&origin, &a.set)?,
    };
    if let Some(shard) = a.shard {
        let source = ScenarioSource {
            file: origin.file.clone(),
            dir: origin.dir.as_ref().map(|d| d.display().to_string()),
            text: origin.text.clone(),
            overrides: a.set.clone(),
            sample,
            command_line: super::made::whole_command_line(),
        };
        let ctx = ReportContext {
            setup: &setup,
            run: &out,
            summary: &summary,
            made: &meta.made,
        };
        let reports: Vec<Box<dyn Report>> = vec![Box::new(PartialJson(source))];
        write_reports(&dir, &meta, &ctx, &reports)
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
    let ctx = ReportContext {
        setup: &setup,
        run: &out,
        summary: &summary,
        made: &meta.made,
    };
    let writing = std::time::Instant::now();
    write_reports(&dir, &meta, &ctx, &standard_reports())
        .with_context(|| format!("cannot write the reports to {}", dir.display()))?;
    print!("{}", table::render(&summary));
    eprintln!(
        "wrote {} (reports and charts in {:.2}s)",
        a.final_dir.as_ref().unwrap_or(&dir).display(),
        writing.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Reads the trace and builds the replay and the setup it runs on.
fn replay_setup(a: &RunArgs, file: &Path, setup: &Setup) -> Result<(Setup, Replay)> {
    let format = match &a.trace_format {
        Some(f) => Format::parse(f).expect("clap checked the value"),
        None => trace::guess_format(file).with_context(|| {
            format!(
                "--trace {}: cannot tell the format from the name; give --trace-format azure|mooncake|claude-code",
                file.display()
            )
        })?,
    };
    let recorded = trace::read(file, format)?;
    let (model, window) = replay::choose_model(setup, a.trace_model.as_deref())?;
    let options = ReplayOptions {
        speed: a.trace_speed,
        copies: a.trace_copies,
        jitter_s: duration("--trace-jitter", &a.trace_jitter)?,
        duration_s: a
            .trace_duration
            .as_deref()
            .map(|d| duration("--trace-duration", d))
            .transpose()?,
    };
    let replay = Replay::new(recorded, options, window)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let rsetup = replay::setup_for(&replay, setup, model);
    Ok((rsetup, replay))
}
