//! Step 3 of a calibration: held-out fits, profiles fitted on a subset of the data (a model
//! or a device left out) and kept in `[holdout.*]` for the accuracy tests, which predict with
//! them what they were not fitted on. That is the only honest measure of how the model does
//! on a configuration nobody measured.

use std::collections::BTreeMap;

use tokenfleet_models::Catalog;
use tokenfleet_models::perf::{Admission, EngineProfile, PerfParams, Scheduler};

use crate::check::{serving_errors, splitwise_errors};
use crate::data::{MeasuredData, SERVING_CSV, SPLITWISE_CSV, serving_rows, splitwise_rows};
use crate::engine::{fit_engine, fit_splitwise};

/// The `[holdout.*]` profile of the splitwise engine (fitted on its H100 rows).
pub const SPLITWISE_ENGINE: &str = "splitwise-h100";

/// Held out: each engine that measured two models is fitted without each of them in turn and
/// kept for the accuracy tests to predict the one left out; `engine` holds the full fits, `start` is where each
/// fit starts. Keyed `{engine}-without-{model}`.
pub fn fit_without_models(
    catalog: &Catalog,
    data: &MeasuredData,
    engine: &BTreeMap<String, EngineProfile>,
    start: &PerfParams,
    iters: usize,
    mut progress: impl FnMut(&str),
) -> BTreeMap<String, EngineProfile> {
    let mut holdout = BTreeMap::new();
    // Every engine that measured two models, each model left out in turn.
    for (id, left_out) in [
        ("trtllm", "llama-3.1-8b"),
        ("trtllm", "qwen3-32b"),
        ("vllm", "llama-3.1-70b"),
        ("vllm", "qwen3-32b"),
    ] {
        let base = &engine[id];
        let rows = serving_rows(data, id, Some(left_out), None);
        let mut profile = fit_engine(catalog, &rows, base, start, iters);
        profile.description = format!(
            "{}, without {left_out} (held out: the accuracy tests predict it)",
            base.description
        );
        let fitted = serving_errors(catalog, &rows, &profile, &profile.params);
        profile.fit =
            Some(fitted.summary(&format!("{SERVING_CSV}: backend {id} without {left_out}")));
        let held = serving_rows(data, id, None, Some(left_out));
        let e = serving_errors(catalog, &held, &profile, &profile.params);
        progress(&format!(
            "held out {left_out} from {id}: {:?}",
            e.summary("")
        ));
        holdout.insert(format!("{id}-without-{left_out}"), profile);
    }
    holdout
}

/// Splitwise measured its own engine on A100 and H100: fitted on H100 only, so A100 is a
/// device the model was not fitted on. The profile of [`SPLITWISE_ENGINE`], from `start`.
pub fn fit_splitwise_engine(
    catalog: &Catalog,
    data: &MeasuredData,
    start: &PerfParams,
    iters: usize,
    mut progress: impl FnMut(&str),
) -> EngineProfile {
    let h100_rows = splitwise_rows(data, "h100-sxm");
    let a100_rows = splitwise_rows(data, "a100-80gb-sxm");
    // Splitwise ran Llama-2-70B in BF16 at TP2 on 80 GB GPUs (69 GB of weights per GPU) with
    // batches of up to 64 x 640 tokens, so its engine used all memory but the reserve
    // (vLLM's 0.9 default would not even hold the weights).
    let sw_start = PerfParams {
        request_overhead_s: 0.0,
        memory_utilization: 1.0,
        ..*start
    };
    let sw = fit_splitwise(catalog, &h100_rows, &sw_start, iters);
    let fitted = splitwise_errors(catalog, &h100_rows, &sw);
    let held = splitwise_errors(catalog, &a100_rows, &sw);
    progress(&format!(
        "splitwise: H100 (fit) {:?}, A100 (held out) {:?}",
        fitted.summary(""),
        held.summary("")
    ));
    EngineProfile {
        description: "The engine of the splitwise measurements (Llama-2-70B, static batches), fitted on its H100 rows only; its A100 rows are held out".into(),
        max_batch_tokens: 8192,
        max_seqs: 64,
        scheduler: Scheduler::Mixed,
        admission: Admission::Prompt,
        params: sw,
        fit: Some(fitted.summary(&format!("{SPLITWISE_CSV}: H100 rows"))),
    }
}
