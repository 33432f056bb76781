//! Writes of the PostgreSQL backend. Each function runs inside the one
//! transaction its caller opened (see `write_tx!` in the module), so on
//! error nothing of the call is kept.

use std::collections::{BTreeMap, HashMap};

use tokio_postgres::error::SqlState;

use crate::error::{Error, Result};
use crate::event::{Event, PathStep};
use crate::link::{Association, Attribution, ParentContext};
use crate::node::{Artifact, Context, Execution};
use crate::record::{NodeRecord, now_ms};
use crate::store::{DeletePolicy, PutExecutionResult};
use crate::types::{NodeKind, NodeType, TypeOptions, evolve_type};
use crate::value::PropertyType;

use super::read::{self, PgNode};
use super::{Conn, Param, pg, refs};

pub(crate) mod import;

/// A stored type as writes check nodes against it.
pub(crate) struct CachedType {
    namespace: String,
    kind: NodeKind,
    properties: BTreeMap<String, PropertyType>,
}

/// The types one transaction has read, by id.
pub(crate) type TypeCache = HashMap<i64, CachedType>;

/// Maps a unique violation to [`Error::AlreadyExists`] naming `what`.
fn unique<'a>(
    what: impl FnOnce() -> String + 'a,
    operation: &'a str,
) -> impl FnOnce(tokio_postgres::Error) -> Error + 'a {
    move |e| {
        if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
            Error::AlreadyExists { what: what() }
        } else {
            pg(operation)(e)
        }
    }
}

pub(crate) async fn put_type(
    c: &mut Conn,
    ns: &str,
    t: &NodeType,
    options: TypeOptions,
) -> Result<i64> {
    let stored = read::type_by_name(c, ns, t.kind, &t.name, t.version.as_deref()).await?;
    if let Some(stored) = stored {
        let id = stored.id.unwrap_or_default();
        let added = evolve_type(&stored, t, options)?;
        insert_type_properties(c, id, &added).await?;
        return Ok(id);
    }
    insert_type(c, ns, t).await
}

pub(crate) async fn insert_type(c: &mut Conn, ns: &str, t: &NodeType) -> Result<i64> {
    let row = c
        .query_opt(
            "INSERT INTO type(namespace, kind, name, version, description, external_id, \
             base_type) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            &[
                &ns,
                &t.kind.code(),
                &t.name,
                &t.version,
                &t.description,
                &t.external_id,
                &t.base_type,
            ],
        )
        .await
        .map_err(unique(|| t.label(), "insert type"))?;
    let id = returned_id(row, "insert type")?;
    let props: Vec<(String, PropertyType)> = t
        .properties
        .iter()
        .map(|(n, ty)| (n.clone(), *ty))
        .collect();
    insert_type_properties(c, id, &props).await?;
    Ok(id)
}

fn returned_id(row: Option<tokio_postgres::Row>, operation: &str) -> Result<i64> {
    let row = row.ok_or_else(|| Error::Backend {
        operation: operation.to_owned(),
        message: "no id returned".to_owned(),
    })?;
    row.try_get(0).map_err(pg(operation))
}

pub(crate) async fn insert_type_properties(
    c: &mut Conn,
    type_id: i64,
    props: &[(String, PropertyType)],
) -> Result<()> {
    for (name, ty) in props {
        c.execute(
            "INSERT INTO type_property(type_id, name, data_type) VALUES ($1, $2, $3)",
            &[&type_id, name, &ty.code()],
        )
        .await
        .map_err(pg("insert type property"))?;
    }
    Ok(())
}

pub(crate) async fn put_nodes<N: PgWritable>(
    c: &mut Conn,
    ns: &str,
    nodes: &[N],
) -> Result<Vec<i64>> {
    let now = now_ms();
    let mut cache = TypeCache::new();
    let mut ids = Vec::with_capacity(nodes.len());
    for n in nodes {
        ids.push(upsert(c, &mut cache, ns, now, n).await?);
    }
    Ok(ids)
}

pub(crate) async fn put_events(c: &mut Conn, ns: &str, events: &[Event]) -> Result<()> {
    let now = now_ms();
    for e in events {
        require(c, ns, NodeKind::Artifact, e.artifact_id).await?;
        require(c, ns, NodeKind::Execution, e.execution_id).await?;
        insert_event(c, e, Some(now)).await?;
    }
    Ok(())
}

pub(crate) async fn put_execution(
    c: &mut Conn,
    ns: &str,
    execution: &Execution,
    pairs: &[(Artifact, Option<Event>)],
    contexts: &[Context],
) -> Result<PutExecutionResult> {
    let now = now_ms();
    // Every type and every node given by id is read up front, one query
    // per table, instead of one or two round trips per node.
    let type_ids: Vec<i64> = std::iter::once(execution.type_id)
        .chain(pairs.iter().map(|(a, _)| a.type_id))
        .chain(contexts.iter().map(|x| x.type_id))
        .collect();
    let mut cache = TypeCache::new();
    load_types(c, &mut cache, &type_ids).await?;
    let mut known_artifacts = prefetch_nodes(c, ns, pairs.iter().map(|(a, _)| a)).await?;
    let mut known_contexts = prefetch_nodes(c, ns, contexts.iter()).await?;
    let execution_id = upsert(c, &mut cache, ns, now, execution).await?;
    let mut artifact_ids = Vec::with_capacity(pairs.len());
    for (artifact, event) in pairs {
        let artifact_id =
            upsert_known(c, &mut cache, ns, now, artifact, &mut known_artifacts).await?;
        if let Some(event) = event {
            let event = Event {
                artifact_id,
                execution_id,
                ..event.clone()
            };
            insert_event(c, &event, Some(now)).await?;
        }
        artifact_ids.push(artifact_id);
    }
    let mut context_ids = Vec::with_capacity(contexts.len());
    for context in contexts {
        let context_id = upsert_known(c, &mut cache, ns, now, context, &mut known_contexts).await?;
        if !artifact_ids.is_empty() {
            c.execute(
                "INSERT INTO attribution(context_id, artifact_id) \
                 SELECT $1, a FROM UNNEST($2::bigint[]) AS u(a) ON CONFLICT DO NOTHING",
                &[&context_id, &artifact_ids],
            )
            .await
            .map_err(pg("insert links"))?;
        }
        link(c, LinkKind::Association, context_id, execution_id).await?;
        context_ids.push(context_id);
    }
    Ok(PutExecutionResult {
        execution_id,
        artifact_ids,
        context_ids,
    })
}

pub(crate) async fn put_links(
    c: &mut Conn,
    ns: &str,
    attributions: &[Attribution],
    associations: &[Association],
) -> Result<()> {
    for a in attributions {
        require(c, ns, NodeKind::Context, a.context_id).await?;
        require(c, ns, NodeKind::Artifact, a.artifact_id).await?;
        link(c, LinkKind::Attribution, a.context_id, a.artifact_id).await?;
    }
    for a in associations {
        require(c, ns, NodeKind::Context, a.context_id).await?;
        require(c, ns, NodeKind::Execution, a.execution_id).await?;
        link(c, LinkKind::Association, a.context_id, a.execution_id).await?;
    }
    Ok(())
}

pub(crate) async fn put_parent_contexts(
    c: &mut Conn,
    ns: &str,
    links: &[ParentContext],
) -> Result<()> {
    for l in links {
        require(c, ns, NodeKind::Context, l.child_id).await?;
        require(c, ns, NodeKind::Context, l.parent_id).await?;
        link_parent(c, l).await?;
    }
    Ok(())
}

pub(crate) async fn delete(
    c: &mut Conn,
    ns: &str,
    kind: NodeKind,
    id: i64,
    policy: DeletePolicy,
) -> Result<()> {
    require(c, ns, kind, id).await?;
    // (label, count query, delete statements) per kind of link.
    let links: &[(&str, &str, &[&str])] = match kind {
        NodeKind::Artifact => &[
            (
                "events",
                "SELECT count(*) FROM event WHERE artifact_id = $1",
                &[
                    "DELETE FROM event_path WHERE event_id IN \
                     (SELECT id FROM event WHERE artifact_id = $1)",
                    "DELETE FROM event WHERE artifact_id = $1",
                ],
            ),
            (
                "attributions",
                "SELECT count(*) FROM attribution WHERE artifact_id = $1",
                &["DELETE FROM attribution WHERE artifact_id = $1"],
            ),
        ],
        NodeKind::Execution => &[
            (
                "events",
                "SELECT count(*) FROM event WHERE execution_id = $1",
                &[
                    "DELETE FROM event_path WHERE event_id IN \
                     (SELECT id FROM event WHERE execution_id = $1)",
                    "DELETE FROM event WHERE execution_id = $1",
                ],
            ),
            (
                "associations",
                "SELECT count(*) FROM association WHERE execution_id = $1",
                &["DELETE FROM association WHERE execution_id = $1"],
            ),
        ],
        NodeKind::Context => &[
            (
                "attributions",
                "SELECT count(*) FROM attribution WHERE context_id = $1",
                &["DELETE FROM attribution WHERE context_id = $1"],
            ),
            (
                "associations",
                "SELECT count(*) FROM association WHERE context_id = $1",
                &["DELETE FROM association WHERE context_id = $1"],
            ),
            (
                "child contexts",
                "SELECT count(*) FROM parent_context WHERE parent_context_id = $1",
                &["DELETE FROM parent_context WHERE parent_context_id = $1"],
            ),
        ],
    };
    if policy == DeletePolicy::Refuse {
        let mut references = Vec::new();
        for (label, count_sql, _) in links {
            let n: i64 = c
                .query_opt(count_sql, &[&id])
                .await
                .map_err(pg("count references"))?
                .map(|r| r.try_get(0))
                .transpose()
                .map_err(pg("count references"))?
                .unwrap_or_default();
            if n > 0 {
                references.push(format!("{n} {label}"));
            }
        }
        if !references.is_empty() {
            return Err(Error::Referenced {
                what: format!("{kind} {id}"),
                references: references.join(", "),
            });
        }
    } else {
        for (_, _, deletes) in links {
            for sql in *deletes {
                c.execute(sql, &[&id]).await.map_err(pg("delete links"))?;
            }
        }
    }
    if kind == NodeKind::Context {
        c.execute("DELETE FROM parent_context WHERE context_id = $1", &[&id])
            .await
            .map_err(pg("delete parent links"))?;
    }
    let sql = format!(
        "DELETE FROM {} WHERE {} = $1",
        kind.property_table(),
        kind.property_owner()
    );
    c.execute(&sql, &[&id])
        .await
        .map_err(pg("delete properties"))?;
    let sql = format!("DELETE FROM {} WHERE id = $1", kind.table());
    c.execute(&sql, &[&id]).await.map_err(pg("delete node"))?;
    Ok(())
}

/// Links a child context to a parent (both known to exist in the
/// namespace), refusing a link that would close a cycle; returns whether
/// the link is new.
pub(crate) async fn link_parent(c: &mut Conn, l: &ParentContext) -> Result<bool> {
    // The parent, or one of its ancestors, must not be the child.
    let cycle = c
        .query_opt(
            "WITH RECURSIVE up(id) AS (SELECT $1::bigint UNION \
             SELECT p.parent_context_id FROM parent_context p JOIN up ON p.context_id = up.id) \
             SELECT id FROM up WHERE id = $2",
            &[&l.parent_id, &l.child_id],
        )
        .await
        .map_err(pg("check parent cycle"))?;
    if cycle.is_some() {
        return Err(Error::invalid(
            "parent_context",
            format!(
                "making context {} a parent of context {} would close a cycle",
                l.parent_id, l.child_id
            ),
        ));
    }
    let added = c
        .execute(
            "INSERT INTO parent_context(context_id, parent_context_id) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
            &[&l.child_id, &l.parent_id],
        )
        .await
        .map_err(pg("insert parent context"))?;
    Ok(added > 0)
}

/// The stored type `type_id`, which must be of `kind` in `ns`.
async fn type_of<'a>(
    c: &mut Conn,
    cache: &'a mut TypeCache,
    ns: &str,
    kind: NodeKind,
    type_id: i64,
) -> Result<&'a CachedType> {
    if !cache.contains_key(&type_id) {
        load_types(c, cache, &[type_id]).await?;
    }
    match cache.get(&type_id) {
        Some(t) if t.namespace == ns && t.kind == kind => Ok(t),
        _ => Err(Error::not_found(format!("{kind} type {type_id}"))),
    }
}

/// Fails with [`Error::NotFound`] unless node `id` of `kind` is in `ns`.
pub(crate) async fn require(c: &mut Conn, ns: &str, kind: NodeKind, id: i64) -> Result<()> {
    let sql = match kind {
        NodeKind::Artifact => "SELECT 1 FROM artifact WHERE id = $1 AND namespace = $2",
        NodeKind::Execution => "SELECT 1 FROM execution WHERE id = $1 AND namespace = $2",
        NodeKind::Context => "SELECT 1 FROM context WHERE id = $1 AND namespace = $2",
    };
    match c
        .query_opt(sql, &[&id, &ns])
        .await
        .map_err(pg("find node"))?
    {
        Some(_) => Ok(()),
        None => Err(Error::not_found(format!("{kind} {id}"))),
    }
}

#[derive(Clone, Copy)]
pub(crate) enum LinkKind {
    Attribution,
    Association,
}

/// Links a node to a context; returns whether the link is new.
pub(crate) async fn link(
    c: &mut Conn,
    kind: LinkKind,
    context_id: i64,
    node_id: i64,
) -> Result<bool> {
    let sql = match kind {
        LinkKind::Attribution => {
            "INSERT INTO attribution(context_id, artifact_id) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING"
        }
        LinkKind::Association => {
            "INSERT INTO association(context_id, execution_id) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING"
        }
    };
    let added = c
        .execute(sql, &[&context_id, &node_id])
        .await
        .map_err(pg("insert link"))?;
    Ok(added > 0)
}

/// Inserts an event with its path; a missing time becomes `now` (`None`
/// keeps it missing). Returns the event's id.
pub(crate) async fn insert_event(c: &mut Conn, e: &Event, now: Option<i64>) -> Result<i64> {
    let mut is_index: Vec<bool> = Vec::with_capacity(e.path.len());
    let mut indexes: Vec<Option<i64>> = Vec::with_capacity(e.path.len());
    let mut keys: Vec<Option<&str>> = Vec::with_capacity(e.path.len());
    for step in &e.path {
        let (i, index, key) = match step {
            PathStep::Index(n) => (true, Some(*n), None),
            PathStep::Key(k) => (false, None, Some(k.as_str())),
        };
        is_index.push(i);
        indexes.push(index);
        keys.push(key);
    }
    // The event and its path in one statement (one round trip).
    let row = c
        .query_opt(
            "WITH e AS (INSERT INTO event(artifact_id, execution_id, type, \
             milliseconds_since_epoch) VALUES ($1, $2, $3, $4) RETURNING id), \
             p AS (INSERT INTO event_path(event_id, step_index, is_index_step, \
             step_index_value, step_key) SELECT e.id, u.ord - 1, u.is_index, u.idx, u.step_key \
             FROM e, UNNEST($5::boolean[], $6::bigint[], $7::text[]) \
             WITH ORDINALITY AS u(is_index, idx, step_key, ord)) \
             SELECT id FROM e",
            &[
                &e.artifact_id,
                &e.execution_id,
                &e.event_type.code(),
                &e.milliseconds_since_epoch.or(now),
                &is_index,
                &indexes,
                &keys,
            ],
        )
        .await
        .map_err(pg("insert event"))?;
    returned_id(row, "insert event")
}

/// A node the PostgreSQL backend can insert or update: its statements and
/// the values of its own columns.
pub(crate) trait PgWritable: PgNode {
    /// `INSERT … RETURNING id` with `$1` the namespace, `$2` the time,
    /// `$3` the type id and then [`PgWritable::fields`].
    const INSERT: &'static str;
    /// `UPDATE` with the same parameters as [`PgWritable::INSERT`] and the
    /// id last.
    const UPDATE: &'static str;
    /// The values of the node's own columns, in the statements' order.
    fn fields(&self) -> Vec<Param>;
}

impl PgWritable for Artifact {
    const INSERT: &'static str = "INSERT INTO artifact(namespace, create_time_since_epoch, \
        last_update_time_since_epoch, type_id, name, uri, state, external_id) \
        VALUES ($1, $2, $2, $3, $4, $5, $6, $7) RETURNING id";
    const UPDATE: &'static str = "UPDATE artifact SET last_update_time_since_epoch = $2, \
        name = $4, uri = $5, state = $6, external_id = $7 \
        WHERE id = $8 AND namespace = $1 AND type_id = $3";

    fn fields(&self) -> Vec<Param> {
        vec![
            Box::new(self.name.clone()),
            Box::new(self.uri.clone()),
            Box::new(self.state.code()),
            Box::new(self.external_id.clone()),
        ]
    }
}

impl PgWritable for Execution {
    const INSERT: &'static str = "INSERT INTO execution(namespace, create_time_since_epoch, \
        last_update_time_since_epoch, type_id, name, last_known_state, external_id) \
        VALUES ($1, $2, $2, $3, $4, $5, $6) RETURNING id";
    const UPDATE: &'static str = "UPDATE execution SET last_update_time_since_epoch = $2, \
        name = $4, last_known_state = $5, external_id = $6 \
        WHERE id = $7 AND namespace = $1 AND type_id = $3";

    fn fields(&self) -> Vec<Param> {
        vec![
            Box::new(self.name.clone()),
            Box::new(self.last_known_state.code()),
            Box::new(self.external_id.clone()),
        ]
    }
}

impl PgWritable for Context {
    const INSERT: &'static str = "INSERT INTO context(namespace, create_time_since_epoch, \
        last_update_time_since_epoch, type_id, name, external_id) \
        VALUES ($1, $2, $2, $3, $4, $5) RETURNING id";
    const UPDATE: &'static str = "UPDATE context SET last_update_time_since_epoch = $2, \
        name = $4, external_id = $5 WHERE id = $6 AND namespace = $1 AND type_id = $3";

    fn fields(&self) -> Vec<Param> {
        vec![
            Box::new(self.name.clone()),
            Box::new(self.external_id.clone()),
        ]
    }
}

/// Adds the stored types among `ids` to `cache`, read in one query (ids of
/// no type are left out).
async fn load_types(c: &mut Conn, cache: &mut TypeCache, ids: &[i64]) -> Result<()> {
    let mut unique = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    for (id, (namespace, code, properties)) in read::type_rows(c, &unique).await? {
        let kind = NodeKind::from_code(code).ok_or_else(|| Error::Corrupt {
            what: format!("type {id} kind {code}"),
        })?;
        cache.insert(
            id,
            CachedType {
                namespace,
                kind,
                properties,
            },
        );
    }
    Ok(())
}

/// The stored nodes of `ns` among those of `nodes` given by id, by id.
async fn prefetch_nodes<'a, N: PgWritable + 'a>(
    c: &mut Conn,
    ns: &str,
    nodes: impl Iterator<Item = &'a N>,
) -> Result<HashMap<i64, N>> {
    let ids: Vec<i64> = nodes.filter_map(NodeRecord::id).collect();
    let stored = read::nodes::<N>(c, ns, &ids).await?;
    Ok(stored
        .into_iter()
        .filter_map(|n| n.id().map(|id| (id, n)))
        .collect())
}

/// Inserts (id `None`) or updates one node with its properties; returns its id.
pub(crate) async fn upsert<N: PgWritable>(
    c: &mut Conn,
    cache: &mut TypeCache,
    ns: &str,
    now: i64,
    node: &N,
) -> Result<i64> {
    upsert_known(c, cache, ns, now, node, &mut HashMap::new()).await
}

/// [`upsert`], where `known` holds stored nodes read before: a node found
/// there is taken out, so a node given twice in one call is read back the
/// second time, after the first may have changed it.
async fn upsert_known<N: PgWritable>(
    c: &mut Conn,
    cache: &mut TypeCache,
    ns: &str,
    now: i64,
    node: &N,
    known: &mut HashMap<i64, N>,
) -> Result<i64> {
    let ty = type_of(c, cache, ns, N::KIND, node.type_id()).await?;
    node.validate(&ty.properties)?;
    let mut params: Vec<Param> = vec![
        Box::new(ns.to_owned()),
        Box::new(now),
        Box::new(node.type_id()),
    ];
    params.extend(node.fields());
    let id = match node.id() {
        None => {
            let row = c
                .query_opt(N::INSERT, &refs(&params))
                .await
                .map_err(unique(|| node.label(), "insert node"))?;
            returned_id(row, "insert node")?
        }
        Some(id) => {
            let stored = match known.remove(&id) {
                Some(n) => Some(n),
                None => read::nodes::<N>(c, ns, &[id]).await?.pop(),
            };
            let Some(stored) = stored else {
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
            // is not rewritten, and its update time keeps meaning "last
            // changed".
            if node.same_content(&stored) {
                return Ok(id);
            }
            params.push(Box::new(id));
            c.execute(N::UPDATE, &refs(&params))
                .await
                .map_err(unique(|| node.label(), "update node"))?;
            let sql = format!(
                "DELETE FROM {} WHERE {} = $1",
                N::KIND.property_table(),
                N::KIND.property_owner()
            );
            c.execute(&sql, &[&id])
                .await
                .map_err(pg("replace properties"))?;
            id
        }
    };
    write_properties(c, id, node).await?;
    Ok(id)
}

/// Inserts a node's properties and custom properties in one statement,
/// one array per column: a statement per property was a third of the round
/// trips of a `put_execution`.
async fn write_properties<N: NodeRecord>(c: &mut Conn, id: i64, node: &N) -> Result<()> {
    let mut names: Vec<&str> = Vec::new();
    let mut customs: Vec<bool> = Vec::new();
    let mut ints: Vec<Option<i64>> = Vec::new();
    let mut doubles: Vec<Option<f64>> = Vec::new();
    let mut strings: Vec<Option<&str>> = Vec::new();
    let mut bools: Vec<Option<bool>> = Vec::new();
    let mut structs: Vec<Option<String>> = Vec::new();
    for custom in [false, true] {
        for (name, value) in node.properties(custom) {
            let v = value.columns();
            names.push(name);
            customs.push(custom);
            ints.push(v.int);
            doubles.push(v.double);
            strings.push(v.string);
            bools.push(v.bool);
            structs.push(v.json);
        }
    }
    if names.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO {}({}, name, is_custom_property, int_value, double_value, string_value, \
         bool_value, struct_value) SELECT $1, * FROM UNNEST($2::text[], $3::boolean[], \
         $4::bigint[], $5::float8[], $6::text[], $7::boolean[], $8::text[])",
        N::KIND.property_table(),
        N::KIND.property_owner()
    );
    c.execute(
        &sql,
        &[
            &id, &names, &customs, &ints, &doubles, &strings, &bools, &structs,
        ],
    )
    .await
    .map_err(pg("insert properties"))?;
    Ok(())
}
