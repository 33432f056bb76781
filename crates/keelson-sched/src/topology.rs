//! Indexes of nodes by their free amount of the cluster's key resource
//! (GPUs by default), for the whole cluster and for each topology domain,
//! so that placement visits nodes best-first in `O(log nodes)` per node
//! instead of scanning the cluster.

use std::collections::{BTreeMap, BTreeSet};

use crate::node::Node;
use crate::placement::Strategy;

/// Nodes (by their position in the cluster's name-sorted list) ordered by
/// free key resource, both ways, with the total free.
///
/// Two sets rather than one walked backwards, because both orders break
/// ties by ascending node name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FreeIndex {
    /// (free milli, node) ascending: fullest first, for bin-packing.
    pack: BTreeSet<(i128, usize)>,
    /// (−free milli, node) ascending: emptiest first, for spreading.
    spread: BTreeSet<(i128, usize)>,
    /// Free key resource of every node here together, in milli-units.
    pub(crate) free: i128,
}

impl FreeIndex {
    pub(crate) fn insert(&mut self, free: i128, node: usize) {
        self.pack.insert((free, node));
        self.spread.insert((-free, node));
        self.free += free;
    }

    pub(crate) fn remove(&mut self, free: i128, node: usize) {
        if self.pack.remove(&(free, node)) {
            self.spread.remove(&(-free, node));
            self.free -= free;
        }
    }

    pub(crate) fn contains(&self, free: i128, node: usize) -> bool {
        self.pack.contains(&(free, node))
    }

    /// Nodes with at least `need` free, best first for `strategy`, each
    /// with its preference key (lower is better).
    pub(crate) fn candidates(
        &self,
        strategy: Strategy,
        need: i128,
    ) -> Box<dyn Iterator<Item = (i128, usize)> + '_> {
        match strategy {
            Strategy::BinPack => Box::new(self.pack.range((need, 0)..).copied()),
            Strategy::Spread => Box::new(self.spread.range(..=(-need, usize::MAX)).copied()),
        }
    }
}

/// The nodes of one topology level, by domain, and those without a
/// domain at that level.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Level {
    pub(crate) domains: BTreeMap<String, FreeIndex>,
    pub(crate) outside: FreeIndex,
}

/// The node's domain at `level` as a path from the widest level down to
/// `level` (`zone-a/b1/r7`), so that racks of the same name in two blocks
/// stay apart. Label values cannot contain `/`, so the path is
/// unambiguous.
pub(crate) fn domain_path(node: &Node, level: &str) -> Option<String> {
    let end = node.topology.iter().position(|(l, _)| l == level)?;
    let parts: Vec<&str> = node.topology[..=end]
        .iter()
        .map(|(_, d)| d.as_str())
        .collect();
    Some(parts.join("/"))
}

/// Every topology level any node names, in name order.
pub(crate) fn levels_of(nodes: &[Node]) -> BTreeSet<String> {
    nodes
        .iter()
        .flat_map(|n| n.topology.iter().map(|(l, _)| l.clone()))
        .collect()
}
