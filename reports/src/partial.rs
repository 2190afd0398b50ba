//! partial.json: one shard of a run, in a form `tokenfleet merge` combines exactly.
//!
//! A shard holds integer counters (tokens, nanoseconds, pico-dollars as decimal strings) and
//! the histograms' exact bucket counts, never percentiles or averages, so merging shards gives
//! the same numbers as the unsharded run. It also records the scenario text and `--set`
//! overrides exactly as they were loaded, the seed and the sample, so that merge rebuilds the
//! identical setup and refuses shards of different runs.

use std::io::Write;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokenfleet_fleet::results::AgentDay;
use tokenfleet_fleet::results::CallRecord;
use tokenfleet_fleet::results::CellStat;
use tokenfleet_fleet::results::SegmentTally;
use tokenfleet_fleet::results::Tally;
use tokenfleet_fleet::run::Layout;
use tokenfleet_fleet::run::RunOutput;
use tokenfleet_fleet::run::Shard;
use tokenfleet_models::Money;
use tokenfleet_serving::ledger::Ledger;
use tokenfleet_serving::ledger::PoolHour;

use crate::error::ReportError;
use crate::formats::write_json;
use crate::report::{Report, ReportContext};

/// The format tag; bump when the layout changes.
pub const FORMAT: &str = "tokenfleet-partial/3";

/// Why a partial result does not make a run: a number or a histogram that does not read back,
/// or rows that do not fill the ledger.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PartialError {
    /// Money (pico-dollars) that is not an integer.
    #[error("bad amount {0:?}")]
    Amount(String),
    /// A wide counter that is not a non-negative integer.
    #[error("bad counter {0:?}")]
    Counter(String),
    /// A histogram that cannot be made (its precision).
    #[error("{0}")]
    HistogramNew(hdrhistogram::CreationError),
    /// A (value, count) pair a histogram cannot hold.
    #[error("{0}")]
    HistogramRecord(hdrhistogram::RecordError),
    /// The rows are not one per pool and hour.
    #[error("the ledger's size does not match its pools and hours")]
    LedgerSize,
}

/// Where the scenario came from, as loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioSource {
    /// The file (or the built-in default's name).
    pub file: String,
    /// The directory relative paths in it resolve against.
    pub dir: Option<String>,
    /// The text as read.
    pub text: String,
    /// The `--set` overrides applied.
    pub overrides: Vec<String>,
    /// The `--sample`/`--full` choice, if any.
    pub sample: Option<f64>,
    /// The command line of the whole run, i.e. the shard's without `--shard`: what the merged
    /// output records as made it (so that it is byte-identical to the unsharded run's).
    #[serde(default)]
    pub command_line: String,
}

/// Money (pico-dollars) and wide counters, as decimal strings: JSON numbers are not exact
/// beyond 2^53.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
struct Wide(String);

impl Wide {
    fn money(m: Money) -> Wide {
        Wide(m.pico().to_string())
    }
    fn count(n: u128) -> Wide {
        Wide(n.to_string())
    }
    fn to_money(&self) -> Result<Money, PartialError> {
        self.0
            .parse::<i128>()
            .map(Money::from_pico)
            .map_err(|_| PartialError::Amount(self.0.clone()))
    }
    fn to_count(&self) -> Result<u128, PartialError> {
        self.0
            .parse::<u128>()
            .map_err(|_| PartialError::Counter(self.0.clone()))
    }
}

/// A ledger row, field for field, with histograms as exact (value, count) pairs.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Row {
    calls_arrived: u64,
    calls_completed: u64,
    calls_rejected: u64,
    calls_rate_limited: u64,
    preemptions: u64,
    prefill_tokens: u64,
    input_uncached: u64,
    input_cached: u64,
    output: u64,
    reusable: u64,
    calls_late: u64,
    revenue_uncached: Wide,
    revenue_cached: Wide,
    revenue_output: Wide,
    revenue_reasoning: Wide,
    revenue_blended: Wide,
    revenue_lost: Wide,
    penalty: Wide,
    sets: Vec<(Wide, Wide)>,
    busy_ns: Wide,
    active_ns: Wide,
    powered_ns: Wide,
    provisioned_ns: Wide,
    queue_area: Wide,
    in_system_area: Wide,
    in_flight: u64,
    in_flight_age_ns: Wide,
    kv_peak_tokens: u64,
    kv_used_area: Wide,
    kv_retained_area: Wide,
    ttft_sum_ns: Wide,
    e2e_sum_ns: Wide,
    calls_started: u64,
    calls_waited: u64,
    wait_sum_ns: Wide,
    ttft_us: Vec<(u64, u64)>,
    e2e_us: Vec<(u64, u64)>,
    tpot_us: Vec<(u64, u64)>,
}

fn histogram_pairs(h: &Histogram<u64>) -> Vec<(u64, u64)> {
    h.iter_recorded()
        .map(|v| (v.value_iterated_to(), v.count_at_value()))
        .collect()
}

fn pairs_histogram(pairs: &[(u64, u64)]) -> Result<Histogram<u64>, PartialError> {
    let mut h = Histogram::new(2).map_err(PartialError::HistogramNew)?;
    h.auto(true);
    for &(v, n) in pairs {
        h.record_n(v, n).map_err(PartialError::HistogramRecord)?;
    }
    Ok(h)
}

impl Row {
    fn from(r: &PoolHour) -> Row {
        Row {
            calls_arrived: r.calls_arrived,
            calls_completed: r.calls_completed,
            calls_rejected: r.calls_rejected,
            calls_rate_limited: r.calls_rate_limited,
            preemptions: r.preemptions,
            prefill_tokens: r.prefill_tokens,
            input_uncached: r.input_uncached,
            input_cached: r.input_cached,
            output: r.output,
            reusable: r.reusable,
            calls_late: r.calls_late,
            revenue_uncached: Wide::money(r.revenue_uncached),
            revenue_cached: Wide::money(r.revenue_cached),
            revenue_output: Wide::money(r.revenue_output),
            revenue_reasoning: Wide::money(r.revenue_reasoning),
            revenue_blended: Wide::money(r.revenue_blended),
            revenue_lost: Wide::money(r.revenue_lost),
            penalty: Wide::money(r.penalty),
            sets: r
                .sets
                .iter()
                .map(|(a, b)| (Wide::money(*a), Wide::money(*b)))
                .collect(),
            busy_ns: Wide::count(r.busy_ns),
            active_ns: Wide::count(r.active_ns),
            powered_ns: Wide::count(r.powered_ns),
            provisioned_ns: Wide::count(r.provisioned_ns),
            queue_area: Wide::count(r.queue_area),
            in_system_area: Wide::count(r.in_system_area),
            in_flight: r.in_flight,
            in_flight_age_ns: Wide::count(r.in_flight_age_ns),
            kv_peak_tokens: r.kv_peak_tokens,
            kv_used_area: Wide::count(r.kv_used_area),
            kv_retained_area: Wide::count(r.kv_retained_area),
            ttft_sum_ns: Wide::count(r.ttft_sum_ns),
            e2e_sum_ns: Wide::count(r.e2e_sum_ns),
            calls_started: r.calls_started,
            calls_waited: r.calls_waited,
            wait_sum_ns: Wide::count(r.wait_sum_ns),
            ttft_us: histogram_pairs(&r.ttft_us),
            e2e_us: histogram_pairs(&r.e2e_us),
            tpot_us: histogram_pairs(&r.tpot_us),
        }
    }

    fn into_pool_hour(self) -> Result<PoolHour, PartialError> {
        Ok(PoolHour {
            calls_arrived: self.calls_arrived,
            calls_completed: self.calls_completed,
            calls_rejected: self.calls_rejected,
            calls_rate_limited: self.calls_rate_limited,
            preemptions: self.preemptions,
            prefill_tokens: self.prefill_tokens,
            input_uncached: self.input_uncached,
            input_cached: self.input_cached,
            output: self.output,
            reusable: self.reusable,
            calls_late: self.calls_late,
            revenue_uncached: self.revenue_uncached.to_money()?,
            revenue_cached: self.revenue_cached.to_money()?,
            revenue_output: self.revenue_output.to_money()?,
            revenue_reasoning: self.revenue_reasoning.to_money()?,
            revenue_blended: self.revenue_blended.to_money()?,
            revenue_lost: self.revenue_lost.to_money()?,
            penalty: self.penalty.to_money()?,
            sets: self
                .sets
                .iter()
                .map(|(a, b)| Ok((a.to_money()?, b.to_money()?)))
                .collect::<Result<_, PartialError>>()?,
            busy_ns: self.busy_ns.to_count()?,
            active_ns: self.active_ns.to_count()?,
            powered_ns: self.powered_ns.to_count()?,
            provisioned_ns: self.provisioned_ns.to_count()?,
            queue_area: self.queue_area.to_count()?,
            in_system_area: self.in_system_area.to_count()?,
            in_flight: self.in_flight,
            in_flight_age_ns: self.in_flight_age_ns.to_count()?,
            kv_peak_tokens: self.kv_peak_tokens,
            kv_used_area: self.kv_used_area.to_count()?,
            kv_retained_area: self.kv_retained_area.to_count()?,
            ttft_sum_ns: self.ttft_sum_ns.to_count()?,
            e2e_sum_ns: self.e2e_sum_ns.to_count()?,
            calls_started: self.calls_started,
            calls_waited: self.calls_waited,
            wait_sum_ns: self.wait_sum_ns.to_count()?,
            ttft_us: pairs_histogram(&self.ttft_us)?,
            e2e_us: pairs_histogram(&self.e2e_us)?,
            tpot_us: pairs_histogram(&self.tpot_us)?,
        })
    }
}

/// A segment's tally with its histograms as (value, count) pairs.
// Written out field for field like Row: they mirror two different types (SegmentTally, PoolHour).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SegmentRow {
    calls_completed: u64,
    input: u64,
    input_cached: u64,
    output: u64,
    reasoning: u64,
    compactions: u64,
    subagent_calls: u64,
    retries: u64,
    rejected: u64,
    tasks_started: u64,
    tasks_completed: u64,
    tasks_abandoned: u64,
    input_per_call: Vec<(u64, u64)>,
    output_per_call: Vec<(u64, u64)>,
    calls_per_task: Vec<(u64, u64)>,
}

impl SegmentRow {
    fn from(t: &SegmentTally) -> SegmentRow {
        SegmentRow {
            calls_completed: t.calls_completed,
            input: t.input,
            input_cached: t.input_cached,
            output: t.output,
            reasoning: t.reasoning,
            compactions: t.compactions,
            subagent_calls: t.subagent_calls,
            retries: t.retries,
            rejected: t.rejected,
            tasks_started: t.tasks_started,
            tasks_completed: t.tasks_completed,
            tasks_abandoned: t.tasks_abandoned,
            input_per_call: histogram_pairs(&t.input_per_call),
            output_per_call: histogram_pairs(&t.output_per_call),
            calls_per_task: histogram_pairs(&t.calls_per_task),
        }
    }
    fn into_tally(self) -> Result<SegmentTally, PartialError> {
        Ok(SegmentTally {
            calls_completed: self.calls_completed,
            input: self.input,
            input_cached: self.input_cached,
            output: self.output,
            reasoning: self.reasoning,
            compactions: self.compactions,
            subagent_calls: self.subagent_calls,
            retries: self.retries,
            rejected: self.rejected,
            tasks_started: self.tasks_started,
            tasks_completed: self.tasks_completed,
            tasks_abandoned: self.tasks_abandoned,
            input_per_call: pairs_histogram(&self.input_per_call)?,
            output_per_call: pairs_histogram(&self.output_per_call)?,
            calls_per_task: pairs_histogram(&self.calls_per_task)?,
        })
    }
}

/// The contents of partial.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartialFile {
    pub format: String,
    pub tokenfleet_version: String,
    pub scenario: ScenarioSource,
    pub seed: u64,
    pub shard: Shard,
    pub layout: Layout,
    pub pools: usize,
    pub hours: usize,
    pub agents_simulated: u64,
    pub replicas_simulated: Vec<u64>,
    pub tally: Tally,
    segments: Vec<SegmentRow>,
    rows: Vec<Row>,
    pub agent_days: Vec<AgentDay>,
    pub calls: Vec<CallRecord>,
    pub cell_stats: Vec<CellStat>,
    pub wall_seconds: f64,
}

impl PartialFile {
    pub fn new(source: ScenarioSource, run: &RunOutput) -> PartialFile {
        PartialFile {
            format: FORMAT.into(),
            tokenfleet_version: env!("CARGO_PKG_VERSION").into(),
            scenario: source,
            seed: run.seed,
            shard: run.shard.unwrap_or(Shard { index: 0, count: 1 }),
            layout: run.layout.clone(),
            pools: run.ledger.pools,
            hours: run.ledger.hours,
            agents_simulated: run.agents_simulated,
            replicas_simulated: run.replicas_simulated.clone(),
            tally: run.tally,
            segments: run.segments.iter().map(SegmentRow::from).collect(),
            rows: run.ledger.rows().iter().map(Row::from).collect(),
            agent_days: run.agent_days.clone(),
            calls: run.calls.clone(),
            cell_stats: run.cell_stats.clone(),
            wall_seconds: run.wall_seconds,
        }
    }

    /// Reads a partial file, checking its format.
    pub fn read(path: &std::path::Path) -> Result<PartialFile, ReportError> {
        let err = |message: String| ReportError::Read {
            path: path.to_path_buf(),
            message,
        };
        let limit = tokenfleet_models::input::RESULT_MAX_BYTES;
        let text = tokenfleet_models::input::read_string(path, limit, "a partial result").map_err(
            |e| {
                err(e
                    .to_string()
                    .replacen(&format!("{}: ", path.display()), "", 1))
            },
        )?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| err(format!("not valid JSON: {e}")))?;
        match value.get("format").and_then(|f| f.as_str()) {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(err(format!(
                    "format {other:?} is not {FORMAT:?}; re-run the shard with this version"
                )));
            }
            None => {
                return Err(err(
                    "not a tokenfleet partial result (no `format` field)".into()
                ));
            }
        }
        serde_json::from_value(value).map_err(|e| err(format!("malformed partial result: {e}")))
    }

    /// The shard as a run output.
    pub fn into_run(self) -> Result<RunOutput, PartialError> {
        let rows = self
            .rows
            .into_iter()
            .map(Row::into_pool_hour)
            .collect::<Result<Vec<_>, _>>()?;
        let ledger =
            Ledger::from_rows(self.pools, self.hours, rows).ok_or(PartialError::LedgerSize)?;
        Ok(RunOutput {
            seed: self.seed,
            layout: self.layout,
            shard: Some(self.shard),
            agents_simulated: self.agents_simulated,
            replicas_simulated: self.replicas_simulated,
            ledger,
            tally: self.tally,
            segments: self
                .segments
                .into_iter()
                .map(SegmentRow::into_tally)
                .collect::<Result<_, _>>()?,
            agent_days: self.agent_days,
            calls: self.calls,
            cell_stats: self.cell_stats,
            wall_seconds: self.wall_seconds,
        })
    }
}

/// Writes partial.json for a shard.
pub struct PartialJson(pub ScenarioSource);

impl Report for PartialJson {
    fn file_name(&self) -> &'static str {
        "partial.json"
    }
    fn write(&self, ctx: &ReportContext, out: &mut dyn Write) -> Result<(), ReportError> {
        let file = PartialFile::new(self.0.clone(), ctx.run);
        write_json("partial.json", &file, false, out)
    }
}
