//! Size limits on what a store accepts; larger input is refused with
//! [`Error::InvalidArgument`](crate::Error::InvalidArgument) naming the field,
//! before anything is written.

/// Longest namespace: a Kubernetes namespace name (DNS label).
pub const MAX_NAMESPACE_BYTES: usize = 63;
/// Longest name of a type, node or property, version, base type or external id.
pub const MAX_NAME_BYTES: usize = 1024;
/// Longest description of a type.
pub const MAX_DESCRIPTION_BYTES: usize = 64 * 1024;
/// Longest artifact URI.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Longest string property value, and longest struct value as JSON text.
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;
/// Most properties plus custom properties on one node, and declared
/// properties on one type.
pub const MAX_PROPERTIES: usize = 1024;
/// Most steps in one event path.
pub const MAX_PATH_STEPS: usize = 64;
/// Most start nodes of one lineage query (MLMD's limit too).
pub const MAX_LINEAGE_START_NODES: usize = 100;
/// Largest page of a list call; [`ListOptions::limit`](crate::ListOptions)
/// above it is refused.
pub const MAX_PAGE_SIZE: u32 = 10_000;
/// Page size of a list call without a limit (MLMD's server page size).
pub const DEFAULT_PAGE_SIZE: u32 = 100;
