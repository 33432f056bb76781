//! keelson-artifact: a content-addressed, immutable, verified artifact store
//! for models, datasets and pipeline outputs, on any
//! [`object_store`](https://docs.rs/object_store) backend: the local file
//! system by default, S3 (or any S3-compatible server) in production.
//!
//! It is the piece Kubeflow Pipelines keeps in MinIO, DVC in its cache and
//! MLflow in its artifact repository. It is not a metadata or lineage
//! database, and it runs no server: it is a library over an `ObjectStore`.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use keelson_artifact::{ArtifactStore, LocalCache};
//!
//! // A model directory: weights and a config.
//! let work = tempfile::tempdir().unwrap();
//! let model = work.path().join("model");
//! std::fs::create_dir(&model).unwrap();
//! std::fs::write(model.join("weights.bin"), vec![42u8; 100_000]).unwrap();
//! std::fs::write(model.join("config.json"), br#"{"layers": 4}"#).unwrap();
//!
//! // One store per tenant, over any ObjectStore (here: local files).
//! let fs = object_store::local::LocalFileSystem::new_with_prefix(work.path()).unwrap();
//! let store = ArtifactStore::new(Arc::new(fs), "team-a")?;
//!
//! // Upload, tag an immutable version, sign it, point an alias at it.
//! let manifest = store.publish(&model, "models/fraud-detector", "v3", Default::default()).await?;
//! let key = ed25519_dalek::SigningKey::from_bytes(&[1u8; 32]);
//! store.sign_manifest(&manifest, &key).await?;
//! store.move_alias("models/fraud-detector", "production", "v3", None).await?;
//!
//! // Download it elsewhere, verified, through a local cache.
//! let cache = LocalCache::new(work.path().join("cache"));
//! let dest = work.path().join("serving");
//! let m = store.download("models/fraud-detector@production", &dest, &cache, Some(&key.verifying_key())).await?;
//! assert_eq!(m.files.len(), 2);
//! assert_eq!(std::fs::read(dest.join("weights.bin")).unwrap(), vec![42u8; 100_000]);
//! # Ok::<(), keelson_artifact::Error>(()) }).unwrap();
//! ```
//!
//! # What is here
//!
//! * **Blobs** — [`ArtifactStore::put_stream`], [`put_reader`](ArtifactStore::put_reader),
//!   [`put_file`](ArtifactStore::put_file) and [`put_bytes`](ArtifactStore::put_bytes)
//!   hash while they upload and store each content once under its [`Digest`]
//!   (SHA-256 by default, BLAKE3 as an option). Large objects go up as
//!   multipart uploads whose memory is bounded by
//!   [`StoreOptions::upload_memory_bound`] (56 MiB with the defaults); a failed
//!   or dropped upload leaves no blob.
//! * **Verified reads** — [`ArtifactStore::get`] streams and withholds the last
//!   chunk until the digest checks; [`ArtifactStore::get_range`] verifies the
//!   1 MiB chunks it touches against a per-blob [`ChunkIndex`]. A BLAKE3
//!   blob's index is a [`ChunkForm::Subtree`] one, bound to the digest, so its
//!   full reads verify each chunk before handing it out.
//! * **Manifests, versions, aliases** — [`Manifest`] (files, sizes, digests,
//!   media types, metadata), immutable versions `name@v3` created with a
//!   create-only put, aliases `name@production` moved by compare-and-swap
//!   ([`version`]).
//! * **Signatures** — Ed25519 signatures of manifests ([`signature`]).
//! * **Garbage collection** — [`ArtifactStore::gc`] with a lease protocol that
//!   never takes a blob a concurrent put is about to reference ([`gc`], [`lease`]).
//! * **Materialization** — [`ArtifactStore::download`] into a directory,
//!   atomically, through a [`LocalCache`] keyed by digest.
//! * **Names** — [`Key`], [`Tenant`], [`ArtifactName`], [`Label`],
//!   [`Reference`] and [`ArtifactUri`] validate everything that becomes a key or
//!   a path.
//!
//! Every operation is async and needs a Tokio runtime (hashing runs on its
//! blocking threads).
//!
//! The key layout, the verification choice, the protocols and the memory bound
//! are in `docs/artifact.md`.
//!
//! # Features
//!
//! * `aws`: object_store's S3 backend (`object_store::aws`), for `s3://` stores.
//!
//! # Dependencies, and why
//!
//! * `object_store` — the storage abstraction (local files, memory, S3, GCS, Azure).
//! * `tokio` — blocking threads for hashing beside I/O, timers for lease waits, file I/O.
//! * `futures`, `bytes` — streams of byte chunks, as object_store speaks them.
//! * `sha2`, `blake3` — the two digest algorithms (BLAKE3 also hashes index
//!   chunks; its `hazmat` tree API merges a BLAKE3 blob's chunk values into
//!   its digest).
//! * `ed25519-dalek` — manifest signatures.
//! * `serde`, `serde_json` — manifests, versions, aliases, indexes and signatures are JSON.
//! * `thiserror` — the crate's one [`Error`] enum.
//!
//! Development only: `tempfile` (stores in throwaway directories),
//! `proptest`, `criterion`, and `rustix`, whose `fadvise` lets
//! `examples/artifact_bench.rs --from-disk` drop a blob's pages from the
//! page cache so that gets read the disk.

pub mod blob;
pub mod digest;
pub mod error;
pub mod fuzz;
pub mod gc;
pub mod index;
pub mod key;
pub mod lease;
pub mod manifest;
pub mod materialize;
pub mod signature;
pub mod store;
pub mod uri;
pub mod version;

pub use blob::{PutOutcome, VerifiedStream};
pub use digest::{Algorithm, Digest, Hasher};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use error::{Error, Result};
pub use gc::{GcOptions, GcReport};
pub use index::{ChunkForm, ChunkIndex};
pub use key::{ArtifactName, Key, Label, Reference, Tenant};
pub use manifest::{FileEntry, Manifest};
pub use materialize::LocalCache;
pub use signature::ManifestSignature;
pub use store::{ArtifactStore, StoreOptions};
pub use uri::ArtifactUri;
pub use version::{AliasState, Resolved};
