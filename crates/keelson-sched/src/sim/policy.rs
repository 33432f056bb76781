//! The scheduling policies a simulation runs under, and their settings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::admission::Setup;
use crate::{Error, Result};

/// A scheduling policy; `docs/sched.md` ("Simulator") states each rule
/// exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Strict arrival order: the oldest waiting job starts first, and
    /// nothing starts while it does not fit.
    Fifo,
    /// Kueue's BestEffortFIFO admission by quota (the crate's
    /// [`Scheduler`](crate::Scheduler)), then gang placement of admitted
    /// jobs in admission order.
    Kueue,
    /// `Kueue` with fair sharing on: weighted dominant-resource share
    /// orders queues and picks preemption victims.
    Fair,
    /// FIFO with EASY backfilling: the blocked head gets a reservation at
    /// the earliest time it fits; a later job may start now if that does
    /// not delay the reservation.
    Backfill,
    /// Least attained service (Tiresias' discretized 2D-LAS): queues by
    /// attained GPU-time, FIFO within a queue, preemption of jobs in lower
    /// queues, demotion at quantum boundaries.
    Las,
}

impl Policy {
    /// Every policy, in a fixed order.
    pub const ALL: [Policy; 5] = [
        Policy::Fifo,
        Policy::Kueue,
        Policy::Fair,
        Policy::Backfill,
        Policy::Las,
    ];

    /// The policy's name as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Fifo => "fifo",
            Policy::Kueue => "kueue",
            Policy::Fair => "fair",
            Policy::Backfill => "backfill",
            Policy::Las => "las",
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Policy {
    type Err = Error;

    fn from_str(s: &str) -> Result<Policy> {
        Policy::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                Error::invalid(
                    format!("policy {s:?}"),
                    "unknown; one of fifo, kueue, fair, backfill, las",
                )
            })
    }
}

/// Settings of the `las` policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LasConfig {
    /// Attained-service thresholds in GPU-seconds, ascending: a job with
    /// attained service `a` is in queue `k` = how many thresholds are at
    /// most `a` (queue 0 is served first).
    pub thresholds_gpu_s: Vec<u64>,
    /// Demotions take effect at the next multiple of this many
    /// milliseconds of simulated time (at least 1).
    pub quantum_ms: u64,
}

impl Default for LasConfig {
    /// Two thresholds, 1 and 16 GPU-hours (three queues), and a one-minute
    /// quantum.
    fn default() -> Self {
        LasConfig {
            thresholds_gpu_s: vec![3_600, 57_600],
            quantum_ms: 60_000,
        }
    }
}

/// How a simulation runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Options {
    /// The policy.
    pub policy: Policy,
    /// Queues, cohorts and quotas for `kueue` and `fair` (the admission
    /// [`Setup`] format; jobs name LocalQueues of namespace `default`).
    /// `None`: the defaults `docs/sched.md` describes (one queue whose
    /// quota is the whole cluster; for `fair`, one queue per trace queue
    /// sharing the cluster in one cohort).
    #[serde(default)]
    pub queues: Option<Setup>,
    /// `las` settings.
    #[serde(default)]
    pub las: LasConfig,
    /// `backfill`: how many waiting jobs behind the head are considered
    /// per scheduling pass (at least 1).
    pub backfill_window: usize,
}

impl Options {
    /// Default settings for `policy`: default queues, [`LasConfig`]'s
    /// defaults and a backfill window of 256 jobs.
    pub fn new(policy: Policy) -> Options {
        Options {
            policy,
            queues: None,
            las: LasConfig::default(),
            backfill_window: 256,
        }
    }

    /// With queues, cohorts and quotas.
    pub fn with_queues(mut self, setup: Setup) -> Options {
        self.queues = Some(setup);
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.las.quantum_ms == 0 {
            return Err(Error::invalid("las quantumMs", "must be at least 1"));
        }
        if self.las.thresholds_gpu_s.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::invalid(
                "las thresholdsGpuS",
                "must be strictly ascending",
            ));
        }
        if self.backfill_window == 0 {
            return Err(Error::invalid("backfill window", "must be at least 1"));
        }
        Ok(())
    }
}

/// Reads queues, cohorts and quotas (the admission [`Setup`], as YAML or
/// JSON); errors name the file and the field path.
///
/// ```
/// let setup = keelson_sched::sim::parse_queues("q.yaml", "
/// flavors: [{name: default}]
/// clusterQueues:
/// - name: team-a
///   resourceGroups:
///   - coveredResources: [nvidia.com/gpu]
///     flavors: [{name: default, resources: [{name: nvidia.com/gpu, nominalQuota: 16}]}]
/// localQueues: [{namespace: default, name: team-a, clusterQueue: team-a}]
/// ")?;
/// assert_eq!(setup.cluster_queues[0].name, "team-a");
/// # Ok::<(), keelson_sched::Error>(())
/// ```
pub fn parse_queues(file: &str, text: &str) -> Result<Setup> {
    let de = serde_yaml_ng::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        Error::invalid(format!("{file} at {path}"), e.into_inner().to_string())
    })
}
