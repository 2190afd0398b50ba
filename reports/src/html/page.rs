//! The page around every HTML output: the inline style sheet, [`page`], and the charts inlined
//! as SVG [`figures`]. No scripts and no external assets, so that a page reads the same
//! anywhere and can be pasted into a memo.

use std::fmt::Write as _;

use super::markup::esc;
use crate::charts::data::ChartRun;
use crate::charts::draw;
use crate::charts::kind::ChartKind;
use crate::error::ReportError;

const CSS: &str = r#"
:root { --ink:#1f2937; --muted:#646c7a; --line:#e5e7eb; --accent:#2563eb; --neg:#b91c1c; --pos:#15803d; --soft:#f8fafc; }
* { box-sizing: border-box; }
html { background: #eef0f3; }
body { margin: 0; color: var(--ink); font: 15px/1.55 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", "DejaVu Sans", sans-serif; }
main { max-width: 1080px; margin: 0 auto; background: #fff; padding: 44px 56px 56px; }
h1 { font-size: 30px; line-height: 1.2; margin: 4px 0 10px; letter-spacing: -0.01em; }
h2 { font-size: 20px; margin: 44px 0 14px; padding-bottom: 6px; border-bottom: 2px solid var(--ink); }
h3 { font-size: 13px; margin: 26px 0 6px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
p { margin: 8px 0; }
.kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 12px; color: var(--accent); font-weight: 600; margin: 0; }
.lede { font-size: 17px; margin: 0 0 6px; }
.meta, .note { color: var(--muted); font-size: 13px; }
.meta { margin: 0; }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; margin-top: 26px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; background: var(--soft); }
.card .label { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 25px; font-weight: 650; font-variant-numeric: tabular-nums; margin-top: 2px; }
.card .sub { font-size: 12.5px; color: var(--muted); }
.neg { color: var(--neg); }
.pos { color: var(--pos); }
.callout { border-left: 4px solid var(--accent); background: #eff6ff; padding: 12px 16px; margin: 14px 0; }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin: 6px 0 4px; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; border-bottom: 1.5px solid var(--ink); vertical-align: bottom; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.unit { color: var(--muted); padding-left: 0; }
tr.total td { font-weight: 650; border-top: 1.5px solid var(--ink); }
tbody th { font-weight: 500; }
table.kv { table-layout: fixed; }
table.kv th { width: 50%; font-weight: 500; }
table.kv td.num { width: 22%; }
.groups { display: grid; grid-template-columns: 1fr 1fr; gap: 0 36px; }
.groups h3:first-child { margin-top: 8px; }
table.params td:first-child { width: 32%; }
figure { margin: 30px 0 0; }
figure svg { width: 100%; height: auto; display: block; border: 1px solid var(--line); border-radius: 6px; }
figcaption { font-size: 12.5px; color: var(--muted); margin-top: 6px; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
pre.scenario { max-height: 480px; overflow-y: auto; }
details summary { cursor: pointer; color: var(--muted); font-size: 13px; margin-top: 8px; }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
footer { margin-top: 48px; font-size: 12.5px; color: var(--muted); border-top: 1px solid var(--line); padding-top: 12px; }
@media print { html { background: #fff; } main { padding: 0; max-width: none; } figure, table { break-inside: avoid; } }
"#;

/// A whole HTML document around `body`.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        esc(title)
    )
}

/// An SVG document as it goes inside HTML: without its XML header, which is not valid there.
pub fn inline_svg(svg: &str) -> &str {
    let svg = svg.trim_start_matches(|c| c != '<');
    let svg = match svg.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or(rest, |(_, r)| r),
        None => svg,
    };
    svg.trim()
}

/// The charts as `<figure>`s with inline SVG and a caption naming their data.
pub fn figures(runs: &[ChartRun]) -> Result<String, ReportError> {
    let mut s = String::new();
    for kind in ChartKind::ALL {
        let svg = draw::svg(kind, runs)?;
        let svg = inline_svg(&svg);
        let _ = write!(
            s,
            "<figure id=\"{}\" aria-label=\"{}\">\n{}\n<figcaption>Data: {}.</figcaption>\n</figure>\n",
            kind.name(),
            esc(kind.title()),
            svg.trim(),
            esc(kind.source())
        );
    }
    Ok(s)
}
