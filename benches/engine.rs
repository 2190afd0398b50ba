//! Engine benchmarks: the bare event queue and whole fleet runs.
//!
//! `cargo bench --bench engine` reports events/s (bare queue, hold model with ~1,000 pending
//! events, the classic discrete-event benchmark) and simulated calls/s for the small scenario
//! and for two cells of the default million-agent scenario.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokenfleet_sim::engine::EventQueue;
use tokenfleet_sim::rng::{Subsystem, stream};
use tokenfleet_sim::{Scenario, SimTime};

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
    let probe = tokenfleet_sim::run(&setup, setup.seed, sample, &|_| {});
    let mut g = c.benchmark_group(name);
    g.sample_size(samples);
    g.throughput(Throughput::Elements(probe.tally.calls_completed));
    g.bench_function("calls", |b| {
        b.iter(|| {
            black_box(
                tokenfleet_sim::run(&setup, setup.seed, sample, &|_| {})
                    .tally
                    .events,
            )
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

criterion_group!(benches, bare_queue, fleets);
criterion_main!(benches);
