//! The PostgreSQL backend: a store in a PostgreSQL database (or in one
//! schema of it), for several processes and hosts sharing one store.
//!
//! Every call takes a connection from a small pool (connections are opened
//! on demand, at most [`PostgresOptions::max_connections`], and each keeps
//! its prepared statements) and runs in ONE transaction: writes in `READ
//! COMMITTED`, retried from the start when PostgreSQL reports a
//! serialization failure or a deadlock (at most
//! [`PostgresOptions::max_attempts`] runs, then [`Error::Conflict`]);
//! reads in a `REPEATABLE READ, READ ONLY` snapshot, so a multi-query
//! answer (a node with its properties, a lineage walk) is consistent.
//!
//! ```no_run
//! use keelson_lineage::{MetadataStore, NodeType, PostgresOptions, PostgresStore, TypeOptions};
//!
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! let options = PostgresOptions {
//!     schema: Some("lineage".into()),
//!     ..PostgresOptions::default()
//! };
//! let store =
//!     PostgresStore::open_with("postgres://postgres@127.0.0.1:5432/postgres", options).await?;
//! let id = store.put_type(&NodeType::artifact("Model"), TypeOptions::default()).await?;
//! # let _ = id;
//! # Ok::<(), keelson_lineage::Error>(())
//! # }).unwrap();
//! ```

mod read;
mod schema;
mod write;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, NoTls, Row, Statement};

use crate::error::{Error, Result};
use crate::event::Event;
use crate::import::{ImportBatch, ImportTallies};
use crate::lineage::{LineageGraph, LineageQuery};
use crate::link::{Association, Attribution, ParentContext};
use crate::list_cache::ListCache;
use crate::node::{Artifact, Context, Execution};
use crate::store::{
    DeletePolicy, ListOptions, MetadataStore, Page, PutExecutionResult, StoreCounts,
    validate_namespace,
};
use crate::types::{NodeKind, NodeType, TypeOptions};

pub use schema::CURRENT_VERSION as SCHEMA_VERSION;

/// How [`PostgresStore::open_with`] opens a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    /// The database schema holding the store's tables, created when
    /// missing; `None` uses the connection's `search_path` (normally
    /// `public`). A name of ASCII letters, digits and `_`, not starting
    /// with a digit, of at most 63 bytes.
    pub schema: Option<String>,
    /// Most connections open at once (at least 1); calls beyond it wait for
    /// a free one.
    pub max_connections: usize,
    /// Most runs of one write transaction that keeps losing to concurrent
    /// ones (at least 1).
    pub max_attempts: u32,
    /// The namespace of the returned handle.
    pub namespace: String,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            schema: None,
            max_connections: 16,
            max_attempts: 8,
            namespace: String::new(),
        }
    }
}

/// Maps an engine error to [`Error::Backend`], or to [`Error::Conflict`]
/// for the failures a retry can cure.
pub(crate) fn pg(operation: &str) -> impl FnOnce(tokio_postgres::Error) -> Error + '_ {
    move |e| {
        let message = e
            .as_db_error()
            .map_or_else(|| e.to_string(), |d| d.message().to_owned());
        match e.code() {
            Some(code)
                if *code == SqlState::T_R_SERIALIZATION_FAILURE
                    || *code == SqlState::T_R_DEADLOCK_DETECTED =>
            {
                Error::Conflict {
                    operation: operation.to_owned(),
                    attempts: 1,
                    message,
                }
            }
            _ => Error::Backend {
                operation: operation.to_owned(),
                message,
            },
        }
    }
}

/// A parameter value a backend function owns.
pub(crate) type Param = Box<dyn ToSql + Sync + Send>;

/// Borrows owned parameters as tokio-postgres takes them.
pub(crate) fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

/// One connection with its prepared statements.
pub(crate) struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
    /// Recent filtered lists, valid for one snapshot (see
    /// [`crate::list_cache`]).
    lists: ListCache<String, bool>,
}

impl Conn {
    async fn statement(&mut self, sql: &str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).await?;
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    /// Runs a statement of a fixed text (prepared once per connection).
    pub(crate) async fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        let s = self.statement(sql).await?;
        self.client.query(&s, params).await
    }

    /// The first row of a statement of a fixed text, if any.
    pub(crate) async fn query_opt(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, tokio_postgres::Error> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    /// Executes a statement of a fixed text; returns the rows it changed.
    pub(crate) async fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, tokio_postgres::Error> {
        let s = self.statement(sql).await?;
        self.client.execute(&s, params).await
    }

    /// Runs a statement whose text varies (a compiled filter): not kept.
    pub(crate) async fn query_once(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        self.client.query(sql, params).await
    }
}

/// The connections of one store.
struct Pool {
    config: Config,
    /// `SET search_path` for every new connection, when a schema is set.
    search_path: Option<String>,
    idle: Mutex<Vec<Conn>>,
    permits: Semaphore,
}

/// A connection taken from the pool: back to it when dropped, unless it
/// broke or a transaction was left open (a cancelled call), when it is
/// closed instead.
struct Pooled<'a> {
    conn: Option<Conn>,
    pool: &'a Pool,
    in_transaction: bool,
    _permit: SemaphorePermit<'a>,
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && !self.in_transaction
            && !conn.client.is_closed()
            && let Ok(mut idle) = self.pool.idle.lock()
        {
            idle.push(conn);
        }
    }
}

impl Pool {
    async fn connect(&self) -> Result<Conn> {
        let (client, connection) = self.config.connect(NoTls).await.map_err(pg("connect"))?;
        // The connection task ends when the client is dropped.
        tokio::spawn(connection);
        if let Some(sql) = &self.search_path {
            client
                .batch_execute(sql)
                .await
                .map_err(pg("set search_path"))?;
        }
        Ok(Conn {
            client,
            statements: HashMap::new(),
            lists: ListCache::default(),
        })
    }

    async fn get(&self) -> Result<Pooled<'_>> {
        let permit = self.permits.acquire().await.map_err(|_| Error::Closed)?;
        let idle = self.idle.lock().map_err(|_| Error::Closed)?.pop();
        let conn = match idle {
            Some(c) if !c.client.is_closed() => c,
            _ => self.connect().await?,
        };
        Ok(Pooled {
            conn: Some(conn),
            pool: self,
            in_transaction: false,
            _permit: permit,
        })
    }
}

impl Pooled<'_> {
    /// Starts a transaction with `begin` and hands out the connection.
    async fn begin(&mut self, begin: &str) -> Result<&mut Conn> {
        let conn = self.conn.as_mut().ok_or(Error::Closed)?;
        self.in_transaction = true;
        conn.client
            .batch_execute(begin)
            .await
            .map_err(pg("begin"))?;
        Ok(conn)
    }

    /// Commits on `Ok`, rolls back on `Err`; a failed commit is the answer.
    async fn finish<T>(&mut self, outcome: Result<T>) -> Result<T> {
        let conn = self.conn.as_mut().ok_or(Error::Closed)?;
        let end = if outcome.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        let ended = conn.client.batch_execute(end).await;
        match (outcome, ended) {
            (Ok(v), Ok(())) => {
                self.in_transaction = false;
                Ok(v)
            }
            (Ok(_), Err(e)) => {
                // A failed COMMIT ends the transaction (it rolls back).
                self.in_transaction = false;
                Err(pg("commit")(e))
            }
            (Err(e), Ok(())) => {
                self.in_transaction = false;
                Err(e)
            }
            // The connection is in an unknown state: dropped, not pooled.
            (Err(e), Err(_)) => Err(e),
        }
    }
}

struct Inner {
    pool: Pool,
    options: PostgresOptions,
}

/// A [`MetadataStore`] on PostgreSQL. Cloning gives another handle on the
/// same store (same namespace and pool); [`MetadataStore::namespace`] one
/// for another namespace.
///
/// Needs a tokio runtime with I/O and timers enabled (connections run as
/// tasks on it).
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
    namespace: Arc<str>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("schema", &self.inner.options.schema)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

/// Checks a schema name, which is spliced (quoted) into `SET search_path`.
fn validate_schema(schema: &str) -> Result<()> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !schema.as_bytes().first().is_some_and(u8::is_ascii_digit);
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "postgres_options.schema",
            format!(
                "{schema:?} is not a name of at most 63 ASCII letters, digits and '_' \
                 not starting with a digit"
            ),
        ))
    }
}

/// Waits a little before running a transaction again, longer each time.
async fn back_off(attempt: u32) {
    let ms = 1_u64 << attempt.min(7);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// Runs `$body` (an expression over `$c: &mut Conn` and `$ns: &str`) in
/// one write transaction, run again from the start on a conflict.
macro_rules! write_tx {
    ($store:expr, $operation:literal, |$c:ident, $ns:ident| $body:expr) => {{
        let store: &PostgresStore = $store;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let mut pooled = store.inner.pool.get().await?;
            let outcome = match pooled.begin("BEGIN").await {
                Ok($c) => {
                    let $ns: &str = &store.namespace;
                    $body.await
                }
                Err(e) => Err(e),
            };
            match pooled.finish(outcome).await {
                Err(Error::Conflict { .. })
                    if attempt < store.inner.options.max_attempts.max(1) =>
                {
                    drop(pooled);
                    back_off(attempt).await;
                }
                Err(Error::Conflict { message, .. }) => {
                    break Err(Error::Conflict {
                        operation: $operation.to_owned(),
                        attempts: attempt,
                        message,
                    });
                }
                other => break other,
            }
        }
    }};
}

/// Runs `$body` in one read-only snapshot transaction.
macro_rules! read_tx {
    ($store:expr, |$c:ident, $ns:ident| $body:expr) => {{
        let store: &PostgresStore = $store;
        let mut pooled = store.inner.pool.get().await?;
        let outcome = match pooled
            .begin("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
        {
            Ok($c) => {
                let $ns: &str = &store.namespace;
                $body.await
            }
            Err(e) => Err(e),
        };
        pooled.finish(outcome).await
    }};
}

impl PostgresStore {
    /// Opens (creating or migrating) the store at `url` (a libpq-style
    /// connection string, `postgres://user@host:port/db` or
    /// `host=… user=…`) with default options.
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_with(url, PostgresOptions::default()).await
    }

    /// Opens (creating or migrating) the store at `url`. Connections use no
    /// TLS.
    pub async fn open_with(url: &str, options: PostgresOptions) -> Result<Self> {
        validate_namespace(&options.namespace)?;
        if let Some(schema) = &options.schema {
            validate_schema(schema)?;
        }
        let config: Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| Error::invalid("postgres url", e.to_string()))?;
        let search_path = options
            .schema
            .as_ref()
            .map(|s| format!("SET search_path TO \"{s}\""));
        let pool = Pool {
            config,
            search_path,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(options.max_connections.max(1)),
        };
        let label = match &options.schema {
            Some(s) => format!("postgresql schema {s:?}"),
            None => "postgresql".to_owned(),
        };
        {
            let mut pooled = pool.get().await?;
            let conn = pooled.conn.as_mut().ok_or(Error::Closed)?;
            if let Some(schema) = &options.schema {
                conn.client
                    .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                    .await
                    .map_err(pg("create schema"))?;
            }
            schema::prepare(&mut conn.client, &label).await?;
        }
        let namespace: Arc<str> = options.namespace.as_str().into();
        Ok(Self {
            inner: Arc::new(Inner { pool, options }),
            namespace,
        })
    }

    /// The nodes of one type, or its one node of that name.
    async fn nodes_by_type<N: read::PgNode>(
        &self,
        type_name: &str,
        type_version: Option<&str>,
        name: Option<&str>,
    ) -> Result<Vec<N>> {
        read_tx!(self, |c, ns| read::nodes_by_type(
            c,
            ns,
            type_name,
            type_version,
            name
        ))
    }

    async fn nodes_via<N: read::PgNode>(&self, via: read::Via, id: i64) -> Result<Vec<N>> {
        read_tx!(self, |c, ns| read::nodes_via(c, ns, via, id))
    }
}

#[async_trait]
impl MetadataStore for PostgresStore {
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
        write_tx!(self, "put_type", |c, ns| write::put_type(
            c, ns, node_type, options
        ))
    }

    async fn get_type(
        &self,
        kind: NodeKind,
        name: &str,
        version: Option<&str>,
    ) -> Result<Option<NodeType>> {
        read_tx!(self, |c, ns| read::type_by_name(c, ns, kind, name, version))
    }

    async fn get_types_by_id(&self, ids: &[i64]) -> Result<Vec<NodeType>> {
        read_tx!(self, |c, ns| read::types_by_id(c, ns, ids))
    }

    async fn get_types(&self, kind: NodeKind) -> Result<Vec<NodeType>> {
        read_tx!(self, |c, ns| read::types_of_kind(c, ns, kind))
    }

    async fn put_artifacts(&self, artifacts: &[Artifact]) -> Result<Vec<i64>> {
        write_tx!(self, "put_artifacts", |c, ns| write::put_nodes(
            c, ns, artifacts
        ))
    }

    async fn put_executions(&self, executions: &[Execution]) -> Result<Vec<i64>> {
        write_tx!(self, "put_executions", |c, ns| write::put_nodes(
            c, ns, executions
        ))
    }

    async fn put_contexts(&self, contexts: &[Context]) -> Result<Vec<i64>> {
        write_tx!(self, "put_contexts", |c, ns| write::put_nodes(
            c, ns, contexts
        ))
    }

    async fn put_events(&self, events: &[Event]) -> Result<()> {
        for e in events {
            e.validate()?;
        }
        write_tx!(self, "put_events", |c, ns| write::put_events(c, ns, events))
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
        write_tx!(self, "put_execution", |c, ns| write::put_execution(
            c,
            ns,
            execution,
            artifacts_and_events,
            contexts
        ))
    }

    async fn put_attributions_and_associations(
        &self,
        attributions: &[Attribution],
        associations: &[Association],
    ) -> Result<()> {
        write_tx!(self, "put_attributions_and_associations", |c, ns| {
            write::put_links(c, ns, attributions, associations)
        })
    }

    async fn put_parent_contexts(&self, links: &[ParentContext]) -> Result<()> {
        write_tx!(self, "put_parent_contexts", |c, ns| {
            write::put_parent_contexts(c, ns, links)
        })
    }

    async fn get_artifacts_by_id(&self, ids: &[i64]) -> Result<Vec<Artifact>> {
        read_tx!(self, |c, ns| read::nodes(c, ns, ids))
    }

    async fn get_executions_by_id(&self, ids: &[i64]) -> Result<Vec<Execution>> {
        read_tx!(self, |c, ns| read::nodes(c, ns, ids))
    }

    async fn get_contexts_by_id(&self, ids: &[i64]) -> Result<Vec<Context>> {
        read_tx!(self, |c, ns| read::nodes(c, ns, ids))
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
        read_tx!(self, |c, ns| read::artifacts_by_uri(c, ns, uri))
    }

    async fn get_artifacts_by_external_ids(
        &self,
        external_ids: &[String],
    ) -> Result<Vec<Artifact>> {
        read_tx!(self, |c, ns| read::nodes_by_external_ids(
            c,
            ns,
            external_ids
        ))
    }

    async fn get_executions_by_external_ids(
        &self,
        external_ids: &[String],
    ) -> Result<Vec<Execution>> {
        read_tx!(self, |c, ns| read::nodes_by_external_ids(
            c,
            ns,
            external_ids
        ))
    }

    async fn get_contexts_by_external_ids(&self, external_ids: &[String]) -> Result<Vec<Context>> {
        read_tx!(self, |c, ns| read::nodes_by_external_ids(
            c,
            ns,
            external_ids
        ))
    }

    async fn get_artifacts_by_context(&self, context_id: i64) -> Result<Vec<Artifact>> {
        self.nodes_via(read::Via::ArtifactsOfContext, context_id)
            .await
    }

    async fn get_executions_by_context(&self, context_id: i64) -> Result<Vec<Execution>> {
        self.nodes_via(read::Via::ExecutionsOfContext, context_id)
            .await
    }

    async fn get_contexts_by_artifact(&self, artifact_id: i64) -> Result<Vec<Context>> {
        self.nodes_via(read::Via::ContextsOfArtifact, artifact_id)
            .await
    }

    async fn get_contexts_by_execution(&self, execution_id: i64) -> Result<Vec<Context>> {
        self.nodes_via(read::Via::ContextsOfExecution, execution_id)
            .await
    }

    async fn get_parent_contexts(&self, context_id: i64) -> Result<Vec<Context>> {
        self.nodes_via(read::Via::ParentsOfContext, context_id)
            .await
    }

    async fn get_children_contexts(&self, context_id: i64) -> Result<Vec<Context>> {
        self.nodes_via(read::Via::ChildrenOfContext, context_id)
            .await
    }

    async fn get_events_by_artifact_ids(&self, artifact_ids: &[i64]) -> Result<Vec<Event>> {
        read_tx!(self, |c, ns| read::events(
            c,
            ns,
            NodeKind::Artifact,
            artifact_ids,
            true
        ))
    }

    async fn get_events_by_execution_ids(&self, execution_ids: &[i64]) -> Result<Vec<Event>> {
        read_tx!(self, |c, ns| read::events(
            c,
            ns,
            NodeKind::Execution,
            execution_ids,
            true
        ))
    }

    async fn list_artifacts(&self, options: &ListOptions) -> Result<Page<Artifact>> {
        read_tx!(self, |c, ns| read::list(c, ns, options))
    }

    async fn list_executions(&self, options: &ListOptions) -> Result<Page<Execution>> {
        read_tx!(self, |c, ns| read::list(c, ns, options))
    }

    async fn list_contexts(&self, options: &ListOptions) -> Result<Page<Context>> {
        read_tx!(self, |c, ns| read::list(c, ns, options))
    }

    async fn lineage_subgraph(&self, query: &LineageQuery) -> Result<LineageGraph> {
        query.validate()?;
        read_tx!(self, |c, ns| read::lineage(c, ns, query))
    }

    async fn delete_artifact(&self, id: i64, policy: DeletePolicy) -> Result<()> {
        write_tx!(self, "delete_artifact", |c, ns| write::delete(
            c,
            ns,
            NodeKind::Artifact,
            id,
            policy
        ))
    }

    async fn delete_execution(&self, id: i64, policy: DeletePolicy) -> Result<()> {
        write_tx!(self, "delete_execution", |c, ns| write::delete(
            c,
            ns,
            NodeKind::Execution,
            id,
            policy
        ))
    }

    async fn delete_context(&self, id: i64, policy: DeletePolicy) -> Result<()> {
        write_tx!(self, "delete_context", |c, ns| write::delete(
            c,
            ns,
            NodeKind::Context,
            id,
            policy
        ))
    }

    async fn counts(&self) -> Result<StoreCounts> {
        read_tx!(self, |c, ns| read::counts(c, ns))
    }

    async fn import_batch(&self, batch: &ImportBatch) -> Result<ImportTallies> {
        crate::types::check_name("import_batch.source", &batch.source)?;
        write_tx!(self, "import_batch", |c, ns| write::import::import_batch(
            c, ns, batch
        ))
    }
}
