//! Workloads: what a job asks the cluster for, as pod sets (a launcher and
//! N workers, each count × per-pod requests), with a priority and a queue.
//!
//! This is Kueue's `Workload` shape, reduced to what admission and
//! placement decide on.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::resources::Resources;
use crate::{Error, Result};

/// Pods that share one template: `count` pods, each asking for `requests`.
///
/// ```
/// use keelson_sched::{PodSet, Resources};
///
/// let workers = PodSet::new("worker", 4, Resources::parse([("nvidia.com/gpu", "8")])?)
///     .with_min_count(2);
/// assert_eq!(workers.total()?.get("nvidia.com/gpu").units_ceil(), 32);
/// # Ok::<(), keelson_sched::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodSet {
    /// The pod set's name, unique within its workload (`launcher`, `worker`).
    pub name: String,
    /// How many pods.
    pub count: u32,
    /// Partial admission (Kueue's `minCount`): the fewest pods the job can
    /// run with; `None` means all `count`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_count: Option<u32>,
    /// What each pod asks for.
    pub requests: Resources,
    /// Node labels every pod requires (`nodeSelector`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// Taints the pods tolerate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    /// Where the pods must or should land together, if anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology: Option<TopologyRequest>,
}

/// A toleration of a node taint, as Kubernetes matches them: an empty key
/// with `Exists` tolerates every taint; an empty effect tolerates every
/// effect.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Toleration {
    /// The taint key (empty: any key, with `Exists`).
    #[serde(default)]
    pub key: String,
    /// `Equal` (default) or `Exists`.
    #[serde(default)]
    pub operator: TolerationOperator,
    /// The taint value, for `Equal`.
    #[serde(default)]
    pub value: String,
    /// The effect tolerated; `None` for every effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<TaintEffect>,
}

/// How a toleration compares with a taint's value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TolerationOperator {
    /// Key and value must be equal.
    #[default]
    Equal,
    /// The key must exist, whatever the value.
    Exists,
}

/// What a taint does to pods that do not tolerate it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaintEffect {
    /// Not scheduled there.
    NoSchedule,
    /// Avoided if possible (placement treats it as a preference).
    PreferNoSchedule,
    /// Not scheduled there, and evicted if running.
    NoExecute,
}

/// A taint on a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Taint {
    /// The key.
    pub key: String,
    /// The value (may be empty).
    #[serde(default)]
    pub value: String,
    /// The effect.
    pub effect: TaintEffect,
}

impl Toleration {
    /// Whether this toleration tolerates `taint`, by Kubernetes' rules.
    ///
    /// ```
    /// use keelson_sched::{Taint, TaintEffect, Toleration, TolerationOperator};
    /// let taint = Taint { key: "nvidia.com/gpu".into(), value: "present".into(), effect: TaintEffect::NoSchedule };
    /// let exists = Toleration { key: "nvidia.com/gpu".into(), operator: TolerationOperator::Exists, ..Default::default() };
    /// assert!(exists.tolerates(&taint));
    /// let wrong = Toleration { key: "nvidia.com/gpu".into(), value: "absent".into(), ..Default::default() };
    /// assert!(!wrong.tolerates(&taint));
    /// ```
    pub fn tolerates(&self, taint: &Taint) -> bool {
        if self.effect.is_some_and(|e| e != taint.effect) {
            return false;
        }
        match self.operator {
            TolerationOperator::Exists => self.key.is_empty() || self.key == taint.key,
            TolerationOperator::Equal => self.key == taint.key && self.value == taint.value,
        }
    }
}

/// Kueue's topology-aware scheduling request for a pod set: every pod in
/// one domain of `level` (required), or in as few domains of it as
/// possible (preferred).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TopologyRequest {
    /// The topology level, e.g. `block` or `rack`.
    pub level: String,
    /// Whether one domain is required (or only preferred).
    pub required: bool,
}

impl PodSet {
    /// `count` pods each asking for `requests`, with no selector,
    /// toleration or topology request.
    pub fn new(name: impl Into<String>, count: u32, requests: Resources) -> PodSet {
        PodSet {
            name: name.into(),
            count,
            min_count: None,
            requests,
            node_selector: BTreeMap::new(),
            tolerations: Vec::new(),
            topology: None,
        }
    }

    /// Allows partial admission down to `min_count` pods.
    pub fn with_min_count(mut self, min_count: u32) -> PodSet {
        self.min_count = Some(min_count);
        self
    }

    /// The fewest pods this set can run with.
    pub fn min_pods(&self) -> u32 {
        self.min_count.unwrap_or(self.count)
    }

    /// The requests of all `count` pods together.
    pub fn total(&self) -> Result<Resources> {
        self.requests.checked_mul(u64::from(self.count))
    }
}

/// A job as the scheduler sees it: pod sets, a queue, a priority and an
/// order of arrival.
///
/// ```
/// use keelson_sched::{PodSet, Resources, Workload};
///
/// let job = Workload::new("team-a/llm-finetune", "team-a-queue", vec![
///     PodSet::new("launcher", 1, Resources::parse([("cpu", "1")])?),
///     PodSet::new("worker", 8, Resources::parse([("cpu", "8"), ("nvidia.com/gpu", "1")])?),
/// ])?
/// .with_priority(100);
/// assert_eq!(job.total()?.get("cpu").units_ceil(), 65);
/// assert!(Workload::new("w", "q", vec![]).is_err());
/// # Ok::<(), keelson_sched::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Workload {
    /// A unique name (`namespace/name` by convention).
    pub name: String,
    /// The LocalQueue it was submitted to.
    pub queue: String,
    /// Higher runs first and may preempt lower (Kueue's WorkloadPriorityClass value).
    #[serde(default)]
    pub priority: i32,
    /// Arrival order: earlier first among equal priorities (Kueue orders by
    /// creation time). The caller's clock or a sequence number.
    #[serde(default)]
    pub created: u64,
    /// The pod sets, at least one, names unique.
    pub pod_sets: Vec<PodSet>,
}

impl Workload {
    /// A workload of priority 0 created at 0; an error naming the workload
    /// if it has no pod set, a pod set has no pods, a `minCount` above its
    /// count, or two pod sets share a name.
    pub fn new(
        name: impl Into<String>,
        queue: impl Into<String>,
        pod_sets: Vec<PodSet>,
    ) -> Result<Workload> {
        let w = Workload {
            name: name.into(),
            queue: queue.into(),
            priority: 0,
            created: 0,
            pod_sets,
        };
        w.validate()?;
        Ok(w)
    }

    /// With a priority.
    pub fn with_priority(mut self, priority: i32) -> Workload {
        self.priority = priority;
        self
    }

    /// With an arrival time (or sequence number).
    pub fn with_created(mut self, created: u64) -> Workload {
        self.created = created;
        self
    }

    /// Checks the rules [`Workload::new`] states; for workloads read with
    /// serde.
    pub fn validate(&self) -> Result<()> {
        let item = || format!("workload {}", self.name);
        if self.name.is_empty() {
            return Err(Error::invalid("workload", "a name is required"));
        }
        if self.pod_sets.is_empty() {
            return Err(Error::invalid(item(), "no pod sets"));
        }
        for (i, ps) in self.pod_sets.iter().enumerate() {
            if ps.count == 0 {
                return Err(Error::invalid(
                    item(),
                    format!("pod set {} has no pods", ps.name),
                ));
            }
            if ps.min_pods() > ps.count || ps.min_count == Some(0) {
                return Err(Error::invalid(
                    item(),
                    format!("pod set {}: minCount must be in 1..={}", ps.name, ps.count),
                ));
            }
            if self.pod_sets[..i].iter().any(|p| p.name == ps.name) {
                return Err(Error::invalid(
                    item(),
                    format!("pod set {} given twice", ps.name),
                ));
            }
        }
        Ok(())
    }

    /// The requests of every pod of every set together.
    pub fn total(&self) -> Result<Resources> {
        self.pod_sets
            .iter()
            .try_fold(Resources::new(), |acc, ps| acc.checked_add(&ps.total()?))
    }
}
