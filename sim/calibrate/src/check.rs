//! The errors of a calibration: absolute relative errors of TTFT and TPOT predictions
//! against the measurements, per data set, with their median and 90th percentile (the
//! accuracy targets are stated as medians). A row the model cannot run is counted apart, not
//! as an error.

use rayon::prelude::*;
use tokenfleet_models::Catalog;
use tokenfleet_models::perf::{Calibration, EngineProfile, FitSummary, PerfParams};

use crate::closed_loop::ClosedLoopResult;
use crate::data::{
    MeasuredData, ServingPoint, SplitwisePoint, ThroughputPoint, serving_rows, splitwise_rows,
};
use crate::error::CalibrateError;
use crate::numeric::median_p90;
use crate::predict::{predict_serving, predict_splitwise, predict_throughput};

/// Absolute relative errors of predictions against measurements.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Errors {
    pub tpot: Vec<f64>,
    pub ttft: Vec<f64>,
    /// Rows the model could not run (does not fit), counted apart.
    pub failed: usize,
}

impl Errors {
    pub fn tpot_median_p90(&self) -> (f64, f64) {
        median_p90(&self.tpot)
    }
    pub fn ttft_median_p90(&self) -> (f64, f64) {
        median_p90(&self.ttft)
    }
    pub fn summary(&self, data: &str) -> FitSummary {
        let (tm, tp) = self.tpot_median_p90();
        let (fm, fp) = self.ttft_median_p90();
        let r = |x: f64| (x * 1e4).round() / 1e4;
        FitSummary {
            data: data.to_string(),
            rows: self.tpot.len() as u32,
            tpot_median_error: r(tm),
            tpot_p90_error: r(tp),
            ttft_median_error: r(fm),
            ttft_p90_error: r(fp),
        }
    }
}

fn rel(pred: f64, meas: f64) -> f64 {
    (pred / meas - 1.0).abs()
}

/// Errors of `profile` (with `params`) on measured serving points.
pub fn serving_errors(
    catalog: &Catalog,
    points: &[&ServingPoint],
    profile: &EngineProfile,
    params: &PerfParams,
) -> Errors {
    let results: Vec<Option<(f64, f64)>> = points
        .par_iter()
        .map(|p| {
            predict_serving(catalog, p, profile, params)
                .ok()
                .map(|r| (rel(r.tpot_s, p.tpot_s), rel(r.ttft_s, p.ttft_s)))
        })
        .collect();
    collect_errors(results)
}

/// Errors of `params` on splitwise points (prompt time as TTFT, token time as TPOT).
pub fn splitwise_errors(
    catalog: &Catalog,
    points: &[&SplitwisePoint],
    params: &PerfParams,
) -> Errors {
    let results: Vec<Option<(f64, f64)>> = points
        .par_iter()
        .map(|p| {
            predict_splitwise(catalog, p, params)
                .ok()
                .map(|r| (rel(r.tpot_s, p.token_s), rel(r.ttft_s, p.prompt_s)))
        })
        .collect();
    collect_errors(results)
}

fn collect_errors(results: Vec<Option<(f64, f64)>>) -> Errors {
    let mut e = Errors::default();
    for r in results {
        match r {
            Some((tpot, ttft)) => {
                e.tpot.push(tpot);
                e.ttft.push(ttft);
            }
            None => e.failed += 1,
        }
    }
    e
}

/// Errors of `profile` on maximum-throughput points, in `tpot` (at a full engine the
/// throughput per GPU is the batch over TPOT); no TTFT is measured.
pub fn throughput_errors(
    catalog: &Catalog,
    points: &[ThroughputPoint],
    profile: &EngineProfile,
) -> Errors {
    let results: Vec<Option<f64>> = points
        .par_iter()
        .map(|p| {
            predict_throughput(catalog, p, profile)
                .ok()
                .map(|r| rel(r, p.tokens_per_s_per_gpu))
        })
        .collect();
    let mut e = Errors::default();
    for r in results {
        match r {
            Some(x) => e.tpot.push(x),
            None => e.failed += 1,
        }
    }
    e
}

/// The errors of a calibration on one data set.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetErrors {
    /// The profile that made the predictions (`[engine.*]` or `[holdout.*]` id).
    pub profile: String,
    /// What the rows are and whether the profile was fitted on them: labels end in `(fit)`
    /// or `(held out...)`.
    pub label: String,
    pub errors: Errors,
}

impl DatasetErrors {
    fn new(profile: &str, label: String, errors: Errors) -> DatasetErrors {
        DatasetErrors {
            profile: profile.to_string(),
            label,
            errors,
        }
    }
}

/// The errors of `cal` on every measured data set: per engine and model, per engine, all
/// H100 rows (each by its engine's profile), and the held-out profiles on what they left out.
/// This is what `tokenfleet calibrate --check` prints and what tests/perf_accuracy.rs bounds.
pub fn check(catalog: &Catalog, data: &MeasuredData, cal: &Calibration) -> Vec<DatasetErrors> {
    let mut out = Vec::new();
    let mut pooled = Errors::default();
    for (id, profile) in &cal.engine {
        let rows = serving_rows(data, id, None, None);
        if rows.is_empty() {
            continue;
        }
        let mut models: Vec<&str> = rows.iter().map(|p| p.model.as_str()).collect();
        models.sort_unstable();
        models.dedup();
        for model in models {
            let subset: Vec<_> = rows.iter().copied().filter(|p| p.model == model).collect();
            let e = serving_errors(catalog, &subset, profile, &profile.params);
            out.push(DatasetErrors::new(id, format!("{model} on {id} (fit)"), e));
        }
        let e = serving_errors(catalog, &rows, profile, &profile.params);
        pooled.tpot.extend(&e.tpot);
        pooled.ttft.extend(&e.ttft);
        pooled.failed += e.failed;
        out.push(DatasetErrors::new(id, format!("all {id} rows (fit)"), e));
    }
    out.push(DatasetErrors::new(
        "all",
        "all H100 rows (fit)".into(),
        pooled,
    ));
    for (id, profile) in &cal.holdout {
        if let Some((backend, left_out)) = id.split_once("-without-") {
            let held = serving_rows(data, backend, None, Some(left_out));
            let e = serving_errors(catalog, &held, profile, &profile.params);
            out.push(DatasetErrors::new(
                id,
                format!("{left_out} on {backend} (held out)"),
                e,
            ));
        } else if id.starts_with("splitwise") {
            for (hw, label) in [
                ("h100-sxm", "splitwise H100 (fit)"),
                ("a100-80gb-sxm", "splitwise A100 (held out)"),
            ] {
                out.push(DatasetErrors::new(
                    id,
                    label.into(),
                    splitwise_errors(catalog, &splitwise_rows(data, hw), &profile.params),
                ));
            }
        }
    }
    // Devices, models and precisions the fit never saw (check only).
    if let (Ok(profile), false) = (cal.profile("trtllm"), data.throughput.is_empty()) {
        let e = throughput_errors(catalog, &data.throughput, profile);
        out.push(DatasetErrors::new(
            "trtllm",
            "TensorRT-LLM max throughput, H200/B200/GB200, MoE, FP4 (held out)".into(),
            e,
        ));
    }
    out
}

/// Every measured serving row whose backend has a profile in `cal`, beside that profile's
/// prediction of it (`tokenfleet calibrate --check --rows`).
pub fn serving_predictions<'a>(
    catalog: &Catalog,
    data: &'a MeasuredData,
    cal: &Calibration,
) -> Vec<(&'a ServingPoint, Result<ClosedLoopResult, CalibrateError>)> {
    let mut out = Vec::new();
    for p in &data.serving {
        let Ok(profile) = cal.profile(&p.backend) else {
            continue;
        };
        out.push((p, predict_serving(catalog, p, profile, &profile.params)));
    }
    out
}
