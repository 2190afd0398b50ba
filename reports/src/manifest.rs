//! manifest.json: what a run directory holds and which version of the output format wrote it,
//! so that reading a directory back (`tokenfleet compare`) can refuse one it would misread
//! instead of failing on a missing column.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{ReportError, read_err};
use crate::formats::write_json;
use crate::report::{Report, ReportContext};

pub const MANIFEST_FILE: &str = "manifest.json";

/// Bumped whenever a file of the run directory changes in a way a reader must know about.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestData {
    pub tool: String,
    pub version: String,
    pub format: u32,
    pub scenario: String,
    pub seed: u64,
    pub files: Vec<String>,
}

/// Writes manifest.json listing `files`.
pub struct Manifest {
    pub files: Vec<&'static str>,
}

impl Report for Manifest {
    fn file_name(&self) -> &'static str {
        MANIFEST_FILE
    }
    fn write(&self, ctx: &ReportContext, out: &mut dyn Write) -> Result<(), ReportError> {
        let m = ManifestData {
            tool: "tokenfleet".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            format: FORMAT,
            scenario: ctx.summary.scenario.clone(),
            seed: ctx.summary.seed,
            files: self.files.iter().map(|f| f.to_string()).collect(),
        };
        write_json(MANIFEST_FILE, &m, true, out)
    }
}

/// Reads and checks `dir/manifest.json`.
pub fn read(dir: &Path) -> Result<ManifestData, ReportError> {
    let path = dir.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| ReportError::Read {
        path: path.clone(),
        message: if e.kind() == std::io::ErrorKind::NotFound {
            "missing: not a tokenfleet run directory, or written by a tokenfleet older than \
             the manifest (run the scenario again)"
                .into()
        } else {
            e.to_string()
        },
    })?;
    let m: ManifestData = serde_json::from_str(&text).map_err(|e| read_err(&path, e))?;
    if m.tool != "tokenfleet" || m.format != FORMAT {
        return Err(ReportError::Read {
            path,
            message: format!(
                "output format {} of {} {}; this tokenfleet ({}) reads format {FORMAT}: run the \
                 scenario again with it",
                m.format,
                m.tool,
                m.version,
                env!("CARGO_PKG_VERSION")
            ),
        });
    }
    Ok(m)
}
