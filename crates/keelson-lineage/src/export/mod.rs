//! Export of a store's tables, or of a lineage subgraph, as Arrow record
//! batches (feature `arrow`) and Parquet files (feature `parquet`), for
//! analysis in pandas, polars, DuckDB or Spark.
//!
//! Every table of MLMD's model has an Arrow schema ([`Table::schema`]):
//! [`Table::Types`], [`Table::Artifacts`], [`Table::Executions`],
//! [`Table::Contexts`], [`Table::Events`], [`Table::Attributions`],
//! [`Table::Associations`] and [`Table::ParentContexts`]. Node columns
//! mirror MLMD's tables (`id`, `type_id`, the type's name as `type`, `uri`,
//! `state`, `name`, `external_id`, times as `Timestamp(ms, UTC)`); the
//! properties are a lossless map column (see [`schema::value_fields`]), or,
//! when a node export is restricted to one type, that type's declared
//! properties as typed columns ([`ExportOptions::flatten`]). Ids join the
//! tables as they join in the store.
//!
//! [`TableExport`] reads a table through the [`MetadataStore`] trait only,
//! so it works on every backend: one page of nodes per
//! [`next_batch`](TableExport::next_batch), one record batch per page.
//! [`graph_batches`] turns a [`LineageGraph`] into the same batches.
//! With the `parquet` feature, [`parquet`] writes batches to any writer,
//! and a whole store or subgraph to a directory, one file per table.
//!
//! ```
//! use keelson_lineage::export::{ExportOptions, Table, TableExport};
//! use keelson_lineage::{Artifact, MetadataStore, NodeType, PropertyType, SqliteStore, TypeOptions};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = SqliteStore::open_in_memory().await?;
//! let model = NodeType::artifact("Model").with_property("accuracy", PropertyType::Double);
//! let model = store.put_type(&model, TypeOptions::default()).await?;
//! store
//!     .put_artifacts(&[Artifact::new(model, "s3://models/m1").with_property("accuracy", 0.93)])
//!     .await?;
//!
//! // Every artifact, with the property map.
//! let mut export = TableExport::new(&store, Table::Artifacts, ExportOptions::new()).await?;
//! let batch = export.next_batch().await?.expect("one page");
//! assert_eq!(batch.num_rows(), 1);
//! assert!(batch.schema().field_with_name("properties").is_ok());
//!
//! // Only models, with `accuracy` as a Float64 column.
//! let only_models = ExportOptions::new().of_type("Model", None).flatten(true);
//! let mut export = TableExport::new(&store, Table::Artifacts, only_models).await?;
//! let batch = export.next_batch().await?.expect("one page");
//! assert!(batch.column_by_name("accuracy").is_some());
//! assert!(export.next_batch().await?.is_none());
//! # Ok::<(), keelson_lineage::Error>(())
//! # }).unwrap();
//! ```
//!
//! [`MetadataStore`]: crate::MetadataStore
//! [`LineageGraph`]: crate::LineageGraph

mod batch;
#[cfg(feature = "parquet")]
#[cfg_attr(docsrs, doc(cfg(feature = "parquet")))]
pub mod parquet;
pub mod schema;
mod table;

pub use batch::graph_batches;
pub use table::{ExportOptions, TableExport};

/// A table of the export: one Arrow schema, one Parquet file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// Artifact, execution and context types with their declared properties.
    Types,
    /// Artifacts.
    Artifacts,
    /// Executions.
    Executions,
    /// Contexts.
    Contexts,
    /// Events between artifacts and executions, with their paths.
    Events,
    /// Artifacts' memberships in contexts.
    Attributions,
    /// Executions' memberships in contexts.
    Associations,
    /// Child contexts' links to their parents.
    ParentContexts,
}

impl Table {
    /// Every table, in the order a whole-store export writes them.
    pub const ALL: [Table; 8] = [
        Table::Types,
        Table::Artifacts,
        Table::Executions,
        Table::Contexts,
        Table::Events,
        Table::Attributions,
        Table::Associations,
        Table::ParentContexts,
    ];

    /// The table's name, also its Parquet file's stem: `types`,
    /// `artifacts`, …, `parent_contexts`.
    pub fn name(self) -> &'static str {
        match self {
            Table::Types => "types",
            Table::Artifacts => "artifacts",
            Table::Executions => "executions",
            Table::Contexts => "contexts",
            Table::Events => "events",
            Table::Attributions => "attributions",
            Table::Associations => "associations",
            Table::ParentContexts => "parent_contexts",
        }
    }

    /// The kind of node whose pages a [`TableExport`] of this table walks
    /// (and whose type [`ExportOptions::of_type`] and filter query
    /// [`ExportOptions::filter_query`] select): artifacts for
    /// [`Table::Artifacts`] and [`Table::Attributions`], executions for
    /// [`Table::Executions`], [`Table::Events`] and [`Table::Associations`],
    /// contexts for [`Table::Contexts`] and [`Table::ParentContexts`];
    /// `None` for [`Table::Types`].
    pub fn node_kind(self) -> Option<crate::NodeKind> {
        use crate::NodeKind;
        match self {
            Table::Types => None,
            Table::Artifacts | Table::Attributions => Some(NodeKind::Artifact),
            Table::Executions | Table::Events | Table::Associations => Some(NodeKind::Execution),
            Table::Contexts | Table::ParentContexts => Some(NodeKind::Context),
        }
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
