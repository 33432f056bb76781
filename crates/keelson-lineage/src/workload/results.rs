//! The benchmark's output JSON (the shape of the anchor's `results.json`)
//! and the latency summary.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::spec::PerRunCounts;
use super::targets::LineageSize;

/// A whole results file: one system on one workload, several scales.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// What was measured, e.g. `keelson-lineage`.
    pub system: String,
    /// Its version.
    pub version: String,
    /// The storage backend, e.g. `sqlite-file`.
    pub backend: String,
    /// The workload file's `name`.
    pub workload: String,
    /// The machine it ran on.
    pub machine: Machine,
    /// One entry per number of runs (and mode, and file system).
    pub scales: Vec<Scale>,
}

/// The machine a benchmark ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// The CPU model name.
    pub cpu: String,
    /// Logical cores.
    pub cores: u64,
    /// The operating system.
    pub os: String,
    /// Anything else worth recording (the anchor adds `python`).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// Whether queries ran after the ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Ingest, then the seven queries.
    Full,
    /// Ingest only.
    IngestOnly,
}

/// One scale: ingest (and queries) of `runs` runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scale {
    /// The number of runs.
    pub runs: u64,
    /// Full, or ingest only.
    pub mode: Mode,
    /// The file system of the database, e.g. `tmpfs` or `ext4`.
    pub fs: String,
    /// Nodes written.
    pub nodes: NodeCounts,
    /// Edges written.
    pub edges: EdgeCounts,
    /// The ingest measurement.
    pub ingest: Ingest,
    /// The database size after ingest, journal files included.
    pub db_bytes: u64,
    /// `db_bytes / runs`.
    pub db_bytes_per_run: f64,
    /// The queries; absent in ingest-only mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queries: Option<Queries>,
    /// Anything else worth recording beside the figures: the anchor's
    /// `dbdir` and load averages, keelson's durability mode and number of
    /// concurrent callers.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// Nodes written at one scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeCounts {
    /// Contexts.
    pub contexts: u64,
    /// Executions.
    pub executions: u64,
    /// Artifacts.
    pub artifacts: u64,
    /// All nodes.
    pub total: u64,
}

/// Edges written at one scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeCounts {
    /// Events.
    pub events: u64,
    /// Attributions.
    pub attributions: u64,
    /// Associations.
    pub associations: u64,
    /// All edges.
    pub total: u64,
}

impl NodeCounts {
    /// The nodes of `runs` runs.
    pub fn for_runs(per_run: &PerRunCounts, runs: u64) -> NodeCounts {
        NodeCounts {
            contexts: per_run.contexts.saturating_mul(runs),
            executions: per_run.executions.saturating_mul(runs),
            artifacts: per_run.artifacts.saturating_mul(runs),
            total: per_run.nodes.saturating_mul(runs),
        }
    }
}

impl EdgeCounts {
    /// The edges of `runs` runs.
    pub fn for_runs(per_run: &PerRunCounts, runs: u64) -> EdgeCounts {
        EdgeCounts {
            events: per_run.events.saturating_mul(runs),
            attributions: per_run.attributions.saturating_mul(runs),
            associations: per_run.associations.saturating_mul(runs),
            total: per_run.edges.saturating_mul(runs),
        }
    }
}

/// The ingest measurement of one scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ingest {
    /// Wall seconds of the whole ingest.
    pub seconds: f64,
    /// Atomic `put_execution` calls made.
    pub put_execution_calls: u64,
    /// Calls per second.
    pub calls_per_s: f64,
    /// Runs per second.
    pub runs_per_s: f64,
    /// Nodes per second.
    pub nodes_per_s: f64,
    /// Edges per second.
    pub edges_per_s: f64,
    /// Nodes and edges per second.
    pub nodes_plus_edges_per_s: f64,
    /// Per-call latency.
    pub call_latency: LatencySummary,
}

impl Ingest {
    /// The rates of an ingest of `nodes` and `edges` over `runs` runs that
    /// took `seconds`, with the latency of each call in seconds; `None`
    /// without calls or with a non-positive duration.
    pub fn new(
        seconds: f64,
        runs: u64,
        nodes: &NodeCounts,
        edges: &EdgeCounts,
        call_seconds: &[f64],
    ) -> Option<Ingest> {
        if seconds.is_nan() || seconds <= 0.0 {
            return None;
        }
        let call_latency = LatencySummary::from_seconds(call_seconds)?;
        #[allow(clippy::cast_precision_loss)]
        let rate = |count: u64, decimals: i32| round(count as f64 / seconds, decimals);
        let calls = call_latency.n;
        Some(Ingest {
            seconds: round(seconds, 3),
            put_execution_calls: calls,
            calls_per_s: rate(calls, 1),
            runs_per_s: rate(runs, 2),
            nodes_per_s: rate(nodes.total, 1),
            edges_per_s: rate(edges.total, 1),
            nodes_plus_edges_per_s: rate(nodes.total.saturating_add(edges.total), 1),
            call_latency,
        })
    }
}

/// The seven queries, under their fixed keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Queries {
    /// The artifacts of one run's context.
    pub artifacts_by_context: QueryStats,
    /// The executions of one run's context.
    pub executions_by_context: QueryStats,
    /// The artifacts with one uri.
    pub artifact_by_uri: QueryStats,
    /// The property filter over all runs ([`Workload::filter_model_score`](super::Workload::filter_model_score)).
    pub filter_model_score: QueryStats,
    /// The context-name filter ([`QueryTargets::filter_by_context_name`](super::QueryTargets::filter_by_context_name)).
    pub filter_by_context_name: QueryStats,
    /// The UPSTREAM lineage subgraph.
    pub lineage_upstream_from_pushed_model: QueryStats,
    /// The BIDIRECTIONAL lineage subgraph.
    pub lineage_bidirectional_from_model: QueryStats,
}

/// The latency and result size of one query kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryStats {
    /// Latency over the measured queries.
    #[serde(flatten)]
    pub latency: LatencySummary,
    /// What each query returned (the same for all of them).
    pub result_size: ResultSize,
}

/// A query's result size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResultSize {
    /// Nodes returned.
    Count(u64),
    /// A lineage subgraph's size.
    Lineage(LineageSize),
}

/// Latency of a series of calls, in milliseconds, rounded to 4 decimals as
/// the anchor prints them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Samples.
    pub n: u64,
    /// The median (the mean of the middle two for an even count).
    pub median_ms: f64,
    /// The 99th percentile, nearest rank: the `ceil(0.99 n)`-th smallest.
    pub p99_ms: f64,
    /// The mean.
    pub mean_ms: f64,
    /// The largest.
    pub max_ms: f64,
}

impl LatencySummary {
    /// Summarises latencies given in seconds; `None` for no samples.
    pub fn from_seconds(samples: &[f64]) -> Option<LatencySummary> {
        let mut ms: Vec<f64> = samples.iter().map(|s| s * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        let n = ms.len();
        let last = *ms.last()?;
        let mid = n / 2;
        let median = if n % 2 == 1 {
            *ms.get(mid)?
        } else {
            (*ms.get(mid - 1)? + *ms.get(mid)?) / 2.0
        };
        // Nearest rank: the smallest sample with at least 99% of the
        // samples at or below it.
        let rank = (99 * n).div_ceil(100).max(1);
        let p99 = *ms.get(rank - 1)?;
        #[allow(clippy::cast_precision_loss)]
        let mean = ms.iter().sum::<f64>() / n as f64;
        Some(LatencySummary {
            n: u64::try_from(n).ok()?,
            median_ms: round(median, 4),
            p99_ms: round(p99, 4),
            mean_ms: round(mean, 4),
            max_ms: round(last, 4),
        })
    }
}

fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}
