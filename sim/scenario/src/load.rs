//! Reading a scenario: the file (or the built-in default), `--set` overrides, presets, strict
//! deserialization, and placing each problem where the user wrote it (a line of the file or a
//! `--set` flag).
//!
//! A file without overrides or presets is deserialized from its text, so that errors keep
//! toml's line, column and caret; otherwise the document is changed at the table level and a
//! failing field is located by its path instead.

use std::path::{Path, PathBuf};

use tokenfleet_setup::Setup;

use crate::error::{Problem, ScenarioError};
use crate::locate;
use crate::overrides::{Applied, OverrideError, apply_to};
use crate::presets;
use crate::resolve::setup::resolve;
use crate::spec::scenario::Scenario;
use crate::suggest::explain;

/// The default scenario, compiled into the binary.
pub const DEFAULT_SCENARIO: &str = include_str!("../../../scenarios/openclaw-2026.toml");
/// The name shown for the built-in default scenario in messages.
pub const DEFAULT_SCENARIO_FILE: &str = "scenarios/openclaw-2026.toml (built in)";

/// Whether field `path` is `prefix` or inside it (`fleet.agents` is inside `fleet`, not inside
/// `flee`).
fn within(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

/// "field `PATH`: " for a deserialization error's path, or nothing at the root.
fn field_prefix(path: &str) -> String {
    if path == "." || path.is_empty() {
        String::new()
    } else {
        format!("field `{path}`: ")
    }
}

/// Where the value at `path` was written: the `--set` argument that wrote it (or, for a field
/// absent from the file, one that wrote inside it), else its line in the file (or the line of
/// the nearest enclosing item that is in the file).
fn place(text: &str, set_by: &[Applied], path: &str) -> (Option<usize>, Option<String>) {
    // The last override wins, as it did when they were applied.
    if let Some(a) = set_by.iter().rev().find(|a| within(path, &a.path)) {
        return (None, Some(a.arg.clone()));
    }
    let line = locate::line_of(text, path);
    let inner = || set_by.iter().rev().find(|a| within(&a.path, path));
    match (line, inner()) {
        (None, Some(a)) => (None, Some(a.arg.clone())),
        (line, _) => (line, None),
    }
}

/// Where a scenario came from, for messages and relative paths.
#[derive(Debug, Clone)]
pub struct Origin {
    pub file: String,
    pub dir: Option<PathBuf>,
    /// The text as read, for locating lines.
    pub text: String,
}

impl Origin {
    /// The scenario as run: the text as written when there are no overrides (comments kept),
    /// else the text with the overrides applied, after a header that names the file and the
    /// overrides. Paths in it are relative to the file's own directory.
    pub fn as_run(&self, overrides: &[String]) -> Result<String, ScenarioError> {
        if overrides.is_empty() {
            return Ok(self.text.clone());
        }
        let text =
            crate::overrides::apply(&self.text, overrides).map_err(|e| ScenarioError::Io {
                file: self.file.clone(),
                message: e.to_string(),
            })?;
        let mut out = format!("# {} as run, with these overrides applied:\n", self.file);
        for o in overrides {
            // A comment ends at a line break; one inside an override is written escaped.
            out.push_str(&format!("#   --set {}\n", o.replace(['\n', '\r'], "\\n")));
        }
        out.push('\n');
        out.push_str(&text);
        Ok(out)
    }
}

impl Scenario {
    /// Reads a scenario file (or the built-in default when `path` is `None`) and applies
    /// `--set` overrides.
    pub fn load(
        path: Option<&Path>,
        overrides: &[String],
    ) -> Result<(Scenario, Origin), ScenarioError> {
        let (text, file, dir) = match path {
            None => (
                DEFAULT_SCENARIO.to_string(),
                DEFAULT_SCENARIO_FILE.to_string(),
                None,
            ),
            Some(p) => {
                let io = |message: String| ScenarioError::Io {
                    file: p.display().to_string(),
                    message,
                };
                let bytes = tokenfleet_models::input::read_bytes(
                    p,
                    tokenfleet_models::input::SCENARIO_MAX_BYTES,
                    "a scenario",
                )
                .map_err(|e| io(e.to_string().replacen(&format!("{}: ", p.display()), "", 1)))?;
                let text = tokenfleet_engine::text::utf8(bytes).map_err(|e| {
                    io(format!(
                        "line {}: not UTF-8 text (byte {}); accepted: a TOML scenario in UTF-8",
                        e.line, e.byte
                    ))
                })?;
                (
                    text,
                    p.display().to_string(),
                    p.parent().map(Path::to_path_buf),
                )
            }
        };
        let origin = Origin { file, dir, text };
        let scenario = Self::from_text(&origin, overrides)?;
        Ok((scenario, origin))
    }

    /// Parses scenario text, applying overrides first.
    pub fn from_text(origin: &Origin, overrides: &[String]) -> Result<Scenario, ScenarioError> {
        let parse_err = |message: String| ScenarioError::Parse {
            file: origin.file.clone(),
            message,
        };
        // The file must parse as it is, so that its syntax errors carry its own lines.
        let mut doc: toml::Table = origin
            .text
            .parse()
            .map_err(|e: toml::de::Error| parse_err(e.to_string()))?;
        let set_by = apply_to(&mut doc, overrides).map_err(|e| match e {
            OverrideError::Parse(message) => parse_err(message),
            OverrideError::Arg { arg, error } => ScenarioError::Override {
                file: origin.file.clone(),
                arg,
                message: error.to_string(),
            },
        })?;
        let parsed = if overrides.is_empty() && !presets::used(&doc) {
            // Read from the text, so that errors keep toml's line, column and caret.
            let de =
                toml::Deserializer::parse(&origin.text).map_err(|e| parse_err(e.to_string()))?;
            serde_path_to_error::deserialize(de).map_err(|e| {
                let field = field_prefix(&e.path().to_string());
                parse_err(explain(&format!("{field}{}", e.into_inner())))
            })
        } else {
            // Presets are merged and overrides applied at the table level, whose values have no
            // place in the file: a failing field is located by its path instead.
            let problems = presets::expand(&mut doc);
            if !problems.is_empty() {
                return Err(ScenarioError::Invalid {
                    file: origin.file.clone(),
                    problems: problems
                        .into_iter()
                        .map(|(path, message)| {
                            let (line, set_by) = place(&origin.text, &set_by, &path);
                            Problem {
                                path,
                                line,
                                set_by,
                                message,
                            }
                        })
                        .collect(),
                });
            }
            serde_path_to_error::deserialize(toml::Value::Table(doc)).map_err(|e| {
                let path = e.path().to_string();
                let field = field_prefix(&path);
                let message = explain(&format!("{field}{}", e.into_inner().message()));
                match place(&origin.text, &set_by, &path) {
                    (_, Some(arg)) => ScenarioError::Override {
                        file: origin.file.clone(),
                        arg,
                        message,
                    },
                    (Some(line), None) => parse_err(format!("line {line}: {message}")),
                    (None, None) => parse_err(message),
                }
            })
        };
        let mut scenario: Scenario = parsed?;
        scenario.set_by = set_by;
        Ok(scenario)
    }

    /// Checks the scenario against the catalog and builds the run setup.
    pub fn resolve(&self, origin: &Origin) -> Result<Setup, ScenarioError> {
        resolve(self, origin.dir.as_deref()).map_err(|mut problems| {
            for p in &mut problems {
                (p.line, p.set_by) = place(&origin.text, &self.set_by, &p.path);
            }
            ScenarioError::Invalid {
                file: origin.file.clone(),
                problems,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(text: &str) -> Origin {
        Origin {
            file: "test.toml".into(),
            dir: None,
            text: text.into(),
        }
    }

    #[test]
    fn default_scenario_parses_and_resolves() {
        let (s, o) = Scenario::load(None, &[]).unwrap();
        let setup = s.resolve(&o).unwrap();
        assert_eq!(setup.agents, 1_000_000);
    }

    #[test]
    fn unknown_fields_get_a_suggestion_and_a_line() {
        let text = DEFAULT_SCENARIO.replacen("replicas_per_cell", "replicas_per_cel", 1);
        let e = Scenario::from_text(&origin(&text), &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `replicas_per_cel`"), "{e}");
        assert!(e.contains("did you mean `replicas_per_cell`"), "{e}");
        assert!(e.contains("line "), "{e}");
    }

    #[test]
    fn bad_units_name_the_field() {
        let text = DEFAULT_SCENARIO.replacen("duration = \"24h\"", "duration = \"2 parsecs\"", 1);
        let e = Scenario::from_text(&origin(&text), &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("simulation.duration"), "{e}");
        assert!(e.contains("unknown unit \"parsecs\""), "{e}");
    }

    #[test]
    fn values_set_on_the_command_line_name_the_flag_and_others_keep_their_line() {
        let text = DEFAULT_SCENARIO.replacen("duration = \"24h\"", "duration = \"2 parsecs\"", 1);
        let line = text
            .lines()
            .position(|l| l.contains("parsecs"))
            .expect("replaced")
            + 1;
        // An override elsewhere must not move the line of an error in the file.
        let e = Scenario::from_text(&origin(&text), &["fleet.agents=5".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("line {line}:")), "{e}");
        // A bad value given with --set names the flag, not a line of the file.
        let e = Scenario::from_text(&origin(DEFAULT_SCENARIO), &["fleet.agents=nan".into()])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("test.toml: --set fleet.agents=nan: field `fleet.agents`")
                && !e.contains("line"),
            "{e}"
        );
        // So does a problem found after parsing, with the element chosen by name.
        let s = Scenario::from_text(
            &origin(DEFAULT_SCENARIO),
            &["cluster.pool.h200.hardware=h1000".into()],
        )
        .unwrap();
        let e = s
            .resolve(&origin(DEFAULT_SCENARIO))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cluster.pool[0].hardware (--set cluster.pool.h200.hardware=h1000)"),
            "{e}"
        );
    }
}
