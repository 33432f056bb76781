//! Kueue-style admission: queues, cohorts and flavors are set up once;
//! workloads are submitted, and each [`Scheduler::cycle`] decides, for
//! every pending workload, whether it is admitted (with which flavors,
//! after which preemptions) or why it waits.
//!
//! The semantics follow Kueue's documentation: ClusterQueue
//! (<https://kueue.sigs.k8s.io/docs/concepts/cluster_queue/>), Cohort
//! (<https://kueue.sigs.k8s.io/docs/concepts/cohort/>), preemption and fair
//! sharing (<https://kueue.sigs.k8s.io/docs/concepts/preemption/>), partial
//! admission (<https://kueue.sigs.k8s.io/docs/tasks/run/jobs/#partial-admission>).
//! `docs/sched.md` lists where this crate simplifies them.

use std::cmp::Ordering;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::cluster_queue::{
    BorrowWithinCohortPolicy, ClusterQueue, FungibilityPolicy, QueueingStrategy,
    ReclaimWithinCohort, ResourceGroup, WithinClusterQueue,
};
use crate::cohort::Cohort;
use crate::decision::{Admission, Decision, FlavorMiss, MissReason, PodSetAdmission, WaitReason};
use crate::flavor::ResourceFlavor;
use crate::heads::Heads;
use crate::local_queue::LocalQueue;
use crate::quantity::Quantity;
use crate::quota::QuotaTree;
use crate::resources::{Resources, Shortfall};
use crate::workload::Workload;
use crate::{Error, Result};

/// Everything admission is configured with: flavors, cohorts, queues,
/// and whether fair sharing is on. Reads from the JSON/YAML shape of its
/// fields (Kueue's field names, camelCase).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Setup {
    /// The resource flavors.
    #[serde(default)]
    pub flavors: Vec<ResourceFlavor>,
    /// Cohorts with a parent or quota of their own (others exist
    /// implicitly when a queue names them).
    #[serde(default)]
    pub cohorts: Vec<Cohort>,
    /// The ClusterQueues.
    #[serde(default)]
    pub cluster_queues: Vec<ClusterQueue>,
    /// The LocalQueues.
    #[serde(default)]
    pub local_queues: Vec<LocalQueue>,
    /// Fair sharing (Kueue's `Configuration.fairSharing`); `None`: the
    /// classic order and preemption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fair_sharing: Option<FairSharingConfig>,
}

/// Fair sharing: heads of queues with the lowest weighted share go first,
/// and preemption across queues follows the strategies, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FairSharingConfig {
    /// Default `[LessThanOrEqualToFinalShare, LessThanInitialShare]`.
    #[serde(default = "default_strategies")]
    pub preemption_strategies: Vec<PreemptionStrategy>,
}

impl Default for FairSharingConfig {
    fn default() -> Self {
        FairSharingConfig {
            preemption_strategies: default_strategies(),
        }
    }
}

fn default_strategies() -> Vec<PreemptionStrategy> {
    vec![
        PreemptionStrategy::LessThanOrEqualToFinalShare,
        PreemptionStrategy::LessThanInitialShare,
    ]
}

/// When a queue may preempt a workload of another under fair sharing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PreemptionStrategy {
    /// The preemptor's queue's share with the preemptor is at most the
    /// target queue's share without the victim.
    LessThanOrEqualToFinalShare,
    /// The preemptor's queue's share with the preemptor is below the
    /// target queue's share now.
    LessThanInitialShare,
}

/// How well a flavor (or a whole workload) fits, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Mode {
    Fit,
    Borrow,
    Preempt,
    NoFit,
}

/// A flavor assignment for a workload at given pod counts.
#[derive(Clone, Debug)]
pub(crate) struct Attempt {
    pub(crate) mode: Mode,
    /// Pod counts when below the pod sets' counts (partial admission).
    counts: Option<Vec<u32>>,
    /// (pod set, resource id, flavor id).
    flavors: FlavorChoice,
    /// Quota taken, by (flavor, resource) id.
    pub(crate) usage: Usage,
    /// For `NoFit`, where: the reason is spelled out only for workloads
    /// that end up waiting.
    miss: Option<Miss>,
    /// For `Preempt`, the first (flavor, resource) short: (fr, need, available).
    short: Option<Short>,
}

/// A (flavor, resource) that is short: (id, needed, available).
type Short = (usize, i128, i128);

/// Where an assignment failed.
#[derive(Clone, Copy, Debug)]
enum Miss {
    /// A pod set asks for a resource no group covers (`None`: a resource
    /// no queue knows).
    NotCovered {
        pod_set: usize,
        resource: Option<usize>,
    },
    /// No flavor of a group fits a pod set.
    NoFlavor { pod_set: usize, group: usize },
}

#[derive(Clone, Debug)]
pub(crate) struct Group {
    covered: Vec<usize>,
    flavors: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PendingKey {
    priority: Reverse<i32>,
    created: u64,
    /// Shared with the entry, so keys are made without copying the name.
    name: Arc<str>,
    id: usize,
}

/// Admitted workloads of a queue, in preemption order: lowest priority,
/// then most recently admitted, first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct AdmittedKey {
    pub(crate) priority: i32,
    pub(crate) seq: Reverse<u64>,
    pub(crate) id: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct Queue {
    pub(crate) spec: ClusterQueue,
    groups: Vec<Group>,
    group_of: Vec<Option<usize>>,
    pending: BTreeSet<PendingKey>,
    pub(crate) admitted: BTreeSet<AdmittedKey>,
    pub(crate) root: usize,
    weight_milli: i128,
}

/// What admission reads of a pod set, kept small and next to its siblings
/// so that deciding on a pending workload touches few cache lines.
#[derive(Clone, Debug)]
struct PodSetReq {
    /// Where its per-pod requests lie in [`Entry::requests`].
    start: usize,
    end: usize,
    count: u32,
    /// Its `minCount`, or `count`.
    min: u32,
    /// Bit `f` set: flavor `f` (below 64) does not suit the pod set.
    unsuited: u64,
    unknown: Option<String>,
}

/// Flavors beyond the bit set of [`PodSetReq::unsuited`] are checked on use.
const FLAVOR_BITS: usize = 64;

/// Quota taken by one workload, by (flavor, resource) id, inline: a pod
/// asks for a few resources (GPUs, CPU, memory), so deciding on a workload
/// allocates nothing, and the simulator decides millions of them.
pub(crate) type Usage = SmallVec<[(usize, i128); 4]>;

/// (pod set, resource id, flavor id) of an assignment, inline as [`Usage`].
type FlavorChoice = SmallVec<[(usize, usize, usize); 4]>;

#[derive(Clone, Debug)]
pub(crate) struct Admitted {
    pub(crate) usage: Usage,
    pub(crate) seq: u64,
    pub(crate) cycle: u64,
    /// Pod counts when partially admitted.
    counts: Option<Vec<u32>>,
    /// (pod set, resource id, flavor id).
    flavors: FlavorChoice,
    borrowing: bool,
    preempted: Vec<String>,
    /// The public record, spelled out only when [`Scheduler::admission`]
    /// asks: the cycle hands its own copy out in the decision, and most
    /// admissions are never looked up before they are released.
    admission: OnceLock<Admission>,
}

#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) wl: Workload,
    /// The workload's name, shared by its queue keys.
    name: Arc<str>,
    pub(crate) cq: usize,
    pod_sets: Vec<PodSetReq>,
    /// Per-pod requests of every pod set, by (resource id, amount).
    requests: Vec<(usize, i128)>,
    /// Boxed: most entries are pending, and a small entry keeps the fields
    /// a cycle reads for each of them within fewer cache lines.
    pub(crate) admitted: Option<Box<Admitted>>,
}

/// Failed preemptions remembered per queue in a cycle.
const MEMO_SIZE: usize = 8;

/// A failed preemption: a later attempt of the same queue, by a workload
/// that is no higher, no older and needs at least as much of the same
/// quota, cannot succeed either while the state it failed in holds (see
/// [`Scheduler::memo_fresh`]).
#[derive(Clone, Debug)]
struct PreemptMemo {
    evictions: u64,
    version: u64,
    /// The cycle it failed in.
    cycle: u64,
    /// Whether nothing had been admitted earlier in that cycle, so no
    /// workload was spared from preemption for being admitted in it.
    clean: bool,
    priority: i32,
    created: u64,
    usage: Usage,
}

/// A queue head's place in the cycle: by share, then borrowing, priority,
/// creation, and the workload's name (read through `id` only on a tie, see
/// [`Scheduler::head_order`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct HeadKey {
    share: u128,
    borrows: bool,
    priority: Reverse<i32>,
    created: u64,
    id: usize,
    cq: usize,
}

/// Admission state: queues, cohorts, flavors, quota usage, and the
/// pending and admitted workloads.
///
/// ```
/// use keelson_sched::*;
///
/// let gpu = |n| Quantity::from_units(n);
/// let mut sched = Scheduler::new(Setup {
///     flavors: vec![ResourceFlavor::new("h100")],
///     cluster_queues: vec![ClusterQueue::new("team-a").with_group(ResourceGroup::new(
///         &["nvidia.com/gpu"],
///         vec![FlavorQuotas::new("h100", vec![ResourceQuota::new("nvidia.com/gpu", gpu(8))])],
///     ))],
///     local_queues: vec![LocalQueue::new("team-a", "main", "team-a")],
///     ..Setup::default()
/// })?;
/// let job = |name: &str, gpus: &str| -> Result<Workload> {
///     Workload::new(name, "main", vec![PodSet::new("worker", 1, Resources::parse([("nvidia.com/gpu", gpus)])?)])
/// };
/// sched.submit(job("team-a/small", "6")?.with_created(1))?;
/// sched.submit(job("team-a/large", "4")?.with_created(2))?;
/// let decisions = sched.cycle();
/// assert!(matches!(&decisions[0], Decision::Admitted(a) if a.workload == "team-a/small"));
/// assert_eq!(
///     decisions[1].to_string(),
///     "team-a/large waits in team-a: pod set worker: no flavor fits (flavor h100: nvidia.com/gpu needs 4, 2 available)"
/// );
/// sched.finish("team-a/small")?;
/// assert!(matches!(&sched.cycle()[0], Decision::Admitted(a) if a.workload == "team-a/large"));
/// # Ok::<(), keelson_sched::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Scheduler {
    pub(crate) flavors: Vec<ResourceFlavor>,
    flavor_ids: BTreeMap<String, usize>,
    pub(crate) resources: Vec<String>,
    resource_ids: BTreeMap<String, usize>,
    pub(crate) queues: Vec<Queue>,
    queue_ids: BTreeMap<String, usize>,
    /// ClusterQueues of each cohort tree, by root node.
    pub(crate) members: Vec<Vec<usize>>,
    local_queues: BTreeMap<(String, String), usize>,
    pub(crate) tree: QuotaTree,
    /// Per (root node, resource): the quota of the whole tree.
    lendable: Vec<i128>,
    pub(crate) strategies: Option<Vec<PreemptionStrategy>>,
    pub(crate) entries: Vec<Option<Entry>>,
    by_name: BTreeMap<String, usize>,
    admit_seq: u64,
    pub(crate) cycle_no: u64,
    version: u64,
    /// Per cohort tree (by root node): bumped whenever usage in the tree
    /// changes. A queue's flavor assignment and share read only its own
    /// tree, so a head's attempt stays valid while its tree's version holds.
    tree_version: Vec<u64>,
    evictions: u64,
    /// Failed preemptions per ClusterQueue, kept across cycles.
    memos: Vec<Vec<PreemptMemo>>,
    /// The last cycle that admitted a workload.
    admit_cycle: u64,
    /// The last cycle admitted nothing, and nothing finished or was
    /// evicted since: the state is the one that cycle saw.
    quiet: bool,
    /// Workloads submitted since the last cycle.
    fresh: Vec<usize>,
}

impl Scheduler {
    /// Checks and builds the admission state. Errors name the item: a
    /// duplicate name, an unknown flavor or ClusterQueue, a cohort cycle
    /// (`a -> b -> a`), a negative quota, a resource in two groups, a
    /// flavor whose quotas do not list exactly the group's resources,
    /// limits on a queue without a cohort, a lending limit above nominal.
    pub fn new(setup: Setup) -> Result<Scheduler> {
        let mut flavor_ids = BTreeMap::new();
        for (i, f) in setup.flavors.iter().enumerate() {
            if f.name.is_empty() || flavor_ids.insert(f.name.clone(), i).is_some() {
                return Err(Error::invalid(
                    format!("resourceFlavor {:?}", f.name),
                    "empty or given twice",
                ));
            }
        }
        let mut queue_ids = BTreeMap::new();
        for (i, q) in setup.cluster_queues.iter().enumerate() {
            if q.name.is_empty() || queue_ids.insert(q.name.clone(), i).is_some() {
                return Err(Error::invalid(
                    format!("clusterQueue {:?}", q.name),
                    "empty or given twice",
                ));
            }
        }
        let (cohort_ids, cohort_parent) = cohort_nodes(&setup)?;
        let n_cq = setup.cluster_queues.len();
        let mut resource_names = BTreeSet::new();
        let groups_of = setup
            .cluster_queues
            .iter()
            .map(|q| (format!("clusterQueue {}", q.name), &q.resource_groups))
            .chain(
                setup
                    .cohorts
                    .iter()
                    .map(|c| (format!("cohort {}", c.name), &c.resource_groups)),
            );
        for (item, groups) in groups_of {
            check_groups(&item, groups, &flavor_ids)?;
            for g in groups {
                resource_names.extend(g.covered_resources.iter().cloned());
            }
        }
        let resources: Vec<String> = resource_names.into_iter().collect();
        let resource_ids: BTreeMap<String, usize> = resources
            .iter()
            .enumerate()
            .map(|(i, r)| (r.clone(), i))
            .collect();
        let n_res = resources.len();
        let n_fr = setup.flavors.len() * n_res;

        let mut parent: Vec<Option<usize>> = Vec::with_capacity(n_cq + cohort_ids.len());
        for q in &setup.cluster_queues {
            parent.push(q.cohort.as_ref().and_then(|c| cohort_ids.get(c)).copied());
        }
        parent.extend(cohort_parent.iter().copied());
        let mut tree = QuotaTree::new(parent.clone(), n_fr);
        let cohort_groups = setup.cohorts.iter().filter_map(|c| {
            let node = *cohort_ids.get(&c.name)?;
            Some((node, format!("cohort {}", c.name), &c.resource_groups))
        });
        let all_groups = setup
            .cluster_queues
            .iter()
            .enumerate()
            .map(|(n, q)| (n, format!("clusterQueue {}", q.name), &q.resource_groups))
            .chain(cohort_groups);
        for (node, item, groups) in all_groups {
            for g in groups {
                for fq in &g.flavors {
                    let f = flavor_ids[&fq.name];
                    for rq in &fq.resources {
                        let fr = f * n_res + resource_ids[&rq.name];
                        let limit = |q: Option<Quantity>| q.map(Quantity::milli);
                        if parent[node].is_none()
                            && (rq.borrowing_limit.is_some() || rq.lending_limit.is_some())
                        {
                            return Err(Error::invalid(
                                item,
                                format!(
                                    "flavor {} resource {}: borrowing and lending limits need a cohort",
                                    fq.name, rq.name
                                ),
                            ));
                        }
                        tree.set_quota(
                            node,
                            fr,
                            rq.nominal_quota.milli(),
                            limit(rq.borrowing_limit),
                            limit(rq.lending_limit),
                        );
                    }
                }
            }
        }
        tree.finish();

        let root_of = |mut n: usize| {
            while let Some(p) = parent[n] {
                n = p;
            }
            n
        };
        let mut members = vec![Vec::new(); parent.len()];
        let mut lendable = vec![0i128; parent.len() * n_res];
        for cq in 0..n_cq {
            members[root_of(cq)].push(cq);
        }
        for (node, list) in members.iter().enumerate() {
            if list.is_empty() {
                continue;
            }
            for f in 0..setup.flavors.len() {
                for r in 0..n_res {
                    lendable[node * n_res + r] += tree.subtree(node, f * n_res + r);
                }
            }
        }

        let mut queues = Vec::with_capacity(n_cq);
        for (cq, spec) in setup.cluster_queues.into_iter().enumerate() {
            let mut group_of = vec![None; n_res];
            let groups = spec
                .resource_groups
                .iter()
                .enumerate()
                .map(|(gi, g)| {
                    let covered: Vec<usize> = g
                        .covered_resources
                        .iter()
                        .map(|r| resource_ids[r])
                        .collect();
                    for &r in &covered {
                        group_of[r] = Some(gi);
                    }
                    Group {
                        covered,
                        flavors: g.flavors.iter().map(|f| flavor_ids[&f.name]).collect(),
                    }
                })
                .collect();
            let weight = spec
                .fair_sharing
                .map_or(Quantity::from_units(1), |f| f.weight);
            if weight.is_negative() {
                return Err(Error::invalid(
                    format!("clusterQueue {}", spec.name),
                    "negative fair-sharing weight",
                ));
            }
            queues.push(Queue {
                groups,
                group_of,
                pending: BTreeSet::new(),
                admitted: BTreeSet::new(),
                root: root_of(cq),
                weight_milli: weight.milli(),
                spec,
            });
        }

        let mut local_queues = BTreeMap::new();
        for lq in setup.local_queues {
            let item = || format!("localQueue {}/{}", lq.namespace, lq.name);
            let Some(&cq) = queue_ids.get(&lq.cluster_queue) else {
                return Err(Error::invalid(
                    item(),
                    format!("clusterQueue {} does not exist", lq.cluster_queue),
                ));
            };
            if local_queues
                .insert((lq.namespace.clone(), lq.name.clone()), cq)
                .is_some()
            {
                return Err(Error::invalid(item(), "given twice"));
            }
        }

        Ok(Scheduler {
            flavors: setup.flavors,
            flavor_ids,
            resources,
            resource_ids,
            queues,
            queue_ids,
            members,
            local_queues,
            tree,
            lendable,
            strategies: setup.fair_sharing.map(|f| f.preemption_strategies),
            entries: Vec::new(),
            by_name: BTreeMap::new(),
            admit_seq: 0,
            cycle_no: 0,
            version: 0,
            tree_version: vec![0; parent.len()],
            evictions: 0,
            memos: Vec::new(),
            admit_cycle: 0,
            quiet: false,
            fresh: Vec::new(),
        })
    }

    /// Queues a workload on the ClusterQueue behind its LocalQueue. Errors
    /// name the workload: invalid, submitted twice, or an unknown
    /// LocalQueue.
    pub fn submit(&mut self, workload: Workload) -> Result<()> {
        workload.validate()?;
        let item = || format!("workload {}", workload.name);
        if self.by_name.contains_key(&workload.name) {
            return Err(Error::invalid(item(), "submitted twice"));
        }
        let namespace = workload
            .name
            .split_once('/')
            .map_or("default", |(ns, _)| ns);
        let Some(&cq) = self
            .local_queues
            .get(&(namespace.to_owned(), workload.queue.clone()))
        else {
            return Err(Error::invalid(
                item(),
                format!("localQueue {namespace}/{} does not exist", workload.queue),
            ));
        };
        let mut requests = Vec::new();
        let pod_sets = workload
            .pod_sets
            .iter()
            .map(|ps| {
                let start = requests.len();
                let mut unknown = None;
                for (name, q) in ps.requests.iter() {
                    match self.resource_ids.get(name) {
                        Some(&r) => requests.push((r, q.milli())),
                        None => {
                            unknown.get_or_insert_with(|| name.to_owned());
                        }
                    }
                }
                let unsuited = self
                    .flavors
                    .iter()
                    .take(FLAVOR_BITS)
                    .enumerate()
                    .filter(|(_, f)| f.mismatch(ps).is_some())
                    .fold(0u64, |bits, (f, _)| bits | (1 << f));
                PodSetReq {
                    start,
                    end: requests.len(),
                    count: ps.count,
                    min: ps.min_pods(),
                    unsuited,
                    unknown,
                }
            })
            .collect();
        let id = self.entries.len();
        self.by_name.insert(workload.name.clone(), id);
        let entry = Entry {
            name: Arc::from(workload.name.as_str()),
            wl: workload,
            cq,
            pod_sets,
            requests,
            admitted: None,
        };
        self.queues[cq].pending.insert(pending_key(&entry, id));
        self.entries.push(Some(entry));
        self.fresh.push(id);
        Ok(())
    }

    /// Removes a workload, pending or admitted, releasing its quota (the
    /// job finished or was deleted). An error if it is unknown.
    pub fn finish(&mut self, name: &str) -> Result<()> {
        let id = self.lookup(name)?;
        // Even a pending workload leaving can unblock a StrictFIFO queue.
        self.quiet = false;
        if self.is_admitted(id) {
            self.release(id);
        }
        if let Some(e) = self.entries[id].take() {
            self.queues[e.cq].pending.remove(&pending_key(&e, id));
        }
        self.by_name.remove(name);
        Ok(())
    }

    /// Evicts an admitted workload: its quota is released and it is
    /// pending again in its queue. An error if it is unknown or pending.
    pub fn evict(&mut self, name: &str) -> Result<()> {
        let id = self.lookup(name)?;
        if !self.is_admitted(id) {
            return Err(Error::invalid(format!("workload {name}"), "not admitted"));
        }
        self.quiet = false;
        self.evict_id(id);
        Ok(())
    }

    /// The admission of a workload, if it is admitted.
    pub fn admission(&self, name: &str) -> Option<&Admission> {
        let id = *self.by_name.get(name)?;
        let e = self.entry(id)?;
        let a = e.admitted.as_ref()?;
        Some(a.admission.get_or_init(|| self.spell_admission(e, a)))
    }

    /// How many workloads are pending.
    pub fn pending_count(&self) -> usize {
        self.queues.iter().map(|q| q.pending.len()).sum()
    }

    /// A ClusterQueue's usage of a resource in a flavor. An error naming
    /// the queue, flavor or resource if unknown.
    pub fn usage(&self, cluster_queue: &str, flavor: &str, resource: &str) -> Result<Quantity> {
        let cq = *self.queue_ids.get(cluster_queue).ok_or_else(|| {
            Error::invalid(format!("clusterQueue {cluster_queue}"), "does not exist")
        })?;
        let f = *self
            .flavor_ids
            .get(flavor)
            .ok_or_else(|| Error::invalid(format!("resourceFlavor {flavor}"), "does not exist"))?;
        let Some(&r) = self.resource_ids.get(resource) else {
            return Ok(Quantity::ZERO);
        };
        Ok(Quantity::from_milli(
            self.tree.usage(cq, f * self.resources.len() + r),
        ))
    }

    /// A ClusterQueue's weighted share (fair sharing's dominant resource
    /// share of what it borrows, in millionths of the cohort tree's quota,
    /// divided by its weight); 0 when it does not borrow.
    pub fn weighted_share(&self, cluster_queue: &str) -> Result<u128> {
        let cq = *self.queue_ids.get(cluster_queue).ok_or_else(|| {
            Error::invalid(format!("clusterQueue {cluster_queue}"), "does not exist")
        })?;
        Ok(self.share(cq, &[]))
    }

    /// One admission cycle over every pending workload.
    ///
    /// Queue heads are taken in Kueue's order: under fair sharing, the
    /// queue with the lowest weighted share (with the head admitted)
    /// first; otherwise heads that fit without borrowing before those that
    /// borrow; then by priority and creation. Each head gets flavors per
    /// resource group (flavors in list order, all resources of a group from
    /// one flavor, borrowing and preemption as the queue's fungibility
    /// says), then is admitted, admitted after preempting, admitted with
    /// fewer pods (partial admission), or left waiting with a reason.
    /// Workloads admitted in this cycle are not preempted in it;
    /// preempted workloads are pending again from the next cycle.
    pub fn cycle(&mut self) -> Vec<Decision> {
        self.run_cycle(true)
    }

    /// The same cycle as [`Scheduler::cycle`], with the same effect on the
    /// state, returning only its `Admitted` and `Preempted` decisions: no
    /// reason is spelled out for the workloads that wait, which is most of
    /// a cycle's cost when the backlog is long. For callers that act on
    /// admissions only, such as a simulator.
    ///
    /// ```
    /// use keelson_sched::*;
    ///
    /// let mut sched = Scheduler::new(Setup {
    ///     flavors: vec![ResourceFlavor::new("h100")],
    ///     cluster_queues: vec![ClusterQueue::new("team").with_group(ResourceGroup::new(
    ///         &["nvidia.com/gpu"],
    ///         vec![FlavorQuotas::new("h100", vec![ResourceQuota::new("nvidia.com/gpu", Quantity::from_units(2))])],
    ///     ))],
    ///     local_queues: vec![LocalQueue::new("ns", "q", "team")],
    ///     ..Setup::default()
    /// })?;
    /// let job = |name: &str, gpus: &str| -> Result<Workload> {
    ///     Workload::new(name, "q", vec![PodSet::new("worker", 1, Resources::parse([("nvidia.com/gpu", gpus)])?)])
    /// };
    /// sched.submit(job("ns/a", "2")?)?;
    /// sched.submit(job("ns/b", "1")?)?;
    /// let decisions = sched.cycle_admissions();
    /// assert_eq!(decisions.len(), 1, "b waits and is not reported");
    /// assert!(matches!(&decisions[0], Decision::Admitted(a) if a.workload == "ns/a"));
    /// # Ok::<(), keelson_sched::Error>(())
    /// ```
    pub fn cycle_admissions(&mut self) -> Vec<Decision> {
        self.run_cycle(false)
    }

    /// One cycle; `explain` says whether waiting workloads get a decision.
    fn run_cycle(&mut self, explain: bool) -> Vec<Decision> {
        self.cycle_no += 1;
        let order: Vec<Vec<usize>> = self
            .queues
            .iter()
            .map(|q| q.pending.iter().map(|k| k.id).collect())
            .collect();
        let n = self.queues.len();
        let mut pos = vec![0usize; n];
        // Each queue's head assignment, filled in place (most heads only
        // wait, so an assignment is built far more often than used) and
        // valid while its tree's version is the one beside it.
        let mut cache: Vec<(Option<u64>, Attempt)> =
            (0..n).map(|_| (None, Attempt::default())).collect();
        let mut memo = std::mem::take(&mut self.memos);
        memo.resize_with(n, Vec::new);
        let mut heap = Heads::with_capacity(n);
        let mut out = if explain {
            Vec::with_capacity(order.iter().map(Vec::len).sum())
        } else {
            Vec::new()
        };
        for (cq, list) in order.iter().enumerate() {
            if let Some(&id) = list.first() {
                let (version, attempt) = &mut cache[cq];
                self.fill_attempt(cq, id, None, attempt);
                heap.push((self.head_key(cq, id, attempt), 0u8), |a, b| {
                    self.head_order(a, b)
                });
                *version = Some(self.tree_version[self.queues[cq].root]);
            }
        }
        while let Some((key, tries)) = heap.pop(|a, b| self.head_order(a, b)) {
            let cq = key.cq;
            let id = order[cq][pos[cq]];
            // A head's key reads only its tree's state, so it is still
            // `key` while that tree's version holds.
            let now = self.tree_version[self.queues[cq].root];
            let (version, attempt) = &mut cache[cq];
            let fresh = if *version == Some(now) {
                key
            } else {
                self.fill_attempt(cq, id, None, attempt);
                *version = Some(now);
                self.head_key(cq, id, attempt)
            };
            // The state moved since the head was queued: requeue it where it
            // now belongs (twice at most, so a cycle always ends).
            if fresh != key && tries < 2 {
                heap.push((fresh, tries + 1), |a, b| self.head_order(a, b));
                continue;
            }
            pos[cq] += 1;
            *version = None;
            let admitted = self.resolve(cq, id, attempt, &mut memo[cq], &mut out, explain);
            if !admitted && self.queues[cq].spec.queueing_strategy == QueueingStrategy::StrictFifo {
                let head = self.name(id).to_owned();
                let behind = if explain { &order[cq][pos[cq]..] } else { &[] };
                for &rest in behind {
                    out.push(Decision::Waiting {
                        workload: self.name(rest).to_owned(),
                        cluster_queue: self.queues[cq].spec.name.clone(),
                        reason: WaitReason::BehindStrictFifoHead { head: head.clone() },
                    });
                }
                pos[cq] = order[cq].len();
            }
            if let Some(&next) = order[cq].get(pos[cq]) {
                let (version, attempt) = &mut cache[cq];
                self.fill_attempt(cq, next, None, attempt);
                heap.push((self.head_key(cq, next, attempt), 0), |a, b| {
                    self.head_order(a, b)
                });
                *version = Some(self.tree_version[self.queues[cq].root]);
            }
        }
        self.quiet = !out.iter().any(|d| matches!(d, Decision::Admitted(_)));
        self.fresh.clear();
        self.memos = memo;
        out
    }

    /// Whether a [`Scheduler::cycle`] now is known to admit (and so
    /// preempt) nothing, so a caller that acts only on admissions, such as
    /// a simulator, may skip it. True when the last cycle admitted nothing,
    /// nothing finished or was evicted since, and every workload submitted
    /// since fits no flavor, could not preempt, and cannot be admitted
    /// partially: the cycle would then see the state the last one saw,
    /// where every older workload already waited, and no admission could
    /// change it. False whenever that is not certain (before the first
    /// cycle, or a newcomer that could preempt), never wrongly true.
    ///
    /// ```
    /// use keelson_sched::*;
    ///
    /// let mut sched = Scheduler::new(Setup {
    ///     flavors: vec![ResourceFlavor::new("h100")],
    ///     cluster_queues: vec![ClusterQueue::new("team").with_group(ResourceGroup::new(
    ///         &["nvidia.com/gpu"],
    ///         vec![FlavorQuotas::new("h100", vec![ResourceQuota::new("nvidia.com/gpu", Quantity::from_units(2))])],
    ///     ))],
    ///     local_queues: vec![LocalQueue::new("ns", "q", "team")],
    ///     ..Setup::default()
    /// })?;
    /// let job = |name: &str, gpus: &str| -> Result<Workload> {
    ///     Workload::new(name, "q", vec![PodSet::new("worker", 1, Resources::parse([("nvidia.com/gpu", gpus)])?)])
    /// };
    /// assert!(!sched.settled());
    /// sched.submit(job("ns/a", "2")?)?;
    /// sched.cycle();
    /// assert!(!sched.settled(), "the cycle admitted a");
    /// sched.submit(job("ns/b", "1")?)?;
    /// sched.cycle();
    /// sched.submit(job("ns/c", "1")?)?;
    /// assert!(sched.settled(), "b and c need quota that only a finish frees");
    /// sched.finish("ns/a")?;
    /// assert!(!sched.settled());
    /// # Ok::<(), keelson_sched::Error>(())
    /// ```
    pub fn settled(&self) -> bool {
        self.quiet
            && self.fresh.iter().all(|&id| {
                self.entry(id).is_none_or(|e| {
                    self.attempt(e.cq, id, None).mode == Mode::NoFit
                        && self.partial(e.cq, id).is_none()
                })
            })
    }

    fn lookup(&self, name: &str) -> Result<usize> {
        self.by_name
            .get(name)
            .copied()
            .ok_or_else(|| Error::invalid(format!("workload {name}"), "unknown"))
    }

    pub(crate) fn entry(&self, id: usize) -> Option<&Entry> {
        self.entries.get(id).and_then(Option::as_ref)
    }

    fn is_admitted(&self, id: usize) -> bool {
        self.entry(id).is_some_and(|e| e.admitted.is_some())
    }

    fn name(&self, id: usize) -> &str {
        self.entry(id).map_or("", |e| e.wl.name.as_str())
    }

    fn head_key(&self, cq: usize, id: usize, attempt: &Attempt) -> HeadKey {
        let (priority, created) = self
            .entry(id)
            .map_or((0, 0), |e| (e.wl.priority, e.wl.created));
        let share = if self.strategies.is_some() && attempt.mode != Mode::NoFit {
            self.share(cq, &attempt.usage)
        } else {
            0
        };
        HeadKey {
            share,
            borrows: self.strategies.is_none() && attempt.mode == Mode::Borrow,
            priority: Reverse(priority),
            created,
            id,
            cq,
        }
    }

    /// The order of queue heads: Kueue's (see [`Scheduler::cycle`]), ties
    /// broken by workload name.
    fn head_order(&self, a: &(HeadKey, u8), b: &(HeadKey, u8)) -> Ordering {
        let (x, y) = (&a.0, &b.0);
        (x.share, x.borrows, x.priority, x.created)
            .cmp(&(y.share, y.borrows, y.priority, y.created))
            .then_with(|| self.name(x.id).cmp(self.name(y.id)))
            .then_with(|| (x.cq, a.1).cmp(&(y.cq, b.1)))
    }

    /// Admits, preempts then admits, partially admits, or explains why the
    /// workload waits; true if admitted.
    fn resolve(
        &mut self,
        cq: usize,
        id: usize,
        attempt: &Attempt,
        memo: &mut Vec<PreemptMemo>,
        out: &mut Vec<Decision>,
        explain: bool,
    ) -> bool {
        let reason = match attempt.mode {
            Mode::Fit | Mode::Borrow => {
                out.push(Decision::Admitted(self.admit(cq, id, attempt, Vec::new())));
                return true;
            }
            Mode::Preempt => {
                let ruled_out = self.memo_rules_out(memo, id, attempt);
                let victims = if ruled_out {
                    None
                } else {
                    self.find_victims(cq, id, &attempt.usage)
                };
                if let Some(victims) = victims {
                    let by = self.name(id).to_owned();
                    let mut names = Vec::with_capacity(victims.len());
                    for v in victims {
                        let victim = self.name(v).to_owned();
                        let victim_cq = self.entry(v).map_or(0, |e| e.cq);
                        self.evict_id(v);
                        out.push(Decision::Preempted {
                            workload: victim.clone(),
                            cluster_queue: self.queues[victim_cq].spec.name.clone(),
                            by: by.clone(),
                        });
                        names.push(victim);
                    }
                    out.push(Decision::Admitted(self.admit(cq, id, attempt, names)));
                    return true;
                }
                // A workload a memo ruled out adds none: that memo already
                // covers every workload it would, and a copy would push an
                // older, different memo out of the few kept.
                if !ruled_out {
                    let (priority, created) = self
                        .entry(id)
                        .map_or((0, 0), |e| (e.wl.priority, e.wl.created));
                    memo.retain(|m| self.memo_fresh(m));
                    if memo.len() == MEMO_SIZE {
                        memo.remove(0);
                    }
                    memo.push(PreemptMemo {
                        evictions: self.evictions,
                        version: self.version,
                        cycle: self.cycle_no,
                        clean: self.admit_cycle != self.cycle_no,
                        priority,
                        created,
                        usage: attempt.usage.clone(),
                    });
                }
                explain.then(|| {
                    let (fr, need, available) = attempt.short.unwrap_or_default();
                    let n_res = self.resources.len().max(1);
                    WaitReason::PreemptionInsufficient {
                        flavor: self.flavors[fr / n_res].name.clone(),
                        shortfall: Shortfall {
                            resource: self.resources[fr % n_res].clone(),
                            needed: Quantity::from_milli(need),
                            available: Quantity::from_milli(available),
                        },
                    }
                })
            }
            Mode::NoFit => explain.then(|| self.explain(cq, id, attempt)),
        };
        if let Some(partial) = self.partial(cq, id) {
            out.push(Decision::Admitted(self.admit(cq, id, &partial, Vec::new())));
            return true;
        }
        if let Some(reason) = reason {
            out.push(Decision::Waiting {
                workload: self.name(id).to_owned(),
                cluster_queue: self.queues[cq].spec.name.clone(),
                reason,
            });
        }
        false
    }

    fn memo_rules_out(&self, memo: &[PreemptMemo], id: usize, attempt: &Attempt) -> bool {
        let Some(e) = self.entry(id) else {
            return false;
        };
        memo.iter().any(|m| {
            self.memo_fresh(m)
                && e.wl.priority <= m.priority
                && e.wl.created >= m.created
                && m.usage.iter().all(|&(fr, need)| {
                    attempt
                        .usage
                        .iter()
                        .any(|&(f, have)| f == fr && have >= need)
                })
        })
    }

    /// Within its cycle, a memo holds until an eviction, or for fair
    /// sharing (which reads other queues' shares) until any admission;
    /// classic preemption cannot pick a workload admitted in the same
    /// cycle, so those do not matter to it. In a later cycle the
    /// workloads admitted in the memo's cycle become candidates, so it
    /// holds only if nothing was admitted before it failed and no
    /// admission, finish or eviction happened since.
    fn memo_fresh(&self, m: &PreemptMemo) -> bool {
        m.evictions == self.evictions
            && if m.cycle == self.cycle_no {
                self.strategies.is_none() || m.version == self.version
            } else {
                m.clean && m.version == self.version
            }
    }

    /// Partial admission: the largest pod counts, scaled down together
    /// towards each pod set's `minCount`, that fit without preemption.
    fn partial(&self, cq: usize, id: usize) -> Option<Attempt> {
        let e = self.entry(id)?;
        let steps = e.pod_sets.iter().map(|r| r.count - r.min).max()?;
        if steps == 0 {
            return None;
        }
        let spans: Vec<(u32, u32)> = e
            .pod_sets
            .iter()
            .map(|r| (r.min, r.count - r.min))
            .collect();
        let counts = |t: u32| -> Vec<u32> {
            spans
                .iter()
                .map(|&(min, span)| {
                    min + ((u64::from(span) * u64::from(t)).div_ceil(u64::from(steps))) as u32
                })
                .collect()
        };
        let fits = |t: u32| {
            let a = self.attempt(cq, id, Some(counts(t)));
            (a.mode <= Mode::Borrow).then_some(a)
        };
        let mut best = fits(0)?;
        let (mut lo, mut hi) = (0, steps);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            match fits(mid) {
                Some(a) => {
                    best = a;
                    lo = mid;
                }
                None => hi = mid,
            }
        }
        Some(best)
    }

    /// Assigns flavors to every pod set, at its count or at `counts`.
    fn attempt(&self, cq: usize, id: usize, counts: Option<Vec<u32>>) -> Attempt {
        let mut out = Attempt::default();
        self.fill_attempt(cq, id, counts, &mut out);
        out
    }

    /// [`Scheduler::attempt`] into `out`, reusing its storage.
    fn fill_attempt(&self, cq: usize, id: usize, counts: Option<Vec<u32>>, out: &mut Attempt) {
        out.mode = Mode::Fit;
        out.counts = None;
        out.flavors.clear();
        out.usage.clear();
        out.miss = None;
        out.short = None;
        let Some(e) = self.entry(id) else {
            out.mode = Mode::NoFit;
            return;
        };
        let q = &self.queues[cq];
        let n_res = self.resources.len();
        for (i, req) in e.pod_sets.iter().enumerate() {
            let count = counts
                .as_ref()
                .and_then(|c| c.get(i).copied())
                .unwrap_or(req.count);
            let per_pod = e.per_pod(req);
            if req.unknown.is_some() {
                return out.no_fit(Miss::NotCovered {
                    pod_set: i,
                    resource: None,
                });
            }
            // Kueue allows at most 16 resource groups, so a bit set holds them.
            let mut groups: u64 = 0;
            for &(r, _) in per_pod {
                match q.group_of[r] {
                    Some(g) if g < 64 => groups |= 1 << g,
                    _ => {
                        return out.no_fit(Miss::NotCovered {
                            pod_set: i,
                            resource: Some(r),
                        });
                    }
                }
            }
            for (g, group) in q.groups.iter().enumerate() {
                if groups & (1 << g) == 0 {
                    continue;
                }
                let mut best: Option<(Mode, usize, Option<Short>)> = None;
                for &f in &group.flavors {
                    if self.unsuited(e, i, f) {
                        continue;
                    }
                    let (mode, short) = self.flavor_mode(cq, f, per_pod, group, count, &out.usage);
                    if mode == Mode::NoFit {
                        continue;
                    }
                    if best.as_ref().is_none_or(|b| mode < b.0) {
                        best = Some((mode, f, short));
                    }
                    let fungibility = q.spec.flavor_fungibility;
                    let stop = match mode {
                        Mode::Borrow => fungibility.when_can_borrow,
                        Mode::Preempt => fungibility.when_can_preempt,
                        _ => FungibilityPolicy::MayStopSearch,
                    };
                    if stop == FungibilityPolicy::MayStopSearch {
                        break;
                    }
                }
                let Some((mode, f, short)) = best else {
                    return out.no_fit(Miss::NoFlavor {
                        pod_set: i,
                        group: g,
                    });
                };
                out.mode = out.mode.max(mode);
                if mode == Mode::Preempt && out.short.is_none() {
                    out.short = short;
                }
                for &(r, a) in per_pod {
                    if group.covered.contains(&r) {
                        add_to(
                            &mut out.usage,
                            f * n_res + r,
                            a.saturating_mul(i128::from(count)),
                        );
                        out.flavors.push((i, r, f));
                    }
                }
            }
        }
        out.counts = counts;
    }

    /// Whether flavor `f` does not suit pod set `i` of `e` (labels, taints).
    fn unsuited(&self, e: &Entry, i: usize, f: usize) -> bool {
        if f < FLAVOR_BITS {
            e.pod_sets
                .get(i)
                .is_some_and(|r| r.unsuited & (1 << f) != 0)
        } else {
            e.wl.pod_sets
                .get(i)
                .is_some_and(|ps| self.flavors[f].mismatch(ps).is_some())
        }
    }

    /// Spells out why an attempt found no assignment.
    fn explain(&self, cq: usize, id: usize, attempt: &Attempt) -> WaitReason {
        let (Some(e), Some(miss)) = (self.entry(id), attempt.miss) else {
            return WaitReason::ResourceNotCovered {
                pod_set: String::new(),
                resource: String::new(),
            };
        };
        match miss {
            Miss::NotCovered { pod_set, resource } => {
                let req = &e.pod_sets[pod_set];
                WaitReason::ResourceNotCovered {
                    pod_set: e.wl.pod_sets[pod_set].name.clone(),
                    resource: match resource {
                        Some(r) => self.resources[r].clone(),
                        None => req.unknown.clone().unwrap_or_default(),
                    },
                }
            }
            Miss::NoFlavor { pod_set, group } => {
                let spec = &e.wl.pod_sets[pod_set];
                let count = attempt
                    .counts
                    .as_ref()
                    .and_then(|c| c.get(pod_set).copied())
                    .unwrap_or(spec.count);
                let group = &self.queues[cq].groups[group];
                let n_res = self.resources.len().max(1);
                let flavors = group
                    .flavors
                    .iter()
                    .map(|&f| {
                        let why = match self.flavors[f].mismatch(spec) {
                            Some(m) => MissReason::Mismatch(m),
                            None => {
                                let (_, short) = self.flavor_mode(
                                    cq,
                                    f,
                                    e.per_pod(&e.pod_sets[pod_set]),
                                    group,
                                    count,
                                    &attempt.usage,
                                );
                                let (fr, needed, available) = short.unwrap_or_default();
                                MissReason::Quota(Shortfall {
                                    resource: self.resources[fr % n_res].clone(),
                                    needed: Quantity::from_milli(needed),
                                    available: Quantity::from_milli(available),
                                })
                            }
                        };
                        FlavorMiss {
                            flavor: self.flavors[f].name.clone(),
                            why,
                        }
                    })
                    .collect();
                WaitReason::NoFlavorFits {
                    pod_set: spec.name.clone(),
                    flavors,
                }
            }
        }
    }

    /// How requests fit one flavor, given what earlier pod sets of the same
    /// workload already take; for a shortfall, (fr, need, available).
    fn flavor_mode(
        &self,
        cq: usize,
        f: usize,
        per_pod: &[(usize, i128)],
        group: &Group,
        count: u32,
        taken: &[(usize, i128)],
    ) -> (Mode, Option<Short>) {
        let n_res = self.resources.len();
        let mut worst = Mode::Fit;
        let mut short = None;
        for &(r, per) in per_pod {
            if !group.covered.contains(&r) {
                continue;
            }
            let a = per.saturating_mul(i128::from(count));
            let fr = f * n_res + r;
            let before = taken.iter().find(|(x, _)| *x == fr).map_or(0, |&(_, v)| v);
            let need = a.saturating_add(before);
            let available = self.tree.available(cq, fr);
            let mode = if need <= available {
                if self.tree.usage(cq, fr) + need <= self.tree.nominal(cq, fr) {
                    Mode::Fit
                } else {
                    Mode::Borrow
                }
            } else if self.can_preempt_for(cq, fr, need) {
                Mode::Preempt
            } else {
                return (Mode::NoFit, Some((fr, need, available)));
            };
            if mode == Mode::Preempt && short.is_none() {
                short = Some((fr, need, available));
            }
            worst = worst.max(mode);
        }
        (worst, short)
    }

    /// Whether preemption could ever make room for `need`: within nominal
    /// quota when the queue may preempt in itself or reclaim; up to what
    /// the queue could reach with borrowing when it may preempt in itself
    /// or while borrowing.
    fn can_preempt_for(&self, cq: usize, fr: usize, need: i128) -> bool {
        let p = self.queues[cq].spec.preemption;
        let within = p.within_cluster_queue != WithinClusterQueue::Never;
        let reclaim = p.reclaim_within_cohort != ReclaimWithinCohort::Never;
        let borrow = if self.strategies.is_some() {
            reclaim
        } else {
            p.borrow_within_cohort.policy != BorrowWithinCohortPolicy::Never
        };
        ((within || reclaim) && need <= self.tree.nominal(cq, fr))
            || ((within || borrow) && need <= self.tree.potential(cq, fr))
    }

    /// Weighted dominant resource share of what the queue borrows, with
    /// `extra` usage added (negative to remove).
    pub(crate) fn share(&self, cq: usize, extra: &[(usize, i128)]) -> u128 {
        self.share_scaled(cq, extra, 1)
    }

    /// [`Scheduler::share`] with `extra` multiplied by `sign` (-1: the share
    /// without a workload's usage, with no negated copy of it).
    pub(crate) fn share_scaled(&self, cq: usize, extra: &[(usize, i128)], sign: i128) -> u128 {
        let q = &self.queues[cq];
        if q.root == cq {
            return 0;
        }
        let n_res = self.resources.len();
        let mut dominant: u128 = 0;
        for r in 0..n_res {
            let lendable = self.lendable[q.root * n_res + r];
            if lendable <= 0 {
                continue;
            }
            let mut borrowed: i128 = 0;
            for f in 0..self.flavors.len() {
                let fr = f * n_res + r;
                let plus: i128 = extra
                    .iter()
                    .filter(|(x, _)| *x == fr)
                    .map(|&(_, v)| v * sign)
                    .sum();
                borrowed += (self.tree.usage(cq, fr) + plus - self.tree.nominal(cq, fr)).max(0);
            }
            let ratio =
                u128::try_from(quotient(borrowed.saturating_mul(1_000_000), lendable)).unwrap_or(0);
            dominant = dominant.max(ratio);
        }
        if dominant == 0 {
            0
        } else if q.weight_milli == 0 {
            u128::MAX
        } else {
            let scaled = dominant.saturating_mul(1000);
            let weight = q.weight_milli.unsigned_abs();
            match (u64::try_from(scaled), u64::try_from(weight)) {
                (Ok(a), Ok(b)) => u128::from(a / b),
                _ => scaled / weight,
            }
        }
    }

    fn admit(
        &mut self,
        cq: usize,
        id: usize,
        attempt: &Attempt,
        preempted: Vec<String>,
    ) -> Admission {
        for &(fr, a) in &attempt.usage {
            self.tree.add_usage(cq, fr, a);
        }
        let borrowing = attempt
            .usage
            .iter()
            .any(|&(fr, _)| self.tree.usage(cq, fr) > self.tree.nominal(cq, fr));
        self.admit_seq += 1;
        self.version += 1;
        self.admit_cycle = self.cycle_no;
        self.tree_version[self.queues[cq].root] += 1;
        let seq = self.admit_seq;
        let Some(e) = self.entries.get(id).and_then(Option::as_ref) else {
            return Admission {
                workload: String::new(),
                cluster_queue: self.queues[cq].spec.name.clone(),
                pod_sets: Vec::new(),
                borrowing,
                preempted,
            };
        };
        let admitted = Admitted {
            usage: attempt.usage.clone(),
            seq,
            cycle: self.cycle_no,
            counts: attempt.counts.clone(),
            flavors: attempt.flavors.clone(),
            borrowing,
            preempted,
            admission: OnceLock::new(),
        };
        let admission = self.spell_admission(e, &admitted);
        let key = AdmittedKey {
            priority: e.wl.priority,
            seq: Reverse(seq),
            id,
        };
        let pending = pending_key(e, id);
        let q = &mut self.queues[cq];
        q.pending.remove(&pending);
        q.admitted.insert(key);
        if let Some(e) = self.entries.get_mut(id).and_then(Option::as_mut) {
            e.admitted = Some(Box::new(admitted));
        }
        admission
    }

    /// The public record of an admission: names, pod counts, flavors and
    /// the quota each pod set takes.
    fn spell_admission(&self, e: &Entry, a: &Admitted) -> Admission {
        let pod_sets = e
            .wl
            .pod_sets
            .iter()
            .enumerate()
            .map(|(i, ps)| {
                let count = a
                    .counts
                    .as_ref()
                    .and_then(|c| c.get(i).copied())
                    .unwrap_or(ps.count);
                PodSetAdmission {
                    name: ps.name.clone(),
                    count,
                    flavors: a
                        .flavors
                        .iter()
                        .filter(|(p, _, _)| *p == i)
                        .map(|&(_, r, f)| (self.resources[r].clone(), self.flavors[f].name.clone()))
                        .collect(),
                    // It fit in quota, so the product cannot overflow.
                    usage: ps
                        .requests
                        .checked_mul(u64::from(count))
                        .unwrap_or_else(|_| Resources::new()),
                }
            })
            .collect();
        Admission {
            workload: e.wl.name.clone(),
            cluster_queue: self.queues[e.cq].spec.name.clone(),
            pod_sets,
            borrowing: a.borrowing,
            preempted: a.preempted.clone(),
        }
    }

    /// Releases an admitted workload's quota and forgets its admission.
    fn release(&mut self, id: usize) {
        let Some(e) = self.entries.get_mut(id).and_then(Option::as_mut) else {
            return;
        };
        let Some(a) = e.admitted.take() else {
            return;
        };
        for &(fr, v) in &a.usage {
            self.tree.add_usage(e.cq, fr, -v);
        }
        self.queues[e.cq].admitted.remove(&AdmittedKey {
            priority: e.wl.priority,
            seq: Reverse(a.seq),
            id,
        });
        self.version += 1;
        self.tree_version[self.queues[e.cq].root] += 1;
    }

    fn evict_id(&mut self, id: usize) {
        self.release(id);
        self.evictions += 1;
        if let Some(e) = self.entry(id) {
            let key = pending_key(e, id);
            let cq = e.cq;
            self.queues[cq].pending.insert(key);
        }
    }
}

impl Entry {
    /// A pod set's per-pod requests.
    fn per_pod(&self, req: &PodSetReq) -> &[(usize, i128)] {
        self.requests.get(req.start..req.end).unwrap_or(&[])
    }
}

impl Default for Attempt {
    /// Nothing assigned yet.
    fn default() -> Self {
        Attempt {
            mode: Mode::NoFit,
            counts: None,
            flavors: FlavorChoice::new(),
            usage: Usage::new(),
            miss: None,
            short: None,
        }
    }
}

impl Attempt {
    fn no_fit(&mut self, miss: Miss) {
        self.mode = Mode::NoFit;
        self.miss = Some(miss);
    }
}

/// `a / b` (truncated, `b` non-zero), in 64 bits when both fit: 128-bit
/// division is a library call, and fair sharing divides for every share it
/// compares.
fn quotient(a: i128, b: i128) -> i128 {
    match (i64::try_from(a), i64::try_from(b)) {
        (Ok(x), Ok(y)) => x.checked_div(y).map_or_else(|| a / b, i128::from),
        _ => a / b,
    }
}

fn add_to(usage: &mut Usage, fr: usize, amount: i128) {
    match usage.iter_mut().find(|(x, _)| *x == fr) {
        Some((_, v)) => *v = v.saturating_add(amount),
        None => usage.push((fr, amount)),
    }
}

fn pending_key(e: &Entry, id: usize) -> PendingKey {
    PendingKey {
        priority: Reverse(e.wl.priority),
        created: e.wl.created,
        name: Arc::clone(&e.name),
        id,
    }
}

/// Cohort node ids by name, and each cohort node's parent.
type CohortNodes = (BTreeMap<String, usize>, Vec<Option<usize>>);

/// Cohort node ids (after the ClusterQueues) and each cohort's parent;
/// cohorts named only by queues or as parents exist implicitly.
fn cohort_nodes(setup: &Setup) -> Result<CohortNodes> {
    let mut explicit: BTreeMap<&str, &Cohort> = BTreeMap::new();
    for c in &setup.cohorts {
        if c.name.is_empty() || explicit.insert(&c.name, c).is_some() {
            return Err(Error::invalid(
                format!("cohort {:?}", c.name),
                "empty or given twice",
            ));
        }
    }
    let mut names: BTreeSet<&str> = explicit.keys().copied().collect();
    names.extend(setup.cohorts.iter().filter_map(|c| c.parent.as_deref()));
    names.extend(
        setup
            .cluster_queues
            .iter()
            .filter_map(|q| q.cohort.as_deref()),
    );
    for name in &names {
        let mut path = vec![*name];
        let mut at = *name;
        while let Some(p) = explicit.get(at).and_then(|c| c.parent.as_deref()) {
            if let Some(start) = path.iter().position(|n| *n == p) {
                let mut cycle = path[start..].to_vec();
                cycle.push(p);
                return Err(Error::invalid(
                    format!("cohort {p}"),
                    format!("cohort cycle {}", cycle.join(" -> ")),
                ));
            }
            path.push(p);
            at = p;
        }
    }
    let base = setup.cluster_queues.len();
    let ids: BTreeMap<String, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| ((*n).to_owned(), base + i))
        .collect();
    let parents = names
        .iter()
        .map(|n| {
            explicit
                .get(n)
                .and_then(|c| c.parent.as_ref())
                .and_then(|p| ids.get(p))
                .copied()
        })
        .collect();
    Ok((ids, parents))
}

/// Checks one queue's or cohort's resource groups.
fn check_groups(
    item: &str,
    groups: &[ResourceGroup],
    flavor_ids: &BTreeMap<String, usize>,
) -> Result<()> {
    let mut seen_resources = BTreeSet::new();
    let mut seen_flavors = BTreeSet::new();
    for g in groups {
        if g.covered_resources.is_empty() {
            return Err(Error::invalid(item, "a resource group covers no resource"));
        }
        for r in &g.covered_resources {
            Resources::new().with(r, Quantity::ZERO)?;
            if !seen_resources.insert(r.as_str()) {
                return Err(Error::invalid(
                    item,
                    format!("resource {r} is in two resource groups"),
                ));
            }
        }
        for fq in &g.flavors {
            if !flavor_ids.contains_key(&fq.name) {
                return Err(Error::invalid(
                    item,
                    format!("resourceFlavor {} does not exist", fq.name),
                ));
            }
            if !seen_flavors.insert(fq.name.as_str()) {
                return Err(Error::invalid(
                    item,
                    format!("resourceFlavor {} is listed twice", fq.name),
                ));
            }
            let listed: BTreeSet<&str> = fq.resources.iter().map(|r| r.name.as_str()).collect();
            let covered: BTreeSet<&str> = g.covered_resources.iter().map(String::as_str).collect();
            if listed != covered || listed.len() != fq.resources.len() {
                return Err(Error::invalid(
                    item,
                    format!(
                        "flavor {} must list each covered resource once ({})",
                        fq.name,
                        g.covered_resources.join(", ")
                    ),
                ));
            }
            for rq in &fq.resources {
                let what = || format!("flavor {} resource {}", fq.name, rq.name);
                let negative = rq.nominal_quota.is_negative()
                    || rq.borrowing_limit.is_some_and(Quantity::is_negative)
                    || rq.lending_limit.is_some_and(Quantity::is_negative);
                if negative {
                    return Err(Error::invalid(item, format!("{}: negative quota", what())));
                }
                if rq.lending_limit.is_some_and(|l| l > rq.nominal_quota) {
                    return Err(Error::invalid(
                        item,
                        format!("{}: lendingLimit above nominalQuota", what()),
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::quotient;
    use proptest::prelude::*;

    fn operand() -> impl Strategy<Value = i128> {
        prop_oneof![any::<i64>().prop_map(i128::from), any::<i128>()]
    }

    proptest! {
        #[test]
        fn quotient_is_128_bit_division(a in operand(), b in operand()) {
            prop_assume!(b != 0 && !(a == i128::MIN && b == -1));
            prop_assert_eq!(quotient(a, b), a / b);
        }
    }
}
