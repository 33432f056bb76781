//! The [`MetadataStore`] trait every backend implements, and its options.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::event::Event;
use crate::import::{ImportBatch, ImportTallies};
use crate::limits;
use crate::lineage::{LineageGraph, LineageQuery};
use crate::link::{Association, Attribution, ParentContext};
use crate::node::{Artifact, Context, Execution};
use crate::types::{NodeKind, NodeType, TypeOptions};

/// The column a list call orders by (MLMD's `ListOptions.order_by_field`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderBy {
    /// `create_time_since_epoch`, ties broken by id (MLMD's default).
    #[default]
    CreateTime,
    /// `last_update_time_since_epoch`, ties broken by id.
    LastUpdateTime,
    /// The id.
    Id,
}

/// Paging, ordering and filtering of a list call (MLMD's `ListOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListOptions {
    /// Page size: [`limits::DEFAULT_PAGE_SIZE`] when `None`, at most
    /// [`limits::MAX_PAGE_SIZE`].
    pub limit: Option<u32>,
    /// The ordering.
    pub order_by: OrderBy,
    /// Ascending (oldest or smallest id first) when true.
    pub ascending: bool,
    /// The `next_page_token` of the previous page, with the same ordering.
    pub page_token: Option<String>,
    /// An MLMD filter query, e.g. `type = 'Model' AND
    /// properties.accuracy.double_value > 0.9` (see [`crate::filter`]); a
    /// query that does not parse or reads an attribute the listed kind lacks
    /// is [`Error::Filter`].
    pub filter_query: Option<String>,
}

impl ListOptions {
    /// The page size these options ask for, checked against the limits.
    pub fn page_size(&self) -> Result<u32> {
        match self.limit {
            None => Ok(limits::DEFAULT_PAGE_SIZE),
            Some(0) => Err(Error::invalid("list_options.limit", "must be at least 1")),
            Some(n) if n > limits::MAX_PAGE_SIZE => Err(Error::invalid(
                "list_options.limit",
                format!("{n} exceeds the limit of {}", limits::MAX_PAGE_SIZE),
            )),
            Some(n) => Ok(n),
        }
    }
}

/// One page of a list call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The nodes of this page, in the requested order.
    pub items: Vec<T>,
    /// The token of the next page; `None` on the last page.
    pub next_page_token: Option<String>,
}

/// What [`MetadataStore::put_execution`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutExecutionResult {
    /// The execution's id.
    pub execution_id: i64,
    /// The artifacts' ids, in the order given.
    pub artifact_ids: Vec<i64>,
    /// The contexts' ids, in the order given.
    pub context_ids: Vec<i64>,
}

/// What a delete does with the links that reference the node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeletePolicy {
    /// Refuse ([`Error::Referenced`]) while events, attributions,
    /// associations or child contexts reference the node.
    #[default]
    Refuse,
    /// Delete those links with the node, in the same transaction.
    Cascade,
}

/// Row counts of one namespace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreCounts {
    /// Types of all kinds.
    pub types: u64,
    /// Artifacts.
    pub artifacts: u64,
    /// Executions.
    pub executions: u64,
    /// Contexts.
    pub contexts: u64,
    /// Events.
    pub events: u64,
    /// Attributions.
    pub attributions: u64,
    /// Associations.
    pub associations: u64,
    /// Parent-context links.
    pub parent_contexts: u64,
}

/// A metadata store with MLMD's API, scoped to one namespace.
///
/// Every call sees and changes only the rows of the handle's namespace
/// ([`MetadataStore::namespace`]); ids of other namespaces behave as ids that
/// do not exist. Every write is one transaction: on error nothing is
/// written.
#[async_trait]
pub trait MetadataStore: Send + Sync {
    /// The namespace this handle works in (`""` is the default namespace).
    fn current_namespace(&self) -> &str;

    /// A handle on the same store scoped to `namespace` (a Kubeflow profile:
    /// a DNS label of at most [`limits::MAX_NAMESPACE_BYTES`] bytes, or `""`).
    fn namespace(&self, namespace: &str) -> Result<Self>
    where
        Self: Sized;

    /// Stores a type, or evolves the stored type of the same kind, name and
    /// version under `options`; returns its id.
    async fn put_type(&self, node_type: &NodeType, options: TypeOptions) -> Result<i64>;
    /// The type of `kind` named `name` (and `version`).
    async fn get_type(
        &self,
        kind: NodeKind,
        name: &str,
        version: Option<&str>,
    ) -> Result<Option<NodeType>>;
    /// The types with these ids (any kind; unknown ids are skipped).
    async fn get_types_by_id(&self, ids: &[i64]) -> Result<Vec<NodeType>>;
    /// All types of `kind`.
    async fn get_types(&self, kind: NodeKind) -> Result<Vec<NodeType>>;

    /// Inserts (id `None`) or updates artifacts; returns their ids.
    async fn put_artifacts(&self, artifacts: &[Artifact]) -> Result<Vec<i64>>;
    /// Inserts (id `None`) or updates executions; returns their ids.
    async fn put_executions(&self, executions: &[Execution]) -> Result<Vec<i64>>;
    /// Inserts (id `None`) or updates contexts; returns their ids.
    async fn put_contexts(&self, contexts: &[Context]) -> Result<Vec<i64>>;
    /// Records events between existing artifacts and executions.
    async fn put_events(&self, events: &[Event]) -> Result<()>;
    /// Records one step of a pipeline in ONE transaction: the execution,
    /// its artifacts with their events (ids filled in), the contexts, and the
    /// attributions and associations of all of them to every context.
    async fn put_execution(
        &self,
        execution: &Execution,
        artifacts_and_events: &[(Artifact, Option<Event>)],
        contexts: &[Context],
    ) -> Result<PutExecutionResult>;
    /// Links artifacts and executions to contexts (existing links are kept).
    async fn put_attributions_and_associations(
        &self,
        attributions: &[Attribution],
        associations: &[Association],
    ) -> Result<()>;
    /// Links contexts to parent contexts; a link that would close a cycle is
    /// refused.
    async fn put_parent_contexts(&self, links: &[ParentContext]) -> Result<()>;

    /// The artifacts with these ids, by id (unknown ids are skipped).
    async fn get_artifacts_by_id(&self, ids: &[i64]) -> Result<Vec<Artifact>>;
    /// The executions with these ids, by id (unknown ids are skipped).
    async fn get_executions_by_id(&self, ids: &[i64]) -> Result<Vec<Execution>>;
    /// The contexts with these ids, by id (unknown ids are skipped).
    async fn get_contexts_by_id(&self, ids: &[i64]) -> Result<Vec<Context>>;
    /// The artifacts of a type, by id.
    async fn get_artifacts_by_type(
        &self,
        type_name: &str,
        type_version: Option<&str>,
    ) -> Result<Vec<Artifact>>;
    /// The executions of a type, by id.
    async fn get_executions_by_type(
        &self,
        type_name: &str,
        type_version: Option<&str>,
    ) -> Result<Vec<Execution>>;
    /// The contexts of a type, by id.
    async fn get_contexts_by_type(
        &self,
        type_name: &str,
        type_version: Option<&str>,
    ) -> Result<Vec<Context>>;
    /// The artifact of a type with a name.
    async fn get_artifact_by_type_and_name(
        &self,
        type_name: &str,
        type_version: Option<&str>,
        name: &str,
    ) -> Result<Option<Artifact>>;
    /// The execution of a type with a name.
    async fn get_execution_by_type_and_name(
        &self,
        type_name: &str,
        type_version: Option<&str>,
        name: &str,
    ) -> Result<Option<Execution>>;
    /// The context of a type with a name.
    async fn get_context_by_type_and_name(
        &self,
        type_name: &str,
        type_version: Option<&str>,
        name: &str,
    ) -> Result<Option<Context>>;
    /// The artifacts at `uri`, by id.
    async fn get_artifacts_by_uri(&self, uri: &str) -> Result<Vec<Artifact>>;
    /// The artifacts with these external ids, by id.
    async fn get_artifacts_by_external_ids(&self, external_ids: &[String])
    -> Result<Vec<Artifact>>;
    /// The executions with these external ids, by id.
    async fn get_executions_by_external_ids(
        &self,
        external_ids: &[String],
    ) -> Result<Vec<Execution>>;
    /// The contexts with these external ids, by id.
    async fn get_contexts_by_external_ids(&self, external_ids: &[String]) -> Result<Vec<Context>>;
    /// The artifacts attributed to a context, by id.
    async fn get_artifacts_by_context(&self, context_id: i64) -> Result<Vec<Artifact>>;
    /// The executions associated with a context, by id.
    async fn get_executions_by_context(&self, context_id: i64) -> Result<Vec<Execution>>;
    /// The contexts an artifact is attributed to, by id.
    async fn get_contexts_by_artifact(&self, artifact_id: i64) -> Result<Vec<Context>>;
    /// The contexts an execution is associated with, by id.
    async fn get_contexts_by_execution(&self, execution_id: i64) -> Result<Vec<Context>>;
    /// The parents of a context, by id.
    async fn get_parent_contexts(&self, context_id: i64) -> Result<Vec<Context>>;
    /// The children of a context, by id.
    async fn get_children_contexts(&self, context_id: i64) -> Result<Vec<Context>>;
    /// The events of these artifacts.
    async fn get_events_by_artifact_ids(&self, artifact_ids: &[i64]) -> Result<Vec<Event>>;
    /// The events of these executions.
    async fn get_events_by_execution_ids(&self, execution_ids: &[i64]) -> Result<Vec<Event>>;

    /// One page of artifacts.
    async fn list_artifacts(&self, options: &ListOptions) -> Result<Page<Artifact>>;
    /// One page of executions.
    async fn list_executions(&self, options: &ListOptions) -> Result<Page<Execution>>;
    /// One page of contexts.
    async fn list_contexts(&self, options: &ListOptions) -> Result<Page<Context>>;

    /// The lineage subgraph around the start nodes (MLMD's
    /// `get_lineage_subgraph`); unknown start ids are [`Error::NotFound`].
    async fn lineage_subgraph(&self, query: &LineageQuery) -> Result<LineageGraph>;

    /// Deletes an artifact (with its properties; its events and
    /// attributions under [`DeletePolicy::Cascade`]).
    async fn delete_artifact(&self, id: i64, policy: DeletePolicy) -> Result<()>;
    /// Deletes an execution (with its properties; its events and
    /// associations under [`DeletePolicy::Cascade`]).
    async fn delete_execution(&self, id: i64, policy: DeletePolicy) -> Result<()>;
    /// Deletes a context (with its properties and its own parent links; its
    /// attributions, associations and child links under
    /// [`DeletePolicy::Cascade`]).
    async fn delete_context(&self, id: i64, policy: DeletePolicy) -> Result<()>;

    /// Row counts of the handle's namespace.
    async fn counts(&self) -> Result<StoreCounts>;

    /// Writes rows of another metadata system (e.g. MLMD), keyed by its
    /// ids, in ONE transaction: on error nothing of the batch is written.
    /// Source times are kept; rows imported before from the same source
    /// into this namespace are updated only where they differ, so importing
    /// the same batch twice changes nothing (see [`ImportBatch`]). A
    /// reference to a source id that was never imported is
    /// [`Error::NotFound`] naming it.
    async fn import_batch(&self, batch: &ImportBatch) -> Result<ImportTallies>;
}

/// Checks a namespace name: `""`, or a DNS label (lowercase letters,
/// digits, `-`, starting and ending with a letter or digit).
pub fn validate_namespace(namespace: &str) -> Result<()> {
    if namespace.is_empty() {
        return Ok(());
    }
    let bytes = namespace.as_bytes();
    let ok_char = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-';
    let ok_end = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if namespace.len() > limits::MAX_NAMESPACE_BYTES
        || !bytes.iter().all(ok_char)
        || !ok_end(bytes.first())
        || !ok_end(bytes.last())
    {
        return Err(Error::invalid(
            "namespace",
            format!(
                "{namespace:?} is not a DNS label of at most {} characters",
                limits::MAX_NAMESPACE_BYTES
            ),
        ));
    }
    Ok(())
}
