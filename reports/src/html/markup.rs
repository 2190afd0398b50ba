//! The small pieces of HTML that report.html, compare.html and the sweep, sensitivity and plan
//! reports share: escaping, tables (with a header row, or of labels and values) and how
//! numbers read in them (money, rates, shares, seconds).

use std::fmt::Write as _;

use crate::table::money;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Column alignment: text left, numbers right.
#[derive(Clone, Copy, PartialEq)]
pub enum Align {
    L,
    R,
}

/// A table with a header row; cells are HTML already (escape text with [`esc`]). Rows whose
/// first cell starts with `"\u{1}"` are drawn as totals (the marker is removed).
pub fn table(head: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    classed_table("", head, rows)
}

/// [`table`] with a CSS class.
pub fn classed_table(class: &str, head: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    let mut s = if class.is_empty() {
        String::from("<table>\n<thead><tr>")
    } else {
        format!("<table class=\"{class}\">\n<thead><tr>")
    };
    for (h, a) in head {
        let class = if *a == Align::R { " class=\"num\"" } else { "" };
        let _ = write!(s, "<th{class}>{h}</th>");
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        let (total, first) = match row.first().and_then(|c| c.strip_prefix('\u{1}')) {
            Some(rest) => (true, rest.to_string()),
            None => (false, row.first().cloned().unwrap_or_default()),
        };
        s.push_str(if total {
            "<tr class=\"total\">"
        } else {
            "<tr>"
        });
        for (i, (h, a)) in head.iter().enumerate() {
            let _ = h;
            let cell = if i == 0 {
                first.as_str()
            } else {
                row.get(i).map_or("", String::as_str)
            };
            let class = if *a == Align::R { " class=\"num\"" } else { "" };
            let _ = write!(s, "<td{class}>{cell}</td>");
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody>\n</table>\n");
    s
}

/// A two-column table of labels and values (values right-aligned, with a unit column).
pub fn kv_table(rows: &[Row]) -> String {
    let mut s = String::from("<table class=\"kv\">\n<tbody>\n");
    for (k, v, unit) in rows {
        let _ = writeln!(
            s,
            "<tr><th>{k}</th><td class=\"num\">{v}</td><td class=\"unit\">{unit}</td></tr>"
        );
    }
    s.push_str("</tbody>\n</table>\n");
    s
}

/// "$1.23M"; negative amounts with a typographic minus and in red.
pub fn signed_money(x: f64) -> String {
    if x < 0.0 {
        format!("<span class=\"neg\">−{}</span>", esc(&money(-x)))
    } else {
        esc(&money(x))
    }
}

pub fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A dollar rate with the digits that matter: "$1.40", "$0.30", "$0.375", "$0.0463",
/// "$0.00012" (at least two decimals, up to three significant digits below a cent).
pub fn rate(x: f64) -> String {
    let a = x.abs();
    let decimals = if a >= 0.01 || a == 0.0 {
        4
    } else {
        (2 - a.log10().floor() as i32).clamp(4, 12) as usize
    };
    let mut s = format!("{a:.decimals$}");
    while s.ends_with('0') && s.len() - s.find('.').unwrap_or(0) > 3 {
        s.pop();
    }
    let sign = if x < 0.0 { "−" } else { "" };
    format!("{sign}${s}")
}

pub fn secs(x: f64) -> String {
    if x < 1.0 {
        format!("{:.0} ms", x * 1e3)
    } else {
        format!("{x:.2} s")
    }
}

/// A row of a [`kv_table`]: label, value, unit (all HTML).
pub type Row = (String, String, String);

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn rates_and_money_read_well() {
        assert_eq!(rate(1.4), "$1.40");
        assert_eq!(rate(0.3), "$0.30");
        assert_eq!(rate(0.375), "$0.375");
        assert_eq!(rate(0.0463), "$0.0463");
        assert_eq!(rate(0.03), "$0.03");
        assert_eq!(rate(0.000123), "$0.000123");
        assert_eq!(rate(0.0), "$0.00");
        assert_eq!(
            signed_money(-2_740_000.0),
            "<span class=\"neg\">−$2.74M</span>"
        );
        assert_eq!(esc("<a & 'b'>"), "&lt;a &amp; &#39;b&#39;&gt;");
    }
}
