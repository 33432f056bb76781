//! A batch of rows from another metadata system, keyed by that system's
//! ids, as [`MetadataStore::import_batch`](crate::MetadataStore::import_batch)
//! writes it in one transaction.

use serde::{Deserialize, Serialize};

use crate::event::Event;
use crate::link::{Association, Attribution, ParentContext};
use crate::node::{Artifact, Context, Execution};
use crate::types::NodeType;

/// One row and its id in the source system.
///
/// Every id inside `row` (a node's `type_id`, an event's `artifact_id` and
/// `execution_id`) is a SOURCE id too: the store maps it to its own id
/// through the rows imported before from the same source. The row's own
/// `id` field is ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRow<T> {
    /// The row's id in the source.
    pub source_id: i64,
    /// The row, with source ids in its references.
    pub row: T,
}

/// Rows of one source to write in one transaction, keyed by source ids.
///
/// Nodes keep the create and update times given (the normal puts stamp
/// the current time instead); events keep their time. A row already
/// imported from the same source (into the same namespace) is updated when
/// it differs and left alone when it does not, so importing the same rows
/// again changes nothing. Links (whose ids are source ids of their nodes)
/// are kept once. References may point to rows of earlier batches of the
/// same source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportBatch {
    /// Names the source (e.g. `mlmd:/var/lib/mlmd.sqlite`); source ids are
    /// unique within it.
    pub source: String,
    /// Types (their `properties` are merged into a stored type of the same
    /// kind, name and version).
    pub types: Vec<SourceRow<NodeType>>,
    /// Contexts.
    pub contexts: Vec<SourceRow<Context>>,
    /// Artifacts.
    pub artifacts: Vec<SourceRow<Artifact>>,
    /// Executions.
    pub executions: Vec<SourceRow<Execution>>,
    /// Events between artifacts and executions of the source.
    pub events: Vec<SourceRow<Event>>,
    /// Attributions (source context and artifact ids).
    pub attributions: Vec<Attribution>,
    /// Associations (source context and execution ids).
    pub associations: Vec<Association>,
    /// Parent-context links (source context ids).
    pub parent_contexts: Vec<ParentContext>,
}

impl ImportBatch {
    /// An empty batch of `source`.
    pub fn new(source: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            ..Self::default()
        }
    }

    /// Whether the batch holds no row.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
            && self.contexts.is_empty()
            && self.artifacts.is_empty()
            && self.executions.is_empty()
            && self.events.is_empty()
            && self.attributions.is_empty()
            && self.associations.is_empty()
            && self.parent_contexts.is_empty()
    }
}

/// What an import did with the rows of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportTally {
    /// Rows written for the first time.
    pub inserted: u64,
    /// Rows imported before that differed and were rewritten (types: that
    /// gained properties).
    pub updated: u64,
    /// Rows imported before and unchanged, left alone.
    pub unchanged: u64,
}

impl ImportTally {
    /// Every row seen.
    pub fn total(&self) -> u64 {
        self.inserted + self.updated + self.unchanged
    }

    fn add(&mut self, other: &Self) {
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }
}

/// What an import did, per kind of row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportTallies {
    /// Types.
    pub types: ImportTally,
    /// Contexts.
    pub contexts: ImportTally,
    /// Artifacts.
    pub artifacts: ImportTally,
    /// Executions.
    pub executions: ImportTally,
    /// Events.
    pub events: ImportTally,
    /// Attributions.
    pub attributions: ImportTally,
    /// Associations.
    pub associations: ImportTally,
    /// Parent-context links.
    pub parent_contexts: ImportTally,
}

impl ImportTallies {
    /// Adds `other` kind by kind.
    pub fn add(&mut self, other: &Self) {
        self.types.add(&other.types);
        self.contexts.add(&other.contexts);
        self.artifacts.add(&other.artifacts);
        self.executions.add(&other.executions);
        self.events.add(&other.events);
        self.attributions.add(&other.attributions);
        self.associations.add(&other.associations);
        self.parent_contexts.add(&other.parent_contexts);
    }

    /// Rows inserted or updated, all kinds together: 0 when an import
    /// changed nothing.
    pub fn changed(&self) -> u64 {
        [
            self.types,
            self.contexts,
            self.artifacts,
            self.executions,
            self.events,
            self.attributions,
            self.associations,
            self.parent_contexts,
        ]
        .iter()
        .map(|t| t.inserted + t.updated)
        .sum()
    }
}
