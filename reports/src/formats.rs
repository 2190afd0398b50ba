//! The CSV and JSON files of a run directory, written from rows or values and read back into
//! the same rows, with errors that name the file. One writer per format, so that every CSV has
//! the same header and quoting and every JSON file ends with a newline.

use std::io::Write;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ReportError, format_err, read_err};

/// Writes `rows` as the CSV file `file`, with a header row of `T`'s field names.
pub(crate) fn write_csv<T: Serialize>(
    file: &'static str,
    rows: impl IntoIterator<Item = T>,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    let err = format_err::<csv::Error>(file);
    let mut w = csv::Writer::from_writer(out);
    for row in rows {
        w.serialize(row).map_err(err)?;
    }
    w.flush().map_err(|e| err(e.into()))
}

/// Reads a CSV file written by [`write_csv`] back. A file from another version of tokenfleet
/// (a column missing or of another type) is an error naming the file, the line and the column.
pub(crate) fn read_csv<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, ReportError> {
    let mut r = csv::Reader::from_path(path).map_err(|e| read_err(path, e))?;
    let mut out = Vec::new();
    for row in r.deserialize::<T>() {
        out.push(row.map_err(|e| read_err(path, e))?);
    }
    Ok(out)
}

/// Writes `value` as the JSON file `file`, pretty-printed or compact, and a final newline.
pub(crate) fn write_json<T: Serialize + ?Sized>(
    file: &'static str,
    value: &T,
    pretty: bool,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    if pretty {
        serde_json::to_writer_pretty(&mut *out, value)
    } else {
        serde_json::to_writer(&mut *out, value)
    }
    .map_err(format_err(file))?;
    out.write_all(b"\n").map_err(format_err(file))
}
