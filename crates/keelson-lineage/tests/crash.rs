//! Crash safety (issue 4, "Reliability"): a writer process killed with
//! SIGKILL at random moments loses no acknowledged `put_execution`, leaves
//! no half-written one behind, and leaves a database that passes its own
//! integrity check.
//!
//! The writer is this test binary itself, re-executed with
//! [`STORE_VAR`] set and filtered to [`CHILD_TEST`]: several tasks ingest
//! pipeline runs (an ingest step writing datasets, then a train step reading
//! them and writing a model, both in the run's context) and print
//! `ack <execution id> <execution name>` after every acknowledged call. The
//! parent kills it at a seeded random moment, [`ROUNDS`] times on the same
//! database (each child reopens it, so each round also recovers the last
//! one's crash), and then checks the store. It does so for every SQLite
//! durability mode (all of them promise that an acknowledged commit
//! survives the death of the process) and, with the feature `postgres` and
//! `KEELSON_PG_URL` set, for PostgreSQL, in a schema of its own.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use keelson_lineage::{
    Artifact, Context, Durability, Event, EventType, Execution, ExecutionState, MetadataStore,
    NodeType, PathStep, PropertyType, SqliteOptions, SqliteStore, TypeOptions, Value,
};

/// The store the child writes to (see [`Backend::child_env`]); the child test
/// does nothing when it is unset.
const STORE_VAR: &str = "KEELSON_CRASH_STORE";
/// The PostgreSQL schema of the child's store.
#[cfg(feature = "postgres")]
const PG_SCHEMA_VAR: &str = "KEELSON_CRASH_PG_SCHEMA";
/// The SQLite durability mode of the child's store.
const DURABILITY_VAR: &str = "KEELSON_CRASH_DURABILITY";
/// The round number, which keeps run names unique across rounds.
const ROUND_VAR: &str = "KEELSON_CRASH_ROUND";
/// The name of the child test, run with `--exact --ignored`.
const CHILD_TEST: &str = "crash_child_writer";
/// The line the child prints once its store is open.
const READY: &str = "crash-child-ready";
/// Kills per store.
const ROUNDS: u32 = 20;
/// Concurrent callers in the child, so that kills also land inside group
/// commits of several calls.
const WRITERS: usize = 3;
/// Datasets an ingest step writes (and the train step reads).
const DATASETS: usize = 3;
/// The longest kill delay, in milliseconds.
const MAX_KILL_DELAY_MS: u64 = 60;

/// A store the crash test can drive: the child opens it from its
/// environment, the parent checks its storage and reopens it.
#[derive(Debug, Clone)]
enum Backend {
    /// `sqlite:<path>` in one durability mode.
    Sqlite {
        path: PathBuf,
        durability: Durability,
    },
    /// `postgres:<url>`, in a schema of its own.
    #[cfg(feature = "postgres")]
    Postgres { url: String, schema: String },
}

/// The PostgreSQL server to crash against: `KEELSON_PG_URL`, required when
/// `CI=true`.
#[cfg(feature = "postgres")]
fn pg_under_test() -> Option<Backend> {
    match std::env::var("KEELSON_PG_URL") {
        Ok(url) if !url.is_empty() => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            Some(Backend::Postgres {
                url,
                schema: format!("keelson_crash_{}_{nanos}", std::process::id()),
            })
        }
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!(
                "KEELSON_PG_URL is not set, and CI=true requires the PostgreSQL crash test to run"
            )
        }
        _ => {
            println!(
                "PostgreSQL skipped: KEELSON_PG_URL is not set (scripts/test.sh starts a server)"
            );
            None
        }
    }
}

/// Drops the crash test's PostgreSQL schema.
#[cfg(feature = "postgres")]
async fn drop_schema(url: &str, schema: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let task = tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .unwrap();
    drop(client);
    let _ = task.await;
}

/// The stores to crash, each on a fresh database under `dir`.
fn backends_under_test(dir: &std::path::Path) -> Vec<Backend> {
    [
        Durability::Wal,
        Durability::WalSync,
        Durability::MlmdDefaults,
    ]
    .into_iter()
    .map(|durability| Backend::Sqlite {
        path: dir.join(format!("{}.db", durability_name(durability))),
        durability,
    })
    .chain({
        #[cfg(feature = "postgres")]
        {
            pg_under_test()
        }
        #[cfg(not(feature = "postgres"))]
        {
            None
        }
    })
    .collect()
}

fn durability_name(durability: Durability) -> &'static str {
    match durability {
        Durability::Wal => "wal",
        Durability::WalSync => "wal-sync",
        Durability::MlmdDefaults => "mlmd",
    }
}

impl Backend {
    /// The environment the child finds its store in.
    fn child_env(&self) -> Vec<(&'static str, String)> {
        match self {
            Backend::Sqlite { path, durability } => vec![
                (STORE_VAR, format!("sqlite:{}", path.display())),
                (DURABILITY_VAR, durability_name(*durability).to_owned()),
            ],
            #[cfg(feature = "postgres")]
            Backend::Postgres { url, schema } => vec![
                (STORE_VAR, format!("postgres:{url}")),
                (PG_SCHEMA_VAR, schema.clone()),
            ],
        }
    }

    /// The store named by the child's environment, if any.
    fn from_env() -> Option<Self> {
        let spec = std::env::var(STORE_VAR).ok()?;
        if let Some(path) = spec.strip_prefix("sqlite:") {
            let name = std::env::var(DURABILITY_VAR).unwrap_or_else(|_| "wal".to_owned());
            let durability = [
                Durability::Wal,
                Durability::WalSync,
                Durability::MlmdDefaults,
            ]
            .into_iter()
            .find(|d| durability_name(*d) == name)
            .unwrap_or_else(|| panic!("{DURABILITY_VAR}={name:?} is no durability mode"));
            return Some(Backend::Sqlite {
                path: path.into(),
                durability,
            });
        }
        #[cfg(feature = "postgres")]
        if let Some(url) = spec.strip_prefix("postgres:") {
            return Some(Backend::Postgres {
                url: url.to_owned(),
                schema: std::env::var(PG_SCHEMA_VAR).unwrap(),
            });
        }
        panic!("{STORE_VAR}={spec:?}: no such backend");
    }

    async fn open(&self) -> Box<dyn MetadataStore> {
        match self {
            Backend::Sqlite { path, durability } => {
                let options = SqliteOptions {
                    durability: *durability,
                    ..SqliteOptions::default()
                };
                Box::new(SqliteStore::open_with(path, options).await.unwrap())
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres { url, schema } => {
                let options = keelson_lineage::PostgresOptions {
                    schema: Some(schema.clone()),
                    ..keelson_lineage::PostgresOptions::default()
                };
                Box::new(
                    keelson_lineage::PostgresStore::open_with(url, options)
                        .await
                        .unwrap(),
                )
            }
        }
    }

    /// How many times the kill delays are stretched: a call to a server
    /// takes several round trips, so the same delays would kill most
    /// children before their first acknowledgement.
    fn pace(&self) -> u32 {
        match self {
            Backend::Sqlite { .. } => 1,
            #[cfg(feature = "postgres")]
            Backend::Postgres { .. } => 5,
        }
    }

    /// The backend's own consistency check of its storage, run while no
    /// store is open on it.
    fn check_storage(&self) {
        match self {
            Backend::Sqlite { path, durability } => {
                let conn = rusqlite::Connection::open(path).unwrap();
                let verdict: Vec<String> = conn
                    .prepare("PRAGMA integrity_check")
                    .unwrap()
                    .query_map([], |r| r.get(0))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap();
                assert_eq!(verdict, ["ok"], "{durability:?}: integrity_check");
            }
            // The server recovers from its own WAL; a killed client only
            // aborts its open transaction.
            #[cfg(feature = "postgres")]
            Backend::Postgres { .. } => {}
        }
    }
}

/// A seeded generator for the kill delays (SplitMix64).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n
    }
}

/// The type ids every process registers (registering is idempotent).
#[derive(Debug, Clone, Copy)]
struct Types {
    dataset: i64,
    model: i64,
    step: i64,
    run: i64,
}

async fn register_types(store: &dyn MetadataStore) -> Types {
    let opts = TypeOptions::default();
    let put = |t: NodeType| async move { store.put_type(&t, opts).await.unwrap() };
    Types {
        dataset: put(NodeType::artifact("Dataset").with_property("run", PropertyType::String))
            .await,
        model: put(NodeType::artifact("Model")
            .with_property("run", PropertyType::String)
            .with_property("accuracy", PropertyType::Double))
        .await,
        step: put(NodeType::execution("Step")
            .with_property("run", PropertyType::String)
            .with_property("step", PropertyType::String))
        .await,
        run: put(NodeType::context("PipelineRun")).await,
    }
}

fn step_execution(types: Types, run: &str, step: &str) -> Execution {
    Execution {
        name: Some(format!("{run}/{step}")),
        ..Execution::new(types.step, ExecutionState::Complete)
            .with_property("run", run)
            .with_property("step", step)
    }
}

fn dataset_uri(run: &str, k: usize) -> String {
    format!("mem://{run}/data/{k}")
}

fn model_uri(run: &str) -> String {
    format!("mem://{run}/model")
}

/// Prints one acknowledgement line, flushed so that the parent has it
/// before any kill that comes after the call returned.
fn ack(execution_id: i64, name: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "ack {execution_id} {name}").unwrap();
    out.flush().unwrap();
}

/// One pipeline run: ingest writes the datasets, train reads them and
/// writes the model, both in the run's context.
async fn write_run(store: &dyn MetadataStore, types: Types, run: &str) {
    let context = Context::new(types.run, run);
    let outputs: Vec<(Artifact, Option<Event>)> = (0..DATASETS)
        .map(|k| {
            (
                Artifact::new(types.dataset, dataset_uri(run, k)).with_property("run", run),
                Some(
                    Event::new(EventType::Output)
                        .with_key("data")
                        .with_index(k as i64),
                ),
            )
        })
        .collect();
    let ingest = store
        .put_execution(
            &step_execution(types, run, "ingest"),
            &outputs,
            std::slice::from_ref(&context),
        )
        .await
        .unwrap();
    ack(ingest.execution_id, &format!("{run}/ingest"));

    let mut pairs: Vec<(Artifact, Option<Event>)> = store
        .get_artifacts_by_id(&ingest.artifact_ids)
        .await
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(k, a)| {
            let event = Event::new(EventType::Input)
                .with_key("data")
                .with_index(k as i64);
            (a, Some(event))
        })
        .collect();
    pairs.push((
        Artifact::new(types.model, model_uri(run))
            .with_property("run", run)
            .with_property("accuracy", 0.9),
        Some(Event::new(EventType::Output).with_key("model")),
    ));
    let context = Context {
        id: Some(ingest.context_ids[0]),
        ..context
    };
    let train = store
        .put_execution(&step_execution(types, run, "train"), &pairs, &[context])
        .await
        .unwrap();
    ack(train.execution_id, &format!("{run}/train"));
}

/// The writer process; see the module docs. Ignored so that a plain test
/// run skips it; the parent runs it with `--ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the writer process of acknowledged_writes_survive_sigkill"]
async fn crash_child_writer() {
    let Some(backend) = Backend::from_env() else {
        return;
    };
    let round: u32 = std::env::var(ROUND_VAR).unwrap().parse().unwrap();
    let store: Arc<dyn MetadataStore> = Arc::from(backend.open().await);
    let types = register_types(&*store).await;
    // On its own line: libtest has already printed `test NAME ... `.
    println!("\n{READY}");
    std::io::stdout().flush().unwrap();
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            // Bounded, in case no kill ever comes.
            for n in 0..100_000 {
                write_run(&*store, types, &format!("r{round}-w{writer}-n{n}")).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

/// When the parent kills the child.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// This long after the child is ready (store open, types registered):
    /// inside the writes.
    AfterReady(Duration),
    /// This long after the start: often while the store opens, recovers
    /// the last crash and registers types.
    AfterSpawn(Duration),
}

/// Runs one child until the kill; returns the acknowledged execution ids
/// with their names.
fn crash_once(backend: &Backend, round: u32, kill: Kill) -> Vec<(i64, String)> {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([CHILD_TEST, "--exact", "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(ROUND_VAR, round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (key, value) in backend.child_env() {
        command.env(key, value);
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines_rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    match kill {
        Kill::AfterReady(delay) => {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match lines_rx.recv_timeout(left) {
                    Ok(line) if line == READY => break,
                    Ok(line) => lines.push(line),
                    Err(e) => {
                        panic!("{backend:?} round {round}: the child never got ready ({e})")
                    }
                }
            }
            std::thread::sleep(delay);
        }
        Kill::AfterSpawn(delay) => std::thread::sleep(delay),
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    reader.join().unwrap();
    lines.extend(lines_rx.try_iter());
    // Anything else is the child failing on its own, e.g. on reopening
    // the store after the last crash (its panic is on stderr).
    assert_eq!(
        status.signal(),
        Some(9),
        "{backend:?} round {round}: the child ended before the kill: {status}"
    );
    lines
        .iter()
        .filter_map(|line| {
            let rest = line.strip_prefix("ack ")?;
            let (id, name) = rest.split_once(' ')?;
            Some((id.parse().unwrap(), name.to_owned()))
        })
        .collect()
}

/// Checks that the store holds exactly whole runs' steps: every execution
/// with all its events, artifacts, attributions and its association, and
/// nothing else; and that every acknowledged execution is there.
async fn check_store(
    store: &dyn MetadataStore,
    acked: &BTreeMap<i64, String>,
    label: &str,
) -> usize {
    let executions: BTreeMap<i64, Execution> = store
        .get_executions_by_type("Step", None)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.id.unwrap(), e))
        .collect();
    for (id, name) in acked {
        let e = executions
            .get(id)
            .unwrap_or_else(|| panic!("{label}: acknowledged execution {id} ({name}) is lost"));
        assert_eq!(e.name.as_deref(), Some(name.as_str()), "{label}: id {id}");
    }

    let ids: Vec<i64> = executions.keys().copied().collect();
    let mut events_of: BTreeMap<i64, Vec<Event>> = BTreeMap::new();
    for event in store.get_events_by_execution_ids(&ids).await.unwrap() {
        events_of.entry(event.execution_id).or_default().push(event);
    }
    let mut artifacts: BTreeMap<i64, Artifact> = BTreeMap::new();
    for type_name in ["Dataset", "Model"] {
        for a in store.get_artifacts_by_type(type_name, None).await.unwrap() {
            artifacts.insert(a.id.unwrap(), a);
        }
    }
    let contexts: BTreeMap<String, i64> = store
        .get_contexts_by_type("PipelineRun", None)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.id.unwrap()))
        .collect();
    let mut attributed: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    let mut associated: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for &context_id in contexts.values() {
        for a in store.get_artifacts_by_context(context_id).await.unwrap() {
            attributed
                .entry(context_id)
                .or_default()
                .insert(a.id.unwrap());
        }
        for e in store.get_executions_by_context(context_id).await.unwrap() {
            associated
                .entry(context_id)
                .or_default()
                .insert(e.id.unwrap());
        }
    }

    let mut datasets_of_run: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    let mut expected_artifacts = BTreeSet::new();
    let mut expected_events = 0;
    // By id, so a run's ingest step comes before its train step.
    for (id, e) in &executions {
        let name = e.name.as_deref().unwrap();
        let (run, step) = name.rsplit_once('/').unwrap();
        let label = format!("{label}: execution {id} ({name})");
        assert_eq!(e.properties.get("run"), Some(&Value::from(run)), "{label}");
        assert_eq!(
            e.properties.get("step"),
            Some(&Value::from(step)),
            "{label}"
        );
        let context_id = *contexts
            .get(run)
            .unwrap_or_else(|| panic!("{label}: no context {run}"));
        assert!(
            associated.get(&context_id).is_some_and(|s| s.contains(id)),
            "{label}: not associated with its run"
        );
        let mut events = events_of.remove(id).unwrap_or_default();
        events.sort_by_key(|ev| (ev.event_type.code(), format!("{:?}", ev.path)));
        let uris: Vec<(EventType, Vec<PathStep>, String)> = events
            .iter()
            .map(|ev| {
                let a = artifacts
                    .get(&ev.artifact_id)
                    .unwrap_or_else(|| panic!("{label}: event to missing artifact"));
                assert!(
                    attributed
                        .get(&context_id)
                        .is_some_and(|s| s.contains(&ev.artifact_id)),
                    "{label}: artifact {} not attributed to its run",
                    ev.artifact_id
                );
                assert_eq!(a.properties.get("run"), Some(&Value::from(run)), "{label}");
                (ev.event_type, ev.path.clone(), a.uri.clone().unwrap())
            })
            .collect();
        let data_path = |k: usize| vec![PathStep::Key("data".into()), PathStep::Index(k as i64)];
        let mut expected: Vec<(EventType, Vec<PathStep>, String)> = (0..DATASETS)
            .map(|k| {
                let event_type = if step == "ingest" {
                    EventType::Output
                } else {
                    EventType::Input
                };
                (event_type, data_path(k), dataset_uri(run, k))
            })
            .collect();
        match step {
            "ingest" => {
                let ids: Vec<i64> = events.iter().map(|ev| ev.artifact_id).collect();
                expected_artifacts.extend(ids.iter().copied());
                datasets_of_run.insert(run, ids);
            }
            "train" => {
                expected.push((
                    EventType::Output,
                    vec![PathStep::Key("model".into())],
                    model_uri(run),
                ));
                let inputs: Vec<i64> = events
                    .iter()
                    .filter(|ev| ev.event_type == EventType::Input)
                    .map(|ev| ev.artifact_id)
                    .collect();
                assert_eq!(
                    datasets_of_run.get(run),
                    Some(&inputs),
                    "{label}: train read other datasets than its run's ingest wrote"
                );
                expected_artifacts.extend(
                    events
                        .iter()
                        .filter(|ev| ev.event_type == EventType::Output)
                        .map(|ev| ev.artifact_id),
                );
            }
            other => panic!("{label}: unknown step {other}"),
        }
        expected.sort_by_key(|(event_type, path, _)| (event_type.code(), format!("{path:?}")));
        assert_eq!(uris, expected, "{label}: events");
        expected_events += expected.len() as u64;
    }
    assert!(
        events_of.is_empty(),
        "{label}: events of unknown executions"
    );

    // Nothing outside whole steps: no artifact, context, event or link that
    // a step did not write.
    let stored: BTreeSet<i64> = artifacts.keys().copied().collect();
    assert_eq!(
        stored, expected_artifacts,
        "{label}: artifacts outside any step"
    );
    let runs: BTreeSet<&str> = executions
        .values()
        .map(|e| e.name.as_deref().unwrap().rsplit_once('/').unwrap().0)
        .collect();
    assert_eq!(
        contexts.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        runs,
        "{label}: contexts without a step"
    );
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.executions, executions.len() as u64, "{label}");
    assert_eq!(counts.artifacts, expected_artifacts.len() as u64, "{label}");
    assert_eq!(counts.contexts, runs.len() as u64, "{label}");
    assert_eq!(counts.events, expected_events, "{label}");
    assert_eq!(
        counts.attributions,
        expected_artifacts.len() as u64,
        "{label}"
    );
    assert_eq!(counts.associations, executions.len() as u64, "{label}");
    executions.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x6b65_656c_736f_6e34);
    for backend in backends_under_test(dir.path()) {
        let mut acked = BTreeMap::new();
        for round in 0..ROUNDS {
            let delay = Duration::from_millis(rng.below(MAX_KILL_DELAY_MS + 1)) * backend.pace();
            let kill = if round % 4 == 3 {
                Kill::AfterSpawn(delay)
            } else {
                Kill::AfterReady(delay)
            };
            let backend_for_child = backend.clone();
            let acks =
                tokio::task::spawn_blocking(move || crash_once(&backend_for_child, round, kill))
                    .await
                    .unwrap();
            acked.extend(acks);
            backend.check_storage();
        }
        assert!(
            acked.len() >= ROUNDS as usize,
            "{backend:?}: only {} acknowledged writes in {ROUNDS} rounds; the kills came too early to test anything",
            acked.len()
        );
        let store = backend.open().await;
        let stored = check_store(&*store, &acked, &format!("{backend:?}")).await;
        println!(
            "{backend:?}: {ROUNDS} kills, {} acknowledged executions, {stored} stored",
            acked.len()
        );
        drop(store);
        #[cfg(feature = "postgres")]
        if let Backend::Postgres { url, schema } = &backend {
            drop_schema(url, schema).await;
        }
    }
}
