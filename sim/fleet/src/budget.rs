//! Sizing a run before it starts: an estimate of its memory and wall time, and the refusal of
//! runs the machine cannot finish.
//!
//! **Memory.** A run keeps, for every simulated agent, its day (`AgentDay`: budget, tokens,
//! tasks, revenue per price set) until the reports are written; while a cell runs, its agents'
//! loop state, sub-agent slots, prefix-cache entries and events; and the sampled calls of
//! calls_sample.csv (capped only when cells are merged). Measured on the default scenario and
//! small.toml (maximum resident set size over agents simulated, `/usr/bin/time -v`): about
//! 190 bytes per simulated agent, 175 bytes per agent of a running cell, 30 MB of catalog,
//! code and buffers.
//!
//! **Time.** Calls simulated over a calls-per-second rate per thread: 250k in closed form
//! (the default scenario does 255-315k on a shared two-core machine, 600k on an idle one),
//! forty times fewer in stepping mode (the engine benchmark: 81-229 events per call against
//! 3.6-4.6). Known error: a factor of two either way with the scenario (overloaded pools
//! reject cheaply; sub-agents and tiny calls cost more per call).
//!
//! **Refusal.** A run is refused when its memory estimate exceeds 80% of the memory the machine
//! has available (`MemAvailable`, or a container's cgroup limit if lower), or its time
//! estimate exceeds a day. The message names both estimates, the machine's figure and what to
//! do instead: sample (`--sample`), shard (`--shard I/N`), or insist (`--force`).

use tokenfleet_setup::Setup;

/// Resident bytes per simulated agent kept until the end of the run.
pub const BYTES_PER_AGENT: f64 = 190.0;
/// Resident bytes per agent of a cell being simulated (without sub-agent slots).
pub const BYTES_PER_CELL_AGENT: f64 = 175.0;
/// Resident bytes per sub-agent slot of a cell being simulated.
pub const BYTES_PER_SUBAGENT_SLOT: f64 = 150.0;
/// Bytes per sampled call record before the sample is capped.
pub const BYTES_PER_CALL_RECORD: f64 = 100.0;
/// The catalog, code and buffers of any run.
pub const BASE_BYTES: f64 = 30e6;
/// Calls simulated per second per thread in closed form.
pub const CALLS_PER_THREAD_SECOND: f64 = 250_000.0;
/// How much slower stepping mode is.
pub const STEPPING_SLOWDOWN: f64 = 40.0;
/// Resident bytes per replica of the cluster, simulated or not (its state, queue and ledger
/// columns). Measured: small.toml with 1e7 replicas peaks at 1.02 GB, sampled or full.
pub const BYTES_PER_REPLICA: f64 = 100.0;
/// Seconds per replica to lay out and account for the cluster, whatever is simulated: the
/// same run takes 3.1-4.1 s on an idle core; a third of that is allowed for a busy machine.
pub const SECONDS_PER_REPLICA: f64 = 1e-6;
/// Share of the available memory a run may plan to use.
pub const MEMORY_SHARE: f64 = 0.8;
/// Longest run accepted without `--force`, seconds.
pub const MAX_SECONDS: f64 = 86_400.0;

/// What a run is expected to cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Calls simulated (this shard's, if sharded).
    pub calls: f64,
    /// Agents (or replayed units) simulated.
    pub agents: f64,
    /// Agents of one cell.
    pub agents_per_cell: f64,
    /// Cells simulated at once.
    pub parallel_cells: f64,
    /// Peak resident memory, bytes.
    pub bytes: f64,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Share of the fleet simulated.
    pub fraction: f64,
    /// Resident bytes of the cells simulated at once (sub-agent slots included): what sampling
    /// and sharding cannot shrink.
    pub inflight_bytes: f64,
    /// The share of `seconds` and of `bytes` spent on the pools' replicas (building and
    /// accounting them), not on calls and agents.
    pub replica_seconds: f64,
    pub replica_bytes: f64,
}

impl Estimate {
    /// The estimate for simulating `simulated` of `cells` cells of `setup` (whose traffic
    /// amounts to `calls_total` calls) on `threads` threads.
    pub fn new(
        setup: &Setup,
        cells: usize,
        simulated: usize,
        calls_total: f64,
        threads: usize,
    ) -> Estimate {
        let cells = cells.max(1) as f64;
        let fraction = (simulated as f64 / cells).clamp(0.0, 1.0);
        let agents_total = setup.agents as f64;
        let agents = agents_total * fraction;
        let agents_per_cell = (agents_total / cells).ceil();
        let parallel_cells = (threads.max(1) as f64).min(simulated.max(1) as f64);
        let fanout = setup
            .segments
            .iter()
            .filter_map(|s| s.subagents.as_ref().map(|x| x.max_fanout))
            .max()
            .unwrap_or(0) as f64;
        let calls = calls_total.max(0.0) * fraction;
        let records = calls * setup.engine.calls_sample_rate.clamp(0.0, 1.0);
        let bytes_per_cell_agent = BYTES_PER_CELL_AGENT + fanout * BYTES_PER_SUBAGENT_SLOT;
        let inflight_bytes = parallel_cells * agents_per_cell * bytes_per_cell_agent;
        let replicas: f64 = setup.pools.iter().map(|p| p.replicas_max as f64).sum();
        let bytes = BASE_BYTES
            + replicas * BYTES_PER_REPLICA
            + agents * BYTES_PER_AGENT
            + inflight_bytes
            + records * BYTES_PER_CALL_RECORD;
        let rate = CALLS_PER_THREAD_SECOND
            / if setup.engine.stepping {
                STEPPING_SLOWDOWN
            } else {
                1.0
            };
        Estimate {
            calls,
            agents,
            agents_per_cell,
            parallel_cells,
            bytes,
            seconds: calls / (rate * parallel_cells) + replicas * SECONDS_PER_REPLICA,
            fraction,
            inflight_bytes,
            replica_seconds: replicas * SECONDS_PER_REPLICA,
            replica_bytes: replicas * BYTES_PER_REPLICA,
        }
    }
}

impl Estimate {
    /// The estimate of `runs` runs like this one (one per thread, `threads` at a time), as a
    /// sweep makes them: the time adds up, the memory of the runs in flight together.
    pub fn repeated(self, runs: usize, threads: usize) -> Estimate {
        let at_once = threads.max(1).min(runs.max(1)) as f64;
        let runs = runs.max(1) as f64;
        Estimate {
            calls: self.calls * runs,
            agents: self.agents * at_once,
            parallel_cells: at_once,
            bytes: self.bytes * at_once,
            seconds: self.seconds * runs / at_once,
            inflight_bytes: self.inflight_bytes * at_once,
            replica_seconds: self.replica_seconds * runs / at_once,
            replica_bytes: self.replica_bytes * at_once,
            ..self
        }
    }
}

/// What the machine offers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Machine {
    /// Bytes of memory available to this process, if known.
    pub available_bytes: Option<f64>,
    /// Where that figure comes from ("MemAvailable", "cgroup limit").
    pub memory_source: &'static str,
}

impl Machine {
    /// This machine: Linux's MemAvailable, lowered to the cgroup (container) limit if there is
    /// one; unknown elsewhere (the memory check is then skipped).
    pub fn detect() -> Machine {
        let meminfo = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
                .map(|kb| kb * 1024.0)
        });
        let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
            .ok()
            .and_then(|max| max.trim().parse::<f64>().ok())
            .map(|max| {
                let used = std::fs::read_to_string("/sys/fs/cgroup/memory.current")
                    .ok()
                    .and_then(|c| c.trim().parse::<f64>().ok())
                    .unwrap_or(0.0);
                (max - used).max(0.0)
            });
        let (available_bytes, memory_source) = match (meminfo, cgroup) {
            (Some(m), Some(c)) if c < m => (Some(c), "the container's cgroup limit"),
            (Some(m), _) => (Some(m), "MemAvailable"),
            (None, Some(c)) => (Some(c), "the container's cgroup limit"),
            (None, None) => (None, "unknown"),
        };
        Machine {
            available_bytes,
            memory_source,
        }
    }
}

/// A run the machine cannot finish.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// `x` in the largest of `units` (scale, suffix, decimals) it reaches, else the last.
fn scaled(x: f64, units: &[(f64, &str, usize)]) -> String {
    let &(scale, suffix, decimals) = units
        .iter()
        .find(|u| x >= u.0)
        .unwrap_or(&units[units.len() - 1]);
    format!("{:.*}{suffix}", decimals, x / scale)
}

fn bytes(b: f64) -> String {
    scaled(b, &[(1e12, " TB", 1), (1e9, " GB", 1), (1e6, " MB", 0)])
}

fn count(x: f64) -> String {
    scaled(
        x,
        &[
            (1e12, "T", 1),
            (1e9, "B", 1),
            (1e6, "M", 1),
            (1e3, "k", 0),
            (1.0, "", 0),
        ],
    )
}

fn duration(s: f64) -> String {
    if s >= 2.0 * 86_400.0 {
        format!("{:.1} days", s / 86_400.0)
    } else if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 60.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{s:.0} s")
    }
}

/// Refuses `e` on `machine` when it needs more memory or time than allowed, saying how much,
/// what the machine has, and what to do instead.
pub fn check(e: &Estimate, machine: &Machine) -> Result<(), Refused> {
    check_as(e, machine, Job::Run)
}

/// What is being estimated: the advice on a refusal depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// A run or a sweep of runs (`--sample`, `--shard` apply).
    Run,
    /// A plan's search (its probes are sampled runs of `plan.cells` cells).
    Plan,
}

/// [`check`] for a `job`.
pub fn check_as(e: &Estimate, machine: &Machine, job: Job) -> Result<(), Refused> {
    let memory_limit = machine.available_bytes.map(|a| a * MEMORY_SHARE);
    let over_memory = memory_limit.is_some_and(|l| e.bytes > l);
    let over_time = e.seconds > MAX_SECONDS;
    if !over_memory && !over_time {
        return Ok(());
    }
    let mut why = Vec::new();
    if over_memory {
        why.push(format!(
            "about {} of memory ({} agents simulated, {} per cell, {} cells at once), more than {:.0}% of the {} this machine has available ({})",
            bytes(e.bytes),
            count(e.agents),
            count(e.agents_per_cell),
            e.parallel_cells,
            MEMORY_SHARE * 100.0,
            bytes(machine.available_bytes.unwrap_or(0.0)),
            machine.memory_source
        ));
    }
    if over_time {
        why.push(format!(
            "about {} ({} calls at ~{} calls/s per thread on {} thread{}), more than the {} a run may take",
            duration(e.seconds),
            count(e.calls),
            count(CALLS_PER_THREAD_SECOND),
            e.parallel_cells,
            if e.parallel_cells == 1.0 { "" } else { "s" },
            duration(MAX_SECONDS)
        ));
    }
    // Sampling and sharding shrink what grows with the agents simulated, not the cells being
    // simulated at once: if those alone do not fit, the fleet must be split into more cells.
    let fixed = BASE_BYTES + e.inflight_bytes;
    let fits_at = |limit: f64| -> Option<f64> {
        let variable = (e.bytes - fixed).max(1.0);
        (limit > fixed).then(|| e.fraction * (limit - fixed) / variable)
    };
    let by_memory = match memory_limit {
        Some(l) if over_memory => fits_at(l),
        _ => Some(e.fraction),
    };
    let by_time = e.fraction * MAX_SECONDS / e.seconds.max(1e-9);
    // Sampling shrinks the calls and agents, not the replicas every sampled run still builds.
    let replicas_dominate = (over_time && e.replica_seconds > 0.5 * e.seconds)
        || (over_memory && e.replica_bytes > 0.5 * e.bytes);
    let advice = match by_memory {
        _ if job == Job::Plan => "Probe fewer cells (plan.cells lower: each probe simulates that many cells of the fleet), or try fewer candidates (plan.hardware, plan.tp, plan.weights)".to_string(),
        _ if replicas_dominate => format!(
            "Most of it is the pools' replicas ({} replicas built, {} and {} of it), which sampling and sharding do not shrink: lower the replica counts (or autoscale.max) to what the fleet can use (`tokenfleet plan` finds the fewest that meet the targets)",
            count(e.replica_bytes / BYTES_PER_REPLICA),
            duration(e.replica_seconds),
            bytes(e.replica_bytes)
        ),
        None => format!(
            "{} cells of {} agents at once need {} alone: split the fleet into more cells (engine.replicas_per_cell lower, or more replicas in the smallest pool), run fewer at once (--threads 1), or simulate fewer agents",
            e.parallel_cells,
            count(e.agents_per_cell),
            bytes(fixed)
        ),
        Some(m) => {
            // Half of what would just fit, for the estimate's error.
            let fit = m.min(by_time) / 2.0;
            format!(
                "Simulate a sample instead (--sample {}, or engine.sample = \"auto\", the default, which keeps about engine.max_sampled_calls calls), or split it over machines (--shard I/{:.0} on each, then tokenfleet merge)",
                tokenfleet_engine::text::num(fit.max(1e-9)),
                (e.fraction / fit.max(1e-12)).ceil().max(2.0)
            )
        }
    };
    Err(Refused(format!(
        "refused: this {} would need {}. {advice}; or run it anyway with --force",
        match job {
            Job::Run => "run",
            Job::Plan => "plan",
        },
        why.join(" and "),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(agents: &str) -> Setup {
        let sets = vec![format!("fleet.agents={agents}")];
        let (s, o) = tokenfleet_scenario::Scenario::load(None, &sets).unwrap();
        s.resolve(&o).unwrap()
    }

    #[test]
    fn huge_full_runs_are_refused_with_the_estimate_and_what_to_do() {
        let s = setup("1e9");
        let e = Estimate::new(&s, 1000, 1000, s.expected_calls(), 2);
        assert!(e.bytes > 150e9 && e.seconds > 86_400.0, "{e:?}");
        let machine = Machine {
            available_bytes: Some(16e9),
            memory_source: "MemAvailable",
        };
        let msg = check(&e, &machine).unwrap_err().to_string();
        for part in [
            "GB of memory",
            "16.0 GB this machine has available (MemAvailable)",
            "days",
            "--sample 0.0",
            "--shard I/",
            "--force",
        ] {
            assert!(msg.contains(part), "{part}: {msg}");
        }
        // Where even the cells being simulated at once do not fit, sampling cannot help.
        let e = Estimate::new(&s, 2, 2, s.expected_calls(), 2);
        let msg = check(&e, &machine).unwrap_err().to_string();
        assert!(
            msg.contains("split the fleet into more cells") && !msg.contains("--sample"),
            "{msg}"
        );
    }

    #[test]
    fn sampled_and_ordinary_runs_pass() {
        let s = setup("1M");
        let machine = Machine {
            available_bytes: Some(8e9),
            memory_source: "MemAvailable",
        };
        // The default sample: about 15M calls of the fleet's 750M.
        let e = Estimate::new(&s, 1000, 20, s.expected_calls(), 2);
        assert!(check(&e, &machine).is_ok(), "{e:?}");
        // The whole million-agent day fits too (in about half an hour).
        let e = Estimate::new(&s, 1000, 1000, s.expected_calls(), 2);
        assert!(check(&e, &machine).is_ok(), "{e:?}");
        // Without a memory figure only the time is checked.
        let unknown = Machine {
            available_bytes: None,
            ..machine
        };
        assert!(check(&e, &unknown).is_ok());
    }

    #[test]
    fn sweeps_of_huge_replica_counts_are_told_to_lower_them_not_to_sample() {
        // The most a pool may have, in each of 20,000 sampled runs (a sweep's points x seeds).
        let sets = vec![
            "cluster.pool.h200.replicas=1e7".to_string(),
            "fleet.agents=1000".to_string(),
        ];
        let (sc, o) = tokenfleet_scenario::Scenario::load(None, &sets).unwrap();
        let s = sc.resolve(&o).unwrap();
        let e = Estimate::new(&s, 1000, 20, s.expected_calls(), 1).repeated(20_000, 2);
        let machine = Machine {
            available_bytes: Some(16e9),
            memory_source: "MemAvailable",
        };
        let msg = check(&e, &machine).unwrap_err().to_string();
        assert!(
            msg.contains("lower the replica counts") && !msg.contains("--sample"),
            "{msg}"
        );
    }
}
