//! Azure's LLM inference trace: a CSV of `TIMESTAMP,ContextTokens,GeneratedTokens`, one row
//! per request, sorted by time. The rows carry no prefix information, so every request is its
//! own chain and reuses nothing. Timestamps are read as calendar dates without a time zone
//! library: only differences between rows matter.

use std::io::BufRead;

use tokenfleet_engine::text::num;
use tokenfleet_engine::time::MAX_SPAN_S;

use super::error::{TraceError, line_err};
use super::fields::whole;
use super::model::{Format, Request, Trace};

/// A time as (days since 0000-03-01, seconds into the day): kept apart so that differences
/// keep sub-microsecond precision.
type Stamp = (i64, f64);

/// Seconds from `a` to `b`.
fn seconds_between(a: Stamp, b: Stamp) -> f64 {
    (b.0 - a.0) as f64 * 86_400.0 + (b.1 - a.1)
}

/// Parses "YYYY-MM-DD HH:MM:SS[.fraction]" (or with a `T`, optionally ending in `Z`).
fn parse_timestamp(s: &str) -> Option<Stamp> {
    let s = s.trim();
    let (date, time) = s.split_once([' ', 'T'])?;
    let mut d = date.split('-');
    let y: i64 = d.next()?.parse().ok()?;
    let m: i64 = d.next()?.parse().ok()?;
    let day: i64 = d.next()?.parse().ok()?;
    if d.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let time = time.trim_end_matches('Z');
    let mut t = time.split(':');
    let hh: f64 = t.next()?.parse().ok()?;
    let mm: f64 = t.next()?.parse().ok()?;
    let ss: f64 = t.next()?.parse().ok()?;
    if t.next().is_some() || !(0.0..24.0).contains(&hh) || !(0.0..60.0).contains(&mm) {
        return None;
    }
    if !(0.0..61.0).contains(&ss) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe;
    Some((days, hh * 3600.0 + mm * 60.0 + ss))
}

/// The Azure LLM inference trace: `TIMESTAMP,ContextTokens,GeneratedTokens`, sorted by time.
pub fn parse(file: &str, text: &str) -> Result<Trace, TraceError> {
    read(file, text.as_bytes())
}

/// [`parse`] from a stream.
pub fn read(file: &str, reader: impl BufRead) -> Result<Trace, TraceError> {
    let mut requests = Vec::new();
    scan(file, reader, |r| requests.push(r))?;
    Ok(Trace::from_requests(Format::Azure, file.into(), requests))
}

/// Reads the trace as a stream, handing each request to `each` in order (every request its
/// own chain, numbered from 0), and returns how many there were.
///
/// Why a stream: the Azure traces of a week are gigabytes of text, and `tokenfleet fit` needs
/// one pass over them, not the text in memory. No allocation per row.
pub fn scan(
    file: &str,
    mut reader: impl BufRead,
    mut each: impl FnMut(Request),
) -> Result<u64, TraceError> {
    let mut buf = Vec::new();
    let mut offset = 0u64;
    let mut n = 0usize;
    // The next line without its ending, or None at the end of the file.
    let mut next_line =
        |buf: &mut Vec<u8>, n: &mut usize, start: &mut u64| -> Result<Option<()>, TraceError> {
            buf.clear();
            let got = reader.read_until(b'\n', buf).map_err(|e| TraceError::Io {
                file: file.into(),
                message: e.to_string(),
            })?;
            if got == 0 {
                return Ok(None);
            }
            *n += 1;
            *start = offset;
            offset += got as u64;
            while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                buf.pop();
            }
            if *n == 1 && buf.starts_with(b"\xEF\xBB\xBF") {
                // A UTF-8 byte-order mark (spreadsheets write one).
                buf.drain(..3);
            }
            Ok(Some(()))
        };
    let mut start = 0u64;
    let header = loop {
        if next_line(&mut buf, &mut n, &mut start)?.is_none() {
            return Err(TraceError::File {
                file: file.into(),
                message: "empty file: expected a header TIMESTAMP,ContextTokens,GeneratedTokens and one row per request".into(),
            });
        }
        let line = text(file, &buf, n, start)?;
        if !line.trim().is_empty() {
            break line.to_string();
        }
    };
    let header_line = n;
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let find = |name: &str| cols.iter().position(|c| c.eq_ignore_ascii_case(name));
    let (Some(ts), Some(ctx), Some(gen_)) = (
        find("TIMESTAMP"),
        find("ContextTokens"),
        find("GeneratedTokens"),
    ) else {
        return Err(line_err(
            file,
            header_line,
            format!(
                "header `{header}`: expected the columns TIMESTAMP, ContextTokens, GeneratedTokens (Azure LLM inference trace)"
            ),
        ));
    };
    let mut first: Option<Stamp> = None;
    let mut prev: Option<Stamp> = None;
    let mut count = 0u64;
    while next_line(&mut buf, &mut n, &mut start)?.is_some() {
        let line = text(file, &buf, n, start)?;
        if line.trim().is_empty() {
            continue;
        }
        let (mut found, mut fts, mut fctx, mut fgen) = (0, "", "", "");
        for (i, f) in line.split(',').enumerate() {
            found += 1;
            if i == ts {
                fts = f;
            } else if i == ctx {
                fctx = f;
            } else if i == gen_ {
                fgen = f;
            }
        }
        if found != cols.len() {
            return Err(line_err(
                file,
                n,
                format!(
                    "expected {} fields ({}), found {found} (a truncated line?)",
                    cols.len(),
                    cols.join(", "),
                ),
            ));
        }
        let t = parse_timestamp(fts).ok_or_else(|| {
            line_err(
                file,
                n,
                format!(
                    "field `TIMESTAMP`: {:?} is not a time like 2023-11-16 18:17:03.97",
                    fts.trim()
                ),
            )
        })?;
        let number = |field: &str, name: &str| {
            whole(field).ok_or_else(|| {
                line_err(
                    file,
                    n,
                    format!(
                        "field `{name}`: {:?} is not a whole number of tokens (accepted: 0 to {})",
                        field.trim(),
                        u32::MAX
                    ),
                )
            })
        };
        let input = number(fctx, "ContextTokens")?;
        let output = number(fgen, "GeneratedTokens")?;
        if prev.is_some_and(|p| seconds_between(p, t) < 0.0) {
            return Err(line_err(
                file,
                n,
                format!(
                    "field `TIMESTAMP`: {} is before the previous row's; the trace must be sorted by time (rows out of order usually mean files were joined; sort them, keeping the header first)",
                    fts.trim()
                ),
            ));
        }
        prev = Some(t);
        let t0 = *first.get_or_insert(t);
        if seconds_between(t0, t) > MAX_SPAN_S {
            return Err(line_err(
                file,
                n,
                format!(
                    "field `TIMESTAMP`: {} is {} days after the first row's; a trace may span at most 366 days",
                    fts.trim(),
                    num((seconds_between(t0, t) / 86_400.0).round())
                ),
            ));
        }
        if count >= u32::MAX as u64 {
            return Err(line_err(
                file,
                n,
                format!(
                    "more than {} requests; accepted: at most that many",
                    u32::MAX
                ),
            ));
        }
        each(Request {
            at: seconds_between(t0, t),
            input,
            output,
            reusable: 0,
            chain: count as u32,
        });
        count += 1;
    }
    if count == 0 {
        return Err(TraceError::File {
            file: file.into(),
            message: "no requests after the header".into(),
        });
    }
    Ok(count)
}

/// Line `n` (starting at byte `start`) as text, or an error naming the line and the first byte
/// that is not UTF-8.
fn text<'a>(file: &str, buf: &'a [u8], n: usize, start: u64) -> Result<&'a str, TraceError> {
    std::str::from_utf8(buf).map_err(|e| {
        line_err(
            file,
            n,
            format!(
                "not UTF-8 text (byte {}); accepted: a CSV or JSON trace in UTF-8",
                start + e.valid_up_to() as u64
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_to_seconds() {
        let a = parse_timestamp("2023-11-16 18:17:03.9799600").unwrap();
        let b = parse_timestamp("2023-11-16 18:17:04.0319600").unwrap();
        assert!((seconds_between(a, b) - 0.052).abs() < 1e-9);
        let c = parse_timestamp("2024-03-01T00:00:00Z").unwrap();
        let d = parse_timestamp("2024-02-28 00:00:00").unwrap();
        assert_eq!(seconds_between(d, c), 2.0 * 86_400.0, "2024 is a leap year");
        assert!(parse_timestamp("2023-13-01 00:00:00").is_none());
        assert!(parse_timestamp("yesterday").is_none());
    }

    #[test]
    fn azure_errors_name_line_and_field() {
        let h = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
        let e = parse("a.csv", "").unwrap_err().to_string();
        assert!(e.contains("a.csv") && e.contains("empty"), "{e}");
        let e = parse("a.csv", h).unwrap_err().to_string();
        assert!(e.contains("no requests"), "{e}");
        let e = parse(
            "a.csv",
            &format!("{h}2023-11-16 18:17:03.9,10,5\n2023-11-16 18:17:04,12"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 3") && e.contains("truncated"), "{e}");
        let e = parse("a.csv", &format!("{h}2023-11-16 18:17:03.9,ten,5\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2") && e.contains("ContextTokens") && e.contains("ten"),
            "{e}"
        );
        let e = parse(
            "a.csv",
            &format!("{h}2023-11-16 18:17:05,1,1\n2023-11-16 18:17:04,1,1\n"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 3") && e.contains("sorted"), "{e}");
        let e = parse("a.csv", "time,a,b\n1,2,3\n").unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("TIMESTAMP"), "{e}");
        let ok = parse(
            "a.csv",
            &format!("{h}2023-11-16 18:17:03.5,100,5\n2023-11-16 18:17:04,200,7\n"),
        )
        .unwrap();
        assert_eq!(ok.requests.len(), 2);
        assert!((ok.requests[1].at - 0.5).abs() < 1e-9);
    }

    #[test]
    fn times_beyond_a_year_are_refused_where_they_are_written() {
        let h = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
        let e = parse(
            "a.csv",
            &format!("{h}2023-11-16 18:17:03,1,1\n9999-11-16 18:17:03,1,1\n"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 3") && e.contains("366 days"), "{e}");
    }
}
