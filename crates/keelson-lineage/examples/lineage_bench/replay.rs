//! The replay of a workload file into a store: type registration, the
//! ingest protocol and the seven timed queries with their result checks.
//! Kept apart from the command line so `tests/bench_runner.rs` replays a
//! small workload through exactly this code.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use keelson_lineage::workload::{
    ExpectedSizes, LatencySummary, LineageSize, MEASURED_QUERIES, PropertyKind, PropertyValue,
    Queries, QueryStats, ResultSize, TypeDef, WARMUP_QUERIES, Workload,
};
use keelson_lineage::{
    Artifact, ArtifactState, Context, Direction, Event, EventType, Execution, ExecutionState,
    LineageQuery, LineageStart, ListOptions, MetadataStore, NodeKind, NodeType, Properties,
    PropertyType, TypeOptions, Value,
};

/// Why a replay stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The store or the workload refused a call.
    #[error(transparent)]
    Lineage(#[from] keelson_lineage::Error),
    /// A query gave another result size than the workload expects.
    #[error("query {query} on run {run}: result size {got}, the workload expects {expected}")]
    Mismatch {
        /// The query key, e.g. `filter_model_score`.
        query: &'static str,
        /// The targeted run.
        run: u64,
        /// What the store returned.
        got: String,
        /// What the workload file says.
        expected: String,
    },
    /// A node the ingest should have written is not in the store.
    #[error("{0}")]
    Missing(String),
    /// A concurrent ingest caller stopped without an answer (it panicked).
    #[error("an ingest caller stopped: {0}")]
    Caller(String),
}

/// The ids of the registered types, by name.
#[derive(Debug, Clone)]
pub struct TypeIds {
    context: i64,
    executions: HashMap<Arc<str>, i64>,
    artifacts: HashMap<Arc<str>, i64>,
}

/// The measured ingest: wall seconds and the latency of every call.
#[derive(Debug, Clone)]
pub struct IngestTiming {
    /// Wall seconds from the first call to the last answer.
    pub seconds: f64,
    /// Each `put_execution` call's latency in seconds.
    pub call_seconds: Vec<f64>,
}

fn node_type(kind: NodeKind, def: &TypeDef) -> NodeType {
    let mut t = NodeType::new(kind, def.name.as_ref());
    for (name, property) in &def.properties {
        let ty = match property {
            PropertyKind::String => PropertyType::String,
            PropertyKind::Int => PropertyType::Int,
            PropertyKind::Double => PropertyType::Double,
        };
        t = t.with_property(name.as_ref(), ty);
    }
    if let Some(base) = def.base_type {
        t = t.with_base_type(base);
    }
    t
}

/// Registers the workload's context, execution and artifact types, each
/// once, before anything is timed.
pub async fn register_types<S: MetadataStore>(
    store: &S,
    workload: &Workload,
) -> Result<TypeIds, ReplayError> {
    let options = TypeOptions::default();
    let context = store
        .put_type(
            &node_type(NodeKind::Context, workload.context_type()),
            options,
        )
        .await?;
    let mut executions = HashMap::new();
    for def in workload.execution_types() {
        let id = store
            .put_type(&node_type(NodeKind::Execution, def), options)
            .await?;
        executions.insert(def.name.clone(), id);
    }
    let mut artifacts = HashMap::new();
    for def in workload.artifact_types() {
        let id = store
            .put_type(&node_type(NodeKind::Artifact, def), options)
            .await?;
        artifacts.insert(def.name.clone(), id);
    }
    Ok(TypeIds {
        context,
        executions,
        artifacts,
    })
}

fn properties(props: &[keelson_lineage::workload::Property]) -> Properties {
    props
        .iter()
        .map(|p| {
            let value = match &p.value {
                PropertyValue::String(s) => Value::String(s.clone()),
                PropertyValue::Int(v) => Value::Int(*v),
                PropertyValue::Double(v) => Value::Double(*v),
            };
            (p.name.to_string(), value)
        })
        .collect()
}

fn type_id(ids: &HashMap<Arc<str>, i64>, name: &Arc<str>) -> Result<i64, ReplayError> {
    ids.get(name)
        .copied()
        .ok_or_else(|| ReplayError::Missing(format!("type {name} was not registered")))
}

/// Ingests run `run` with the workload's protocol: one atomic
/// `put_execution` per step; step `s > 0` reads every output of step
/// `s - 1` (INPUT events, path key = output key), its own outputs get
/// OUTPUT events; the run's context is created by the first call and
/// reused by the others. Returns each call's latency in seconds.
pub async fn ingest_run<S: MetadataStore>(
    store: &S,
    workload: &Workload,
    types: &TypeIds,
    run: u64,
) -> Result<Vec<f64>, ReplayError> {
    let nodes = workload.run(run)?;
    let mut context = Context::new(types.context, nodes.context.name);
    context.properties = properties(&nodes.context.properties);
    let mut previous: Vec<(Arc<str>, Artifact)> = Vec::new();
    let mut latencies = Vec::with_capacity(nodes.steps.len());
    for step in nodes.steps {
        let exec_state = ExecutionState::from_code(i64::from(step.execution.last_known_state_code))
            .ok_or_else(|| {
                ReplayError::Missing(format!(
                    "execution state {} has no code",
                    step.execution.last_known_state
                ))
            })?;
        let mut execution = Execution::new(
            type_id(&types.executions, &step.execution.type_name)?,
            exec_state,
        );
        execution.name = Some(step.execution.name);
        execution.properties = properties(&step.execution.properties);

        let mut pairs: Vec<(Artifact, Option<Event>)> =
            Vec::with_capacity(previous.len() + step.outputs.len());
        for (key, artifact) in previous.drain(..) {
            if !step.inputs.contains(&key) {
                continue;
            }
            pairs.push((
                artifact,
                Some(Event::new(EventType::Input).with_key(key.as_ref())),
            ));
        }
        let inputs = pairs.len();
        let mut keys = Vec::with_capacity(step.outputs.len());
        for output in step.outputs {
            let state =
                ArtifactState::from_code(i64::from(output.state_code)).ok_or_else(|| {
                    ReplayError::Missing(format!("artifact state {} has no code", output.state))
                })?;
            let mut artifact =
                Artifact::new(type_id(&types.artifacts, &output.type_name)?, output.uri);
            artifact.name = Some(output.name);
            artifact.state = state;
            artifact.properties = properties(&output.properties);
            pairs.push((
                artifact,
                Some(Event::new(EventType::Output).with_key(output.key.as_ref())),
            ));
            keys.push(output.key);
        }

        let call = Instant::now();
        let written = store
            .put_execution(&execution, &pairs, std::slice::from_ref(&context))
            .await?;
        latencies.push(call.elapsed().as_secs_f64());

        if context.id.is_none() {
            context.id = written.context_ids.first().copied();
        }
        for ((key, (mut artifact, _)), id) in keys
            .into_iter()
            .zip(pairs.into_iter().skip(inputs))
            .zip(written.artifact_ids.iter().skip(inputs))
        {
            artifact.id = Some(*id);
            previous.push((key, artifact));
        }
    }
    Ok(latencies)
}

/// Ingests runs `0..runs` from `concurrency` callers (caller `c` takes runs
/// `c, c + K, c + 2K, ...`; one caller ingests them in order).
pub async fn ingest<S: MetadataStore + Clone + 'static>(
    store: &S,
    workload: Arc<Workload>,
    types: Arc<TypeIds>,
    runs: u64,
    concurrency: usize,
) -> Result<IngestTiming, ReplayError> {
    let callers = concurrency.max(1);
    let step = u64::try_from(callers).unwrap_or(u64::MAX);
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for caller in 0..callers {
        let (store, workload, types) = (store.clone(), workload.clone(), types.clone());
        let first = u64::try_from(caller).unwrap_or(u64::MAX);
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut run = first;
            while run < runs {
                latencies.extend(ingest_run(&store, &workload, &types, run).await?);
                run = run.saturating_add(step);
            }
            Ok::<_, ReplayError>(latencies)
        });
    }
    let mut call_seconds = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let latencies = joined.map_err(|e| ReplayError::Caller(e.to_string()))??;
        call_seconds.extend(latencies);
    }
    Ok(IngestTiming {
        seconds: start.elapsed().as_secs_f64(),
        call_seconds,
    })
}

/// What the `k`-th query of each kind needs, resolved before the timing
/// starts (MLMD's runner keeps the ids from its ingest; keelson's finds
/// them by context name and by uri).
struct Target {
    run: u64,
    context_id: i64,
    uri: String,
    filter_by_context_name: String,
    upstream_start: i64,
    bidirectional_start: i64,
    max_hops: u32,
}

async fn artifact_id_by_uri<S: MetadataStore>(store: &S, uri: &str) -> Result<i64, ReplayError> {
    let found = store.get_artifacts_by_uri(uri).await?;
    match found.as_slice() {
        [one] => one
            .id
            .ok_or_else(|| ReplayError::Missing(format!("the artifact at {uri} has no id"))),
        _ => Err(ReplayError::Missing(format!(
            "{} artifacts at {uri}, expected one",
            found.len()
        ))),
    }
}

async fn resolve<S: MetadataStore>(
    store: &S,
    workload: &Workload,
    k: u64,
    runs: u64,
) -> Result<Target, ReplayError> {
    let t = workload.query_targets(k, runs)?;
    let context = store
        .get_context_by_type_and_name(&workload.context_type().name, None, &t.context_name)
        .await?
        .and_then(|c| c.id)
        .ok_or_else(|| ReplayError::Missing(format!("context {} is not stored", t.context_name)))?;
    let start = |key: &str| -> Result<String, ReplayError> {
        workload
            .artifact_uri(t.run, key)?
            .ok_or_else(|| ReplayError::Missing(format!("no output {key}")))
    };
    let upstream_start = artifact_id_by_uri(store, &start(&t.upstream_start_key)?).await?;
    let bidirectional_start =
        artifact_id_by_uri(store, &start(&t.bidirectional_start_key)?).await?;
    Ok(Target {
        run: t.run,
        context_id: context,
        uri: t.uri,
        filter_by_context_name: t.filter_by_context_name,
        upstream_start,
        bidirectional_start,
        max_hops: t.max_num_hops,
    })
}

fn count(n: usize) -> ResultSize {
    ResultSize::Count(u64::try_from(n).unwrap_or(u64::MAX))
}

async fn list_all<S: MetadataStore>(store: &S, filter: &str) -> Result<usize, ReplayError> {
    let mut options = ListOptions {
        filter_query: Some(filter.to_owned()),
        ..ListOptions::default()
    };
    let mut total = 0;
    loop {
        let page = store.list_artifacts(&options).await?;
        total += page.items.len();
        match page.next_page_token {
            Some(token) => options.page_token = Some(token),
            None => return Ok(total),
        }
    }
}

async fn lineage<S: MetadataStore>(
    store: &S,
    start: i64,
    direction: Direction,
    max_hops: u32,
) -> Result<ResultSize, ReplayError> {
    let graph = store
        .lineage_subgraph(&LineageQuery {
            start: LineageStart::Artifacts(vec![start]),
            max_hops,
            direction,
        })
        .await?;
    let n = |len: usize| u64::try_from(len).unwrap_or(u64::MAX);
    Ok(ResultSize::Lineage(LineageSize {
        artifacts: n(graph.artifacts.len()),
        executions: n(graph.executions.len()),
        events: n(graph.events.len()),
        contexts: n(graph.contexts.len()),
    }))
}

fn show(size: ResultSize) -> String {
    match size {
        ResultSize::Count(n) => n.to_string(),
        ResultSize::Lineage(l) => format!(
            "{{artifacts: {}, executions: {}, events: {}, contexts: {}}}",
            l.artifacts, l.executions, l.events, l.contexts
        ),
    }
}

/// Times one query kind over every target: the first
/// [`WARMUP_QUERIES`] are not measured; every answer, warm-up included,
/// must have the expected size.
async fn timed<'a, F, Fut>(
    query: &'static str,
    targets: &'a [Target],
    expected: ResultSize,
    mut call: F,
) -> Result<QueryStats, ReplayError>
where
    F: FnMut(&'a Target) -> Fut,
    Fut: Future<Output = Result<ResultSize, ReplayError>>,
{
    let mut samples = Vec::with_capacity(targets.len());
    let warmup = usize::try_from(WARMUP_QUERIES).unwrap_or(usize::MAX);
    for (k, target) in targets.iter().enumerate() {
        let start = Instant::now();
        let got = call(target).await?;
        let elapsed = start.elapsed().as_secs_f64();
        if got != expected {
            return Err(ReplayError::Mismatch {
                query,
                run: target.run,
                got: show(got),
                expected: show(expected),
            });
        }
        if k >= warmup {
            samples.push(elapsed);
        }
    }
    let latency = LatencySummary::from_seconds(&samples)
        .ok_or_else(|| ReplayError::Missing(format!("query {query}: no measured samples")))?;
    Ok(QueryStats {
        latency,
        result_size: expected,
    })
}

/// Runs the seven queries ([`WARMUP_QUERIES`] + [`MEASURED_QUERIES`] of
/// each, the `k`-th on run `(k * 9973 + 17) % runs`) and checks every
/// answer against the workload's expected size for `runs` runs.
pub async fn run_queries<S: MetadataStore>(
    store: &S,
    workload: &Workload,
    runs: u64,
) -> Result<Queries, ReplayError> {
    let expected: ExpectedSizes = workload.expected(runs)?;
    let mut targets = Vec::new();
    for k in 0..WARMUP_QUERIES + MEASURED_QUERIES {
        targets.push(resolve(store, workload, k, runs).await?);
    }
    let filter = workload.filter_model_score();
    let filter = filter.as_str();
    Ok(Queries {
        artifacts_by_context: timed(
            "artifacts_by_context",
            &targets,
            ResultSize::Count(expected.artifacts_by_context),
            |t| async move {
                Ok(count(
                    store.get_artifacts_by_context(t.context_id).await?.len(),
                ))
            },
        )
        .await?,
        executions_by_context: timed(
            "executions_by_context",
            &targets,
            ResultSize::Count(expected.executions_by_context),
            |t| async move {
                Ok(count(
                    store.get_executions_by_context(t.context_id).await?.len(),
                ))
            },
        )
        .await?,
        artifact_by_uri: timed(
            "artifact_by_uri",
            &targets,
            ResultSize::Count(expected.artifact_by_uri),
            |t| async move { Ok(count(store.get_artifacts_by_uri(&t.uri).await?.len())) },
        )
        .await?,
        filter_model_score: timed(
            "filter_model_score",
            &targets,
            ResultSize::Count(expected.filter_model_score),
            |_| async move { Ok(count(list_all(store, filter).await?)) },
        )
        .await?,
        filter_by_context_name: timed(
            "filter_by_context_name",
            &targets,
            ResultSize::Count(expected.filter_by_context_name),
            |t| async move { Ok(count(list_all(store, &t.filter_by_context_name).await?)) },
        )
        .await?,
        lineage_upstream_from_pushed_model: timed(
            "lineage_upstream_from_pushed_model",
            &targets,
            ResultSize::Lineage(expected.lineage_upstream_from_pushed_model),
            |t| lineage(store, t.upstream_start, Direction::Upstream, t.max_hops),
        )
        .await?,
        lineage_bidirectional_from_model: timed(
            "lineage_bidirectional_from_model",
            &targets,
            ResultSize::Lineage(expected.lineage_bidirectional_from_model),
            |t| lineage(store, t.bidirectional_start, Direction::Both, t.max_hops),
        )
        .await?,
    })
}
