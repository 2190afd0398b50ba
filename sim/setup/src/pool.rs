//! A resolved pool: replicas of one device type serving one model, with the routing,
//! admission, autoscaling, cost and electricity settings the serving code reads.

use serde::{Deserialize, Serialize};
use tokenfleet_engine::time::SimTime;
use tokenfleet_models::ModelArch;
use tokenfleet_models::hardware::Hardware;
use tokenfleet_models::money::MoneyRate;
use tokenfleet_models::perf::{
    Admission, Calibration, EngineProfile, PerfParams, ReplicaPerf, ReplicaShape, Scheduler,
};
use tokenfleet_models::power::PowerModel;

use crate::cost::CostMode;

/// How calls are spread over a model's replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouterKind {
    RoundRobin,
    LeastLoaded,
    /// Power of two choices: two replicas drawn at random, the less loaded one wins.
    PowerOfTwo,
    /// Session affinity: back to the replica holding the agent's context, unless it is busier
    /// than the least-loaded replica by more than `affinity_slack` sequences.
    Affinity,
    /// One first-come-first-served queue per model in front of the cell's replicas (a gateway
    /// queue, as global schedulers keep): a call goes to the least-loaded replica with a free
    /// sequence slot, or waits until a slot frees up anywhere.
    SharedQueue,
}

/// What the autoscaler watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScaleMetric {
    /// KV-cache occupancy (running and retained), a fraction of capacity.
    Kv,
    /// Calls waiting per replica.
    Queue,
    /// Busy time share.
    Busy,
}

/// A per-agent token bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Bucket size (calls).
    pub burst: f64,
    /// Refill, calls per second.
    pub per_second: f64,
}

/// A resolved autoscaler.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Autoscale {
    pub min: u64,
    pub max: u64,
    pub metric: ScaleMetric,
    pub target: f64,
    pub interval: SimTime,
    pub provision_delay: SimTime,
    pub scale_down_window: SimTime,
}

/// A resolved pool.
#[derive(Debug, Clone)]
pub struct Pool {
    pub name: String,
    pub hardware: Hardware,
    /// Index into `Setup::served`.
    pub model: usize,
    /// Replicas at the start (and throughout, without an autoscaler).
    pub replicas: u64,
    /// Most replicas the pool may have (= `replicas` without an autoscaler).
    pub replicas_max: u64,
    pub perf: ReplicaPerf,
    pub power: PowerModel,
    pub max_batch_tokens: u32,
    pub max_seqs: u32,
    /// The engine's prefill policy.
    pub scheduler: Scheduler,
    /// The engine's KV admission policy.
    pub admission: Admission,
    pub queue_limit: u32,
    pub router: RouterKind,
    pub affinity_slack: u32,
    pub retention: SimTime,
    pub rate_limit: Option<RateLimit>,
    pub autoscale: Option<Autoscale>,
    pub cost: CostMode,
    /// Hardware cost per device-second.
    pub device_rate: MoneyRate,
    /// Electricity is billed on top of the hardware cost (owned devices; rented ones include it).
    pub pay_energy: bool,
    /// Electricity in each UTC hour of the day, pico-dollars per kWh.
    pub electricity_pico_per_kwh: [i128; 24],
    /// What the electricity price is, in words ("us: $0.08/kWh").
    pub electricity_label: String,
    pub pue: f64,
}

impl Pool {
    /// Devices at the start.
    pub fn devices(&self) -> u64 {
        self.replicas * self.perf.devices as u64
    }

    /// A one-replica pool run as `engine` runs it (its batch limits, scheduler and
    /// admission rule) with `params`: the engine's own, or a candidate of a fit.
    pub fn for_engine(
        hardware: &Hardware,
        model_name: &str,
        arch: &ModelArch,
        shape: ReplicaShape,
        engine: &EngineProfile,
        params: &PerfParams,
    ) -> Result<Pool, tokenfleet_models::perf::PerfError> {
        let mut pool = Pool::standalone(
            hardware,
            model_name,
            arch,
            shape,
            params,
            engine.max_batch_tokens,
            engine.max_seqs,
        )?;
        pool.scheduler = engine.scheduler;
        pool.admission = engine.admission;
        Ok(pool)
    }

    /// A one-replica pool outside any scenario, for serving benchmarks (`tokenfleet perf`,
    /// calibration): engine defaults as in vLLM, rented at the catalog price if it has one.
    pub fn standalone(
        hardware: &Hardware,
        model_name: &str,
        arch: &ModelArch,
        shape: ReplicaShape,
        params: &PerfParams,
        max_batch_tokens: u32,
        max_seqs: u32,
    ) -> Result<Pool, tokenfleet_models::perf::PerfError> {
        let perf = ReplicaPerf::new(model_name, arch, hardware, shape, params)?;
        let rent = hardware.rent.map_or(0.0, |r| r.usd_per_hour);
        Ok(Pool {
            name: hardware.id.clone(),
            // The compiled-in calibration is checked by its tests and by every scenario's
            // resolution, so a linear curve here is only a fallback for a broken build.
            power: PowerModel::new(
                hardware.idle_w,
                hardware.tdp_w,
                Calibration::builtin().map_or(1.0, |c| c.power.exponent),
            ),
            hardware: hardware.clone(),
            model: 0,
            replicas: 1,
            replicas_max: 1,
            perf,
            max_batch_tokens,
            max_seqs,
            scheduler: Scheduler::Mixed,
            admission: Admission::Prompt,
            queue_limit: u32::MAX,
            router: RouterKind::LeastLoaded,
            affinity_slack: 0,
            retention: SimTime::ZERO,
            rate_limit: None,
            autoscale: None,
            cost: CostMode::Rent {
                usd_per_device_hour: rent,
            },
            device_rate: MoneyRate::from_usd_per_hour(rent),
            pay_energy: false,
            electricity_pico_per_kwh: [0; 24],
            electricity_label: String::new(),
            pue: 1.0,
        })
    }
}
