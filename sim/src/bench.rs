//! Closed-loop serving benchmarks on one replica, the way serving benchmarks measure.
//!
//! `concurrency` clients each send a request of `isl` input and `osl` output tokens and send
//! the next as soon as the answer is complete (no think time, no shared prefixes: benchmark
//! prompts are random). This is the setup of vLLM's `benchmark_serving --max-concurrency` and
//! of the measured data in ../shared/data/measured (aiconfigurator's silicon samples), so the
//! simulator can be checked against measurements with its own serving code, not a formula.
//! The first round of requests (one per client) is a warm-up and is not measured.

use crate::cluster::{Call, Cluster, Submitted};
use crate::engine::EventQueue;
use crate::ledger::Ledger;
use crate::rng::{Subsystem, stream};
use crate::scenario::Pool;
use crate::time::SimTime;

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClosedLoop {
    pub concurrency: u32,
    pub isl: u32,
    pub osl: u32,
    /// Measured requests (after the warm-up round).
    pub requests: u32,
}

/// What a closed loop measured: means over the measured requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClosedLoopResult {
    pub ttft_s: f64,
    /// Time per output token after the first: (e2e - ttft) / (osl - 1).
    pub tpot_s: f64,
    pub e2e_s: f64,
    /// Output tokens per second of the replica in steady state.
    pub output_tokens_per_s: f64,
    pub requests: u32,
    pub events: u64,
}

/// Runs the closed loop on one replica of `pool` (whose `model` must be 0).
pub fn closed_loop(pool: &Pool, spec: ClosedLoop) -> ClosedLoopResult {
    let pools = std::slice::from_ref(pool);
    let n = spec.concurrency.max(1);
    let mut cluster = Cluster::new(
        pools,
        1,
        &[1],
        &[1],
        n as usize,
        stream(0, Subsystem::Router, 0),
        false,
    );
    let mut ledger = Ledger::new(1, 1, 0);
    let mut queue: EventQueue<(u32, u32)> = EventQueue::with_capacity(16);
    let mut calls: Vec<Call> = Vec::with_capacity(n as usize);
    let (isl, osl) = (spec.isl.max(1), spec.osl.max(1));
    let new_call = |client: u32, now: SimTime| Call::new(client, isl, 0, osl, now);
    let submit = |cluster: &mut Cluster,
                  calls: &mut Vec<Call>,
                  ledger: &mut Ledger,
                  q: &mut EventQueue<(u32, u32)>,
                  id: u32,
                  now: SimTime| {
        match cluster.submit(0, id, calls, ledger, now) {
            Submitted::Accepted {
                step: Some((t, r, v)),
            } => q.schedule(t, (r, v)),
            Submitted::Accepted { step: None } => {}
            Submitted::Rejected { .. } => {
                unreachable!("benchmark pools have no queue or rate limit")
            }
        }
    };
    for c in 0..n {
        calls.push(new_call(c, SimTime::ZERO));
        submit(
            &mut cluster,
            &mut calls,
            &mut ledger,
            &mut queue,
            c,
            SimTime::ZERO,
        );
    }
    let mut measured = 0u32;
    let (mut ttft, mut e2e) = (0.0, 0.0);
    let mut done_buf = Vec::new();
    while measured < spec.requests {
        let Some((now, (r, v))) = queue.pop() else {
            break;
        };
        let Some((done, next)) = cluster.step(r, v, &mut calls, &mut ledger, now) else {
            continue;
        };
        done_buf.clear();
        done_buf.extend_from_slice(done);
        if let Some((t, r, v)) = next {
            queue.schedule(t, (r, v));
        }
        for &id in &done_buf {
            let c = calls[id as usize];
            // Requests issued after the warm-up round are measured.
            if c.issued > SimTime::ZERO && measured < spec.requests {
                measured += 1;
                ttft += c.first_token.saturating_sub(c.issued).secs();
                e2e += now.saturating_sub(c.issued).secs();
            }
            calls[id as usize] = new_call(c.agent, now);
            submit(&mut cluster, &mut calls, &mut ledger, &mut queue, id, now);
        }
    }
    let m = measured.max(1) as f64;
    let (ttft, e2e) = (ttft / m, e2e / m);
    ClosedLoopResult {
        ttft_s: ttft,
        tpot_s: if osl > 1 {
            (e2e - ttft) / (osl - 1) as f64
        } else {
            0.0
        },
        e2e_s: e2e,
        // Little's law on the closed loop: n requests of osl tokens in flight per e2e.
        output_tokens_per_s: n as f64 * osl as f64 / e2e.max(1e-12),
        requests: measured,
        events: queue.processed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenfleet_models::Catalog;
    use tokenfleet_models::perf::{PerfParams, ReplicaShape};
    use tokenfleet_models::precision::Precision;

    fn pool(model: &str, tp: u32, weights: Precision) -> Pool {
        let c = Catalog::builtin().unwrap();
        let m = c.model(model).unwrap();
        let shape = ReplicaShape {
            tp,
            pp: 1,
            weights,
            kv: Precision::Bf16,
        };
        Pool::standalone(
            c.hardware("h100-sxm").unwrap(),
            &m.name,
            &m.arch,
            shape,
            &PerfParams::default(),
            8192,
            256,
        )
        .unwrap()
    }

    #[test]
    fn more_concurrency_means_more_throughput_and_slower_tokens() {
        let p = pool("llama-3.1-70b", 8, Precision::Fp8);
        let run = |c| {
            closed_loop(
                &p,
                ClosedLoop {
                    concurrency: c,
                    isl: 1024,
                    osl: 1024,
                    requests: 4 * c,
                },
            )
        };
        let (a, b) = (run(4), run(64));
        assert!(
            b.output_tokens_per_s > 5.0 * a.output_tokens_per_s,
            "{a:?} {b:?}"
        );
        assert!(b.tpot_s > a.tpot_s && b.ttft_s > 0.0);
        // Single request: TTFT is one prefill, TPOT one decode iteration.
        let one = closed_loop(
            &p,
            ClosedLoop {
                concurrency: 1,
                isl: 1024,
                osl: 128,
                requests: 3,
            },
        );
        assert!(one.ttft_s > 0.0 && one.ttft_s < one.e2e_s);
    }

    #[test]
    #[ignore = "prints predictions against REFERENCE.md §4 points; run with --ignored --nocapture"]
    fn print_reference_points() {
        let p = pool("llama-3.1-70b", 8, Precision::Fp8);
        for c in [4, 64] {
            let r = closed_loop(
                &p,
                ClosedLoop {
                    concurrency: c,
                    isl: 1024,
                    osl: 1024,
                    requests: 4 * c,
                },
            );
            println!(
                "c={c}: ttft {:.1} ms tpot {:.2} ms",
                r.ttft_s * 1e3,
                r.tpot_s * 1e3
            );
        }
    }
}
