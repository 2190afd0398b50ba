//! The reports a reader sees: report.html opens cleanly in a real browser (headless Chromium),
//! the charts' numbers are those of hourly.csv and summary.json, and `tokenfleet compare`
//! reads run directories back or refuses them with a clear message.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use tokenfleet_reports::charts::{self, ChartKind, ChartRun};
use tokenfleet_reports::{ReportContext, Summary, hourly};

fn tokenfleet() -> Command {
    Command::cargo_bin("tokenfleet").unwrap()
}

fn run_scenario(name: &str, out: &Path, args: &[&str]) {
    tokenfleet()
        .arg("run")
        .arg(common::scenario_path(name))
        .args(args)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

const CHROMIUM: &str = "/usr/bin/chromium";

/// The browser, or `None` (with the reason printed) when it is absent and the environment does
/// not require it. CI sets TOKENFLEET_REQUIRE_CHROMIUM so that it cannot skip silently.
fn chromium() -> Option<PathBuf> {
    let path =
        std::env::var_os("TOKENFLEET_CHROMIUM").map_or(PathBuf::from(CHROMIUM), PathBuf::from);
    if path.is_file() {
        return Some(path);
    }
    let required =
        std::env::var("TOKENFLEET_REQUIRE_CHROMIUM").is_ok_and(|v| !v.is_empty() && v != "0");
    assert!(
        !required,
        "{} is missing and TOKENFLEET_REQUIRE_CHROMIUM is set: install Debian's `chromium` \
         package (`apt-get install -y chromium`; .ci/run does it)",
        path.display()
    );
    eprintln!(
        "SKIPPED: {} not found, so report.html is not rendered in a browser (install Debian's \
         `chromium` package, or set TOKENFLEET_REQUIRE_CHROMIUM=1 to make this a failure)",
        path.display()
    );
    None
}

/// What the browser saw.
#[derive(Debug)]
struct PageCheck {
    /// Console messages Chromium logged (the report has no scripts, so any is a fault).
    console: Vec<String>,
    /// Load and script errors caught on the page.
    errors: Vec<String>,
    /// Images that did not load.
    broken: Vec<String>,
    /// Resources fetched over the network (a self-contained page fetches none).
    resources: Vec<String>,
    /// Inline SVGs of the figures: width, height, text elements.
    svgs: Vec<(f64, f64, u64)>,
}

/// Installed before the page's own content: records load and script errors.
const HEAD_PROBE: &str = "<script>window.__tfErrors=[];addEventListener('error',function(e){\
    __tfErrors.push(e.message||(e.target&&(e.target.src||e.target.href))||'error')},true);</script>";

/// Run after the page has loaded: writes what it found into the DOM for --dump-dom.
const BODY_PROBE: &str = "<script>addEventListener('load',function(){var r={\
    errors:__tfErrors,\
    broken:Array.from(document.images).filter(function(i){return !i.complete||i.naturalWidth===0}).map(function(i){return i.src}),\
    resources:performance.getEntriesByType('resource').map(function(e){return e.name}),\
    svgs:Array.from(document.querySelectorAll('figure svg')).map(function(s){var b=s.getBoundingClientRect();\
      return [b.width,b.height,s.querySelectorAll('text').length]})};\
    var p=document.createElement('pre');p.id='tf-check';p.textContent=JSON.stringify(r);\
    document.body.appendChild(p)});</script>";

/// Opens a copy of `html` (with the probes added) in headless Chromium and reports what it saw.
fn check_page(browser: &Path, html: &Path) -> PageCheck {
    let tmp = tempfile::tempdir().unwrap();
    let page = common::read(html);
    let page = page.replacen("<head>", &format!("<head>{HEAD_PROBE}"), 1);
    let page = match page.rfind("</body>") {
        Some(i) => format!("{}{BODY_PROBE}{}", &page[..i], &page[i..]),
        None => format!("{page}{BODY_PROBE}"),
    };
    // Beside the original, so that relative references resolve as they would for a reader.
    let copy = html.with_file_name(".tf-check.html");
    fs::write(&copy, page).unwrap();
    let (out, err) = (tmp.path().join("dom.html"), tmp.path().join("stderr.txt"));
    let mut child = Process::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!(
            "--user-data-dir={}",
            tmp.path().join("profile").display()
        ))
        .arg(format!("file://{}", copy.canonicalize().unwrap().display()))
        .stdout(Stdio::from(fs::File::create(&out).unwrap()))
        .stderr(Stdio::from(fs::File::create(&err).unwrap()))
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = fs::remove_file(&copy);
    let dom = common::read(&out);
    let stderr = common::read(&err);
    assert!(status.success(), "chromium failed ({status}): {stderr}");
    let json = dom
        .split_once("<pre id=\"tf-check\">")
        .and_then(|(_, rest)| rest.split_once("</pre>"))
        .map(|(j, _)| {
            j.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .unwrap_or_else(|| panic!("the page probe did not run; chromium said: {stderr}"));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let strings = |k: &str| -> Vec<String> {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap_or("?").to_string())
            .collect()
    };
    PageCheck {
        console: stderr
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .map(str::to_string)
            .collect(),
        errors: strings("errors"),
        broken: strings("broken"),
        resources: strings("resources"),
        svgs: v["svgs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s[0].as_f64().unwrap(),
                    s[1].as_f64().unwrap(),
                    s[2].as_u64().unwrap(),
                )
            })
            .collect(),
    }
}

#[test]
fn report_html_renders_in_chromium_without_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("multi");
    // Three pools, two models, owned and rented hardware: every chart draws several series.
    run_scenario("multi-pool.toml", &out, &[]);
    let html = out.join("report.html");
    let text = common::read(&html);
    // Self-contained by construction: no scripts, no links, no external references.
    for banned in [
        "<script", "<link", "<img", "<iframe", "src=", "url(", "@import",
    ] {
        assert!(!text.contains(banned), "report.html contains {banned:?}");
    }
    assert_eq!(
        text.matches("<figure").count(),
        ChartKind::ALL.len(),
        "every chart is inlined"
    );
    let Some(browser) = chromium() else { return };
    let seen = check_page(&browser, &html);
    assert!(
        seen.console.is_empty(),
        "console messages: {:?}",
        seen.console
    );
    assert!(seen.errors.is_empty(), "page errors: {:?}", seen.errors);
    assert!(seen.broken.is_empty(), "broken images: {:?}", seen.broken);
    assert!(
        seen.resources.is_empty(),
        "external resources: {:?}",
        seen.resources
    );
    assert_eq!(seen.svgs.len(), ChartKind::ALL.len(), "{:?}", seen.svgs);
    for (w, h, texts) in &seen.svgs {
        assert!(
            *w > 400.0 && *h > 150.0,
            "a chart is drawn too small: {w}x{h}"
        );
        assert!(
            *texts > 10,
            "a chart has almost no text (titles, axes): {texts}"
        );
    }
}

#[test]
fn the_browser_check_catches_a_broken_page() {
    // The check above must be able to fail: a page with a missing image, a script error and a
    // console message trips every probe.
    let Some(browser) = chromium() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.html");
    fs::write(
        &bad,
        "<!DOCTYPE html><html><head><title>bad</title></head><body>\
         <img src=\"missing.png\"><script>console.error('boom'); nosuchfunction();</script>\
         </body></html>",
    )
    .unwrap();
    let seen = check_page(&browser, &bad);
    assert!(!seen.console.is_empty(), "{seen:?}");
    assert!(
        seen.errors.iter().any(|e| e.contains("nosuchfunction")),
        "{seen:?}"
    );
    assert!(
        seen.broken.iter().any(|b| b.ends_with("missing.png")),
        "{seen:?}"
    );
}

#[test]
fn charts_plot_the_numbers_of_hourly_csv_and_summary_json() {
    let setup = common::setup("small.toml", &[]);
    let run = common::run(&setup, 2);
    let summary = Summary::new(&setup, &run);
    let ctx = ReportContext {
        setup: &setup,
        run: &run,
        summary: &summary,
        made: &Default::default(),
    };
    let chart = ChartRun::of(&ctx);
    // The charts' rows are hourly.csv's rows.
    assert_eq!(chart.rows, hourly::rows(&setup, &run));
    // Hourly sums agree with the headline figures (each row is rounded to a micro-dollar).
    let tol = 1e-6 * chart.rows.len() as f64 + 1e-9;
    let sum = |f: fn(&hourly::HourRow) -> f64| chart.rows.iter().map(f).sum::<f64>();
    assert!((sum(|r| r.revenue_itemized_usd) - summary.revenue_usd.itemized).abs() <= tol);
    assert!((sum(|r| r.revenue_blended_usd) - summary.revenue_usd.blended).abs() <= tol);
    assert!((sum(|r| r.cost_total_usd) - summary.cost_usd.total).abs() <= tol);
    assert_eq!(
        chart.rows.iter().map(|r| r.input_cached).sum::<u64>(),
        summary.tokens.input_cached
    );
    // The histogram holds every simulated agent once.
    assert_eq!(
        chart.daily_tokens.iter().map(|b| b.agents).sum::<u64>(),
        run.agent_days.len() as u64
    );
    let share: f64 = chart.daily_tokens.iter().map(|b| b.share).sum();
    assert!((share - 1.0).abs() < 1e-4, "shares sum to {share}");
    // Every chart draws, as an SVG document and as a deterministic PNG.
    for kind in ChartKind::ALL {
        let svg = charts::svg(kind, std::slice::from_ref(&chart)).unwrap();
        assert!(svg.trim_start().starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains(kind.title()), "{} has its title", kind.name());
        let png = charts::png(kind, std::slice::from_ref(&chart)).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let (w, h) = kind.size();
        let be = |i: usize| u32::from_be_bytes(png[i..i + 4].try_into().unwrap());
        assert_eq!(
            (be(16), be(20)),
            (
                (w as f64 * charts::PNG_SCALE) as u32,
                (h as f64 * charts::PNG_SCALE) as u32
            )
        );
        assert!(
            png == charts::png(kind, std::slice::from_ref(&chart)).unwrap(),
            "{} PNG is deterministic",
            kind.name()
        );
    }
}

#[test]
fn compare_reads_runs_and_scenarios_and_writes_the_overlay() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_scenario("small.toml", &a, &[]);
    run_scenario("small.toml", &b, &["--set", "fleet.agents=450"]);
    let out = tmp.path().join("cmp");
    let assert = tokenfleet()
        .arg("compare")
        .arg(&a)
        .arg(&b)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    // One scenario twice: the runs are told apart by their directories.
    assert!(
        stdout.contains("A: a") && stdout.contains("B: b"),
        "{stdout}"
    );
    let agents = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("agents"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        agents.contains("+150") && agents.contains("+50.0%"),
        "{agents}"
    );
    let csv = common::read(&out.join("compare.csv"));
    assert_eq!(
        csv.lines().count(),
        1 + tokenfleet_reports::compare::FIGURES.len()
    );
    assert!(common::read(&out.join("compare.html")).contains("<svg"));
    for kind in ChartKind::ALL {
        let (svg, png) = kind.files();
        assert!(out.join(svg).is_file() && out.join(png).is_file(), "{svg}");
    }

    // A scenario file is run first, into the comparison's directory.
    let out2 = tmp.path().join("cmp2");
    tokenfleet()
        .arg("compare")
        .arg(common::scenario_path("small.toml"))
        .arg(&a)
        .arg("--out")
        .arg(&out2)
        .assert()
        .success();
    assert!(out2.join("a/report.html").is_file());
    // Same scenario and seed: the same headline figures.
    let csv = common::read(&out2.join("compare.csv"));
    for line in csv.lines().skip(1) {
        // (Labels may be quoted and hold commas: count from the end.)
        let cells: Vec<&str> = line.rsplitn(5, ',').collect();
        assert_eq!(cells[3], cells[2], "{line}");
    }
}

fn compare_err(a: &Path, b: &Path) -> String {
    let out = tokenfleet()
        .arg("compare")
        .arg(a)
        .arg(b)
        .arg("--out")
        .arg(a.parent().unwrap().join("cmp-out"))
        .assert()
        .failure();
    let e = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(!e.contains("panicked"), "{e}");
    e
}

#[test]
fn compare_refuses_directories_it_would_misread() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good");
    run_scenario("small.toml", &good, &[]);
    let copy = |name: &str| {
        let d = tmp.path().join(name);
        fs::create_dir_all(d.join("charts")).unwrap();
        for f in fs::read_dir(&good)
            .unwrap()
            .chain(fs::read_dir(good.join("charts")).unwrap())
        {
            let p = f.unwrap().path();
            if p.is_file() {
                let rel = p.strip_prefix(&good).unwrap();
                fs::copy(&p, d.join(rel)).unwrap();
            }
        }
        d
    };

    let e = compare_err(&tmp.path().join("nope"), &good);
    assert!(
        e.contains("nope") && e.contains("no such run directory"),
        "{e}"
    );

    let no_manifest = copy("no-manifest");
    fs::remove_file(no_manifest.join("manifest.json")).unwrap();
    let e = compare_err(&no_manifest, &good);
    assert!(e.contains("manifest.json") && e.contains("missing"), "{e}");

    let future = copy("future");
    let m = common::read(&future.join("manifest.json")).replace("\"format\": 2", "\"format\": 99");
    fs::write(future.join("manifest.json"), m).unwrap();
    let e = compare_err(&good, &future);
    assert!(
        e.contains("manifest.json") && e.contains("format 99"),
        "{e}"
    );

    let old_csv = copy("old-csv");
    let text = common::read(&old_csv.join("hourly.csv"));
    let kept: Vec<String> = text
        .lines()
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            // Drop the prefix_hit_rate column, as an older version would not have it.
            let i = text
                .lines()
                .next()
                .unwrap()
                .split(',')
                .position(|c| c == "prefix_hit_rate")
                .unwrap();
            cells
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, c)| *c)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    fs::write(old_csv.join("hourly.csv"), kept.join("\n")).unwrap();
    // Changed after the run wrote it: refused by its size against the manifest, before the
    // reader could misread a column.
    let e = compare_err(&good, &old_csv);
    assert!(
        e.contains("hourly.csv") && e.contains("bytes, but manifest.json lists"),
        "{e}"
    );

    let no_summary_field = copy("no-field");
    let s = common::read(&no_summary_field.join("summary.json"))
        .replace("\"margin_usd\"", "\"margin_usd_renamed\"");
    fs::write(no_summary_field.join("summary.json"), s).unwrap();
    let e = compare_err(&good, &no_summary_field);
    assert!(
        e.contains("summary.json") && e.contains("bytes, but manifest.json lists"),
        "{e}"
    );
    // The same size, other bytes: refused by the SHA-256.
    let edited = copy("edited");
    let s = common::read(&edited.join("summary.json")).replacen('1', "2", 1);
    fs::write(edited.join("summary.json"), s).unwrap();
    let e = compare_err(&good, &edited);
    assert!(
        e.contains("summary.json") && e.contains("SHA-256 differs"),
        "{e}"
    );

    // --out must not replace a directory being compared.
    let out = tokenfleet()
        .arg("compare")
        .arg(&good)
        .arg(&good)
        .arg("--out")
        .arg(&good)
        .assert()
        .failure();
    let e = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(e.contains("an input of this command"), "{e}");
    assert!(good.join("summary.json").is_file());
}

/// Energy bought with the rent is said to be, not shown as "$0.00" (issue 22, item 5): in the
/// terminal and on the report's card and table, for a rented cluster and for a mixed one.
#[test]
fn energy_in_rent_is_said_not_shown_as_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |scenario: &str, out: &Path| {
        let o = tokenfleet()
            .arg("run")
            .arg(common::scenario_path(scenario))
            .args(["--sample", "0.05", "--out"])
            .arg(out)
            .assert()
            .success();
        String::from_utf8(o.get_output().stdout.clone()).unwrap()
    };
    let out = tmp.path().join("rented");
    let stdout = run("small.toml", &out);
    assert!(
        stdout.contains("hardware + energy included in rent"),
        "{stdout}"
    );
    assert!(!stdout.contains("$0.00 energy"), "{stdout}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("hardware + energy included in rent"));
    assert!(html.contains("Cost, energy</th><td class=\"num\">included in rent<"));
    // Owned consumer cards beside rented H100s: the owners' energy is a real amount.
    let stdout = run("multi-pool.toml", &tmp.path().join("mixed"));
    assert!(
        stdout.contains("energy (owned pools; rented pools' energy is in their rent)"),
        "{stdout}"
    );
}
