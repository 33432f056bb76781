//! Resource flavors: named variants of a resource (a GPU model, spot or
//! on-demand machines), as Kueue's `ResourceFlavor`.
//!
//! Quota is kept per (flavor, resource). A flavor also says which nodes it
//! stands for (node labels) and which taints a pod set must tolerate to be
//! admitted with it.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::workload::{PodSet, Taint, TaintEffect, Toleration};

/// A named variant of a resource, e.g. `h100` or `spot`.
///
/// ```
/// use keelson_sched::{PodSet, ResourceFlavor, Resources};
///
/// let h100 = ResourceFlavor::new("h100").with_label("gpu-model", "h100");
/// let mut pods = PodSet::new("worker", 4, Resources::parse([("nvidia.com/gpu", "8")])?);
/// assert!(h100.mismatch(&pods).is_none());
/// pods.node_selector.insert("gpu-model".into(), "a100".into());
/// assert_eq!(
///     h100.mismatch(&pods).unwrap().to_string(),
///     "node label gpu-model is h100, the pod set asks for a100"
/// );
/// # Ok::<(), keelson_sched::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceFlavor {
    /// The flavor's name, unique among flavors.
    pub name: String,
    /// Labels of the nodes this flavor stands for.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_labels: BTreeMap<String, String>,
    /// Taints of those nodes: a pod set must tolerate the ones that keep
    /// pods away (`NoSchedule`, `NoExecute`) to be admitted with this flavor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
    /// Tolerations added to the pods admitted with this flavor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
}

/// Why a pod set cannot use a flavor, quota aside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlavorMismatch {
    /// The pod set's node selector asks for another value of a label the
    /// flavor sets.
    NodeLabel {
        /// The label key.
        key: String,
        /// The flavor's value.
        flavor_value: String,
        /// The value the pod set asks for.
        requested: String,
    },
    /// The flavor has a taint the pod set does not tolerate.
    Taint {
        /// The taint's key.
        key: String,
    },
}

impl fmt::Display for FlavorMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlavorMismatch::NodeLabel {
                key,
                flavor_value,
                requested,
            } => write!(
                f,
                "node label {key} is {flavor_value}, the pod set asks for {requested}"
            ),
            FlavorMismatch::Taint { key } => write!(f, "taint {key} is not tolerated"),
        }
    }
}

impl ResourceFlavor {
    /// A flavor with no labels, taints or tolerations.
    pub fn new(name: impl Into<String>) -> ResourceFlavor {
        ResourceFlavor {
            name: name.into(),
            node_labels: BTreeMap::new(),
            taints: Vec::new(),
            tolerations: Vec::new(),
        }
    }

    /// With a node label.
    pub fn with_label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.node_labels.insert(key.into(), value.into());
        self
    }

    /// With a taint.
    pub fn with_taint(mut self, taint: Taint) -> Self {
        self.taints.push(taint);
        self
    }

    /// Why `pods` cannot use this flavor, or `None` if it can: a node
    /// selector value that contradicts one of the flavor's labels (keys the
    /// flavor does not set are left to placement), or a taint not tolerated.
    pub fn mismatch(&self, pods: &PodSet) -> Option<FlavorMismatch> {
        for (key, requested) in &pods.node_selector {
            if let Some(value) = self.node_labels.get(key)
                && value != requested
            {
                return Some(FlavorMismatch::NodeLabel {
                    key: key.clone(),
                    flavor_value: value.clone(),
                    requested: requested.clone(),
                });
            }
        }
        self.taints
            .iter()
            .find(|taint| {
                taint.effect != TaintEffect::PreferNoSchedule
                    && !pods.tolerations.iter().any(|t| t.tolerates(taint))
            })
            .map(|taint| FlavorMismatch::Taint {
                key: taint.key.clone(),
            })
    }
}
