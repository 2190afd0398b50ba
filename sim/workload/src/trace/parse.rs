//! Reading traces: Azure CSV, Mooncake JSONL and Claude Code session JSON.
//!
//! Every error names the file, the line and the field, and none panics: a truncated line, a
//! number that is not one, timestamps out of order and an empty file are all reported as a
//! [`TraceError`].

use std::path::Path;

use serde_json::{Map, Value};

use super::{Context, Format, Item, Request, Session, SessionCall, Trace};
use tokenfleet_engine::text::num;

/// Why a trace cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TraceError {
    #[error("cannot read {file}: {message}")]
    Io { file: String, message: String },
    #[error("{file}: line {line}: {message}")]
    Line {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: {message}")]
    File { file: String, message: String },
}

/// Mooncake's hash block size (tokens per block).
pub const MOONCAKE_BLOCK: u32 = 512;

/// Guesses the format from the file name: `.csv` Azure, `.jsonl` Mooncake, `.json` (or a
/// directory of them) Claude Code.
pub fn guess_format(path: &Path) -> Option<Format> {
    if path.is_dir() {
        return Some(Format::ClaudeCode);
    }
    match path.extension()?.to_str()? {
        "csv" => Some(Format::Azure),
        "jsonl" => Some(Format::Mooncake),
        "json" => Some(Format::ClaudeCode),
        _ => None,
    }
}

/// Reads a trace file (or, for Claude Code, a directory of session files).
pub fn read(path: &Path, format: Format) -> Result<Trace, TraceError> {
    let file = path.display().to_string();
    let trace = match format {
        Format::Azure => azure(&file, &read_text(path)?)?,
        Format::Mooncake => mooncake(&file, &read_text(path)?)?,
        Format::ClaudeCode if path.is_dir() => {
            let mut files: Vec<_> = std::fs::read_dir(path)
                .map_err(|e| TraceError::Io {
                    file: file.clone(),
                    message: e.to_string(),
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json" || x == "jsonl"))
                .collect();
            files.sort();
            let mut sessions = Vec::new();
            for f in &files {
                let name = f.display().to_string();
                sessions.extend(claude_code(&name, &read_text(f)?)?.sessions);
            }
            if sessions.is_empty() {
                return Err(TraceError::File {
                    file,
                    message: "no .json session files in this directory".into(),
                });
            }
            Trace::from_sessions(format, file.clone(), sessions)
        }
        Format::ClaudeCode => claude_code(&file, &read_text(path)?)?,
    };
    Ok(trace)
}

/// A trace file's text. A UTF-8 byte-order mark (spreadsheets write one) is dropped; bytes that
/// are not UTF-8 are an error naming their line.
fn read_text(path: &Path) -> Result<String, TraceError> {
    let file = path.display().to_string();
    let mut bytes = std::fs::read(path).map_err(|e| TraceError::Io {
        file: file.clone(),
        message: e.to_string(),
    })?;
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    tokenfleet_engine::text::utf8(bytes).map_err(|e| {
        line_err(
            &file,
            e.line,
            format!(
                "not UTF-8 text (byte {}); accepted: a CSV or JSON trace in UTF-8",
                e.byte
            ),
        )
    })
}

pub use tokenfleet_engine::time::MAX_SPAN_S;

fn line_err(file: &str, line: usize, message: impl Into<String>) -> TraceError {
    TraceError::Line {
        file: file.to_string(),
        line,
        message: message.into(),
    }
}

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

fn whole(text: &str) -> Option<u32> {
    let t = text.trim();
    t.parse::<u32>().ok().or_else(|| {
        // "12.0" is a whole number too.
        t.parse::<f64>()
            .ok()
            .filter(|v| v.fract() == 0.0 && *v >= 0.0 && *v <= u32::MAX as f64)
            .map(|v| v as u32)
    })
}

/// The Azure LLM inference trace: `TIMESTAMP,ContextTokens,GeneratedTokens`, sorted by time.
pub fn azure(file: &str, text: &str) -> Result<Trace, TraceError> {
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

/// Where a JSON object of a trace sits, for errors naming the file, the line and the field.
struct At<'a> {
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
    fn top(file: &'a str, line: usize, doc: &'a str, base: &'a str) -> At<'a> {
        At {
            file,
            line,
            doc,
            base,
            rel: String::new(),
        }
    }

    /// The object at `rel` (`requests[3]`) below this one.
    fn child(&self, rel: &str) -> At<'a> {
        At {
            rel: join(&self.rel, rel),
            ..*self
        }
    }

    /// An error at `field` of the object (or the object itself), on the line it is written.
    fn err(&self, field: Option<&str>, message: impl std::fmt::Display) -> TraceError {
        let path = join(&join(self.base, &self.rel), field.unwrap_or(""));
        let within = super::locate::line_of(self.doc, &path).unwrap_or(1);
        let ctx = if self.rel.is_empty() {
            String::new()
        } else {
            format!("{}: ", self.rel)
        };
        line_err(self.file, self.line + within - 1, format!("{ctx}{message}"))
    }
}

fn field<'a>(obj: &'a Map<String, Value>, name: &str, at: &At) -> Result<&'a Value, TraceError> {
    obj.get(name)
        .ok_or_else(|| at.err(None, format!("missing field `{name}`")))
}

/// A number of seconds (or, with `per_second` 1000, milliseconds) in [0, a year].
fn time_field(
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

fn tokens_field(obj: &Map<String, Value>, name: &str, at: &At) -> Result<u32, TraceError> {
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

fn hash_ids(obj: &Map<String, Value>, at: &At) -> Result<Vec<u64>, TraceError> {
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

fn json_line_err(file: &str, line: usize, e: &serde_json::Error) -> TraceError {
    let what = if e.is_eof() {
        "truncated JSON"
    } else {
        "invalid JSON"
    };
    line_err(file, line, format!("{what}: {e}"))
}

/// The Mooncake trace: one JSON object per line with `timestamp` (ms), `input_length`,
/// `output_length` and `hash_ids` (512-token blocks; an id seen before is a reusable prefix).
pub fn mooncake(file: &str, text: &str) -> Result<Trace, TraceError> {
    let mut rows: Vec<(f64, u32, u32, Vec<u64>)> = Vec::new();
    let mut prev = f64::NEG_INFINITY;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| json_line_err(file, n, &e))?;
        let Some(obj) = v.as_object() else {
            return Err(line_err(file, n, "expected a JSON object"));
        };
        let at = At::top(file, n, line, "");
        let t = time_field(obj, "timestamp", &at, 1000.0)?;
        let input = tokens_field(obj, "input_length", &at)?;
        let output = tokens_field(obj, "output_length", &at)?;
        let ids = hash_ids(obj, &at)?;
        if t < prev {
            return Err(line_err(
                file,
                n,
                format!(
                    "field `timestamp`: {t} is before the previous line's {prev}; the trace must be sorted by time (lines out of order usually mean files were joined; sort them by timestamp)"
                ),
            ));
        }
        prev = t;
        rows.push((t / 1000.0, input, output, ids));
    }
    if rows.is_empty() {
        return Err(TraceError::File {
            file: file.into(),
            message: "empty file: expected one JSON request per line".into(),
        });
    }
    let t0 = rows[0].0;
    // Prefix chains: a request continues the chain of the latest earlier request it extends.
    let chained = chain_by_prefix(
        &rows.iter().map(|r| r.3.as_slice()).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        MOONCAKE_BLOCK,
    );
    let requests = rows
        .iter()
        .zip(chained)
        .map(|(r, (chain, reusable))| Request {
            at: r.0 - t0,
            input: r.1,
            output: r.2,
            reusable,
            chain,
        })
        .collect();
    Ok(Trace::from_requests(
        Format::Mooncake,
        file.into(),
        requests,
    ))
}

/// Assigns each request (with its block ids) to a prefix chain and the tokens it can reuse.
///
/// The model's prefix cache holds one context per chain (an agent's latest), so a request
/// joins the chain of the latest earlier request whose blocks it extends (all of them but
/// possibly the last, partial one): the next turn of a conversation, or a retry of it. It
/// reuses the prefix it shares with that chain's latest request. A request sharing less (say,
/// only a common system prompt) starts a new chain and is counted as uncached: sharing across
/// conversations is what this per-agent cache does not model.
pub fn chain_by_prefix(ids: &[&[u64]], inputs: &[u32], block: u32) -> Vec<(u32, u32)> {
    use std::collections::HashMap;
    // Block id -> the latest request containing it.
    let mut holder: HashMap<u64, u32> = HashMap::new();
    let mut chain_of: Vec<u32> = Vec::with_capacity(ids.len());
    let mut head: Vec<u32> = Vec::new();
    let mut out = Vec::with_capacity(ids.len());
    for (i, blocks) in ids.iter().enumerate() {
        let k = blocks.iter().take_while(|b| holder.contains_key(b)).count();
        let parent = (k > 0).then(|| holder[&blocks[k - 1]]);
        let joins = parent.filter(|&p| k + 1 >= ids[p as usize].len());
        let (chain, reusable) = match joins {
            Some(p) => {
                let c = chain_of[p as usize];
                let h = head[c as usize] as usize;
                let common = blocks
                    .iter()
                    .zip(ids[h].iter())
                    .take_while(|(a, b)| a == b)
                    .count() as u64;
                (c, (common * block as u64).min(inputs[i] as u64) as u32)
            }
            None => {
                head.push(i as u32);
                ((head.len() - 1) as u32, 0)
            }
        };
        head[chain as usize] = i as u32;
        chain_of.push(chain);
        for b in blocks.iter() {
            holder.insert(*b, i as u32);
        }
        out.push((chain, reusable));
    }
    out
}

/// Claude Code session traces (kv-cache-tester format): one session object, a JSON array of
/// them, or one per line.
pub fn claude_code(file: &str, text: &str) -> Result<Trace, TraceError> {
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(TraceError::File {
            file: file.into(),
            message: "empty file: expected a session object with a `requests` list".into(),
        });
    }
    // (first line, the document's text, the session's path in it, the session)
    let mut docs: Vec<(usize, &str, String, Value)> = Vec::new();
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => docs.extend(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (1, text, format!("[{i}]"), v)),
        ),
        Ok(v) => docs.push((1, text, String::new(), v)),
        Err(e) if e.is_eof() => return Err(json_line_err(file, e.line(), &e)),
        Err(whole) => {
            // One session per line (JSONL), or a broken document.
            let lines: Vec<&str> = text.lines().collect();
            if lines.iter().filter(|l| !l.trim().is_empty()).count() < 2 {
                return Err(json_line_err(file, whole.line(), &whole));
            }
            for (i, line) in lines.iter().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let v: Value =
                    serde_json::from_str(line).map_err(|e| json_line_err(file, i + 1, &e))?;
                docs.push((i + 1, line, String::new(), v));
            }
        }
    }
    let mut sessions = Vec::new();
    for (line, doc, base, value) in docs {
        sessions.push(session(&At::top(file, line, doc, &base), &value)?);
    }
    if sessions.is_empty() {
        return Err(TraceError::File {
            file: file.into(),
            message: "an empty list: expected session objects with a `requests` list".into(),
        });
    }
    Ok(Trace::from_sessions(
        Format::ClaudeCode,
        file.into(),
        sessions,
    ))
}

fn session(at: &At, doc: &Value) -> Result<Session, TraceError> {
    let Some(obj) = doc.as_object() else {
        return Err(at.err(None, "expected a session object with a `requests` list"));
    };
    let name = obj
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("session")
        .to_string();
    let block = match obj.get("block_size") {
        None => 64,
        Some(v) => v
            .as_u64()
            .filter(|b| (1..=1 << 20).contains(b))
            .ok_or_else(|| {
                at.err(
                    Some("block_size"),
                    format!(
                        "field `block_size`: {v} is not a block size in tokens (accepted: 1 to {})",
                        1 << 20
                    ),
                )
            })? as u32,
    };
    let reqs = field(obj, "requests", at)?
        .as_array()
        .ok_or_else(|| at.err(Some("requests"), "field `requests`: expected a list"))?;
    if reqs.is_empty() {
        return Err(at.err(
            Some("requests"),
            "field `requests`: the session has no requests",
        ));
    }
    let mut s = Session {
        name,
        contexts: Vec::new(),
        items: Vec::new(),
        children: Vec::new(),
        calls: Vec::new(),
        span: 0.0,
    };
    let mut span = 0.0f64;
    context(at, block, reqs, "requests", None, 0.0, &mut s, &mut span)?;
    s.span = span;
    Ok(s)
}

/// Reads one context (the session or a sub-agent) into `s`; returns its index. Its items
/// are contiguous in `s.items`; sub-agents are read depth first, where they appear.
#[allow(clippy::too_many_arguments)]
fn context(
    at: &At,
    block: u32,
    reqs: &[Value],
    path: &str,
    parent: Option<u32>,
    base: f64,
    s: &mut Session,
    span: &mut f64,
) -> Result<u32, TraceError> {
    let me = s.contexts.len() as u32;
    s.contexts.push(Context {
        items: 0..0,
        parent,
    });
    let mut items: Vec<Item> = Vec::new();
    let mut prev_ids: Vec<u64> = Vec::new();
    let mut prev_end: Option<(f64, f64)> = None;
    let mut i = 0;
    while i < reqs.len() {
        let here = at.child(&format!("{path}[{i}]"));
        let Some(r) = reqs[i].as_object() else {
            return Err(here.err(None, "expected a request object"));
        };
        if r.get("type").and_then(Value::as_str) == Some("subagent") {
            // Consecutive sub-agents start together; the parent waits for all of them.
            let mut children = Vec::new();
            while i < reqs.len() {
                let here = at.child(&format!("{path}[{i}]"));
                let Some(sub) = reqs[i].as_object() else {
                    break;
                };
                if sub.get("type").and_then(Value::as_str) != Some("subagent") {
                    break;
                }
                let t = time_field(sub, "t", &here, 1.0)?;
                let sub_reqs = field(sub, "requests", &here)?.as_array().ok_or_else(|| {
                    here.err(Some("requests"), "field `requests`: expected a list")
                })?;
                let child = context(
                    at,
                    block,
                    sub_reqs,
                    &format!("{path}[{i}].requests"),
                    Some(me),
                    base + t,
                    s,
                    span,
                )?;
                children.push(child);
                i += 1;
            }
            let first = s.children.len() as u32;
            s.children.extend(&children);
            items.push(Item::Spawn {
                first,
                count: children.len() as u32,
            });
            continue;
        }
        let t = time_field(r, "t", &here, 1.0)?;
        let input = tokens_field(r, "in", &here)?;
        let output = tokens_field(r, "out", &here)?;
        let ids = hash_ids(r, &here)?;
        let api = match r.get("api_time") {
            Some(_) => Some(time_field(r, "api_time", &here, 1.0)?),
            None => None,
        };
        let think = match r.get("think_time") {
            Some(_) => time_field(r, "think_time", &here, 1.0)?,
            // Older traces: the gap between the previous answer and this request.
            None => match prev_end {
                Some((pt, papi)) => (t - pt - papi).max(0.0),
                None => 0.0,
            },
        };
        let end = base + t + api.unwrap_or(0.0);
        if end > MAX_SPAN_S {
            return Err(here.err(
                Some("t"),
                format!(
                    "the request ends {} days into the session; a trace may span at most 366 days",
                    num((end / 86_400.0).round())
                ),
            ));
        }
        let common = ids
            .iter()
            .zip(prev_ids.iter())
            .take_while(|(a, b)| a == b)
            .count() as u64;
        let reusable = (common * block as u64).min(input as u64) as u32;
        *span = span.max(end);
        prev_end = Some((t, api.unwrap_or(0.0)));
        prev_ids = ids;
        items.push(Item::Call(s.calls.len() as u32));
        s.calls.push(SessionCall {
            input,
            output,
            reusable,
            think,
        });
        i += 1;
    }
    let start = s.items.len() as u32;
    s.items.extend(items);
    s.contexts[me as usize].items = start..s.items.len() as u32;
    Ok(me)
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
        let e = azure("a.csv", "").unwrap_err().to_string();
        assert!(e.contains("a.csv") && e.contains("empty"), "{e}");
        let e = azure("a.csv", h).unwrap_err().to_string();
        assert!(e.contains("no requests"), "{e}");
        let e = azure(
            "a.csv",
            &format!("{h}2023-11-16 18:17:03.9,10,5\n2023-11-16 18:17:04,12"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 3") && e.contains("truncated"), "{e}");
        let e = azure("a.csv", &format!("{h}2023-11-16 18:17:03.9,ten,5\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2") && e.contains("ContextTokens") && e.contains("ten"),
            "{e}"
        );
        let e = azure(
            "a.csv",
            &format!("{h}2023-11-16 18:17:05,1,1\n2023-11-16 18:17:04,1,1\n"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 3") && e.contains("sorted"), "{e}");
        let e = azure("a.csv", "time,a,b\n1,2,3\n").unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("TIMESTAMP"), "{e}");
        let ok = azure(
            "a.csv",
            &format!("{h}2023-11-16 18:17:03.5,100,5\n2023-11-16 18:17:04,200,7\n"),
        )
        .unwrap();
        assert_eq!(ok.requests.len(), 2);
        assert!((ok.requests[1].at - 0.5).abs() < 1e-9);
    }

    #[test]
    fn mooncake_errors_name_line_and_field() {
        let e = mooncake("m.jsonl", "").unwrap_err().to_string();
        assert!(e.contains("m.jsonl") && e.contains("empty"), "{e}");
        let good =
            r#"{"timestamp": 0, "input_length": 600, "output_length": 5, "hash_ids": [0, 1]}"#;
        let e = mooncake(
            "m.jsonl",
            &format!("{good}\n{{\"timestamp\": 5, \"input_len"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 2") && e.contains("truncated"), "{e}");
        let e = mooncake(
            "m.jsonl",
            &format!("{good}\n{{\"timestamp\": 5, \"input_length\": \"x\", \"output_length\": 1}}"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 2") && e.contains("`input_length`"), "{e}");
        let e = mooncake(
            "m.jsonl",
            &format!("{good}\n{{\"timestamp\": 5, \"input_length\": 3}}"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("missing field `output_length`"), "{e}");
        let e = mooncake(
            "m.jsonl",
            &format!("{good}\n{{\"timestamp\": -5, \"input_length\": 3, \"output_length\": 1}}"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`timestamp`"), "{e}");
        let later =
            r#"{"timestamp": 9, "input_length": 600, "output_length": 5, "hash_ids": [0, 1]}"#;
        let e = mooncake("m.jsonl", &format!("{later}\n{good}\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("sorted"), "{e}");
    }

    #[test]
    fn times_beyond_a_year_are_refused_where_they_are_written() {
        let h = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
        let e = azure(
            "a.csv",
            &format!("{h}2023-11-16 18:17:03,1,1\n9999-11-16 18:17:03,1,1\n"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 3") && e.contains("366 days"), "{e}");
        let e = mooncake(
            "m.jsonl",
            "{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1}\n{\"timestamp\": 1e15, \"input_length\": 1, \"output_length\": 1}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("line 2") && e.contains("`timestamp`") && e.contains("366 days"),
            "{e}"
        );
        let e = claude_code(
            "c.json",
            r#"{"requests": [{"t": 0, "in": 1, "out": 1, "think_time": 1e300}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`think_time`") && e.contains("366 days"), "{e}");
    }

    #[test]
    fn errors_in_pretty_printed_sessions_name_the_line_of_the_field() {
        let text = "[\n  {\"requests\": [{\"t\": 0, \"in\": 1, \"out\": 1}]},\n  {\"id\": \"b\",\n   \"requests\": [\n     {\"t\": 0, \"in\": 1, \"out\": 1},\n     {\"type\": \"subagent\", \"t\": 1, \"requests\": [\n       {\"t\": 0, \"in\": 1,\n        \"out\": -2}]}]}\n]\n";
        let e = claude_code("c.json", text).unwrap_err().to_string();
        assert!(
            e.starts_with("c.json: line 8: requests[1].requests[0]: field `out`"),
            "{e}"
        );
        let e = claude_code("c.json", "[]").unwrap_err().to_string();
        assert!(e.contains("empty list"), "{e}");
    }

    #[test]
    fn prefix_chains_follow_conversations_not_shared_system_prompts() {
        // Two conversations share block 0 (a system prompt); each has a second turn.
        let ids: Vec<Vec<u64>> = vec![
            vec![0, 1, 2],
            vec![0, 3],
            vec![0, 1, 2, 4, 5],
            vec![0, 3, 6],
        ];
        let refs: Vec<&[u64]> = ids.iter().map(Vec::as_slice).collect();
        let out = chain_by_prefix(&refs, &[1500, 1000, 2500, 1500], 512);
        assert_eq!(out[0], (0, 0));
        assert_eq!(
            out[1],
            (1, 0),
            "a shared system block alone starts a new chain"
        );
        assert_eq!(out[2], (0, 3 * 512));
        assert_eq!(out[3], (1, 2 * 512));
    }

    #[test]
    fn claude_code_sessions_nest_sub_agents() {
        let text = r#"{"id": "s", "block_size": 64, "requests": [
            {"t": 0, "in": 1000, "out": 10, "hash_ids": [1, 2], "think_time": 0},
            {"type": "subagent", "t": 5, "requests": [
                {"t": 0, "in": 300, "out": 5, "hash_ids": [1]},
                {"t": 3, "in": 400, "out": 5, "hash_ids": [1, 9]}
            ]},
            {"type": "subagent", "t": 5, "requests": [{"t": 0, "in": 200, "out": 5}]},
            {"t": 20, "in": 1200, "out": 10, "hash_ids": [1, 2, 3], "think_time": 2.5}
        ]}"#;
        let t = claude_code("c.json", text).unwrap();
        assert_eq!(t.sessions.len(), 1);
        let s = &t.sessions[0];
        assert_eq!(s.calls.len(), 5);
        assert_eq!(s.contexts.len(), 3);
        let root = &s.contexts[0];
        let items = &s.items[root.items.start as usize..root.items.end as usize];
        let Item::Spawn { first, count } = items[1] else {
            panic!("{items:?}")
        };
        assert_eq!(
            &s.children[first as usize..(first + count) as usize],
            &[1, 2]
        );
        let last = match items[2] {
            Item::Call(k) => &s.calls[k as usize],
            _ => panic!(),
        };
        assert_eq!((last.reusable, last.think), (128, 2.5));
        assert_eq!(t.rows, 5);
        let e = claude_code("c.json", r#"{"requests": [{"t": 0, "in": -3, "out": 1}]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("requests[0]") && e.contains("`in`"), "{e}");
        let e = claude_code("c.json", r#"{"requests": [{"t": 0, "in": 3"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("c.json") && e.contains("truncated"), "{e}");
    }
}
