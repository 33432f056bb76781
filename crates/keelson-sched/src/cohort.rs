//! Cohorts: groups of ClusterQueues (and of other cohorts) that lend each
//! other unused quota, as Kueue's `Cohort`
//! (<https://kueue.sigs.k8s.io/docs/concepts/cohort/>).

use serde::{Deserialize, Serialize};

use crate::cluster_queue::{FairSharing, ResourceGroup};

/// A cohort: a node of a cohort tree.
///
/// A cohort named by a queue or as a parent but never described exists
/// implicitly, with no quota of its own. Quota given here is shared by
/// the cohort's members on top of their own; its borrowing and lending
/// limits apply between the cohort and its parent.
///
/// ```
/// use keelson_sched::Cohort;
/// let org = Cohort::new("research").with_parent("company");
/// assert_eq!(org.parent.as_deref(), Some("company"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cohort {
    /// The cohort's name, unique among cohorts.
    pub name: String,
    /// The parent cohort, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Quota of the cohort itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_groups: Vec<ResourceGroup>,
    /// Its weight under fair sharing (recorded; shares are computed per
    /// ClusterQueue, see `docs/sched.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fair_sharing: Option<FairSharing>,
}

impl Cohort {
    /// A cohort with no parent and no quota of its own.
    pub fn new(name: impl Into<String>) -> Cohort {
        Cohort {
            name: name.into(),
            parent: None,
            resource_groups: Vec::new(),
            fair_sharing: None,
        }
    }

    /// With a parent cohort.
    pub fn with_parent(mut self, parent: impl Into<String>) -> Self {
        self.parent = Some(parent.into());
        self
    }

    /// With one more resource group of its own quota.
    pub fn with_group(mut self, group: ResourceGroup) -> Self {
        self.resource_groups.push(group);
        self
    }
}
