//! Cluster specs: one node a row, read from and written to CSV, and
//! turned into the [`Node`]s a [`Cluster`](crate::Cluster) places onto.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::csv::{self, quote, row_error};
use super::trace::number;
use crate::node::Node;
use crate::placement::GPU;
use crate::quantity::Quantity;
use crate::resources::Resources;
use crate::{Error, Result};

/// The header of a cluster file, in this order.
pub const CLUSTER_HEADER: [&str; 8] = [
    "node",
    "gpus",
    "cpu_milli",
    "memory_mib",
    "gpu_model",
    "zone",
    "block",
    "rack",
];

/// The node label carrying `gpu_model` (NVIDIA's GPU feature discovery
/// label).
pub const GPU_MODEL_LABEL: &str = "nvidia.com/gpu.product";

/// One node of a cluster spec.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSpec {
    /// Unique node name.
    pub node: String,
    /// GPUs.
    pub gpus: u32,
    /// CPU in thousandths of a core.
    pub cpu_milli: u64,
    /// Memory in MiB.
    pub memory_mib: u64,
    /// GPU model (a node label; may be empty).
    pub gpu_model: String,
    /// Zone, block and rack: the node's topology domains, widest first;
    /// an empty field leaves that level out.
    pub zone: String,
    /// See `zone`.
    pub block: String,
    /// See `zone`.
    pub rack: String,
}

impl NodeSpec {
    /// The node: capacity `nvidia.com/gpu`, `cpu`, `memory`; the GPU
    /// model as label [`GPU_MODEL_LABEL`]; topology levels `zone`,
    /// `block`, `rack`.
    pub fn to_node(&self) -> Result<Node> {
        let capacity = pod_resources(u64::from(self.gpus), self.cpu_milli, self.memory_mib)?;
        let mut node = Node::new(self.node.clone(), capacity).with_topology(
            [
                ("zone", &self.zone),
                ("block", &self.block),
                ("rack", &self.rack),
            ]
            .into_iter()
            .filter(|(_, d)| !d.is_empty())
            .map(|(l, d)| (l, d.as_str())),
        );
        if !self.gpu_model.is_empty() {
            node = node.with_label(GPU_MODEL_LABEL, self.gpu_model.clone());
        }
        Ok(node)
    }
}

/// The resource list of `gpus`, `cpu_milli` and `memory_mib` (zero
/// amounts left out).
pub(crate) fn pod_resources(gpus: u64, cpu_milli: u64, memory_mib: u64) -> Result<Resources> {
    let too_big = |what: &str| Error::invalid(what, "amount too large");
    let mut r = Resources::new();
    if gpus > 0 {
        let g = i64::try_from(gpus).map_err(|_| too_big(GPU))?;
        r.set(GPU, Quantity::from_units(g))?;
    }
    if cpu_milli > 0 {
        r.set("cpu", Quantity::from_milli(i128::from(cpu_milli)))?;
    }
    if memory_mib > 0 {
        r.set(
            "memory",
            Quantity::from_milli(i128::from(memory_mib) * 1_048_576 * 1000),
        )?;
    }
    Ok(r)
}

/// Reads a cluster CSV. `file` names the text in errors. The header must
/// be [`CLUSTER_HEADER`]; node names must be unique; amounts are
/// non-negative integers; a malformed field gives
/// [`Error::Row`] naming the row and column.
///
/// ```
/// use keelson_sched::sim::parse_cluster;
///
/// let nodes = parse_cluster("c.csv", "node,gpus,cpu_milli,memory_mib,gpu_model,zone,block,rack\n\
///     n1,8,96000,786432,H100,z1,b1,r1\n")?;
/// assert_eq!(nodes[0].to_node()?.domain("rack"), Some("r1"));
/// let bad = parse_cluster("c.csv", "node,gpus,cpu_milli,memory_mib,gpu_model,zone,block,rack\n\
///     n1,eight,96000,786432,H100,z1,b1,r1\n").unwrap_err();
/// assert_eq!(bad.to_string(), "c.csv: row 2, column gpus: \"eight\" is not an integer in range");
/// # Ok::<(), keelson_sched::Error>(())
/// ```
pub fn parse_cluster(file: &str, text: &str) -> Result<Vec<NodeSpec>> {
    let rows = csv::rows(file, text, &CLUSTER_HEADER)?;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut nodes = Vec::with_capacity(rows.len());
    for row in rows {
        let f = &row.fields;
        let err =
            |col: usize, reason: String| row_error(file, row.line, CLUSTER_HEADER[col], reason);
        if f[0].is_empty() {
            return Err(err(0, "empty node name".into()));
        }
        if let Some(first) = seen.insert(f[0].clone(), row.line) {
            return Err(err(0, format!("node {:?} already on row {first}", f[0])));
        }
        nodes.push(NodeSpec {
            node: f[0].clone(),
            gpus: number(&f[1]).map_err(|e| err(1, e))?,
            cpu_milli: number(&f[2]).map_err(|e| err(2, e))?,
            memory_mib: number(&f[3]).map_err(|e| err(3, e))?,
            gpu_model: f[4].clone(),
            zone: f[5].clone(),
            block: f[6].clone(),
            rack: f[7].clone(),
        });
    }
    Ok(nodes)
}

/// Writes nodes as a cluster CSV that [`parse_cluster`] reads back
/// unchanged.
pub fn write_cluster(nodes: &[NodeSpec]) -> String {
    let mut out = CLUSTER_HEADER.join(",");
    out.push('\n');
    for n in nodes {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            quote(&n.node),
            n.gpus,
            n.cpu_milli,
            n.memory_mib,
            quote(&n.gpu_model),
            quote(&n.zone),
            quote(&n.block),
            quote(&n.rack)
        ));
    }
    out
}
