//! The conformance suite: one `pub async fn` per behaviour, generic over the
//! backing `ObjectStore`, called by `conformance_local.rs`,
//! `conformance_memory.rs` and `conformance_s3.rs` through
//! [`conformance_tests!`].
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

pub mod counting;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use keelson_artifact::{ArtifactStore, Error, GcOptions, LocalCache, SigningKey, StoreOptions};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// A fresh, empty backing store for one test, and how big its parts must be
/// (S3 wants at least 5 MiB per part but the last).
pub struct Backend {
    pub store: Arc<dyn ObjectStore>,
    pub part_size: usize,
    /// For a local file system: its root directory, so tests can also look
    /// for files object_store does not list (multipart temporaries).
    pub local_root: Option<std::path::PathBuf>,
    /// Keeps a temporary directory or similar alive for the test.
    pub _guard: Box<dyn std::any::Any + Send>,
}

impl Backend {
    pub fn tenant(&self, tenant: &str) -> ArtifactStore {
        ArtifactStore::new(self.store.clone(), tenant)
            .unwrap()
            .with_options(
                StoreOptions::default()
                    .with_part_size(self.part_size)
                    .with_lock_wait(Duration::from_secs(30)),
            )
    }
}

/// Generates one `#[tokio::test]` per check, each on a fresh backend from
/// `$make` (an async expression giving `Option<Backend>`; `None` skips).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make;
            put_get_roundtrip, dedup_stores_once, put_reader_and_file,
            flipped_byte_detected_on_full_read, flipped_byte_detected_on_range_read,
            range_reads, cancelled_upload_leaves_nothing_visible,
            versions_are_immutable, concurrent_alias_moves_one_wins,
            gc_deletes_only_unreferenced, gc_under_concurrent_puts_loses_nothing,
            tenant_isolation, signatures, download_is_atomic_and_cached,
            blake3_blobs_have_a_subtree_index,
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(backend) = $make.await else { return };
                conformance::$name(&backend).await;
            }
        )*
    };
}

pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u64).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect()
}

fn chunks_of(data: &[u8], size: usize) -> Vec<Result<Bytes, std::io::Error>> {
    data.chunks(size)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect()
}

/// Every object under the tenant's prefix, as keys relative to it.
pub async fn objects(backend: &Backend, tenant: &str) -> Vec<String> {
    let prefix = Path::from(format!("tenants/{tenant}"));
    let mut out: Vec<String> = backend
        .store
        .list(Some(&prefix))
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .unwrap();
    out.sort();
    out
}

pub async fn put_get_roundtrip(backend: &Backend) {
    let store = backend.tenant("t");
    for len in [
        0,
        1,
        1000,
        backend.part_size,
        2 * backend.part_size + 12_345,
    ] {
        let data = pattern(len, 1);
        let put = store
            .put_stream(futures::stream::iter(chunks_of(&data, 100_000)))
            .await
            .unwrap();
        assert_eq!(put.size, len as u64);
        assert_eq!(
            put.digest,
            keelson_artifact::Algorithm::Sha256.digest(&data)
        );
        assert!(store.contains(&put.digest).await.unwrap());
        let chunks: Vec<Bytes> = store
            .get(&put.digest)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(chunks.concat(), data, "length {len}");
    }
    // BLAKE3 store handle over the same backend.
    let blake = store.clone().with_options(
        store
            .options()
            .clone()
            .with_algorithm(keelson_artifact::Algorithm::Blake3),
    );
    let put = blake.put_bytes(pattern(5000, 2)).await.unwrap();
    assert!(put.digest.to_string().starts_with("blake3:"));
    assert_eq!(
        blake.get_bytes(&put.digest).await.unwrap(),
        pattern(5000, 2)
    );
    let missing = keelson_artifact::Algorithm::Sha256.digest(b"never stored");
    assert!(matches!(
        store.get(&missing).await,
        Err(Error::NotFound { .. })
    ));
    // No staging object or lease is left behind.
    let left: Vec<_> = objects(backend, "t")
        .await
        .into_iter()
        .filter(|k| k.contains("/staging/") || k.contains("/leases/"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

pub async fn dedup_stores_once(backend: &Backend) {
    let store = backend.tenant("t");
    let data = pattern(2 * backend.part_size + 7, 3);
    let a = store.put_bytes(data.clone()).await.unwrap();
    let b = store
        .put_stream(futures::stream::iter(chunks_of(&data, 65_536)))
        .await
        .unwrap();
    assert_eq!(a.digest, b.digest);
    assert!(a.stored && !b.stored);
    assert_eq!(store.list_blobs().await.unwrap(), vec![a.digest]);
    let small_a = store.put_bytes("x").await.unwrap();
    let small_b = store.put_bytes("x").await.unwrap();
    assert!(small_a.stored && !small_b.stored);
    assert_eq!(store.list_blobs().await.unwrap().len(), 2);
}

pub async fn put_reader_and_file(backend: &Backend) {
    let store = backend.tenant("t");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.bin");
    let data = pattern(backend.part_size + 99, 4);
    std::fs::write(&path, &data).unwrap();
    let first = store.put_file(&path).await.unwrap();
    assert!(first.stored);
    let second = store.put_file(&path).await.unwrap();
    assert!(!second.stored, "a duplicate file is not uploaded again");
    let reader = store.put_reader(&data[..]).await.unwrap();
    assert_eq!(reader.digest, first.digest);
    assert_eq!(store.get_bytes(&first.digest).await.unwrap(), data);
    assert!(matches!(
        store.put_file(dir.path().join("missing")).await,
        Err(Error::Io { .. })
    ));
}

/// The backend path of a tenant's blob (`"blobs"`) or index (`"index"`).
fn stored_path(tenant: &str, kind: &str, digest: &keelson_artifact::Digest) -> Path {
    Path::from(format!(
        "tenants/{tenant}/{kind}/{}/{}",
        digest.algorithm().name(),
        digest.hex()
    ))
}

/// An object's bytes, read past the store under test.
async fn stored_bytes(backend: &Backend, path: &Path) -> Bytes {
    backend
        .store
        .get(path)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
}

async fn corrupt(backend: &Backend, tenant: &str, digest: &keelson_artifact::Digest, at: usize) {
    let path = stored_path(tenant, "blobs", digest);
    let mut bytes = stored_bytes(backend, &path).await.to_vec();
    bytes[at] ^= 0x01;
    backend
        .store
        .put(&path, PutPayload::from(bytes))
        .await
        .unwrap();
}

/// A BLAKE3 blob's index holds its chunks' chaining values, which combine
/// into the digest (computed once on put, in one pass): every size around
/// the 1 MiB chunks and the part size, any slicing of the input. A range
/// read checks the index against the digest, so an index edited to match
/// a corrupted chunk is caught too.
pub async fn blake3_blobs_have_a_subtree_index(backend: &Backend) {
    let store = backend.tenant("b3");
    let store = store.clone().with_options(
        store
            .options()
            .clone()
            .with_algorithm(keelson_artifact::Algorithm::Blake3),
    );
    let mib = 1usize << 20;
    let part = backend.part_size;
    for (i, len) in [0, 1, mib - 1, mib, mib + 1, 2 * mib, 3 * mib + part / 2 + 7]
        .into_iter()
        .enumerate()
    {
        let data = pattern(len, 20 + i as u8);
        let slicing = [100_000, 777, mib + 1][i % 3];
        let put = store
            .put_stream(futures::stream::iter(chunks_of(&data, slicing)))
            .await
            .unwrap();
        assert_eq!(
            put.digest,
            keelson_artifact::Algorithm::Blake3.digest(&data),
            "length {len}"
        );
        assert_eq!(store.get_bytes(&put.digest).await.unwrap(), data);
        let end = len as u64;
        for range in [end / 2..end, 0..end.min(10)] {
            let got = store.get_range(&put.digest, range.clone()).await.unwrap();
            assert_eq!(
                &got[..],
                &data[range.start as usize..range.end as usize],
                "length {len}, {range:?}"
            );
        }
        let index = read_index(backend, "b3", &put.digest).await;
        let form = index.get("form").and_then(|f| f.as_str());
        assert_eq!(form, Some("subtree"), "length {len}: {index}");
    }
    // An index whose chunk value was replaced no longer combines into the
    // digest: reads through it fail, even of other chunks.
    let data = pattern(3 * mib + 10, 30);
    let put = store.put_bytes(data.clone()).await.unwrap();
    let mut index = read_index(backend, "b3", &put.digest).await;
    index["chunks"][1] = serde_json::Value::String(blake3::hash(b"forged").to_hex().to_string());
    let path = stored_path("b3", "index", &put.digest);
    backend
        .store
        .put(&path, PutPayload::from(serde_json::to_vec(&index).unwrap()))
        .await
        .unwrap();
    let r = store.get_range(&put.digest, 0..10).await;
    assert!(matches!(r, Err(Error::Integrity { .. })), "{r:?}");
    // A full read does not depend on the index: it checks the whole digest.
    assert_eq!(store.get_bytes(&put.digest).await.unwrap(), data);
    // With a sound index a full read checks every chunk before handing any
    // of its bytes out: nothing of the corrupted chunk or after it arrives.
    let put = store.put_bytes(pattern(3 * mib + 10, 31)).await.unwrap();
    corrupt(backend, "b3", &put.digest, mib + 5).await;
    let (delivered, failed) = drain(&store, &put.digest).await;
    assert!(
        matches!(failed, Some(Error::Integrity { .. })),
        "{failed:?}"
    );
    assert!(delivered <= mib, "{delivered} bytes handed out");
}

/// Reads a blob's stream to its end: the bytes handed out before the
/// stream ended, and its last error.
async fn drain(
    store: &keelson_artifact::ArtifactStore,
    digest: &keelson_artifact::Digest,
) -> (usize, Option<Error>) {
    let mut stream = store.get(digest).await.unwrap();
    let (mut delivered, mut failed) = (0usize, None);
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => delivered += chunk.len(),
            Err(e) => failed = Some(e),
        }
    }
    (delivered, failed)
}

async fn read_index(
    backend: &Backend,
    tenant: &str,
    digest: &keelson_artifact::Digest,
) -> serde_json::Value {
    let bytes = stored_bytes(backend, &stored_path(tenant, "index", digest)).await;
    serde_json::from_slice(&bytes).unwrap()
}

pub async fn flipped_byte_detected_on_full_read(backend: &Backend) {
    let store = backend.tenant("t");
    let len = 2 * backend.part_size + 500;
    let data = pattern(len, 5);
    for at in [0, backend.part_size + 3, len - 1] {
        let put = store.put_bytes(data.clone()).await.unwrap();
        corrupt(backend, "t", &put.digest, at).await;
        let (delivered, failed) = drain(&store, &put.digest).await;
        assert!(
            matches!(failed, Some(Error::Integrity { .. })),
            "flip at {at}: {failed:?}"
        );
        assert!(
            delivered < len,
            "the last chunk was withheld (flip at {at})"
        );
        assert!(store.get_bytes(&put.digest).await.is_err());
        // Restore for the next round.
        corrupt(backend, "t", &put.digest, at).await;
        assert_eq!(store.get_bytes(&put.digest).await.unwrap(), data);
    }
}

pub async fn flipped_byte_detected_on_range_read(backend: &Backend) {
    let store = backend.tenant("t");
    let mib = 1 << 20;
    let data = pattern(3 * mib + 10, 6);
    let put = store.put_bytes(data.clone()).await.unwrap();
    corrupt(backend, "t", &put.digest, mib + 5).await;
    // Any range touching the second MiB chunk fails, even if it does not
    // include the flipped byte itself.
    for range in [
        mib as u64 + 5..mib as u64 + 6,
        mib as u64 + 100..mib as u64 + 200,
        0..3 * mib as u64,
    ] {
        let r = store.get_range(&put.digest, range.clone()).await;
        assert!(
            matches!(r, Err(Error::Integrity { .. })),
            "{range:?}: {r:?}"
        );
    }
    // Ranges in intact chunks still read.
    let ok = store.get_range(&put.digest, 10..1000).await.unwrap();
    assert_eq!(&ok[..], &data[10..1000]);
    let tail = store
        .get_range(&put.digest, 2 * mib as u64..3 * mib as u64 + 10)
        .await
        .unwrap();
    assert_eq!(&tail[..], &data[2 * mib..]);
}

pub async fn range_reads(backend: &Backend) {
    let store = backend.tenant("t");
    let mib = 1u64 << 20;
    let len = 2 * mib + mib / 2;
    let data = pattern(len as usize, 7);
    let put = store.put_bytes(data.clone()).await.unwrap();
    for (a, b) in [
        (0, 0),
        (0, 1),
        (mib - 1, mib + 1),
        (mib, 2 * mib),
        (5, len),
        (len - 1, len),
        (len, len),
    ] {
        let got = store.get_range(&put.digest, a..b).await.unwrap();
        assert_eq!(&got[..], &data[a as usize..b as usize], "{a}..{b}");
    }
    assert!(matches!(
        store.get_range(&put.digest, 0..len + 1).await,
        Err(Error::InvalidRange { .. })
    ));
    #[allow(clippy::reversed_empty_ranges)]
    let backwards = store.get_range(&put.digest, 10..5).await;
    assert!(matches!(backwards, Err(Error::InvalidRange { .. })));
}

pub async fn cancelled_upload_leaves_nothing_visible(backend: &Backend) {
    let store = backend.tenant("t");
    let part = backend.part_size;
    // Three parts, then a source that never yields again.
    let head = futures::stream::iter(chunks_of(&pattern(3 * part, 8), part));
    let stalled = head.chain(futures::stream::pending());
    let upload = store.put_stream(stalled);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let watcher = tokio::spawn(async move {
        // Cancel once the upload has been polled for a while.
        tokio::time::sleep(Duration::from_millis(500)).await;
        tx.send(()).ok();
    });
    tokio::select! {
        _ = upload => panic!("a stalled upload cannot finish"),
        _ = rx => {}
    }
    watcher.await.unwrap();
    assert!(store.list_blobs().await.unwrap().is_empty());
    // The background abort and lease removal run on the runtime; give them
    // time. A local multipart upload's temporary file is not listed, so wait
    // for the files too.
    let temporary = || {
        backend
            .local_root
            .as_ref()
            .map(|root| files_under(&root.join("tenants/t")))
            .unwrap_or_default()
    };
    let (mut left, mut files) = (Vec::new(), Vec::new());
    for _ in 0..100 {
        left = objects(backend, "t").await;
        files = temporary();
        if left.is_empty() && files.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(files.is_empty(), "temporary files left behind: {files:?}");
    // And gc finds nothing to clean.
    let report = store
        .gc(&GcOptions::default().with_grace(Duration::ZERO))
        .await
        .unwrap();
    assert!(report.deleted.is_empty());
    assert_eq!(report.staging_deleted, 0);
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

pub async fn versions_are_immutable(backend: &Backend) {
    let store = backend.tenant("t");
    let dir = model_dir(&[("model.onnx", b"v1 weights".as_slice())]);
    let m1 = store
        .publish(dir.path(), "models/fraud-detector", "v1", BTreeMap::new())
        .await
        .unwrap();
    let again = store
        .publish(dir.path(), "models/fraud-detector", "v1", BTreeMap::new())
        .await;
    assert!(
        matches!(again, Err(Error::VersionExists { .. })),
        "{again:?}"
    );
    let other = store
        .put_manifest(&keelson_artifact::Manifest::new(vec![], BTreeMap::new()).unwrap())
        .await
        .unwrap();
    let overwrite = store
        .create_version("models/fraud-detector", "v1", &other)
        .await;
    assert!(matches!(overwrite, Err(Error::VersionExists { .. })));
    assert_eq!(
        store
            .resolve("models/fraud-detector@v1")
            .await
            .unwrap()
            .manifest,
        m1
    );
    store
        .create_version("models/fraud-detector", "v2", &other)
        .await
        .unwrap();
    let labels: Vec<String> = store
        .list_versions("models/fraud-detector")
        .await
        .unwrap()
        .iter()
        .map(|l| l.to_string())
        .collect();
    assert_eq!(labels, ["v1", "v2"]);
    assert!(matches!(
        store
            .create_version(
                "models/x",
                "v1",
                &keelson_artifact::Algorithm::Sha256.digest(b"nope")
            )
            .await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.resolve("models/fraud-detector@v9").await,
        Err(Error::NotFound { .. })
    ));
}

pub async fn concurrent_alias_moves_one_wins(backend: &Backend) {
    let store = backend.tenant("t");
    let m = store
        .put_manifest(&keelson_artifact::Manifest::new(vec![], BTreeMap::new()).unwrap())
        .await
        .unwrap();
    for v in ["v1", "v2", "v3"] {
        store.create_version("m", v, &m).await.unwrap();
    }
    let mut expected = None;
    for round in 0..5 {
        let (a, b) = tokio::join!(
            store.move_alias("m", "production", "v2", expected.as_ref()),
            store.move_alias("m", "production", "v3", expected.as_ref()),
        );
        let (winner, loser) = match (a, b) {
            (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w, l),
            other => panic!("round {round}: exactly one move must win: {other:?}"),
        };
        assert!(matches!(loser, Error::AliasConflict { .. }), "{loser:?}");
        let now = store.read_alias("m", "production").await.unwrap().unwrap();
        assert_eq!(now, winner);
        assert_eq!(
            store.resolve("m@production").await.unwrap().version,
            winner.version
        );
        expected = Some(winner);
    }
    assert!(matches!(
        store
            .move_alias("m", "production", "v9", expected.as_ref())
            .await,
        Err(Error::NotFound { .. })
    ));
}

pub fn model_dir(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    dir
}

pub async fn gc_deletes_only_unreferenced(backend: &Backend) {
    let store = backend.tenant("t");
    let dir = model_dir(&[("a.bin", b"kept a".as_slice()), ("sub/b.bin", b"kept b")]);
    let manifest = store
        .publish(dir.path(), "m", "v1", BTreeMap::new())
        .await
        .unwrap();
    let orphan = store
        .put_bytes(pattern(backend.part_size + 1, 9))
        .await
        .unwrap();
    // Young orphans survive the default grace period.
    let report = store.gc(&GcOptions::default()).await.unwrap();
    assert!(report.deleted.is_empty());
    assert_eq!(report.kept_young, 1);
    // An abandoned staging object and an expired lease.
    backend
        .store
        .put(
            &Path::from("tenants/t/staging/abandoned"),
            PutPayload::from_static(b"x"),
        )
        .await
        .unwrap();
    backend
        .store
        .put(
            &Path::from("tenants/t/leases/crashed"),
            PutPayload::from_static(br#"{"expires_at_ms":1}"#),
        )
        .await
        .unwrap();
    let report = store
        .gc(&GcOptions::default().with_grace(Duration::ZERO))
        .await
        .unwrap();
    assert_eq!(report.deleted, vec![orphan.digest]);
    assert_eq!(report.staging_deleted, 1);
    assert_eq!(report.leases_expired, 1);
    assert_eq!(report.reachable, 3);
    let m = store.get_manifest(&manifest).await.unwrap();
    for f in &m.files {
        store.get_bytes(&f.digest).await.unwrap();
    }
    assert!(!store.contains(&orphan.digest).await.unwrap());
    let left: Vec<_> = objects(backend, "t")
        .await
        .into_iter()
        .filter(|k| !k.contains("/blobs/") && !k.contains("/index/") && !k.contains("/versions/"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // A second collection at the same time as a running one is refused.
    backend
        .store
        .put(
            &Path::from("tenants/t/gc.lock"),
            PutPayload::from(format!(r#"{{"expires_at_ms":{}}}"#, u64::MAX / 2)),
        )
        .await
        .unwrap();
    assert!(matches!(
        store.gc(&GcOptions::default()).await,
        Err(Error::Busy { .. })
    ));
    backend
        .store
        .delete(&Path::from("tenants/t/gc.lock"))
        .await
        .unwrap();
}

pub async fn gc_under_concurrent_puts_loses_nothing(backend: &Backend) {
    let store = backend.tenant("t");
    let gc_options = GcOptions::default()
        .with_grace(Duration::ZERO)
        .with_wait_for_writers(Duration::from_millis(100));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let collector = {
        let store = store.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let (mut ran, mut busy) = (0, 0);
            let mut started = Some(started_tx);
            loop {
                let attempt = store.gc(&gc_options);
                if let Some(tx) = started.take() {
                    let _ = tx.send(());
                }
                match attempt.await {
                    Ok(_) => ran += 1,
                    Err(Error::Busy { .. }) => busy += 1,
                    Err(e) => panic!("{e}"),
                }
                if done.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                tokio::task::yield_now().await;
            }
            (ran, busy)
        })
    };
    // Writers start once the collector runs, so the two overlap; a collector
    // looping without pause must not starve them (writers have priority).
    started_rx.await.unwrap();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            let part = backend.part_size;
            tokio::spawn(async move {
                for round in 0..3 {
                    let i = w * 3 + round;
                    // One file is shared by every version: dedup hits are
                    // exactly what a collection could take from under a put.
                    let shared = pattern(1000, 200);
                    let own = pattern(if i % 2 == 0 { part + 10 } else { 2000 }, i as u8);
                    let dir = model_dir(&[
                        ("shared.bin", shared.as_slice()),
                        ("own.bin", own.as_slice()),
                    ]);
                    store
                        .publish(dir.path(), "m", &format!("v{i}"), BTreeMap::new())
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let (ran, busy) = collector.await.unwrap();
    assert!(ran + busy > 0);
    store
        .gc(&GcOptions::default().with_grace(Duration::ZERO))
        .await
        .unwrap();
    for i in 0..12 {
        let resolved = store.resolve(&format!("m@v{i}")).await.unwrap();
        let m = store.get_manifest(&resolved.manifest).await.unwrap();
        assert_eq!(m.files.len(), 2);
        for f in &m.files {
            let bytes = store.get_bytes(&f.digest).await.unwrap();
            assert_eq!(bytes.len() as u64, f.size);
        }
    }
}

pub async fn tenant_isolation(backend: &Backend) {
    let a = backend.tenant("team-a");
    let b = backend.tenant("team-b");
    let dir = model_dir(&[("secret.bin", b"team a only".as_slice())]);
    let manifest = a
        .publish(dir.path(), "models/m", "v1", BTreeMap::new())
        .await
        .unwrap();
    a.move_alias("models/m", "production", "v1", None)
        .await
        .unwrap();
    let blob = a.put_bytes("team a blob").await.unwrap();
    assert!(!b.contains(&blob.digest).await.unwrap());
    assert!(matches!(
        b.get(&blob.digest).await,
        Err(Error::NotFound { .. })
    ));
    assert!(b.get_range(&blob.digest, 0..1).await.is_err());
    assert!(matches!(
        b.get_manifest(&manifest).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        b.resolve("models/m@v1").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        b.resolve("models/m@production").await,
        Err(Error::NotFound { .. })
    ));
    assert!(
        b.read_alias("models/m", "production")
            .await
            .unwrap()
            .is_none()
    );
    assert!(b.list_blobs().await.unwrap().is_empty());
    assert!(b.list_versions("models/m").await.unwrap().is_empty());
    // team-b's collection deletes nothing of team-a's.
    b.gc(&GcOptions::default().with_grace(Duration::ZERO))
        .await
        .unwrap();
    assert!(a.contains(&blob.digest).await.unwrap());
    // A prefix of a tenant's name is another tenant, not a parent.
    let prefix = backend.tenant("team");
    assert!(prefix.list_blobs().await.unwrap().is_empty());
    // Names that would climb out of the tenant never reach the store.
    assert!(ArtifactStore::new(backend.store.clone(), "team-b/../team-a").is_err());
    assert!(matches!(
        b.resolve("../team-a/models/m@v1").await,
        Err(Error::InvalidName { .. })
    ));
    assert!(matches!(
        b.create_version("../../tenants/team-a/x", "v1", &manifest)
            .await,
        Err(Error::InvalidName { .. })
    ));
}

pub async fn signatures(backend: &Backend) {
    let store = backend.tenant("t");
    let dir = model_dir(&[("model.onnx", b"weights".as_slice())]);
    let manifest = store
        .publish(dir.path(), "m", "v1", BTreeMap::new())
        .await
        .unwrap();
    let key = SigningKey::from_bytes(&[3u8; 32]);
    let other = SigningKey::from_bytes(&[4u8; 32]);
    let sig = store.sign_manifest(&manifest, &key).await.unwrap();
    assert_eq!(
        store
            .verify_manifest(&manifest, &key.verifying_key())
            .await
            .unwrap(),
        sig
    );
    assert!(matches!(
        store
            .verify_manifest(&manifest, &other.verifying_key())
            .await,
        Err(Error::Signature { .. })
    ));
    // A forged signature object (another key's signature stored under this key id) fails.
    let forged = keelson_artifact::ManifestSignature {
        public_key: sig.public_key.clone(),
        ..keelson_artifact::ManifestSignature::sign(&manifest, &other)
    };
    let path = Path::from(format!(
        "tenants/t/signatures/sha256/{}/{}",
        manifest.hex(),
        sig.key_id.trim_start_matches("ed25519:")
    ));
    backend
        .store
        .put(&path, PutPayload::from(forged.to_json()))
        .await
        .unwrap();
    assert!(matches!(
        store.verify_manifest(&manifest, &key.verifying_key()).await,
        Err(Error::Signature { .. })
    ));
    let work = tempfile::tempdir().unwrap();
    let cache = LocalCache::new(work.path().join("cache"));
    let refused = store
        .download(
            "m@v1",
            work.path().join("out"),
            &cache,
            Some(&key.verifying_key()),
        )
        .await;
    assert!(
        matches!(refused, Err(Error::Signature { .. })),
        "{refused:?}"
    );
    assert!(!work.path().join("out").exists());
}

pub async fn download_is_atomic_and_cached(backend: &Backend) {
    let counting = Arc::new(counting::Counting::new(backend.store.clone()));
    let store = ArtifactStore::new(counting.clone(), "t")
        .unwrap()
        .with_options(StoreOptions::default().with_part_size(backend.part_size));
    let big = pattern(backend.part_size + 5, 10);
    let dir = model_dir(&[
        ("config.json", br#"{"a":1}"#.as_slice()),
        ("weights/part-0.bin", big.as_slice()),
        ("weights/part-1.bin", b"small"),
    ]);
    store
        .publish(dir.path(), "models/m", "v1", BTreeMap::new())
        .await
        .unwrap();
    let key = SigningKey::from_bytes(&[5u8; 32]);
    let manifest = store.resolve("models/m@v1").await.unwrap().manifest;
    store.sign_manifest(&manifest, &key).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let cache = LocalCache::new(work.path().join("cache"));
    let first = work.path().join("serving/a");
    let m = store
        .download("models/m@v1", &first, &cache, Some(&key.verifying_key()))
        .await
        .unwrap();
    assert_eq!(m.files.len(), 3);
    assert_eq!(
        std::fs::read(first.join("weights/part-0.bin")).unwrap(),
        big
    );
    assert_eq!(
        std::fs::read(first.join("config.json")).unwrap(),
        br#"{"a":1}"#
    );
    // No temporary directory is left beside the destination.
    let siblings: Vec<_> = std::fs::read_dir(work.path().join("serving"))
        .unwrap()
        .collect();
    assert_eq!(siblings.len(), 1);
    // The second download of the same version reads nothing from the store.
    let before = counting.reads();
    let second = work.path().join("serving/b");
    store
        .download("models/m@v1", &second, &cache, Some(&key.verifying_key()))
        .await
        .unwrap();
    assert_eq!(
        counting.reads(),
        before,
        "second download read from the store"
    );
    assert_eq!(
        std::fs::read(second.join("weights/part-1.bin")).unwrap(),
        b"small"
    );
    // Never over an existing directory.
    assert!(matches!(
        store.download("models/m@v1", &second, &cache, None).await,
        Err(Error::DestinationExists { .. })
    ));
    // A corrupted blob never reaches the destination.
    let big_digest = m.file("weights/part-0.bin").unwrap().digest;
    let path = Path::from(format!("tenants/t/blobs/sha256/{}", big_digest.hex()));
    let mut bytes = backend
        .store
        .get(&path)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    bytes[3] ^= 0x80;
    backend
        .store
        .put(&path, PutPayload::from(bytes))
        .await
        .unwrap();
    let fresh_cache = LocalCache::new(work.path().join("cache2"));
    let third = work.path().join("serving/c");
    let r = store
        .download("models/m@v1", &third, &fresh_cache, None)
        .await;
    assert!(matches!(r, Err(Error::Integrity { .. })), "{r:?}");
    assert!(!third.exists());
}
