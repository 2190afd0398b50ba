//! The economics: the brief's seed figures, price sets and imports, hardware and energy cost,
//! lost revenue and SLA refunds.

mod common;

use std::path::PathBuf;

use tokenfleet_models::Money;
use tokenfleet_reports::Summary;
use tokenfleet_scenario::Origin;
use tokenfleet_scenario::Scenario;

fn setup_text(text: &str, dir: Option<PathBuf>) -> tokenfleet_setup::Setup {
    let origin = Origin {
        file: "test.toml".into(),
        dir,
        text: text.into(),
    };
    Scenario::from_text(&origin, &[])
        .unwrap()
        .resolve(&origin)
        .unwrap()
}

fn within(actual: f64, target: f64, tol: f64) -> bool {
    (actual / target - 1.0).abs() <= tol
}

/// The default scenario reproduces the brief's per-agent-day bills at its blended prices:
/// $900-3,000 at Opus's $30/M and $42-140 at MiniMax's $1.40/M (the fleet's p10 and p90
/// agents), within 5%.
#[test]
fn default_scenario_reproduces_the_briefs_seed_figures() {
    let (s, origin) = Scenario::load(None, &["engine.sample=0.003".to_string()]).unwrap();
    let setup = s.resolve(&origin).unwrap();
    let out = common::run(&setup, 2);
    assert!(
        out.agents_simulated >= 2_000,
        "enough agents for p10/p90: {}",
        out.agents_simulated
    );
    let summary = Summary::new(&setup, &out);
    let sheets = &summary.economics.price_sheets;
    let opus = sheets
        .iter()
        .find(|p| p.name.contains("Opus"))
        .expect("an Opus price set");
    let minimax = sheets
        .iter()
        .find(|p| p.name.contains("MiniMax"))
        .expect("a MiniMax price set");
    let d = opus
        .usd_per_agent_day
        .as_ref()
        .expect("a fleet has agent-days");
    assert!(
        within(d.p10.blended, 900.0, 0.05),
        "Opus p10 ${}",
        d.p10.blended
    );
    assert!(
        within(d.p90.blended, 3000.0, 0.05),
        "Opus p90 ${}",
        d.p90.blended
    );
    let d = minimax
        .usd_per_agent_day
        .as_ref()
        .expect("a fleet has agent-days");
    assert!(
        within(d.p10.blended, 42.0, 0.05),
        "MiniMax p10 ${}",
        d.p10.blended
    );
    assert!(
        within(d.p90.blended, 140.0, 0.05),
        "MiniMax p90 ${}",
        d.p90.blended
    );
    // The itemized view (cached input priced as cached) is an order of magnitude below.
    let o = opus.usd_per_agent_day.as_ref().unwrap();
    assert!(o.p50.itemized < o.p50.blended / 10.0);
    // The brief's $360B a year is set beside the simulated fleet's figure.
    let r = &summary.economics.references[0];
    assert_eq!(r.usd_per_year, Some(360e9));
    assert_eq!(r.price_set, opus.name);
    assert!(
        r.simulated_usd_per_year.blended > 360e9,
        "a full fleet's mean agent spends above the brief's low end"
    );
}

#[test]
fn every_price_set_prices_the_same_traffic() {
    let setup = common::setup("small.toml", &[]);
    let base = common::run(&setup, 1);
    // Add a what-if set: the billed figures must not move, and the what-if must equal the same
    // tokens priced by its sheet.
    let mut text = common::read(&common::scenario_path("small.toml"));
    text.push_str("\n[[price]]\nname = \"double\"\nmodel = \"llama-3.1-8b\"\ninput = \"$0.20/M\"\ncached_input = \"$0.04/M\"\noutput = \"$0.40/M\"\nblended = \"$0.24/M\"\n");
    let two = setup_text(&text, None);
    assert_eq!(
        two.price_sets,
        vec!["list".to_string(), "double".to_string()]
    );
    let out = common::run(&two, 1);
    assert_eq!(
        out.tally, base.tally,
        "pricing does not change the simulation"
    );
    let t = out.ledger.total();
    assert_eq!(t.sets[0].0, t.revenue_itemized());
    assert_eq!(t.sets[0].1, t.revenue_blended);
    assert_eq!(
        t.sets[1].0,
        Money::from_pico(2 * t.sets[0].0.pico()),
        "doubled prices double revenue"
    );
    assert_eq!(t.sets[1].1, Money::from_pico(2 * t.sets[0].1.pico()));
    // Per agent, the sets add up to the fleet.
    let sum: Money = out.agent_days.iter().map(|a| a.revenue[1]).sum();
    assert_eq!(sum, t.sets[1].0);
}

#[test]
fn scenarios_import_litellm_and_genai_prices_tables() {
    let fixtures = common::root().join("tests/fixtures/prices");
    let small = common::read(&common::scenario_path("small.toml"));
    let i = small.find("[[price]]").unwrap();
    let with = |price: &str| setup_text(&format!("{}{price}", &small[..i]), Some(fixtures.clone()));
    let s = with(
        "[[price]]\nmodel = \"llama-3.1-8b\"\nlitellm = { file = \"litellm_sample.json\", key = \"claude-opus-4-6\" }\n",
    );
    let sheet = s.served[0].sheet();
    assert_eq!(sheet.base.input.usd_per_mtok(), 5.0);
    assert_eq!(sheet.tiers[0].0, 200_000);
    assert_eq!(sheet.tiers[0].1.output.usd_per_mtok(), 37.5);
    let s = with(
        "[[price]]\nmodel = \"llama-3.1-8b\"\ngenai_prices = { file = \"genai_prices_sample.json\", provider = \"deepseek\", model = \"deepseek-chat\" }\n",
    );
    let sheet = s.served[0].sheet();
    assert_eq!(
        sheet.base.input.usd_per_mtok(),
        0.135,
        "off-peak is the base"
    );
    assert_eq!(sheet.periods.len(), 1, "standard hours are a period");
    // A run under time-of-day prices still prices every call exactly.
    let out = common::run(&s, 1);
    assert!(out.ledger.total().revenue_itemized() > Money::ZERO);
    // Errors name the field and what is accepted.
    let origin = Origin {
        file: "bad.toml".into(),
        dir: Some(fixtures.clone()),
        text: format!(
            "{}[[price]]\nmodel = \"llama-3.1-8b\"\nlitellm = {{ file = \"litellm_sample.json\", key = \"nope\" }}\n",
            &small[..i]
        ),
    };
    let e = Scenario::from_text(&origin, &[])
        .unwrap()
        .resolve(&origin)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("price[0].litellm") && e.contains("claude-opus-4-6"),
        "{e}"
    );
}

#[test]
fn owned_hardware_pays_capex_with_cost_of_capital_and_electricity_by_region_and_hour() {
    use tokenfleet_setup::capital_recovery;
    // 5 years at 8%: the annuity exceeds straight-line depreciation.
    assert!((capital_recovery(0.08, 5.0) - 0.250456).abs() < 1e-5);
    assert_eq!(capital_recovery(0.0, 5.0), 0.2);
    let small = common::read(&common::scenario_path("small.toml"));
    let own_text = small.replace(
        "rent = \"$2.99/h\"",
        "own = { price = \"$30000\", depreciation = \"5y\", overhead = 0.5, cost_of_capital = 0.08 }",
    );
    let own = setup_text(&own_text, None);
    let rate = own.pools[0].cost.usd_per_device_hour();
    assert!(
        (rate - 30_000.0 * 1.5 * 0.250456 / 8766.0).abs() < 1e-3,
        "{rate}"
    );
    assert!(own.pools[0].pay_energy, "owned pools pay their electricity");
    // Regions and tariffs set the price per UTC hour.
    let west = common::setup(
        "small.toml",
        &[
            "energy.electricity=china-west",
            "cluster.pool.h100.pay_energy=true",
        ],
    );
    assert_eq!(
        west.pools[0].electricity_pico_per_kwh[5],
        Money::from_usd(0.056).pico()
    );
    let tou = common::setup(
        "small.toml",
        &[
            "energy.electricity={ peak = \"$0.20/kWh\", off_peak = \"$0.05/kWh\", peak_hours = \"08:00-20:00\", timezone = 8 }",
        ],
    );
    let e = &tou.pools[0].electricity_pico_per_kwh;
    assert_eq!(e[0], Money::from_usd(0.20).pico(), "08:30 in UTC+8");
    assert_eq!(e[12], Money::from_usd(0.05).pico(), "20:30 in UTC+8");
    // Rent levels come from the catalog's sourced range.
    let low = common::setup("small.toml", &["cluster.pool.h100.rent=low"]);
    let high = common::setup("small.toml", &["cluster.pool.h100.rent=high"]);
    assert!(low.pools[0].cost.usd_per_device_hour() < high.pools[0].cost.usd_per_device_hour());
    // Payback: an owned pool reports its capex and, when profitable, how long it takes back.
    let out = common::run(&own, 1);
    let s = Summary::new(&own, &out);
    assert_eq!(s.economics.unit_economics.capex_usd, 4.0 * 30_000.0 * 1.5);
}

#[test]
fn rejected_calls_count_as_lost_revenue_and_late_calls_are_refunded() {
    let setup = common::setup(
        "small.toml",
        &[
            "fleet.agents=4000",
            "cluster.pool.h100.replicas=1",
            "cluster.pool.h100.queue_limit=3",
            "engine.replicas_per_cell=1",
            "simulation.duration=30min",
            "sla={ ttft = \"1s\", penalty = 0.5 }",
        ],
    );
    let out = common::run(&setup, 2);
    let t = out.ledger.total();
    assert!(t.calls_rejected > 0 && t.revenue_lost > Money::ZERO);
    assert!(t.calls_late > 0 && t.penalty > Money::ZERO);
    assert!(
        t.penalty <= Money::from_pico(t.revenue_itemized().pico() / 2),
        "at most half refunded"
    );
    let s = Summary::new(&setup, &out);
    assert!(s.margin_usd < s.revenue_usd.itemized - s.cost_usd.total + 1e-6);
}

/// The headline figures that plans, sweeps and sensitivity analyses compare are the figures of
/// the run's summary.json: both come from `tokenfleet_fleet::metrics` (summary.json rounds to
/// the micro-dollar and keeps revenue before SLA refunds apart from the refunds).
#[test]
fn headline_figures_are_the_summarys_figures() {
    for (name, sets) in [
        ("small.toml", vec![]),
        (
            "multi-pool.toml",
            vec!["simulation.duration=2h", "fleet.agents=300"],
        ),
    ] {
        let setup = common::setup(name, &sets);
        let out = common::run(&setup, 2);
        let h = tokenfleet_fleet::metrics::headline(&setup, &out);
        let s = tokenfleet_reports::Summary::new(&setup, &out);
        let micro = |x: f64| (x * 1e6).round() / 1e6;
        assert_eq!(micro(h.cost_usd), s.cost_usd.total, "{name}: cost");
        assert_eq!(
            micro(h.hardware_usd),
            s.cost_usd.hardware,
            "{name}: hardware"
        );
        assert_eq!(micro(h.energy_usd), s.cost_usd.energy, "{name}: energy");
        // Two roundings in summary.json (revenue, refunds): within a micro-dollar each.
        assert!(
            (h.revenue_itemized_usd - (s.revenue_usd.itemized - s.revenue_usd.sla_penalty)).abs()
                <= 2e-6,
            "{name}: billed revenue"
        );
        assert_eq!(
            micro(h.revenue_blended_usd),
            s.revenue_usd.blended,
            "{name}: blended"
        );
        assert_eq!(micro(h.margin_itemized_usd), s.margin_usd, "{name}: margin");
        assert_eq!(h.tokens, s.tokens.total as f64, "{name}: tokens");
        assert_eq!(h.calls_completed, s.calls.completed as f64, "{name}: calls");
        assert_eq!(
            (h.ttft_p99_s * 1e6).round() / 1e6,
            s.latency_s.ttft_p99,
            "{name}: TTFT p99"
        );
        assert!(
            (h.energy_kwh - s.energy_kwh).abs() <= 5e-4,
            "{name}: energy kWh"
        );
        assert!(h.cost_usd > 0.0 && h.tokens > 0.0, "{name}: a real run");
    }
}
