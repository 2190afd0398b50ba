//! What each output records of how it was made ([`tokenfleet_reports::manifest::Made`]): the
//! command line as typed, less the flags that change nothing in the output, and the scenario
//! after its overrides.

use std::ffi::OsString;

use anyhow::Result;
use tokenfleet_reports::manifest::Made;
use tokenfleet_scenario::Origin;

/// Flags whose value changes where the output goes or how fast it is made, never what it holds.
const LEFT_OUT: [&str; 2] = ["--out", "--threads"];

/// The command line of this process, quoted for a POSIX shell, as `tokenfleet ...`.
pub fn command_line() -> String {
    render(std::env::args_os().skip(1), &LEFT_OUT)
}

/// The command line of the whole run a shard is part of: without `--shard` either.
pub fn whole_command_line() -> String {
    render(
        std::env::args_os().skip(1),
        &["--out", "--threads", "--shard"],
    )
}

fn render(args: impl Iterator<Item = OsString>, left_out: &[&str]) -> String {
    let mut out = vec!["tokenfleet".to_string()];
    let mut skip_value = false;
    for a in args {
        let a = a.to_string_lossy().into_owned();
        if skip_value {
            skip_value = false;
            continue;
        }
        if left_out.contains(&a.as_str()) {
            skip_value = true;
            continue;
        }
        if left_out.iter().any(|f| a.starts_with(&format!("{f}="))) {
            continue;
        }
        out.push(quote(&a));
    }
    out.join(" ")
}

/// `s` as one shell word: bare when it is made of characters no shell treats specially,
/// else in single quotes.
fn quote(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./=:,+@%-".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The record of a command that ran one scenario (`origin` with `overrides`).
pub fn of_scenario(origin: &Origin, overrides: &[String]) -> Result<Made> {
    Ok(Made {
        command_line: command_line(),
        scenario_toml: Some(origin.as_run(overrides)?),
    })
}

/// The record of a command that rebuilt a scenario's outputs from its partial results
/// (`merge`): the whole run the shards were part of, with their overrides, so that the merged
/// output is the unsharded run's byte for byte.
pub fn of_source(source: &tokenfleet_reports::partial::ScenarioSource) -> Result<Made> {
    let origin = Origin {
        file: source.file.clone(),
        dir: source.dir.as_ref().map(std::path::PathBuf::from),
        text: source.text.clone(),
    };
    Ok(Made {
        command_line: source.command_line.clone(),
        scenario_toml: Some(origin.as_run(&source.overrides)?),
    })
}

/// The record of a command that ran no scenario of its own (`compare` of two directories).
pub fn of_command() -> Made {
    Made {
        command_line: command_line(),
        scenario_toml: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(args: &[&str]) -> String {
        render(args.iter().map(OsString::from), &LEFT_OUT)
    }

    #[test]
    fn leaves_out_where_and_how_fast_and_quotes_the_rest() {
        assert_eq!(
            line(&["run", "s.toml", "--threads", "4", "--out=x", "--seed", "7"]),
            "tokenfleet run s.toml --seed 7"
        );
        assert_eq!(
            line(&[
                "run",
                "--out",
                "/tmp/a b",
                "--set",
                "price.\"m\".blended=$1/M"
            ]),
            "tokenfleet run --set 'price.\"m\".blended=$1/M'"
        );
        assert_eq!(
            line(&["validate", "it's.toml", ""]),
            "tokenfleet validate 'it'\\''s.toml' ''"
        );
    }
}
