//! `--set PATH=VALUE`: change any field of a scenario from the command line.
//!
//! `--set PATH*=FACTOR` multiplies instead: every number under PATH (units kept: "30M" x 1.2 is
//! "36M", "$2.50/h" x 2 is "$5/h") except shape parameters (`sigma`, `alpha`, `spread`, hourly
//! profile weights, shares, parallelism and engine limits), so scaling a distribution moves its
//! location and keeps its shape. Sensitivity analyses are built on it.
//!
//! PATH is a dotted path through the TOML document. An element of an array of tables is chosen
//! by index (`cluster.pool[0].replicas`, `cluster.pool.0.replicas`) or by its `name`
//! (`cluster.pool.h200.replicas`). VALUE is read as a TOML value (`2000000`, `1e6`, `true`,
//! `"30M"`, `[1, 2]`) and, if it is not one, as a string (`30M`, `$2.50/h`), so units need no
//! quoting. Missing tables on the way are created; the typed deserialization that follows
//! rejects fields that do not exist.

use toml::{Table, Value};

use tokenfleet_models::quantity::{fmt_number, split_quantity};

/// Why overrides cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OverrideError {
    /// The scenario text itself does not parse.
    #[error("{0}")]
    Parse(String),
    /// One `--set` argument cannot be applied.
    #[error("--set {arg}: {error}")]
    Arg { arg: String, error: ArgError },
}

/// What is wrong with one `--set` argument; the text is what the user reads after the flag.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArgError {
    #[error("expected PATH=VALUE or PATH*=FACTOR, e.g. fleet.agents=2000000")]
    NoValue,
    #[error("`{0}` is not a non-negative factor")]
    BadFactor(String),
    #[error("unclosed quote")]
    UnclosedQuote,
    #[error("empty path segment")]
    EmptySegment,
    #[error("empty path")]
    EmptyPath,
    #[error("unclosed [")]
    UnclosedBracket,
    #[error("`{0}` is not an index")]
    NotAnIndex(String),
    #[error("unexpected `{0}`")]
    Unexpected(String),
    #[error("no element named `{name}` in `{path}`; names: {names}")]
    NoElement {
        name: String,
        path: String,
        /// The names the list has, or "(none)".
        names: String,
    },
    #[error(
        "`{name}` in `{path}` is ambiguous: several elements have model `{name}`; name one: {choices}"
    )]
    Ambiguous {
        name: String,
        path: String,
        choices: String,
    },
    #[error("index {index} is out of range (the list has {len} items)")]
    OutOfRange { index: usize, len: usize },
    #[error("`{path}` goes through a value that is not a table or list")]
    NotAContainer { path: String },
    #[error("`{path}`: no field `{key}` to scale")]
    NothingToScale { path: String, key: String },
    #[error("`{path}`: `{key}` names a list element, not a field; add the field after it")]
    ElementNotField { path: String, key: String },
}

enum Seg {
    Key(String),
    Index(usize),
}

/// Splits a path at dots outside double quotes: `price."minimax-m2.5".blended`.
fn split_path(path: &str) -> Result<Vec<String>, ArgError> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for ch in path.chars() {
        match ch {
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(ch),
        }
    }
    if quoted {
        return Err(ArgError::UnclosedQuote);
    }
    parts.push(cur);
    Ok(parts)
}

fn segments(path: &str) -> Result<Vec<Seg>, ArgError> {
    let mut out = Vec::new();
    for part in split_path(path)? {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (part[..i].to_string(), part[i..].to_string()),
            None => (part.clone(), String::new()),
        };
        if key.is_empty() && rest.is_empty() {
            return Err(ArgError::EmptySegment);
        }
        if !key.is_empty() {
            match key.parse::<usize>() {
                Ok(i) => out.push(Seg::Index(i)),
                Err(_) => out.push(Seg::Key(key)),
            }
        }
        while let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or(ArgError::UnclosedBracket)?;
            let i = r[..end]
                .parse::<usize>()
                .map_err(|_| ArgError::NotAnIndex(r[..end].to_string()))?;
            out.push(Seg::Index(i));
            rest = r[end + 1..].to_string();
        }
        if !rest.is_empty() {
            return Err(ArgError::Unexpected(rest));
        }
    }
    Ok(out)
}

/// Keys whose numbers describe a shape or a structure rather than an amount: a scaling of the
/// table around them leaves them alone (a path naming one directly still scales it).
const SHAPE_KEYS: &[&str] = &[
    "sigma",
    "alpha",
    "spread",
    "profile",
    "share",
    "timezone",
    "tp",
    "pp",
    "max_seqs",
    "max_batch_tokens",
    "queue_limit",
    "compact_at",
    "affinity_slack",
    "seed",
    "cells",
    "weights",
    "verify_seeds",
    "target",
    "cost_of_capital",
    "overhead",
];

fn scale_value(v: &mut Value, factor: f64, top: bool) {
    match v {
        Value::Integer(i) => {
            let x = (*i as f64 * factor).round() as i64;
            // A positive count stays positive (agents, replicas).
            *i = if *i > 0 { x.max(1) } else { x };
        }
        Value::Float(f) => *f *= factor,
        Value::String(s) => {
            if let Some((pre, n, suf)) = split_quantity(s) {
                *s = format!("{pre}{}{suf}", fmt_number(n * factor));
            }
        }
        Value::Array(a) => {
            for x in a {
                scale_value(x, factor, false);
            }
        }
        Value::Table(t) => {
            for (k, x) in t.iter_mut() {
                if top || !SHAPE_KEYS.contains(&k.as_str()) {
                    scale_value(x, factor, false);
                }
            }
        }
        _ => {}
    }
    let _ = top;
}

fn parse_value(text: &str) -> Value {
    let doc = format!("v = {text}");
    match doc.parse::<Table>() {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| Value::String(text.to_string())),
        Err(_) => Value::String(text.to_string()),
    }
}

/// One step down `path`: the value and how the step is written in a field path (`.key` or
/// `[index]`; an element chosen by name is written by its index, as deserialization errors and
/// validation problems name it).
fn step<'v>(
    cur: &'v mut Value,
    seg: &Seg,
    next_is_index: bool,
    path: &str,
) -> Result<(&'v mut Value, String), ArgError> {
    match (seg, cur) {
        (Seg::Key(k), Value::Table(t)) => Ok((
            t.entry(k.clone()).or_insert_with(|| {
                if next_is_index {
                    Value::Array(Vec::new())
                } else {
                    Value::Table(Table::new())
                }
            }),
            format!(".{k}"),
        )),
        (Seg::Key(k), Value::Array(a)) => {
            let label = |v: &Value| {
                v.get("name")
                    .or_else(|| v.get("model"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            let names: Vec<String> = a.iter().filter_map(label).collect();
            // By name first; else by model, when exactly one element serves that model.
            let by_model: Vec<usize> = (0..a.len())
                .filter(|&i| a[i].get("model").and_then(Value::as_str) == Some(k.as_str()))
                .collect();
            let i = match a
                .iter()
                .position(|v| label(v).as_deref() == Some(k.as_str()))
            {
                Some(i) => i,
                None if by_model.len() == 1 => by_model[0],
                None if by_model.len() > 1 => {
                    let list = path.split(['.', '[']).next().unwrap_or_default();
                    return Err(ArgError::Ambiguous {
                        name: k.clone(),
                        path: path.to_string(),
                        choices: by_model
                            .iter()
                            .map(|&i| match a[i].get("name").and_then(Value::as_str) {
                                Some(n) => format!("{list}.\"{n}\" or {list}[{i}]"),
                                None => format!("{list}[{i}]"),
                            })
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                }
                None => {
                    return Err(ArgError::NoElement {
                        name: k.clone(),
                        path: path.to_string(),
                        names: if names.is_empty() {
                            "(none)".to_string()
                        } else {
                            names.join(", ")
                        },
                    });
                }
            };
            Ok((&mut a[i], format!("[{i}]")))
        }
        (Seg::Index(i), Value::Array(a)) => {
            let n = a.len();
            a.get_mut(*i)
                .map(|v| (v, format!("[{i}]")))
                .ok_or(ArgError::OutOfRange { index: *i, len: n })
        }
        _ => Err(ArgError::NotAContainer {
            path: path.to_string(),
        }),
    }
}

/// An override as applied: the argument and the field path it wrote, with list elements by
/// index (`cluster.pool[0].replicas` for `cluster.pool.h200.replicas=9`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Applied {
    pub arg: String,
    pub path: String,
}

/// Applies overrides to scenario text and returns the new text (what an output's
/// `scenario.toml` holds; a scenario applies them to its parsed table with [`apply_to`]).
pub fn apply(text: &str, overrides: &[String]) -> Result<String, OverrideError> {
    let mut table: Table = text
        .parse()
        .map_err(|e: toml::de::Error| OverrideError::Parse(e.to_string()))?;
    apply_to(&mut table, overrides)?;
    toml::to_string(&table).map_err(|e| OverrideError::Parse(e.to_string()))
}

/// Applies overrides to a parsed scenario, in order; returns what each wrote.
pub fn apply_to(table: &mut Table, overrides: &[String]) -> Result<Vec<Applied>, OverrideError> {
    let mut root = Value::Table(std::mem::take(table));
    // Stops at the first error; the table is put back either way.
    let applied = overrides
        .iter()
        .map(|arg| apply_one(&mut root, arg))
        .collect();
    if let Value::Table(t) = root {
        *table = t;
    }
    applied
}

/// Applies one `PATH=VALUE` or `PATH*=FACTOR`.
fn apply_one(root: &mut Value, arg: &str) -> Result<Applied, OverrideError> {
    let err = |error: ArgError| OverrideError::Arg {
        arg: arg.to_string(),
        error,
    };
    let Some((path, value)) = arg.split_once('=') else {
        return Err(err(ArgError::NoValue));
    };
    let (path, value) = (path.trim(), value.trim());
    let written = if let Some(path) = path.strip_suffix('*') {
        match value
            .parse()
            .ok()
            .filter(|f: &f64| f.is_finite() && *f >= 0.0)
        {
            Some(factor) => scale_in(root, path.trim(), factor),
            None => Err(ArgError::BadFactor(value.to_string())),
        }
    } else {
        set_in(root, path, parse_value(value))
    };
    written
        .map(|path| Applied {
            arg: arg.to_string(),
            path,
        })
        .map_err(err)
}

fn scale_in(root: &mut Value, path: &str, factor: f64) -> Result<String, ArgError> {
    let segs = segments(path)?;
    let mut written = String::new();
    let mut cur = root;
    for seg in &segs {
        let (next, part) = match (seg, cur) {
            (Seg::Key(k), Value::Table(t)) => (
                t.get_mut(k.as_str())
                    .ok_or_else(|| ArgError::NothingToScale {
                        path: path.to_string(),
                        key: k.clone(),
                    })?,
                format!(".{k}"),
            ),
            (seg, cur) => step(cur, seg, false, path)?,
        };
        cur = next;
        written.push_str(&part);
    }
    scale_value(cur, factor, true);
    Ok(written.trim_start_matches('.').to_string())
}

fn set_in(root: &mut Value, path: &str, value: Value) -> Result<String, ArgError> {
    let segs = segments(path)?;
    let (last, init) = segs.split_last().ok_or(ArgError::EmptyPath)?;
    let mut written = String::new();
    let mut cur = root;
    for (i, seg) in init.iter().enumerate() {
        let next_is_index = matches!(segs.get(i + 1), Some(Seg::Index(_)));
        let (next, part) = step(cur, seg, next_is_index, path)?;
        cur = next;
        written.push_str(&part);
    }
    match (last, cur) {
        (Seg::Key(k), Value::Table(t)) => {
            t.insert(k.clone(), value);
            written.push_str(&format!(".{k}"));
        }
        (Seg::Key(k), Value::Array(_)) => {
            return Err(ArgError::ElementNotField {
                path: path.to_string(),
                key: k.clone(),
            });
        }
        (Seg::Index(i), Value::Array(a)) => {
            let n = a.len();
            let slot = a
                .get_mut(*i)
                .ok_or(ArgError::OutOfRange { index: *i, len: n })?;
            *slot = value;
            written.push_str(&format!("[{i}]"));
        }
        _ => {
            return Err(ArgError::NotAContainer {
                path: path.to_string(),
            });
        }
    }
    Ok(written.trim_start_matches('.').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"
name = "x"
[fleet]
agents = 10
[[cluster.pool]]
name = "a"
replicas = 1
[[cluster.pool]]
name = "b"
replicas = 2
"#;

    fn get(text: &str) -> Table {
        text.parse().unwrap()
    }

    #[test]
    fn sets_by_path_index_and_name() {
        let out = apply(
            DOC,
            &[
                "fleet.agents=2000000".into(),
                "cluster.pool[0].replicas=5".into(),
                "cluster.pool.b.replicas = 7".into(),
                "cluster.pool.1.rent=$2.50/h".into(),
                "engine.sample=full".into(),
            ],
        )
        .ok()
        .unwrap();
        let t = get(&out);
        assert_eq!(t["fleet"]["agents"].as_integer(), Some(2_000_000));
        assert_eq!(t["cluster"]["pool"][0]["replicas"].as_integer(), Some(5));
        assert_eq!(t["cluster"]["pool"][1]["replicas"].as_integer(), Some(7));
        assert_eq!(t["cluster"]["pool"][1]["rent"].as_str(), Some("$2.50/h"));
        assert_eq!(t["engine"]["sample"].as_str(), Some("full"));
    }

    #[test]
    fn scales_amounts_and_keeps_shapes() {
        let doc = "[a]\nagents = 10\nrent = \"$2.50/h\"\nbudget = { dist = \"lognormal\", p10 = \"30M\", p90 = \"100M\" }\nshape = { dist = \"lognormal\", median = 500, sigma = 1.2 }\n";
        let out = apply(doc, &["a*=1.5".into()]).ok().unwrap();
        let t = get(&out);
        assert_eq!(t["a"]["agents"].as_integer(), Some(15));
        assert_eq!(t["a"]["rent"].as_str(), Some("$3.75/h"));
        assert_eq!(t["a"]["budget"]["p10"].as_str(), Some("45M"));
        assert_eq!(t["a"]["budget"]["dist"].as_str(), Some("lognormal"));
        assert_eq!(
            t["a"]["shape"]["median"].as_integer(),
            Some(750),
            "integers stay integers"
        );
        assert_eq!(t["a"]["shape"]["sigma"].as_float(), Some(1.2), "shape kept");
        let out = apply(doc, &["a.shape.sigma*=2".into()]).ok().unwrap();
        assert_eq!(
            get(&out)["a"]["shape"]["sigma"].as_float(),
            Some(2.4),
            "named directly, it scales"
        );
        assert_eq!(
            split_quantity("$0.08/kWh"),
            Some(("$".into(), 0.08, "/kWh".into()))
        );
        assert_eq!(split_quantity("h200-sxm"), None);
    }

    #[test]
    fn reports_the_paths_written_with_list_indices() {
        let mut t: Table = DOC.parse().unwrap();
        let applied = apply_to(
            &mut t,
            &[
                "cluster.pool.b.replicas=7".into(),
                "fleet*=2".into(),
                "cluster.pool[0]=3".into(),
            ],
        )
        .ok()
        .unwrap();
        let paths: Vec<&str> = applied.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(
            paths,
            ["cluster.pool[1].replicas", "fleet", "cluster.pool[0]"]
        );
        assert_eq!(applied[0].arg, "cluster.pool.b.replicas=7");
    }

    #[test]
    fn a_model_names_its_element_only_when_one_element_has_it() {
        let doc = r#"
name = "x"
[[price]]
name = "list"
model = "m1"
[[price]]
name = "rival"
model = "m1"
[[price]]
name = "other"
model = "m2"
"#;
        let out = get(&apply(doc, &["price.m2.scale=2".into()]).unwrap());
        assert_eq!(out["price"][2]["scale"].as_integer(), Some(2));
        let Err(OverrideError::Arg { error, .. }) = apply(doc, &["price.m1.scale=2".into()]) else {
            panic!("two elements serve m1: ambiguous")
        };
        let e = error.to_string();
        assert!(
            e.contains("ambiguous")
                && e.contains(r#"price."list" or price[0]"#)
                && e.contains(r#"price."rival" or price[1]"#),
            "{e}"
        );
    }

    #[test]
    fn explains_bad_paths() {
        let msg = |o: &str| match apply(DOC, &[o.to_string()]) {
            Err(OverrideError::Arg { error, .. }) => error.to_string(),
            _ => panic!("expected an error for {o}"),
        };
        assert!(msg("cluster.pool.zz.replicas=1").contains("names: a, b"));
        assert!(msg("cluster.pool[9].replicas=1").contains("out of range"));
        assert!(msg("fleet.agents").contains("PATH=VALUE"));
        assert!(msg("name.x=1").contains("not a table"));
    }

    #[test]
    fn each_error_reads_as_it_did_when_errors_were_strings() {
        let msg = |o: &str| match apply(DOC, &[o.to_string()]) {
            Err(OverrideError::Arg { error, .. }) => error.to_string(),
            _ => panic!("expected an error for {o}"),
        };
        for (arg, text) in [
            (
                "fleet.agents",
                "expected PATH=VALUE or PATH*=FACTOR, e.g. fleet.agents=2000000",
            ),
            ("fleet*=x", "`x` is not a non-negative factor"),
            ("price.\"a=1", "unclosed quote"),
            ("fleet..agents=1", "empty path segment"),
            ("cluster.pool[0=1", "unclosed ["),
            ("cluster.pool[x]=1", "`x` is not an index"),
            ("cluster.pool[0]x=1", "unexpected `x`"),
            (
                "cluster.pool.zz.replicas=1",
                "no element named `zz` in `cluster.pool.zz.replicas`; names: a, b",
            ),
            (
                "cluster.pool[9].replicas=1",
                "index 9 is out of range (the list has 2 items)",
            ),
            (
                "name.x=1",
                "`name.x` goes through a value that is not a table or list",
            ),
            (
                "fleet.nothing*=2",
                "`fleet.nothing`: no field `nothing` to scale",
            ),
            (
                "cluster.pool.a=1",
                "`cluster.pool.a`: `a` names a list element, not a field; add the field after it",
            ),
        ] {
            assert_eq!(msg(arg), text, "{arg}");
        }
    }
}
