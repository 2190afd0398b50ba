//! "What was run": the section every HTML output ends with, so that a page pasted into a memo
//! says which command and which scenario (after its overrides) produced its figures.

use std::fmt::Write as _;

use super::markup::esc;
use crate::manifest::{Made, SCENARIO_FILE};

/// The section, or nothing when the command line is not known.
pub fn render(made: &Made) -> String {
    if made.command_line.is_empty() {
        return String::new();
    }
    let mut s = String::from("<section id=\"made\">\n<h2>What was run</h2>\n");
    let _ = writeln!(
        s,
        "<pre class=\"command\"><code>{}</code></pre>",
        esc(&made.command_line)
    );
    if let Some(toml) = &made.scenario_toml {
        let _ = writeln!(
            s,
            "<details><summary>The scenario as run, after every override \
             (<code>{SCENARIO_FILE}</code> beside this page)</summary>\n\
             <pre class=\"scenario\"><code>{}</code></pre></details>",
            esc(toml)
        );
    }
    s.push_str("</section>\n");
    s
}
