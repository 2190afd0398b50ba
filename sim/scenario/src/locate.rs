//! Finds the line of a field path (`cluster.pool[0].hardware`) in scenario text, so that a
//! semantic error ("unknown hardware") points at the line to fix, like a parse error does.

use toml::de::{DeTable, DeValue};

/// The 1-based line where `path` is written, or the nearest enclosing item that is.
pub fn line_of(text: &str, path: &str) -> Option<usize> {
    let root = DeTable::parse(text).ok()?;
    let mut span = None;
    let mut table: Option<&DeTable> = Some(root.get_ref());
    let mut array: Option<&[toml::Spanned<DeValue>]> = None;
    for part in path.split('.') {
        let (key, idx) = match part.find('[') {
            Some(i) => (
                &part[..i],
                part[i + 1..].trim_end_matches(']').parse::<usize>().ok(),
            ),
            None => (part, None),
        };
        let value = if let Some(t) = table {
            t.iter().find(|(k, _)| k.get_ref() == key).map(|(_, v)| v)
        } else if let (Some(a), Ok(i)) = (array, key.parse::<usize>()) {
            a.get(i)
        } else {
            None
        };
        let Some(mut v) = value else { break };
        if let (Some(i), DeValue::Array(a)) = (idx, v.get_ref()) {
            match a.get(i) {
                Some(e) => v = e,
                None => break,
            }
        }
        span = Some(v.span());
        table = None;
        array = None;
        match v.get_ref() {
            DeValue::Table(t) => table = Some(t),
            DeValue::Array(a) => array = Some(a),
            _ => {}
        }
    }
    let start = span?.start;
    Some(text[..start.min(text.len())].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_and_array_fields() {
        let text = "name = \"x\"\n[fleet]\nagents = 5\n[[cluster.pool]]\nname = \"a\"\n[[cluster.pool]]\nname = \"b\"\nhardware = \"h1000\"\n";
        assert_eq!(line_of(text, "fleet.agents"), Some(3));
        assert_eq!(line_of(text, "cluster.pool[1].hardware"), Some(8));
        assert_eq!(
            line_of(text, "cluster.pool[1].missing"),
            line_of(text, "cluster.pool[1]")
        );
        assert_eq!(line_of(text, "nothing"), None);
    }
}
