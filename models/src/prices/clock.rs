//! Times of day as written in price periods and electricity tariffs ("16:30", UTC).

/// Parses "HH:MM" (or "HH:MM:SS", optional trailing "Z") into minutes after midnight.
pub fn parse_clock(s: &str) -> Result<u32, String> {
    let t = s.trim().trim_end_matches('Z');
    let mut parts = t.split(':');
    let h: u32 = parts
        .next()
        .and_then(|x| x.parse().ok())
        .ok_or_else(|| format!("invalid time {s:?}; expected HH:MM (UTC)"))?;
    let m: u32 = parts
        .next()
        .map_or(Ok(0), |x| x.parse())
        .map_err(|_| format!("invalid time {s:?}; expected HH:MM (UTC)"))?;
    if h > 24 || m > 59 || (h == 24 && m > 0) {
        return Err(format!(
            "invalid time {s:?}; expected HH:MM between 00:00 and 24:00"
        ));
    }
    Ok(h * 60 + m)
}
