//! `tokenfleet compare A B [--out DIR]`: two runs side by side. A and B are run output
//! directories, or scenario files that are run first (into DIR/a and DIR/b). Prints the headline
//! figures with their differences and writes compare.html, compare.csv and the overlaid charts.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use tokenfleet_reports::compare::compare as compare_runs;
use tokenfleet_reports::rundir::RunDir;
use tokenfleet_reports::{OutputMeta, write_dir_atomically};

use super::batch::RunnerArgs;
use super::output::output_dir;
use super::run::{RunArgs, run};

#[derive(Args)]
pub struct CompareArgs {
    /// Run A: an output directory of `tokenfleet run`, or a scenario file (TOML) to run.
    a: PathBuf,
    /// Run B, likewise.
    b: PathBuf,
    /// Output (default: out/compare-<A>-vs-<B>), and the seed and threads of the scenario
    /// files that are run (default: each scenario's seed).
    #[command(flatten)]
    runner: RunnerArgs,
}

fn stem(p: &Path) -> String {
    let s = if p.is_dir() {
        p.file_name()
    } else {
        p.file_stem()
    };
    s.map_or_else(|| "run".into(), |s| s.to_string_lossy().into_owned())
}

pub fn compare(args: CompareArgs) -> Result<()> {
    for p in [&args.a, &args.b] {
        if !p.exists() {
            bail!("{}: no such run directory or scenario file", p.display());
        }
    }
    // Neither A nor B may be inside the output that replaces its directory.
    let dir = output_dir(
        args.runner.out.as_deref(),
        &format!("compare-{}-vs-{}", stem(&args.a), stem(&args.b)),
        &[&args.a, &args.b],
    )?;
    let meta = OutputMeta {
        command: "compare",
        scenario: format!("{} vs {}", stem(&args.a), stem(&args.b)),
        seed: None,
        made: super::made::of_command(),
    };
    // Everything (runs of scenario files included) is written into a temporary directory that
    // replaces `dir` only when complete.
    write_dir_atomically(&dir, &meta, |tmp| -> Result<()> {
        let mut runs = Vec::new();
        for (tag, p) in [("a", &args.a), ("b", &args.b)] {
            let run_dir = if p.is_dir() {
                p.clone()
            } else {
                eprintln!("running {} as {}", p.display(), tag.to_uppercase());
                let out = tmp.join(tag);
                let shown = dir.join(tag);
                run(RunArgs::of(
                    p.clone(),
                    out.clone(),
                    shown,
                    args.runner.seed,
                    args.runner.threads,
                ))
                .with_context(|| format!("cannot run {}", p.display()))?;
                out
            };
            runs.push(
                RunDir::read(&run_dir)
                    .with_context(|| format!("cannot read run {}", tag.to_uppercase()))?,
            );
        }
        let c = compare_runs(&runs[0], &runs[1])?;
        c.write(tmp)
            .with_context(|| format!("cannot write the comparison to {}", dir.display()))?;
        print!("{}", c.table());
        Ok(())
    })?;
    eprintln!("wrote {}", dir.display());
    Ok(())
}
