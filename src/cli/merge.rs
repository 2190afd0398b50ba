//! `tokenfleet merge DIR... [--out DIR]`: combine the shards of a run.

use std::path::{Path, PathBuf};

use super::output::output_dir;
use anyhow::{Context, Result, bail};
use clap::Args;
use tokenfleet_fleet::run::RunOutput;
use tokenfleet_reports::partial::PartialFile;
use tokenfleet_reports::{
    OutputMeta, ReportContext, Summary, standard_reports, table, write_reports,
};
use tokenfleet_scenario::Origin;
use tokenfleet_scenario::Scenario;

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

fn is_sweep(p: &Path) -> bool {
    if p.is_dir() {
        p.join("sweep_partial.json").exists()
    } else {
        p.file_name().is_some_and(|n| n == "sweep_partial.json")
    }
}

/// Merges the shards of a sweep: their runs together are the whole grid.
fn merge_sweep(a: &MergeArgs) -> Result<()> {
    use super::sweep::finish;
    use tokenfleet_reports::sweep::{SWEEP_FORMAT, SweepPartial};
    let mut parts: Vec<(PathBuf, SweepPartial)> = Vec::new();
    for input in &a.inputs {
        let path = if input.is_dir() {
            input.join("sweep_partial.json")
        } else {
            input.clone()
        };
        // The file the shard wrote (size and SHA-256 as its manifest lists), or refused.
        tokenfleet_reports::manifest::verify_beside(&path)?;
        let limit = tokenfleet_models::input::RESULT_MAX_BYTES;
        let text = tokenfleet_models::input::read_string(&path, limit, "a partial result")?;
        let p: SweepPartial = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a sweep partial result", path.display()))?;
        if p.format != SWEEP_FORMAT {
            bail!(
                "{}: format {:?} is not {SWEEP_FORMAT:?}",
                path.display(),
                p.format
            );
        }
        parts.push((path, p));
    }
    let (p0, first) = &parts[0];
    let count = first.shard.count;
    let mut seen = vec![false; count];
    for (path, p) in &parts {
        if p.source != first.source
            || p.sweep.varies != first.sweep.varies
            || p.sweep.draws != first.sweep.draws
            || p.sweep.seeds != first.sweep.seeds
            || p.shard.count != count
        {
            bail!(
                "{} and {} are shards of different sweeps",
                p0.display(),
                path.display()
            );
        }
        if std::mem::replace(&mut seen[p.shard.index], true) {
            bail!("sweep shard {} is given twice", p.shard);
        }
    }
    if let Some(m) = seen.iter().position(|s| !s) {
        bail!("sweep shard {m}/{count} is missing");
    }
    let mut file = first.sweep.clone();
    file.rows = parts
        .iter()
        .flat_map(|(_, p)| p.sweep.rows.clone())
        .collect();
    file.rows.sort_by_key(|r| (r.point, r.seed_index));
    let inputs: Vec<&Path> = a.inputs.iter().map(PathBuf::as_path).collect();
    let dir = output_dir(
        a.out.as_deref(),
        &format!("{}-sweep", file.scenario),
        &inputs,
    )?;
    finish(&dir, &file, &super::made::of_source(&first.source)?, 0.0)
}

pub fn merge(a: MergeArgs) -> Result<()> {
    if a.inputs.iter().any(|i| is_sweep(i)) {
        return merge_sweep(&a);
    }
    let mut parts = Vec::new();
    let mut first: Option<(PathBuf, PartialFile)> = None;
    for input in &a.inputs {
        let path = partial_path(input);
        tokenfleet_reports::manifest::verify_beside(&path)?;
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
    let inputs: Vec<&Path> = a.inputs.iter().map(PathBuf::as_path).collect();
    let dir = output_dir(a.out.as_deref(), &setup.name, &inputs)?;
    let meta = OutputMeta {
        command: "merge",
        scenario: setup.name.clone(),
        seed: Some(f.seed),
        made: super::made::of_source(&f.scenario)?,
    };
    let ctx = ReportContext {
        setup: &setup,
        run: &out,
        summary: &summary,
        made: &meta.made,
    };
    write_reports(&dir, &meta, &ctx, &standard_reports())
        .with_context(|| format!("cannot write the reports to {}", dir.display()))?;
    print!("{}", table::render(&summary));
    eprintln!("merged {} shards; wrote {}", a.inputs.len(), dir.display());
    Ok(())
}
