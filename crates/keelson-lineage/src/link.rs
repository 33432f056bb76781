//! Membership of nodes in contexts, and the context hierarchy.

use serde::{Deserialize, Serialize};

/// An artifact belongs to a context (MLMD's `Attribution`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Attribution {
    /// The context.
    pub context_id: i64,
    /// The artifact.
    pub artifact_id: i64,
}

/// An execution belongs to a context (MLMD's `Association`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Association {
    /// The context.
    pub context_id: i64,
    /// The execution.
    pub execution_id: i64,
}

/// A context is a child of another (MLMD's `ParentContext`), e.g. a run
/// inside a pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ParentContext {
    /// The child context.
    pub child_id: i64,
    /// The parent context.
    pub parent_id: i64,
}
