//! Quantities written as text, for the tools that rewrite them: split `"$2.50/h"` into its
//! prefix, number and suffix (`("$", 2.5, "/h")`), and write a number back in its shortest
//! form. `--set` scaling, sweep ranges (`$1/M..$3/M:5`) and the sweep report's numeric axis all
//! read values this way, so they agree on what counts as a number with a unit.

/// Splits "$2.50/h" into ("$", 2.5, "/h"); `None` without a number.
pub fn split_quantity(s: &str) -> Option<(String, f64, String)> {
    let start = s.find(|c: char| c.is_ascii_digit() || c == '.')?;
    let (prefix, rest) = s.split_at(start);
    if !prefix
        .trim()
        .chars()
        .all(|c| c == '$' || c == '-' || c == '+')
    {
        return None;
    }
    let mut end = 0;
    let b = rest.as_bytes();
    while end < b.len() && (b[end].is_ascii_digit() || b[end] == b'.' || b[end] == b'_') {
        end += 1;
    }
    if end < b.len() && (b[end] == b'e' || b[end] == b'E') {
        let mut j = end + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            end = j;
        }
    }
    let n: f64 = rest[..end].replace('_', "").parse().ok()?;
    Some((prefix.to_string(), n, rest[end..].to_string()))
}

/// The shortest text of a number that parses back to it.
pub fn fmt_number(x: f64) -> String {
    let s = format!("{x}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_prefix_number_and_suffix() {
        assert_eq!(
            split_quantity("$0.08/kWh"),
            Some(("$".to_string(), 0.08, "/kWh".to_string()))
        );
        assert_eq!(
            split_quantity("1e5"),
            Some((String::new(), 1e5, String::new()))
        );
        assert_eq!(
            split_quantity("1_000 agents"),
            Some((String::new(), 1000.0, " agents".to_string()))
        );
        assert_eq!(split_quantity("h200-sxm"), None);
        assert_eq!(fmt_number(3.0), "3");
        assert_eq!(fmt_number(0.25), "0.25");
    }
}
