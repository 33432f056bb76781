//! ClusterQueues: a pool of quota per (flavor, resource), how its pending
//! workloads are ordered, and when they may preempt, as Kueue's
//! `ClusterQueue` (<https://kueue.sigs.k8s.io/docs/concepts/cluster_queue/>).

use serde::{Deserialize, Serialize};

use crate::quantity::Quantity;

/// Quota of one resource in one flavor.
///
/// `borrowing_limit` caps how much above `nominal_quota` the queue may use
/// from its cohort (none: no cap); `lending_limit` caps how much of its
/// nominal quota others in the cohort may use (none: all of it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceQuota {
    /// The resource, e.g. `nvidia.com/gpu`.
    pub name: String,
    /// The quota the queue owns.
    pub nominal_quota: Quantity,
    /// The most it may borrow above `nominal_quota`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub borrowing_limit: Option<Quantity>,
    /// The most of `nominal_quota` it lends to its cohort.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lending_limit: Option<Quantity>,
}

impl ResourceQuota {
    /// `nominal` of `name`, with no borrowing or lending limit.
    pub fn new(name: impl Into<String>, nominal: Quantity) -> ResourceQuota {
        ResourceQuota {
            name: name.into(),
            nominal_quota: nominal,
            borrowing_limit: None,
            lending_limit: None,
        }
    }

    /// With a borrowing limit.
    pub fn borrowing(mut self, limit: Quantity) -> ResourceQuota {
        self.borrowing_limit = Some(limit);
        self
    }

    /// With a lending limit.
    pub fn lending(mut self, limit: Quantity) -> ResourceQuota {
        self.lending_limit = Some(limit);
        self
    }
}

/// The quotas of one flavor in a resource group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlavorQuotas {
    /// The flavor's name (a [`ResourceFlavor`](crate::ResourceFlavor)).
    pub name: String,
    /// One quota per covered resource of the group.
    pub resources: Vec<ResourceQuota>,
}

impl FlavorQuotas {
    /// The quotas of flavor `name`.
    pub fn new(name: impl Into<String>, resources: Vec<ResourceQuota>) -> FlavorQuotas {
        FlavorQuotas {
            name: name.into(),
            resources,
        }
    }
}

/// Resources that are always taken from the same flavor (typically `cpu`
/// and `memory`), with the flavors to try, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceGroup {
    /// The resources of the group.
    pub covered_resources: Vec<String>,
    /// The flavors, in the order admission tries them.
    pub flavors: Vec<FlavorQuotas>,
}

impl ResourceGroup {
    /// A group covering `resources` with `flavors` tried in order.
    pub fn new(resources: &[&str], flavors: Vec<FlavorQuotas>) -> ResourceGroup {
        ResourceGroup {
            covered_resources: resources.iter().map(|r| (*r).to_owned()).collect(),
            flavors,
        }
    }
}

/// How a queue orders its pending workloads and whether its head blocks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueueingStrategy {
    /// By priority then creation; a head that cannot be admitted blocks
    /// every workload behind it.
    #[serde(rename = "StrictFIFO")]
    StrictFifo,
    /// Same order, but workloads that cannot be admitted do not block
    /// those behind them that can (Kueue's default).
    #[default]
    #[serde(rename = "BestEffortFIFO")]
    BestEffortFifo,
}

/// Which workloads of its own queue a pending workload may preempt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum WithinClusterQueue {
    /// None.
    #[default]
    Never,
    /// Those of lower priority.
    LowerPriority,
    /// Those of lower priority, or of equal priority and created later.
    LowerOrNewerEqualPriority,
}

/// Which workloads of other queues of the cohort, borrowing at the time,
/// a pending workload that fits its nominal quota may preempt to reclaim it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReclaimWithinCohort {
    /// None.
    #[default]
    Never,
    /// Those of lower priority.
    LowerPriority,
    /// Any.
    Any,
}

/// Whether a workload that must borrow may preempt workloads of other
/// queues of the cohort that are borrowing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BorrowWithinCohortPolicy {
    /// Never.
    #[default]
    Never,
    /// Those of lower priority (and at most `max_priority_threshold`).
    LowerPriority,
}

/// Preemption while borrowing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BorrowWithinCohort {
    /// The policy.
    #[serde(default)]
    pub policy: BorrowWithinCohortPolicy,
    /// Only workloads of at most this priority may be preempted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_priority_threshold: Option<i32>,
}

/// A queue's preemption policies (all `Never` by default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Preemption {
    /// Victims in the same queue.
    #[serde(default)]
    pub within_cluster_queue: WithinClusterQueue,
    /// Victims in borrowing queues of the cohort, to reclaim nominal quota.
    #[serde(default)]
    pub reclaim_within_cohort: ReclaimWithinCohort,
    /// Victims in borrowing queues of the cohort, while borrowing.
    #[serde(default)]
    pub borrow_within_cohort: BorrowWithinCohort,
}

/// Whether to stop at a flavor that fits by borrowing or by preempting,
/// or to try the next flavor first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FungibilityPolicy {
    /// Take this flavor (Kueue v1beta1: `Borrow` / `Preempt`).
    #[serde(alias = "Borrow", alias = "Preempt")]
    MayStopSearch,
    /// Look for a flavor that fits better; come back to this one if none.
    TryNextFlavor,
}

/// Kueue's `flavorFungibility`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlavorFungibility {
    /// When a flavor fits by borrowing (default `MayStopSearch`).
    #[serde(default = "stop")]
    pub when_can_borrow: FungibilityPolicy,
    /// When a flavor fits by preempting (default `TryNextFlavor`).
    #[serde(default = "next")]
    pub when_can_preempt: FungibilityPolicy,
}

fn stop() -> FungibilityPolicy {
    FungibilityPolicy::MayStopSearch
}

fn next() -> FungibilityPolicy {
    FungibilityPolicy::TryNextFlavor
}

impl Default for FlavorFungibility {
    fn default() -> Self {
        FlavorFungibility {
            when_can_borrow: stop(),
            when_can_preempt: next(),
        }
    }
}

/// A queue's or cohort's weight under fair sharing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FairSharing {
    /// Higher weight, larger share before being preempted; 0 means always
    /// preempted first. Default 1.
    pub weight: Quantity,
}

/// A pool of quota and the policies for the workloads it admits.
///
/// ```
/// use keelson_sched::{ClusterQueue, FlavorQuotas, Quantity, QueueingStrategy, ResourceGroup, ResourceQuota};
///
/// let gpus = |n| Quantity::from_units(n);
/// let cq = ClusterQueue::new("team-a")
///     .in_cohort("research")
///     .with_group(ResourceGroup::new(&["nvidia.com/gpu"], vec![
///         FlavorQuotas::new("h100", vec![ResourceQuota::new("nvidia.com/gpu", gpus(16)).borrowing(gpus(8))]),
///         FlavorQuotas::new("a100", vec![ResourceQuota::new("nvidia.com/gpu", gpus(32))]),
///     ]))
///     .with_strategy(QueueingStrategy::StrictFifo);
/// assert_eq!(cq.resource_groups[0].flavors[0].name, "h100");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterQueue {
    /// The queue's name, unique among queues.
    pub name: String,
    /// The cohort it shares quota with, if any.
    #[serde(default, alias = "cohortName", skip_serializing_if = "Option::is_none")]
    pub cohort: Option<String>,
    /// Its quotas.
    #[serde(default)]
    pub resource_groups: Vec<ResourceGroup>,
    /// How pending workloads are ordered.
    #[serde(default)]
    pub queueing_strategy: QueueingStrategy,
    /// When its workloads may preempt others.
    #[serde(default)]
    pub preemption: Preemption,
    /// Borrow or preempt in a flavor, or try the next one.
    #[serde(default)]
    pub flavor_fungibility: FlavorFungibility,
    /// Its weight under fair sharing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fair_sharing: Option<FairSharing>,
}

impl ClusterQueue {
    /// A queue with no quota, no cohort and Kueue's defaults.
    pub fn new(name: impl Into<String>) -> ClusterQueue {
        ClusterQueue {
            name: name.into(),
            cohort: None,
            resource_groups: Vec::new(),
            queueing_strategy: QueueingStrategy::default(),
            preemption: Preemption::default(),
            flavor_fungibility: FlavorFungibility::default(),
            fair_sharing: None,
        }
    }

    /// In a cohort.
    pub fn in_cohort(mut self, cohort: impl Into<String>) -> Self {
        self.cohort = Some(cohort.into());
        self
    }

    /// With one more resource group.
    pub fn with_group(mut self, group: ResourceGroup) -> Self {
        self.resource_groups.push(group);
        self
    }

    /// With a queueing strategy.
    pub fn with_strategy(mut self, strategy: QueueingStrategy) -> Self {
        self.queueing_strategy = strategy;
        self
    }

    /// With preemption policies.
    pub fn with_preemption(mut self, preemption: Preemption) -> Self {
        self.preemption = preemption;
        self
    }

    /// With a flavor fungibility.
    pub fn with_fungibility(mut self, fungibility: FlavorFungibility) -> Self {
        self.flavor_fungibility = fungibility;
        self
    }

    /// With a fair-sharing weight.
    pub fn with_weight(mut self, weight: Quantity) -> Self {
        self.fair_sharing = Some(FairSharing { weight });
        self
    }
}
