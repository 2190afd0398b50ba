//! Where a command writes: `--out DIR`, or `out/<name>` after the scenario, checked before
//! anything runs so that a refused path costs no simulation (the writer checks again just
//! before it renames; `tokenfleet_reports::output` states the rule).

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use tokenfleet_reports::{check_dir, default_dir};

/// The output directory: `out` if given, else `out/<default_name>`; refused when it holds
/// anything tokenfleet did not write, or any of `inputs`.
pub fn output_dir(out: Option<&Path>, default_name: &str, inputs: &[&Path]) -> Result<PathBuf> {
    let (dir, flag) = match out {
        Some(d) => (d.to_path_buf(), "--out "),
        None => (default_dir(default_name)?, ""),
    };
    check_dir(&dir, inputs).map_err(|e| anyhow!("{flag}{e}"))?;
    // A default path is shared by every run of a scenario: say when it held another one.
    if let Ok(old) = tokenfleet_reports::manifest::read(&dir) {
        let now = super::made::command_line();
        if !old.command_line.is_empty() && old.command_line != now {
            eprintln!(
                "note: replacing {}, the output of `{}` (give --out to keep both)",
                dir.display(),
                old.command_line
            );
        }
    }
    Ok(dir)
}
