//! Presets: shipped segment fragments a scenario includes with `preset = "name"`.
//!
//! A preset is the TOML of a `[[fleet.segment]]` without `name`, `share` and `model` (those
//! belong to the scenario), kept in `scenarios/presets/<name>.toml` and compiled in. Including
//! one merges it under the segment's own keys before the scenario is read: whatever the
//! segment writes wins, key by key, and tables merge (a segment that writes only
//! `[fleet.segment.task] tool_gap = "5s"` keeps the rest of the preset's task). Each preset's
//! calibration is documented in its file and in docs/workload.md.

use toml::{Table, Value};

/// Names and TOML of the shipped presets.
pub const PRESETS: &[(&str, &str)] = &[
    (
        "coding-agent",
        include_str!("../../../scenarios/presets/coding-agent.toml"),
    ),
    (
        "openclaw-heavy",
        include_str!("../../../scenarios/presets/openclaw-heavy.toml"),
    ),
    (
        "openclaw-light",
        include_str!("../../../scenarios/presets/openclaw-light.toml"),
    ),
    (
        "monitor",
        include_str!("../../../scenarios/presets/monitor.toml"),
    ),
    ("chat", include_str!("../../../scenarios/presets/chat.toml")),
];

/// The accepted preset names, for messages.
pub fn names() -> String {
    PRESETS
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The parsed fragment of preset `name`.
pub fn fragment(name: &str) -> Option<Table> {
    PRESETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| text.parse::<Table>().expect("shipped presets parse"))
}

/// Keys a preset may not set: they belong to the scenario.
const SCENARIO_KEYS: &[&str] = &["name", "share", "model", "preset"];

/// Merges `from` under `into`: keys of `into` win, tables merge recursively (but not
/// distribution tables, which are replaced whole).
fn merge(into: &mut Table, from: &Table) {
    for (k, v) in from {
        match (into.get_mut(k), v) {
            (None, _) => {
                into.insert(k.clone(), v.clone());
            }
            // A distribution is one value: the segment's replaces the preset's whole.
            (Some(Value::Table(mine)), Value::Table(theirs))
                if !mine.contains_key("dist") && !theirs.contains_key("dist") =>
            {
                merge(mine, theirs)
            }
            _ => {}
        }
    }
}

/// Whether any segment of the document names a preset.
pub fn used(doc: &Table) -> bool {
    segments(doc).is_some_and(|s| {
        s.iter()
            .any(|v| v.as_table().is_some_and(|t| t.contains_key("preset")))
    })
}

fn segments(doc: &Table) -> Option<&Vec<Value>> {
    doc.get("fleet")?.as_table()?.get("segment")?.as_array()
}

/// Expands every `preset = "..."` in `[[fleet.segment]]`; returns (field path, message) for
/// each preset that cannot be expanded.
pub fn expand(doc: &mut Table) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let Some(segs) = doc
        .get_mut("fleet")
        .and_then(Value::as_table_mut)
        .and_then(|f| f.get_mut("segment"))
        .and_then(Value::as_array_mut)
    else {
        return problems;
    };
    for (i, seg) in segs.iter_mut().enumerate() {
        let Some(seg) = seg.as_table_mut() else {
            continue;
        };
        let Some(name) = seg.get("preset") else {
            continue;
        };
        let path = format!("fleet.segment[{i}].preset");
        let Some(name) = name.as_str() else {
            problems.push((path, format!("must be a preset name: {}", names())));
            continue;
        };
        match fragment(name) {
            Some(mut frag) => {
                for k in SCENARIO_KEYS {
                    frag.remove(*k);
                }
                merge(seg, &frag);
            }
            None => {
                let hint =
                    crate::suggest::closest(name, &PRESETS.iter().map(|p| p.0).collect::<Vec<_>>())
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default();
                problems.push((
                    path,
                    format!("unknown preset `{name}`{hint}; accepted: {}", names()),
                ))
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_keys_win_and_tables_merge() {
        let mut doc: Table = r#"
            [fleet]
            agents = 10
            [[fleet.segment]]
            name = "a"
            share = 1.0
            model = "m"
            preset = "openclaw-heavy"
            profile = "flat"
            [fleet.segment.task]
            tool_gap = "5s"
            new_tokens = { dist = "exponential", mean = 10 }
        "#
        .parse()
        .unwrap();
        assert!(used(&doc));
        assert!(expand(&mut doc).is_empty());
        let seg = &segments(&doc).unwrap()[0];
        assert_eq!(seg["profile"].as_str(), Some("flat"));
        assert_eq!(seg["task"]["tool_gap"].as_str(), Some("5s"));
        assert_eq!(seg["task"]["tokens"].as_str(), Some("5M"));
        let new = seg["task"]["new_tokens"].as_table().unwrap();
        assert_eq!(
            new.len(),
            2,
            "not merged with the preset's lognormal: {new:?}"
        );
        assert!(seg.get("daily_tokens").is_some());
    }

    #[test]
    fn unknown_presets_are_named_with_the_accepted_ones() {
        let mut doc: Table = "[[fleet.segment]]\npreset = \"coding-agnet\"\n"
            .parse()
            .unwrap();
        let p = expand(&mut doc);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].0, "fleet.segment[0].preset");
        assert!(p[0].1.contains("did you mean `coding-agent`"), "{}", p[0].1);
        assert!(p[0].1.contains("openclaw-light"), "{}", p[0].1);
    }

    #[test]
    fn every_preset_parses_and_sets_no_scenario_key() {
        for (name, _) in PRESETS {
            let frag = fragment(name).unwrap();
            for k in SCENARIO_KEYS {
                assert!(!frag.contains_key(*k), "{name} sets {k}");
            }
        }
    }
}
