//! Empirical distributions: data given inline or as a CSV column, resampled with linear
//! interpolation between order statistics (so a small sample still yields values between
//! the ones observed, not only the observed ones).

use std::path::{Path, PathBuf};

use super::sampling::Dist;
use super::spec::{DistError, EmpiricalSpec};

impl EmpiricalSpec {
    pub(super) fn load(&self, dir: Option<&Path>) -> Result<Vec<f64>, DistError> {
        let values = match (&self.file, &self.column, &self.values) {
            (None, None, Some(v)) => v.clone(),
            (Some(file), Some(column), None) => {
                let path = dir.map_or_else(|| PathBuf::from(file), |d| d.join(file));
                read_csv_column(&path, column)?
            }
            _ => {
                return Err(DistError(
                    "empirical needs either `file` and `column` (a CSV column) or `values`".into(),
                ));
            }
        };
        if values.is_empty() {
            return Err(DistError("empirical needs at least one value".into()));
        }
        if let Some(v) = values.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
            return Err(DistError(format!(
                "empirical values must be finite and non-negative, found {v}"
            )));
        }
        Ok(values)
    }
}

/// The numbers in column `column` (by header name) of a CSV file.
pub fn read_csv_column(path: &Path, column: &str) -> Result<Vec<f64>, DistError> {
    let shown = path.display();
    let text = crate::input::read_bytes(path, crate::input::DATA_MAX_BYTES, "a distribution's CSV")
        .map_err(|e| DistError(format!("cannot read {e}")))?;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_slice());
    let headers = rdr
        .headers()
        .map_err(|e| DistError(format!("{shown}: {e}")))?
        .clone();
    let Some(idx) = headers.iter().position(|h| h.trim() == column) else {
        let names: Vec<&str> = headers.iter().collect();
        return Err(DistError(format!(
            "{shown} has no column `{column}`; columns: {}",
            names.join(", ")
        )));
    };
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| DistError(format!("{shown}: {e}")))?;
        let line = rec.position().map_or(0, |p| p.line());
        let text = rec.get(idx).unwrap_or("").trim();
        let v: f64 = text.parse().map_err(|_| {
            DistError(format!(
                "{shown} line {line}: column `{column}`: {text:?} is not a number"
            ))
        })?;
        out.push(v);
    }
    Ok(out)
}

impl Dist {
    /// The empirical distribution of `values` (finite, non-negative, at least one).
    pub fn empirical(mut values: Vec<f64>) -> Dist {
        values.sort_by(f64::total_cmp);
        let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
        Dist::Empirical {
            sorted: values.into(),
            mean,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::dist::testing::spec;
    use crate::units::TokenUnit;

    #[test]
    fn empirical_interpolates_and_reads_csv_columns() {
        let d = spec::<TokenUnit>(r#"{ dist = "empirical", values = [30, 10, 20, 40] }"#)
            .resolve()
            .unwrap();
        assert_eq!(d.quantile(0.0), 10.0);
        assert_eq!(d.quantile(0.5), 25.0);
        assert_eq!(d.mean(), 25.0);
        assert!((d.cdf(25.0) - 0.5).abs() < 1e-12);
        let dir = std::env::temp_dir().join(format!("tf-dist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("x.csv"), "a,b\n1,5\n2,7\n3,x\n").unwrap();
        let ok = spec::<TokenUnit>(r#"{ dist = "empirical", file = "x.csv", column = "a" }"#)
            .resolve_in(Some(&dir))
            .unwrap();
        assert_eq!(ok.mean(), 2.0);
        let e = spec::<TokenUnit>(r#"{ dist = "empirical", file = "x.csv", column = "b" }"#)
            .resolve_in(Some(&dir))
            .unwrap_err();
        assert!(e.0.contains("line 4") && e.0.contains("\"x\""), "{e}");
        let e = spec::<TokenUnit>(r#"{ dist = "empirical", file = "x.csv", column = "c" }"#)
            .resolve_in(Some(&dir))
            .unwrap_err();
        assert!(e.0.contains("no column `c`") && e.0.contains("a, b"), "{e}");
        let e = spec::<TokenUnit>(r#"{ dist = "empirical", file = "nope.csv", column = "a" }"#)
            .resolve_in(Some(&dir))
            .unwrap_err();
        assert!(e.0.contains("nope.csv"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
