//! What a newcomer reads in the outputs (issue 22): each output says what was run, a plan's
//! table and its answer are the same verified figures, a sweep's axes read in the units of
//! their data, a trace replay is reported per request and per trace-hour, and `perf` takes
//! what the scenarios take. Each test runs the real binary.

mod common;

use std::path::Path;

use assert_cmd::Command;

fn tokenfleet() -> Command {
    Command::cargo_bin("tokenfleet").unwrap()
}

fn small() -> String {
    common::scenario_path("small.toml")
        .to_str()
        .unwrap()
        .to_string()
}

fn run(out: &Path, args: &[&str]) -> String {
    let o = tokenfleet()
        .args(["run", &small()])
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stderr).unwrap()
}

#[test]
fn a_run_directory_says_what_was_run_and_reproduces_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let set = "cluster.pool.h100.replicas=2";
    run(&a, &["--set", set, "--threads", "2"]);

    // The command line, less --out and --threads (which change nothing in the output).
    let manifest: serde_json::Value =
        serde_json::from_str(&common::read(&a.join("manifest.json"))).unwrap();
    let line = format!("tokenfleet run {} --set {set}", small());
    assert_eq!(manifest["command_line"], line.as_str());
    let html = common::read(&a.join("report.html"));
    assert!(
        html.contains(&format!("<code>{line}</code>")),
        "report.html lacks the command"
    );
    assert!(html.contains("The scenario as run"));

    // The effective scenario, overrides applied: running it again gives the same run.
    let toml = common::read(&a.join("scenario.toml"));
    assert!(toml.contains(&format!("--set {set}")), "{toml}");
    let table: toml::Table = toml.parse().unwrap();
    assert_eq!(
        table["cluster"]["pool"][0]["replicas"].as_integer(),
        Some(2),
        "{toml}"
    );
    let again = tmp.path().join("again");
    tokenfleet()
        .arg("run")
        .arg(a.join("scenario.toml"))
        .arg("--out")
        .arg(&again)
        .assert()
        .success();
    for f in ["hourly.csv", "calls_sample.csv"] {
        assert!(
            common::read(&a.join(f)) == common::read(&again.join(f)),
            "{f}: scenario.toml does not reproduce the run"
        );
    }

    // compare shows each side's command, not only the scenario's (now stale) description.
    run(&b, &[]);
    let cmp = tmp.path().join("cmp");
    tokenfleet()
        .arg("compare")
        .args([&a, &b])
        .arg("--out")
        .arg(&cmp)
        .assert()
        .success();
    let page = common::read(&cmp.join("compare.html"));
    assert!(
        page.contains(&format!("ran as <code>{line}</code>")),
        "{page}"
    );

    // Replacing an output of another command line says so.
    let note = run(&b, &["--set", set]);
    assert!(
        note.contains("note: replacing") && note.contains("(give --out to keep both)"),
        "{note}"
    );
    let same = run(&b, &["--set", set]);
    assert!(!same.contains("note: replacing"), "{same}");
}
