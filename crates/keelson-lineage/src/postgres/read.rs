//! Queries of the PostgreSQL backend; every one filters by namespace.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

use crate::error::{Error, Result};
use crate::event::{Event, EventType, PathStep};
use crate::filter::{Dialect, Filter, SqlValue};
use crate::lineage::{LineageGraph, LineageQuery, LineageStart, Walk};
use crate::link::{Association, Attribution};
use crate::node::{Artifact, ArtifactState, Context, Execution, ExecutionState};
use crate::record::NodeRecord;
use crate::store::{ListOptions, Page, StoreCounts};
use crate::types::{NodeKind, NodeType};
use crate::value::{Properties, PropertyType, Value};

use super::{Conn, Param, pg, refs};

/// A node kind as PostgreSQL returns its rows.
pub(crate) trait PgNode: NodeRecord {
    /// The node from a row of [`NodeRecord::COLUMNS`].
    fn from_row(row: &Row) -> Result<Self>;
}

fn get<'a, T: FromSql<'a>>(row: &'a Row, i: usize) -> Result<T> {
    row.try_get(i).map_err(pg("read row"))
}

impl PgNode for Artifact {
    fn from_row(row: &Row) -> Result<Self> {
        let id: i64 = get(row, 0)?;
        let state = match get::<Option<i64>>(row, 4)? {
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

impl PgNode for Execution {
    fn from_row(row: &Row) -> Result<Self> {
        let id: i64 = get(row, 0)?;
        let last_known_state = match get::<Option<i64>>(row, 3)? {
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

impl PgNode for Context {
    fn from_row(row: &Row) -> Result<Self> {
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

/// The first column of a query as ids.
async fn ids_of(
    c: &mut Conn,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<i64>> {
    c.query(sql, params)
        .await
        .map_err(pg("query ids"))?
        .iter()
        .map(|r| get(r, 0))
        .collect()
}

/// The nodes of kind `N` with these ids in namespace `ns`, sorted by id,
/// with their properties.
pub(crate) async fn nodes<N: PgNode>(c: &mut Conn, ns: &str, ids: &[i64]) -> Result<Vec<N>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // One round trip: a node's row once per property (once, with nulls, for
    // a node without any), the property's columns last.
    let sql = format!(
        "SELECT {}, p.name, p.is_custom_property, p.int_value, p.double_value, \
         p.string_value, p.bool_value, p.struct_value FROM {} t \
         LEFT JOIN {} p ON p.{} = t.id \
         WHERE t.id = ANY($1) AND t.namespace = $2 ORDER BY t.id",
        N::COLUMNS,
        N::KIND.table(),
        N::KIND.property_table(),
        N::KIND.property_owner()
    );
    let rows = c
        .query(&sql, &[&ids, &ns])
        .await
        .map_err(pg("query nodes"))?;
    let mut out: Vec<N> = Vec::new();
    for row in &rows {
        let id: i64 = get(row, 0)?;
        if out.last().and_then(NodeRecord::id) != Some(id) {
            out.push(N::from_row(row)?);
        }
        let first = row.len().saturating_sub(PROPERTY_COLUMNS);
        let Some(name) = get::<Option<String>>(row, first)? else {
            continue;
        };
        let custom: bool = get(row, first + 1)?;
        let value = property_value(row, first + 2)?.ok_or_else(|| Error::Corrupt {
            what: format!("{} {id} property {name:?} has no value", N::KIND),
        })?;
        if let Some(node) = out.last_mut() {
            node.properties_mut(custom).insert(name, value);
        }
    }
    Ok(out)
}

/// The property columns [`nodes`] appends to a node's: name, custom flag
/// and the five value columns.
const PROPERTY_COLUMNS: usize = 7;

/// The value in the five value columns starting at `first`, if any is set.
fn property_value(row: &Row, first: usize) -> Result<Option<Value>> {
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
}

const TYPE_COLUMNS: &str = "id, kind, name, version, description, external_id, base_type";

async fn types_where(
    c: &mut Conn,
    sql_where: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<NodeType>> {
    let sql = format!("SELECT {TYPE_COLUMNS} FROM type WHERE {sql_where} ORDER BY id");
    let rows = c.query(&sql, params).await.map_err(pg("query types"))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
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
    if out.is_empty() {
        return Ok(out);
    }
    let ids: Vec<i64> = out.iter().filter_map(|t| t.id).collect();
    let rows = c
        .query(
            "SELECT type_id, name, data_type FROM type_property WHERE type_id = ANY($1)",
            &[&ids],
        )
        .await
        .map_err(pg("query type properties"))?;
    for row in &rows {
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

/// The namespace, kind code and properties of each stored type among
/// `ids`, by id (ids of no type are left out).
pub(crate) async fn type_rows(
    c: &mut Conn,
    ids: &[i64],
) -> Result<HashMap<i64, (String, i64, BTreeMap<String, PropertyType>)>> {
    let rows = c
        .query(
            "SELECT t.id, t.namespace, t.kind, p.name, p.data_type FROM type t \
             LEFT JOIN type_property p ON p.type_id = t.id WHERE t.id = ANY($1)",
            &[&ids],
        )
        .await
        .map_err(pg("read types"))?;
    let mut out: HashMap<i64, (String, i64, BTreeMap<String, PropertyType>)> = HashMap::new();
    for row in &rows {
        let type_id: i64 = get(row, 0)?;
        let entry = match out.entry(type_id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert((get(row, 1)?, get(row, 2)?, BTreeMap::new()))
            }
        };
        if let Some(name) = get::<Option<String>>(row, 3)? {
            let code: i64 = get(row, 4)?;
            entry
                .2
                .insert(name.clone(), property_type(type_id, &name, code)?);
        }
    }
    Ok(out)
}

pub(crate) async fn type_by_name(
    c: &mut Conn,
    ns: &str,
    kind: NodeKind,
    name: &str,
    version: Option<&str>,
) -> Result<Option<NodeType>> {
    Ok(types_where(
        c,
        "namespace = $1 AND kind = $2 AND name = $3 \
         AND coalesce(version, '') = coalesce($4::text, '')",
        &[&ns, &kind.code(), &name, &version],
    )
    .await?
    .pop())
}

pub(crate) async fn types_by_id(c: &mut Conn, ns: &str, ids: &[i64]) -> Result<Vec<NodeType>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    types_where(c, "namespace = $1 AND id = ANY($2)", &[&ns, &ids]).await
}

pub(crate) async fn types_of_kind(c: &mut Conn, ns: &str, kind: NodeKind) -> Result<Vec<NodeType>> {
    types_where(c, "namespace = $1 AND kind = $2", &[&ns, &kind.code()]).await
}

pub(crate) async fn nodes_by_type<N: PgNode>(
    c: &mut Conn,
    ns: &str,
    type_name: &str,
    type_version: Option<&str>,
    name: Option<&str>,
) -> Result<Vec<N>> {
    let type_id: Option<i64> = c
        .query_opt(
            "SELECT id FROM type WHERE namespace = $1 AND kind = $2 AND name = $3 \
             AND coalesce(version, '') = coalesce($4::text, '')",
            &[&ns, &N::KIND.code(), &type_name, &type_version],
        )
        .await
        .map_err(pg("find type"))?
        .map(|r| get(&r, 0))
        .transpose()?;
    let Some(type_id) = type_id else {
        return Ok(Vec::new());
    };
    let ids = match name {
        None => {
            let sql = format!(
                "SELECT id FROM {} WHERE type_id = $1 ORDER BY id",
                N::KIND.table()
            );
            ids_of(c, &sql, &[&type_id]).await?
        }
        Some(name) => {
            let sql = format!(
                "SELECT id FROM {} WHERE type_id = $1 AND name = $2",
                N::KIND.table()
            );
            ids_of(c, &sql, &[&type_id, &name]).await?
        }
    };
    nodes(c, ns, &ids).await
}

pub(crate) async fn artifacts_by_uri(c: &mut Conn, ns: &str, uri: &str) -> Result<Vec<Artifact>> {
    let ids = ids_of(
        c,
        "SELECT id FROM artifact WHERE uri = $1 AND namespace = $2 ORDER BY id",
        &[&uri, &ns],
    )
    .await?;
    nodes(c, ns, &ids).await
}

pub(crate) async fn nodes_by_external_ids<N: PgNode>(
    c: &mut Conn,
    ns: &str,
    external_ids: &[String],
) -> Result<Vec<N>> {
    let sql = format!(
        "SELECT id FROM {} WHERE namespace = $1 AND external_id = ANY($2) ORDER BY id",
        N::KIND.table()
    );
    let ids = ids_of(c, &sql, &[&ns, &external_ids]).await?;
    nodes(c, ns, &ids).await
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

pub(crate) async fn nodes_via<N: PgNode>(
    c: &mut Conn,
    ns: &str,
    via: Via,
    id: i64,
) -> Result<Vec<N>> {
    let sql = match via {
        Via::ArtifactsOfContext => {
            "SELECT artifact_id FROM attribution WHERE context_id = $1 ORDER BY artifact_id"
        }
        Via::ExecutionsOfContext => {
            "SELECT execution_id FROM association WHERE context_id = $1 ORDER BY execution_id"
        }
        Via::ContextsOfArtifact => {
            "SELECT context_id FROM attribution WHERE artifact_id = $1 ORDER BY context_id"
        }
        Via::ContextsOfExecution => {
            "SELECT context_id FROM association WHERE execution_id = $1 ORDER BY context_id"
        }
        Via::ParentsOfContext => {
            "SELECT parent_context_id FROM parent_context WHERE context_id = $1 \
             ORDER BY parent_context_id"
        }
        Via::ChildrenOfContext => {
            "SELECT context_id FROM parent_context WHERE parent_context_id = $1 ORDER BY context_id"
        }
    };
    let ids = ids_of(c, sql, &[&id]).await?;
    // Links never cross namespaces, and `nodes` filters by namespace.
    nodes(c, ns, &ids).await
}

/// Events of artifacts (`kind` Artifact) or executions, in namespace `ns`,
/// by event id; paths only when `with_paths`.
pub(crate) async fn events(
    c: &mut Conn,
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
             WHERE e.execution_id = ANY($1) AND x.namespace = $2 ORDER BY e.id"
        }
        _ => {
            "SELECT e.id, e.artifact_id, e.execution_id, e.type, e.milliseconds_since_epoch \
             FROM event e JOIN artifact a ON a.id = e.artifact_id \
             WHERE e.artifact_id = ANY($1) AND a.namespace = $2 ORDER BY e.id"
        }
    };
    let rows = c
        .query(sql, &[&ids, &ns])
        .await
        .map_err(pg("query events"))?;
    let mut event_ids = Vec::with_capacity(rows.len());
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
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
    if with_paths && !out.is_empty() {
        let rows = c
            .query(
                "SELECT event_id, is_index_step, step_index_value, step_key FROM event_path \
                 WHERE event_id = ANY($1) ORDER BY event_id, step_index",
                &[&event_ids],
            )
            .await
            .map_err(pg("query event paths"))?;
        for row in &rows {
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

fn filter_param(value: SqlValue) -> Param {
    match value {
        SqlValue::Int(v) => Box::new(v),
        SqlValue::Double(v) => Box::new(v),
        SqlValue::Text(v) => Box::new(v),
        SqlValue::Bool(v) => Box::new(v),
    }
}

/// Up to this many matching properties, a filter's property set is small
/// enough that PostgreSQL reads the whole set for any page anyway, so the
/// whole list is computed once and kept (as SQLite's store does).
const DRIVING_SET_LIMIT: i64 = 20_000;

/// Whether one of `filter`'s top-level property tests matches fewer than
/// [`DRIVING_SET_LIMIT`] properties (counted through the property index,
/// never past the limit).
async fn starts_from_a_small_set(c: &mut Conn, filter: &Filter, kind: NodeKind) -> Result<bool> {
    for set in crate::filter::property_sets(filter, kind, Dialect::Postgres)? {
        let sql = format!(
            "SELECT count(*) FROM ({} LIMIT {DRIVING_SET_LIMIT}) AS s",
            set.where_sql
        );
        let params: Vec<Param> = set.params.into_iter().map(filter_param).collect();
        let count: i64 = c
            .query_once(&sql, &refs(&params))
            .await
            .map_err(pg("property count"))?
            .first()
            .map(|r| get(r, 0))
            .transpose()?
            .unwrap_or_default();
        if count < DRIVING_SET_LIMIT {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A page of nodes of kind `N`. A filtered list whose filter starts from a
/// small property set is computed whole once and later pages are cut from
/// it while the connection's snapshot is unchanged (see
/// [`crate::list_cache`]); the rows are those the paged query returns.
pub(crate) async fn list<N: PgNode>(
    c: &mut Conn,
    ns: &str,
    options: &ListOptions,
) -> Result<Page<N>> {
    let size = options.page_size()?;
    let filter = match &options.filter_query {
        Some(text) => {
            let snapshot: String = c
                .query_opt("SELECT pg_current_snapshot()::text", &[])
                .await
                .map_err(pg("read snapshot"))?
                .map(|r| get(&r, 0))
                .transpose()?
                .unwrap_or_default();
            c.lists.sync(snapshot);
            if let Some(rows) = c.lists.get(N::KIND, ns, text, options) {
                let keys = crate::page_token::page_of(rows, options, size)?;
                return page::<N>(c, ns, options, size, keys).await;
            }
            Some((text, crate::filter::parse(text)?))
        }
        None => None,
    };
    // $1 is the namespace; a compiled filter's fragment takes $2.. and the
    // cursor the placeholders after it.
    let mut params: Vec<Param> = vec![Box::new(ns.to_owned())];
    let mut sql = format!(
        "SELECT t.id, {} FROM {} t WHERE t.namespace = $1",
        crate::page_token::sort_column(options.order_by),
        N::KIND.table()
    );
    let mut whole = None;
    if let Some((text, filter)) = &filter {
        let compiled =
            crate::filter::compile(filter, N::KIND, Dialect::Postgres, params.len() + 1)?;
        sql.push_str(&format!(" AND ({})", compiled.where_sql));
        params.extend(compiled.params.into_iter().map(filter_param));
        let small = match c.lists.plan(N::KIND, ns, text) {
            Some(small) => small,
            None => {
                let small = starts_from_a_small_set(c, filter, N::KIND).await?;
                c.lists.put_plan(N::KIND, ns, text, small);
                small
            }
        };
        if small {
            whole = Some(text);
        }
    }
    if let Some(text) = whole {
        sql.push_str(&crate::page_token::order_clause(options));
        let rows = keys_of(c, &sql, &params).await?;
        let keys = crate::page_token::page_of(&rows, options, size)?;
        c.lists.put(N::KIND, ns, text, options, rows);
        return page::<N>(c, ns, options, size, keys).await;
    }
    let keyset = crate::page_token::keyset(options, size, Dialect::Postgres, params.len() + 1)?;
    sql.push_str(&keyset.sql);
    params.extend(keyset.params.into_iter().map(|v| -> Param { Box::new(v) }));
    let keys = if filter.is_some() {
        keys_of(c, &sql, &params).await?
    } else {
        let rows = c.query(&sql, &refs(&params)).await.map_err(pg("list"))?;
        rows_to_keys(&rows)?
    };
    page::<N>(c, ns, options, size, keys).await
}

/// The `(id, sort key)` rows of a list query whose text varies (a compiled
/// filter): not kept as a prepared statement.
async fn keys_of(c: &mut Conn, sql: &str, params: &[Param]) -> Result<Vec<(i64, i64)>> {
    let rows = c.query_once(sql, &refs(params)).await.map_err(pg("list"))?;
    rows_to_keys(&rows)
}

fn rows_to_keys(rows: &[Row]) -> Result<Vec<(i64, i64)>> {
    rows.iter()
        .map(|r| Ok((get::<i64>(r, 0)?, get::<i64>(r, 1)?)))
        .collect()
}

/// The page of the `(id, sort key)` rows a keyset query returned (one more
/// than the page when another page follows), with its nodes loaded.
async fn page<N: PgNode>(
    c: &mut Conn,
    ns: &str,
    options: &ListOptions,
    size: u32,
    keys: Vec<(i64, i64)>,
) -> Result<Page<N>> {
    let (ids, next_page_token) = crate::page_token::split_page(options, size, keys);
    let mut by_id: BTreeMap<i64, N> = nodes::<N>(c, ns, &ids)
        .await?
        .into_iter()
        .filter_map(|n| n.id().map(|id| (id, n)))
        .collect();
    let items: Vec<N> = ids.iter().filter_map(|id| by_id.remove(id)).collect();
    Ok(Page {
        items,
        next_page_token,
    })
}

pub(crate) async fn lineage(c: &mut Conn, ns: &str, query: &LineageQuery) -> Result<LineageGraph> {
    let (start, kind) = match &query.start {
        LineageStart::Artifacts(ids) => (ids, NodeKind::Artifact),
        LineageStart::Executions(ids) => (ids, NodeKind::Execution),
    };
    let sql = format!(
        "SELECT id FROM {} WHERE id = ANY($1) AND namespace = $2",
        kind.table()
    );
    let found: BTreeSet<i64> = ids_of(c, &sql, &[start, &ns]).await?.into_iter().collect();
    if let Some(missing) = start.iter().find(|id| !found.contains(id)) {
        return Err(Error::not_found(format!("{kind} {missing}")));
    }
    let mut walk = Walk::new(query);
    while let Some((artifacts, executions)) = walk.frontier() {
        let (artifacts, executions) = (artifacts.to_vec(), executions.to_vec());
        let from_artifacts = events(c, ns, NodeKind::Artifact, &artifacts, false).await?;
        let from_executions = events(c, ns, NodeKind::Execution, &executions, false).await?;
        walk.advance(&from_artifacts, &from_executions);
    }
    let (artifact_ids, execution_ids) = walk.finish();
    let artifact_ids: Vec<i64> = artifact_ids.into_iter().collect();
    let execution_ids: Vec<i64> = execution_ids.into_iter().collect();
    let events: Vec<Event> = events(c, ns, NodeKind::Artifact, &artifact_ids, true)
        .await?
        .into_iter()
        .filter(|e| execution_ids.binary_search(&e.execution_id).is_ok())
        .collect();
    let attributions: Vec<Attribution> = pairs(
        c,
        "SELECT context_id, artifact_id FROM attribution WHERE artifact_id = ANY($1)",
        &artifact_ids,
    )
    .await?
    .into_iter()
    .map(|(context_id, artifact_id)| Attribution {
        context_id,
        artifact_id,
    })
    .collect();
    let associations: Vec<Association> = pairs(
        c,
        "SELECT context_id, execution_id FROM association WHERE execution_id = ANY($1)",
        &execution_ids,
    )
    .await?
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
    let artifacts: Vec<Artifact> = nodes(c, ns, &artifact_ids).await?;
    let executions: Vec<Execution> = nodes(c, ns, &execution_ids).await?;
    let contexts: Vec<Context> = nodes(c, ns, &context_ids).await?;
    let type_ids: BTreeSet<i64> = artifacts
        .iter()
        .map(|a| a.type_id)
        .chain(executions.iter().map(|e| e.type_id))
        .chain(contexts.iter().map(|c| c.type_id))
        .collect();
    let type_ids: Vec<i64> = type_ids.into_iter().collect();
    Ok(LineageGraph {
        types: types_by_id(c, ns, &type_ids).await?,
        artifacts,
        executions,
        contexts,
        events,
        attributions,
        associations,
    })
}

async fn pairs(c: &mut Conn, sql: &str, ids: &[i64]) -> Result<Vec<(i64, i64)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = c
        .query(sql, &[&ids])
        .await
        .map_err(pg("query links"))?
        .iter()
        .map(|r| Ok((get(r, 0)?, get(r, 1)?)))
        .collect::<Result<Vec<(i64, i64)>>>()?;
    out.sort_unstable();
    Ok(out)
}

pub(crate) async fn counts(c: &mut Conn, ns: &str) -> Result<StoreCounts> {
    let row = c
        .query_opt(
            "SELECT (SELECT count(*) FROM type WHERE namespace = $1), \
             (SELECT count(*) FROM artifact WHERE namespace = $1), \
             (SELECT count(*) FROM execution WHERE namespace = $1), \
             (SELECT count(*) FROM context WHERE namespace = $1), \
             (SELECT count(*) FROM event e JOIN artifact a ON a.id = e.artifact_id \
              WHERE a.namespace = $1), \
             (SELECT count(*) FROM attribution l JOIN context c ON c.id = l.context_id \
              WHERE c.namespace = $1), \
             (SELECT count(*) FROM association l JOIN context c ON c.id = l.context_id \
              WHERE c.namespace = $1), \
             (SELECT count(*) FROM parent_context l JOIN context c ON c.id = l.context_id \
              WHERE c.namespace = $1)",
            &[&ns],
        )
        .await
        .map_err(pg("count"))?
        .ok_or_else(|| Error::Backend {
            operation: "count".to_owned(),
            message: "no row".to_owned(),
        })?;
    let n =
        |i: usize| -> Result<u64> { Ok(u64::try_from(get::<i64>(&row, i)?).unwrap_or_default()) };
    Ok(StoreCounts {
        types: n(0)?,
        artifacts: n(1)?,
        executions: n(2)?,
        contexts: n(3)?,
        events: n(4)?,
        attributions: n(5)?,
        associations: n(6)?,
        parent_contexts: n(7)?,
    })
}
