//! The fields of a trace's rows, read and checked: whole numbers of tokens, times of at most a
//! year ([`MAX_SPAN_S`]), lists of block ids. A JSON object's position ([`At`]) goes along, so
//! that an error names the line its field is written on, not the first line of the document.

use serde_json::{Map, Value};
use tokenfleet_engine::text::num;
use tokenfleet_engine::time::MAX_SPAN_S;

use super::error::{TraceError, line_err};
use super::locate::line_of;

/// A CSV field as a whole number of tokens (`12`, or `12.0`), if it is one.
pub(super) fn whole(text: &str) -> Option<u32> {
    let t = text.trim();
    t.parse::<u32>().ok().or_else(|| {
        // "12.0" is a whole number too.
        t.parse::<f64>()
            .ok()
            .filter(|v| v.fract() == 0.0 && *v >= 0.0 && *v <= u32::MAX as f64)
            .map(|v| v as u32)
    })
}

/// Where a JSON object of a trace sits, for errors naming the file, the line and the field.
pub(super) struct At<'a> {
    file: &'a str,
    /// The line the object's document starts on.
    line: usize,
    /// The document's text, where a field's own line is looked up (a session file is often
    /// one pretty-printed document).
    doc: &'a str,
    /// The top object's path in the document (`[2]` for a session in a list), for looking up
    /// lines.
    base: &'a str,
    /// The object's path below the top (`requests[3]`), as messages show it; empty at the top.
    rel: String,
}

/// `a.b`, or either alone if the other is empty.
fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}.{b}"),
    }
}

impl<'a> At<'a> {
    pub(super) fn top(file: &'a str, line: usize, doc: &'a str, base: &'a str) -> At<'a> {
        At {
            file,
            line,
            doc,
            base,
            rel: String::new(),
        }
    }

    /// The object at `rel` (`requests[3]`) below this one.
    pub(super) fn child(&self, rel: &str) -> At<'a> {
        At {
            rel: join(&self.rel, rel),
            ..*self
        }
    }

    /// An error at `field` of the object (or the object itself), on the line it is written.
    pub(super) fn err(&self, field: Option<&str>, message: impl std::fmt::Display) -> TraceError {
        let path = join(&join(self.base, &self.rel), field.unwrap_or(""));
        let within = line_of(self.doc, &path).unwrap_or(1);
        let ctx = if self.rel.is_empty() {
            String::new()
        } else {
            format!("{}: ", self.rel)
        };
        line_err(self.file, self.line + within - 1, format!("{ctx}{message}"))
    }
}

pub(super) fn field<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
    at: &At,
) -> Result<&'a Value, TraceError> {
    obj.get(name)
        .ok_or_else(|| at.err(None, format!("missing field `{name}`")))
}

/// A number of seconds (or, with `per_second` 1000, milliseconds) in [0, a year].
pub(super) fn time_field(
    obj: &Map<String, Value>,
    name: &str,
    at: &At,
    per_second: f64,
) -> Result<f64, TraceError> {
    let v = field(obj, name, at)?;
    let unit = if per_second == 1.0 { "s" } else { "ms" };
    let x = v
        .as_f64()
        .filter(|x| x.is_finite() && *x >= 0.0)
        .ok_or_else(|| {
            at.err(
                Some(name),
                format!("field `{name}`: {v} is not a non-negative number of {unit}"),
            )
        })?;
    if x / per_second > MAX_SPAN_S {
        return Err(at.err(
            Some(name),
            format!(
                "field `{name}`: {} {unit} is {} days; accepted: at most 366 days (a trace spans at most a year)",
                num(x),
                num((x / per_second / 86_400.0).round())
            ),
        ));
    }
    Ok(x)
}

pub(super) fn tokens_field(
    obj: &Map<String, Value>,
    name: &str,
    at: &At,
) -> Result<u32, TraceError> {
    let v = field(obj, name, at)?;
    v.as_u64()
        .filter(|x| *x <= u32::MAX as u64)
        .map(|x| x as u32)
        .ok_or_else(|| {
            at.err(
                Some(name),
                format!(
                    "field `{name}`: {v} is not a whole number of tokens (accepted: 0 to {})",
                    u32::MAX
                ),
            )
        })
}

pub(super) fn hash_ids(obj: &Map<String, Value>, at: &At) -> Result<Vec<u64>, TraceError> {
    let Some(v) = obj.get("hash_ids") else {
        return Ok(Vec::new());
    };
    let arr = v.as_array().ok_or_else(|| {
        at.err(
            Some("hash_ids"),
            "field `hash_ids`: expected a list of block ids",
        )
    })?;
    arr.iter()
        .enumerate()
        .map(|(i, x)| {
            x.as_u64().ok_or_else(|| {
                at.err(
                    Some(&format!("hash_ids[{i}]")),
                    format!("field `hash_ids`: {x} is not a block id (a whole number)"),
                )
            })
        })
        .collect()
}
