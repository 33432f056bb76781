//! The import path of the PostgreSQL backend
//! ([`MetadataStore::import_batch`](crate::MetadataStore::import_batch)):
//! rows keyed by a source's ids, written with their own times, recognised
//! on a second import through the `import_source` table.

use crate::error::{Error, Result};
use crate::event::Event;
use crate::import::outcome::{EVENT_KIND, MERGE, Outcome, TYPE_KIND};
use crate::import::{ImportBatch, ImportTallies, SourceRow};
use crate::link::ParentContext;
use crate::record::now_ms;
use crate::types::{NodeKind, NodeType, evolve_type};

use super::super::{Conn, pg};
use super::{
    LinkKind, PgWritable, TypeCache, insert_event, insert_type, insert_type_properties, link,
    link_parent, read, require, upsert,
};

/// Where the rows of one source go in one namespace.
struct Target<'a> {
    ns: &'a str,
    source: &'a str,
}

impl Target<'_> {
    async fn mapped(&self, c: &mut Conn, kind: i64, source_id: i64) -> Result<Option<i64>> {
        c.query_opt(
            "SELECT target_id FROM import_source \
             WHERE namespace = $1 AND source = $2 AND kind = $3 AND source_id = $4",
            &[&self.ns, &self.source, &kind, &source_id],
        )
        .await
        .map_err(pg("read import_source"))?
        .map(|r| r.try_get(0))
        .transpose()
        .map_err(pg("read import_source"))
    }

    async fn remember(
        &self,
        c: &mut Conn,
        kind: i64,
        source_id: i64,
        target_id: i64,
    ) -> Result<()> {
        c.execute(
            "INSERT INTO import_source(namespace, source, kind, source_id, target_id) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (namespace, source, kind, source_id) \
             DO UPDATE SET target_id = EXCLUDED.target_id",
            &[&self.ns, &self.source, &kind, &source_id, &target_id],
        )
        .await
        .map_err(pg("write import_source"))?;
        Ok(())
    }

    /// The store's id of source node `source_id`, which must have been
    /// imported and still exist.
    async fn node(&self, c: &mut Conn, kind: NodeKind, source_id: i64) -> Result<i64> {
        let missing = || {
            Error::not_found(format!(
                "{kind} {source_id} of source {:?} (not imported)",
                self.source
            ))
        };
        let id = self
            .mapped(c, kind.code(), source_id)
            .await?
            .ok_or_else(missing)?;
        require(c, self.ns, kind, id).await.map_err(|_| missing())?;
        Ok(id)
    }

    async fn import_type(&self, c: &mut Conn, row: &SourceRow<NodeType>) -> Result<Outcome> {
        let mut t = row.row.clone();
        t.id = None;
        t.validate()?;
        let by_source = match self.mapped(c, TYPE_KIND, row.source_id).await? {
            Some(id) => read::types_by_id(c, self.ns, &[id])
                .await?
                .pop()
                .filter(|stored| stored.kind == t.kind),
            None => None,
        };
        let stored = match by_source {
            Some(stored) => Some(stored),
            None => read::type_by_name(c, self.ns, t.kind, &t.name, t.version.as_deref()).await?,
        };
        let (id, outcome) = match stored {
            Some(stored) => {
                let id = stored.id.unwrap_or_default();
                let added = evolve_type(&stored, &t, MERGE)?;
                insert_type_properties(c, id, &added).await?;
                let outcome = if added.is_empty() {
                    Outcome::Unchanged
                } else {
                    Outcome::Updated
                };
                (id, outcome)
            }
            None => (insert_type(c, self.ns, &t).await?, Outcome::Inserted),
        };
        self.remember(c, TYPE_KIND, row.source_id, id).await?;
        Ok(outcome)
    }

    async fn import_node<N: PgWritable>(
        &self,
        c: &mut Conn,
        cache: &mut TypeCache,
        row: &SourceRow<N>,
        now: i64,
    ) -> Result<Outcome> {
        let type_id = self
            .mapped(c, TYPE_KIND, row.row.type_id())
            .await?
            .ok_or_else(|| {
                Error::not_found(format!(
                    "{} type {} of source {:?} (not imported)",
                    N::KIND,
                    row.row.type_id(),
                    self.source
                ))
            })?;
        let existing = match self.mapped(c, N::KIND.code(), row.source_id).await? {
            Some(id) => read::nodes::<N>(c, self.ns, &[id]).await?.pop(),
            None => None,
        };
        let (create, update) = row.row.times();
        match existing {
            Some(stored) => {
                let given = row.row.rebased(stored.id(), type_id);
                if given == stored {
                    return Ok(Outcome::Unchanged);
                }
                let id = upsert(c, cache, self.ns, now, &given).await?;
                set_times::<N>(c, id, create, update).await?;
                Ok(Outcome::Updated)
            }
            None => {
                let given = row.row.rebased(None, type_id);
                let id = upsert(c, cache, self.ns, now, &given).await?;
                set_times::<N>(c, id, create, update).await?;
                self.remember(c, N::KIND.code(), row.source_id, id).await?;
                Ok(Outcome::Inserted)
            }
        }
    }

    async fn import_event(&self, c: &mut Conn, row: &SourceRow<Event>) -> Result<Outcome> {
        if let Some(id) = self.mapped(c, EVENT_KIND, row.source_id).await? {
            let present = c
                .query_opt("SELECT 1 FROM event WHERE id = $1", &[&id])
                .await
                .map_err(pg("find event"))?;
            // Events never change in MLMD: a present one is the same event.
            if present.is_some() {
                return Ok(Outcome::Unchanged);
            }
        }
        row.row.validate()?;
        let event = Event {
            artifact_id: self
                .node(c, NodeKind::Artifact, row.row.artifact_id)
                .await?,
            execution_id: self
                .node(c, NodeKind::Execution, row.row.execution_id)
                .await?,
            ..row.row.clone()
        };
        let id = insert_event(c, &event, None).await?;
        self.remember(c, EVENT_KIND, row.source_id, id).await?;
        Ok(Outcome::Inserted)
    }
}

/// Puts the source's times on a row the normal write path stamped.
async fn set_times<N: PgWritable>(c: &mut Conn, id: i64, create: i64, update: i64) -> Result<()> {
    let sql = format!(
        "UPDATE {} SET create_time_since_epoch = $1, last_update_time_since_epoch = $2 \
         WHERE id = $3",
        N::KIND.table()
    );
    c.execute(&sql, &[&create, &update, &id])
        .await
        .map_err(pg("keep source times"))?;
    Ok(())
}

pub(crate) async fn import_batch(
    c: &mut Conn,
    ns: &str,
    batch: &ImportBatch,
) -> Result<ImportTallies> {
    let now = now_ms();
    let target = Target {
        ns,
        source: &batch.source,
    };
    // Read after the types are written: properties they gained count.
    let mut cache = TypeCache::new();
    let mut out = ImportTallies::default();
    for row in &batch.types {
        target.import_type(c, row).await?.count(&mut out.types);
    }
    for row in &batch.contexts {
        target
            .import_node(c, &mut cache, row, now)
            .await?
            .count(&mut out.contexts);
    }
    for row in &batch.artifacts {
        target
            .import_node(c, &mut cache, row, now)
            .await?
            .count(&mut out.artifacts);
    }
    for row in &batch.executions {
        target
            .import_node(c, &mut cache, row, now)
            .await?
            .count(&mut out.executions);
    }
    for row in &batch.events {
        target.import_event(c, row).await?.count(&mut out.events);
    }
    for l in &batch.parent_contexts {
        let link = ParentContext {
            child_id: target.node(c, NodeKind::Context, l.child_id).await?,
            parent_id: target.node(c, NodeKind::Context, l.parent_id).await?,
        };
        Outcome::of_link(link_parent(c, &link).await?).count(&mut out.parent_contexts);
    }
    for l in &batch.attributions {
        let context = target.node(c, NodeKind::Context, l.context_id).await?;
        let artifact = target.node(c, NodeKind::Artifact, l.artifact_id).await?;
        let new = link(c, LinkKind::Attribution, context, artifact).await?;
        Outcome::of_link(new).count(&mut out.attributions);
    }
    for l in &batch.associations {
        let context = target.node(c, NodeKind::Context, l.context_id).await?;
        let execution = target.node(c, NodeKind::Execution, l.execution_id).await?;
        let new = link(c, LinkKind::Association, context, execution).await?;
        Outcome::of_link(new).count(&mut out.associations);
    }
    Ok(out)
}
