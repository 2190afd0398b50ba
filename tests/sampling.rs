//! Sampled runs: the estimate of a fleet total from a subset of cells, and the sampling error
//! reported beside it, checked against the empirical spread of repeated subsamples.

mod common;

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

#[test]
fn reported_sampling_error_matches_the_spread_of_subsamples() {
    // 40 cells of 100 agents; one full run gives every cell's figures.
    let setup = common::setup(
        "small.toml",
        &[
            "fleet.agents=4000",
            "cluster.pool.h100.replicas=40",
            "engine.replicas_per_cell=1",
            "simulation.duration=1h",
        ],
    );
    let full = common::run(&setup, 2);
    assert_eq!(full.cell_stats.len(), 40);
    assert_eq!(
        full.sampling_rse(|c| c.calls_completed as f64),
        0.0,
        "a full run has no sampling error"
    );
    let truth: f64 = full
        .cell_stats
        .iter()
        .map(|c| c.calls_completed as f64)
        .sum();

    let n = 10;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let (mut estimates, mut predicted) = (Vec::new(), Vec::new());
    for _ in 0..3000 {
        let mut idx: Vec<usize> = (0..40).collect();
        for i in 0..n {
            let j = rng.random_range(i..40);
            idx.swap(i, j);
        }
        let mut sub = full.clone();
        sub.cell_stats = idx[..n].iter().map(|&i| full.cell_stats[i]).collect();
        let agents: f64 = sub.cell_stats.iter().map(|c| c.agents as f64).sum();
        let calls: f64 = sub
            .cell_stats
            .iter()
            .map(|c| c.calls_completed as f64)
            .sum();
        estimates.push(4000.0 * calls / agents);
        predicted.push(sub.sampling_rse(|c| c.calls_completed as f64));
    }
    let mean = estimates.iter().sum::<f64>() / estimates.len() as f64;
    let sd = (estimates.iter().map(|e| (e - mean).powi(2)).sum::<f64>()
        / (estimates.len() - 1) as f64)
        .sqrt();
    let empirical_rse = sd / truth;
    let mean_predicted = predicted.iter().sum::<f64>() / predicted.len() as f64;
    // The estimator is (nearly) unbiased and the formula predicts its spread.
    assert!(
        (mean / truth - 1.0).abs() < 0.005,
        "bias: {mean} vs {truth}"
    );
    assert!(empirical_rse > 0.0);
    let ratio = mean_predicted / empirical_rse;
    assert!(
        (0.8..1.25).contains(&ratio),
        "predicted {mean_predicted} vs empirical {empirical_rse}"
    );
}
