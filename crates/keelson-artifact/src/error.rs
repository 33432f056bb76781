//! The one error type of keelson-artifact.

use std::path::PathBuf;

/// Everything that can go wrong in keelson-artifact.
///
/// Messages name the key, digest, reference or path involved, so an error
/// from a directory upload or a garbage collection says which object failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A key (a file path inside an artifact) was rejected.
    #[error("invalid key {key:?}: {reason}")]
    InvalidKey {
        /// The key as given.
        key: String,
        /// Why it is rejected.
        reason: String,
    },
    /// A tenant, artifact name, version or alias was rejected.
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidName {
        /// `tenant`, `artifact name`, `version`, `alias` or `reference`.
        what: &'static str,
        /// The value as given.
        value: String,
        /// Why it is rejected.
        reason: String,
    },
    /// A URI could not be parsed.
    #[error("invalid URI {uri:?}: {reason}")]
    InvalidUri {
        /// The URI as given.
        uri: String,
        /// Why it is rejected.
        reason: String,
    },
    /// A digest's text form (`sha256:<hex>`) could not be parsed.
    #[error("invalid digest {text:?}: {reason}")]
    InvalidDigest {
        /// The text as given.
        text: String,
        /// Why it is rejected.
        reason: String,
    },
    /// A manifest, chunk index, version, alias, lease or signature document is malformed.
    #[error("invalid {what}: {reason}")]
    InvalidDocument {
        /// Which document, e.g. `manifest sha256:…` or `version models/x@v3`.
        what: String,
        /// Why it is rejected (names the field).
        reason: String,
    },
    /// Stored bytes do not hash to the digest they are stored under.
    #[error("integrity check failed for {what}: expected {expected}, computed {actual}")]
    Integrity {
        /// What was read: `blob sha256:…`, `chunk 3 of blob sha256:…`, a cache file.
        what: String,
        /// The digest the bytes should have.
        expected: String,
        /// The digest they have.
        actual: String,
    },
    /// A blob, manifest, version or alias does not exist (in this tenant).
    #[error("{what} not found")]
    NotFound {
        /// What was looked up.
        what: String,
    },
    /// A version is immutable and this one exists already.
    #[error("version {name}@{version} exists already; versions are immutable")]
    VersionExists {
        /// The artifact name.
        name: String,
        /// The version label.
        version: String,
    },
    /// Another writer moved the alias first (compare-and-swap lost).
    #[error(
        "alias {name}@{alias} was moved concurrently (expected generation {expected}); read it again and retry"
    )]
    AliasConflict {
        /// The artifact name.
        name: String,
        /// The alias label.
        alias: String,
        /// The generation this writer expected to replace (0: none).
        expected: u64,
    },
    /// A range read outside the blob.
    #[error("range {start}..{end} is outside blob {digest} of {size} bytes")]
    InvalidRange {
        /// The blob.
        digest: String,
        /// Requested start.
        start: u64,
        /// Requested end (exclusive).
        end: u64,
        /// The blob's size.
        size: u64,
    },
    /// A manifest signature is missing, malformed or does not verify.
    #[error("signature of manifest {manifest} by key {key_id}: {reason}")]
    Signature {
        /// The manifest's digest.
        manifest: String,
        /// The key id (`ed25519:<hex>`).
        key_id: String,
        /// What is wrong.
        reason: String,
    },
    /// Garbage collection could not get exclusive time (another collection,
    /// or writers still holding leases when its wait ran out).
    #[error("garbage collection busy: {reason}")]
    Busy {
        /// Why.
        reason: String,
    },
    /// The bytes being uploaded could not be read from their source.
    #[error("reading {what}: {source}")]
    Source {
        /// The source (a file path, `stream`, `reader`).
        what: String,
        /// The source's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A file was changed while it was being uploaded.
    #[error("{path}: changed during upload (hashed as {first}, uploaded as {second})")]
    SourceChanged {
        /// The file.
        path: PathBuf,
        /// Digest of the first (hashing) pass.
        first: String,
        /// Digest of the bytes uploaded.
        second: String,
    },
    /// A local file-system operation failed (materialization, cache, uploads from files).
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A download's destination exists already.
    #[error("{path}: destination exists; downloads never overwrite")]
    DestinationExists {
        /// The destination directory.
        path: PathBuf,
    },
    /// The backing object store failed.
    #[error("object store, key {key}: {source}")]
    Store {
        /// The object key (relative to the store's root).
        key: String,
        /// The object_store error.
        #[source]
        source: object_store::Error,
    },
}

/// Shorthand for `Result<T, keelson_artifact::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn store(key: &object_store::path::Path, source: object_store::Error) -> Self {
        match source {
            object_store::Error::NotFound { .. } => Error::NotFound {
                what: format!("object {key}"),
            },
            source => Error::Store {
                key: key.to_string(),
                source,
            },
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn document(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidDocument {
            what: what.into(),
            reason: reason.into(),
        }
    }
}
