//! [`ArtifactStore`]: a tenant-scoped handle over any `Arc<dyn ObjectStore>`,
//! and the layout of its keys.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

use crate::digest::{Algorithm, Digest};
use crate::error::{Error, Result};
use crate::key::{ArtifactName, Label, Tenant};

/// Tuning of an [`ArtifactStore`]; the defaults suit local disks and S3 alike.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreOptions {
    /// Digest algorithm for new blobs (SHA-256 by default).
    pub algorithm: Algorithm,
    /// Multipart part size and read block size, bytes (8 MiB). Objects
    /// smaller than one part go up in a single put.
    pub part_size: usize,
    /// Parts uploaded concurrently (4). With `part_size` this bounds the
    /// memory of one upload: see [`StoreOptions::upload_memory_bound`].
    pub max_concurrency: usize,
    /// How long a writer's lease (and a collector's lock) lives without being
    /// renewed (1 hour); a crashed writer blocks garbage collection at most this long.
    pub lease_ttl: Duration,
    /// How long a writer waits for a running garbage collection to finish
    /// before it gives up with [`Error::Busy`] (5 minutes).
    pub lock_wait: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            algorithm: Algorithm::Sha256,
            part_size: 8 << 20,
            max_concurrency: 4,
            lease_ttl: Duration::from_secs(3600),
            lock_wait: Duration::from_secs(300),
        }
    }
}

/// Chunks queued for each hashing thread during an upload or a verified read.
pub(crate) const HASH_QUEUE: usize = 8;

/// Bytes a reader or file source is read in.
pub(crate) const READ_CHUNK: usize = 1 << 20;

impl StoreOptions {
    /// The most bytes one upload holds in memory: the part being filled, the
    /// parts in flight, and the chunks queued for the two hashing threads
    /// (for `put_reader`/`put_file`, whose chunks are 1 MiB; a caller's
    /// `Stream` chunks count at their own size). 56 MiB with the defaults.
    ///
    /// ```
    /// let o = keelson_artifact::StoreOptions::default();
    /// assert_eq!(o.upload_memory_bound(), 56 << 20);
    /// ```
    pub fn upload_memory_bound(&self) -> usize {
        self.part_size * (self.max_concurrency + 1) + 2 * HASH_QUEUE * READ_CHUNK
    }

    /// The same options with another digest algorithm.
    pub fn with_algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// The same options with another part size (at least 5 MiB for S3
    /// multipart uploads; smaller values are for tests on local stores).
    pub fn with_part_size(mut self, part_size: usize) -> Self {
        self.part_size = part_size.max(1);
        self
    }

    /// The same options with another number of parts in flight (at least 1).
    pub fn with_max_concurrency(mut self, parts: usize) -> Self {
        self.max_concurrency = parts.max(1);
        self
    }

    /// The same options with another lease lifetime.
    pub fn with_lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl;
        self
    }

    /// The same options with another writer wait.
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }
}

/// A content-addressed artifact store for one tenant, over any `ObjectStore`.
///
/// Every object it reads or writes lives under `tenants/TENANT/`; the handle
/// has no operation that takes a raw object key, so one tenant's handle cannot
/// reach another's blobs, versions or aliases. Cloning is cheap.
#[derive(Debug, Clone)]
pub struct ArtifactStore {
    pub(crate) store: Arc<dyn ObjectStore>,
    pub(crate) tenant: Tenant,
    pub(crate) options: StoreOptions,
}

impl ArtifactStore {
    /// A handle for `tenant` over `store`, with default options.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use object_store::memory::InMemory;
    /// let store = keelson_artifact::ArtifactStore::new(Arc::new(InMemory::new()), "team-a")?;
    /// assert_eq!(store.tenant().as_str(), "team-a");
    /// assert!(keelson_artifact::ArtifactStore::new(Arc::new(InMemory::new()), "../x").is_err());
    /// # Ok::<(), keelson_artifact::Error>(())
    /// ```
    pub fn new(store: Arc<dyn ObjectStore>, tenant: &str) -> Result<Self> {
        Ok(ArtifactStore {
            store,
            tenant: Tenant::new(tenant)?,
            options: StoreOptions::default(),
        })
    }

    /// The same handle with other options.
    pub fn with_options(mut self, options: StoreOptions) -> Self {
        self.options = options;
        self
    }

    /// The tenant.
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    /// The options.
    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    pub(crate) fn path(&self, relative: &str) -> Path {
        Path::from(format!("tenants/{}/{relative}", self.tenant))
    }

    pub(crate) fn blob_path(&self, digest: &Digest) -> Path {
        self.path(&format!(
            "blobs/{}/{}",
            digest.algorithm().name(),
            digest.hex()
        ))
    }

    pub(crate) fn index_path(&self, digest: &Digest) -> Path {
        self.path(&format!(
            "index/{}/{}",
            digest.algorithm().name(),
            digest.hex()
        ))
    }

    pub(crate) fn version_path(&self, name: &ArtifactName, version: &Label) -> Path {
        self.path(&format!("versions/{name}/@{version}"))
    }

    pub(crate) fn alias_dir(&self, name: &ArtifactName, alias: &Label) -> Path {
        self.path(&format!("aliases/{name}/@{alias}"))
    }

    pub(crate) fn signature_dir(&self, manifest: &Digest) -> Path {
        self.path(&format!(
            "signatures/{}/{}",
            manifest.algorithm().name(),
            manifest.hex()
        ))
    }

    pub(crate) async fn read(&self, path: &Path) -> Result<Bytes> {
        let result = self
            .store
            .get(path)
            .await
            .map_err(|e| Error::store(path, e))?;
        result.bytes().await.map_err(|e| Error::store(path, e))
    }

    /// `None` when the object does not exist.
    pub(crate) async fn read_opt(&self, path: &Path) -> Result<Option<Bytes>> {
        match self.read(path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn exists(&self, path: &Path) -> Result<bool> {
        match self.store.head(path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(Error::store(path, e)),
        }
    }

    pub(crate) async fn write(&self, path: &Path, bytes: Vec<u8>) -> Result<()> {
        self.store
            .put(path, PutPayload::from(bytes))
            .await
            .map(drop)
            .map_err(|e| Error::store(path, e))
    }

    /// A create-only put; `Ok(false)` when the object exists already.
    pub(crate) async fn create(&self, path: &Path, bytes: Vec<u8>) -> Result<bool> {
        let opts = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        match self
            .store
            .put_opts(path, PutPayload::from(bytes), opts)
            .await
        {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. })
            | Err(object_store::Error::Precondition { .. }) => Ok(false),
            Err(e) => Err(Error::store(path, e)),
        }
    }

    /// Deletes; a missing object is not an error.
    pub(crate) async fn delete(&self, path: &Path) -> Result<()> {
        match self.store.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(Error::store(path, e)),
        }
    }

    pub(crate) async fn list(&self, relative: &str) -> Result<Vec<ObjectMeta>> {
        let prefix = self.path(relative);
        self.store
            .list(Some(&prefix))
            .try_collect()
            .await
            .map_err(|e| Error::store(&prefix, e))
    }
}

/// A fresh identifier for staging objects, leases and temporary directories:
/// 128 bits from the process's randomly keyed hasher, the clock and a counter.
pub(crate) fn unique_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut out = String::with_capacity(32);
    for round in 0..2u64 {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u128(now_nanos());
        h.write_u32(std::process::id());
        h.write_u64(round);
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    u64::try_from(now_nanos() / 1_000_000).unwrap_or(u64::MAX)
}

pub(crate) fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
