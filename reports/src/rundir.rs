//! Reading a run directory back: manifest.json (checked first, for the format version),
//! summary.json, hourly.csv and charts/daily_tokens.csv. Every failure names the file and says
//! what is wrong with it; nothing here panics on a bad directory.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::charts::data::{ChartRun, DAILY_TOKENS_FILE, TokenBin, read_bins};
use crate::error::{ReportError, read_err};
use crate::hourly::{self, HourRow};
use crate::manifest::{self, ManifestData};

/// A run directory, read back.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub dir: PathBuf,
    pub manifest: ManifestData,
    pub summary: Value,
    pub hourly: Vec<HourRow>,
    pub daily_tokens: Vec<TokenBin>,
}

impl RunDir {
    pub fn read(dir: &Path) -> Result<RunDir, ReportError> {
        if !dir.is_dir() {
            return Err(ReportError::Read {
                path: dir.to_path_buf(),
                message: "not a directory".into(),
            });
        }
        let manifest = manifest::read(dir)?;
        // Each file is the one the run wrote (size and SHA-256 as listed), or refused.
        let existing = |rel: &str| manifest::verify(dir, &manifest, rel);
        let path = existing("summary.json")?;
        let text = std::fs::read_to_string(&path).map_err(|e| read_err(&path, e))?;
        let summary: Value = serde_json::from_str(&text).map_err(|e| read_err(&path, e))?;
        let hourly = hourly::read(&existing("hourly.csv")?)?;
        let daily_tokens = read_bins(&existing(DAILY_TOKENS_FILE)?)?;
        Ok(RunDir {
            dir: dir.to_path_buf(),
            manifest,
            summary,
            hourly,
            daily_tokens,
        })
    }

    /// The summary.json field at a dotted path, e.g. "revenue_usd.itemized".
    pub fn value(&self, path: &str) -> Result<&Value, ReportError> {
        let mut cur = &self.summary;
        for k in path.split('.') {
            cur = match cur.get(k) {
                Some(v) => v,
                None => {
                    return Err(read_err(
                        &self.dir.join("summary.json"),
                        format_args!("no field `{path}`"),
                    ));
                }
            };
        }
        Ok(cur)
    }

    /// A numeric summary.json field. `list[].field` sums `field` over the elements of the list
    /// `list` (e.g. "pools[].devices": the devices of all pools).
    pub fn number(&self, path: &str) -> Result<f64, ReportError> {
        let file = self.dir.join("summary.json");
        if let Some((list, field)) = path.split_once("[].") {
            let items = self
                .value(list)?
                .as_array()
                .ok_or_else(|| read_err(&file, format_args!("field `{list}` is not a list")))?;
            let mut sum = 0.0;
            for item in items {
                sum += item.get(field).and_then(Value::as_f64).ok_or_else(|| {
                    read_err(
                        &file,
                        format_args!("an element of `{list}` has no number `{field}`"),
                    )
                })?;
            }
            return Ok(sum);
        }
        self.value(path)?
            .as_f64()
            .ok_or_else(|| read_err(&file, format_args!("field `{path}` is not a number")))
    }

    /// The scenario's name.
    pub fn name(&self) -> &str {
        self.value("scenario")
            .ok()
            .and_then(Value::as_str)
            .unwrap_or(&self.manifest.scenario)
    }

    /// What the charts need, labelled for a legend.
    pub fn chart_run(&self, label: String) -> Result<ChartRun, ReportError> {
        let q = |p: &str| {
            self.number(&format!("agents.daily_tokens_{p}"))
                .map(|v| v as u64)
        };
        Ok(ChartRun {
            label,
            rows: self.hourly.clone(),
            daily_tokens: self.daily_tokens.clone(),
            daily_quantiles: [q("p10")?, q("p50")?, q("p90")?],
            unit: self
                .summary
                .get("replay")
                .and_then(|r| r.get("unit"))
                .and_then(Value::as_str)
                .unwrap_or("agent")
                .to_string(),
        })
    }
}
