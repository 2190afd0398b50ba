//! `tokenfleet merge DIR... [--out DIR]`: combine the shards of a run.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use tokenfleet_reports::partial::PartialFile;
use tokenfleet_reports::{ReportContext, Summary, standard_reports, table, write_reports};
use tokenfleet_sim::Scenario;
use tokenfleet_sim::run::RunOutput;
use tokenfleet_sim::scenario::Origin;

#[derive(Args)]
pub struct MergeArgs {
    /// Shard output directories (or their partial.json files), one per shard.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output directory (default: out/<scenario name>).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn partial_path(p: &Path) -> PathBuf {
    if p.is_dir() {
        p.join("partial.json")
    } else {
        p.to_path_buf()
    }
}

pub fn merge(a: MergeArgs) -> Result<()> {
    let mut parts = Vec::new();
    let mut first: Option<(PathBuf, PartialFile)> = None;
    for input in &a.inputs {
        let path = partial_path(input);
        let part = PartialFile::read(&path)?;
        if let Some((p0, f)) = &first {
            let same = f.scenario == part.scenario
                && f.seed == part.seed
                && f.tokenfleet_version == part.tokenfleet_version;
            if !same {
                bail!(
                    "{} and {} are shards of different runs (scenario, overrides, sample, seed or tokenfleet version differ)",
                    p0.display(),
                    path.display()
                );
            }
        } else {
            first = Some((path.clone(), part.clone()));
        }
        parts.push(
            part.into_run()
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        );
    }
    let (_, f) = first.expect("clap requires one input");
    let origin = Origin {
        file: f.scenario.file.clone(),
        dir: f.scenario.dir.as_ref().map(PathBuf::from),
        text: f.scenario.text.clone(),
    };
    let setup = Scenario::from_text(&origin, &f.scenario.overrides)?.resolve(&origin)?;
    let out = RunOutput::merge(parts, setup.engine.calls_sample_max as usize)?;
    let summary = Summary::new(&setup, &out);
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
    eprintln!("merged {} shards; wrote {}", a.inputs.len(), dir.display());
    Ok(())
}
