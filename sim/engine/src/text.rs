//! Text in and out: user files read as UTF-8 with an error that says where they stop being
//! UTF-8, and numbers written for messages.

/// Where a file stops being UTF-8: its 1-based line and byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotUtf8 {
    pub line: usize,
    pub byte: usize,
}

/// The bytes as a `String`, or where the first invalid byte is.
pub fn utf8(bytes: Vec<u8>) -> Result<String, NotUtf8> {
    String::from_utf8(bytes).map_err(|e| {
        let byte = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..byte].iter().filter(|&&b| b == b'\n').count() + 1;
        NotUtf8 { line, byte }
    })
}

/// A number for a message: plain when ordinary, in e-notation when huge or tiny (a corrupt
/// value should not print 300 digits).
pub fn num(x: f64) -> String {
    if x == 0.0 || (1e-3..1e7).contains(&x.abs()) {
        format!("{}", (x * 1000.0).round() / 1000.0)
    } else {
        format!("{x:.3e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_line_and_byte_of_the_first_invalid_byte() {
        assert_eq!(utf8(b"a\nb\n".to_vec()).as_deref(), Ok("a\nb\n"));
        assert_eq!(
            utf8(b"a = 1\nb = \"\xff\"\n".to_vec()),
            Err(NotUtf8 { line: 2, byte: 11 })
        );
    }
}
