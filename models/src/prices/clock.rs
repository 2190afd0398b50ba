//! Times of day as written in price periods and electricity tariffs ("16:30", UTC).

/// Why a time of day did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error("invalid time {0:?}; expected HH:MM (UTC)")]
    Malformed(String),
    #[error("invalid time {0:?}; expected HH:MM between 00:00 and 24:00")]
    OutOfRange(String),
}

/// Parses "HH:MM" (or "HH:MM:SS", optional trailing "Z") into minutes after midnight.
pub fn parse_clock(s: &str) -> Result<u32, ClockError> {
    let t = s.trim().trim_end_matches('Z');
    let mut parts = t.split(':');
    let h: u32 = parts
        .next()
        .and_then(|x| x.parse().ok())
        .ok_or_else(|| ClockError::Malformed(s.to_string()))?;
    let m: u32 = parts
        .next()
        .map_or(Ok(0), |x| x.parse())
        .map_err(|_| ClockError::Malformed(s.to_string()))?;
    if h > 24 || m > 59 || (h == 24 && m > 0) {
        return Err(ClockError::OutOfRange(s.to_string()));
    }
    Ok(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_parse_to_minutes_and_errors_say_what_is_accepted() {
        assert_eq!(parse_clock("16:30"), Ok(990));
        assert_eq!(parse_clock(" 00:30:00Z"), Ok(30));
        assert_eq!(parse_clock("24:00"), Ok(1440));
        assert_eq!(
            parse_clock("noon").unwrap_err().to_string(),
            "invalid time \"noon\"; expected HH:MM (UTC)"
        );
        assert_eq!(
            parse_clock("12:xx").unwrap_err().to_string(),
            "invalid time \"12:xx\"; expected HH:MM (UTC)"
        );
        assert_eq!(
            parse_clock("24:30").unwrap_err().to_string(),
            "invalid time \"24:30\"; expected HH:MM between 00:00 and 24:00"
        );
    }
}
