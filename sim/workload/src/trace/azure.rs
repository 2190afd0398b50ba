//! Azure's LLM inference trace: a CSV of `TIMESTAMP,ContextTokens,GeneratedTokens`, one row
//! per request, sorted by time. The rows carry no prefix information, so every request is its
//! own chain and reuses nothing. Timestamps are read as calendar dates without a time zone
//! library: only differences between rows matter.

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
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.find(|(_, l)| !l.trim().is_empty()) else {
        return Err(TraceError::File {
            file: file.into(),
            message: "empty file: expected a header TIMESTAMP,ContextTokens,GeneratedTokens and one row per request".into(),
        });
    };
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let find = |name: &str| cols.iter().position(|c| c.eq_ignore_ascii_case(name));
    let (Some(ts), Some(ctx), Some(gen_)) = (
        find("TIMESTAMP"),
        find("ContextTokens"),
        find("GeneratedTokens"),
    ) else {
        return Err(line_err(
            file,
            1,
            format!(
                "header `{header}`: expected the columns TIMESTAMP, ContextTokens, GeneratedTokens (Azure LLM inference trace)"
            ),
        ));
    };
    let mut requests = Vec::new();
    let mut first: Option<Stamp> = None;
    let mut prev: Option<Stamp> = None;
    for (i, line) in lines {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != cols.len() {
            return Err(line_err(
                file,
                n,
                format!(
                    "expected {} fields ({}), found {} (a truncated line?)",
                    cols.len(),
                    cols.join(", "),
                    fields.len()
                ),
            ));
        }
        let t = parse_timestamp(fields[ts]).ok_or_else(|| {
            line_err(
                file,
                n,
                format!(
                    "field `TIMESTAMP`: {:?} is not a time like 2023-11-16 18:17:03.97",
                    fields[ts].trim()
                ),
            )
        })?;
        let number = |idx: usize, name: &str| {
            whole(fields[idx]).ok_or_else(|| {
                line_err(
                    file,
                    n,
                    format!(
                        "field `{name}`: {:?} is not a whole number of tokens (accepted: 0 to {})",
                        fields[idx].trim(),
                        u32::MAX
                    ),
                )
            })
        };
        let input = number(ctx, "ContextTokens")?;
        let output = number(gen_, "GeneratedTokens")?;
        if prev.is_some_and(|p| seconds_between(p, t) < 0.0) {
            return Err(line_err(
                file,
                n,
                format!(
                    "field `TIMESTAMP`: {} is before the previous row's; the trace must be sorted by time (rows out of order usually mean files were joined; sort them, keeping the header first)",
                    fields[ts].trim()
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
                    fields[ts].trim(),
                    num((seconds_between(t0, t) / 86_400.0).round())
                ),
            ));
        }
        let chain = requests.len() as u32;
        requests.push(Request {
            at: seconds_between(t0, t),
            input,
            output,
            reusable: 0,
            chain,
        });
    }
    if requests.is_empty() {
        return Err(TraceError::File {
            file: file.into(),
            message: "no requests after the header".into(),
        });
    }
    Ok(Trace::from_requests(Format::Azure, file.into(), requests))
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
