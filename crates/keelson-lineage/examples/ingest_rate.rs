//! A quick measurement, not the benchmark runner: ingests `RUNS` pipeline
//! runs shaped like the MLMD anchor workload `lineage-v1` (5 chained steps of
//! 2 outputs with 3 properties each, one `put_execution` per step) from
//! `CALLERS` concurrent callers, then times the upstream lineage query from
//! the last output of a run.
//!
//! `cargo run --release -p keelson-lineage --example ingest_rate -- [RUNS] [DIR] [wal|wal-sync|mlmd] [CALLERS]`
//! (defaults: 2000 runs, /dev/shm, wal, 1 caller).

use std::time::{Duration, Instant};

use keelson_lineage::{
    Artifact, ArtifactState, Context, Durability, Event, EventType, Execution, ExecutionState,
    LineageQuery, MetadataStore, NodeType, PropertyType, SqliteOptions, SqliteStore, TypeOptions,
};

struct Types {
    artifacts: Vec<[i64; 2]>,
    execution: i64,
    context: i64,
}

/// Records run `i`; returns the call latencies and the last output's id.
async fn ingest_run(
    store: &SqliteStore,
    t: &Types,
    i: usize,
) -> keelson_lineage::Result<(Vec<Duration>, i64)> {
    let mut ctx = Context::new(t.context, format!("run-{i:07}"))
        .with_property("pipeline_name", "p")
        .with_property("run_index", i as i64)
        .with_property("start_time_s", i as f64);
    let mut prev: Vec<Artifact> = Vec::new();
    let mut latencies = Vec::with_capacity(t.artifacts.len());
    for (s, types) in t.artifacts.iter().enumerate() {
        let mut pairs: Vec<(Artifact, Option<Event>)> = prev
            .drain(..)
            .enumerate()
            .map(|(j, a)| {
                (
                    a,
                    Some(Event::new(EventType::Input).with_key(format!("k{}{j}", s - 1))),
                )
            })
            .collect();
        for (j, &ty) in types.iter().enumerate() {
            let mut a = Artifact::new(ty, format!("mem://pipelines/run-{i:07}/{s}/{j}"))
                .with_property("format", "parquet")
                .with_property("size_bytes", (1000 + (i * 31 + s * 7 + j) % 100_000) as i64)
                .with_property(
                    "score",
                    ((i * 7919 + s * 104_729 + j * 13) % 1000) as f64 / 1000.0,
                );
            a.state = ArtifactState::Live;
            pairs.push((
                a,
                Some(Event::new(EventType::Output).with_key(format!("k{s}{j}"))),
            ));
        }
        let exec = Execution::new(t.execution, ExecutionState::Complete)
            .with_property("component_version", "1.0")
            .with_property("run_index", i as i64)
            .with_property("duration_s", 1.5);
        let call = Instant::now();
        let r = store
            .put_execution(&exec, &pairs, std::slice::from_ref(&ctx))
            .await?;
        latencies.push(call.elapsed());
        ctx.id = r.context_ids.first().copied();
        let n = r.artifact_ids.len();
        for (k, (mut a, _)) in pairs.into_iter().skip(n - 2).enumerate() {
            a.id = r.artifact_ids.get(n - 2 + k).copied();
            prev.push(a);
        }
    }
    let last = prev.first().and_then(|a| a.id).unwrap_or_default();
    Ok((latencies, last))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = args.get(1).map_or(Ok(2000), |s| s.parse())?;
    let dir = args.get(2).map_or("/dev/shm", String::as_str);
    let durability = match args.get(3).map(String::as_str) {
        Some("wal-sync") => Durability::WalSync,
        Some("mlmd") => Durability::MlmdDefaults,
        _ => Durability::Wal,
    };
    let callers: usize = args.get(4).map_or(Ok(1), |s| s.parse())?;
    let path =
        std::path::Path::new(dir).join(format!("keelson-ingest-rate-{}.db", std::process::id()));
    let store = SqliteStore::open_with(
        &path,
        SqliteOptions {
            durability,
            ..SqliteOptions::default()
        },
    )
    .await?;
    let o = TypeOptions::default();
    let props = |t: NodeType| {
        t.with_property("format", PropertyType::String)
            .with_property("size_bytes", PropertyType::Int)
            .with_property("score", PropertyType::Double)
    };
    let mut artifacts = Vec::new();
    for s in 0..5 {
        let a = store
            .put_type(&props(NodeType::artifact(format!("A{s}0"))), o)
            .await?;
        let b = store
            .put_type(&props(NodeType::artifact(format!("A{s}1"))), o)
            .await?;
        artifacts.push([a, b]);
    }
    let execution = store
        .put_type(
            &NodeType::execution("Step")
                .with_property("component_version", PropertyType::String)
                .with_property("run_index", PropertyType::Int)
                .with_property("duration_s", PropertyType::Double),
            o,
        )
        .await?;
    let context = store
        .put_type(
            &NodeType::context("PipelineRun")
                .with_property("pipeline_name", PropertyType::String)
                .with_property("run_index", PropertyType::Int)
                .with_property("start_time_s", PropertyType::Double),
            o,
        )
        .await?;
    let types = std::sync::Arc::new(Types {
        artifacts,
        execution,
        context,
    });

    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..callers {
        let (store, types) = (store.clone(), types.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut last = Vec::new();
            for i in (c..runs).step_by(callers) {
                let (l, id) = ingest_run(&store, &types, i).await?;
                lat.extend(l);
                last.push(id);
            }
            Ok::<_, keelson_lineage::Error>((lat, last))
        }));
    }
    let mut latencies = Vec::new();
    let mut last_outputs = Vec::new();
    for task in tasks {
        let (l, ids) = task.await??;
        latencies.extend(l);
        last_outputs.extend(ids);
    }
    let secs = t0.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let calls = latencies.len();
    println!(
        "ingest: {runs} runs, {calls} put_execution calls, {callers} caller(s), {durability:?} on {dir}: {secs:.3} s = {:.0} calls/s; median call {:?}, p99 {:?}",
        calls as f64 / secs,
        latencies[calls / 2],
        latencies[calls * 99 / 100],
    );

    let mut q = Vec::new();
    for k in 0..105 {
        let target = last_outputs[(k * 9973 + 17) % last_outputs.len()];
        let t = Instant::now();
        let g = store
            .lineage_subgraph(&LineageQuery::upstream_of_artifact(target, 10))
            .await?;
        if k >= 5 {
            q.push(t.elapsed());
        }
        assert_eq!(
            (g.artifacts.len(), g.executions.len(), g.events.len()),
            (9, 5, 17)
        );
    }
    q.sort_unstable();
    println!(
        "upstream lineage (9 artifacts, 5 executions, 17 events): median {:?}, p99 {:?}",
        q[q.len() / 2],
        q[98]
    );
    drop(store);
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(())
}
