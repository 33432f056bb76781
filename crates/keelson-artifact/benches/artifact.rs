//! Small-object put and get through keelson-artifact on `InMemory`, and
//! SHA-256 / BLAKE3 hashing alone. The large sizes are in
//! `examples/artifact_bench.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use keelson_artifact::{Algorithm, ArtifactStore};
use object_store::memory::InMemory;

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for size in [64 << 10, 4 << 20] {
        let data = bytes::Bytes::from((0..size).map(|i| (i * 7 % 251) as u8).collect::<Vec<u8>>());
        let mut group = c.benchmark_group(format!("artifact_{}KiB", size >> 10));
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function("put", |b| {
            b.iter_batched(
                || ArtifactStore::new(Arc::new(InMemory::new()), "bench").unwrap(),
                |store| runtime.block_on(store.put_bytes(data.clone())).unwrap(),
                BatchSize::SmallInput,
            )
        });
        let store = ArtifactStore::new(Arc::new(InMemory::new()), "bench").unwrap();
        let digest = runtime
            .block_on(store.put_bytes(data.clone()))
            .unwrap()
            .digest;
        group.bench_function("get_verified", |b| {
            b.iter(|| runtime.block_on(store.get_bytes(&digest)).unwrap())
        });
        group.bench_function("get_range_1KiB", |b| {
            b.iter(|| {
                runtime
                    .block_on(store.get_range(&digest, 1000..2024))
                    .unwrap()
            })
        });
        group.bench_function("sha256", |b| b.iter(|| Algorithm::Sha256.digest(&data)));
        group.bench_function("blake3", |b| b.iter(|| Algorithm::Blake3.digest(&data)));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
