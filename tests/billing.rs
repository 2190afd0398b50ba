//! Billing against independent arithmetic: published prices times tokens, worked out by hand.
//!
//! The other money tests (tests/invariants.rs, tests/properties_accounting.rs) recompute each
//! call's revenue with the same `PriceSheet::charge` the engine calls: they show that every
//! call is billed once and that the sums add up, not that the prices are right. Here the
//! expected dollars are written out in comments from the rates of the built-in catalog
//! (models/catalog/prices.toml, each rate with its source and date, as `tokenfleet catalog
//! prices --json` lists them) and asserted as exact literals (pico-dollars, no rounding): a
//! long-context tier (Anthropic's above 200k input, Qwen3-Max's by input length), cached input
//! and cache writes, reasoning billed as output, a sheet without a cache price, and DeepSeek's
//! off-peak hours (not in the catalog's current sheet: from the genai-prices fixture). A small
//! run through the binary: the itemized revenue in its summary.json must equal, to the
//! pico-dollar, the same hand formula summed over the rows of its calls_sample.csv.

mod common;

use assert_cmd::Command;
use tokenfleet_models::prices::{PriceSheet, Usage, from_genai_prices};
use tokenfleet_models::{Catalog, Money};

/// Dollars written as exact decimal text ("0.0384"), in pico-dollars: no floating point.
fn usd(text: &str) -> Money {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    assert!(frac.len() <= 12, "{text}: finer than a pico-dollar");
    let whole: i128 = whole.parse().unwrap();
    let frac: i128 = format!("{frac:0<12}").parse().unwrap();
    Money::from_pico(whole * 1_000_000_000_000 + frac)
}

fn sheet(id: &str) -> PriceSheet {
    let catalog = Catalog::builtin().unwrap();
    catalog
        .sheet(id)
        .unwrap_or_else(|| panic!("no sheet {id} in the catalog"))
        .clone()
}

/// A call's tokens `[uncached input, cached input, output, reasoning]` and its dollars worked
/// out by hand, `[uncached input, cached input, output, reasoning, total]`.
type Bill = ([u64; 4], [&'static str; 5]);

/// Each call's charge under `sheet` at `minute` of the UTC day must be, class by class, the
/// dollars worked out by hand.
fn assert_bills(sheet: &PriceSheet, minute: u32, bills: &[Bill]) {
    let names = [
        "uncached input",
        "cached input",
        "output",
        "reasoning",
        "total",
    ];
    for ([input_uncached, input_cached, output, reasoning], expected) in bills {
        let u = Usage {
            input_uncached: *input_uncached,
            input_cached: *input_cached,
            output: *output,
            reasoning: *reasoning,
        };
        let c = sheet.charge(&u, minute);
        let got = [
            c.input_uncached,
            c.input_cached,
            c.output,
            c.reasoning,
            c.total(),
        ];
        for ((name, got), want) in names.iter().zip(got).zip(expected) {
            assert!(
                got == usd(want),
                "{} {u:?} at minute {minute}: {name} ${} instead of ${want}",
                sheet.name,
                got.exact_usd_string()
            );
        }
    }
}

/// MiniMax M2.5 (`minimax-m2.5`; pydantic/genai-prices minimax.yml, 2026-05-23): input
/// $0.30/M, cache read $0.03/M, output $1.20/M (a cache write rate, $0.375/M, is listed but not
/// billed unless a scenario asks, `cache_writes`). Kimi K2.5 (`kimi-k2.5`; genai-prices
/// moonshotai.yml, 2026-03-11): input $0.60/M, cache read $0.10/M, output $3.00/M.
#[test]
fn cached_input_is_billed_at_the_cache_read_rate() {
    assert_bills(
        &sheet("minimax-m2.5"),
        0,
        &[
            // 20,000 uncached x $0.30/M + 1,000,000 cached x $0.03/M + 2,000 output x $1.20/M
            //   = $0.006 + $0.03 + $0.0024 = $0.0384
            (
                [20_000, 1_000_000, 2_000, 0],
                ["0.006", "0.03", "0.0024", "0", "0.0384"],
            ),
        ],
    );
    assert_bills(
        &sheet("kimi-k2.5"),
        0,
        &[
            // 8,000 x $0.60/M + 200,000 x $0.10/M + 1,500 x $3.00/M
            //   = $0.0048 + $0.02 + $0.0045 = $0.0293
            (
                [8_000, 200_000, 1_500, 0],
                ["0.0048", "0.02", "0.0045", "0", "0.0293"],
            ),
        ],
    );
}

/// Claude Opus 4.6 at launch (`claude-opus-4.6`; Anthropic pricing page, 2026-02-05): input
/// $5/M, cache hits $0.50/M, output $25/M; above 200k input the whole call is billed at the
/// premium tier (LiteLLM "Day 0 Support: Claude Opus 4.6", 2026-02-05): input $10/M, output
/// $37.50/M, cache hits $1/M (0.1 x the premium input). Claude Sonnet 4.5 likewise (Anthropic
/// pricing page, 2026-02-05; tier: claude-code-ultimate-guide commit 78f4dc4, 2026-02-18):
/// $3 / $0.30 / $15, above 200k $6 / $0.60 / $22.50.
#[test]
fn anthropic_long_context_tier_reprices_the_whole_call_above_200k_input() {
    assert_bills(
        &sheet("claude-opus-4.6"),
        0,
        &[
            // 170,000 input, under the tier:
            // 20,000 x $5/M + 150,000 x $0.50/M + 3,000 x $25/M = $0.10 + $0.075 + $0.075
            //   = $0.25
            (
                [20_000, 150_000, 3_000, 0],
                ["0.1", "0.075", "0.075", "0", "0.25"],
            ),
            // Exactly 200,000 input does not exceed 200k: base rates.
            // 10,000 x $5/M + 190,000 x $0.50/M + 1,000 x $25/M = $0.05 + $0.095 + $0.025
            //   = $0.17
            (
                [10_000, 190_000, 1_000, 0],
                ["0.05", "0.095", "0.025", "0", "0.17"],
            ),
            // One token more, 200,001 input: every token of the call at the tier's rates.
            // 10,000 x $10/M + 190,001 x $1/M + 1,000 x $37.50/M = $0.10 + $0.190001 + $0.0375
            //   = $0.327501
            (
                [10_000, 190_001, 1_000, 0],
                ["0.1", "0.190001", "0.0375", "0", "0.327501"],
            ),
            // 260,000 input: 10,000 x $10/M + 250,000 x $1/M + 4,000 x $37.50/M
            //   = $0.10 + $0.25 + $0.15 = $0.50
            (
                [10_000, 250_000, 4_000, 0],
                ["0.1", "0.25", "0.15", "0", "0.5"],
            ),
        ],
    );
    assert_bills(
        &sheet("claude-opus-4.6-flat"),
        0,
        &[
            // The same call after 2026-03-13, when the 1M context went GA at standard rates
            // (`claude-opus-4.6-flat`; agentmastered.com/blog/1m-context-ga): $5 / $0.50 / $25.
            // 10,000 x $5/M + 250,000 x $0.50/M + 4,000 x $25/M = $0.05 + $0.125 + $0.10
            //   = $0.275
            (
                [10_000, 250_000, 4_000, 0],
                ["0.05", "0.125", "0.1", "0", "0.275"],
            ),
        ],
    );
    assert_bills(
        &sheet("claude-sonnet-4.5"),
        0,
        &[
            // 305,000 input: 5,000 x $6/M + 300,000 x $0.60/M + 2,000 x $22.50/M
            //   = $0.03 + $0.18 + $0.045 = $0.255
            (
                [5_000, 300_000, 2_000, 0],
                ["0.03", "0.18", "0.045", "0", "0.255"],
            ),
        ],
    );
}

/// With `cache_writes = true` the uncached input is billed at the cache-write rate, as
/// Anthropic bills prompt prefixes written to the cache: Opus 4.6's 5-minute write is $6.25/M
/// (Anthropic pricing page, 2026-02-05), $12.50/M in the long-context tier (1.25 x the $10/M
/// premium input).
#[test]
fn anthropic_cache_writes_bill_uncached_input_at_the_write_rate() {
    let mut opus = sheet("claude-opus-4.6");
    opus.bill_cache_writes = true;
    assert_bills(
        &opus,
        0,
        &[
            // 20,000 written x $6.25/M + 150,000 x $0.50/M + 3,000 x $25/M
            //   = $0.125 + $0.075 + $0.075 = $0.275
            (
                [20_000, 150_000, 3_000, 0],
                ["0.125", "0.075", "0.075", "0", "0.275"],
            ),
            // Above 200k: 10,000 written x $12.50/M + 250,000 x $1/M + 4,000 x $37.50/M
            //   = $0.125 + $0.25 + $0.15 = $0.525
            (
                [10_000, 250_000, 4_000, 0],
                ["0.125", "0.25", "0.15", "0", "0.525"],
            ),
        ],
    );
}

/// No catalog sheet gives reasoning a rate of its own: it is billed at the output rate, as the
/// providers bill it (OpenAI's reasoning guide: reasoning tokens "are billed as output tokens";
/// DeepSeek's pricing page: deepseek-reasoner's output "includes all tokens from CoT and the
/// final answer, and they are priced equally"). GPT-5 (`gpt-5`; OpenAI API pricing page,
/// 2025-08): input $1.25/M, cached $0.125/M, output $10/M. DeepSeek V3.2 (`deepseek-v3.2`;
/// DeepSeek Models & Pricing via Roo-Code deepseek.ts, 2025-12-09): cache miss $0.28/M, cache
/// hit $0.028/M, output $0.42/M.
#[test]
fn reasoning_is_billed_at_the_output_rate() {
    assert_bills(
        &sheet("gpt-5"),
        0,
        &[
            // 50,000 x $1.25/M + 200,000 x $0.125/M + 1,000 x $10/M + 4,000 reasoning x $10/M
            //   = $0.0625 + $0.025 + $0.01 + $0.04 = $0.1375
            (
                [50_000, 200_000, 1_000, 4_000],
                ["0.0625", "0.025", "0.01", "0.04", "0.1375"],
            ),
        ],
    );
    assert_bills(
        &sheet("deepseek-v3.2"),
        0,
        &[
            // 4,321 x $0.28/M + 98,765 x $0.028/M + 1,234 x $0.42/M + 5,678 reasoning x $0.42/M
            //   = $0.00120988 + $0.00276542 + $0.00051828 + $0.00238476 = $0.00687834
            (
                [4_321, 98_765, 1_234, 5_678],
                [
                    "0.00120988",
                    "0.00276542",
                    "0.00051828",
                    "0.00238476",
                    "0.00687834",
                ],
            ),
        ],
    );
}

/// Qwen3-Max (`qwen3-max`; Alibaba Cloud Model Studio, international) is tiered by the call's
/// input: up to 32k $1.20 / $6 (API Evangelist qwen plans-pricing.yml, 2026-05-08), above 32k
/// $2.40 / $12, above 128k $3 / $15 (REFERENCE.md §6; 2026-03 and 2026-05-08), cached input
/// 20% of the tier's input (Alibaba's Context Cache doc, 2026-03-31): $0.24, $0.48, $0.60.
#[test]
fn qwen3_max_tiers_follow_the_input_length() {
    assert_bills(
        &sheet("qwen3-max"),
        0,
        &[
            // 32,000 input (not above 32k): 30,000 x $1.20/M + 2,000 x $0.24/M + 1,000 x $6/M
            //   = $0.036 + $0.00048 + $0.006 = $0.04248
            (
                [30_000, 2_000, 1_000, 0],
                ["0.036", "0.00048", "0.006", "0", "0.04248"],
            ),
            // 100,000 input: 40,000 x $2.40/M + 60,000 x $0.48/M + 1,000 x $12/M
            //   = $0.096 + $0.0288 + $0.012 = $0.1368
            (
                [40_000, 60_000, 1_000, 0],
                ["0.096", "0.0288", "0.012", "0", "0.1368"],
            ),
            // 150,000 input: 30,000 x $3/M + 120,000 x $0.60/M + 2,000 x $15/M
            //   = $0.09 + $0.072 + $0.03 = $0.192
            (
                [30_000, 120_000, 2_000, 0],
                ["0.09", "0.072", "0.03", "0", "0.192"],
            ),
        ],
    );
}

/// Groq's Llama 3.1 70B Versatile (`llama-3.1-70b-groq`; groq.com/pricing, 2024-08) has no
/// prompt-cache discount: cached input is billed as input, $0.59/M; output $0.79/M.
#[test]
fn a_sheet_without_a_cache_price_bills_cached_input_as_input() {
    assert_bills(
        &sheet("llama-3.1-70b-groq"),
        0,
        &[
            // 10,000 x $0.59/M + 100,000 x $0.59/M + 500 x $0.79/M
            //   = $0.0059 + $0.059 + $0.000395 = $0.065295
            (
                [10_000, 100_000, 500, 0],
                ["0.0059", "0.059", "0.000395", "0", "0.065295"],
            ),
        ],
    );
}

/// The catalog's DeepSeek sheet (V3.2, 2025-12-09) has no off-peak period; the genai-prices
/// fixture keeps the real deepseek-chat entry with its UTC 16:30-00:30 off-peak rates
/// (tests/fixtures/prices/README.md: pydantic/genai-prices deepseek.yml, checked 2025-07-12):
/// off-peak input $0.135/M, cache read $0.035/M, output $0.55/M; 00:30-16:30 UTC $0.27/M,
/// $0.07/M, $1.10/M.
#[test]
fn deepseek_off_peak_prices_apply_in_their_utc_window() {
    let json = common::read(&common::root().join("tests/fixtures/prices/genai_prices_sample.json"));
    let s = from_genai_prices(
        &json,
        "deepseek",
        "deepseek-chat",
        "genai_prices_sample.json",
    )
    .unwrap()
    .resolve()
    .unwrap();
    let tokens = [10_000, 40_000, 2_000, 0];
    // Off-peak: 10,000 x $0.135/M + 40,000 x $0.035/M + 2,000 x $0.55/M
    //   = $0.00135 + $0.0014 + $0.0011 = $0.00385
    let off_peak = (tokens, ["0.00135", "0.0014", "0.0011", "0", "0.00385"]);
    // Standard: 10,000 x $0.27/M + 40,000 x $0.07/M + 2,000 x $1.10/M
    //   = $0.0027 + $0.0028 + $0.0022 = $0.0077
    let standard = (tokens, ["0.0027", "0.0028", "0.0022", "0", "0.0077"]);
    // Minutes of the UTC day: 00:29, 00:30, 12:00, 16:29, 16:30, 23:59.
    for (minute, bill) in [
        (29, off_peak),
        (30, standard),
        (720, standard),
        (989, standard),
        (990, off_peak),
        (1439, off_peak),
    ] {
        assert_bills(&s, minute, &[bill]);
    }
}

/// A small fleet run through the binary, every call sampled. The `kimi` pool's traffic is
/// billed at Claude Opus 4.6's launch sheet with cache writes (the catalog's sheet with a
/// long-context tier; Kimi K2.5's 256k window lets contexts grow past 200k), the `deepseek`
/// pool's at DeepSeek V3.2's own sheet, with reasoning tokens (decoded, billed as output).
const SCENARIO: &str = r#"
name = "billing"
seed = 11

[simulation]
duration = "30min"

[engine]
replicas_per_cell = 1
sample = "full"
calls_sample_rate = 1
calls_sample_max = 1000000

[fleet]
agents = 4

[[fleet.segment]]
name = "long"
share = 0.5
model = "kimi-k2.5"
daily_tokens = "200M"
profile = "flat"

[fleet.segment.task]
tokens = "4M"
system_tokens = "190k"
new_tokens = { dist = "exponential", mean = 2500 }
output_tokens = { dist = "exponential", mean = 300 }
tool_gap = { dist = "exponential", mean = "3s" }
compact_at = 0.95

[[fleet.segment]]
name = "reasoner"
share = 0.5
model = "deepseek-v3.2"
daily_tokens = "40M"
profile = "flat"

[fleet.segment.task]
tokens = "1M"
system_tokens = "8k"
new_tokens = { dist = "exponential", mean = 800 }
output_tokens = { dist = "exponential", mean = 200 }
reasoning_tokens = { dist = "exponential", mean = 500 }
tool_gap = { dist = "exponential", mean = "3s" }

[[cluster.pool]]
name = "kimi"
hardware = "h200-sxm"
model = "kimi-k2.5"
replicas = 1
tp = 8
weights = "int4"
rent = "$3.50/h"

[[cluster.pool]]
name = "deepseek"
hardware = "h200-sxm"
model = "deepseek-v3.2"
replicas = 1
tp = 8
weights = "fp8"
rent = "$3.50/h"

[[price]]
name = "list"
model = "kimi-k2.5"
sheet = "claude-opus-4.6"
cache_writes = true

[[price]]
name = "list"
model = "deepseek-v3.2"
sheet = "deepseek-v3.2"
"#;

/// Pico-dollars per token, i.e. micro-dollars per million tokens, of one class.
struct Rates {
    uncached: i128,
    cached: i128,
    output: i128,
}

/// `claude-opus-4.6` with cache writes, up to 200k input: 5-minute cache write $6.25/M (the
/// uncached input), cache hits $0.50/M, output $25/M (Anthropic pricing page, 2026-02-05).
const OPUS_BASE: Rates = Rates {
    uncached: 6_250_000,
    cached: 500_000,
    output: 25_000_000,
};
/// Above 200k input: cache write $12.50/M (1.25 x the $10/M premium input), cache hits $1/M
/// (0.1 x $10/M), output $37.50/M (LiteLLM "Day 0 Support: Claude Opus 4.6", 2026-02-05).
const OPUS_LONG: Rates = Rates {
    uncached: 12_500_000,
    cached: 1_000_000,
    output: 37_500_000,
};
/// `deepseek-v3.2`: cache miss $0.28/M, cache hit $0.028/M, output $0.42/M, reasoning
/// included (DeepSeek Models & Pricing via Roo-Code deepseek.ts, 2025-12-09).
const DEEPSEEK: Rates = Rates {
    uncached: 280_000,
    cached: 28_000,
    output: 420_000,
};

#[test]
fn billed_revenue_is_the_published_rates_times_the_tokens_of_every_call() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("billing.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let out = tmp.path().join("out");
    Command::cargo_bin("tokenfleet")
        .unwrap()
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let summary: serde_json::Value =
        serde_json::from_str(&common::read(&out.join("summary.json"))).unwrap();

    let mut rows = csv::Reader::from_path(out.join("calls_sample.csv")).unwrap();
    let header = rows.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (uncached_at, cached_at, output_at) =
        (col("input_uncached"), col("input_cached"), col("output"));
    let (pool_at, revenue_at) = (col("pool"), col("revenue_usd"));
    // Pico-dollars by class, by hand.
    let (mut uncached_usd, mut cached_usd, mut output_usd) = (0i128, 0i128, 0i128);
    let (mut calls, mut long, mut short, mut deepseek) = (0u64, 0, 0, 0);
    for row in rows.records() {
        let row = row.unwrap();
        let n = |i: usize| row[i].parse::<i128>().unwrap();
        let (uncached, cached, output) = (n(uncached_at), n(cached_at), n(output_at));
        let rates = match &row[pool_at] {
            // Anthropic's rule: a call whose input exceeds 200k is billed wholly at the tier.
            "kimi" if uncached + cached > 200_000 => {
                long += 1;
                &OPUS_LONG
            }
            "kimi" => {
                short += 1;
                &OPUS_BASE
            }
            "deepseek" => {
                deepseek += 1;
                &DEEPSEEK
            }
            other => panic!("unknown pool {other}"),
        };
        let (u, c, o) = (
            uncached * rates.uncached,
            cached * rates.cached,
            output * rates.output,
        );
        assert_eq!(
            usd(&row[revenue_at]).pico(),
            u + c + o,
            "row {calls}: {uncached} uncached, {cached} cached, {output} output on {}",
            &row[pool_at]
        );
        uncached_usd += u;
        cached_usd += c;
        output_usd += o;
        calls += 1;
    }
    // The run exercised both sides of the tier and both sheets, and sampled every call.
    assert!(
        long > 0 && short > 0 && deepseek > 0,
        "{long} {short} {deepseek}"
    );
    assert_eq!(summary["sampled_fraction"], 1.0);
    assert_eq!(summary["calls"]["completed"].as_u64().unwrap(), calls);

    // The billed itemized revenue, exact, is the hand formula's sum.
    let total = uncached_usd + cached_usd + output_usd;
    let exact = summary["simulated"]["revenue_itemized_exact"]
        .as_str()
        .unwrap();
    assert_eq!(usd(exact).pico(), total, "summary ${exact}");
    // And the displayed figures, rounded to the micro-dollar, by class too (the output
    // column holds the reasoning tokens, which the summary shows apart).
    let r = &summary["revenue_usd"];
    let c = &r["itemized_by_class"];
    let f = |v: &serde_json::Value| v.as_f64().unwrap();
    assert!(f(&c["reasoning"]) > 0.0, "reasoning tokens billed");
    for (what, shown, hand) in [
        ("itemized", f(&r["itemized"]), total),
        ("uncached", f(&c["input_uncached"]), uncached_usd),
        ("cached", f(&c["input_cached"]), cached_usd),
        ("output", f(&c["output"]) + f(&c["reasoning"]), output_usd),
    ] {
        let hand = hand as f64 / 1e12;
        assert!(
            (shown - hand).abs() <= 1e-6,
            "{what}: ${shown} shown, ${hand} by hand"
        );
    }
}
