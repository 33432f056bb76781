//! Nodes: capacity, labels, taints and a place in the topology
//! (zone → block → rack → host).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::resources::Resources;
use crate::workload::{PodSet, Taint, TaintEffect};
use crate::{Error, Result};

/// A node a pod can be placed on.
///
/// `topology` lists the node's domain at each topology level, from the
/// widest, e.g. `[("zone", "us-east-1a"), ("block", "b1"), ("rack", "r7")]`;
/// the host level is the node itself.
///
/// ```
/// use keelson_sched::{Node, PodSet, Resources};
///
/// let node = Node::new("gpu-07", Resources::parse([("cpu", "96"), ("nvidia.com/gpu", "8")])?)
///     .with_label("gpu-model", "h100")
///     .with_topology([("zone", "a"), ("block", "b1"), ("rack", "r3")]);
/// assert_eq!(node.domain("rack"), Some("r3"));
/// let pods = PodSet::new("worker", 2, Resources::parse([("nvidia.com/gpu", "4")])?);
/// assert!(node.admits(&pods));
/// # Ok::<(), keelson_sched::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Node {
    /// The node's name, unique in the cluster.
    pub name: String,
    /// What pods may use (allocatable).
    pub capacity: Resources,
    /// The node's labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The node's taints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
    /// (level, domain) pairs from the widest level down.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topology: Vec<(String, String)>,
}

impl Node {
    /// A node with a capacity and nothing else.
    pub fn new(name: impl Into<String>, capacity: Resources) -> Node {
        Node {
            name: name.into(),
            capacity,
            labels: BTreeMap::new(),
            taints: Vec::new(),
            topology: Vec::new(),
        }
    }

    /// With a label.
    pub fn with_label(mut self, key: impl Into<String>, value: impl Into<String>) -> Node {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// With a taint.
    pub fn with_taint(mut self, taint: Taint) -> Node {
        self.taints.push(taint);
        self
    }

    /// With its topology domains, widest level first.
    pub fn with_topology<'a>(
        mut self,
        levels: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Node {
        self.topology = levels
            .into_iter()
            .map(|(l, d)| (l.to_owned(), d.to_owned()))
            .collect();
        self
    }

    /// The node's domain at a topology level (`hostname` is the node's name).
    pub fn domain(&self, level: &str) -> Option<&str> {
        if level == "hostname" {
            return Some(&self.name);
        }
        self.topology
            .iter()
            .find(|(l, _)| l == level)
            .map(|(_, d)| d.as_str())
    }

    /// Whether a pod of `pods` may run here at all (labels, and taints with
    /// a `NoSchedule` or `NoExecute` effect), capacity aside.
    pub fn admits(&self, pods: &PodSet) -> bool {
        let labels_match = pods
            .node_selector
            .iter()
            .all(|(k, v)| self.labels.get(k) == Some(v));
        let taints_tolerated = self.taints.iter().all(|taint| {
            taint.effect == TaintEffect::PreferNoSchedule
                || pods.tolerations.iter().any(|t| t.tolerates(taint))
        });
        labels_match && taints_tolerated
    }

    /// Checks the name and that each topology level appears once; the
    /// error names the node.
    pub fn validate(&self) -> Result<()> {
        if self.name.is_empty() {
            return Err(Error::invalid("node", "a name is required"));
        }
        for (i, (level, _)) in self.topology.iter().enumerate() {
            if self.topology[..i].iter().any(|(l, _)| l == level) {
                return Err(Error::invalid(
                    format!("node {}", self.name),
                    format!("topology level {level} given twice"),
                ));
            }
        }
        Ok(())
    }
}
