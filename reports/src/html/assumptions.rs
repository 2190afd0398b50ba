//! The scenario's assumptions in plain sight: the fleet and the run, the agent segments and
//! their loop, the pools (hardware, model, shape, cost, energy) and the prices. Values come from
//! the resolved [`Setup`] (and, for distributions, the scenario as written after overrides), in
//! human units.
//!
//! Distributions and a few tagged settings are rendered from their serialized form rather than
//! by matching on their variants, so a variant or field added to the scenario format shows up
//! here (with its own key name) instead of breaking the build.

use serde::Serialize;
use serde_json::Value;
use tokenfleet_fleet::run::RunOutput;
use tokenfleet_models::dist::DistSpec;
use tokenfleet_models::money::TokenPrice;
use tokenfleet_models::prices::Rates;
use tokenfleet_models::units::{SecondsUnit, Unit, parse};
use tokenfleet_setup::Pool;
use tokenfleet_setup::ProfileSpec;
use tokenfleet_setup::SegmentInputs;
use tokenfleet_setup::Setup;

use super::markup::{Align, classed_table, esc, kv_table, pct, rate, table};
use crate::table::{count, thousands};

/// A duration for people: "150 ms", "10 s", "30 min", "5 h", "5 y".
pub fn duration(s: f64) -> String {
    let trim = |x: f64| {
        let t = format!("{x:.2}");
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    if s < 1.0 {
        format!("{} ms", trim(s * 1e3))
    } else if s < 120.0 {
        format!("{} s", trim(s))
    } else if s < 2.0 * 3600.0 {
        format!("{} min", trim(s / 60.0))
    } else if s < 3.0 * 86_400.0 {
        format!("{} h", trim(s / 3600.0))
    } else if s < 365.0 * 86_400.0 {
        format!("{} days", trim(s / 86_400.0))
    } else {
        format!("{} y", trim(s / (365.25 * 86_400.0)))
    }
}

/// "30M", "1.2k", "15k", "105": token counts without trailing zeros.
fn tokens(v: f64) -> String {
    let c = count(v);
    let (num, suffix) = c.split_at(
        c.trim_end_matches(|ch: char| ch.is_ascii_alphabetic())
            .len(),
    );
    if num.contains('.') {
        format!(
            "{}{suffix}",
            num.trim_end_matches('0').trim_end_matches('.')
        )
    } else {
        c
    }
}

/// How a pool's devices are paid for, from the serialized cost mode (so that modes and fields
/// added later still show, by their key names).
fn paid_as<T: Serialize>(cost: &T) -> String {
    let Ok(Value::Object(m)) = serde_json::to_value(cost) else {
        return tagged(cost);
    };
    let num = |k: &str| m.get(k).and_then(Value::as_f64);
    let mut parts = Vec::new();
    for (k, v) in &m {
        let text = match (k.as_str(), v) {
            ("mode", Value::String(s)) if s == "rent" => "rented".to_string(),
            ("mode", Value::String(s)) if s == "own" => "owned".to_string(),
            ("usd_per_device_hour", _) => {
                format!("{} per device-hour", rate(num(k).unwrap_or(0.0)))
            }
            ("price_usd", _) => {
                format!("{} per device", crate::table::money(num(k).unwrap_or(0.0)))
            }
            ("depreciation_years", _) => format!("depreciated over {} y", num(k).unwrap_or(0.0)),
            ("overhead", _) => format!("overhead {}", pct(num(k).unwrap_or(0.0))),
            (_, Value::String(s)) => format!("{k} {s}"),
            (_, other) => format!("{k} {other}"),
        };
        parts.push(text);
    }
    // The mode first, whatever the key order of the serializer.
    parts.sort_by_key(|p| !(p == "rented" || p == "owned"));
    parts.join(", ")
}

/// A serialized value for people: a unit string parsed and reformatted with `f`, a number as is.
fn value<U: Unit>(v: &Value, f: fn(f64) -> String) -> String {
    match v {
        Value::String(s) => parse::<U>(s).map(f).unwrap_or_else(|_| s.clone()),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// "log-normal: p10 30M, p90 100M", "15k" (a constant).
pub fn dist<U: Unit>(d: &DistSpec<U>, f: fn(f64) -> String) -> String {
    let Ok(Value::Object(m)) = serde_json::to_value(d) else {
        return "(not shown)".into();
    };
    let kind = m.get("dist").and_then(Value::as_str).unwrap_or("");
    const ORDER: [&str; 12] = [
        "value", "min", "p10", "p25", "p50", "p75", "p90", "p99", "mean", "sigma", "alpha", "max",
    ];
    let mut keys: Vec<&String> = m.keys().filter(|k| *k != "dist").collect();
    keys.sort_by_key(|k| ORDER.iter().position(|o| o == k).unwrap_or(ORDER.len()));
    let parts: Vec<String> = keys
        .iter()
        .map(|k| {
            let name = if k.as_str() == "p50" { "median" } else { k };
            format!("{name} {}", value::<U>(&m[*k], f))
        })
        .collect();
    match kind {
        "constant" => m
            .get("value")
            .map_or_else(String::new, |v| value::<U>(v, f)),
        "lognormal" => format!("log-normal: {}", parts.join(", ")),
        other => format!("{other}: {}", parts.join(", ")),
    }
}

/// A serialized enum or struct as "key value, key value" with the tag first.
fn tagged<T: Serialize>(x: &T) -> String {
    match serde_json::to_value(x) {
        Ok(Value::String(s)) => s,
        Ok(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k} {s}"),
                other => format!("{k} {other}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Ok(other) => other.to_string(),
        Err(_) => "(not shown)".into(),
    }
}

fn profile(p: &ProfileSpec) -> String {
    match serde_json::to_value(p) {
        Ok(Value::String(name)) => name,
        Ok(Value::Array(w)) => format!("custom ({} hourly weights)", w.len()),
        _ => "(not shown)".into(),
    }
}

/// A table with one column per item (segments, pools, models) and one row per parameter.
fn transposed(names: &[String], rows: &[(&str, Vec<String>)]) -> String {
    // (The first column holds the parameter names; see `table.params` in the CSS.)
    let mut head: Vec<(&str, Align)> = vec![("", Align::L)];
    let escaped: Vec<String> = names.iter().map(|n| esc(n)).collect();
    head.extend(escaped.iter().map(|n| (n.as_str(), Align::L)));
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|(k, vs)| {
            let mut r = vec![esc(k)];
            r.extend(vs.iter().map(|v| esc(v)));
            r
        })
        .collect();
    classed_table("params", &head, &body)
}

fn per_m(p: TokenPrice) -> String {
    format!("{} / M", rate(p.usd_per_mtok()))
}

fn rates(r: &Rates) -> [String; 4] {
    [
        per_m(r.input),
        per_m(r.cached_input),
        r.cache_write.map_or("—".into(), per_m),
        per_m(r.output),
    ]
}

pub fn render(setup: &Setup, run: &RunOutput) -> String {
    let mut out = String::new();

    out.push_str("<h3>Fleet and run</h3>\n");
    let row = |k: &str, v: String, u: &str| (esc(k), esc(&v), esc(u));
    let mut fleet = vec![
        row("Agents", thousands(setup.agents), "agents"),
        row(
            "Simulated period",
            duration(setup.horizon.secs()),
            "from 00:00 UTC",
        ),
        row("Seed", run.seed.to_string(), ""),
        row(
            "Cells simulated",
            format!("{} of {}", run.layout.simulated.len(), run.layout.cells),
            &format!(
                "{} of the fleet, totals scaled",
                pct(run.layout.sampled_fraction())
            ),
        ),
        row(
            "Replicas per cell",
            setup.engine.replicas_per_cell.to_string(),
            "largest pool; routing happens within a cell",
        ),
    ];
    if setup.engine.stepping {
        fleet.push(row(
            "Batching",
            "stepped per iteration".into(),
            "reference mode",
        ));
    }
    out.push_str(&kv_table(&fleet));

    out.push_str("<h3>Agent segments and their loop</h3>\n");
    let names: Vec<String> = setup.segments.iter().map(|s| s.name.clone()).collect();
    let specs: Vec<_> = setup
        .segments
        .iter()
        .map(|s| setup.segment_inputs.iter().find(|x| x.name == s.name))
        .collect();
    let from_spec = |f: &dyn Fn(&SegmentInputs) -> String| -> Vec<String> {
        specs
            .iter()
            .map(|s| s.map_or_else(|| "—".to_string(), f))
            .collect()
    };
    let seg_rows: Vec<(&str, Vec<String>)> = vec![
        (
            "Share of the fleet",
            setup.segments.iter().map(|s| pct(s.share)).collect(),
        ),
        (
            "Agents",
            setup.segments.iter().map(|s| thousands(s.agents)).collect(),
        ),
        (
            "Model",
            setup
                .segments
                .iter()
                .map(|s| setup.served[s.model].name.clone())
                .collect(),
        ),
        (
            "Daily token budget",
            from_spec(&|s| dist(&s.daily_tokens, tokens)),
        ),
        (
            "Activity profile (local time)",
            from_spec(&|s| profile(&s.profile)),
        ),
        ("Time zone", from_spec(&|s| format!("UTC{:+}", s.timezone))),
        (
            "Tokens per task (mean)",
            from_spec(&|s| match (s.kind.as_deref(), s.task_tokens) {
                (Some("open-loop"), _) => {
                    "none (open loop: a call every tool gap, answered or not)".into()
                }
                (_, Some(t)) => tokens(t.get()),
                (_, None) => "none (one endless loop)".into(),
            }),
        ),
        (
            "Task size spread (log-normal σ)",
            from_spec(&|s| format!("{}", s.spread)),
        ),
        (
            "System prompt and tools",
            from_spec(&|s| dist(&s.system_tokens, tokens)),
        ),
        (
            "New tokens per call",
            from_spec(&|s| dist(&s.new_tokens, tokens)),
        ),
        (
            "Output tokens per call",
            from_spec(&|s| dist(&s.output_tokens, tokens)),
        ),
        (
            "Tool gap between calls",
            from_spec(&|s| dist::<SecondsUnit>(&s.tool_gap, duration)),
        ),
        (
            "Context window",
            setup
                .segments
                .iter()
                .map(|s| format!("{} tokens", tokens(s.window as f64)))
                .collect(),
        ),
        (
            "Compaction",
            setup
                .segments
                .iter()
                .zip(&specs)
                .map(|(s, spec)| {
                    let summary = spec.map_or_else(String::new, |x| {
                        format!(", summary {}", dist(&x.summary_tokens, tokens))
                    });
                    format!("at {} tokens{summary}", tokens(s.main.compact_at as f64))
                })
                .collect(),
        ),
    ];
    out.push_str(&transposed(&names, &seg_rows));

    out.push_str("<h3>Pools</h3>\n");
    let names: Vec<String> = setup.pools.iter().map(|p| p.name.clone()).collect();
    let pools = &setup.pools;
    let col = |f: &dyn Fn(&Pool) -> String| -> Vec<String> { pools.iter().map(f).collect() };
    let pool_rows: Vec<(&str, Vec<String>)> = vec![
        (
            "Hardware",
            col(&|p| format!("{} ({})", p.hardware.name, p.hardware.id)),
        ),
        ("Model", col(&|p| setup.served[p.model].name.clone())),
        (
            "Replicas",
            col(&|p| match &p.autoscale {
                Some(a) => format!(
                    "{} at the start, autoscaled {}–{}",
                    thousands(p.replicas),
                    thousands(a.min),
                    thousands(a.max)
                ),
                None => thousands(p.replicas),
            }),
        ),
        (
            "Devices per replica",
            col(&|p| {
                format!(
                    "{} (TP {} × PP {})",
                    p.perf.devices, p.perf.shape.tp, p.perf.shape.pp
                )
            }),
        ),
        (
            "Precision",
            col(&|p| {
                format!(
                    "weights {}, KV cache {}",
                    p.perf.shape.weights, p.perf.shape.kv
                )
            }),
        ),
        (
            "KV capacity per replica",
            col(&|p| format!("{} tokens", tokens(p.perf.kv_capacity_tokens as f64))),
        ),
        (
            "Batching",
            col(&|p| {
                format!(
                    "{} tokens per iteration, up to {} sequences",
                    thousands(p.max_batch_tokens as u64),
                    p.max_seqs
                )
            }),
        ),
        (
            "Queue limit",
            col(&|p| format!("{} waiting calls per replica", p.queue_limit)),
        ),
        ("Router", col(&|p| tagged(&p.router))),
        ("Prefix retention", col(&|p| duration(p.retention.secs()))),
        (
            "Rate limit per agent",
            col(&|p| match &p.rate_limit {
                Some(r) => format!(
                    "burst {:.0} calls, {:.1} calls/min",
                    r.burst,
                    r.per_second * 60.0
                ),
                None => "none".into(),
            }),
        ),
        (
            "Autoscaler",
            col(&|p| match &p.autoscale {
                Some(a) => format!(
                    "{} target {}, every {}, {} to provision",
                    tagged(&a.metric),
                    a.target,
                    duration(a.interval.secs()),
                    duration(a.provision_delay.secs())
                ),
                None => "none".into(),
            }),
        ),
        ("Paid as", col(&|p| paid_as(&p.cost))),
        (
            "Hardware cost",
            col(&|p| format!("{} per device-hour", rate(p.device_rate.usd_per_hour()))),
        ),
        (
            "Device power",
            col(&|p| {
                format!(
                    "{:.0} W idle – {:.0} W TDP",
                    p.hardware.idle_w, p.hardware.tdp_w
                )
            }),
        ),
        (
            "Energy",
            col(&|p| {
                format!(
                    "{}, PUE {}, {}",
                    p.electricity_label,
                    p.pue,
                    if p.pay_energy {
                        "billed"
                    } else {
                        "counted, not billed (in the rent)"
                    }
                )
            }),
        ),
    ];
    out.push_str(&transposed(&names, &pool_rows));

    out.push_str("<h3>Prices</h3>\n");
    let mut rows = Vec::new();
    for m in &setup.served {
        for (k, mp) in m.prices.iter().enumerate() {
            let sheet = &mp.sheet;
            let [i, c, w, o] = rates(&sheet.base);
            let billed = if k == 0 { " (billed)" } else { " (what-if)" };
            rows.push(vec![
                if k == 0 { esc(&m.name) } else { String::new() },
                format!(
                    "{}<br><span class=\"note\">{}{}</span>",
                    esc(&mp.set),
                    esc(&sheet.name),
                    billed
                ),
                esc(&i),
                esc(&c),
                esc(&w),
                esc(&o),
                format!(
                    "{}<br><span class=\"note\">{}</span>",
                    esc(&per_m(mp.blended)),
                    esc(&format!("source: {}", mp.blended_source))
                ),
            ]);
            for (above, r) in &sheet.tiers {
                let [i, c, w, o] = rates(r);
                rows.push(vec![
                    String::new(),
                    esc(&format!("above {} input tokens", tokens(*above as f64))),
                    esc(&i),
                    esc(&c),
                    esc(&w),
                    esc(&o),
                    String::new(),
                ]);
            }
            for (win, r) in &sheet.periods {
                let [i, c, w, o] = rates(r);
                rows.push(vec![
                    String::new(),
                    esc(&format!(
                        "{:02}:{:02}-{:02}:{:02} UTC",
                        win.start_min / 60,
                        win.start_min % 60,
                        win.end_min / 60,
                        win.end_min % 60
                    )),
                    esc(&i),
                    esc(&c),
                    esc(&w),
                    esc(&o),
                    String::new(),
                ]);
            }
        }
    }
    out.push_str(&table(
        &[
            ("Model", Align::L),
            ("Sheet", Align::L),
            ("Input", Align::R),
            ("Cached input", Align::R),
            ("Cache write", Align::R),
            ("Output", Align::R),
            ("Blended", Align::R),
        ],
        &rows,
    ));
    out.push_str(
        "<p class=\"note\">Prices in US$ per million tokens. A long-context tier replaces all of \
         a call's rates when its input exceeds the threshold.</p>\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenfleet_models::dist::DistSpec;
    use tokenfleet_models::units::TokenUnit;

    #[test]
    fn distributions_read_in_human_units() {
        let d: DistSpec<TokenUnit> =
            serde_json::from_str(r#"{ "dist": "lognormal", "p10": "30M", "p90": "100M" }"#)
                .expect("a valid spec");
        assert_eq!(dist(&d, tokens), "log-normal: p10 30M, p90 100M");
        assert_eq!(tokens(1200.0), "1.2k");
        assert_eq!(tokens(15_000.0), "15k");
        assert_eq!(tokens(105.0), "105");
        assert_eq!(tokens(196_608.0), "196.6k");
        assert_eq!(duration(0.15), "150 ms");
        assert_eq!(duration(10.0), "10 s");
        assert_eq!(duration(1800.0), "30 min");
        assert_eq!(duration(86_400.0), "24 h");
    }
}
