//! keelson-lineage on the public MLMD workload (`lineage-workload/2`,
//! the copy in `fuzz/seeds/lineage_workload/lineage_v1.json`, or the file
//! named by `KEELSON_LINEAGE_WORKLOAD`), replayed by the benchmark runner's
//! own code (`examples/lineage_bench/replay.rs`):
//!
//! - `ingest/*`: one pipeline run (one `put_execution` per step) into a
//!   growing store, in memory and as a WAL file on tmpfs (`/dev/shm`).
//! - `upstream_lineage/{runs}` (WAL file on tmpfs, as the runner): the upstream subgraph of a pushed model.
//! - `filter/*`: all pages of the property filter (`type = 'Model' AND
//!   properties.score.double_value > …`) and of the context-name filter
//!   (`contexts_a.name = 'run-…' AND type = 'Model'`).
//!
//! The stores are small (a few thousand runs) so that setup stays short;
//! `examples/lineage_bench` measures the full 10,000-run scale.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

// The benches time a few of the runner's functions, not all of them.
#[allow(dead_code)]
#[path = "../examples/lineage_bench/replay.rs"]
mod replay;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use keelson_lineage::workload::Workload;
use keelson_lineage::{
    Direction, LineageQuery, LineageStart, ListOptions, MetadataStore, SqliteStore,
};
use tokio::runtime::Runtime;

/// The store sizes, in runs, of the query benches.
const SIZES: [u64; 2] = [200, 2_000];

fn workload() -> Arc<Workload> {
    let path = std::env::var_os("KEELSON_LINEAGE_WORKLOAD")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../fuzz/seeds/lineage_workload/lineage_v1.json")
        });
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Arc::new(Workload::from_json(&bytes).unwrap())
}

/// A store with runs `0..runs` ingested, and the next run to ingest.
async fn filled(
    store: SqliteStore,
    w: &Arc<Workload>,
    runs: u64,
) -> (SqliteStore, Arc<replay::TypeIds>) {
    let types = Arc::new(replay::register_types(&store, w).await.unwrap());
    replay::ingest(&store, w.clone(), types.clone(), runs, 1)
        .await
        .unwrap();
    (store, types)
}

/// A directory on tmpfs where there is one, as the runner's `--dbdir`.
fn scratch_dir() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    }
}

fn ingest(c: &mut Criterion, rt: &Runtime, w: &Arc<Workload>) {
    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Elements(w.steps().len() as u64));
    let dir = scratch_dir();
    let stores = [
        (
            "in_memory",
            rt.block_on(SqliteStore::open_in_memory()).unwrap(),
        ),
        (
            "wal_file",
            rt.block_on(SqliteStore::open(dir.path().join("ingest.db")))
                .unwrap(),
        ),
    ];
    for (name, store) in stores {
        let (store, types) = rt.block_on(filled(store, w, 100));
        let next = AtomicU64::new(100);
        group.bench_function(format!("{name}_one_run"), |b| {
            b.iter(|| {
                let run = next.fetch_add(1, Ordering::Relaxed);
                rt.block_on(replay::ingest_run(&store, w, &types, run))
                    .unwrap()
            })
        });
    }
    group.finish();
}

fn queries(c: &mut Criterion, rt: &Runtime, w: &Arc<Workload>) {
    let dir = scratch_dir();
    for runs in SIZES {
        let path = dir.path().join(format!("{runs}.db"));
        let store = rt.block_on(SqliteStore::open(path)).unwrap();
        let (store, _) = rt.block_on(filled(store, w, runs));
        let targets = w.query_targets(0, runs).unwrap();
        let uri = w
            .artifact_uri(targets.run, &targets.upstream_start_key)
            .unwrap()
            .unwrap();
        let model = rt.block_on(store.get_artifacts_by_uri(&uri)).unwrap()[0]
            .id
            .unwrap();
        let upstream = LineageQuery {
            start: LineageStart::Artifacts(vec![model]),
            max_hops: targets.max_num_hops,
            direction: Direction::Upstream,
        };
        c.bench_function(&format!("upstream_lineage/{runs}"), |b| {
            b.iter(|| rt.block_on(store.lineage_subgraph(&upstream)).unwrap())
        });

        let mut group = c.benchmark_group(format!("filter/{runs}"));
        for (name, filter) in [
            ("property", w.filter_model_score()),
            ("context_name", targets.filter_by_context_name.clone()),
        ] {
            group.bench_function(name, |b| b.iter(|| rt.block_on(list_all(&store, &filter))));
        }
        group.finish();
    }
}

/// Every page of a filtered artifact list; returns the number of items.
async fn list_all(store: &SqliteStore, filter: &str) -> usize {
    let mut options = ListOptions {
        filter_query: Some(filter.to_owned()),
        ..ListOptions::default()
    };
    let mut total = 0;
    loop {
        let page = store.list_artifacts(&options).await.unwrap();
        total += page.items.len();
        match page.next_page_token {
            Some(token) => options.page_token = Some(token),
            None => return total,
        }
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let w = workload();
    ingest(c, &rt, &w);
    queries(c, &rt, &w);
}

criterion_group!(benches, bench);
criterion_main!(benches);
