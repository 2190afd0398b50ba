//! The strategies that draw a [`Case`]: its segments, pools, prices, electricity and SLA.

use proptest::prelude::*;

use super::{
    Autoscale, Budget, COMBOS, Case, CostCase, Electricity, Gap, PoolCase, PriceCase, SMALL_CACHE,
    SegmentCase, Sla, Sub,
};

/// Two decimal places, so that the TOML text shows what was drawn.
fn dec(lo: f64, hi: f64) -> impl Strategy<Value = f64> {
    ((lo * 100.0) as u32..=(hi * 100.0) as u32).prop_map(|x| x as f64 / 100.0)
}

fn segment() -> impl Strategy<Value = SegmentCase> {
    let budget = prop_oneof![
        (1000u32..=8000, dec(1.2, 3.0))
            .prop_map(|(p10_k, ratio)| Budget::Lognormal { p10_k, ratio }),
        (1000u32..=5000, dec(1.3, 3.0)).prop_map(|(min_k, alpha)| Budget::Pareto { min_k, alpha }),
        (2000u32..=20_000).prop_map(|k| Budget::Constant { k }),
    ];
    let gap = prop_oneof![
        dec(0.5, 8.0).prop_map(|mean_s| Gap::Exponential { mean_s }),
        (dec(0.0, 3.0), dec(0.5, 8.0)).prop_map(|(min_s, width_s)| Gap::Uniform { min_s, width_s }),
    ];
    let sub = proptest::option::weighted(
        0.3,
        (dec(0.01, 0.2), 1u32..=3, 1u32..=4).prop_map(|(probability, fanout, calls)| Sub {
            probability,
            fanout,
            calls,
        }),
    );
    (
        (
            proptest::bool::weighted(0.15),
            0usize..2,
            budget,
            50u32..=3000,
            dec(0.0, 1.5),
            500u32..=4000,
            100u32..=2000,
        ),
        (
            10u32..=150,
            dec(2.0, 8.0),
            proptest::option::weighted(0.5, 50u32..=1000),
            any::<bool>(),
            gap,
            dec(0.35, 0.95),
            500u32..=2000,
        ),
        (
            0u32..=3,
            1u32..=5,
            sub,
            prop_oneof![Just("flat"), Just("workday"), Just("evening")],
            -12i32..=14,
        ),
    )
        .prop_map(
            |(
                (monitor, model_pick, budget, task_k, spread, system, new_mean),
                (
                    output_p10,
                    output_ratio,
                    reasoning_mean,
                    keep_reasoning,
                    gap,
                    compact_at,
                    summary,
                ),
                (retry_max, backoff_s, sub, profile, timezone),
            )| SegmentCase {
                monitor,
                model_pick,
                budget,
                task_k,
                spread,
                system,
                new_mean,
                output_p10,
                output_ratio,
                reasoning_mean,
                keep_reasoning,
                gap,
                compact_at,
                summary,
                retry_max,
                backoff_s,
                sub,
                profile,
                timezone,
            },
        )
}

fn electricity_case() -> impl Strategy<Value = Electricity> {
    prop_oneof![
        (20u32..=300).prop_map(|mills| Electricity::Price { mills }),
        prop_oneof![Just("us"), Just("us-texas"), Just("china-west")].prop_map(Electricity::Region),
        (50u32..=400, 10u32..=200, 0u32..24, 1u32..=23, -8i32..=9).prop_map(
            |(peak_mills, off_mills, from, hours, timezone)| Electricity::Tariff {
                peak_mills,
                off_mills,
                from,
                hours,
                timezone,
            }
        ),
    ]
}

fn pool() -> impl Strategy<Value = PoolCase> {
    let autoscale = proptest::option::weighted(
        0.25,
        (
            0u32..=2,
            0u32..=3,
            prop_oneof![Just("kv"), Just("busy"), Just("queue")],
            dec(0.2, 1.0),
            30u32..=600,
            0u32..=600,
            0u32..=900,
        )
            .prop_map(
                |(below, above, metric, target, interval_s, delay_s, window_s)| Autoscale {
                    below,
                    above,
                    metric,
                    target,
                    interval_s,
                    delay_s,
                    window_s,
                },
            ),
    );
    let cost = prop_oneof![
        (50u32..=900).prop_map(|cents| CostCase::Rent { cents }),
        prop_oneof![Just("low"), Just("typical"), Just("high")].prop_map(CostCase::RentRange),
        (
            proptest::option::of(1000u32..=50_000),
            4u32..=72,
            dec(0.0, 1.0),
            dec(0.0, 0.15)
        )
            .prop_map(|(price, months, overhead, cost_of_capital)| CostCase::Own {
                price,
                months,
                overhead,
                cost_of_capital,
            }),
    ];
    // From overloaded (one sequence, a one-call queue) to generous.
    let batch = prop_oneof![
        (1u32..=4, 1u32..=4),
        (4u32..=64, 4u32..=64),
        (64u32..=256, 64u32..=1024)
    ];
    (
        (
            // A third of the pools have the small cache, where long outputs preempt.
            prop_oneof![1 => Just(SMALL_CACHE), 2 => 0..COMBOS.len()],
            1u32..=4,
            batch,
            prop_oneof![Just(2048u32), Just(4096), Just(8192)],
            prop_oneof![
                Just("round-robin"),
                Just("least-loaded"),
                Just("power-of-two"),
                Just("affinity")
            ],
            0u32..=16,
            30u32..=3600,
        ),
        (
            proptest::option::weighted(0.15, (1u32..=10, 5u32..=120)),
            autoscale,
            cost,
            proptest::option::of(any::<bool>()),
            proptest::option::weighted(0.3, electricity_case()),
            proptest::option::weighted(0.2, dec(1.0, 2.0)),
        ),
    )
        .prop_map(
            |(
                (
                    combo,
                    replicas,
                    (max_seqs, queue_limit),
                    max_batch_tokens,
                    router,
                    slack,
                    retention_s,
                ),
                (rate_limit, autoscale, cost, pay_energy, electricity, pue),
            )| PoolCase {
                combo,
                replicas,
                max_seqs,
                max_batch_tokens,
                queue_limit,
                router,
                slack,
                retention_s,
                rate_limit,
                autoscale,
                cost,
                pay_energy,
                electricity,
                pue,
            },
        )
}

fn price() -> impl Strategy<Value = PriceCase> {
    (
        10_000u32..=5_000_000,
        dec(0.0, 1.0),
        20_000u32..=20_000_000,
        proptest::option::of(10_000u32..=5_000_000),
        proptest::option::weighted(0.3, (0u32..24, 1u32..=12, dec(0.2, 2.0))),
        proptest::option::weighted(0.3, dec(0.1, 3.0)),
    )
        .prop_map(
            |(input, cached_share, output, blended, period, alt_scale)| PriceCase {
                input,
                cached_share,
                output,
                blended,
                period,
                alt_scale,
            },
        )
}

pub fn scenario() -> impl Strategy<Value = Case> {
    (
        (
            // TOML integers are signed 64-bit.
            0..=i64::MAX as u64,
            10u32..=150,
            15u32..=100,
            1u32..=3,
            proptest::option::weighted(0.15, prop_oneof![Just(0.5), Just(0.75)]),
            proptest::bool::weighted(0.15),
        ),
        (
            proptest::collection::vec(segment(), 1..=2),
            dec(0.2, 0.8),
            proptest::collection::vec(pool(), 1..=3),
            [price(), price()],
            electricity_case(),
            dec(1.0, 2.0),
        ),
        (
            proptest::option::weighted(
                0.3,
                (
                    50u32..=5000,
                    proptest::option::of(5u32..=120),
                    dec(0.0, 1.0),
                )
                    .prop_map(|(ttft_ms, e2e_s, penalty)| Sla {
                        ttft_ms,
                        e2e_s,
                        penalty,
                    }),
            ),
            2usize..=3,
        ),
    )
        .prop_map(
            |(
                (seed, agents, minutes, replicas_per_cell, sample, weekend),
                (segments, share0, pools, prices, energy, pue),
                (sla, shards),
            )| Case {
                seed,
                agents,
                minutes,
                replicas_per_cell,
                sample,
                weekend,
                segments,
                share0,
                pools,
                prices,
                energy,
                pue,
                sla,
                shards,
            },
        )
}
