//! The [`Checker`] every section of resolution reports to.
//!
//! Every check records a [`Problem`] with the field path and goes on, so a user sees all that
//! is wrong with a file at once rather than one error per attempt. The problems keep the order
//! in which the sections are checked (see `setup.rs`); the line or `--set` flag of each is
//! found later, by `load.rs`.

use std::path::Path;

use tokenfleet_models::dist::{Dist, DistSpec};
use tokenfleet_models::units::Unit;

use crate::error::Problem;

pub(crate) struct Checker<'a> {
    pub(crate) problems: Vec<Problem>,
    /// The scenario file's directory: where relative data paths start.
    pub(crate) dir: Option<&'a Path>,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(dir: Option<&'a Path>) -> Self {
        Checker {
            problems: Vec::new(),
            dir,
        }
    }
}

impl Checker<'_> {
    /// Records a problem once: an entry shared by several models or sets is checked each time
    /// it is used, but a user should read about it once.
    pub(crate) fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        let p = Problem {
            path: path.into(),
            line: None,
            set_by: None,
            message: message.into(),
        };
        if !self
            .problems
            .iter()
            .any(|q| q.path == p.path && q.message == p.message)
        {
            self.problems.push(p);
        }
    }
    pub(crate) fn dist<U: Unit>(&mut self, path: String, spec: &DistSpec<U>) -> Option<Dist> {
        match spec.resolve_in(self.dir) {
            Ok(d) => Some(d),
            Err(e) => {
                self.add(path, e.0);
                None
            }
        }
    }
    /// Reads a data file named by the scenario (relative to the scenario's directory); a file
    /// that cannot be read is a problem at `path`.
    pub(crate) fn read(&mut self, path: String, file: &str) -> Option<String> {
        let p = self
            .dir
            .map_or_else(|| Path::new(file).to_path_buf(), |d| d.join(file));
        let limit = tokenfleet_models::input::DATA_MAX_BYTES;
        match tokenfleet_models::input::read_string(&p, limit, "a data file") {
            Ok(t) => Some(t),
            Err(e) => {
                self.add(path, format!("cannot read {e}"));
                None
            }
        }
    }
    /// Reports each name that two entries of a list share (`two pools are named `a``).
    pub(crate) fn unique<'n>(
        &mut self,
        path: &str,
        what: &str,
        names: impl Iterator<Item = &'n str>,
    ) {
        let mut names: Vec<&str> = names.collect();
        names.sort_unstable();
        for w in names.windows(2) {
            if w[0] == w[1] {
                self.add(path, format!("two {what} are named `{}`", w[0]));
            }
        }
    }
}
