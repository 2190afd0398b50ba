//! The measured files' common shape: comma-separated values under a header row, read by
//! column name so that a file with its columns in another order, or with more of them, reads
//! the same; errors name the file and the line.

use crate::error::CalibrateError;

/// A CSV file with a header row: fields by column name.
pub(crate) struct Csv<'a> {
    file: &'a str,
    header: Vec<&'a str>,
    pub(crate) rows: Vec<(usize, Vec<&'a str>)>,
}

impl<'a> Csv<'a> {
    pub(crate) fn parse(file: &'a str, text: &'a str) -> Result<Csv<'a>, CalibrateError> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let header = lines
            .next()
            .map(|(_, l)| l.split(',').map(str::trim).collect())
            .ok_or_else(|| CalibrateError::Csv {
                file: file.into(),
                line: 1,
                reason: "empty file".into(),
            })?;
        let rows = lines
            .map(|(i, l)| (i + 1, l.split(',').map(str::trim).collect()))
            .collect();
        Ok(Csv { file, header, rows })
    }
    pub(crate) fn col(&self, name: &str) -> Result<usize, CalibrateError> {
        self.header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| CalibrateError::Csv {
                file: self.file.into(),
                line: 1,
                reason: format!("no column `{name}`"),
            })
    }
    pub(crate) fn get<T: std::str::FromStr>(
        &self,
        row: &(usize, Vec<&str>),
        col: usize,
    ) -> Result<T, CalibrateError> {
        row.1
            .get(col)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| CalibrateError::Csv {
                file: self.file.into(),
                line: row.0,
                reason: format!(
                    "column `{}`: cannot read `{}`",
                    self.header[col],
                    row.1.get(col).unwrap_or(&"")
                ),
            })
    }
    pub(crate) fn text<'r>(&self, row: &'r (usize, Vec<&'a str>), col: usize) -> &'a str {
        row.1.get(col).copied().unwrap_or("")
    }
}
