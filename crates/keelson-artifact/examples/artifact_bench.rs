//! Put and get throughput on the local file system: raw object_store against
//! keelson-artifact (hashing, chunk index, dedup check, verified reads), with
//! the speed of SHA-256 and BLAKE3 alone beside them as the limit.
//!
//! ```sh
//! cargo run --release -p keelson-artifact --example artifact_bench -- --dir /tmp/artifact-bench [--hash blake3] [--sizes-mib 1,64,1024] [--disk]
//! ```
//!
//! Prints one JSON line per size: `{"size_bytes", "raw_put_mb_s",
//! "keelson_put_mb_s", "raw_get_mb_s", "keelson_get_mb_s", "sha256_mb_s",
//! "blake3_mb_s", "hash"}` (MB = 10^6 bytes; best of several runs for the
//! small sizes). Raw put is one put below a part and a `WriteMultipart` of
//! 8 MiB parts above, as keelson does; raw get is the better of `get().bytes()`
//! and the ranged reads keelson makes (8 MiB, two in flight), so the verified
//! read is compared with the faster plain read. `sync` runs before each timed
//! phase so one phase's dirty pages do not slow the next, after an untimed
//! warm-up write. Everything it writes
//! under `--dir` is deleted again.
//!
//! By default the bytes never leave the page cache, so raw reads and writes
//! run at memory speed, faster than either hash. `--disk` measures the
//! disk instead, for raw and keelson alike: a put is timed until its bytes
//! are on the disk (`sync(2)` inside the timing), and before each get every
//! file of the store is dropped from the page cache
//! (`posix_fadvise(POSIX_FADV_DONTNEED)` after a `sync`), so the get reads
//! the disk, as a serving pod's first download or a cold node does. `--dir`
//! must then be on a disk, not tmpfs (where nothing can be dropped).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt;
use keelson_artifact::{Algorithm, ArtifactStore, StoreOptions};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload, WriteMultipart};

const MIB: usize = 1 << 20;

fn main() {
    let mut dir = std::env::temp_dir().join("keelson-artifact-bench");
    let mut algorithm = Algorithm::Sha256;
    let mut sizes = vec![1, 64, 1024];
    let mut disk = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dir" => dir = PathBuf::from(args.next().expect("--dir DIR")),
            "--hash" => {
                algorithm = match args.next().as_deref() {
                    Some("sha256") => Algorithm::Sha256,
                    Some("blake3") => Algorithm::Blake3,
                    other => panic!("--hash sha256|blake3, got {other:?}"),
                }
            }
            "--sizes-mib" => {
                sizes = args
                    .next()
                    .expect("--sizes-mib 1,64,1024")
                    .split(',')
                    .map(|s| s.parse().expect("a whole number of MiB"))
                    .collect()
            }
            "--disk" => disk = true,
            other => {
                panic!("unknown argument {other:?} (expected --dir, --hash, --sizes-mib, --disk)")
            }
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    for mib in sizes {
        let size = mib * MIB;
        let line = runtime.block_on(measure(&dir, size, algorithm, disk));
        println!("{line}");
    }
}

fn data(size: usize) -> Bytes {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut out = Vec::with_capacity(size);
    while out.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(size);
    Bytes::from(out)
}

fn parts(data: &Bytes, part: usize) -> Vec<Bytes> {
    (0..data.len())
        .step_by(part)
        .map(|start| data.slice(start..(start + part).min(data.len())))
        .collect()
}

fn mb_s(bytes: usize, seconds: f64) -> f64 {
    (bytes as f64 / 1e6 / seconds * 10.0).round() / 10.0
}

/// A fresh store directory for one run, removed afterwards.
struct Scratch(PathBuf);

impl Scratch {
    fn new(root: &Path, name: &str) -> Self {
        let path = root.join(name);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Scratch(path)
    }

    fn store(&self) -> Arc<LocalFileSystem> {
        Arc::new(LocalFileSystem::new_with_prefix(&self.0).unwrap())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn raw_put(store: &Arc<LocalFileSystem>, data: &Bytes, options: &StoreOptions) {
    let path = ObjectPath::from("raw/object");
    if data.len() < options.part_size {
        store
            .put(&path, PutPayload::from(data.clone()))
            .await
            .unwrap();
        return;
    }
    let upload = store.put_multipart(&path).await.unwrap();
    let mut writer = WriteMultipart::new_with_chunk_size(upload, options.part_size);
    for part in parts(data, options.part_size) {
        writer
            .wait_for_capacity(options.max_concurrency)
            .await
            .unwrap();
        writer.put(part);
    }
    writer.finish().await.unwrap();
}

/// Flushes dirty pages so each timed phase starts from the same state.
fn sync() {
    rustix::fs::sync();
}

/// Under `--disk`, writes every dirty page out and drops every file under
/// `dir` from the page cache, so that the next read of it reads the disk.
fn evict(dir: &Path, disk: bool) {
    if !disk {
        return;
    }
    sync();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let file = std::fs::File::open(&path).unwrap();
            rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed)
                .unwrap_or_else(|e| panic!("fadvise on {}: {e}", path.display()));
        }
    }
}

/// Under `--disk`, the end of a timed put: its bytes on the disk.
fn settle(disk: bool) {
    if disk {
        sync();
    }
}

async fn ranged_read(
    store: &Arc<LocalFileSystem>,
    path: &ObjectPath,
    size: usize,
    part: usize,
) -> usize {
    let ranges: Vec<_> = (0..size as u64)
        .step_by(part)
        .map(|start| start..(start + part as u64).min(size as u64))
        .collect();
    let mut reads = futures::stream::iter(ranges)
        .map(|range| store.get_range(path, range))
        .buffered(2);
    let mut read = 0;
    while let Some(chunk) = reads.next().await {
        read += chunk.unwrap().len();
    }
    read
}

async fn measure(root: &Path, size: usize, algorithm: Algorithm, disk: bool) -> String {
    let data = data(size);
    let options = StoreOptions::default().with_algorithm(algorithm);
    let runs = (256 * MIB / size).clamp(1, 5);
    let (mut raw_put_s, mut raw_get_s, mut put_s, mut get_s) =
        (f64::MAX, f64::MAX, f64::MAX, f64::MAX);
    {
        // Untimed warm-up: the first large write of a run pays for reclaiming
        // page cache, which would otherwise land on whichever phase is first.
        let warm = Scratch::new(root, "warm-up");
        raw_put(&warm.store(), &data, &options).await;
    }
    for _ in 0..runs {
        let raw = Scratch::new(root, "raw");
        let store = raw.store();
        let path = ObjectPath::from("raw/object");
        sync();
        let t = Instant::now();
        raw_put(&store, &data, &options).await;
        settle(disk);
        raw_put_s = raw_put_s.min(t.elapsed().as_secs_f64());
        sync();
        evict(&raw.0, disk);
        let t = Instant::now();
        let got = store.get(&path).await.unwrap().bytes().await.unwrap();
        raw_get_s = raw_get_s.min(t.elapsed().as_secs_f64());
        assert_eq!(got.len(), size);
        drop(got);
        evict(&raw.0, disk);
        let t = Instant::now();
        assert_eq!(
            ranged_read(&store, &path, size, options.part_size).await,
            size
        );
        raw_get_s = raw_get_s.min(t.elapsed().as_secs_f64());
        drop(raw);

        let scratch = Scratch::new(root, "keelson");
        let store = ArtifactStore::new(scratch.store(), "bench")
            .unwrap()
            .with_options(options.clone());
        sync();
        let t = Instant::now();
        let put = store
            .put_stream(futures::stream::iter(
                parts(&data, options.part_size)
                    .into_iter()
                    .map(Ok::<_, std::io::Error>),
            ))
            .await
            .unwrap();
        settle(disk);
        put_s = put_s.min(t.elapsed().as_secs_f64());
        assert!(put.stored);
        sync();
        evict(&scratch.0, disk);
        let t = Instant::now();
        let mut stream = store.get(&put.digest).await.unwrap();
        let mut read = 0;
        while let Some(chunk) = stream.next().await {
            read += chunk.unwrap().len();
        }
        get_s = get_s.min(t.elapsed().as_secs_f64());
        assert_eq!(read, size);
        // Dedup: the same bytes again store nothing new.
        let again = store.put_bytes(data.clone()).await.unwrap();
        assert!(!again.stored && again.digest == put.digest);
    }
    let hash_speed = |algorithm: Algorithm| {
        let mut best = f64::MAX;
        for _ in 0..runs {
            let t = Instant::now();
            std::hint::black_box(algorithm.digest(&data));
            best = best.min(t.elapsed().as_secs_f64());
        }
        mb_s(size, best)
    };
    serde_json::json!({
        "size_bytes": size,
        "raw_put_mb_s": mb_s(size, raw_put_s),
        "keelson_put_mb_s": mb_s(size, put_s),
        "raw_get_mb_s": mb_s(size, raw_get_s),
        "keelson_get_mb_s": mb_s(size, get_s),
        "sha256_mb_s": hash_speed(Algorithm::Sha256),
        "blake3_mb_s": hash_speed(Algorithm::Blake3),
        "hash": algorithm.name(),
    })
    .to_string()
}
