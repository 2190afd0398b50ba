//! Beyond one machine: shards run as separate processes and merge into the single run's bytes.

mod common;

use std::path::Path;

use assert_cmd::Command;

fn tokenfleet() -> Command {
    Command::cargo_bin("tokenfleet").unwrap()
}

/// Four cells (one replica each), so that three shards all get work but not evenly.
const SETS: [&str; 4] = [
    "--set",
    "engine.replicas_per_cell=1",
    "--set",
    "fleet.agents=400",
];

fn run(out: &Path, shard: Option<&str>) {
    let mut cmd = tokenfleet();
    cmd.arg("run")
        .arg(common::scenario_path("small.toml"))
        .args(SETS)
        .arg("--out")
        .arg(out);
    if let Some(s) = shard {
        cmd.args(["--shard", s]);
    }
    cmd.assert().success();
}

fn without_wall_clock(dir: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&common::read(&dir.join("summary.json"))).unwrap();
    let e = v["engine"].as_object_mut().unwrap();
    for k in ["wall_seconds", "events_per_second", "calls_per_second"] {
        e.remove(k);
    }
    v
}

#[test]
fn three_shard_processes_merge_into_the_single_run() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    for i in 0..3 {
        run(&t.join(format!("s{i}")), Some(&format!("{i}/3")));
        assert!(t.join(format!("s{i}/partial.json")).exists());
        assert!(
            !t.join(format!("s{i}/summary.json")).exists(),
            "a shard alone writes no report"
        );
    }
    run(&t.join("single"), None);
    // Shards merge in any order.
    tokenfleet()
        .arg("merge")
        .args([t.join("s2"), t.join("s0"), t.join("s1/partial.json")])
        .arg("--out")
        .arg(t.join("merged"))
        .assert()
        .success();
    for f in ["hourly.csv", "calls_sample.csv"] {
        assert!(
            common::read(&t.join("merged").join(f)) == common::read(&t.join("single").join(f)),
            "{f} differs between the merged shards and the single run"
        );
    }
    assert_eq!(
        without_wall_clock(&t.join("merged")),
        without_wall_clock(&t.join("single"))
    );

    // Merge refuses incomplete, duplicated and foreign shards.
    let fails = |args: Vec<std::path::PathBuf>, needle: &str| {
        let out = tokenfleet()
            .arg("merge")
            .args(&args)
            .arg("--out")
            .arg(t.join("x"))
            .assert()
            .failure();
        let e = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(e.contains(needle), "expected {needle:?} in: {e}");
    };
    fails(vec![t.join("s0"), t.join("s1")], "shard 2/3 is missing");
    fails(
        vec![t.join("s0"), t.join("s0"), t.join("s1")],
        "given twice",
    );
    let other = t.join("other");
    let mut cmd = tokenfleet();
    cmd.arg("run")
        .arg(common::scenario_path("small.toml"))
        .args(SETS)
        .args(["--seed", "5", "--shard", "1/3", "--out"])
        .arg(&other);
    cmd.assert().success();
    fails(vec![t.join("s0"), other, t.join("s2")], "different runs");
    fails(vec![t.join("nothing-here")], "nothing-here");
}

/// The deploy/ scripts run shards exactly as Slurm job arrays and Kubernetes Indexed Jobs would
/// (same environment variables), and their merge equals the single run.
#[test]
fn deploy_scripts_shard_under_slurm_and_kubernetes_environments() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let bin = assert_cmd::cargo::cargo_bin("tokenfleet");
    let deploy = common::root().join("deploy");
    let args = SETS.join(" ");
    run(&t.join("single"), None);
    for (engine, envs) in [
        ("slurm", vec![("SLURM_ARRAY_TASK_COUNT", "3")]),
        ("kubernetes", vec![("SHARDS", "3")]),
    ] {
        let run_dir = t.join(engine);
        for i in 0..3 {
            let index = i.to_string();
            let key = if engine == "slurm" {
                "SLURM_ARRAY_TASK_ID"
            } else {
                "JOB_COMPLETION_INDEX"
            };
            let status = std::process::Command::new("bash")
                .arg(deploy.join("shard.sh"))
                .env("TOKENFLEET", &bin)
                .env("SCENARIO", common::scenario_path("small.toml"))
                .env("RUN_DIR", &run_dir)
                .env("TOKENFLEET_ARGS", &args)
                .env(key, &index)
                .envs(envs.iter().copied())
                .status()
                .unwrap();
            assert!(status.success(), "{engine} shard {i}");
        }
        let status = std::process::Command::new("bash")
            .arg(deploy.join("merge.sh"))
            .env("TOKENFLEET", &bin)
            .env("RUN_DIR", &run_dir)
            .status()
            .unwrap();
        assert!(status.success(), "{engine} merge");
        for f in ["hourly.csv", "calls_sample.csv"] {
            assert!(
                common::read(&run_dir.join("merged").join(f))
                    == common::read(&t.join("single").join(f)),
                "{engine}: {f} differs from the single run"
            );
        }
    }
}
