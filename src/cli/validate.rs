//! `tokenfleet validate SCENARIO`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use tokenfleet_scenario::Scenario;

#[derive(Args)]
pub struct ValidateArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
    /// Override a field before checking, e.g. --set fleet.agents=2000000 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
}

pub fn validate(a: ValidateArgs) -> Result<()> {
    let (scenario, origin) = Scenario::load(Some(&a.scenario), &a.set)?;
    let setup = scenario.resolve(&origin)?;
    let devices: u64 = setup.pools.iter().map(|p| p.devices()).sum();
    println!(
        "ok: {}: scenario `{}`: {} agents in {} segment(s), {} pool(s) with {} devices, about {:.3e} calls in {:.0} h",
        origin.file,
        setup.name,
        setup.agents,
        setup.segments.len(),
        setup.pools.len(),
        devices,
        setup.expected_calls(),
        setup.horizon.secs() / 3600.0
    );
    Ok(())
}
