//! Queries of the SQLite backend; every one filters by namespace.
//!
//! Where a query has a selective key (ids, a uri), its namespace test is
//! written `+t.namespace`: without it SQLite's planner, lacking statistics,
//! prefers the `(namespace, time)` index and scans the whole namespace.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::error::{Error, Result};
use crate::event::{Event, EventType, PathStep};
use crate::filter::{Dialect, Filter, PropertyPlan, SqlValue as FilterValue};
use crate::lineage::{self, EventSource, LineageGraph, LineageQuery, LineageStart};
use crate::link::{Association, Attribution};
use crate::node::{Artifact, ArtifactState, Context, Execution, ExecutionState};
use crate::record::NodeRecord;
use crate::store::{ListOptions, Page, StoreCounts};
use crate::types::{NodeKind, NodeType};
use crate::value::{Properties, PropertyType, Value};

use super::backend;
use crate::list_cache::ListCache;

/// A node kind as SQLite returns its rows.
pub(crate) trait StoredNode: NodeRecord {
    /// The node from a row of [`NodeRecord::COLUMNS`].
    fn from_row(row: &Row<'_>) -> Result<Self>;
}

fn get<T: rusqlite::types::FromSql>(row: &Row<'_>, i: usize) -> Result<T> {
    row.get(i).map_err(backend("read row"))
}

impl StoredNode for Artifact {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        let id: i64 = get(row, 0)?;
        let state: Option<i64> = get(row, 4)?;
        let state = match state {
            None => ArtifactState::Unknown,
            Some(code) => ArtifactState::from_code(code).ok_or_else(|| Error::Corrupt {
                what: format!("artifact {id} state {code}"),
            })?,
        };
        Ok(Self {
            id: Some(id),
            type_id: get(row, 1)?,
            name: get(row, 2)?,
            uri: get(row, 3)?,
            state,
            external_id: get(row, 5)?,
            properties: Properties::new(),
            custom_properties: Properties::new(),
            create_time_since_epoch: get(row, 6)?,
            last_update_time_since_epoch: get(row, 7)?,
        })
    }
}

impl StoredNode for Execution {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        let id: i64 = get(row, 0)?;
        let state: Option<i64> = get(row, 3)?;
        let last_known_state = match state {
            None => ExecutionState::Unknown,
            Some(code) => ExecutionState::from_code(code).ok_or_else(|| Error::Corrupt {
                what: format!("execution {id} last_known_state {code}"),
            })?,
        };
        Ok(Self {
            id: Some(id),
            type_id: get(row, 1)?,
            name: get(row, 2)?,
            last_known_state,
            external_id: get(row, 4)?,
            properties: Properties::new(),
            custom_properties: Properties::new(),
            create_time_since_epoch: get(row, 5)?,
            last_update_time_since_epoch: get(row, 6)?,
        })
    }
}

impl StoredNode for Context {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        Ok(Self {
            id: Some(get(row, 0)?),
            type_id: get(row, 1)?,
            name: get(row, 2)?,
            external_id: get(row, 3)?,
            properties: Properties::new(),
            custom_properties: Properties::new(),
            create_time_since_epoch: get(row, 4)?,
            last_update_time_since_epoch: get(row, 5)?,
        })
    }
}

pub(crate) fn id_array(ids: &[i64]) -> Rc<Vec<SqlValue>> {
    Rc::new(ids.iter().map(|&i| SqlValue::Integer(i)).collect())
}

fn text_array(items: &[String]) -> Rc<Vec<SqlValue>> {
    Rc::new(items.iter().map(|s| SqlValue::Text(s.clone())).collect())
}

/// Collects the first column of a query as ids.
fn ids_of(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(sql).map_err(backend("prepare"))?;
    let rows = stmt
        .query_map(params, |r| r.get::<_, i64>(0))
        .map_err(backend("query ids"))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(backend("read ids"))
}

/// The nodes of kind `N` with these ids in namespace `ns`, sorted by id,
/// with their properties.
pub(crate) fn nodes<N: StoredNode>(conn: &Connection, ns: &str, ids: &[i64]) -> Result<Vec<N>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {} FROM {} t WHERE t.id IN rarray(?1) AND +t.namespace = ?2 ORDER BY t.id",
        N::COLUMNS,
        N::KIND.table()
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend("prepare"))?;
    let mut rows = stmt
        .query(params![id_array(ids), ns])
        .map_err(backend("query nodes"))?;
    let mut out = Vec::with_capacity(ids.len());
    while let Some(row) = rows.next().map_err(backend("read nodes"))? {
        out.push(N::from_row(row)?);
    }
    drop(rows);
    let found: Vec<i64> = out.iter().filter_map(NodeRecord::id).collect();
    if found.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT {id}, name, is_custom_property, int_value, double_value, string_value, \
         bool_value, struct_value FROM {table} WHERE {id} IN rarray(?1)",
        id = N::KIND.property_owner(),
        table = N::KIND.property_table()
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend("prepare"))?;
    let mut rows = stmt
        .query(params![id_array(&found)])
        .map_err(backend("query properties"))?;
    while let Some(row) = rows.next().map_err(backend("read properties"))? {
        let node_id: i64 = get(row, 0)?;
        let name: String = get(row, 1)?;
        let custom: bool = get(row, 2)?;
        let value = property_value(row, 3).ok_or_else(|| Error::Corrupt {
            what: format!("{} {node_id} property {name:?} has no value", N::KIND),
        })??;
        if let Ok(i) = found.binary_search(&node_id)
            && let Some(node) = out.get_mut(i)
        {
            node.properties_mut(custom).insert(name, value);
        }
    }
    Ok(out)
}

/// The value in the five value columns starting at `first`, if any is set.
fn property_value(row: &Row<'_>, first: usize) -> Option<Result<Value>> {
    let read = || -> Result<Option<Value>> {
        if let Some(i) = get::<Option<i64>>(row, first)? {
            return Ok(Some(Value::Int(i)));
        }
        if let Some(d) = get::<Option<f64>>(row, first + 1)? {
            return Ok(Some(Value::Double(d)));
        }
        if let Some(s) = get::<Option<String>>(row, first + 2)? {
            return Ok(Some(Value::String(s)));
        }
        if let Some(b) = get::<Option<bool>>(row, first + 3)? {
            return Ok(Some(Value::Bool(b)));
        }
        if let Some(s) = get::<Option<String>>(row, first + 4)? {
            let v = serde_json::from_str(&s).map_err(|e| Error::Corrupt {
                what: format!("struct value: {e}"),
            })?;
            return Ok(Some(Value::Struct(v)));
        }
        Ok(None)
    };
    read().transpose()
}

const TYPE_COLUMNS: &str = "id, kind, name, version, description, external_id, base_type";

fn types_where(
    conn: &Connection,
    sql_where: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<NodeType>> {
    let sql = format!("SELECT {TYPE_COLUMNS} FROM type WHERE {sql_where} ORDER BY id");
    let mut stmt = conn.prepare_cached(&sql).map_err(backend("prepare"))?;
    let mut rows = stmt.query(params).map_err(backend("query types"))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(backend("read types"))? {
        let id: i64 = get(row, 0)?;
        let code: i64 = get(row, 1)?;
        let kind = NodeKind::from_code(code).ok_or_else(|| Error::Corrupt {
            what: format!("type {id} kind {code}"),
        })?;
        let mut t = NodeType::new(kind, get::<String>(row, 2)?);
        t.id = Some(id);
        t.version = get(row, 3)?;
        t.description = get(row, 4)?;
        t.external_id = get(row, 5)?;
        t.base_type = get(row, 6)?;
        out.push(t);
    }
    drop(rows);
    if out.is_empty() {
        return Ok(out);
    }
    let ids: Vec<i64> = out.iter().filter_map(|t| t.id).collect();
    let mut stmt = conn
        .prepare_cached(
            "SELECT type_id, name, data_type FROM type_property WHERE type_id IN rarray(?1)",
        )
        .map_err(backend("prepare"))?;
    let mut rows = stmt
        .query([id_array(&ids)])
        .map_err(backend("query type properties"))?;
    while let Some(row) = rows.next().map_err(backend("read type properties"))? {
        let type_id: i64 = get(row, 0)?;
        let name: String = get(row, 1)?;
        let ty = property_type(type_id, &name, get(row, 2)?)?;
        if let Ok(i) = ids.binary_search(&type_id)
            && let Some(t) = out.get_mut(i)
        {
            t.properties.insert(name, ty);
        }
    }
    Ok(out)
}

fn property_type(type_id: i64, name: &str, code: i64) -> Result<PropertyType> {
    PropertyType::from_code(code).ok_or_else(|| Error::Corrupt {
        what: format!("type {type_id} property {name:?} data_type {code}"),
    })
}

pub(crate) fn type_properties(
    conn: &Connection,
    type_id: i64,
) -> Result<BTreeMap<String, PropertyType>> {
    let mut stmt = conn
        .prepare_cached("SELECT name, data_type FROM type_property WHERE type_id = ?1")
        .map_err(backend("prepare"))?;
    let mut rows = stmt
        .query([type_id])
        .map_err(backend("query type properties"))?;
    let mut out = BTreeMap::new();
    while let Some(row) = rows.next().map_err(backend("read type properties"))? {
        let name: String = get(row, 0)?;
        let ty = property_type(type_id, &name, get(row, 1)?)?;
        out.insert(name, ty);
    }
    Ok(out)
}

pub(crate) fn type_by_name(
    conn: &Connection,
    ns: &str,
    kind: NodeKind,
    name: &str,
    version: Option<&str>,
) -> Result<Option<NodeType>> {
    Ok(types_where(
        conn,
        "namespace = ?1 AND kind = ?2 AND name = ?3 AND version IS ?4",
        params![ns, kind.code(), name, version],
    )?
    .pop())
}

pub(crate) fn types_by_id(conn: &Connection, ns: &str, ids: &[i64]) -> Result<Vec<NodeType>> {
    types_where(
        conn,
        "+namespace = ?1 AND id IN rarray(?2)",
        params![ns, id_array(ids)],
    )
}

pub(crate) fn types_of_kind(conn: &Connection, ns: &str, kind: NodeKind) -> Result<Vec<NodeType>> {
    types_where(
        conn,
        "namespace = ?1 AND kind = ?2",
        params![ns, kind.code()],
    )
}

pub(crate) fn nodes_by_type<N: StoredNode>(
    conn: &Connection,
    ns: &str,
    type_name: &str,
    type_version: Option<&str>,
    name: Option<&str>,
) -> Result<Vec<N>> {
    let type_id: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM type WHERE namespace = ?1 AND kind = ?2 AND name = ?3 AND version IS ?4",
        )
        .and_then(|mut s| {
            s.query_row(params![ns, N::KIND.code(), type_name, type_version], |r| r.get(0))
                .optional()
        })
        .map_err(backend("find type"))?;
    let Some(type_id) = type_id else {
        return Ok(Vec::new());
    };
    let ids = match name {
        None => ids_of(
            conn,
            &format!(
                "SELECT id FROM {} WHERE type_id = ?1 ORDER BY id",
                N::KIND.table()
            ),
            [type_id],
        )?,
        Some(name) => ids_of(
            conn,
            &format!(
                "SELECT id FROM {} WHERE type_id = ?1 AND name = ?2",
                N::KIND.table()
            ),
            params![type_id, name],
        )?,
    };
    nodes(conn, ns, &ids)
}

pub(crate) fn artifacts_by_uri(conn: &Connection, ns: &str, uri: &str) -> Result<Vec<Artifact>> {
    let ids = ids_of(
        conn,
        "SELECT id FROM artifact WHERE uri = ?1 AND +namespace = ?2 ORDER BY id",
        params![uri, ns],
    )?;
    nodes(conn, ns, &ids)
}

pub(crate) fn nodes_by_external_ids<N: StoredNode>(
    conn: &Connection,
    ns: &str,
    external_ids: &[String],
) -> Result<Vec<N>> {
    let sql = format!(
        "SELECT id FROM {} WHERE namespace = ?1 AND external_id IN rarray(?2) ORDER BY id",
        N::KIND.table()
    );
    let ids = ids_of(conn, &sql, params![ns, text_array(external_ids)])?;
    nodes(conn, ns, &ids)
}

/// A neighbourhood query: nodes linked to one node.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Via {
    ArtifactsOfContext,
    ExecutionsOfContext,
    ContextsOfArtifact,
    ContextsOfExecution,
    ParentsOfContext,
    ChildrenOfContext,
}

pub(crate) fn nodes_via<N: StoredNode>(
    conn: &Connection,
    ns: &str,
    via: Via,
    id: i64,
) -> Result<Vec<N>> {
    let sql = match via {
        Via::ArtifactsOfContext => {
            "SELECT artifact_id FROM attribution WHERE context_id = ?1 ORDER BY artifact_id"
        }
        Via::ExecutionsOfContext => {
            "SELECT execution_id FROM association WHERE context_id = ?1 ORDER BY execution_id"
        }
        Via::ContextsOfArtifact => {
            "SELECT context_id FROM attribution WHERE artifact_id = ?1 ORDER BY context_id"
        }
        Via::ContextsOfExecution => {
            "SELECT context_id FROM association WHERE execution_id = ?1 ORDER BY context_id"
        }
        Via::ParentsOfContext => {
            "SELECT parent_context_id FROM parent_context WHERE context_id = ?1 \
             ORDER BY parent_context_id"
        }
        Via::ChildrenOfContext => {
            "SELECT context_id FROM parent_context WHERE parent_context_id = ?1 ORDER BY context_id"
        }
    };
    let ids = ids_of(conn, sql, [id])?;
    // Links never cross namespaces, and `nodes` filters by namespace.
    nodes(conn, ns, &ids)
}

/// Events of artifacts (`kind` Artifact) or executions, in namespace `ns`,
/// by event id; paths only when `with_paths`.
pub(crate) fn events(
    conn: &Connection,
    ns: &str,
    kind: NodeKind,
    ids: &[i64],
    with_paths: bool,
) -> Result<Vec<Event>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = match kind {
        NodeKind::Execution => {
            "SELECT e.id, e.artifact_id, e.execution_id, e.type, e.milliseconds_since_epoch \
             FROM event e JOIN execution x ON x.id = e.execution_id \
             WHERE e.execution_id IN rarray(?1) AND +x.namespace = ?2 ORDER BY e.id"
        }
        _ => {
            "SELECT e.id, e.artifact_id, e.execution_id, e.type, e.milliseconds_since_epoch \
             FROM event e JOIN artifact a ON a.id = e.artifact_id \
             WHERE e.artifact_id IN rarray(?1) AND +a.namespace = ?2 ORDER BY e.id"
        }
    };
    let mut stmt = conn.prepare_cached(sql).map_err(backend("prepare"))?;
    let mut rows = stmt
        .query(params![id_array(ids), ns])
        .map_err(backend("query events"))?;
    let mut event_ids = Vec::new();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(backend("read events"))? {
        let id: i64 = get(row, 0)?;
        let code: i64 = get(row, 3)?;
        let event_type = EventType::from_code(code).ok_or_else(|| Error::Corrupt {
            what: format!("event {id} type {code}"),
        })?;
        event_ids.push(id);
        out.push(Event {
            artifact_id: get(row, 1)?,
            execution_id: get(row, 2)?,
            event_type,
            path: Vec::new(),
            milliseconds_since_epoch: get(row, 4)?,
        });
    }
    drop(rows);
    if with_paths && !out.is_empty() {
        let mut stmt = conn
            .prepare_cached(
                "SELECT event_id, is_index_step, step_index_value, step_key FROM event_path \
                 WHERE event_id IN rarray(?1) ORDER BY event_id, step_index",
            )
            .map_err(backend("prepare"))?;
        let mut rows = stmt
            .query(params![id_array(&event_ids)])
            .map_err(backend("query event paths"))?;
        while let Some(row) = rows.next().map_err(backend("read event paths"))? {
            let event_id: i64 = get(row, 0)?;
            let is_index: bool = get(row, 1)?;
            let step = if is_index {
                PathStep::Index(get::<Option<i64>>(row, 2)?.unwrap_or_default())
            } else {
                PathStep::Key(get::<Option<String>>(row, 3)?.unwrap_or_default())
            };
            if let Ok(i) = event_ids.binary_search(&event_id)
                && let Some(e) = out.get_mut(i)
            {
                e.path.push(step);
            }
        }
    }
    Ok(out)
}

/// Up to this many matching properties, a filter's property set is small
/// enough to start the list from (each of its nodes costs one lookup per
/// page); from this many on, the list walks the nodes in list order and
/// looks up each one's property instead, which stops at the page's end. At
/// 10,000 runs of the benchmark workload, `score > 0.95` matches about
/// 4,900 properties (starting from them: ~2.5 ms a page, walking: ~7 ms)
/// and `score > 0.05` about 95,000 (~60 ms a page against ~1 ms).
const DRIVING_SET_LIMIT: i64 = 20_000;

/// For each top-level property test of `filter`: [`PropertyPlan::Drive`]
/// when it matches fewer than [`DRIVING_SET_LIMIT`] properties (counted
/// through the same index the set would be read with, never past the
/// limit), else [`PropertyPlan::Probe`]. SQLite cannot choose between the
/// two itself: it guesses an `IN` set's size without looking at it (and so
/// starts from it), and never starts from the table of an `EXISTS`.
fn property_plans(conn: &Connection, filter: &Filter, kind: NodeKind) -> Result<Vec<PropertyPlan>> {
    let sets = crate::filter::property_sets(filter, kind, Dialect::Sqlite)?;
    let mut plans = Vec::with_capacity(sets.len());
    for set in &sets {
        let sql = format!(
            "SELECT count(*) FROM ({} LIMIT {DRIVING_SET_LIMIT})",
            set.where_sql
        );
        let mut stmt = conn
            .prepare_cached(&sql)
            .map_err(backend("prepare property count"))?;
        let count: i64 = stmt
            .query_row(rusqlite::params_from_iter(set.params.iter()), |r| r.get(0))
            .map_err(backend("property count"))?;
        plans.push(if count < DRIVING_SET_LIMIT {
            PropertyPlan::Drive
        } else {
            PropertyPlan::Probe
        });
    }
    Ok(plans)
}

/// A SQLite read connection's lists and filter plans, valid for one
/// `PRAGMA data_version`.
pub(crate) type Lists = ListCache<i64, Vec<PropertyPlan>>;

/// SQLite's count of commits by other connections (`PRAGMA data_version`),
/// as of this read transaction.
fn data_version(conn: &Connection) -> Result<i64> {
    conn.prepare_cached("PRAGMA data_version")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(backend("read data_version"))
}

/// A page of nodes of kind `N`. With `cache` (a read connection's), a
/// filtered list whose filter starts from a property set is computed whole
/// once and later pages are cut from it while the database is unchanged
/// (see [`ListCache`]); the rows are those the paged query returns.
pub(crate) fn list<N: StoredNode>(
    conn: &Connection,
    ns: &str,
    options: &ListOptions,
    cache: Option<&mut Lists>,
) -> Result<Page<N>> {
    let size = options.page_size()?;
    let mut cache = match (&options.filter_query, cache) {
        (Some(text), Some(cache)) => {
            cache.sync(data_version(conn)?);
            if let Some(rows) = cache.get(N::KIND, ns, text, options) {
                let keys = crate::page_token::page_of(rows, options, size)?;
                return page::<N>(conn, ns, options, size, keys);
            }
            Some((text, cache))
        }
        _ => None,
    };
    // ?1 is the namespace; a compiled filter's fragment takes ?2.. and the
    // cursor the placeholders after it.
    let mut params: Vec<SqlValue> = vec![SqlValue::Text(ns.to_owned())];
    let mut sql = format!(
        "SELECT t.id, {} FROM {} t WHERE t.namespace = ?1",
        crate::page_token::sort_column(options.order_by),
        N::KIND.table()
    );
    let mut drives = false;
    if let Some(text) = &options.filter_query {
        let filter = crate::filter::parse(text)?;
        let plans = match cache.as_mut() {
            Some((_, lists)) => match lists.plan(N::KIND, ns, text) {
                Some(plans) => plans,
                None => {
                    let plans = property_plans(conn, &filter, N::KIND)?;
                    lists.put_plan(N::KIND, ns, text, plans.clone());
                    plans
                }
            },
            None => property_plans(conn, &filter, N::KIND)?,
        };
        drives = plans.contains(&PropertyPlan::Drive);
        let compiled = crate::filter::compile_with(
            &filter,
            N::KIND,
            Dialect::Sqlite,
            params.len() + 1,
            &plans,
        )?;
        sql.push_str(&format!(" AND ({})", compiled.where_sql));
        params.extend(compiled.params.into_iter().map(|v| match v {
            FilterValue::Int(i) => SqlValue::Integer(i),
            FilterValue::Double(d) => SqlValue::Real(d),
            FilterValue::Text(t) => SqlValue::Text(t),
            FilterValue::Bool(b) => SqlValue::Integer(i64::from(b)),
        }));
    }
    if drives && let Some((text, cache)) = cache.take() {
        // Fewer rows than the driving set, all of which SQLite reads and
        // sorts for any page anyway.
        sql.push_str(&crate::page_token::order_clause(options));
        let rows = keys_of(conn, &sql, &params)?;
        let keys = crate::page_token::page_of(&rows, options, size)?;
        cache.put(N::KIND, ns, text, options, rows);
        return page::<N>(conn, ns, options, size, keys);
    }
    let keyset = crate::page_token::keyset(options, size, Dialect::Sqlite, params.len() + 1)?;
    sql.push_str(&keyset.sql);
    params.extend(keyset.params.into_iter().map(SqlValue::Integer));
    let keys = keys_of(conn, &sql, &params)?;
    page::<N>(conn, ns, options, size, keys)
}

/// The `(id, sort key)` rows of a list query.
fn keys_of(conn: &Connection, sql: &str, params: &[SqlValue]) -> Result<Vec<(i64, i64)>> {
    let mut stmt = conn.prepare_cached(sql).map_err(backend("prepare list"))?;
    stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    })
    .map_err(backend("list"))?
    .collect::<rusqlite::Result<Vec<_>>>()
    .map_err(backend("list"))
}

/// The page of the `(id, sort key)` rows a keyset query returned (one more
/// than the page when another page follows), with its nodes loaded.
fn page<N: StoredNode>(
    conn: &Connection,
    ns: &str,
    options: &ListOptions,
    size: u32,
    keys: Vec<(i64, i64)>,
) -> Result<Page<N>> {
    let (ids, next_page_token) = crate::page_token::split_page(options, size, keys);
    let mut by_id: BTreeMap<i64, N> = nodes::<N>(conn, ns, &ids)?
        .into_iter()
        .filter_map(|n| n.id().map(|id| (id, n)))
        .collect();
    let items: Vec<N> = ids.iter().filter_map(|id| by_id.remove(id)).collect();
    Ok(Page {
        items,
        next_page_token,
    })
}

struct SqliteEvents<'a> {
    conn: &'a Connection,
    ns: &'a str,
}

impl EventSource for SqliteEvents<'_> {
    fn events_of_artifacts(&mut self, ids: &[i64]) -> Result<Vec<Event>> {
        events(self.conn, self.ns, NodeKind::Artifact, ids, false)
    }

    fn events_of_executions(&mut self, ids: &[i64]) -> Result<Vec<Event>> {
        events(self.conn, self.ns, NodeKind::Execution, ids, false)
    }
}

pub(crate) fn lineage(conn: &Connection, ns: &str, query: &LineageQuery) -> Result<LineageGraph> {
    let (start, kind) = match &query.start {
        LineageStart::Artifacts(ids) => (ids, NodeKind::Artifact),
        LineageStart::Executions(ids) => (ids, NodeKind::Execution),
    };
    let table = if kind == NodeKind::Artifact {
        "artifact"
    } else {
        "execution"
    };
    let found = ids_of(
        conn,
        &format!("SELECT id FROM {table} WHERE id IN rarray(?1) AND +namespace = ?2"),
        params![id_array(start), ns],
    )?;
    let found: BTreeSet<i64> = found.into_iter().collect();
    if let Some(missing) = start.iter().find(|id| !found.contains(id)) {
        return Err(Error::not_found(format!("{kind} {missing}")));
    }
    let mut source = SqliteEvents { conn, ns };
    let (artifact_ids, execution_ids) = lineage::walk(query, &mut source)?;
    let artifact_ids: Vec<i64> = artifact_ids.into_iter().collect();
    let execution_ids: Vec<i64> = execution_ids.into_iter().collect();
    let events: Vec<Event> = events(conn, ns, NodeKind::Artifact, &artifact_ids, true)?
        .into_iter()
        .filter(|e| execution_ids.binary_search(&e.execution_id).is_ok())
        .collect();
    let attributions: Vec<Attribution> = pairs(
        conn,
        "SELECT context_id, artifact_id FROM attribution WHERE artifact_id IN rarray(?1)",
        &artifact_ids,
    )?
    .into_iter()
    .map(|(context_id, artifact_id)| Attribution {
        context_id,
        artifact_id,
    })
    .collect();
    let associations: Vec<Association> = pairs(
        conn,
        "SELECT context_id, execution_id FROM association WHERE execution_id IN rarray(?1)",
        &execution_ids,
    )?
    .into_iter()
    .map(|(context_id, execution_id)| Association {
        context_id,
        execution_id,
    })
    .collect();
    let context_ids: BTreeSet<i64> = attributions
        .iter()
        .map(|a| a.context_id)
        .chain(associations.iter().map(|a| a.context_id))
        .collect();
    let context_ids: Vec<i64> = context_ids.into_iter().collect();
    let artifacts: Vec<Artifact> = nodes(conn, ns, &artifact_ids)?;
    let executions: Vec<Execution> = nodes(conn, ns, &execution_ids)?;
    let contexts: Vec<Context> = nodes(conn, ns, &context_ids)?;
    let type_ids: BTreeSet<i64> = artifacts
        .iter()
        .map(|a| a.type_id)
        .chain(executions.iter().map(|e| e.type_id))
        .chain(contexts.iter().map(|c| c.type_id))
        .collect();
    let type_ids: Vec<i64> = type_ids.into_iter().collect();
    Ok(LineageGraph {
        types: types_by_id(conn, ns, &type_ids)?,
        artifacts,
        executions,
        contexts,
        events,
        attributions,
        associations,
    })
}

fn pairs(conn: &Connection, sql: &str, ids: &[i64]) -> Result<Vec<(i64, i64)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(sql).map_err(backend("prepare"))?;
    let mut out = stmt
        .query_map(params![id_array(ids)], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(backend("query links"))?
        .collect::<rusqlite::Result<Vec<(i64, i64)>>>()
        .map_err(backend("read links"))?;
    out.sort_unstable();
    Ok(out)
}

pub(crate) fn counts(conn: &Connection, ns: &str) -> Result<StoreCounts> {
    let count = |sql: &str| -> Result<u64> {
        let n: i64 = conn
            .prepare_cached(sql)
            .and_then(|mut s| s.query_row([ns], |r| r.get(0)))
            .map_err(backend("count"))?;
        Ok(u64::try_from(n).unwrap_or_default())
    };
    Ok(StoreCounts {
        types: count("SELECT count(*) FROM type WHERE namespace = ?1")?,
        artifacts: count("SELECT count(*) FROM artifact WHERE namespace = ?1")?,
        executions: count("SELECT count(*) FROM execution WHERE namespace = ?1")?,
        contexts: count("SELECT count(*) FROM context WHERE namespace = ?1")?,
        events: count(
            "SELECT count(*) FROM event e JOIN artifact a ON a.id = e.artifact_id \
             WHERE a.namespace = ?1",
        )?,
        attributions: count(
            "SELECT count(*) FROM attribution l JOIN context c ON c.id = l.context_id \
             WHERE c.namespace = ?1",
        )?,
        associations: count(
            "SELECT count(*) FROM association l JOIN context c ON c.id = l.context_id \
             WHERE c.namespace = ?1",
        )?,
        parent_contexts: count(
            "SELECT count(*) FROM parent_context l JOIN context c ON c.id = l.context_id \
             WHERE c.namespace = ?1",
        )?,
    })
}
