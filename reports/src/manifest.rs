//! manifest.json: the marker of a directory tokenfleet wrote. It says which command and which
//! version of the output format wrote it, and lists every file in it with its size and SHA-256.
//!
//! Two promises rest on it. Reading a directory back (`compare`, `merge`) refuses a file that
//! is not the one written (truncated, edited, or of another format) instead of misreading it.
//! And an output path is replaced only when it holds a manifest that lists everything in it
//! (`crate::output`): a directory of the user's, or one where a user file was added to a run,
//! is never deleted.
//!
//! It is written by the atomic directory writer (`crate::write`) after every other file, so
//! every output directory has one, whatever the command.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ReportError, io_err, read_err};

pub const MANIFEST_FILE: &str = "manifest.json";

/// Bumped whenever a file of the run directory changes in a way a reader must know about.
/// 2: every file listed with its size and SHA-256, and the command that wrote the directory.
pub const FORMAT: u32 = 2;

/// The largest manifest read back: a listing of a few hundred files is a few tens of kB.
const MANIFEST_MAX_BYTES: u64 = 16 << 20;

/// What wrote an output directory: stated by the command, recorded in its manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputMeta {
    /// `run`, `merge`, `sweep`, `plan`, `sensitivity`, `compare`.
    pub command: &'static str,
    /// The scenario's name (or the runs compared).
    pub scenario: String,
    /// The seed, where the output is of one seeded run.
    pub seed: Option<u64>,
    /// What was run to make it.
    pub made: Made,
}

/// The file beside the outputs that holds the scenario as it was run.
pub const SCENARIO_FILE: &str = "scenario.toml";

/// What was run to make an output directory, so that the directory alone says it: the command
/// line (recorded in the manifest and shown in the HTML reports) and the scenario after every
/// override (written beside the outputs as `scenario.toml`).
///
/// The command line leaves out `--out` and `--threads`: where the output went and how many
/// threads made it change nothing in it, and keeping them would make two runs that differ
/// only in those write different bytes (outputs are byte-identical across thread counts).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Made {
    /// `tokenfleet run scenarios/small.toml --set ...`, quoted for a POSIX shell.
    pub command_line: String,
    /// The scenario as run (TOML, after the overrides), when the output is of one scenario.
    pub scenario_toml: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the directory, `/`-separated.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestData {
    pub tool: String,
    pub version: String,
    pub format: u32,
    pub command: String,
    pub scenario: String,
    pub seed: Option<u64>,
    /// The command line that wrote the directory (see [`Made`]); empty when not known.
    #[serde(default)]
    pub command_line: String,
    pub files: Vec<FileEntry>,
}

impl ManifestData {
    /// The entry of `rel` (a `/`-separated path inside the directory).
    pub fn entry(&self, rel: &str) -> Option<&FileEntry> {
        self.files.iter().find(|f| f.path == rel)
    }
}

/// Lists every file under `dir` (sorted, so the manifest is byte-identical for identical
/// outputs) and writes `dir/manifest.json`.
pub(crate) fn write(dir: &Path, meta: &OutputMeta) -> Result<(), ReportError> {
    if let Some(toml) = &meta.made.scenario_toml {
        let path = dir.join(SCENARIO_FILE);
        let mut file = std::fs::File::create(&path).map_err(io_err(&path))?;
        file.write_all(toml.as_bytes()).map_err(io_err(&path))?;
        file.sync_all().map_err(io_err(&path))?;
    }
    let mut rels = Vec::new();
    walk(dir, dir, &mut rels)?;
    rels.retain(|r| r != MANIFEST_FILE);
    rels.sort();
    let mut files = Vec::with_capacity(rels.len());
    for rel in rels {
        let path = dir.join(&rel);
        let (bytes, sha256) = hash_file(&path)?;
        files.push(FileEntry {
            path: rel,
            bytes,
            sha256,
        });
    }
    let m = ManifestData {
        tool: "tokenfleet".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        format: FORMAT,
        command: meta.command.into(),
        scenario: meta.scenario.clone(),
        seed: meta.seed,
        command_line: meta.made.command_line.clone(),
        files,
    };
    let mut text = serde_json::to_string_pretty(&m).map_err(|e| ReportError::Format {
        file: MANIFEST_FILE,
        message: e.to_string(),
    })?;
    text.push('\n');
    let path = dir.join(MANIFEST_FILE);
    let mut file = std::fs::File::create(&path).map_err(io_err(&path))?;
    file.write_all(text.as_bytes()).map_err(io_err(&path))?;
    file.sync_all().map_err(io_err(&path))
}

/// The `/`-separated paths of the regular files under `dir`, relative to `root`.
fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), ReportError> {
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io_err(&path))?;
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}

/// The size and SHA-256 (lowercase hex) of a file, read in blocks.
fn hash_file(path: &Path) -> Result<(u64, String), ReportError> {
    let mut file = std::fs::File::open(path).map_err(io_err(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    let hex = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((bytes, hex))
}

/// Reads `dir/manifest.json` without judging its format: `None` when there is none or it is
/// not a tokenfleet manifest. What the output guard uses to tell tokenfleet's directories.
pub(crate) fn read_marker(dir: &Path) -> Option<ManifestData> {
    let path = dir.join(MANIFEST_FILE);
    let meta = std::fs::metadata(&path).ok()?;
    if !meta.is_file() || meta.len() > MANIFEST_MAX_BYTES {
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let m: ManifestData = serde_json::from_str(&text).ok()?;
    (m.tool == "tokenfleet").then_some(m)
}

/// Reads and checks `dir/manifest.json`.
pub fn read(dir: &Path) -> Result<ManifestData, ReportError> {
    let path = dir.join(MANIFEST_FILE);
    let meta = std::fs::metadata(&path).map_err(|e| ReportError::Read {
        path: path.clone(),
        message: if e.kind() == std::io::ErrorKind::NotFound {
            "missing: not a tokenfleet run directory, or written by a tokenfleet older than \
             the manifest (run the scenario again)"
                .into()
        } else {
            e.to_string()
        },
    })?;
    if !meta.is_file() || meta.len() > MANIFEST_MAX_BYTES {
        return Err(ReportError::Read {
            path,
            message: format!(
                "not a manifest; accepted: a regular file of at most {} MB",
                MANIFEST_MAX_BYTES >> 20
            ),
        });
    }
    let text = std::fs::read_to_string(&path).map_err(|e| read_err(&path, e))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| read_err(&path, e))?;
    let format = value.get("format").and_then(|f| f.as_u64());
    let tool = value.get("tool").and_then(|t| t.as_str()).unwrap_or("?");
    if tool != "tokenfleet" || format != Some(FORMAT as u64) {
        return Err(ReportError::Read {
            path,
            message: format!(
                "output format {} of {} {}; this tokenfleet ({}) reads format {FORMAT}: run the \
                 scenario again with it",
                format.map_or("?".into(), |f| f.to_string()),
                tool,
                value.get("version").and_then(|v| v.as_str()).unwrap_or("?"),
                env!("CARGO_PKG_VERSION")
            ),
        });
    }
    serde_json::from_value(value).map_err(|e| read_err(&path, e))
}

/// Checks that `dir/rel` is the file the manifest lists: its size first (a truncated copy is
/// told without reading it), then its SHA-256. Returns the file's path.
pub fn verify(dir: &Path, m: &ManifestData, rel: &str) -> Result<PathBuf, ReportError> {
    let path = dir.join(rel);
    let bad = |message: String| ReportError::Read {
        path: path.clone(),
        message,
    };
    let Some(entry) = m.entry(rel) else {
        return Err(bad(format!(
            "not listed in {MANIFEST_FILE}: the run directory is incomplete or was not written \
             by this tokenfleet (run the scenario again)"
        )));
    };
    let meta = std::fs::metadata(&path).map_err(|e| {
        bad(if e.kind() == std::io::ErrorKind::NotFound {
            "missing: the run directory is incomplete (run the scenario again)".into()
        } else {
            e.to_string()
        })
    })?;
    if !meta.is_file() {
        return Err(bad("not a regular file".into()));
    }
    if meta.len() != entry.bytes {
        return Err(bad(format!(
            "{} bytes, but {MANIFEST_FILE} lists {}: the file was cut or changed after the run \
             wrote it (run the scenario again)",
            meta.len(),
            entry.bytes
        )));
    }
    let (_, sha256) = hash_file(&path)?;
    if sha256 != entry.sha256 {
        return Err(bad(format!(
            "its SHA-256 differs from the one {MANIFEST_FILE} lists: the file was changed \
             after the run wrote it (run the scenario again)"
        )));
    }
    Ok(path)
}

/// Checks `file` against the manifest beside it, when there is one (a partial result copied
/// out of its directory has none, and is then checked by its own format alone).
pub fn verify_beside(file: &Path) -> Result<(), ReportError> {
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.join(MANIFEST_FILE).exists() {
        return Ok(());
    }
    let m = read(dir)?;
    let rel = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    verify(dir, &m, &rel).map(|_| ())
}
