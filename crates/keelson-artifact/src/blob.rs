//! Blobs: streaming, hashing, deduplicating puts, and verified reads.

use std::ops::Range;
use std::path::Path as FsPath;

use bytes::{Bytes, BytesMut};
use futures::stream::{self, BoxStream};
use futures::{Stream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

use crate::digest::{Algorithm, Digest, Hasher};
use crate::error::{Error, Result};
use crate::index::{ChunkForm, ChunkIndex, IndexBuilder};
use crate::lease::Lease;
use crate::store::{ArtifactStore, HASH_QUEUE, READ_CHUNK, unique_id};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a put did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PutOutcome {
    /// The content address.
    pub digest: Digest,
    /// Bytes in the blob.
    pub size: u64,
    /// `false` when the blob was there already and nothing new was kept.
    pub stored: bool,
}

/// A verified stream of a blob's bytes (see [`ArtifactStore::get`]).
pub type VerifiedStream = BoxStream<'static, Result<Bytes>>;

impl ArtifactStore {
    /// Stores `bytes` (one put when smaller than a part).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// let store = keelson_artifact::ArtifactStore::new(Arc::new(object_store::memory::InMemory::new()), "t")?;
    /// let first = store.put_bytes("hello").await?;
    /// let again = store.put_bytes("hello").await?;
    /// assert_eq!(first.digest, again.digest);
    /// assert!(first.stored && !again.stored);
    /// assert_eq!(store.get_bytes(&first.digest).await?, "hello");
    /// # Ok::<(), keelson_artifact::Error>(()) }).unwrap();
    /// ```
    pub async fn put_bytes(&self, bytes: impl Into<Bytes>) -> Result<PutOutcome> {
        let bytes: Bytes = bytes.into();
        self.put_stream(stream::iter([Ok::<_, std::convert::Infallible>(bytes)]))
            .await
    }

    /// Streams `stream` into the store while hashing it; see the crate docs
    /// for the memory bound. Dropping the future mid-way leaves no blob.
    pub async fn put_stream<S, E>(&self, stream: S) -> Result<PutOutcome>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: Into<BoxError>,
    {
        let lease = self.lease().await?;
        let stream = stream.map_err(Into::into).boxed();
        let outcome = self.upload(stream, "stream", &lease).await?;
        lease.release().await?;
        Ok(outcome)
    }

    /// Streams an `AsyncRead` into the store while hashing it.
    pub async fn put_reader<R>(&self, reader: R) -> Result<PutOutcome>
    where
        R: AsyncRead + Unpin + Send,
    {
        let lease = self.lease().await?;
        let outcome = self
            .upload(reader_stream(reader).boxed(), "reader", &lease)
            .await?;
        lease.release().await?;
        Ok(outcome)
    }

    /// Stores a file. The file is hashed first, so a file already in the
    /// store costs one local read and no upload; otherwise it is streamed
    /// (and hashed again, to catch a file changed in between).
    pub async fn put_file(&self, path: impl AsRef<FsPath>) -> Result<PutOutcome> {
        let lease = self.lease().await?;
        let outcome = self.put_file_leased(path.as_ref(), &lease).await?;
        lease.release().await?;
        Ok(outcome)
    }

    pub(crate) async fn put_file_leased(&self, path: &FsPath, lease: &Lease) -> Result<PutOutcome> {
        let (first, size) = hash_file(path.to_path_buf(), self.options.algorithm).await?;
        if self.exists(&self.blob_path(&first)).await?
            && self.exists(&self.index_path(&first)).await?
        {
            return Ok(PutOutcome {
                digest: first,
                size,
                stored: false,
            });
        }
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| Error::io(path, e))?;
        let what = path.display().to_string();
        let outcome = self
            .upload(reader_stream(file).boxed(), &what, lease)
            .await?;
        if outcome.digest != first {
            return Err(Error::SourceChanged {
                path: path.to_path_buf(),
                first: first.to_string(),
                second: outcome.digest.to_string(),
            });
        }
        Ok(outcome)
    }

    /// The upload pipeline: objects under one part go up in one put; larger
    /// ones as a multipart upload to a staging key, hashed on two blocking
    /// threads (full digest, chunk index) while the parts are in flight, then
    /// renamed to their content address.
    pub(crate) async fn upload(
        &self,
        mut source: BoxStream<'_, Result<Bytes, BoxError>>,
        what: &str,
        lease: &Lease,
    ) -> Result<PutOutcome> {
        let source_error = |source: BoxError| Error::Source {
            what: what.to_string(),
            source,
        };
        let part = self.options.part_size;
        let mut head = Vec::new();
        let mut head_len = 0;
        let mut more = true;
        while head_len < part {
            match source.next().await {
                Some(chunk) => {
                    let chunk = chunk.map_err(source_error)?;
                    head_len += chunk.len();
                    head.push(chunk);
                }
                None => {
                    more = false;
                    break;
                }
            }
        }
        if !more {
            return self.commit_small(head).await;
        }

        let staging = self.path(&format!("staging/{}", unique_id()));
        let upload = self
            .store
            .put_multipart(&staging)
            .await
            .map_err(|e| Error::store(&staging, e))?;
        let mut guard = StagingGuard {
            store: self.clone(),
            path: staging.clone(),
            writer: Some(WriteMultipart::new_with_chunk_size(upload, part)),
            completed: false,
        };
        let algorithm = self.options.algorithm;
        // A BLAKE3 blob's subtree index yields its digest: one hashing pass.
        let (hash_tx, hash_worker) = match chunk_form(algorithm) {
            ChunkForm::Standalone => {
                let (tx, worker) = spawn_hasher(algorithm);
                (Some(tx), Some(worker))
            }
            ChunkForm::Subtree => (None, None),
        };
        let (index_tx, index_worker) = spawn_indexer(chunk_form(algorithm));
        let mut feed = async |chunk: Bytes| -> Result<()> {
            let dead = || Error::Source {
                what: what.to_string(),
                source: "a hashing thread stopped".into(),
            };
            if let Some(tx) = &hash_tx {
                tx.send(chunk.clone()).await.map_err(|_| dead())?;
            }
            index_tx.send(chunk.clone()).await.map_err(|_| dead())?;
            if let Some(writer) = guard.writer.as_mut() {
                writer
                    .wait_for_capacity(self.options.max_concurrency)
                    .await
                    .map_err(|e| Error::store(&staging, e))?;
                writer.put(chunk);
            }
            lease.keep_alive().await
        };
        for chunk in head {
            feed(chunk).await?;
        }
        while let Some(chunk) = source.next().await {
            feed(chunk.map_err(source_error)?).await?;
        }
        drop(hash_tx);
        drop(index_tx);
        let (size, builder) = join(index_worker).await?;
        let (index, digest) = match hash_worker {
            Some(worker) => {
                let digest = join(worker).await?;
                (builder.finish(digest), digest)
            }
            None => built(builder)?,
        };
        if let Some(writer) = guard.writer.take() {
            writer
                .finish()
                .await
                .map_err(|e| Error::store(&staging, e))?;
        }
        let blob = self.blob_path(&digest);
        self.write_index(&index).await?;
        let stored = if self.exists(&blob).await? {
            self.delete(&staging).await?;
            false
        } else {
            self.store
                .rename(&staging, &blob)
                .await
                .map_err(|e| Error::store(&blob, e))?;
            true
        };
        guard.completed = true;
        Ok(PutOutcome {
            digest,
            size,
            stored,
        })
    }

    async fn commit_small(&self, chunks: Vec<Bytes>) -> Result<PutOutcome> {
        let algorithm = self.options.algorithm;
        let for_hashing = chunks.clone();
        let (index, digest) = tokio::task::spawn_blocking(move || {
            let form = chunk_form(algorithm);
            let mut builder = IndexBuilder::new(form);
            match form {
                ChunkForm::Standalone => {
                    let mut hasher = Hasher::new(algorithm);
                    for chunk in &for_hashing {
                        hasher.update(chunk);
                        builder.update(chunk);
                    }
                    let digest = hasher.finish();
                    Ok((builder.finish(digest), digest))
                }
                ChunkForm::Subtree => {
                    for chunk in &for_hashing {
                        builder.update(chunk);
                    }
                    built(builder)
                }
            }
        })
        .await
        .map_err(|e| Error::Source {
            what: "hashing".into(),
            source: e.into(),
        })??;
        let blob = self.blob_path(&digest);
        let stored = !self.exists(&blob).await?;
        if stored {
            // The index first: a visible blob always has one.
            self.write_index(&index).await?;
            self.store
                .put(&blob, PutPayload::from_iter(chunks))
                .await
                .map_err(|e| Error::store(&blob, e))?;
        }
        Ok(PutOutcome {
            digest,
            size: index.size,
            stored,
        })
    }

    async fn write_index(&self, index: &ChunkIndex) -> Result<()> {
        let bytes = serde_json::to_vec(index).unwrap_or_default();
        self.write(&self.index_path(&index.digest), bytes).await
    }

    /// The subtree index of a BLAKE3 blob of `size` bytes, if it has a usable
    /// one; `None` sends the read to whole-digest verification, which needs
    /// no index (so a missing or damaged index never makes a blob unreadable).
    async fn subtree_index(&self, digest: &Digest, size: u64) -> Option<ChunkIndex> {
        if digest.algorithm() != Algorithm::Blake3 {
            return None;
        }
        let bytes = self.read_opt(&self.index_path(digest)).await.ok()??;
        let index = ChunkIndex::from_json(&bytes, digest).ok()?;
        (index.form == ChunkForm::Subtree && index.size == size).then_some(index)
    }

    /// [`ArtifactStore::get`] verified per chunk through `index`, fetching
    /// whole chunks at least `part` bytes at a time.
    fn get_by_chunks(&self, path: Path, size: u64, part: u64, index: ChunkIndex) -> VerifiedStream {
        let chunk = index.chunk_size;
        let step = part.div_ceil(chunk).max(1).saturating_mul(chunk);
        let ranges = (0..size.div_ceil(step)).map(move |i| i * step..((i + 1) * step).min(size));
        let index = std::sync::Arc::new(index);
        let store = self.store.clone();
        stream::iter(ranges)
            .map(move |range| {
                let (store, path, index) = (store.clone(), path.clone(), index.clone());
                async move {
                    let first = usize::try_from(range.start / chunk).unwrap_or(usize::MAX);
                    let bytes = fetch(store, path, range).await?;
                    let checked = bytes.clone();
                    let width = usize::try_from(chunk).unwrap_or(usize::MAX);
                    let verify = tokio::task::spawn_blocking(move || {
                        checked
                            .chunks(width)
                            .enumerate()
                            .try_for_each(|(i, c)| index.verify_chunk(first.saturating_add(i), c))
                    });
                    join(verify).await??;
                    Ok(bytes)
                }
            })
            .buffered(3)
            .scan(false, |failed, item: Result<Bytes>| {
                // Nothing after the first error.
                let next = (!*failed).then(|| {
                    *failed = item.is_err();
                    item
                });
                futures::future::ready(next)
            })
            .boxed()
    }

    /// Whether the blob is in this tenant's store.
    pub async fn contains(&self, digest: &Digest) -> Result<bool> {
        self.exists(&self.blob_path(digest)).await
    }

    /// Streams a blob, verifying its digest as it goes.
    ///
    /// Every chunk but the last is handed out as it arrives (hashing runs on
    /// a blocking thread beside the reads); the last chunk is withheld until
    /// the whole digest checks, and a mismatch yields [`Error::Integrity`]
    /// instead. So a caller that acts only on a complete, `Ok`-terminated
    /// stream never acts on corrupted bytes.
    ///
    /// A BLAKE3 blob with a subtree index ([`crate::ChunkForm::Subtree`],
    /// which is checked against the digest first) is verified chunk by
    /// chunk instead: no byte is handed out before the 1 MiB chunk it
    /// belongs to has checked, and three parts are fetched and verified at
    /// once, on blocking threads. Without a usable index it is read as above.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// use futures::TryStreamExt;
    /// let store = keelson_artifact::ArtifactStore::new(Arc::new(object_store::memory::InMemory::new()), "t")?;
    /// let put = store.put_bytes(vec![7u8; 1000]).await?;
    /// let chunks: Vec<bytes::Bytes> = store.get(&put.digest).await?.try_collect().await?;
    /// assert_eq!(chunks.concat(), vec![7u8; 1000]);
    /// # Ok::<(), keelson_artifact::Error>(()) }).unwrap();
    /// ```
    pub async fn get(&self, digest: &Digest) -> Result<VerifiedStream> {
        let path = self.blob_path(digest);
        let size = match self.store.head(&path).await {
            Ok(meta) => meta.size,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(Error::NotFound {
                    what: format!("blob {digest}"),
                });
            }
            Err(e) => return Err(Error::store(&path, e)),
        };
        let part = u64::try_from(self.options.part_size).unwrap_or(u64::MAX);
        if let Some(index) = self.subtree_index(digest, size).await {
            return Ok(self.get_by_chunks(path, size, part, index));
        }
        let store = self.store.clone();
        let ranges = (0..size.div_ceil(part)).map(move |i| i * part..((i + 1) * part).min(size));
        let fetch_path = path.clone();
        let fetches = stream::iter(ranges)
            .map(move |range| fetch(store.clone(), fetch_path.clone(), range))
            .buffered(2)
            .boxed();
        let (tx, worker) = spawn_hasher(digest.algorithm());
        let state = Verify {
            fetches,
            tx: Some(tx),
            worker: Some(worker),
            pending: None,
            expected: *digest,
            done: false,
        };
        Ok(stream::unfold(state, Verify::step).boxed())
    }

    /// Reads a whole blob into memory, verified.
    pub async fn get_bytes(&self, digest: &Digest) -> Result<Bytes> {
        let mut stream = self.get(digest).await?;
        let mut out = BytesMut::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out.freeze())
    }

    /// Reads `range` of a blob, verified against the blob's chunk index: the
    /// 1 MiB chunks covering the range are fetched and each is hashed before
    /// any byte is returned.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// let store = keelson_artifact::ArtifactStore::new(Arc::new(object_store::memory::InMemory::new()), "t")?;
    /// let put = store.put_bytes("0123456789").await?;
    /// assert_eq!(store.get_range(&put.digest, 2..5).await?, "234");
    /// assert!(store.get_range(&put.digest, 5..11).await.is_err());
    /// # Ok::<(), keelson_artifact::Error>(()) }).unwrap();
    /// ```
    pub async fn get_range(&self, digest: &Digest, range: Range<u64>) -> Result<Bytes> {
        let index_path = self.index_path(digest);
        let bytes = match self.read(&index_path).await {
            Err(Error::NotFound { .. }) => {
                return Err(Error::NotFound {
                    what: format!("blob {digest} (its chunk index)"),
                });
            }
            other => other?,
        };
        let index = ChunkIndex::from_json(&bytes, digest)?;
        if range.start > range.end || range.end > index.size {
            return Err(Error::InvalidRange {
                digest: digest.to_string(),
                start: range.start,
                end: range.end,
                size: index.size,
            });
        }
        if range.start == range.end {
            return Ok(Bytes::new());
        }
        let cs = index.chunk_size;
        let first = range.start / cs;
        let span = first * cs
            ..((range.end - 1) / cs + 1)
                .saturating_mul(cs)
                .min(index.size);
        let path = self.blob_path(digest);
        let bytes = self
            .store
            .get_range(&path, span.clone())
            .await
            .map_err(|e| Error::store(&path, e))?;
        if bytes.len() as u64 != span.end - span.start {
            return Err(Error::Integrity {
                what: format!("blob {digest}, bytes {}..{}", span.start, span.end),
                expected: format!("{} bytes", span.end - span.start),
                actual: format!("{} bytes", bytes.len()),
            });
        }
        let cs_usize = usize::try_from(cs).unwrap_or(usize::MAX);
        let first_chunk = usize::try_from(first).unwrap_or(usize::MAX);
        for (i, chunk) in bytes.chunks(cs_usize).enumerate() {
            index.verify_chunk(first_chunk.saturating_add(i), chunk)?;
        }
        let from = usize::try_from(range.start - span.start).unwrap_or(usize::MAX);
        let to = usize::try_from(range.end - span.start).unwrap_or(usize::MAX);
        Ok(bytes.slice(from..to))
    }

    /// The digests of every blob in this tenant's store.
    pub async fn list_blobs(&self) -> Result<Vec<Digest>> {
        let mut out: Vec<Digest> = self
            .list("blobs")
            .await?
            .iter()
            .filter_map(|meta| digest_of(&meta.location))
            .collect();
        out.sort();
        Ok(out)
    }
}

/// The digest a `.../blobs/ALGO/HEX` (or `.../index/ALGO/HEX`) key names.
pub(crate) fn digest_of(location: &Path) -> Option<Digest> {
    let parts: Vec<_> = location.parts().collect();
    let [.., algo, hex] = parts.as_slice() else {
        return None;
    };
    Digest::parse(&format!("{}:{}", algo.as_ref(), hex.as_ref())).ok()
}

async fn fetch(
    store: std::sync::Arc<dyn ObjectStore>,
    path: Path,
    range: Range<u64>,
) -> Result<Bytes> {
    let want = range.end - range.start;
    let bytes = store
        .get_range(&path, range)
        .await
        .map_err(|e| Error::store(&path, e))?;
    if bytes.len() as u64 != want {
        return Err(Error::Integrity {
            what: format!("object {path}"),
            expected: format!("{want} bytes"),
            actual: format!("{} bytes", bytes.len()),
        });
    }
    Ok(bytes)
}

struct Verify {
    fetches: BoxStream<'static, Result<Bytes>>,
    tx: Option<mpsc::Sender<Bytes>>,
    worker: Option<tokio::task::JoinHandle<Digest>>,
    pending: Option<Bytes>,
    expected: Digest,
    done: bool,
}

impl Verify {
    async fn step(mut self) -> Option<(Result<Bytes>, Self)> {
        if self.done {
            return None;
        }
        loop {
            match self.fetches.next().await {
                Some(Ok(chunk)) => {
                    let sent = match &self.tx {
                        Some(tx) => tx.send(chunk.clone()).await.is_ok(),
                        None => false,
                    };
                    if !sent {
                        self.done = true;
                        return Some((Err(hasher_died()), self));
                    }
                    if let Some(previous) = self.pending.replace(chunk) {
                        return Some((Ok(previous), self));
                    }
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Some((Err(e), self));
                }
                None => {
                    self.done = true;
                    self.tx = None;
                    let actual = match self.worker.take() {
                        Some(worker) => match join(worker).await {
                            Ok(actual) => actual,
                            Err(e) => return Some((Err(e), self)),
                        },
                        None => return Some((Err(hasher_died()), self)),
                    };
                    if actual != self.expected {
                        let e = Error::Integrity {
                            what: format!("blob {}", self.expected),
                            expected: self.expected.to_string(),
                            actual: actual.to_string(),
                        };
                        return Some((Err(e), self));
                    }
                    return self.pending.take().map(|last| (Ok(last), self));
                }
            }
        }
    }
}

fn hasher_died() -> Error {
    Error::Source {
        what: "verification".into(),
        source: "the hashing thread stopped".into(),
    }
}

async fn join<T>(handle: tokio::task::JoinHandle<T>) -> Result<T> {
    handle.await.map_err(|e| Error::Source {
        what: "hashing".into(),
        source: e.into(),
    })
}

fn spawn_hasher(algorithm: Algorithm) -> (mpsc::Sender<Bytes>, tokio::task::JoinHandle<Digest>) {
    let (tx, mut rx) = mpsc::channel::<Bytes>(HASH_QUEUE);
    let worker = tokio::task::spawn_blocking(move || {
        let mut hasher = Hasher::new(algorithm);
        while let Some(chunk) = rx.blocking_recv() {
            hasher.update(&chunk);
        }
        hasher.finish()
    });
    (tx, worker)
}

/// The index form a blob of `algorithm` gets.
fn chunk_form(algorithm: Algorithm) -> ChunkForm {
    match algorithm {
        Algorithm::Blake3 => ChunkForm::Subtree,
        Algorithm::Sha256 => ChunkForm::Standalone,
    }
}

/// A subtree index and the digest its chunks combine into.
fn built(builder: IndexBuilder) -> Result<(ChunkIndex, Digest)> {
    builder.finish_subtree().ok_or_else(|| Error::Source {
        what: "hashing".into(),
        source: "the chunk values did not combine into a BLAKE3 digest".into(),
    })
}

fn spawn_indexer(
    form: ChunkForm,
) -> (
    mpsc::Sender<Bytes>,
    tokio::task::JoinHandle<(u64, IndexBuilder)>,
) {
    let (tx, mut rx) = mpsc::channel::<Bytes>(HASH_QUEUE);
    let worker = tokio::task::spawn_blocking(move || {
        let mut builder = IndexBuilder::new(form);
        let mut size = 0u64;
        while let Some(chunk) = rx.blocking_recv() {
            size += chunk.len() as u64;
            builder.update(&chunk);
        }
        (size, builder)
    });
    (tx, worker)
}

/// Aborts an unfinished multipart upload, or deletes a completed staging
/// object that never became a blob, when an upload fails or is dropped.
struct StagingGuard {
    store: ArtifactStore,
    path: Path,
    writer: Option<WriteMultipart>,
    completed: bool,
}

impl Drop for StagingGuard {
    fn drop(&mut self) {
        if self.completed {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let writer = self.writer.take();
        let store = self.store.clone();
        let path = self.path.clone();
        handle.spawn(async move {
            match writer {
                Some(writer) => drop(writer.abort().await),
                None => drop(store.delete(&path).await),
            }
        });
    }
}

/// Reads in `READ_CHUNK` pieces.
fn reader_stream<R>(reader: R) -> impl Stream<Item = Result<Bytes, BoxError>> + Send
where
    R: AsyncRead + Unpin + Send,
{
    stream::try_unfold(reader, |mut reader| async move {
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        while buf.len() < READ_CHUNK {
            let n = (&mut reader)
                .take((READ_CHUNK - buf.len()) as u64)
                .read_buf(&mut buf)
                .await?;
            if n == 0 {
                break;
            }
        }
        if buf.is_empty() {
            Ok(None)
        } else {
            Ok(Some((buf.freeze(), reader)))
        }
    })
    .map_err(|e: std::io::Error| -> BoxError { e.into() })
}

async fn hash_file(path: std::path::PathBuf, algorithm: Algorithm) -> Result<(Digest, u64)> {
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        let mut hasher = Hasher::new(algorithm);
        let mut buf = vec![0u8; READ_CHUNK];
        let mut size = 0u64;
        loop {
            let n = file.read(&mut buf).map_err(|e| Error::io(&path, e))?;
            if n == 0 {
                break;
            }
            size += n as u64;
            hasher.update(buf.get(..n).unwrap_or_default());
        }
        Ok((hasher.finish(), size))
    })
    .await
    .map_err(|e| Error::Source {
        what: "hashing".into(),
        source: e.into(),
    })?
}
