//! The SQLite backend: an embedded file (or in-memory) store.
//!
//! All writes go through one dedicated writer thread that owns the write
//! connection (SQLite admits one writer at a time anyway, and a single
//! owner keeps the type cache coherent); writes waiting together share one
//! commit (group commit, each in its own savepoint); reads
//! run on a small pool of read connections via `tokio::task::spawn_blocking`,
//! so a reader never waits behind a writer in WAL mode. Statements are
//! prepared once per connection and cached.

mod read;
mod schema;
mod write;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};
use crate::event::Event;
use crate::import::{ImportBatch, ImportTallies};
use crate::lineage::{LineageGraph, LineageQuery};
use crate::link::{Association, Attribution, ParentContext};
use crate::node::{Artifact, Context, Execution};
use crate::store::{
    DeletePolicy, ListOptions, MetadataStore, Page, PutExecutionResult, StoreCounts,
    validate_namespace,
};
use crate::types::{NodeKind, NodeType, TypeOptions};

pub use schema::CURRENT_VERSION as SCHEMA_VERSION;

/// How much of the database file a read connection maps into memory.
const READ_MMAP_BYTES: u64 = 1 << 30;
/// WAL pages after which a commit of a [`Durability::Wal`] store folds the
/// WAL back into the database (SQLite's default is 1,000). A smaller WAL
/// keeps a small store small on disk: the WAL file never shrinks below its
/// high-water mark, which with the default was 4 MB, 40% of a 1,000-run
/// store, and this cost no measurable ingest speed. A
/// [`Durability::WalSync`] store keeps the default: its checkpoints fsync,
/// and four times as many made its single-caller ingest about 20% slower.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 256;
/// The length the WAL file is cut back to when a checkpoint lets it start
/// over (SQLite keeps it at its high-water mark otherwise).
const WAL_SIZE_LIMIT_BYTES: u64 = 1 << 20;

/// What a commit survives; see docs/lineage.md for the trade-offs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Durability {
    /// WAL journal, `synchronous=NORMAL`: a commit survives a crash of the
    /// process; the last commits before a power loss may be lost. The
    /// default, and the fastest.
    #[default]
    Wal,
    /// WAL journal, `synchronous=FULL`: every commit is fsync'd before it is
    /// acknowledged, so it survives a power loss.
    WalSync,
    /// SQLite's own defaults, which MLMD keeps: rollback journal `DELETE`,
    /// `synchronous=FULL`. For like-for-like comparisons with MLMD; readers
    /// and the writer block each other.
    MlmdDefaults,
}

/// How [`SqliteStore::open_with`] opens a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Journal and sync mode.
    pub durability: Durability,
    /// How long a statement waits for another process's lock before
    /// failing (SQLite's busy timeout).
    pub busy_timeout: Duration,
    /// Read connections kept open (at least 1 for a file store).
    pub read_connections: usize,
    /// The namespace of the returned handle.
    pub namespace: String,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            durability: Durability::Wal,
            busy_timeout: Duration::from_secs(10),
            read_connections: 4,
            namespace: String::new(),
        }
    }
}

/// A write waiting for the writer thread: the work, the namespace it runs
/// in, and where its answer goes.
struct WriteJob<T, F> {
    work: F,
    namespace: Arc<str>,
    answer: tokio::sync::oneshot::Sender<Result<T>>,
}

impl<T, F> write::Job for WriteJob<T, F>
where
    T: Send + 'static,
    F: FnOnce(&mut write::Writer, &str) -> Result<T> + Send + 'static,
{
    fn run(self: Box<Self>, writer: &mut write::Writer) -> write::Reply {
        let result = (self.work)(writer, &self.namespace);
        let answer = self.answer;
        Box::new(move |commit_error: Option<&str>| {
            let result = match (result, commit_error) {
                (Ok(_), Some(message)) => Err(Error::Backend {
                    operation: "commit".to_owned(),
                    message: message.to_owned(),
                }),
                (result, _) => result,
            };
            let _ = answer.send(result);
        })
    }

    fn fail(self: Box<Self>, error: Error) {
        let _ = self.answer.send(Err(error));
    }
}

struct Inner {
    jobs: mpsc::Sender<Box<dyn write::Job>>,
    /// `None` for an in-memory store, whose only connection is the writer's.
    path: Option<PathBuf>,
    options: SqliteOptions,
    readers: Mutex<Vec<Reader>>,
}

/// A pooled read connection and its memory of recent filtered lists.
struct Reader {
    conn: Connection,
    lists: read::Lists,
}

/// A [`MetadataStore`] on SQLite. Cloning gives another handle on the same
/// store (same namespace); [`MetadataStore::namespace`] one for another
/// namespace. The store closes when the last handle is dropped.
///
/// Needs a tokio runtime for reads (they run on its blocking pool).
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
    namespace: Arc<str>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

pub(crate) fn backend(operation: &str) -> impl FnOnce(rusqlite::Error) -> Error + '_ {
    move |e| Error::Backend {
        operation: operation.to_owned(),
        message: e.to_string(),
    }
}

fn configure(conn: &Connection, options: &SqliteOptions, file: bool) -> Result<()> {
    conn.busy_timeout(options.busy_timeout)
        .map_err(backend("set busy timeout"))?;
    rusqlite::vtab::array::load_module(conn).map_err(backend("load rarray"))?;
    conn.set_prepared_statement_cache_capacity(128);
    // Savepoint sub-journals of group commits stay in memory.
    conn.execute_batch("PRAGMA temp_store = MEMORY")
        .map_err(backend("set temp_store"))?;
    if file {
        let (journal, sync) = match options.durability {
            Durability::Wal => ("WAL", "NORMAL"),
            Durability::WalSync => ("WAL", "FULL"),
            Durability::MlmdDefaults => ("DELETE", "FULL"),
        };
        conn.query_row(&format!("PRAGMA journal_mode = {journal}"), [], |_| Ok(()))
            .map_err(backend("set journal mode"))?;
        conn.execute_batch(&format!("PRAGMA synchronous = {sync}"))
            .map_err(backend("set synchronous"))?;
        if options.durability == Durability::Wal {
            for pragma in [
                format!("wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}"),
                format!("journal_size_limit = {WAL_SIZE_LIMIT_BYTES}"),
            ] {
                conn.query_row(&format!("PRAGMA {pragma}"), [], |_| Ok(()))
                    .map_err(backend("set the WAL's size"))?;
            }
        }
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating or migrating) the store at `path` with default
    /// options.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, SqliteOptions::default()).await
    }

    /// Opens (creating or migrating) the store at `path`.
    pub async fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self> {
        Self::start(Some(path.as_ref().to_path_buf()), options).await
    }

    /// A fresh store in memory, gone when the last handle is dropped.
    pub async fn open_in_memory() -> Result<Self> {
        Self::start(None, SqliteOptions::default()).await
    }

    async fn start(path: Option<PathBuf>, options: SqliteOptions) -> Result<Self> {
        validate_namespace(&options.namespace)?;
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let (jobs_tx, jobs_rx) = mpsc::channel::<Box<dyn write::Job>>();
        let thread_path = path.clone();
        let thread_options = options.clone();
        std::thread::Builder::new()
            .name("keelson-lineage-writer".to_owned())
            .spawn(move || {
                let writer = match open_writer(thread_path.as_deref(), &thread_options) {
                    Ok(w) => w,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                write::serve(writer, &jobs_rx);
            })
            .map_err(|e| Error::Backend {
                operation: "start the writer thread".to_owned(),
                message: e.to_string(),
            })?;
        ready_rx.await.map_err(|_| Error::Closed)??;
        let namespace: Arc<str> = options.namespace.as_str().into();
        Ok(Self {
            inner: Arc::new(Inner {
                jobs: jobs_tx,
                path,
                options,
                readers: Mutex::new(Vec::new()),
            }),
            namespace,
        })
    }

    /// Runs `f` on the writer thread.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut write::Writer, &str) -> Result<T> + Send + 'static,
    {
        let (answer, rx) = tokio::sync::oneshot::channel();
        let job = Box::new(WriteJob {
            work: f,
            namespace: self.namespace.clone(),
            answer,
        });
        self.inner.jobs.send(job).map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// The nodes of one type, or its one node of that name.
    async fn nodes_by_type<N: read::StoredNode>(
        &self,
        type_name: &str,
        type_version: Option<&str>,
        name: Option<&str>,
    ) -> Result<Vec<N>> {
        let (n, v, name) = (
            type_name.to_owned(),
            type_version.map(str::to_owned),
            name.map(str::to_owned),
        );
        self.read(move |c, ns| read::nodes_by_type(c, ns, &n, v.as_deref(), name.as_deref()))
            .await
    }

    /// Runs `f` in a read transaction on a pooled read connection (on the
    /// writer for an in-memory store).
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &str) -> Result<T> + Send + 'static,
    {
        self.read_lists(move |conn, ns, _| f(conn, ns)).await
    }

    /// [`SqliteStore::read`], with the read connection's list cache; none
    /// on the writer of an in-memory store, whose reads can see a batch's
    /// writes before its commit (which may fail).
    async fn read_lists<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &str, Option<&mut read::Lists>) -> Result<T> + Send + 'static,
    {
        let Some(path) = self.inner.path.clone() else {
            return self
                .write(move |w, ns| w.read(|conn| f(conn, ns, None)))
                .await;
        };
        let handle = tokio::runtime::Handle::try_current().map_err(|_| Error::Unsupported {
            feature: "reading outside a tokio runtime".to_owned(),
        })?;
        let inner = self.inner.clone();
        let ns = self.namespace.clone();
        handle
            .spawn_blocking(move || {
                let pooled = inner.readers.lock().map_err(|_| Error::Closed)?.pop();
                let mut reader = match pooled {
                    Some(r) => r,
                    None => Reader {
                        conn: open_reader(&path, &inner.options)?,
                        lists: read::Lists::default(),
                    },
                };
                let result = (|| {
                    let tx = reader.conn.transaction().map_err(backend("begin read"))?;
                    let out = f(&tx, &ns, Some(&mut reader.lists))?;
                    tx.finish().map_err(backend("end read"))?;
                    Ok(out)
                })();
                if let Ok(mut pool) = inner.readers.lock()
                    && pool.len() < inner.options.read_connections.max(1)
                {
                    pool.push(reader);
                }
                result
            })
            .await
            .map_err(|_| Error::Closed)?
    }
}

fn open_writer(path: Option<&Path>, options: &SqliteOptions) -> Result<write::Writer> {
    let (mut conn, label) = match path {
        Some(p) => (
            Connection::open(p).map_err(backend(&format!("open {}", p.display())))?,
            p.display().to_string(),
        ),
        None => (
            Connection::open_in_memory().map_err(backend("open in memory"))?,
            ":memory:".to_owned(),
        ),
    };
    configure(&conn, options, path.is_some())?;
    schema::prepare(&mut conn, &label)?;
    write::Writer::new(conn)
}

fn open_reader(path: &Path, options: &SqliteOptions) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(backend(&format!("open {} for reading", path.display())))?;
    conn.busy_timeout(options.busy_timeout)
        .map_err(backend("set busy timeout"))?;
    rusqlite::vtab::array::load_module(&conn).map_err(backend("load rarray"))?;
    conn.set_prepared_statement_cache_capacity(128);
    // Lineage walks touch a few pages scattered over the file: mapped,
    // they cost no read system call each.
    conn.query_row(&format!("PRAGMA mmap_size = {READ_MMAP_BYTES}"), [], |_| {
        Ok(())
    })
    .map_err(backend("set mmap_size"))?;
    Ok(conn)
}

#[async_trait]
impl MetadataStore for SqliteStore {
    fn current_namespace(&self) -> &str {
        &self.namespace
    }

    fn namespace(&self, namespace: &str) -> Result<Self> {
        validate_namespace(namespace)?;
        Ok(Self {
            inner: self.inner.clone(),
            namespace: namespace.into(),
        })
    }

    async fn put_type(&self, node_type: &NodeType, options: TypeOptions) -> Result<i64> {
        node_type.validate()?;
        let t = node_type.clone();
        self.write(move |w, ns| w.put_type(ns, &t, options)).await
    }

    async fn get_type(
        &self,
        kind: NodeKind,
        name: &str,
        version: Option<&str>,
    ) -> Result<Option<NodeType>> {
        let (name, version) = (name.to_owned(), version.map(str::to_owned));
        self.read(move |c, ns| read::type_by_name(c, ns, kind, &name, version.as_deref()))
            .await
    }

    async fn get_types_by_id(&self, ids: &[i64]) -> Result<Vec<NodeType>> {
        let ids = ids.to_vec();
        self.read(move |c, ns| read::types_by_id(c, ns, &ids)).await
    }

    async fn get_types(&self, kind: NodeKind) -> Result<Vec<NodeType>> {
        self.read(move |c, ns| read::types_of_kind(c, ns, kind))
            .await
    }

    async fn put_artifacts(&self, artifacts: &[Artifact]) -> Result<Vec<i64>> {
        let nodes = artifacts.to_vec();
        self.write(move |w, ns| w.put_nodes(ns, &nodes)).await
    }

    async fn put_executions(&self, executions: &[Execution]) -> Result<Vec<i64>> {
        let nodes = executions.to_vec();
        self.write(move |w, ns| w.put_nodes(ns, &nodes)).await
    }

    async fn put_contexts(&self, contexts: &[Context]) -> Result<Vec<i64>> {
        let nodes = contexts.to_vec();
        self.write(move |w, ns| w.put_nodes(ns, &nodes)).await
    }

    async fn put_events(&self, events: &[Event]) -> Result<()> {
        for e in events {
            e.validate()?;
        }
        let events = events.to_vec();
        self.write(move |w, ns| w.put_events(ns, &events)).await
    }

    async fn put_execution(
        &self,
        execution: &Execution,
        artifacts_and_events: &[(Artifact, Option<Event>)],
        contexts: &[Context],
    ) -> Result<PutExecutionResult> {
        for e in artifacts_and_events.iter().filter_map(|(_, e)| e.as_ref()) {
            e.validate()?;
        }
        let (execution, pairs, contexts) = (
            execution.clone(),
            artifacts_and_events.to_vec(),
            contexts.to_vec(),
        );
        self.write(move |w, ns| w.put_execution(ns, &execution, &pairs, &contexts))
            .await
    }

    async fn put_attributions_and_associations(
        &self,
        attributions: &[Attribution],
        associations: &[Association],
    ) -> Result<()> {
        let (at, asn) = (attributions.to_vec(), associations.to_vec());
        self.write(move |w, ns| w.put_links(ns, &at, &asn)).await
    }

    async fn put_parent_contexts(&self, links: &[ParentContext]) -> Result<()> {
        let links = links.to_vec();
        self.write(move |w, ns| w.put_parent_contexts(ns, &links))
            .await
    }

    async fn get_artifacts_by_id(&self, ids: &[i64]) -> Result<Vec<Artifact>> {
        let ids = ids.to_vec();
        self.read(move |c, ns| read::nodes(c, ns, &ids)).await
    }

    async fn get_executions_by_id(&self, ids: &[i64]) -> Result<Vec<Execution>> {
        let ids = ids.to_vec();
        self.read(move |c, ns| read::nodes(c, ns, &ids)).await
    }

    async fn get_contexts_by_id(&self, ids: &[i64]) -> Result<Vec<Context>> {
        let ids = ids.to_vec();
        self.read(move |c, ns| read::nodes(c, ns, &ids)).await
    }

    async fn get_artifacts_by_type(
        &self,
        type_name: &str,
        type_version: Option<&str>,
    ) -> Result<Vec<Artifact>> {
        self.nodes_by_type(type_name, type_version, None).await
    }

    async fn get_executions_by_type(
        &self,
        type_name: &str,
        type_version: Option<&str>,
    ) -> Result<Vec<Execution>> {
        self.nodes_by_type(type_name, type_version, None).await
    }

    async fn get_contexts_by_type(
        &self,
        type_name: &str,
        type_version: Option<&str>,
    ) -> Result<Vec<Context>> {
        self.nodes_by_type(type_name, type_version, None).await
    }

    async fn get_artifact_by_type_and_name(
        &self,
        type_name: &str,
        type_version: Option<&str>,
        name: &str,
    ) -> Result<Option<Artifact>> {
        Ok(self
            .nodes_by_type(type_name, type_version, Some(name))
            .await?
            .pop())
    }

    async fn get_execution_by_type_and_name(
        &self,
        type_name: &str,
        type_version: Option<&str>,
        name: &str,
    ) -> Result<Option<Execution>> {
        Ok(self
            .nodes_by_type(type_name, type_version, Some(name))
            .await?
            .pop())
    }

    async fn get_context_by_type_and_name(
        &self,
        type_name: &str,
        type_version: Option<&str>,
        name: &str,
    ) -> Result<Option<Context>> {
        Ok(self
            .nodes_by_type(type_name, type_version, Some(name))
            .await?
            .pop())
    }

    async fn get_artifacts_by_uri(&self, uri: &str) -> Result<Vec<Artifact>> {
        let uri = uri.to_owned();
        self.read(move |c, ns| read::artifacts_by_uri(c, ns, &uri))
            .await
    }

    async fn get_artifacts_by_external_ids(
        &self,
        external_ids: &[String],
    ) -> Result<Vec<Artifact>> {
        let ids = external_ids.to_vec();
        self.read(move |c, ns| read::nodes_by_external_ids(c, ns, &ids))
            .await
    }

    async fn get_executions_by_external_ids(
        &self,
        external_ids: &[String],
    ) -> Result<Vec<Execution>> {
        let ids = external_ids.to_vec();
        self.read(move |c, ns| read::nodes_by_external_ids(c, ns, &ids))
            .await
    }

    async fn get_contexts_by_external_ids(&self, external_ids: &[String]) -> Result<Vec<Context>> {
        let ids = external_ids.to_vec();
        self.read(move |c, ns| read::nodes_by_external_ids(c, ns, &ids))
            .await
    }

    async fn get_artifacts_by_context(&self, context_id: i64) -> Result<Vec<Artifact>> {
        self.read(move |c, ns| read::nodes_via(c, ns, read::Via::ArtifactsOfContext, context_id))
            .await
    }

    async fn get_executions_by_context(&self, context_id: i64) -> Result<Vec<Execution>> {
        self.read(move |c, ns| read::nodes_via(c, ns, read::Via::ExecutionsOfContext, context_id))
            .await
    }

    async fn get_contexts_by_artifact(&self, artifact_id: i64) -> Result<Vec<Context>> {
        self.read(move |c, ns| read::nodes_via(c, ns, read::Via::ContextsOfArtifact, artifact_id))
            .await
    }

    async fn get_contexts_by_execution(&self, execution_id: i64) -> Result<Vec<Context>> {
        self.read(move |c, ns| read::nodes_via(c, ns, read::Via::ContextsOfExecution, execution_id))
            .await
    }

    async fn get_parent_contexts(&self, context_id: i64) -> Result<Vec<Context>> {
        self.read(move |c, ns| read::nodes_via(c, ns, read::Via::ParentsOfContext, context_id))
            .await
    }

    async fn get_children_contexts(&self, context_id: i64) -> Result<Vec<Context>> {
        self.read(move |c, ns| read::nodes_via(c, ns, read::Via::ChildrenOfContext, context_id))
            .await
    }

    async fn get_events_by_artifact_ids(&self, artifact_ids: &[i64]) -> Result<Vec<Event>> {
        let ids = artifact_ids.to_vec();
        self.read(move |c, ns| read::events(c, ns, NodeKind::Artifact, &ids, true))
            .await
    }

    async fn get_events_by_execution_ids(&self, execution_ids: &[i64]) -> Result<Vec<Event>> {
        let ids = execution_ids.to_vec();
        self.read(move |c, ns| read::events(c, ns, NodeKind::Execution, &ids, true))
            .await
    }

    async fn list_artifacts(&self, options: &ListOptions) -> Result<Page<Artifact>> {
        let options = options.clone();
        self.read_lists(move |c, ns, lists| read::list(c, ns, &options, lists))
            .await
    }

    async fn list_executions(&self, options: &ListOptions) -> Result<Page<Execution>> {
        let options = options.clone();
        self.read_lists(move |c, ns, lists| read::list(c, ns, &options, lists))
            .await
    }

    async fn list_contexts(&self, options: &ListOptions) -> Result<Page<Context>> {
        let options = options.clone();
        self.read_lists(move |c, ns, lists| read::list(c, ns, &options, lists))
            .await
    }

    async fn lineage_subgraph(&self, query: &LineageQuery) -> Result<LineageGraph> {
        query.validate()?;
        let query = query.clone();
        self.read(move |c, ns| read::lineage(c, ns, &query)).await
    }

    async fn delete_artifact(&self, id: i64, policy: DeletePolicy) -> Result<()> {
        self.write(move |w, ns| w.delete(ns, NodeKind::Artifact, id, policy))
            .await
    }

    async fn delete_execution(&self, id: i64, policy: DeletePolicy) -> Result<()> {
        self.write(move |w, ns| w.delete(ns, NodeKind::Execution, id, policy))
            .await
    }

    async fn delete_context(&self, id: i64, policy: DeletePolicy) -> Result<()> {
        self.write(move |w, ns| w.delete(ns, NodeKind::Context, id, policy))
            .await
    }

    async fn counts(&self) -> Result<StoreCounts> {
        self.read(read::counts).await
    }

    async fn import_batch(&self, batch: &ImportBatch) -> Result<ImportTallies> {
        crate::types::check_name("import_batch.source", &batch.source)?;
        let batch = batch.clone();
        self.write(move |w, ns| w.import_batch(ns, &batch)).await
    }
}
