//! Reading a whole table through the [`MetadataStore`] trait, one page of
//! nodes per record batch.

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use super::Table;
use super::batch::{
    FlatColumn, NodeRow, TypeNames, association_pairs, attribution_pairs, events_batch,
    links_batch, node_schema, nodes_batch, types_batch,
};
use crate::error::{Error, Result};
use crate::limits;
use crate::lineage::{Direction, LineageQuery, LineageStart};
use crate::store::{ListOptions, MetadataStore, OrderBy, Page};
use crate::types::{NodeKind, NodeType, type_label};

/// Which nodes a [`TableExport`] reads and how it lays out their
/// properties; a builder.
///
/// ```
/// use keelson_lineage::export::ExportOptions;
///
/// let options = ExportOptions::new()
///     .page_size(5_000)
///     .of_type("Model", None)
///     .filter_query("properties.accuracy.double_value > 0.9")
///     .flatten(true)
///     .flatten_prefix("p_");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOptions {
    page_size: u32,
    filter_query: Option<String>,
    of_type: Option<(String, Option<String>)>,
    flatten: bool,
    flatten_prefix: String,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            page_size: Self::DEFAULT_PAGE_SIZE,
            filter_query: None,
            of_type: None,
            flatten: false,
            flatten_prefix: String::new(),
        }
    }
}

impl ExportOptions {
    /// Nodes per page (and so per record batch) when not set.
    pub const DEFAULT_PAGE_SIZE: u32 = 1_000;

    /// Every node of the table's kind, [`DEFAULT_PAGE_SIZE`](Self::DEFAULT_PAGE_SIZE)
    /// per page, properties as a map column.
    pub fn new() -> Self {
        Self::default()
    }

    /// Nodes per page, at most [`limits::MAX_PAGE_SIZE`]: the memory an
    /// export holds is about one page of nodes and their links.
    #[must_use]
    pub fn page_size(mut self, nodes: u32) -> Self {
        self.page_size = nodes;
        self
    }

    /// Only the nodes matching an MLMD filter query (see
    /// [`crate::filter`]), over the table's [`Table::node_kind`]; a link
    /// table then holds the links of those nodes.
    #[must_use]
    pub fn filter_query(mut self, query: impl Into<String>) -> Self {
        self.filter_query = Some(query.into());
        self
    }

    /// Only the nodes of one type (of the table's [`Table::node_kind`]),
    /// named `name` with `version`.
    #[must_use]
    pub fn of_type(mut self, name: impl Into<String>, version: Option<&str>) -> Self {
        self.of_type = Some((name.into(), version.map(str::to_owned)));
        self
    }

    /// With [`of_type`](Self::of_type), on a node table: the type's
    /// declared properties as typed columns (`INT` → `Int64`, `DOUBLE` →
    /// `Float64`, `STRING` → `Utf8`, `STRUCT` → `Utf8` JSON, `BOOLEAN` →
    /// `Boolean`; null where a node has no value), in place of the
    /// `properties` map; `custom_properties` stays a map.
    #[must_use]
    pub fn flatten(mut self, flatten: bool) -> Self {
        self.flatten = flatten;
        self
    }

    /// A prefix of the flattened columns' names (none by default), for a
    /// property named like a column of the table (`uri`, `name`, …), which
    /// is refused without one.
    #[must_use]
    pub fn flatten_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.flatten_prefix = prefix.into();
        self
    }
}

/// A whole table of a store, read through the [`MetadataStore`] trait one
/// page of nodes at a time (ordered by id), so it works on every backend
/// and holds about one page in memory.
///
/// Node tables list their nodes ([`MetadataStore::list_artifacts`], …).
/// Link tables walk the pages of their [`Table::node_kind`]: events with
/// one [`MetadataStore::get_events_by_execution_ids`] per page;
/// attributions and associations with one
/// [`MetadataStore::lineage_subgraph`] of zero hops per
/// [`limits::MAX_LINEAGE_START_NODES`] nodes (it answers the nodes'
/// memberships); parent contexts with one
/// [`MetadataStore::get_parent_contexts`] per context, as the trait has no
/// batched form. Pages are read as the export goes, not in one snapshot:
/// rows written meanwhile may or may not be in it.
pub struct TableExport<'a, S: MetadataStore + ?Sized> {
    store: &'a S,
    table: Table,
    schema: SchemaRef,
    type_names: TypeNames,
    flat: Option<Vec<FlatColumn>>,
    list: ListOptions,
    done: bool,
}

impl<S: MetadataStore + ?Sized> std::fmt::Debug for TableExport<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableExport")
            .field("table", &self.table)
            .field("list", &self.list)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

fn refused(field: &str, reason: impl Into<String>) -> Error {
    Error::invalid(format!("export_options.{field}"), reason)
}

impl<'a, S: MetadataStore + ?Sized> TableExport<'a, S> {
    /// An export of `table` from the handle's namespace. Looks up the
    /// types (for the `type` column and [`ExportOptions::of_type`]); an
    /// unknown type is [`Error::NotFound`], options the table cannot take
    /// (a filter or type on [`Table::Types`], flattening without a type or
    /// on a link table, a page size of 0 or above the limit) are
    /// [`Error::InvalidArgument`], a flattened column named like another
    /// is [`Error::Export`].
    pub async fn new(store: &'a S, table: Table, options: ExportOptions) -> Result<Self> {
        let mut list = ListOptions {
            limit: Some(options.page_size),
            order_by: OrderBy::Id,
            ascending: true,
            page_token: None,
            filter_query: None,
        };
        list.page_size().map_err(|_| {
            refused(
                "page_size",
                format!(
                    "{} is not in 1..={}",
                    options.page_size,
                    limits::MAX_PAGE_SIZE
                ),
            )
        })?;
        let Some(kind) = table.node_kind() else {
            if options.filter_query.is_some() || options.of_type.is_some() || options.flatten {
                return Err(refused(
                    "of_type",
                    "the types table takes no filter query, type or flattening",
                ));
            }
            return Ok(Self {
                store,
                table,
                schema: table.schema(),
                type_names: TypeNames::new(),
                flat: None,
                list,
                done: false,
            });
        };
        let node_type = match &options.of_type {
            None => None,
            Some((name, version)) => Some(
                store
                    .get_type(kind, name, version.as_deref())
                    .await?
                    .ok_or_else(|| Error::not_found(type_label(kind, name, version.as_deref())))?,
            ),
        };
        let flat = if options.flatten {
            flat_columns(table, node_type.as_ref(), &options.flatten_prefix)?
        } else {
            None
        };
        list.filter_query = match (node_type.as_ref().and_then(|t| t.id), options.filter_query) {
            (Some(id), Some(q)) => Some(format!("type_id = {id} AND ({q})")),
            (Some(id), None) => Some(format!("type_id = {id}")),
            (None, q) => q,
        };
        let is_node_table = matches!(
            table,
            Table::Artifacts | Table::Executions | Table::Contexts
        );
        let (schema, type_names) = if is_node_table {
            let names = store
                .get_types(kind)
                .await?
                .into_iter()
                .filter_map(|t| t.id.map(|id| (id, t.name)))
                .collect();
            (node_schema(table, flat.as_deref())?, names)
        } else {
            (table.schema(), TypeNames::new())
        };
        Ok(Self {
            store,
            table,
            schema,
            type_names,
            flat,
            list,
            done: false,
        })
    }

    /// The table.
    pub fn table(&self) -> Table {
        self.table
    }

    /// The schema of every batch: [`Table::schema`], or with the flattened
    /// property columns.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The next non-empty batch (one page of nodes, or their links), or
    /// `None` when the table is done.
    pub async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        while !self.done {
            let batch = self.read_page().await?;
            if batch.num_rows() > 0 {
                return Ok(Some(batch));
            }
        }
        Ok(None)
    }

    fn advance(&mut self, next_page_token: Option<String>) {
        self.done = next_page_token.is_none();
        self.list.page_token = next_page_token;
    }

    /// A page of nodes as a batch, the next page remembered.
    fn nodes<N: NodeRow>(&mut self, page: Page<N>) -> Result<RecordBatch> {
        self.advance(page.next_page_token);
        nodes_batch(
            &page.items,
            &self.type_names,
            self.flat.as_deref(),
            self.schema.clone(),
        )
    }

    async fn read_page(&mut self) -> Result<RecordBatch> {
        let store = self.store;
        match self.table {
            Table::Types => {
                self.done = true;
                let mut types = Vec::new();
                for kind in [NodeKind::Artifact, NodeKind::Execution, NodeKind::Context] {
                    types.extend(store.get_types(kind).await?);
                }
                types.sort_by_key(|t| t.id);
                types_batch(&types)
            }
            Table::Artifacts => {
                let page = store.list_artifacts(&self.list).await?;
                self.nodes(page)
            }
            Table::Executions => {
                let page = store.list_executions(&self.list).await?;
                self.nodes(page)
            }
            Table::Contexts => {
                let page = store.list_contexts(&self.list).await?;
                self.nodes(page)
            }
            Table::Events => {
                let page = store.list_executions(&self.list).await?;
                self.advance(page.next_page_token);
                let ids: Vec<i64> = page.items.iter().filter_map(|e| e.id).collect();
                let events = if ids.is_empty() {
                    Vec::new()
                } else {
                    store.get_events_by_execution_ids(&ids).await?
                };
                events_batch(&events)
            }
            Table::Attributions => {
                let page = store.list_artifacts(&self.list).await?;
                self.advance(page.next_page_token);
                let ids: Vec<i64> = page.items.iter().filter_map(|a| a.id).collect();
                let pairs = memberships(store, NodeKind::Artifact, &ids).await?;
                links_batch(Table::Attributions, &pairs)
            }
            Table::Associations => {
                let page = store.list_executions(&self.list).await?;
                self.advance(page.next_page_token);
                let ids: Vec<i64> = page.items.iter().filter_map(|e| e.id).collect();
                let pairs = memberships(store, NodeKind::Execution, &ids).await?;
                links_batch(Table::Associations, &pairs)
            }
            Table::ParentContexts => {
                let page = store.list_contexts(&self.list).await?;
                self.advance(page.next_page_token);
                let mut pairs = Vec::new();
                for child in page.items.iter().filter_map(|c| c.id) {
                    let parents = store.get_parent_contexts(child).await?;
                    pairs.extend(parents.iter().filter_map(|p| p.id).map(|p| (child, p)));
                }
                links_batch(Table::ParentContexts, &pairs)
            }
        }
    }
}

fn flat_columns(
    table: Table,
    node_type: Option<&NodeType>,
    prefix: &str,
) -> Result<Option<Vec<FlatColumn>>> {
    if !matches!(
        table,
        Table::Artifacts | Table::Executions | Table::Contexts
    ) {
        return Err(refused(
            "flatten",
            format!("the {table} table has no property columns"),
        ));
    }
    let Some(node_type) = node_type else {
        return Err(refused(
            "flatten",
            "needs of_type: only one type's declared properties can be columns",
        ));
    };
    Ok(Some(
        node_type
            .properties
            .iter()
            .map(|(property, ty)| FlatColumn {
                column: format!("{prefix}{property}"),
                property: property.clone(),
                ty: *ty,
            })
            .collect(),
    ))
}

/// `(context_id, node_id)` of the attributions (artifacts) or associations
/// (executions) of `ids`: a lineage subgraph of zero hops holds exactly the
/// start nodes' memberships, and takes a batch of ids in one call.
async fn memberships<S: MetadataStore + ?Sized>(
    store: &S,
    kind: NodeKind,
    ids: &[i64],
) -> Result<Vec<(i64, i64)>> {
    let mut pairs = Vec::new();
    for chunk in ids.chunks(limits::MAX_LINEAGE_START_NODES) {
        let graph = match store
            .lineage_subgraph(&zero_hops(kind, chunk.to_vec()))
            .await
        {
            // A node deleted since its page was listed: export the others.
            Err(Error::NotFound { .. }) => {
                let alive: Vec<i64> = if kind == NodeKind::Artifact {
                    store
                        .get_artifacts_by_id(chunk)
                        .await?
                        .iter()
                        .filter_map(|a| a.id)
                        .collect()
                } else {
                    store
                        .get_executions_by_id(chunk)
                        .await?
                        .iter()
                        .filter_map(|e| e.id)
                        .collect()
                };
                if alive.is_empty() {
                    continue;
                }
                store.lineage_subgraph(&zero_hops(kind, alive)).await?
            }
            other => other?,
        };
        if kind == NodeKind::Artifact {
            pairs.extend(attribution_pairs(&graph.attributions));
        } else {
            pairs.extend(association_pairs(&graph.associations));
        }
    }
    Ok(pairs)
}

fn zero_hops(kind: NodeKind, ids: Vec<i64>) -> LineageQuery {
    LineageQuery {
        start: if kind == NodeKind::Artifact {
            LineageStart::Artifacts(ids)
        } else {
            LineageStart::Executions(ids)
        },
        max_hops: 0,
        direction: Direction::Upstream,
    }
}
