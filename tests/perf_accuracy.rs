//! Accuracy of the calibrated performance model against measured serving data
//! (tests/fixtures/measured, attribution in SOURCES.md there).
//!
//! Every prediction runs the simulator's own serving code (a one-replica closed loop), with
//! the compiled-in calibration (models/catalog/calibration.toml). The bounds are the issue's
//! targets (median absolute error at most 15% for TPOT and 25% for TTFT on the H100 data) and,
//! for data the fit did not see, the errors docs/performance-model.md reports plus a margin;
//! the last test checks that the bounds do reject a wrong model.

use std::sync::OnceLock;

use tokenfleet_calibrate::data::serving_rows;
use tokenfleet_calibrate::engine::fit_engine;
use tokenfleet_calibrate::holdout::SPLITWISE_ENGINE;
use tokenfleet_calibrate::kernels::fit_kernels;
use tokenfleet_calibrate::numeric::median_p90;
use tokenfleet_calibrate::power::{power_errors, power_rows};
use tokenfleet_calibrate::{DatasetErrors, Errors, MeasuredData, check};
use tokenfleet_models::Catalog;
use tokenfleet_models::perf::Calibration;

fn data() -> &'static MeasuredData {
    static DATA: OnceLock<MeasuredData> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/measured");
        MeasuredData::from_dir(&dir).unwrap()
    })
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::builtin().unwrap())
}

fn builtin_errors() -> &'static [DatasetErrors] {
    static ERRORS: OnceLock<Vec<DatasetErrors>> = OnceLock::new();
    ERRORS.get_or_init(|| check(catalog(), data(), Calibration::builtin().unwrap()))
}

fn find<'a>(errors: &'a [DatasetErrors], label: &str) -> &'a Errors {
    &errors
        .iter()
        .find(|d| d.label == label)
        .unwrap_or_else(|| {
            let labels: Vec<&str> = errors.iter().map(|d| d.label.as_str()).collect();
            panic!("no data set `{label}`; have {labels:?}")
        })
        .errors
}

/// Asserts the median TPOT and TTFT errors of a data set.
fn assert_medians(errors: &[DatasetErrors], label: &str, tpot: f64, ttft: f64) {
    let e = find(errors, label);
    assert!(!e.tpot.is_empty(), "{label}: no rows predicted");
    assert_eq!(e.failed, 0, "{label}: {} rows could not run", e.failed);
    let (t, _) = e.tpot_median_p90();
    let (f, _) = e.ttft_median_p90();
    assert!(t <= tpot, "{label}: TPOT median error {t:.3} > {tpot}");
    assert!(f <= ttft, "{label}: TTFT median error {f:.3} > {ttft}");
}

#[test]
fn measured_h100_rows_meet_the_targets() {
    let errors = builtin_errors();
    let all = find(errors, "all H100 rows (fit)");
    assert_eq!(all.tpot.len(), data().serving.len());
    assert_medians(errors, "all H100 rows (fit)", 0.15, 0.25);
}

#[test]
fn every_engine_and_model_stays_close() {
    let errors = builtin_errors();
    for engine in ["vllm", "sglang", "trtllm"] {
        assert_medians(errors, &format!("all {engine} rows (fit)"), 0.10, 0.30);
    }
    for (model, engine) in [
        ("llama-3.1-70b", "vllm"),
        ("qwen3-32b", "vllm"),
        ("qwen3-32b", "sglang"),
        ("qwen3-32b", "trtllm"),
        ("llama-3.1-8b", "trtllm"),
    ] {
        assert_medians(errors, &format!("{model} on {engine} (fit)"), 0.10, 0.35);
    }
}

#[test]
fn held_out_models_and_devices_stay_close() {
    let errors = builtin_errors();
    // A model the engine's fit did not see.
    assert_medians(errors, "llama-3.1-8b on trtllm (held out)", 0.15, 0.35);
    // Its TTFT is 47% off (docs/performance-model.md, known errors): only TPOT is bounded
    // until the prefill of a model the fit did not see is predicted better.
    assert_medians(
        errors,
        "llama-3.1-70b on vllm (held out)",
        0.10,
        f64::INFINITY,
    );
    // A device the fit did not see (A100, fitted on H100 only).
    assert_medians(errors, "splitwise A100 (held out)", 0.20, 0.25);
}

#[test]
fn unseen_devices_models_and_precisions_stay_within_the_stated_error() {
    // NVIDIA's TensorRT-LLM maximum throughput on H200, B200, GB200 (and H100) for three MoE
    // models and Llama-3.3-70B in FP4/FP8: nothing the fit has seen. Measured 18.5% median and
    // 54% p90 (docs/performance-model.md); the bounds leave a little room and are looser than
    // issue 16's targets for held-out TPOT (15% / 35%), which this set does not meet yet.
    let e = find(
        builtin_errors(),
        "TensorRT-LLM max throughput, H200/B200/GB200, MoE, FP4 (held out)",
    );
    assert_eq!(e.failed, 0, "{} rows could not run", e.failed);
    assert_eq!(e.tpot.len(), data().throughput.len());
    let (median, p90) = e.tpot_median_p90();
    assert!(median <= 0.22, "throughput median error {median:.3}");
    assert!(p90 <= 0.60, "throughput p90 error {p90:.3}");
}

#[test]
fn the_bounds_reject_a_wrong_model() {
    let cal = Calibration::builtin().unwrap();
    let catalog = catalog();
    // Memory bandwidth underused by a third: decode (TPOT) 1.5x too slow.
    let mut slow_memory = cal.clone();
    for p in slow_memory.engine.values_mut() {
        p.params.memory_efficiency *= 0.66;
    }
    let e = check(catalog, data(), &slow_memory);
    let (tpot, _) = find(&e, "all H100 rows (fit)").tpot_median_p90();
    assert!(tpot > 0.15, "TPOT median {tpot}");
    // GEMMs and attention at half the fitted rate: prefill (TTFT) far too slow.
    let mut slow_compute = cal.clone();
    for p in slow_compute.engine.values_mut() {
        p.params.compute_efficiency *= 0.5;
        p.params.lowp_compute_efficiency *= 0.5;
        p.params.attention_efficiency *= 0.5;
    }
    let e = check(catalog, data(), &slow_compute);
    let (_, ttft) = find(&e, "all H100 rows (fit)").ttft_median_p90();
    assert!(ttft > 0.25, "TTFT median {ttft}");
}

#[test]
fn compiled_in_kernel_constants_are_those_of_the_fixtures() {
    let hw = catalog().hardware("h100-sxm").unwrap();
    let k = fit_kernels(data(), hw).unwrap();
    let cal = Calibration::builtin().unwrap();
    for id in ["vllm", "sglang", "trtllm"] {
        let p = &cal.profile(id).unwrap().params;
        for (name, fitted, stored) in [
            (
                "compute_efficiency",
                k.compute_efficiency,
                p.compute_efficiency,
            ),
            (
                "lowp_compute_efficiency",
                k.lowp_compute_efficiency,
                p.lowp_compute_efficiency,
            ),
            (
                "attention_efficiency",
                k.attention_efficiency,
                p.attention_efficiency,
            ),
            ("layer_overhead_s", k.layer_overhead_s, p.layer_overhead_s),
            (
                "allreduce_latency_s",
                k.allreduce_latency_s,
                p.allreduce_latency_s,
            ),
            (
                "collective_efficiency",
                k.collective_efficiency,
                p.collective_efficiency,
            ),
        ] {
            assert!(
                (fitted - stored).abs() <= 1e-12 * stored.abs().max(1e-12),
                "engine.{id}.params.{name}: calibration.toml has {stored}, the fixtures give {fitted}; rerun `tokenfleet calibrate`"
            );
        }
    }
}

#[test]
fn engine_fits_are_deterministic() {
    let catalog = catalog();
    let cal = Calibration::builtin().unwrap();
    let profile = cal.profile("sglang").unwrap();
    let rows: Vec<_> = serving_rows(data(), "sglang", None, None)
        .into_iter()
        .take(12)
        .collect();
    let fit = || fit_engine(catalog, &rows, profile, &profile.params, 4);
    assert_eq!(fit(), fit());
}

#[test]
fn the_power_curve_reproduces_splitwise_power_readings() {
    // Mean power over each measured A100 run, predicted by the simulator's closed loop with
    // the splitwise engine's profile and the compiled-in curve (docs/economics.md, "Power
    // curve"): within 0.03 of TDP at the median, better than the linear curve it replaces,
    // and the figures written beside γ in calibration.toml are the ones it has.
    let cal = Calibration::builtin().unwrap();
    let engine = &cal.holdout[SPLITWISE_ENGINE];
    let rows = power_rows(data());
    assert_eq!(rows.len() as u32, cal.power.rows);
    let median_abs = |gamma: f64| {
        let abs: Vec<f64> = power_errors(catalog(), &rows, &engine.params, gamma)
            .unwrap()
            .iter()
            .map(|e| e.abs())
            .collect();
        median_p90(&abs).0
    };
    let (fitted, linear) = (median_abs(cal.power.exponent), median_abs(1.0));
    assert!(fitted <= 0.03, "median error {fitted:.3} of TDP");
    assert!(fitted < linear, "fitted {fitted:.3} vs linear {linear:.3}");
    assert!(
        (fitted - cal.power.median_error).abs() < 1e-3,
        "calibration.toml says {}, the data give {fitted:.4}: rerun `tokenfleet calibrate`",
        cal.power.median_error
    );
}
