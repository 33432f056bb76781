//! What an admission cycle decides: which workloads are admitted (with
//! which flavors and how many pods), which are preempted, and why each of
//! the others waits.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::flavor::FlavorMismatch;
use crate::resources::{Resources, Shortfall};

/// One decision of [`Scheduler::cycle`](crate::Scheduler::cycle).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The workload was admitted (after the listed preemptions, if any).
    Admitted(Admission),
    /// An admitted workload was evicted to make room and is pending again.
    Preempted {
        /// The victim.
        workload: String,
        /// The victim's ClusterQueue.
        cluster_queue: String,
        /// The workload admitted in its place.
        by: String,
    },
    /// The workload stays pending.
    Waiting {
        /// The workload.
        workload: String,
        /// Its ClusterQueue.
        cluster_queue: String,
        /// Why.
        reason: WaitReason,
    },
}

impl Decision {
    /// The workload the decision is about.
    pub fn workload(&self) -> &str {
        match self {
            Decision::Admitted(a) => &a.workload,
            Decision::Preempted { workload, .. } | Decision::Waiting { workload, .. } => workload,
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Admitted(a) => {
                write!(f, "{} admitted in {}", a.workload, a.cluster_queue)?;
                for ps in &a.pod_sets {
                    write!(f, "; {} × {}", ps.name, ps.count)?;
                    for (resource, flavor) in &ps.flavors {
                        write!(f, " {resource}={flavor}")?;
                    }
                }
                if a.borrowing {
                    write!(f, " (borrowing)")?;
                }
                if !a.preempted.is_empty() {
                    write!(f, " after preempting {}", a.preempted.join(", "))?;
                }
                Ok(())
            }
            Decision::Preempted {
                workload,
                cluster_queue,
                by,
            } => write!(f, "{workload} in {cluster_queue} preempted by {by}"),
            Decision::Waiting {
                workload,
                cluster_queue,
                reason,
            } => write!(f, "{workload} waits in {cluster_queue}: {reason}"),
        }
    }
}

/// A workload's admission: its queue and, per pod set, the pods admitted
/// and the flavor of each resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Admission {
    /// The workload.
    pub workload: String,
    /// Its ClusterQueue.
    pub cluster_queue: String,
    /// One entry per pod set, in the workload's order.
    pub pod_sets: Vec<PodSetAdmission>,
    /// Whether the queue uses more than its nominal quota of some
    /// (flavor, resource) with this workload.
    pub borrowing: bool,
    /// The workloads preempted to admit this one.
    pub preempted: Vec<String>,
}

/// The admission of one pod set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSetAdmission {
    /// The pod set.
    pub name: String,
    /// Pods admitted: the pod set's count, or fewer down to its `minCount`
    /// under partial admission.
    pub count: u32,
    /// The flavor of each requested resource.
    pub flavors: BTreeMap<String, String>,
    /// The quota it takes (count × requests).
    pub usage: Resources,
}

/// Why a pending workload was not admitted in this cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaitReason {
    /// The head of its StrictFIFO queue cannot be admitted, and nothing
    /// behind it may pass it.
    BehindStrictFifoHead {
        /// The head that blocks.
        head: String,
    },
    /// A pod set asks for a resource no resource group of the queue covers.
    ResourceNotCovered {
        /// The pod set.
        pod_set: String,
        /// The resource.
        resource: String,
    },
    /// No flavor of a resource group can hold a pod set, even by borrowing
    /// or by the preemptions the queue's policies allow.
    NoFlavorFits {
        /// The pod set.
        pod_set: String,
        /// Why each flavor was refused, in the order tried.
        flavors: Vec<FlavorMiss>,
    },
    /// Preemption could make room in principle, but the workloads the
    /// policies allow to preempt do not free enough.
    PreemptionInsufficient {
        /// The flavor and resource that stay short first.
        flavor: String,
        /// What is short, before any preemption.
        shortfall: Shortfall,
    },
}

/// Why one flavor was refused for a pod set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlavorMiss {
    /// The flavor.
    pub flavor: String,
    /// Why.
    pub why: MissReason,
}

/// Why a flavor was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MissReason {
    /// The flavor's labels or taints do not suit the pod set.
    Mismatch(FlavorMismatch),
    /// Not enough quota of a resource, even with borrowing, and no
    /// preemption the policies allow could free it.
    Quota(Shortfall),
}

impl fmt::Display for WaitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitReason::BehindStrictFifoHead { head } => {
                write!(f, "behind the head {head} of a StrictFIFO queue")
            }
            WaitReason::ResourceNotCovered { pod_set, resource } => {
                write!(f, "pod set {pod_set}: no quota covers {resource}")
            }
            WaitReason::NoFlavorFits { pod_set, flavors } => {
                write!(f, "pod set {pod_set}: no flavor fits")?;
                for (i, miss) in flavors.iter().enumerate() {
                    let sep = if i == 0 { " (" } else { "; " };
                    write!(f, "{sep}{miss}")?;
                }
                if !flavors.is_empty() {
                    write!(f, ")")?;
                }
                Ok(())
            }
            WaitReason::PreemptionInsufficient { flavor, shortfall } => write!(
                f,
                "flavor {flavor}: {shortfall}, and the preemptions allowed do not free enough"
            ),
        }
    }
}

impl fmt::Display for FlavorMiss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.why {
            MissReason::Mismatch(m) => write!(f, "flavor {}: {m}", self.flavor),
            MissReason::Quota(s) => write!(f, "flavor {}: {s}", self.flavor),
        }
    }
}
