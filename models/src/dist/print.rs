//! Printing a spec back as the inline TOML a scenario would contain, for `tokenfleet fit`'s
//! fragments: `dist` first, so the family reads first, and a mixture component's `weight` last.

use super::spec::DistSpec;
use crate::units::Unit;

impl<U: Unit> DistSpec<U> {
    /// The spec as an inline TOML value (`{ dist = "lognormal", p50 = "1200", sigma = 0.9 }`),
    /// `dist` first, ready to paste into a scenario.
    pub fn to_toml(&self) -> String {
        match toml::Value::try_from(self) {
            Ok(v) => inline(&v),
            Err(e) => format!("\"(cannot print: {e})\""),
        }
    }
}

/// Inline TOML with a table's `dist` key first.
fn inline(v: &toml::Value) -> String {
    match v {
        toml::Value::Table(t) => {
            let mut keys: Vec<&String> = t.keys().collect();
            keys.sort_by_key(|k| (k.as_str() != "dist", k.as_str() == "weight", (*k).clone()));
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{k} = {}", inline(&t[k.as_str()])))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        toml::Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(inline).collect();
            format!("[{}]", parts.join(", "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::dist::testing::spec;
    use crate::units::SecondsUnit;

    #[test]
    fn specs_print_as_inline_toml_with_dist_first() {
        let d = spec::<SecondsUnit>(
            r#"{ dist = "mixture", components = [{ weight = 0.5, dist = "lognormal", p50 = "10s", sigma = 1.0 }, { weight = 0.5, dist = "constant", value = "0s" }] }"#,
        );
        let text = d.to_toml();
        assert!(text.starts_with("{ dist = \"mixture\""), "{text}");
        assert!(
            text.contains("{ dist = \"lognormal\", p50 = \"10s\", sigma = 1.0, weight = 0.5 }"),
            "{text}"
        );
        let back = spec::<SecondsUnit>(&text);
        assert_eq!(format!("{back:?}"), format!("{d:?}"));
    }
}
