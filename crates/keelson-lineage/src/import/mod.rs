//! Importing lineage from other metadata systems into a store.
//!
//! [`mlmd::import_mlmd`] copies an ML Metadata (MLMD) database into any
//! [`MetadataStore`](crate::MetadataStore), one transaction per batch, keeping
//! the source's names, states, properties and times, and idempotently: a
//! second import of the same database changes nothing. Underneath is one
//! trait method, [`MetadataStore::import_batch`](crate::MetadataStore::import_batch),
//! which writes an [`ImportBatch`] of rows keyed by the source's ids.
//!
//! ```no_run
//! use keelson_lineage::SqliteStore;
//! use keelson_lineage::import::mlmd::{ImportOptions, import_mlmd};
//!
//! # tokio::runtime::Builder::new_multi_thread().build().unwrap().block_on(async {
//! let store = SqliteStore::open("lineage.db").await?;
//! let options = ImportOptions::default();
//! let first = import_mlmd("metadata.sqlite", &store, &options).await?;
//! println!("{} artifacts imported", first.tallies.artifacts.inserted);
//! // Importing again recognises every row: nothing changes.
//! let again = import_mlmd("metadata.sqlite", &store, &options).await?;
//! assert_eq!(again.tallies.changed(), 0);
//! # Ok::<(), keelson_lineage::Error>(())
//! # }).unwrap();
//! ```

mod batch;
pub mod mlmd;
pub(crate) mod outcome;

pub use batch::{ImportBatch, ImportTallies, ImportTally, SourceRow};
