//! `tokenfleet calibrate`: fits the performance model on measured data and writes
//! models/catalog/calibration.toml (or only reports the errors of the compiled-in fit).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use tokenfleet_calibrate::check::serving_predictions;
use tokenfleet_calibrate::data::{ATTENTION_CSV, GEMM_CSV, NCCL_CSV, SERVING_CSV, SPLITWISE_CSV};
use tokenfleet_calibrate::power::check_power;
use tokenfleet_calibrate::{DatasetErrors, MeasuredData, check};
use tokenfleet_models::Catalog;
use tokenfleet_models::perf::Calibration;

#[derive(Args)]
pub struct CalibrateArgs {
    /// Directory with the measured CSV files [default: the repository's tests/fixtures/measured]
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Where to write the fitted parameters [default: the repository's models/catalog/calibration.toml]
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Nelder-Mead iterations per fit.
    #[arg(long, default_value_t = 120, allow_negative_numbers = true, value_parser = super::values::whole::<usize>(1, 100_000))]
    iters: usize,
    /// Fit nothing: report the errors of the compiled-in calibration on the data.
    #[arg(long)]
    check: bool,
    /// With --check: print every measured serving row beside its prediction.
    #[arg(long, requires = "check")]
    rows: bool,
    /// With --check: the calibration file to check [default: the compiled-in one].
    #[arg(long, value_name = "FILE", requires = "check")]
    calibration: Option<PathBuf>,
}

fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The first line of every calibration file `calibrate` writes: what lets `--out` replace an
/// earlier one and nothing else.
const CALIBRATION_MARKER: &str = "# Calibrated performance-model parameters";

pub fn calibrate(a: CalibrateArgs) -> Result<()> {
    let data_label = a
        .data
        .as_ref()
        .map_or("tests/fixtures/measured".to_string(), |d| {
            d.display().to_string()
        });
    let data_dir = a
        .data
        .unwrap_or_else(|| repo_path("tests/fixtures/measured"));
    if !data_dir.is_dir() {
        bail!(
            "no measured data at {}; give --data DIR (the files are listed in tests/fixtures/measured/SOURCES.md)",
            data_dir.display()
        );
    }
    let data = MeasuredData::from_dir(&data_dir)
        .with_context(|| format!("reading {}", data_dir.display()))?;
    let catalog = Catalog::builtin()?;
    if a.check {
        let owned;
        let cal = match &a.calibration {
            Some(path) => {
                let limit = tokenfleet_models::input::DATA_MAX_BYTES;
                let text = tokenfleet_models::input::read_string(path, limit, "a calibration")?;
                owned = Calibration::parse(&text)
                    .with_context(|| format!("checking {}", path.display()))?;
                &owned
            }
            None => Calibration::builtin()?,
        };
        if a.rows {
            print_rows(&catalog, &data, cal);
        }
        print_errors(&check(&catalog, &data, cal));
        print_power(&catalog, &data, cal)?;
        return Ok(());
    }
    if a.iters == 0 {
        bail!("--iters must be at least 1");
    }
    let out = a
        .out
        .unwrap_or_else(|| repo_path("models/catalog/calibration.toml"));
    // Checked before the fit, which takes a minute: a refused path costs nothing.
    tokenfleet_reports::check_file(&out, &[], CALIBRATION_MARKER)
        .map_err(|e| anyhow::anyhow!("--out {e}"))?;
    let started = std::time::Instant::now();
    let run = tokenfleet_calibrate::calibrate(&catalog, &data, a.iters, |msg| eprintln!("{msg}"))?;
    tokenfleet_engine::interrupt::check()?;
    let header = header(&data_label, a.iters, &data);
    let text = run.calibration.to_toml(&header)?;
    tokenfleet_reports::write_file_atomically(&out, text.as_bytes(), CALIBRATION_MARKER)
        .with_context(|| format!("writing {}", out.display()))?;
    print_errors(&check(&catalog, &data, &run.calibration));
    print_power(&catalog, &data, &run.calibration)?;
    println!(
        "wrote {} in {:.0} s (rebuild to compile it in)",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The power curve's errors on its data, beside the linear curve's.
fn print_power(catalog: &Catalog, data: &MeasuredData, cal: &Calibration) -> Result<()> {
    let (rows, e) = check_power(catalog, data, cal)?;
    println!(
        "power curve (gamma {}) on {rows} splitwise A100 power readings: median error {:.3} of TDP, max {:.3} (linear curve: {:.3}, max {:.3})",
        cal.power.exponent, e.median, e.max, e.linear_median, e.linear_max
    );
    Ok(())
}

fn print_rows(catalog: &Catalog, data: &MeasuredData, cal: &Calibration) {
    println!(
        "{:<8} {:<14} {:>5} {:>5} {:>5} {:>4} {:>3} {:>10} {:>10} {:>8} {:>8}",
        "backend",
        "model",
        "prec",
        "isl",
        "osl",
        "conc",
        "tp",
        "ttft meas",
        "ttft pred",
        "tpot m",
        "tpot p"
    );
    for (p, pred) in serving_predictions(catalog, data, cal) {
        let (ttft, tpot) = match &pred {
            Ok(r) => (
                format!("{:.1}", r.ttft_s * 1e3),
                format!("{:.2}", r.tpot_s * 1e3),
            ),
            Err(_) => ("-".into(), "-".into()),
        };
        println!(
            "{:<8} {:<14} {:>5} {:>5} {:>5} {:>4} {:>3} {:>10.1} {:>10} {:>8.2} {:>8}",
            p.backend,
            p.model,
            p.weights.name(),
            p.isl,
            p.osl,
            p.concurrency,
            p.tp,
            p.ttft_s * 1e3,
            ttft,
            p.tpot_s * 1e3,
            tpot
        );
    }
}

fn print_errors(errors: &[DatasetErrors]) {
    println!(
        "{:<72} {:>5} {:>11} {:>9} {:>11} {:>9}",
        "data set", "rows", "TPOT median", "TPOT p90", "TTFT median", "TTFT p90"
    );
    for DatasetErrors {
        label, errors: e, ..
    } in errors
    {
        let (tm, tp) = e.tpot_median_p90();
        let (fm, fp) = e.ttft_median_p90();
        let failed = if e.failed > 0 {
            format!("  ({} rows do not fit)", e.failed)
        } else {
            String::new()
        };
        // Throughput-only data sets measure no TTFT: their TPOT columns hold the error of
        // throughput at a full engine.
        let pct = |x: f64, have: bool| {
            if have {
                format!("{:.1}%", x * 100.0)
            } else {
                "-".to_string()
            }
        };
        let has_ttft = !e.ttft.is_empty();
        println!(
            "{:<72} {:>5} {:>11} {:>9} {:>11} {:>9}{failed}",
            label,
            e.tpot.len(),
            pct(tm, true),
            pct(tp, true),
            pct(fm, has_ttft),
            pct(fp, has_ttft),
        );
    }
}

fn header(dir: &str, iters: usize, data: &MeasuredData) -> String {
    format!(
        "{CALIBRATION_MARKER}, one profile per serving engine.\n\
         #\n\
         # Generated by `tokenfleet calibrate --iters {iters}` (tokenfleet {version}); do not edit by\n\
         # hand: rerun the command and rebuild. Reproducible: the same data give the same file.\n\
         # Data ({dir}, see SOURCES.md there):\n\
         #   {serving}: {ns} measured TTFT/TPOT points (H100; vLLM, SGLang, TensorRT-LLM)\n\
         #   {split}: {nsw} splitwise points (Llama-2-70B, A100 and H100)\n\
         #   {gemm}, {attn}, {nccl}: kernel microbenchmarks (H100)\n\
         # Method (docs/performance-model.md): GEMM, attention, per-layer and collective constants\n\
         # from the microbenchmarks; per engine, memory efficiency and the iteration, per-sequence\n\
         # and request overheads by Nelder-Mead on the mean absolute log error of TPOT and TTFT,\n\
         # every row under one documented benchmark (AIPerf's: all clients at once, 10 rounds);\n\
         # every prediction is made by the simulator's own closed-loop benchmark and the engine's\n\
         # scheduler (tokenfleet_calibrate::closed_loop). trtllm_max_throughput.csv is check-only.\n\
         # [holdout.*] profiles are fitted on subsets and used only by tests/perf_accuracy.rs.\n",
        version = env!("CARGO_PKG_VERSION"),
        serving = SERVING_CSV,
        ns = data.serving.len(),
        split = SPLITWISE_CSV,
        nsw = data.splitwise.len(),
        gemm = GEMM_CSV,
        attn = ATTENTION_CSV,
        nccl = NCCL_CSV,
    )
}
