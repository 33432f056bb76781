//! The benchmark runner's replay (`examples/lineage_bench/replay.rs`, the
//! same file the example compiles): small workloads replayed into an
//! in-memory store, every query's result size checked against the file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../examples/lineage_bench/replay.rs"]
mod replay;

use std::path::PathBuf;
use std::sync::Arc;

use keelson_lineage::workload::{MEASURED_QUERIES, Queries, ResultSize, Workload};
use keelson_lineage::{MetadataStore, SqliteStore, StoreCounts};
use replay::ReplayError;

fn workload(path: PathBuf) -> Arc<Workload> {
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Arc::new(Workload::from_json(&bytes).unwrap())
}

fn anchor() -> Arc<Workload> {
    workload(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/anchors/lineage/workload.json"),
    )
}

fn seed(name: &str) -> Arc<Workload> {
    workload(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/seeds/lineage_workload")
            .join(name),
    )
}

/// Ingests `runs` runs from `callers` callers into a fresh in-memory store.
async fn ingested(w: &Arc<Workload>, runs: u64, callers: usize) -> SqliteStore {
    let store = SqliteStore::open_in_memory().await.unwrap();
    let types = Arc::new(replay::register_types(&store, w).await.unwrap());
    let timing = replay::ingest(&store, w.clone(), types, runs, callers)
        .await
        .unwrap();
    let steps = u64::try_from(w.steps().len()).unwrap();
    assert_eq!(timing.call_seconds.len() as u64, runs * steps);
    assert!(timing.seconds > 0.0);
    store
}

/// The store holds exactly the workload's nodes and edges.
async fn assert_counts(store: &SqliteStore, w: &Workload, runs: u64) {
    let per_run = w.per_run_counts();
    let types = 1 + w.execution_types().len() + w.artifact_types().len();
    assert_eq!(
        store.counts().await.unwrap(),
        StoreCounts {
            types: types as u64,
            artifacts: per_run.artifacts * runs,
            executions: per_run.executions * runs,
            contexts: runs,
            events: per_run.events * runs,
            attributions: per_run.attributions * runs,
            associations: per_run.associations * runs,
            parent_contexts: 0,
        }
    );
}

/// Every query kind measured [`MEASURED_QUERIES`] times, with the expected
/// sizes (the replay already refused any other size).
fn assert_queries(q: &Queries, w: &Workload, runs: u64) {
    let e = w.expected(runs).unwrap();
    let all = [
        (
            &q.artifacts_by_context,
            ResultSize::Count(e.artifacts_by_context),
        ),
        (
            &q.executions_by_context,
            ResultSize::Count(e.executions_by_context),
        ),
        (&q.artifact_by_uri, ResultSize::Count(e.artifact_by_uri)),
        (
            &q.filter_model_score,
            ResultSize::Count(e.filter_model_score),
        ),
        (
            &q.filter_by_context_name,
            ResultSize::Count(e.filter_by_context_name),
        ),
        (
            &q.lineage_upstream_from_pushed_model,
            ResultSize::Lineage(e.lineage_upstream_from_pushed_model),
        ),
        (
            &q.lineage_bidirectional_from_model,
            ResultSize::Lineage(e.lineage_bidirectional_from_model),
        ),
    ];
    for (stats, expected) in all {
        assert_eq!(stats.result_size, expected);
        assert_eq!(stats.latency.n, MEASURED_QUERIES);
        assert!(stats.latency.median_ms <= stats.latency.p99_ms);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_runs_of_the_anchor_workload_give_every_expected_size() {
    let w = anchor();
    let store = ingested(&w, 50, 1).await;
    assert_counts(&store, &w, 50).await;
    let q = replay::run_queries(&store, &w, 50).await.unwrap();
    assert_queries(&q, &w, 50);
    // The anchor README's figures for 50 runs.
    assert_eq!(q.filter_model_score.result_size, ResultSize::Count(2));
    assert_eq!(
        serde_json::to_value(q.lineage_upstream_from_pushed_model.result_size).unwrap(),
        serde_json::json!({"artifacts": 9, "executions": 5, "events": 17, "contexts": 1})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_write_the_same_graph() {
    let w = anchor();
    let store = ingested(&w, 50, 4).await;
    assert_counts(&store, &w, 50).await;
    let q = replay::run_queries(&store, &w, 50).await.unwrap();
    assert_queries(&q, &w, 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_workload_files_replay_too() {
    for name in ["variant_three_steps.json", "variant_short_hops.json"] {
        let w = seed(name);
        let store = ingested(&w, 50, 2).await;
        assert_counts(&store, &w, 50).await;
        let q = replay::run_queries(&store, &w, 50)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_queries(&q, &w, 50);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_size_other_than_the_workloads_is_refused() {
    let w = anchor();
    // 90 runs stored, but queried as if there were 50: the property filter
    // finds the artifacts of all 90.
    assert_ne!(
        w.expected(50).unwrap().filter_model_score,
        w.expected(90).unwrap().filter_model_score
    );
    let store = ingested(&w, 90, 1).await;
    let err = replay::run_queries(&store, &w, 50).await.unwrap_err();
    match &err {
        ReplayError::Mismatch { query, .. } => assert_eq!(*query, "filter_model_score"),
        other => panic!("not a mismatch: {other}"),
    }
    assert!(err.to_string().contains("filter_model_score"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_was_not_ingested_is_reported() {
    let w = anchor();
    let store = ingested(&w, 10, 1).await;
    let err = replay::run_queries(&store, &w, 50).await.unwrap_err();
    assert!(matches!(err, ReplayError::Missing(_)), "{err}");
    assert!(err.to_string().contains("run-0000017"), "{err}");
}
