//! Finds the line of a value (`[2].requests[3].in`) in JSON text, so that an error in a
//! pretty-printed session file points at the request to fix rather than at the document's
//! first line. serde_json keeps no positions for values; this scans the text once more.
//!
//! The text has already parsed as JSON when this runs; on anything unexpected it gives up
//! (`None`) rather than guess, and it never panics.

/// A step of a path: an object key or an array index.
#[derive(Debug, Clone, PartialEq)]
enum Step<'p> {
    Key(&'p str),
    Index(usize),
}

/// Splits `requests[3].in` (or `[2].requests`) into steps.
fn steps(path: &str) -> Option<Vec<Step<'_>>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if !key.is_empty() {
            out.push(Step::Key(key));
        }
        while let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            out.push(Step::Index(r[..end].parse().ok()?));
            rest = &r[end + 1..];
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(out)
}

struct Scan<'t> {
    b: &'t [u8],
    i: usize,
}

impl Scan<'_> {
    fn ws(&mut self) {
        while self.b.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Skips a string starting at its opening quote; returns where its raw contents are.
    fn string(&mut self) -> Option<std::ops::Range<usize>> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.i + 1;
        let mut j = start;
        loop {
            match *self.b.get(j)? {
                b'\\' => j += 2,
                b'"' => break,
                _ => j += 1,
            }
        }
        self.i = j + 1;
        Some(start..j)
    }

    /// Skips one value of any kind (nested at most as deep as serde_json reads).
    fn value(&mut self, depth: u32) -> Option<()> {
        if depth > 128 {
            return None;
        }
        self.ws();
        match self.peek()? {
            b'"' => self.string().map(drop),
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                self.i += 1;
                self.ws();
                if self.peek()? == close {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.ws();
                    if open == b'{' {
                        self.string()?;
                        self.ws();
                        if self.peek()? != b':' {
                            return None;
                        }
                        self.i += 1;
                    }
                    self.value(depth + 1)?;
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        c if c == close => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            _ => {
                while self
                    .peek()
                    .is_some_and(|c| !matches!(c, b',' | b'}' | b']') && !c.is_ascii_whitespace())
                {
                    self.i += 1;
                }
                Some(())
            }
        }
    }

    /// Moves to the start of member `step` of the container at the cursor.
    fn enter(&mut self, step: &Step) -> Option<()> {
        self.ws();
        match (self.peek()?, step) {
            (b'{', Step::Key(key)) => {
                self.i += 1;
                loop {
                    self.ws();
                    if self.peek()? == b'}' {
                        return None;
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.i += 1;
                    self.ws();
                    if self.b.get(k) == Some(key.as_bytes()) {
                        return Some(());
                    }
                    self.value(0)?;
                    self.ws();
                    if self.peek()? == b',' {
                        self.i += 1;
                    }
                }
            }
            (b'[', Step::Index(n)) => {
                self.i += 1;
                for _ in 0..*n {
                    self.value(0)?;
                    self.ws();
                    if self.peek()? != b',' {
                        return None;
                    }
                    self.i += 1;
                }
                self.ws();
                (self.peek()? != b']').then_some(())
            }
            _ => None,
        }
    }
}

/// The 1-based line where the value at `path` starts in `text`, or where the nearest
/// enclosing value that can be found starts.
pub fn line_of(text: &str, path: &str) -> Option<usize> {
    let steps = steps(path)?;
    let mut s = Scan {
        b: text.as_bytes(),
        i: 0,
    };
    s.ws();
    let mut at = s.i;
    for step in &steps {
        if s.enter(step).is_none() {
            break;
        }
        at = s.i;
    }
    let before = text.as_bytes().get(..at)?;
    Some(before.iter().filter(|&&c| c == b'\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_and_elements_in_pretty_printed_json() {
        let text = "{\n  \"id\": \"a \\\" b\",\n  \"requests\": [\n    {\"t\": 0, \"in\": 5},\n    {\"t\": 1,\n     \"in\": \"x\"},\n    {\"type\": \"subagent\", \"requests\": [\n      {\"in\": 1}\n    ]}\n  ]\n}\n";
        assert_eq!(line_of(text, "requests"), Some(3));
        assert_eq!(line_of(text, "requests[0]"), Some(4));
        assert_eq!(line_of(text, "requests[1].in"), Some(6));
        assert_eq!(line_of(text, "requests[2].requests[0].in"), Some(8));
        // Missing members fall back to the nearest enclosing value.
        assert_eq!(line_of(text, "requests[1].out"), Some(5));
        assert_eq!(line_of(text, "requests[9]"), Some(3));
        let array = "[\n{\"requests\": []},\n{\"requests\":\n [1]}\n]";
        assert_eq!(line_of(array, "[1].requests[0]"), Some(4));
        // Broken or unusual text gives up quietly.
        assert_eq!(line_of("{\"a\": [1, 2", "a[5]"), Some(1));
        assert_eq!(line_of("", "a"), Some(1));
        assert_eq!(line_of("{}", "a[x]"), None);
    }
}
