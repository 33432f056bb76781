//! The admission setup the `kueue` and `fair` policies run with: the
//! caller's, or a default built from the cluster's totals.

use std::collections::{BTreeMap, BTreeSet};

use super::policy::Policy;
use super::trace::TraceJob;
use crate::Result;
use crate::admission::{FairSharingConfig, Setup};
use crate::cluster_queue::{
    ClusterQueue, FlavorQuotas, Preemption, ReclaimWithinCohort, ResourceGroup, ResourceQuota,
};
use crate::flavor::ResourceFlavor;
use crate::local_queue::LocalQueue;
use crate::placement::GPU;
use crate::quantity::Quantity;

/// The namespace of every LocalQueue a trace's jobs go to.
pub(crate) const NAMESPACE: &str = "default";

/// The flavor of the default setups.
const FLAVOR: &str = "default";

/// An admission setup for a simulation.
pub(crate) struct QueueSetup {
    pub(crate) setup: Setup,
}

impl QueueSetup {
    /// Nominal GPU quota behind each LocalQueue of namespace `default`
    /// (summed over the ClusterQueue's flavors), by LocalQueue name.
    pub(crate) fn nominal_gpus(&self) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for lq in &self.setup.local_queues {
            if lq.namespace != NAMESPACE {
                continue;
            }
            let Some(cq) = self
                .setup
                .cluster_queues
                .iter()
                .find(|cq| cq.name == lq.cluster_queue)
            else {
                continue;
            };
            let milli: i128 = cq
                .resource_groups
                .iter()
                .flat_map(|g| &g.flavors)
                .flat_map(|f| &f.resources)
                .filter(|r| r.name == GPU)
                .map(|r| r.nominal_quota.milli())
                .sum();
            out.insert(lq.name.clone(), milli as f64 / 1000.0);
        }
        out
    }
}

/// The setup for `policy`: the caller's (with fair sharing switched on for
/// `fair`), or without one, for `kueue` one ClusterQueue `cluster` whose
/// quota is the whole cluster with a LocalQueue per trace queue, and for
/// `fair` one ClusterQueue per trace queue in cohort `cluster`, the
/// cluster's totals split evenly as nominal quota, borrowing unlimited,
/// `reclaimWithinCohort: Any`, fair sharing on.
pub(crate) fn setup_for(
    policy: Policy,
    given: Option<Setup>,
    trace: &[TraceJob],
    totals: [u64; 3],
) -> Result<QueueSetup> {
    if let Some(mut setup) = given {
        if policy == Policy::Fair && setup.fair_sharing.is_none() {
            setup.fair_sharing = Some(FairSharingConfig::default());
        }
        return Ok(QueueSetup { setup });
    }
    let names: BTreeSet<&str> = trace.iter().map(|j| j.queue.as_str()).collect();
    let quota = |part: u64, n: u64| -> [Quantity; 3] {
        let split = |total: u64| -> i128 {
            let (each, rest) = (total / n, total % n);
            i128::from(each + u64::from(part < rest))
        };
        [
            Quantity::from_milli(split(totals[0]) * 1000),
            Quantity::from_milli(split(totals[1])),
            Quantity::from_milli(split(totals[2]) * 1_048_576 * 1000),
        ]
    };
    let group = |q: [Quantity; 3]| {
        ResourceGroup::new(
            &[GPU, "cpu", "memory"],
            vec![FlavorQuotas::new(
                FLAVOR,
                vec![
                    ResourceQuota::new(GPU, q[0]),
                    ResourceQuota::new("cpu", q[1]),
                    ResourceQuota::new("memory", q[2]),
                ],
            )],
        )
    };
    let mut setup = Setup {
        flavors: vec![ResourceFlavor::new(FLAVOR)],
        ..Setup::default()
    };
    if policy == Policy::Fair {
        let n = names.len().max(1) as u64;
        for (i, name) in names.iter().enumerate() {
            let cq = ClusterQueue::new(*name)
                .in_cohort("cluster")
                .with_group(group(quota(i as u64, n)))
                .with_preemption(Preemption {
                    reclaim_within_cohort: ReclaimWithinCohort::Any,
                    ..Preemption::default()
                });
            setup.cluster_queues.push(cq);
            setup
                .local_queues
                .push(LocalQueue::new(NAMESPACE, *name, *name));
        }
        setup.fair_sharing = Some(FairSharingConfig::default());
    } else {
        setup
            .cluster_queues
            .push(ClusterQueue::new("cluster").with_group(group(quota(0, 1))));
        for name in names {
            setup
                .local_queues
                .push(LocalQueue::new(NAMESPACE, name, "cluster"));
        }
    }
    Ok(QueueSetup { setup })
}
