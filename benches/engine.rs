//! Engine benchmarks: the bare event queue and whole fleet runs.
//!
//! `cargo bench --bench engine` reports events/s (bare queue, hold model with ~1,000 pending
//! events, the classic discrete-event benchmark), simulated calls/s for the small scenario
//! and for two cells of the default million-agent scenario, and the wall time of the peer
//! workload: Azure's 2023 conversation trace (1 h, 19,366 requests) replayed on 16 x 8xH100
//! serving Llama-2-70B at TP8 (scenarios/peer-azure-conv.toml), SplitwiseSim's setup.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokenfleet_engine::SimTime;
use tokenfleet_engine::queue::EventQueue;
use tokenfleet_engine::rng::{Subsystem, stream};
use tokenfleet_scenario::Scenario;

fn bare_queue(c: &mut Criterion) {
    const PENDING: usize = 1_000;
    const EVENTS: u64 = 1_000_000;
    let mut g = c.benchmark_group("event_queue");
    g.throughput(Throughput::Elements(EVENTS));
    g.bench_function("hold_1k_pending", |b| {
        b.iter(|| {
            let mut rng = stream(1, Subsystem::AgentLoop, 0);
            let mut q = EventQueue::with_capacity(PENDING);
            for i in 0..PENDING as u64 {
                q.schedule(SimTime(rand::Rng::next_u64(&mut rng) % 1_000_000), i);
            }
            for _ in 0..EVENTS {
                let (t, e) = q.pop().unwrap();
                let dt = rand::Rng::next_u64(&mut rng) % 1_000_000;
                q.schedule(SimTime(t.0 + dt), e);
            }
            black_box(q.processed())
        })
    });
    g.finish();
}

fn fleet(
    c: &mut Criterion,
    name: &str,
    file: Option<&str>,
    sets: &[&str],
    sample: Option<f64>,
    samples: usize,
) {
    let path = file.map(|f| {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(f)
    });
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let (s, origin) = Scenario::load(path.as_deref(), &sets).unwrap();
    let setup = s.resolve(&origin).unwrap();
    let probe = tokenfleet_fleet::run(&setup, setup.seed, sample, &|_| {});
    let mut g = c.benchmark_group(name);
    g.sample_size(samples);
    g.throughput(Throughput::Elements(probe.tally.calls_completed));
    // One thread: the figures are per core (cells would otherwise run on every core).
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    g.bench_function("calls", |b| {
        b.iter(|| {
            one.install(|| {
                black_box(
                    tokenfleet_fleet::run(&setup, setup.seed, sample, &|_| {})
                        .tally
                        .events,
                )
            })
        })
    });
    g.finish();
    eprintln!(
        "{name}: {} events, {} calls, {:.2} events per call",
        probe.tally.events,
        probe.tally.calls_completed,
        probe.tally.events as f64 / probe.tally.calls_completed.max(1) as f64
    );
}

fn fleets(c: &mut Criterion) {
    fleet(c, "fleet_small", Some("small.toml"), &[], None, 20);
    // The same run stepped iteration by iteration: what closed-form batching saves.
    fleet(
        c,
        "fleet_small_stepping",
        Some("small.toml"),
        &["engine.stepping=true"],
        None,
        10,
    );
    // Two of the default scenario's 1,000 cells: 2,000 heavy agents on 16 replicas for a day.
    fleet(c, "fleet_default_2_cells", None, &[], Some(0.002), 10);
    fleet(
        c,
        "fleet_default_2_cells_stepping",
        None,
        &["engine.stepping=true"],
        Some(0.002),
        10,
    );
}

fn peer(c: &mut Criterion) {
    use tokenfleet_workload::trace;
    use tokenfleet_workload::trace::{Replay, ReplayOptions};
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (s, origin) =
        Scenario::load(Some(&root.join("scenarios/peer-azure-conv.toml")), &[]).unwrap();
    let base = s.resolve(&origin).unwrap();
    let path = root.join("tests/fixtures/traces/azure_llm_2023_conv.csv");
    let t = trace::read(&path, trace::guess_format(&path).unwrap()).unwrap();
    let (model, window) = tokenfleet_fleet::replay::choose_model(&base, None).unwrap();
    let replay = Replay::new(t, ReplayOptions::default(), window).unwrap();
    let setup = tokenfleet_fleet::replay::setup_for(&replay, &base, model);
    let probe = tokenfleet_fleet::run::run_replay(&setup, &replay, setup.seed, None, &|_| {});
    let mut g = c.benchmark_group("peer_azure_conv_16x8_h100_llama2_70b");
    g.sample_size(20);
    g.throughput(Throughput::Elements(probe.tally.calls_completed));
    g.bench_function("replay", |b| {
        b.iter(|| {
            black_box(
                tokenfleet_fleet::run::run_replay(&setup, &replay, setup.seed, None, &|_| {})
                    .tally
                    .events,
            )
        })
    });
    g.finish();
    eprintln!(
        "peer: {} requests, {} events, {:.2} events per call",
        probe.tally.calls_completed,
        probe.tally.events,
        probe.tally.events as f64 / probe.tally.calls_completed.max(1) as f64
    );
}

criterion_group!(benches, bare_queue, fleets, peer);
criterion_main!(benches);
