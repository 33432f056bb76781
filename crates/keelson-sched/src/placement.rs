//! All-or-nothing gang placement of a workload's pods onto nodes.
//!
//! A [`Cluster`] holds nodes and what is free on each. [`Cluster::place`]
//! decides where every pod of every pod set of a workload goes, or says
//! which pod set cannot be placed and why; it changes nothing.
//! [`Cluster::bind`] then takes the capacity and [`Cluster::release`]
//! gives it back.
//!
//! Nodes are visited best-first through indexes by free key resource
//! (GPUs by default), for the cluster and for every topology domain, so a
//! gang of `p` pods costs about `O(p log n)` on `n` nodes when most nodes
//! admit it; nodes skipped for selectors, taints or other resources add to
//! that. Explaining a failure scans the cluster.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::node::Node;
use crate::quantity::Quantity;
use crate::resources::Resources;
use crate::topology::{FreeIndex, Level, domain_path, levels_of};
use crate::workload::{PodSet, TopologyRequest, Workload};
use crate::{Error, Result};

/// The resource a [`Cluster`] orders nodes by unless told otherwise.
pub const GPU: &str = "nvidia.com/gpu";

/// Which of the nodes that fit a pod gets it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Strategy {
    /// The node with the least free key resource that fits: fill nodes up
    /// and leave whole nodes free for large jobs.
    #[default]
    BinPack,
    /// The node with the most free key resource: spread pods out, one
    /// per node while nodes are equally free.
    Spread,
}

/// Where the pods of one pod set go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodSetPlacement {
    /// The pod set's name.
    pub name: String,
    /// Pods placed: the set's count, or fewer (at least its `minCount`)
    /// under partial admission.
    pub count: u32,
    /// What each pod takes.
    pub requests: Resources,
    /// The one topology domain (a path such as `zone-a/b1/r7`) holding
    /// every pod, when the set asked for a topology and one domain fits it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Pods per node, by node name.
    pub nodes: BTreeMap<String, u32>,
}

/// Where every pod of a workload goes; [`Cluster::bind`] applies it.
///
/// ```
/// use keelson_sched::{Cluster, Node, PodSet, Resources, Strategy, Workload};
///
/// let node = |name: &str| -> keelson_sched::Result<Node> {
///     Ok(Node::new(name, Resources::parse([("cpu", "32"), ("nvidia.com/gpu", "8")])?))
/// };
/// let mut cluster = Cluster::new(vec![node("a")?, node("b")?])?;
/// let job = Workload::new("train", "q", vec![
///     PodSet::new("worker", 12, Resources::parse([("cpu", "2"), ("nvidia.com/gpu", "1")])?),
/// ])?;
/// let placement = cluster.place(&job, Strategy::BinPack)?;
/// assert_eq!(placement.pod_sets[0].nodes["a"], 8);
/// assert_eq!(placement.pod_sets[0].nodes["b"], 4);
/// cluster.bind(placement)?;
/// assert_eq!(cluster.free("b").unwrap().get("nvidia.com/gpu").units_ceil(), 4);
/// cluster.release("train")?;
/// assert_eq!(cluster.free("b").unwrap().get("nvidia.com/gpu").units_ceil(), 8);
/// # Ok::<(), keelson_sched::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Placement {
    /// The workload's name.
    pub workload: String,
    /// One entry per pod set, in the workload's order.
    pub pod_sets: Vec<PodSetPlacement>,
}

impl Placement {
    /// What the placement takes from each node, by node name.
    pub fn usage(&self) -> Result<BTreeMap<String, Resources>> {
        let mut out: BTreeMap<String, Resources> = BTreeMap::new();
        for set in &self.pod_sets {
            for (node, &pods) in &set.nodes {
                let take = set.requests.checked_mul(u64::from(pods))?;
                let entry = out.entry(node.clone()).or_default();
                *entry = entry.checked_add(&take)?;
            }
        }
        Ok(out)
    }
}

/// Why a workload cannot be placed: the pod set that does not fit, and
/// the constraint that stops it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unplaceable {
    /// The workload.
    pub workload: String,
    /// The pod set that does not fit (`None` when the workload itself is
    /// invalid).
    pub pod_set: Option<String>,
    /// What stops it.
    pub blocker: Blocker,
}

/// The constraint that keeps a pod set off the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Blocker {
    /// The workload breaks a rule of [`Workload::validate`].
    Invalid {
        /// Why.
        reason: String,
    },
    /// No node matches the pod set's node selector and tolerations.
    NoMatchingNode,
    /// The nodes that match have too little of a resource for the pods
    /// left over. When `free >= needed` the resource is there in total but
    /// split across nodes in pieces smaller than one pod.
    Capacity {
        /// The resource.
        resource: String,
        /// What the pods that did not fit ask for together.
        needed: Quantity,
        /// What the matching nodes have free, together, after the pods
        /// that did fit.
        free: Quantity,
        /// Pods that fit.
        placed: u32,
        /// Pods wanted.
        wanted: u32,
    },
    /// A required topology: no single domain of the level holds the set.
    NoSingleDomain {
        /// The topology level.
        level: String,
        /// The most pods of the set any one domain holds.
        most: u32,
        /// Pods wanted.
        wanted: u32,
    },
    /// A required topology at a level no matching node has.
    UnknownLevel {
        /// The topology level.
        level: String,
    },
}

impl fmt::Display for Unplaceable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "workload {}", self.workload)?;
        if let Some(set) = &self.pod_set {
            write!(f, ", pod set {set}")?;
        }
        write!(f, ": {}", self.blocker)
    }
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blocker::Invalid { reason } => write!(f, "{reason}"),
            Blocker::NoMatchingNode => {
                write!(f, "no node matches its node selector and tolerations")
            }
            Blocker::Capacity {
                resource,
                needed,
                free,
                placed,
                wanted,
            } => {
                write!(
                    f,
                    "{placed} of {wanted} pods fit; the other {} need {resource} {needed}, ",
                    wanted - placed
                )?;
                if free < needed {
                    let short = needed.checked_sub(*free).unwrap_or(*needed);
                    write!(f, "matching nodes have {free} free (short by {short})")
                } else {
                    write!(
                        f,
                        "matching nodes have {free} free, in pieces too small for one pod"
                    )
                }
            }
            Blocker::NoSingleDomain {
                level,
                most,
                wanted,
            } => write!(
                f,
                "no single {level} has room for {wanted} pods (at most {most} fit in one)"
            ),
            Blocker::UnknownLevel { level } => {
                write!(f, "no matching node has topology level {level}")
            }
        }
    }
}

/// A node and what is free on it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct NodeState {
    node: Node,
    free: Resources,
    /// The node's domain path at each level of the cluster (`None`: the
    /// node has no domain there).
    domains: Vec<(String, Option<String>)>,
}

/// Tentative free capacity of the nodes a placement in progress has
/// touched; the cluster itself is not changed until [`Cluster::bind`].
type Overlay = BTreeMap<usize, Resources>;

/// Nodes with their free capacity, indexed for placement, and the
/// placements bound to them.
///
/// Nodes are kept in name order; every decision breaks ties by node name
/// (and by domain path for domains), so equal inputs give equal
/// placements.
///
/// ```
/// use keelson_sched::{Blocker, Cluster, Node, PodSet, Resources, Strategy, TopologyRequest, Workload};
///
/// let gpus = Resources::parse([("nvidia.com/gpu", "8")])?;
/// let cluster = Cluster::new(vec![
///     Node::new("a", gpus.clone()).with_topology([("rack", "r1")]),
///     Node::new("b", gpus.clone()).with_topology([("rack", "r2")]),
/// ])?;
/// let mut workers = PodSet::new("worker", 12, Resources::parse([("nvidia.com/gpu", "1")])?);
/// workers.topology = Some(TopologyRequest { level: "rack".into(), required: true });
/// let job = Workload::new("llm", "q", vec![workers])?;
///
/// let why = cluster.place(&job, Strategy::BinPack).unwrap_err();
/// assert!(matches!(why.blocker, Blocker::NoSingleDomain { most: 8, .. }));
/// assert_eq!(
///     why.to_string(),
///     "workload llm, pod set worker: no single rack has room for 12 pods (at most 8 fit in one)"
/// );
/// # Ok::<(), keelson_sched::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cluster {
    key: String,
    nodes: Vec<NodeState>,
    by_name: BTreeMap<String, usize>,
    all: FreeIndex,
    levels: BTreeMap<String, Level>,
    bound: BTreeMap<String, Placement>,
}

impl Cluster {
    /// A cluster of `nodes`, all free, ordering nodes by free GPUs
    /// ([`GPU`]); an error naming the node if one is invalid or two share
    /// a name.
    pub fn new(nodes: Vec<Node>) -> Result<Cluster> {
        Cluster::with_key_resource(nodes, GPU)
    }

    /// A cluster ordering nodes by their free amount of `key` (e.g.
    /// `amd.com/gpu`, `google.com/tpu` or `cpu`) for bin-packing,
    /// spreading and choosing topology domains.
    pub fn with_key_resource(mut nodes: Vec<Node>, key: &str) -> Result<Cluster> {
        Resources::new().with(key, Quantity::ZERO)?;
        for node in &nodes {
            node.validate()?;
        }
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        if let Some(pair) = nodes.windows(2).find(|p| p[0].name == p[1].name) {
            return Err(Error::invalid(
                format!("node {}", pair[0].name),
                "given twice",
            ));
        }
        let level_names = levels_of(&nodes);
        let mut levels: BTreeMap<String, Level> = level_names
            .iter()
            .map(|l| (l.clone(), Level::default()))
            .collect();
        let mut all = FreeIndex::default();
        let mut by_name = BTreeMap::new();
        let mut states = Vec::with_capacity(nodes.len());
        for (i, node) in nodes.into_iter().enumerate() {
            let free_key = node.capacity.get(key).milli();
            all.insert(free_key, i);
            let mut domains = Vec::with_capacity(level_names.len());
            for (name, level) in &mut levels {
                let path = domain_path(&node, name);
                match &path {
                    Some(p) => level.domains.entry(p.clone()).or_default(),
                    None => &mut level.outside,
                }
                .insert(free_key, i);
                domains.push((name.clone(), path));
            }
            by_name.insert(node.name.clone(), i);
            states.push(NodeState {
                free: node.capacity.clone(),
                node,
                domains,
            });
        }
        Ok(Cluster {
            key: key.to_owned(),
            nodes: states,
            by_name,
            all,
            levels,
            bound: BTreeMap::new(),
        })
    }

    /// The resource nodes are ordered by.
    pub fn key_resource(&self) -> &str {
        &self.key
    }

    /// How many nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the cluster has no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node called `name`.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.by_name.get(name).map(|&i| &self.nodes[i].node)
    }

    /// What is free on the node called `name`.
    pub fn free(&self, name: &str) -> Option<&Resources> {
        self.by_name.get(name).map(|&i| &self.nodes[i].free)
    }

    /// Every node with what is free on it, in name order.
    pub fn nodes(&self) -> impl Iterator<Item = (&Node, &Resources)> {
        self.nodes.iter().map(|s| (&s.node, &s.free))
    }

    /// The bound placements, by workload name.
    pub fn bound(&self) -> impl Iterator<Item = &Placement> {
        self.bound.values()
    }

    /// The placement bound for `workload`.
    pub fn placement(&self, workload: &str) -> Option<&Placement> {
        self.bound.get(workload)
    }

    /// Where every pod of `workload` would go, or why it cannot be placed.
    /// Nothing changes: [`Cluster::bind`] the result to take the capacity.
    ///
    /// Pod sets are placed in the workload's order, each on the nodes its
    /// node selector and tolerations allow ([`Node::admits`]), choosing
    /// nodes by `strategy`. A set with a required topology goes into the
    /// one domain of that level that fits it with the least key resource
    /// left over (ties by domain path); with a preferred topology, into
    /// such a domain if there is one, else into as few domains as the
    /// greedy fill of the freest domains first needs, then onto nodes
    /// outside the level.
    ///
    /// If the whole gang does not fit and some pod sets have a `minCount`,
    /// those sets are shrunk together (each by the same fraction of its
    /// `count − minCount`, never below `minCount`), and the smallest
    /// reduction that places is found by binary search, as Kueue's partial
    /// admission searches; the other sets keep their count. The reason given
    /// then is the one at the minimum counts.
    pub fn place(&self, workload: &Workload, strategy: Strategy) -> Result<Placement, Unplaceable> {
        workload.validate().map_err(|e| Unplaceable {
            workload: workload.name.clone(),
            pod_set: None,
            blocker: Blocker::Invalid {
                reason: e.to_string(),
            },
        })?;
        let full: Vec<u32> = workload.pod_sets.iter().map(|s| s.count).collect();
        let first = self.attempt(workload, &full, strategy);
        let steps = workload
            .pod_sets
            .iter()
            .map(|s| s.count - s.min_pods())
            .max()
            .unwrap_or(0);
        if first.is_ok() || steps == 0 {
            return first;
        }
        let counts = |step: u32| -> Vec<u32> {
            workload
                .pod_sets
                .iter()
                .map(|s| {
                    let room = u64::from(s.count - s.min_pods());
                    let extra = room * u64::from(step) / u64::from(steps);
                    s.min_pods() + u32::try_from(extra).unwrap_or(0)
                })
                .collect()
        };
        let mut best = self.attempt(workload, &counts(0), strategy)?;
        let (mut fits, mut fails) = (0, steps);
        while fails - fits > 1 {
            let mid = fits + (fails - fits) / 2;
            match self.attempt(workload, &counts(mid), strategy) {
                Ok(p) => {
                    best = p;
                    fits = mid;
                }
                Err(_) => fails = mid,
            }
        }
        Ok(best)
    }

    /// Takes the capacity `placement` uses. An error naming the workload
    /// if it is already bound, or the node if one is unknown or no longer
    /// has room (the cluster changed since [`Cluster::place`]); on error
    /// nothing changes. Only capacity is checked: the choice of nodes is
    /// trusted to come from [`Cluster::place`].
    pub fn bind(&mut self, placement: Placement) -> Result<()> {
        if self.bound.contains_key(&placement.workload) {
            return Err(Error::invalid(
                format!("workload {}", placement.workload),
                "already bound",
            ));
        }
        let usage = placement.usage().map_err(|e| {
            Error::invalid(format!("workload {}", placement.workload), e.to_string())
        })?;
        let mut updates = Vec::with_capacity(usage.len());
        for (name, take) in &usage {
            let &i = self.by_name.get(name).ok_or_else(|| {
                Error::invalid(
                    format!("node {name}"),
                    format!("unknown (placement of workload {})", placement.workload),
                )
            })?;
            let left = self.nodes[i].free.checked_sub(take).map_err(|e| {
                Error::invalid(
                    format!("node {name}"),
                    format!("no room for workload {}: {e}", placement.workload),
                )
            })?;
            updates.push((i, left));
        }
        for (i, left) in updates {
            self.set_free(i, left);
        }
        self.bound.insert(placement.workload.clone(), placement);
        Ok(())
    }

    /// Gives back the capacity bound for `workload` and returns its
    /// placement; an error naming the workload if it is not bound.
    pub fn release(&mut self, workload: &str) -> Result<Placement> {
        let item = || format!("workload {workload}");
        let placement = self
            .bound
            .get(workload)
            .ok_or_else(|| Error::invalid(item(), "not bound"))?;
        let usage = placement.usage()?;
        let mut updates = Vec::with_capacity(usage.len());
        for (name, take) in &usage {
            let &i = self
                .by_name
                .get(name)
                .ok_or_else(|| Error::invalid(item(), format!("bound to unknown node {name}")))?;
            updates.push((i, self.nodes[i].free.checked_add(take)?));
        }
        for (i, free) in updates {
            self.set_free(i, free);
        }
        self.bound
            .remove(workload)
            .ok_or_else(|| Error::invalid(item(), "not bound"))
    }

    fn key_of(&self, free: &Resources) -> i128 {
        free.get(&self.key).milli()
    }

    /// Replaces a node's free capacity, keeping every index in step.
    fn set_free(&mut self, i: usize, free: Resources) {
        let old = self.key_of(&self.nodes[i].free);
        let new = self.key_of(&free);
        self.all.remove(old, i);
        self.all.insert(new, i);
        for (level, path) in &self.nodes[i].domains {
            if let Some(l) = self.levels.get_mut(level) {
                let index = match path {
                    Some(p) => l.domains.get_mut(p),
                    None => Some(&mut l.outside),
                };
                if let Some(index) = index {
                    index.remove(old, i);
                    index.insert(new, i);
                }
            }
        }
        self.nodes[i].free = free;
    }

    /// One all-or-nothing try with fixed counts per pod set.
    fn attempt(
        &self,
        workload: &Workload,
        counts: &[u32],
        strategy: Strategy,
    ) -> Result<Placement, Unplaceable> {
        let mut overlay = Overlay::new();
        let mut pod_sets = Vec::with_capacity(counts.len());
        for (set, &want) in workload.pod_sets.iter().zip(counts) {
            let (nodes, domain) =
                self.place_set(set, want, strategy, &mut overlay)
                    .map_err(|blocker| Unplaceable {
                        workload: workload.name.clone(),
                        pod_set: Some(set.name.clone()),
                        blocker,
                    })?;
            pod_sets.push(PodSetPlacement {
                name: set.name.clone(),
                count: want,
                requests: set.requests.clone(),
                domain,
                nodes: nodes
                    .into_iter()
                    .map(|(i, pods)| (self.nodes[i].node.name.clone(), pods))
                    .collect(),
            });
        }
        Ok(Placement {
            workload: workload.name.clone(),
            pod_sets,
        })
    }

    /// Places `want` pods of `set`, recording them in `overlay`; on
    /// failure `overlay` may hold a partial placement (the caller drops it).
    fn place_set(
        &self,
        set: &PodSet,
        want: u32,
        strategy: Strategy,
        overlay: &mut Overlay,
    ) -> Result<(BTreeMap<usize, u32>, Option<String>), Blocker> {
        let mut out = BTreeMap::new();
        let Some(TopologyRequest { level, required }) = &set.topology else {
            let placed = self.fill(&self.all, set, want, strategy, overlay, &mut out);
            return if placed == want {
                Ok((out, None))
            } else {
                Err(self.capacity_blocker(set, want, placed, overlay))
            };
        };
        let Some(domains) = self.levels.get(level) else {
            if *required {
                return Err(self.topology_blocker(set, level, 0, want));
            }
            let placed = self.fill(&self.all, set, want, strategy, overlay, &mut out);
            return if placed == want {
                Ok((out, None))
            } else {
                Err(self.capacity_blocker(set, want, placed, overlay))
            };
        };
        let need = self.key_of(&set.requests).saturating_mul(i128::from(want));
        for (_, path, index) in self.domains_ranked(level, domains, overlay, need) {
            let mut trial = overlay.clone();
            let mut trial_out = BTreeMap::new();
            if self.fill(index, set, want, strategy, &mut trial, &mut trial_out) == want {
                *overlay = trial;
                return Ok((trial_out, Some(path.to_owned())));
            }
        }
        if *required {
            let most = domains
                .domains
                .values()
                .map(|index| {
                    let mut trial = overlay.clone();
                    self.fill(index, set, want, strategy, &mut trial, &mut BTreeMap::new())
                })
                .max()
                .unwrap_or(0);
            return Err(self.topology_blocker(set, level, most, want));
        }
        // Preferred and no single domain fits: the freest domains first,
        // so the set spans as few as the greedy fill finds.
        let mut spill: Vec<(i128, &str, &FreeIndex)> =
            self.domains_ranked(level, domains, overlay, i128::MIN);
        spill.sort_by(|a, b| (b.0, a.1).cmp(&(a.0, b.1)));
        let mut placed = 0;
        for index in spill
            .into_iter()
            .map(|(_, _, index)| index)
            .chain([&domains.outside])
        {
            placed += self.fill(index, set, want - placed, strategy, overlay, &mut out);
            if placed == want {
                return Ok((out, None));
            }
        }
        Err(self.capacity_blocker(set, want, placed, overlay))
    }

    /// The domains of `level` whose tentative free key resource is at
    /// least `need`, least left over first, ties by path; each with its
    /// tentative free.
    fn domains_ranked<'a>(
        &self,
        level: &str,
        domains: &'a Level,
        overlay: &Overlay,
        need: i128,
    ) -> Vec<(i128, &'a str, &'a FreeIndex)> {
        let mut taken: BTreeMap<&str, i128> = BTreeMap::new();
        for (&i, free) in overlay {
            let state = &self.nodes[i];
            let path = state
                .domains
                .iter()
                .find(|(l, _)| l == level)
                .and_then(|(_, p)| p.as_deref());
            if let Some(path) = path {
                *taken.entry(path).or_default() += self.key_of(&state.free) - self.key_of(free);
            }
        }
        let mut ranked: Vec<(i128, &str, &FreeIndex)> = domains
            .domains
            .iter()
            .map(|(path, index)| {
                let free = index.free - taken.get(path.as_str()).copied().unwrap_or(0);
                (free, path.as_str(), index)
            })
            .filter(|(free, _, _)| *free >= need)
            .collect();
        ranked.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        ranked
    }

    /// Places up to `want` pods of `set` on nodes of `scope`, one at a
    /// time on the best node for `strategy`, and returns how many it
    /// placed. Identical pods on independent nodes: when it stops short,
    /// no assignment of `scope`'s nodes holds more.
    fn fill(
        &self,
        scope: &FreeIndex,
        set: &PodSet,
        want: u32,
        strategy: Strategy,
        overlay: &mut Overlay,
        out: &mut BTreeMap<usize, u32>,
    ) -> u32 {
        let need = self.key_of(&set.requests);
        let pref = |free: i128| match strategy {
            Strategy::BinPack => free,
            Strategy::Spread => -free,
        };
        // Among nodes equally free, bin-packing keeps filling the node it
        // has started and spreading moves on, which matters for pods that
        // ask for none of the key resource.
        let tie = |pods: u32| match strategy {
            Strategy::BinPack => -i64::from(pods),
            Strategy::Spread => i64::from(pods),
        };
        // Nodes an earlier pod set took from are ranked by their tentative
        // free capacity, not by the index's.
        let mut ready: BTreeSet<(i128, i64, usize)> = BTreeSet::new();
        for (&i, free) in overlay.iter() {
            let state = &self.nodes[i];
            if scope.contains(self.key_of(&state.free), i)
                && state.node.admits(set)
                && set.requests.fits(free)
            {
                ready.insert((pref(self.key_of(free)), 0, i));
            }
        }
        let mut fresh = scope.candidates(strategy, need).peekable();
        let mut placed = 0;
        while placed < want {
            while let Some(&(key, i)) = fresh.peek() {
                if ready.first().is_some_and(|best| *best < (key, 0, i)) {
                    break;
                }
                fresh.next();
                let state = &self.nodes[i];
                if !overlay.contains_key(&i)
                    && state.node.admits(set)
                    && set.requests.fits(&state.free)
                {
                    ready.insert((key, 0, i));
                }
            }
            let Some((_, _, i)) = ready.pop_first() else {
                break;
            };
            let free = overlay
                .entry(i)
                .or_insert_with(|| self.nodes[i].free.clone());
            let Ok(left) = free.checked_sub(&set.requests) else {
                continue;
            };
            *free = left;
            let pods = out.entry(i).or_default();
            *pods += 1;
            placed += 1;
            if set.requests.fits(free) {
                ready.insert((pref(self.key_of(free)), tie(*pods), i));
            }
        }
        placed
    }

    fn eligible<'a>(&'a self, set: &'a PodSet) -> impl Iterator<Item = usize> + 'a {
        (0..self.nodes.len()).filter(move |&i| self.nodes[i].node.admits(set))
    }

    fn topology_blocker(&self, set: &PodSet, level: &str, most: u32, wanted: u32) -> Blocker {
        let mut eligible = self.eligible(set).peekable();
        if eligible.peek().is_none() {
            return Blocker::NoMatchingNode;
        }
        let has_level = eligible.any(|i| {
            self.nodes[i]
                .domains
                .iter()
                .any(|(l, p)| l == level && p.is_some())
        });
        if has_level {
            Blocker::NoSingleDomain {
                level: level.to_owned(),
                most,
                wanted,
            }
        } else {
            Blocker::UnknownLevel {
                level: level.to_owned(),
            }
        }
    }

    /// Why `want − placed` pods of `set` found no room: the first resource
    /// (by name) the matching nodes lack in total, else the resource that
    /// stops the most matching nodes from taking one more pod.
    fn capacity_blocker(&self, set: &PodSet, want: u32, placed: u32, overlay: &Overlay) -> Blocker {
        let eligible: Vec<&Resources> = self
            .eligible(set)
            .map(|i| overlay.get(&i).unwrap_or(&self.nodes[i].free))
            .collect();
        if eligible.is_empty() {
            return Blocker::NoMatchingNode;
        }
        let left = u64::from(want - placed);
        let total = |resource: &str| {
            eligible.iter().fold(Quantity::ZERO, |acc, free| {
                acc.checked_add(free.get(resource)).unwrap_or(acc)
            })
        };
        let needed = |q: Quantity| q.checked_mul(left).unwrap_or(q);
        let short = set
            .requests
            .iter()
            .find(|&(r, q)| total(r) < needed(q))
            .or_else(|| {
                let mut blocking: BTreeMap<String, usize> = BTreeMap::new();
                for free in &eligible {
                    if let Some(s) = set.requests.shortfall(free) {
                        *blocking.entry(s.resource).or_default() += 1;
                    }
                }
                let worst = blocking
                    .iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                    .map(|(r, _)| r.clone())?;
                set.requests.iter().find(|(r, _)| *r == worst)
            });
        match short {
            Some((resource, q)) => Blocker::Capacity {
                resource: resource.to_owned(),
                needed: needed(q),
                free: total(resource),
                placed,
                wanted: want,
            },
            None => Blocker::NoMatchingNode,
        }
    }
}
