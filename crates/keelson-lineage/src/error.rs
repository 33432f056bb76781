//! The one error type of keelson-lineage.

/// Everything that can go wrong in keelson-lineage; each variant names the
/// offending item.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A filter query that does not parse, or reads an attribute the node
    /// kind lacks.
    #[error(transparent)]
    Filter(crate::filter::FilterError),
    /// An MLMD database that cannot be read.
    #[error(transparent)]
    Mlmd(crate::mlmd::ReadError),
    /// A benchmark workload file that is refused, or a formula that cannot
    /// be evaluated for a run; names the field.
    #[error(transparent)]
    Workload(crate::workload::WorkloadError),
}
