//! LocalQueues: the namespaced queue a user submits to, pointing at a
//! ClusterQueue (<https://kueue.sigs.k8s.io/docs/concepts/local_queue/>).

use serde::{Deserialize, Serialize};

/// A namespace's queue, feeding one ClusterQueue.
///
/// A workload named `namespace/name` with `queue: q` goes to the
/// LocalQueue `namespace/q`; a workload name without `/` is in namespace
/// `default`.
///
/// ```
/// use keelson_sched::LocalQueue;
/// let lq = LocalQueue::new("team-a", "training", "team-a-cq");
/// assert_eq!(lq.cluster_queue, "team-a-cq");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocalQueue {
    /// The namespace.
    pub namespace: String,
    /// The name, unique in its namespace.
    pub name: String,
    /// The ClusterQueue it feeds.
    pub cluster_queue: String,
}

impl LocalQueue {
    /// `namespace/name`, feeding `cluster_queue`.
    pub fn new(
        namespace: impl Into<String>,
        name: impl Into<String>,
        cluster_queue: impl Into<String>,
    ) -> LocalQueue {
        LocalQueue {
            namespace: namespace.into(),
            name: name.into(),
            cluster_queue: cluster_queue.into(),
        }
    }
}
