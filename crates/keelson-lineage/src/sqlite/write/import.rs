//! The writer's import path ([`MetadataStore::import_batch`](crate::MetadataStore::import_batch)):
//! rows keyed by a source's ids, written with their own times, recognised
//! on a second import through the `import_source` table.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};
use crate::event::Event;
use crate::import::outcome::{EVENT_KIND, MERGE, Outcome, TYPE_KIND};
use crate::import::{ImportBatch, ImportTallies, SourceRow};
use crate::link::ParentContext;
use crate::record::now_ms;
use crate::types::{NodeKind, NodeType, evolve_type};

use super::{
    Caches, LinkKind, WritableNode, Writer, backend, insert_event, insert_type,
    insert_type_properties, link, link_parent, read, require, upsert,
};

/// Where the rows of one source go in one namespace.
struct Target<'a> {
    tx: &'a Connection,
    ns: &'a str,
    source: &'a str,
}

impl Target<'_> {
    fn mapped(&self, kind: i64, source_id: i64) -> Result<Option<i64>> {
        self.tx
            .prepare_cached(
                "SELECT target_id FROM import_source \
                 WHERE namespace = ?1 AND source = ?2 AND kind = ?3 AND source_id = ?4",
            )
            .and_then(|mut s| {
                s.query_row(params![self.ns, self.source, kind, source_id], |r| r.get(0))
                    .optional()
            })
            .map_err(backend("read import_source"))
    }

    fn remember(&self, kind: i64, source_id: i64, target_id: i64) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT OR REPLACE INTO import_source(namespace, source, kind, source_id, target_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| s.execute(params![self.ns, self.source, kind, source_id, target_id]))
            .map_err(backend("write import_source"))?;
        Ok(())
    }

    /// The store's id of source node `source_id`, which must have been
    /// imported and still exist.
    fn node(&self, kind: NodeKind, source_id: i64) -> Result<i64> {
        let missing = || {
            Error::not_found(format!(
                "{kind} {source_id} of source {:?} (not imported)",
                self.source
            ))
        };
        let id = self.mapped(kind.code(), source_id)?.ok_or_else(missing)?;
        require(self.tx, self.ns, kind, id).map_err(|_| missing())?;
        Ok(id)
    }

    fn import_type(&self, row: &SourceRow<NodeType>) -> Result<(i64, Outcome)> {
        let mut t = row.row.clone();
        t.id = None;
        t.validate()?;
        let by_source = match self.mapped(TYPE_KIND, row.source_id)? {
            Some(id) => read::types_by_id(self.tx, self.ns, &[id])?
                .pop()
                .filter(|stored| stored.kind == t.kind),
            None => None,
        };
        let stored = match by_source {
            Some(stored) => Some(stored),
            None => read::type_by_name(self.tx, self.ns, t.kind, &t.name, t.version.as_deref())?,
        };
        let (id, outcome) = match stored {
            Some(stored) => {
                let id = stored.id.unwrap_or_default();
                let added = evolve_type(&stored, &t, MERGE)?;
                insert_type_properties(self.tx, id, added.iter().map(|(n, ty)| (n, ty)))?;
                let outcome = if added.is_empty() {
                    Outcome::Unchanged
                } else {
                    Outcome::Updated
                };
                (id, outcome)
            }
            None => (insert_type(self.tx, self.ns, &t)?, Outcome::Inserted),
        };
        self.remember(TYPE_KIND, row.source_id, id)?;
        Ok((id, outcome))
    }

    fn import_node<N: WritableNode>(
        &self,
        cache: &mut Caches,
        row: &SourceRow<N>,
        now: i64,
    ) -> Result<Outcome> {
        let type_id = self.mapped(TYPE_KIND, row.row.type_id())?.ok_or_else(|| {
            Error::not_found(format!(
                "{} type {} of source {:?} (not imported)",
                N::KIND,
                row.row.type_id(),
                self.source
            ))
        })?;
        let existing = match self.mapped(N::KIND.code(), row.source_id)? {
            Some(id) => read::nodes::<N>(self.tx, self.ns, &[id])?.pop(),
            None => None,
        };
        let (create, update) = row.row.times();
        match existing {
            Some(stored) => {
                let given = row.row.rebased(stored.id(), type_id);
                if given == stored {
                    return Ok(Outcome::Unchanged);
                }
                let id = upsert(self.tx, cache, self.ns, now, &given)?;
                self.set_times::<N>(id, create, update)?;
                Ok(Outcome::Updated)
            }
            None => {
                let given = row.row.rebased(None, type_id);
                let id = upsert(self.tx, cache, self.ns, now, &given)?;
                self.set_times::<N>(id, create, update)?;
                self.remember(N::KIND.code(), row.source_id, id)?;
                Ok(Outcome::Inserted)
            }
        }
    }

    /// Puts the source's times on a row the normal write path stamped.
    fn set_times<N: WritableNode>(&self, id: i64, create: i64, update: i64) -> Result<()> {
        self.tx
            .prepare_cached(&format!(
                "UPDATE {} SET create_time_since_epoch = ?1, last_update_time_since_epoch = ?2 \
                 WHERE id = ?3",
                N::KIND.table()
            ))
            .and_then(|mut s| s.execute(params![create, update, id]))
            .map_err(backend("keep source times"))?;
        Ok(())
    }

    fn import_event(&self, row: &SourceRow<Event>) -> Result<Outcome> {
        if let Some(id) = self.mapped(EVENT_KIND, row.source_id)? {
            let present: Option<i64> = self
                .tx
                .prepare_cached("SELECT 1 FROM event WHERE id = ?1")
                .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
                .map_err(backend("find event"))?;
            // Events never change in MLMD: a present one is the same event.
            if present.is_some() {
                return Ok(Outcome::Unchanged);
            }
        }
        row.row.validate()?;
        let event = Event {
            artifact_id: self.node(NodeKind::Artifact, row.row.artifact_id)?,
            execution_id: self.node(NodeKind::Execution, row.row.execution_id)?,
            ..row.row.clone()
        };
        let id = insert_event(self.tx, &event, None)?;
        self.remember(EVENT_KIND, row.source_id, id)?;
        Ok(Outcome::Inserted)
    }
}

impl Writer {
    pub(crate) fn import_batch(&mut self, ns: &str, batch: &ImportBatch) -> Result<ImportTallies> {
        let now = now_ms();
        self.transaction(|tx, cache| {
            let target = Target {
                tx,
                ns,
                source: &batch.source,
            };
            let mut out = ImportTallies::default();
            for row in &batch.types {
                let (id, outcome) = target.import_type(row)?;
                // Its properties may have grown.
                cache.types.remove(&id);
                outcome.count(&mut out.types);
            }
            for row in &batch.contexts {
                target
                    .import_node(cache, row, now)?
                    .count(&mut out.contexts);
            }
            for row in &batch.artifacts {
                target
                    .import_node(cache, row, now)?
                    .count(&mut out.artifacts);
            }
            for row in &batch.executions {
                target
                    .import_node(cache, row, now)?
                    .count(&mut out.executions);
            }
            for row in &batch.events {
                target.import_event(row)?.count(&mut out.events);
            }
            for l in &batch.parent_contexts {
                let link = ParentContext {
                    child_id: target.node(NodeKind::Context, l.child_id)?,
                    parent_id: target.node(NodeKind::Context, l.parent_id)?,
                };
                Outcome::of_link(link_parent(tx, &link)?).count(&mut out.parent_contexts);
            }
            for l in &batch.attributions {
                let context = target.node(NodeKind::Context, l.context_id)?;
                let artifact = target.node(NodeKind::Artifact, l.artifact_id)?;
                let new = link(tx, LinkKind::Attribution, context, artifact)?;
                Outcome::of_link(new).count(&mut out.attributions);
            }
            for l in &batch.associations {
                let context = target.node(NodeKind::Context, l.context_id)?;
                let execution = target.node(NodeKind::Execution, l.execution_id)?;
                let new = link(tx, LinkKind::Association, context, execution)?;
                Outcome::of_link(new).count(&mut out.associations);
            }
            Ok(out)
        })
    }
}
