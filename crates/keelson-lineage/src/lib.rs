//! keelson-lineage: an MLMD-compatible metadata and lineage store.
//!
//! This part of the crate holds MLMD's `filter_query` language — parsed
//! into a tree and compiled into parameterized SQL over the lineage schema,
//! never spliced — and a reader for ML Metadata's own SQLite databases.
//!
//! ```
//! use keelson_lineage::filter::{self, Dialect, NodeKind};
//!
//! // Models of run-42 scoring above 0.9.
//! let query = filter::parse(
//!     "type = 'Model' AND properties.accuracy.double_value > 0.9 AND contexts_a.name = 'run-42'",
//! )?;
//! let compiled = filter::compile(&query, NodeKind::Artifact, Dialect::Sqlite, 2)?;
//! let sql = format!("SELECT t.id FROM artifact t WHERE t.namespace = ?1 AND ({})", compiled.where_sql);
//! assert_eq!(compiled.params.len(), 5); // 'Model', 'accuracy', false, 0.9, 'run-42'
//! assert!(!sql.contains("run-42"));
//!
//! // The printed tree is filter text that parses back into the same tree.
//! assert_eq!(filter::parse(&query.to_string())?, query);
//!
//! // What an execution lacks is an error naming the attribute.
//! let uri = filter::parse("uri LIKE 's3://%'")?;
//! let err = filter::compile(&uri, NodeKind::Execution, Dialect::Sqlite, 1).unwrap_err();
//! assert!(err.to_string().contains("uri"));
//! # Ok::<(), keelson_lineage::Error>(())
//! ```
//!
//! # What is here
//!
//! * [`filter`]: MLMD filter queries: [`filter::parse`], [`filter::compile`]
//!   for an artifact, execution or context table in SQLite's or
//!   PostgreSQL's placeholder syntax.
//! * [`mlmd`]: [`mlmd::MlmdReader`] reads every type, node, property,
//!   event (with its path), attribution, association and parent context of
//!   an MLMD 1.17.1 SQLite database, in batches.
//! * [`workload`]: the benchmark workload format `lineage-workload/2`:
//!   [`workload::Workload`] checks a file, compiles its formulas once and
//!   generates any run's nodes, the query targets and the expected result
//!   sizes; [`workload::BenchReport`] is the results JSON.
//!
//! # Dependencies, and why
//!
//! * `rusqlite` (with `bundled`) — reading MLMD's SQLite files, and the
//!   SQLite binding of compiled filter parameters; bundled so no system
//!   SQLite is needed.
//! * `base64` — MLMD's SQLite backend stores struct property values as
//!   base64 text.
//! * `serde`, `serde_json` — the MLMD rows are plain serde structs; struct
//!   property values are JSON; workload files and benchmark results are
//!   JSON read into and written from serde structs.
//! * `thiserror` — the crate's one [`Error`] enum.
//! * `serde_path_to_error` — workload file errors name the field they
//!   are in (`steps[2].outputs[1]`).
//! * Development only: `proptest` (random filter trees through print,
//!   parse, compile and SQLite; random formulas against a reference
//!   evaluator); `tokio-postgres` and `tokio` (`rt`, `macros`) for the
//!   filter test against a real PostgreSQL server (`KEELSON_PG_URL`).
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
pub mod filter;
pub mod mlmd;
pub mod workload;

pub use error::Error;
