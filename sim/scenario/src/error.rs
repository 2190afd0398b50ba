//! What is wrong with a scenario: one [`Problem`] per field, and the [`ScenarioError`] a
//! command prints (the file, then the `--set` flag or the line, then the message).

/// One problem found in a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Field path, e.g. `cluster.pool[0].hardware`.
    pub path: String,
    pub line: Option<usize>,
    /// The `--set` argument that gave the field its value, if one did.
    pub set_by: Option<String>,
    pub message: String,
}

/// Why a scenario cannot be run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read {file}: {message}")]
    Io { file: String, message: String },
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: --set {arg}: {message}")]
    Override {
        file: String,
        arg: String,
        message: String,
    },
    #[error("{file}: invalid scenario:{}", list(problems))]
    Invalid {
        file: String,
        problems: Vec<Problem>,
    },
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| match (&p.set_by, p.line) {
            (Some(arg), _) => format!("\n  - {} (--set {arg}): {}", p.path, p.message),
            (None, Some(l)) => format!("\n  - {} (line {l}): {}", p.path, p.message),
            (None, None) => format!("\n  - {}: {}", p.path, p.message),
        })
        .collect()
}
