//! The writer thread: every write of the SQLite backend runs here.
//!
//! Group commit: the thread takes every write waiting in its queue (up to
//! [`MAX_BATCH`]) and runs them in one `BEGIN IMMEDIATE` transaction, each
//! inside its own savepoint, so a failing write rolls back alone; callers
//! hear back only after the commit, so an acknowledged write is exactly as
//! durable as with a commit per call. One sequential caller gets a commit
//! per call; concurrent callers share commits (and fsyncs).

use std::collections::{BTreeMap, HashMap};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, mpsc};

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};
use crate::event::{Event, PathStep};
use crate::link::{Association, Attribution, ParentContext};
use crate::node::{Artifact, Context, Execution};
use crate::record::{NodeRecord, now_ms};
use crate::store::{DeletePolicy, PutExecutionResult};
use crate::types::{NodeKind, NodeType, TypeOptions, evolve_type};
use crate::value::{Properties, PropertyType};

use super::backend;
use super::read::{self, StoredNode};

mod import;

/// A stored type as the writer checks nodes against it.
struct CachedType {
    namespace: String,
    kind: NodeKind,
    properties: BTreeMap<String, PropertyType>,
}

/// How many nodes of each kind [`RecentNodes`] keeps before starting over.
const RECENT_NODES: usize = 4096;

/// Nodes this writer wrote or checked lately, keyed by id with their
/// namespace: a node passed back unchanged (the inputs of a pipeline step)
/// is then recognised without reading it back, which was a quarter of the
/// work of an ingest.
#[derive(Default)]
pub(crate) struct RecentNodes {
    artifacts: HashMap<i64, (String, Artifact)>,
    executions: HashMap<i64, (String, Execution)>,
    contexts: HashMap<i64, (String, Context)>,
}

/// What the writer remembers between writes. It holds only while no other
/// connection commits (the writer compares `data_version` before every
/// batch) and no write of this writer rolls back; either empties it.
#[derive(Default)]
pub(crate) struct Caches {
    types: HashMap<i64, Arc<CachedType>>,
    nodes: RecentNodes,
}

impl RecentNodes {
    fn forget(&mut self, kind: NodeKind, id: i64) {
        match kind {
            NodeKind::Artifact => self.artifacts.remove(&id).map(|_| ()),
            NodeKind::Execution => self.executions.remove(&id).map(|_| ()),
            NodeKind::Context => self.contexts.remove(&id).map(|_| ()),
        };
    }
}

impl Caches {
    fn clear(&mut self) {
        *self = Caches::default();
    }
}

/// The writer's connection and what it caches.
pub(crate) struct Writer {
    conn: Connection,
    caches: Caches,
    /// SQLite's `data_version` when the cache was last known fresh: it
    /// changes when another connection (another process) commits.
    data_version: i64,
    /// Whether the current batch holds several writes, each needing its
    /// own savepoint.
    isolate: bool,
}

/// Most writes sharing one commit.
pub(crate) const MAX_BATCH: usize = 256;

/// What the caller of one write hears once its batch's commit is known:
/// `None` when the commit succeeded, else the engine's message.
pub(crate) type Reply = Box<dyn FnOnce(Option<&str>) + Send>;

/// One queued write.
pub(crate) trait Job: Send {
    /// Runs the write inside the batch's transaction.
    fn run(self: Box<Self>, writer: &mut Writer) -> Reply;
    /// Answers without running (the batch's transaction could not start).
    fn fail(self: Box<Self>, error: Error);
}

/// Runs jobs until every sender is gone. A panicking job loses its own
/// reply (its caller sees [`Error::Closed`]) but not the thread.
pub(crate) fn serve(mut writer: Writer, jobs: &mpsc::Receiver<Box<dyn Job>>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        writer.isolate = batch.len() > 1;
        if let Err(e) = writer.begin() {
            let message = e.to_string();
            for job in batch {
                job.fail(Error::Backend {
                    operation: "begin".to_owned(),
                    message: message.clone(),
                });
            }
            continue;
        }
        let mut replies = Vec::with_capacity(batch.len());
        for job in batch {
            match std::panic::catch_unwind(AssertUnwindSafe(|| job.run(&mut writer))) {
                Ok(reply) => replies.push(reply),
                // A savepoint unwinds itself; a lone write's half-done work
                // goes with the whole transaction.
                Err(_) if !writer.isolate => {
                    writer.caches.clear();
                    let _ = writer.conn.execute_batch("ROLLBACK; BEGIN IMMEDIATE");
                }
                Err(_) => writer.caches.clear(),
            }
        }
        let outcome = writer.commit();
        for reply in replies {
            reply(outcome.as_ref().err().map(String::as_str));
        }
    }
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

/// Maps a unique-constraint failure to [`Error::AlreadyExists`] naming `what`.
fn unique(what: impl FnOnce() -> String, operation: &str) -> impl FnOnce(rusqlite::Error) -> Error {
    move |e| {
        if is_unique_violation(&e) {
            Error::AlreadyExists { what: what() }
        } else {
            backend(operation)(e)
        }
    }
}

impl Writer {
    pub(crate) fn new(conn: Connection) -> Result<Self> {
        let mut w = Self {
            conn,
            caches: Caches::default(),
            data_version: 0,
            isolate: false,
        };
        w.data_version = w.current_data_version()?;
        Ok(w)
    }

    fn current_data_version(&self) -> Result<i64> {
        self.conn
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(backend("read data_version"))
    }

    /// Starts a batch's transaction, first dropping the type cache if
    /// another connection committed since the last batch.
    fn begin(&mut self) -> Result<()> {
        let dv = self.current_data_version()?;
        if dv != self.data_version {
            self.caches.clear();
            self.data_version = dv;
        }
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(backend("begin"))
    }

    /// Commits the batch; on failure rolls it back and returns the message.
    fn commit(&mut self) -> Result<(), String> {
        match self.conn.execute_batch("COMMIT") {
            Ok(()) => Ok(()),
            Err(e) => {
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
                self.caches.clear();
                Err(e.to_string())
            }
        }
    }

    /// Runs one write in the batch's transaction: kept on `Ok`, rolled back
    /// on `Err`. Writes of a batch of several each get a savepoint; a batch
    /// of one (every call of a sequential caller) needs none, which spares
    /// the sub-journal copy of every page it changes.
    fn transaction<T>(
        &mut self,
        f: impl FnOnce(&Connection, &mut Caches) -> Result<T>,
    ) -> Result<T> {
        if !self.isolate {
            return match f(&self.conn, &mut self.caches) {
                Ok(v) => Ok(v),
                Err(e) => {
                    self.caches.clear();
                    self.conn
                        .execute_batch("ROLLBACK; BEGIN IMMEDIATE")
                        .map_err(backend("roll back"))?;
                    Err(e)
                }
            };
        }
        let sp = self.conn.savepoint().map_err(backend("savepoint"))?;
        match f(&sp, &mut self.caches) {
            Ok(v) => {
                sp.commit().map_err(backend("release savepoint"))?;
                Ok(v)
            }
            Err(e) => {
                // A failed write may have cached a type it then rolled back.
                self.caches.clear();
                drop(sp);
                Err(e)
            }
        }
    }

    /// Runs a read on the writer's connection (in-memory stores), inside
    /// the batch's transaction.
    pub(crate) fn read<T>(&mut self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        f(&self.conn)
    }

    pub(crate) fn put_type(&mut self, ns: &str, t: &NodeType, options: TypeOptions) -> Result<i64> {
        self.transaction(|tx, cache| {
            let stored = read::type_by_name(tx, ns, t.kind, &t.name, t.version.as_deref())?;
            if let Some(stored) = stored {
                let id = stored.id.unwrap_or_default();
                let added = evolve_type(&stored, t, options)?;
                insert_type_properties(tx, id, added.iter().map(|(n, ty)| (n, ty)))?;
                cache.types.remove(&id);
                return Ok(id);
            }
            insert_type(tx, ns, t)
        })
    }

    pub(crate) fn put_nodes<N: WritableNode>(&mut self, ns: &str, nodes: &[N]) -> Result<Vec<i64>> {
        let now = now_ms();
        self.transaction(|tx, cache| {
            nodes
                .iter()
                .map(|n| upsert(tx, cache, ns, now, n))
                .collect()
        })
    }

    pub(crate) fn put_events(&mut self, ns: &str, events: &[Event]) -> Result<()> {
        let now = now_ms();
        self.transaction(|tx, _| {
            for e in events {
                require(tx, ns, NodeKind::Artifact, e.artifact_id)?;
                require(tx, ns, NodeKind::Execution, e.execution_id)?;
                insert_event(tx, e, Some(now))?;
            }
            Ok(())
        })
    }

    pub(crate) fn put_execution(
        &mut self,
        ns: &str,
        execution: &Execution,
        pairs: &[(Artifact, Option<Event>)],
        contexts: &[Context],
    ) -> Result<PutExecutionResult> {
        let now = now_ms();
        self.transaction(|tx, cache| {
            let execution_id = upsert(tx, cache, ns, now, execution)?;
            let mut artifact_ids = Vec::with_capacity(pairs.len());
            for (artifact, event) in pairs {
                let artifact_id = upsert(tx, cache, ns, now, artifact)?;
                if let Some(event) = event {
                    let event = Event {
                        artifact_id,
                        execution_id,
                        ..event.clone()
                    };
                    insert_event(tx, &event, Some(now))?;
                }
                artifact_ids.push(artifact_id);
            }
            let mut context_ids = Vec::with_capacity(contexts.len());
            for context in contexts {
                let context_id = upsert(tx, cache, ns, now, context)?;
                for &artifact_id in &artifact_ids {
                    link(tx, LinkKind::Attribution, context_id, artifact_id)?;
                }
                link(tx, LinkKind::Association, context_id, execution_id)?;
                context_ids.push(context_id);
            }
            Ok(PutExecutionResult {
                execution_id,
                artifact_ids,
                context_ids,
            })
        })
    }

    pub(crate) fn put_links(
        &mut self,
        ns: &str,
        attributions: &[Attribution],
        associations: &[Association],
    ) -> Result<()> {
        self.transaction(|tx, _| {
            for a in attributions {
                require(tx, ns, NodeKind::Context, a.context_id)?;
                require(tx, ns, NodeKind::Artifact, a.artifact_id)?;
                link(tx, LinkKind::Attribution, a.context_id, a.artifact_id)?;
            }
            for a in associations {
                require(tx, ns, NodeKind::Context, a.context_id)?;
                require(tx, ns, NodeKind::Execution, a.execution_id)?;
                link(tx, LinkKind::Association, a.context_id, a.execution_id)?;
            }
            Ok(())
        })
    }

    pub(crate) fn put_parent_contexts(&mut self, ns: &str, links: &[ParentContext]) -> Result<()> {
        self.transaction(|tx, _| {
            for l in links {
                require(tx, ns, NodeKind::Context, l.child_id)?;
                require(tx, ns, NodeKind::Context, l.parent_id)?;
                link_parent(tx, l)?;
            }
            Ok(())
        })
    }

    pub(crate) fn delete(
        &mut self,
        ns: &str,
        kind: NodeKind,
        id: i64,
        policy: DeletePolicy,
    ) -> Result<()> {
        self.transaction(|tx, cache| {
            require(tx, ns, kind, id)?;
            cache.nodes.forget(kind, id);
            // (label, count query, delete statement) per kind of link.
            let links: &[(&str, &str, &str)] = match kind {
                NodeKind::Artifact => &[
                    (
                        "events",
                        "SELECT count(*) FROM event WHERE artifact_id = ?1",
                        "DELETE FROM event_path WHERE event_id IN (SELECT id FROM event WHERE artifact_id = ?1); \
                         DELETE FROM event WHERE artifact_id = ?1",
                    ),
                    (
                        "attributions",
                        "SELECT count(*) FROM attribution WHERE artifact_id = ?1",
                        "DELETE FROM attribution WHERE artifact_id = ?1",
                    ),
                ],
                NodeKind::Execution => &[
                    (
                        "events",
                        "SELECT count(*) FROM event WHERE execution_id = ?1",
                        "DELETE FROM event_path WHERE event_id IN (SELECT id FROM event WHERE execution_id = ?1); \
                         DELETE FROM event WHERE execution_id = ?1",
                    ),
                    (
                        "associations",
                        "SELECT count(*) FROM association WHERE execution_id = ?1",
                        "DELETE FROM association WHERE execution_id = ?1",
                    ),
                ],
                NodeKind::Context => &[
                    (
                        "attributions",
                        "SELECT count(*) FROM attribution WHERE context_id = ?1",
                        "DELETE FROM attribution WHERE context_id = ?1",
                    ),
                    (
                        "associations",
                        "SELECT count(*) FROM association WHERE context_id = ?1",
                        "DELETE FROM association WHERE context_id = ?1",
                    ),
                    (
                        "child contexts",
                        "SELECT count(*) FROM parent_context WHERE parent_context_id = ?1",
                        "DELETE FROM parent_context WHERE parent_context_id = ?1",
                    ),
                ],
            };
            if policy == DeletePolicy::Refuse {
                let mut refs = Vec::new();
                for (label, count_sql, _) in links {
                    let n: i64 = tx
                        .prepare_cached(count_sql)
                        .and_then(|mut s| s.query_row([id], |r| r.get(0)))
                        .map_err(backend("count references"))?;
                    if n > 0 {
                        refs.push(format!("{n} {label}"));
                    }
                }
                if !refs.is_empty() {
                    return Err(Error::Referenced {
                        what: format!("{kind} {id}"),
                        references: refs.join(", "),
                    });
                }
            } else {
                for (_, _, delete_sql) in links {
                    for sql in delete_sql.split("; ") {
                        tx.prepare_cached(sql)
                            .and_then(|mut s| s.execute([id]))
                            .map_err(backend("delete links"))?;
                    }
                }
            }
            let (table, prop_table, id_col) = match kind {
                NodeKind::Artifact => ("artifact", "artifact_property", "artifact_id"),
                NodeKind::Execution => ("execution", "execution_property", "execution_id"),
                NodeKind::Context => ("context", "context_property", "context_id"),
            };
            if kind == NodeKind::Context {
                tx.prepare_cached("DELETE FROM parent_context WHERE context_id = ?1")
                    .and_then(|mut s| s.execute([id]))
                    .map_err(backend("delete parent links"))?;
            }
            tx.prepare_cached(&format!("DELETE FROM {prop_table} WHERE {id_col} = ?1"))
                .and_then(|mut s| s.execute([id]))
                .map_err(backend("delete properties"))?;
            tx.prepare_cached(&format!("DELETE FROM {table} WHERE id = ?1"))
                .and_then(|mut s| s.execute([id]))
                .map_err(backend("delete node"))?;
            Ok(())
        })
    }
}

fn insert_type(tx: &Connection, ns: &str, t: &NodeType) -> Result<i64> {
    tx.prepare_cached(
        "INSERT INTO type(namespace, kind, name, version, description, external_id, \
         base_type) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut s| {
        s.execute(params![
            ns,
            t.kind.code(),
            t.name,
            t.version,
            t.description,
            t.external_id,
            t.base_type
        ])
    })
    .map_err(unique(|| t.label(), "insert type"))?;
    let id = tx.last_insert_rowid();
    insert_type_properties(tx, id, t.properties.iter())?;
    Ok(id)
}

/// Links a child context to a parent (both known to exist in the
/// namespace), refusing a link that would close a cycle; returns whether
/// the link is new.
fn link_parent(tx: &Connection, l: &ParentContext) -> Result<bool> {
    // The parent, or one of its ancestors, must not be the child.
    let cycle: Option<i64> = tx
        .prepare_cached(
            "WITH RECURSIVE up(id) AS (SELECT ?1 UNION \
             SELECT p.parent_context_id FROM parent_context p JOIN up ON p.context_id = up.id) \
             SELECT id FROM up WHERE id = ?2",
        )
        .and_then(|mut s| {
            s.query_row([l.parent_id, l.child_id], |r| r.get(0))
                .optional()
        })
        .map_err(backend("check parent cycle"))?;
    if cycle.is_some() {
        return Err(Error::invalid(
            "parent_context",
            format!(
                "making context {} a parent of context {} would close a cycle",
                l.parent_id, l.child_id
            ),
        ));
    }
    let added = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO parent_context(context_id, parent_context_id) VALUES (?1, ?2)",
        )
        .and_then(|mut s| s.execute([l.child_id, l.parent_id]))
        .map_err(backend("insert parent context"))?;
    Ok(added > 0)
}

fn insert_type_properties<'a>(
    tx: &Connection,
    type_id: i64,
    props: impl Iterator<Item = (&'a String, &'a PropertyType)>,
) -> Result<()> {
    let mut stmt = tx
        .prepare_cached("INSERT INTO type_property(type_id, name, data_type) VALUES (?1, ?2, ?3)")
        .map_err(backend("prepare"))?;
    for (name, ty) in props {
        stmt.execute(params![type_id, name, ty.code()])
            .map_err(backend("insert type property"))?;
    }
    Ok(())
}

/// The stored type `type_id`, which must be of `kind` in `ns`.
fn type_of(
    tx: &Connection,
    cache: &mut HashMap<i64, Arc<CachedType>>,
    ns: &str,
    kind: NodeKind,
    type_id: i64,
) -> Result<Arc<CachedType>> {
    let cached = match cache.get(&type_id) {
        Some(t) => t.clone(),
        None => {
            let row: Option<(String, i64)> = tx
                .prepare_cached("SELECT namespace, kind FROM type WHERE id = ?1")
                .and_then(|mut s| {
                    s.query_row([type_id], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()
                })
                .map_err(backend("read type"))?;
            let Some((namespace, code)) = row else {
                return Err(Error::not_found(format!("{kind} type {type_id}")));
            };
            let Some(stored_kind) = NodeKind::from_code(code) else {
                return Err(Error::Corrupt {
                    what: format!("type {type_id} kind {code}"),
                });
            };
            let t = Arc::new(CachedType {
                namespace,
                kind: stored_kind,
                properties: read::type_properties(tx, type_id)?,
            });
            cache.insert(type_id, t.clone());
            t
        }
    };
    if cached.namespace != ns || cached.kind != kind {
        return Err(Error::not_found(format!("{kind} type {type_id}")));
    }
    Ok(cached)
}

/// Fails with [`Error::NotFound`] unless node `id` of `kind` is in `ns`.
fn require(tx: &Connection, ns: &str, kind: NodeKind, id: i64) -> Result<()> {
    let sql = match kind {
        NodeKind::Artifact => "SELECT 1 FROM artifact WHERE id = ?1 AND namespace = ?2",
        NodeKind::Execution => "SELECT 1 FROM execution WHERE id = ?1 AND namespace = ?2",
        NodeKind::Context => "SELECT 1 FROM context WHERE id = ?1 AND namespace = ?2",
    };
    let found: Option<i64> = tx
        .prepare_cached(sql)
        .and_then(|mut s| s.query_row(params![id, ns], |r| r.get(0)).optional())
        .map_err(backend("find node"))?;
    match found {
        Some(_) => Ok(()),
        None => Err(Error::not_found(format!("{kind} {id}"))),
    }
}

#[derive(Clone, Copy)]
enum LinkKind {
    Attribution,
    Association,
}

/// Links a node to a context; returns whether the link is new.
fn link(tx: &Connection, kind: LinkKind, context_id: i64, node_id: i64) -> Result<bool> {
    let sql = match kind {
        LinkKind::Attribution => {
            "INSERT OR IGNORE INTO attribution(context_id, artifact_id) VALUES (?1, ?2)"
        }
        LinkKind::Association => {
            "INSERT OR IGNORE INTO association(context_id, execution_id) VALUES (?1, ?2)"
        }
    };
    let added = tx
        .prepare_cached(sql)
        .and_then(|mut s| s.execute([context_id, node_id]))
        .map_err(backend("insert link"))?;
    Ok(added > 0)
}

/// Inserts an event with its path; a missing time becomes `now` (`None`
/// keeps it missing). Returns the event's id.
fn insert_event(tx: &Connection, e: &Event, now: Option<i64>) -> Result<i64> {
    tx.prepare_cached(
        "INSERT INTO event(artifact_id, execution_id, type, milliseconds_since_epoch) \
         VALUES (?1, ?2, ?3, ?4)",
    )
    .and_then(|mut s| {
        s.execute(params![
            e.artifact_id,
            e.execution_id,
            e.event_type.code(),
            e.milliseconds_since_epoch.or(now)
        ])
    })
    .map_err(backend("insert event"))?;
    let event_id = tx.last_insert_rowid();
    if e.path.is_empty() {
        return Ok(event_id);
    }
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO event_path(event_id, step_index, is_index_step, step_index_value, step_key) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(backend("prepare"))?;
    for (i, step) in e.path.iter().enumerate() {
        let (is_index, index, key) = match step {
            PathStep::Index(n) => (true, Some(*n), None),
            PathStep::Key(k) => (false, None, Some(k.as_str())),
        };
        stmt.execute(params![event_id, i as i64, is_index, index, key])
            .map_err(backend("insert event path"))?;
    }
    Ok(event_id)
}

/// A node the writer can insert or update.
pub(crate) trait WritableNode: StoredNode + Clone {
    /// Inserts the row (properties aside) and returns the new id.
    fn insert(&self, tx: &Connection, ns: &str, now: i64) -> Result<i64>;
    /// Updates the row `id` (known to exist in `ns` with the same type).
    fn update(&self, tx: &Connection, ns: &str, id: i64, now: i64) -> Result<()>;
    /// The writer's recent nodes of this kind.
    fn recent(nodes: &mut RecentNodes) -> &mut HashMap<i64, (String, Self)>;
}

fn map_write(label: String, operation: &'static str) -> impl FnOnce(rusqlite::Error) -> Error {
    unique(move || label, operation)
}

impl WritableNode for Artifact {
    fn recent(nodes: &mut RecentNodes) -> &mut HashMap<i64, (String, Self)> {
        &mut nodes.artifacts
    }

    fn insert(&self, tx: &Connection, ns: &str, now: i64) -> Result<i64> {
        tx.prepare_cached(
            "INSERT INTO artifact(namespace, type_id, name, uri, state, external_id, \
             create_time_since_epoch, last_update_time_since_epoch) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        )
        .and_then(|mut s| {
            s.execute(params![
                ns,
                self.type_id,
                self.name,
                self.uri,
                self.state.code(),
                self.external_id,
                now
            ])
        })
        .map_err(map_write(NodeRecord::label(self), "insert artifact"))?;
        Ok(tx.last_insert_rowid())
    }

    fn update(&self, tx: &Connection, ns: &str, id: i64, now: i64) -> Result<()> {
        tx
            .prepare_cached(
                "UPDATE artifact SET name = ?3, uri = ?4, state = ?5, external_id = ?6, \
                 last_update_time_since_epoch = ?7 WHERE id = ?8 AND namespace = ?1 AND type_id = ?2",
            )
            .and_then(|mut s| {
                s.execute(params![
                    ns,
                    self.type_id,
                    self.name,
                    self.uri,
                    self.state.code(),
                    self.external_id,
                    now,
                    id
                ])
            })
            .map_err(map_write(NodeRecord::label(self), "update artifact"))?;
        Ok(())
    }
}

impl WritableNode for Execution {
    fn recent(nodes: &mut RecentNodes) -> &mut HashMap<i64, (String, Self)> {
        &mut nodes.executions
    }

    fn insert(&self, tx: &Connection, ns: &str, now: i64) -> Result<i64> {
        tx.prepare_cached(
            "INSERT INTO execution(namespace, type_id, name, last_known_state, external_id, \
             create_time_since_epoch, last_update_time_since_epoch) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        )
        .and_then(|mut s| {
            s.execute(params![
                ns,
                self.type_id,
                self.name,
                self.last_known_state.code(),
                self.external_id,
                now
            ])
        })
        .map_err(map_write(NodeRecord::label(self), "insert execution"))?;
        Ok(tx.last_insert_rowid())
    }

    fn update(&self, tx: &Connection, ns: &str, id: i64, now: i64) -> Result<()> {
        tx
            .prepare_cached(
                "UPDATE execution SET name = ?3, last_known_state = ?4, external_id = ?5, \
                 last_update_time_since_epoch = ?6 WHERE id = ?7 AND namespace = ?1 AND type_id = ?2",
            )
            .and_then(|mut s| {
                s.execute(params![
                    ns,
                    self.type_id,
                    self.name,
                    self.last_known_state.code(),
                    self.external_id,
                    now,
                    id
                ])
            })
            .map_err(map_write(NodeRecord::label(self), "update execution"))?;
        Ok(())
    }
}

impl WritableNode for Context {
    fn recent(nodes: &mut RecentNodes) -> &mut HashMap<i64, (String, Self)> {
        &mut nodes.contexts
    }

    fn insert(&self, tx: &Connection, ns: &str, now: i64) -> Result<i64> {
        tx.prepare_cached(
            "INSERT INTO context(namespace, type_id, name, external_id, \
             create_time_since_epoch, last_update_time_since_epoch) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        )
        .and_then(|mut s| s.execute(params![ns, self.type_id, self.name, self.external_id, now]))
        .map_err(map_write(NodeRecord::label(self), "insert context"))?;
        Ok(tx.last_insert_rowid())
    }

    fn update(&self, tx: &Connection, ns: &str, id: i64, now: i64) -> Result<()> {
        tx.prepare_cached(
            "UPDATE context SET name = ?3, external_id = ?4, last_update_time_since_epoch = ?5 \
                 WHERE id = ?6 AND namespace = ?1 AND type_id = ?2",
        )
        .and_then(|mut s| {
            s.execute(params![
                ns,
                self.type_id,
                self.name,
                self.external_id,
                now,
                id
            ])
        })
        .map_err(map_write(NodeRecord::label(self), "update context"))?;
        Ok(())
    }
}

/// Inserts (id `None`) or updates one node with its properties; returns its id.
fn upsert<N: WritableNode>(
    tx: &Connection,
    cache: &mut Caches,
    ns: &str,
    now: i64,
    node: &N,
) -> Result<i64> {
    let ty = type_of(tx, &mut cache.types, ns, N::KIND, node.type_id())?;
    node.validate(&ty.properties)?;
    let recent = N::recent(&mut cache.nodes);
    let id = match node.id() {
        None => node.insert(tx, ns, now)?,
        Some(id) => {
            if recent
                .get(&id)
                .is_some_and(|(n, known)| n == ns && node.same_content(known))
            {
                return Ok(id);
            }
            let Some(stored) = read::nodes::<N>(tx, ns, &[id])?.pop() else {
                return Err(Error::not_found(format!("{} {id}", N::KIND)));
            };
            if stored.type_id() != node.type_id() {
                return Err(Error::invalid(
                    format!("{}.type_id", N::KIND),
                    format!(
                        "{} {id} has type {}; a node's type cannot change (given {})",
                        N::KIND,
                        stored.type_id(),
                        node.type_id()
                    ),
                ));
            }
            // A node passed back unchanged (an input of a pipeline step, say)
            // is not rewritten: no pages to write, and its update time
            // keeps meaning "last changed".
            if node.same_content(&stored) {
                remember(recent, id, ns, stored);
                return Ok(id);
            }
            node.update(tx, ns, id, now)?;
            tx.prepare_cached(&format!(
                "DELETE FROM {} WHERE {} = ?1",
                N::KIND.property_table(),
                N::KIND.property_owner()
            ))
            .and_then(|mut s| s.execute([id]))
            .map_err(backend("replace properties"))?;
            id
        }
    };
    write_properties::<N>(tx, id, node.properties(false), false)?;
    write_properties::<N>(tx, id, node.properties(true), true)?;
    remember(recent, id, ns, node.clone());
    Ok(id)
}

fn remember<N>(recent: &mut HashMap<i64, (String, N)>, id: i64, ns: &str, node: N) {
    if recent.len() >= RECENT_NODES {
        recent.clear();
    }
    recent.insert(id, (ns.to_owned(), node));
}

fn write_properties<N: StoredNode>(
    tx: &Connection,
    id: i64,
    props: &Properties,
    custom: bool,
) -> Result<()> {
    if props.is_empty() {
        return Ok(());
    }
    let mut stmt = tx
        .prepare_cached(&format!(
            "INSERT INTO {}({}, name, is_custom_property, int_value, double_value, string_value, \
             bool_value, struct_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            N::KIND.property_table(),
            N::KIND.property_owner()
        ))
        .map_err(backend("prepare"))?;
    for (name, value) in props {
        let v = value.columns();
        stmt.execute(params![
            id, name, custom, v.int, v.double, v.string, v.bool, v.json
        ])
        .map_err(backend("insert property"))?;
    }
    Ok(())
}
