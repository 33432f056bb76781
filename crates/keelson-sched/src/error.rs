//! The one error type of keelson-sched.

/// Everything that can go wrong in keelson-sched; each variant names the
/// offending item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A quantity string that is not a Kubernetes quantity.
    #[error("quantity {input:?}: {reason}")]
    Quantity {
        /// The text (cut at 64 characters).
        input: String,
        /// Why it was refused.
        reason: String,
    },
    /// An item of the model (a resource, queue, flavor, node, workload,
    /// step, …) that is invalid.
    #[error("{item}: {reason}")]
    Invalid {
        /// The item, e.g. `nvidia.com/gpu` or `clusterQueue team-a`.
        item: String,
        /// Why.
        reason: String,
    },
    /// A workload that cannot be placed on the cluster, with the pod set
    /// and the constraint that stops it (for `?` from
    /// [`Cluster::place`](crate::Cluster::place)).
    #[error("{0}")]
    Unplaceable(Box<crate::placement::Unplaceable>),
    /// A pipeline step that depends on a step that does not exist.
    #[error("step {step} depends on missing step {missing}")]
    MissingStep {
        /// The step (or DAG output) with the dangling reference.
        step: String,
        /// The name it refers to.
        missing: String,
    },
    /// Pipeline steps (or components) that depend on each other in a cycle.
    #[error("dependency cycle: {}", steps.join(" → "))]
    Cycle {
        /// The cycle, first name repeated at the end (`a → b → a`).
        steps: Vec<String>,
    },
    /// A Kubernetes manifest (feature `crd`) that cannot be converted.
    #[error("{manifest}: {field}: {reason}")]
    Manifest {
        /// The object, as `kind/namespace/name` (`kind/name` when
        /// cluster-scoped).
        manifest: String,
        /// The field, e.g. `spec.resourceGroups[0].flavors[1].name`.
        field: String,
        /// Why.
        reason: String,
    },
    /// Input using a feature this crate does not implement.
    #[error("{item}: unsupported feature {feature}")]
    Unsupported {
        /// Where, e.g. `task train`.
        item: String,
        /// The feature, e.g. `task field "fooPolicy"`.
        feature: String,
    },
    /// A malformed row of a CSV file (a simulator trace or cluster).
    #[error("{file}: row {row}, column {column}: {reason}")]
    Row {
        /// The file (or what the caller called the text).
        file: String,
        /// The 1-based line number in the file (the header is row 1).
        row: usize,
        /// The column's header name.
        column: String,
        /// Why the field was refused.
        reason: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<crate::placement::Unplaceable> for Error {
    fn from(u: crate::placement::Unplaceable) -> Self {
        Error::Unplaceable(Box::new(u))
    }
}

impl Error {
    pub(crate) fn invalid(item: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid {
            item: item.into(),
            reason: reason.into(),
        }
    }
}
