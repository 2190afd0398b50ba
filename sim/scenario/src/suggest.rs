//! Messages that say what is accepted: the closest candidate to a typo, and serde's wording
//! translated for a scenario's author.
//!
//! Kept apart from the file format so that presets, resolution and loading can all suggest a
//! name without importing one another.

/// Makes serde's messages say what is accepted: a "did you mean" for unknown fields, and
/// words for Rust's integer types.
pub(crate) fn explain(msg: &str) -> String {
    let mut out = suggest_unknown_field(msg);
    for (ty, words) in [
        ("u32", "a whole number from 0 to 4294967295"),
        ("u64", "a whole number from 0 to 18446744073709551615"),
        ("i32", "a whole number (e.g. a time zone from -12 to 14)"),
        ("usize", "a whole number"),
    ] {
        let rust = format!("expected {ty}");
        if out.ends_with(&rust) || out.contains(&format!("{rust}\n")) {
            out = out.replace(&rust, &format!("expected {words}"));
        }
    }
    // Serde names Rust types; a scenario's author knows tables and lists.
    if let Some(i) = out.find("expected struct ") {
        let name_end = out[i + 16..]
            .find(|c: char| !c.is_alphanumeric())
            .map_or(out.len(), |j| i + 16 + j);
        out.replace_range(i..name_end, "expected a table");
    }
    for (rust, words) in [
        ("invalid type: sequence", "invalid type: a list"),
        ("invalid type: map", "invalid type: a table"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected a table"),
    ] {
        out = out.replace(rust, words);
    }
    if out.contains("missing field `") && !out.contains("accepted") {
        out = out.trim_end().to_string();
        out.push_str(" (a required field; see the skeleton in README.md, or scenarios/small.toml)");
    }
    out
}

/// Adds a "did you mean" to serde's "unknown field `x`, expected one of `a`, `b`" messages
/// (and to its "unknown variant" ones).
fn suggest_unknown_field(msg: &str) -> String {
    let Some((start, tag)) = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|tag| msg.find(tag).map(|i| (i, *tag)))
    else {
        return msg.to_string();
    };
    let rest = &msg[start + tag.len()..];
    let Some(end) = rest.find('`') else {
        return msg.to_string();
    };
    let field = &rest[..end];
    // The candidates end with the line: toml's message may go on with a source excerpt.
    let line_end = rest.find('\n').unwrap_or(rest.len()).max(end);
    let expected: Vec<&str> = rest[end..line_end].split('`').skip(2).step_by(2).collect();
    match closest(field, &expected) {
        Some(s) => format!("{} (did you mean `{s}`?)", msg.trim_end()),
        None => msg.to_string(),
    }
}

/// The candidate closest to `word` by edit distance, if close enough to be a typo.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_suggests_typos_only() {
        assert_eq!(
            closest("replica", &["replicas", "router"]),
            Some("replicas")
        );
        assert_eq!(closest("zzzzzz", &["replicas", "router"]), None);
    }
}
