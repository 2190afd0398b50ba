//! Mooncake's trace: one JSON request per line, with `timestamp` (ms), `input_length`,
//! `output_length` and `hash_ids`, the ids of the prompt's 512-token blocks. Requests are
//! grouped into prefix chains by their block ids ([`chain_by_prefix`]), since the prefix cache
//! holds one context per chain.

use serde_json::Value;

use super::error::{TraceError, json_line_err, line_err};
use super::fields::{At, hash_ids, time_field, tokens_field};
use super::model::{Format, Request, Trace};

/// Mooncake's hash block size (tokens per block).
pub const BLOCK: u32 = 512;

/// The Mooncake trace: one JSON object per line with `timestamp` (ms), `input_length`,
/// `output_length` and `hash_ids` (512-token blocks; an id seen before is a reusable prefix).
pub fn parse(file: &str, text: &str) -> Result<Trace, TraceError> {
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
        BLOCK,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mooncake_errors_name_line_and_field() {
        let e = parse("m.jsonl", "").unwrap_err().to_string();
        assert!(e.contains("m.jsonl") && e.contains("empty"), "{e}");
        let good =
            r#"{"timestamp": 0, "input_length": 600, "output_length": 5, "hash_ids": [0, 1]}"#;
        let e = parse(
            "m.jsonl",
            &format!("{good}\n{{\"timestamp\": 5, \"input_len"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 2") && e.contains("truncated"), "{e}");
        let e = parse(
            "m.jsonl",
            &format!("{good}\n{{\"timestamp\": 5, \"input_length\": \"x\", \"output_length\": 1}}"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 2") && e.contains("`input_length`"), "{e}");
        let e = parse(
            "m.jsonl",
            &format!("{good}\n{{\"timestamp\": 5, \"input_length\": 3}}"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("missing field `output_length`"), "{e}");
        let e = parse(
            "m.jsonl",
            &format!("{good}\n{{\"timestamp\": -5, \"input_length\": 3, \"output_length\": 1}}"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`timestamp`"), "{e}");
        let later =
            r#"{"timestamp": 9, "input_length": 600, "output_length": 5, "hash_ids": [0, 1]}"#;
        let e = parse("m.jsonl", &format!("{later}\n{good}\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("sorted"), "{e}");
    }

    #[test]
    fn times_beyond_a_year_are_refused_where_they_are_written() {
        let e = parse(
            "m.jsonl",
            "{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1}\n{\"timestamp\": 1e15, \"input_length\": 1, \"output_length\": 1}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("line 2") && e.contains("`timestamp`") && e.contains("366 days"),
            "{e}"
        );
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
}
