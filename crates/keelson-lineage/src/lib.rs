//! keelson-lineage: a metadata and lineage store with ML Metadata's (MLMD)
//! data model, embedded on SQLite or shared on PostgreSQL: which execution
//! read and wrote which
//! artifact, in which pipeline run, so a served model can be traced back to
//! its data.
//!
//! It is a library, not a server: no gRPC, no REST. Its one async trait,
//! [`MetadataStore`], has MLMD's puts and gets, lineage queries, deletion
//! and namespaces; [`SqliteStore`] implements it, and with the `postgres`
//! feature so does `PostgresStore` (the same conformance suite runs on
//! both).
//!
//! ```
//! use keelson_lineage::{
//!     Artifact, ArtifactState, Context, Direction, Event, EventType, Execution,
//!     ExecutionState, LineageQuery, MetadataStore, NodeType, PropertyType, SqliteStore,
//!     TypeOptions,
//! };
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = SqliteStore::open_in_memory().await?;
//! let opts = TypeOptions::default();
//! let dataset = store.put_type(&NodeType::artifact("Dataset"), opts).await?;
//! let model = store
//!     .put_type(&NodeType::artifact("Model").with_property("accuracy", PropertyType::Double), opts)
//!     .await?;
//! let step = store.put_type(&NodeType::execution("Step"), opts).await?;
//! let run = store.put_type(&NodeType::context("PipelineRun"), opts).await?;
//!
//! // Step 1 ingests a dataset; step 2 trains a model on it; both in run-1.
//! let mut ctx = Context::new(run, "run-1");
//! let ingest = store
//!     .put_execution(
//!         &Execution::new(step, ExecutionState::Complete),
//!         &[(Artifact::new(dataset, "s3://data/v1"), Some(Event::new(EventType::Output).with_key("data")))],
//!         &[ctx.clone()],
//!     )
//!     .await?;
//! ctx.id = Some(ingest.context_ids[0]);
//! let mut data = store.get_artifacts_by_id(&ingest.artifact_ids).await?.remove(0);
//! data.state = ArtifactState::Live;
//! let train = store
//!     .put_execution(
//!         &Execution::new(step, ExecutionState::Complete),
//!         &[
//!             (data, Some(Event::new(EventType::Input).with_key("data"))),
//!             (
//!                 Artifact::new(model, "s3://models/m1").with_property("accuracy", 0.93),
//!                 Some(Event::new(EventType::Output).with_key("model")),
//!             ),
//!         ],
//!         &[ctx],
//!     )
//!     .await?;
//!
//! // Where did the model come from?
//! let graph = store
//!     .lineage_subgraph(&LineageQuery::upstream_of_artifact(train.artifact_ids[1], 10))
//!     .await?;
//! assert_eq!((graph.artifacts.len(), graph.executions.len(), graph.events.len()), (2, 2, 3));
//! println!("{}", graph.to_mermaid());
//! # Ok::<(), keelson_lineage::Error>(())
//! # }).unwrap();
//! ```
//!
//! # What is here
//!
//! * The model: [`NodeType`] (artifact, execution and context types with
//!   typed properties, MLMD's evolution rules in [`evolve_type`]),
//!   [`Artifact`], [`Execution`], [`Context`], [`Event`], [`Attribution`],
//!   [`Association`], [`ParentContext`], [`Value`].
//! * [`MetadataStore`]: the trait; every write is one transaction, every
//!   handle is scoped to a namespace.
//! * [`lineage`]: MLMD's lineage subgraph semantics, and the answer drawn as
//!   Graphviz DOT or Mermaid.
//! * [`sqlite`]: the SQLite backend (WAL by default, or MLMD's own journal
//!   settings; see [`Durability`]), with a versioned schema that migrates
//!   older stores in place.
//! * `postgres` (feature `postgres`): the PostgreSQL backend,
//!   `PostgresStore`: the same schema in PostgreSQL's types, in a schema of
//!   its own if asked, a small connection pool, one transaction per call,
//!   writes retried on serialization failures and deadlocks.
//! * [`limits`]: the sizes a store accepts.
//! * [`filter`]: MLMD filter queries: [`filter::parse`], [`filter::compile`]
//!   for an artifact, execution or context table in SQLite's or
//!   PostgreSQL's placeholder syntax; [`ListOptions::filter_query`] runs them.
//! * [`mlmd`]: [`mlmd::MlmdReader`] reads every type, node, property,
//!   event (with its path), attribution, association and parent context of
//!   an MLMD 1.17.1 SQLite database, in batches.
//! * [`import`]: [`import::mlmd::import_mlmd`] copies an MLMD database
//!   into any store, one transaction per batch, keeping times, idempotently,
//!   through [`MetadataStore::import_batch`] ([`ImportBatch`]).
//! * [`workload`]: the benchmark workload format `lineage-workload/2`:
//!   [`workload::Workload`] checks a file, compiles its formulas once and
//!   generates any run's nodes, the query targets and the expected result
//!   sizes; [`workload::BenchReport`] is the results JSON that the
//!   `lineage_bench` example (the benchmark runner) prints.
//! * [`registry`]: Kubeflow Model Registry's entities (registered models,
//!   model versions, model and doc artifacts, serving environments,
//!   inference services, serve models) with its MLMD mapping and its
//!   create, get, find, list, partial update and archive operations, over
//!   any store ([`registry::ModelRegistry`]); lineage reaches from an
//!   inference service back to the training data.
//!
//! * `export` (feature `arrow`; files with `parquet`): any table, or a
//!   lineage subgraph, as Arrow record batches, page by page through the
//!   trait; Parquet files, one per table, written atomically.
//!
//! See docs/lineage.md.
//!
//! # Dependencies, and why
//!
//! * `rusqlite` (feature `bundled`, `array`) — the SQLite engine, compiled
//!   in so no system library is needed; `array` passes id lists as one
//!   parameter, so statements stay prepared and cached.
//! * `tokio` (`rt`, `sync`) — blocking SQLite work runs off the async
//!   runtime (`spawn_blocking`), and replies from the writer thread come
//!   back over oneshot channels.
//! * `async-trait` — [`MetadataStore`] is an async trait that is usable as
//!   `dyn` and across backends.
//! * `serde`, `serde_json` — every model type has a stable JSON form, and
//!   struct property values are JSON.
//! * `thiserror` — the crate's one [`Error`] enum.
//! * `tokio-postgres` (optional, feature `postgres`; also `tokio`'s `time`
//!   for the retry back-off) — the PostgreSQL client of the PostgreSQL
//!   backend. Its pool is a few lines in the crate rather than
//!   `deadpool-postgres` or `bb8`: the store only takes a connection, gives
//!   it back and caps their number, and its per-connection statement cache
//!   would be its own code with either.
//! * `base64` — MLMD's SQLite backend stores struct property values as
//!   base64 text.
//! * `serde_path_to_error` — workload file errors name the field they
//!   are in (`steps[2].outputs[1]`).
//! * `arrow` (optional, feature `arrow`) — the record batches and schemas
//!   of the export, the columnar form data tools read.
//! * `parquet` (optional, feature `parquet`) — writes those batches as
//!   Parquet files, with its compression codecs (zstd by default).
//! * Development only: `tempfile` (stores in temporary directories),
//!   `proptest` (also random filter trees through print, parse, compile and
//!   SQLite, and random formulas against a reference evaluator), tokio's
//!   `macros` and multi-threaded runtime for the tests, and `tokio-postgres`
//!   for the tests against a real PostgreSQL server (`KEELSON_PG_URL`): the
//!   filter test, and the schema set-up and clean-up of the PostgreSQL
//!   conformance run; `criterion` for the benches in `benches/`; `bytes` to read
//!   Parquet written to memory back in the export tests.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod error;
pub mod event;
#[cfg(feature = "arrow")]
#[cfg_attr(docsrs, doc(cfg(feature = "arrow")))]
pub mod export;
pub mod filter;
pub mod import;
pub mod limits;
pub mod lineage;
pub mod link;
mod list_cache;
pub mod mlmd;
pub mod node;
mod page_token;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod postgres;
mod record;
pub mod registry;
pub mod sqlite;
pub mod store;
pub mod types;
pub mod value;
pub mod workload;

pub use error::{Error, Result};
pub use event::{Event, EventType, PathStep};
pub use import::{ImportBatch, ImportTallies, ImportTally, SourceRow};
pub use lineage::{Direction, LineageGraph, LineageQuery, LineageStart};
pub use link::{Association, Attribution, ParentContext};
pub use node::{Artifact, ArtifactState, Context, Execution, ExecutionState};
#[cfg(feature = "postgres")]
pub use postgres::{PostgresOptions, PostgresStore};
pub use sqlite::{Durability, SqliteOptions, SqliteStore};
pub use store::{
    DeletePolicy, ListOptions, MetadataStore, OrderBy, Page, PutExecutionResult, StoreCounts,
    validate_namespace,
};
pub use types::{NodeKind, NodeType, TypeOptions, evolve_type};
pub use value::{Properties, PropertyType, Value};
