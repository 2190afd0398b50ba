//! Every device of the built-in catalog with every model, as `tokenfleet perf` sizes them
//! (issue 16): a replica either runs, or is refused with a message that names the devices it
//! needs and a larger tensor degree to try. Also in FP4 on the devices that compute it and,
//! for mixture-of-experts models, with experts spread over 8 devices (`--ep 8`).

use tokenfleet_calibrate::closed_loop::Start;
use tokenfleet_calibrate::perf_run::{self, PerfQuery, PerfRunError, engine_for};
use tokenfleet_models::hardware::DeviceKind;
use tokenfleet_models::perf::Calibration;
use tokenfleet_models::{Catalog, Precision};

fn check(q: &PerfQuery, what: &str, ran: &mut u32, refused: &mut u32) {
    match perf_run::run(q) {
        Ok(r) => {
            let ok = |x: f64| x.is_finite() && x > 0.0;
            assert!(
                ok(r.result.ttft_s) && ok(r.result.tpot_s) && ok(r.result.output_tokens_per_s),
                "{what}: {:?}",
                r.result
            );
            *ran += 1;
        }
        Err(PerfRunError::DoesNotFit {
            error, tp, try_tp, ..
        }) => {
            let text = error.to_string();
            assert!(try_tp > tp, "{what}: suggests tp {try_tp} after tp {tp}");
            assert!(text.contains("at least"), "{what}: {text}");
            *refused += 1;
        }
        Err(e) => panic!("{what}: {e}"),
    }
}

#[test]
fn every_device_and_model_runs_or_is_refused_with_the_devices_it_needs() {
    let catalog = Catalog::builtin().unwrap();
    let cal = Calibration::builtin().unwrap();
    let (mut ran, mut refused) = (0, 0);
    for (device, (_, hw)) in &catalog.devices {
        let (_, profile) = engine_for(cal, None, hw).unwrap();
        for (id, model) in &catalog.models {
            let q = PerfQuery {
                hardware: hw,
                model,
                profile,
                tp: None,
                pp: None,
                ep: 1,
                weights: None,
                kv: Precision::Bf16,
                isl: 512,
                osl: 16,
                concurrency: 2,
                start: Start::Staggered,
            };
            check(&q, &format!("{id} on {device}"), &mut ran, &mut refused);
            if hw.supports(Precision::Fp4) && hw.scaleup_domain > 1 {
                let fp4 = PerfQuery {
                    weights: Some(Precision::Fp4),
                    ..q
                };
                check(
                    &fp4,
                    &format!("{id} on {device}, fp4"),
                    &mut ran,
                    &mut refused,
                );
            }
            if model.arch.moe.is_some() && hw.scaleup_domain >= 8 {
                let ep = PerfQuery { ep: 8, ..q };
                if hw.kind == DeviceKind::Lpu {
                    // Not modelled on SRAM pipelines, and said so.
                    let e = perf_run::run(&ep).unwrap_err().to_string();
                    assert!(e.contains("not modelled on SRAM chips"), "{e}");
                } else {
                    check(
                        &ep,
                        &format!("{id} on {device}, ep 8"),
                        &mut ran,
                        &mut refused,
                    );
                }
            }
        }
    }
    // Most pairs run: the refusals are models larger than a device's scale-up domain holds.
    assert!(ran > 2 * refused, "{ran} ran, {refused} refused");
}
