//! `tokenfleet sensitivity SCENARIO`: which inputs move the margin most (a tornado chart).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;

use super::output::output_dir;
use tokenfleet_analysis::sensitivity::{inputs, sensitivity};
use tokenfleet_reports::sensitivity::write_sensitivity;
use tokenfleet_reports::table::money;
use tokenfleet_scenario::Scenario;

#[derive(Args)]
pub struct SensitivityArgs {
    /// The scenario file (the built-in default when omitted).
    scenario: Option<PathBuf>,
    /// How far each input moves down and up (0.2 = ±20%).
    #[arg(long, default_value_t = 0.2, allow_negative_numbers = true, value_parser = super::values::number(0.0, false, 1.0, false))]
    amount: f64,
    #[command(flatten)]
    common: super::batch::BatchArgs,
}

pub fn run(a: SensitivityArgs) -> Result<()> {
    if !(a.amount > 0.0 && a.amount < 1.0) {
        bail!("--amount {}: must be in (0, 1)", a.amount);
    }
    let (scenario, origin) = Scenario::load(a.scenario.as_deref(), &a.common.set)?;
    let runs = 1 + 2 * inputs(&scenario, &scenario.resolve(&origin)?).len() as u64;
    let pool = a.common.pool()?;
    let inputs: Vec<&Path> = a.scenario.iter().map(PathBuf::as_path).collect();
    let dir = output_dir(
        a.common.runner.out.as_deref(),
        &format!("{}-sensitivity", scenario.name),
        &inputs,
    )?;
    let bar = super::progress::Progress::new("sensitivity", "runs", runs);
    let s = pool.install(|| {
        sensitivity(
            &origin,
            &a.common.set,
            a.amount,
            a.common.runner.seed,
            a.common.sample,
            &|| bar.inc(1),
        )
    })?;
    bar.finish();
    tokenfleet_engine::interrupt::check()?;
    let made = super::made::of_scenario(&origin, &a.common.set)?;
    write_sensitivity(&dir, &scenario.name, &s, &made)
        .with_context(|| format!("cannot write to {}", dir.display()))?;
    println!(
        "  base: margin {} itemized, {} blended; cost ${:.4}/M tokens",
        money(s.base.margin_itemized_usd),
        money(s.base.margin_blended_usd),
        s.base.cost_usd_per_mtok
    );
    println!(
        "  {:<44} {:>14} {:>14}   {:>22}",
        "input (±)", "margin low", "margin high", "cost/M tokens low-high"
    );
    for w in &s.swings {
        println!(
            "  {:<44} {:>14} {:>14}   ${:>9.4} - ${:<9.4}",
            w.input.label,
            money(w.low.margin_itemized_usd),
            money(w.high.margin_itemized_usd),
            w.low.cost_usd_per_mtok,
            w.high.cost_usd_per_mtok
        );
    }
    eprintln!(
        "{} runs in {:.1}s; wrote {} (report.html, sensitivity.csv, charts/)",
        runs,
        bar.elapsed().as_secs_f64(),
        dir.display()
    );
    Ok(())
}
