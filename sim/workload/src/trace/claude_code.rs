//! Claude Code's session traces (the kv-cache-tester format): one session object, a JSON array
//! of them, or one per line. A session lists its requests in order, with their think times, and
//! its sub-agents where it spawned them; consecutive sub-agents start together and the session
//! waits for all of them, as Claude Code's Task tool does. A request reuses the block-id prefix
//! it shares with the previous request of its own context.

use serde_json::Value;
use tokenfleet_engine::text::num;
use tokenfleet_engine::time::MAX_SPAN_S;

use super::error::{TraceError, json_line_err};
use super::fields::{At, field, hash_ids, time_field, tokens_field};
use super::model::{Context, Format, Item, Session, SessionCall, Trace};

/// Claude Code session traces (kv-cache-tester format): one session object, a JSON array of
/// them, or one per line.
pub fn parse(file: &str, text: &str) -> Result<Trace, TraceError> {
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
    fn times_beyond_a_year_are_refused_where_they_are_written() {
        let e = parse(
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
        let e = parse("c.json", text).unwrap_err().to_string();
        assert!(
            e.starts_with("c.json: line 8: requests[1].requests[0]: field `out`"),
            "{e}"
        );
        let e = parse("c.json", "[]").unwrap_err().to_string();
        assert!(e.contains("empty list"), "{e}");
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
        let t = parse("c.json", text).unwrap();
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
        let e = parse("c.json", r#"{"requests": [{"t": 0, "in": -3, "out": 1}]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("requests[0]") && e.contains("`in`"), "{e}");
        let e = parse("c.json", r#"{"requests": [{"t": 0, "in": 3"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("c.json") && e.contains("truncated"), "{e}");
    }
}
