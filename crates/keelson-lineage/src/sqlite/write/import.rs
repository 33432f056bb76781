//! The writer's import path ([`MetadataStore::import_batch`](crate::MetadataStore::import_batch)):
//! rows keyed by a source's ids, written with their own times, recognised
//! on a second import through the `import_source` table.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};
use crate::event::Event;
use crate::import::{ImportBatch, ImportTallies, ImportTally, SourceRow};
use crate::link::ParentContext;
use crate::node::{Artifact, Context, Execution};
use crate::types::{NodeKind, NodeType, TypeOptions, evolve_type};

use super::{
    Caches, LinkKind, WritableNode, Writer, backend, insert_event, insert_type,
    insert_type_properties, link, link_parent, now_ms, read, require, upsert,
};

/// `import_source.kind` of types and events (nodes use their kind's code).
const TYPE_KIND: i64 = 3;
const EVENT_KIND: i64 = 4;

/// A type merges in whatever properties the source declares, and keeps
/// those it lacks: the import never narrows a type.
const MERGE: TypeOptions = TypeOptions {
    can_add_fields: true,
    can_omit_fields: true,
};

#[derive(Clone, Copy)]
enum Outcome {
    Inserted,
    Updated,
    Unchanged,
}

fn tally(t: &mut ImportTally, outcome: Outcome) {
    match outcome {
        Outcome::Inserted => t.inserted += 1,
        Outcome::Updated => t.updated += 1,
        Outcome::Unchanged => t.unchanged += 1,
    }
}

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

    fn import_node<N: Importable>(
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
    fn set_times<N: Importable>(&self, id: i64, create: i64, update: i64) -> Result<()> {
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

fn added(new: bool) -> Outcome {
    if new {
        Outcome::Inserted
    } else {
        Outcome::Unchanged
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
                tally(&mut out.types, outcome);
            }
            for row in &batch.contexts {
                tally(&mut out.contexts, target.import_node(cache, row, now)?);
            }
            for row in &batch.artifacts {
                tally(&mut out.artifacts, target.import_node(cache, row, now)?);
            }
            for row in &batch.executions {
                tally(&mut out.executions, target.import_node(cache, row, now)?);
            }
            for row in &batch.events {
                tally(&mut out.events, target.import_event(row)?);
            }
            for l in &batch.parent_contexts {
                let link = ParentContext {
                    child_id: target.node(NodeKind::Context, l.child_id)?,
                    parent_id: target.node(NodeKind::Context, l.parent_id)?,
                };
                tally(&mut out.parent_contexts, added(link_parent(tx, &link)?));
            }
            for l in &batch.attributions {
                let context = target.node(NodeKind::Context, l.context_id)?;
                let artifact = target.node(NodeKind::Artifact, l.artifact_id)?;
                let new = link(tx, LinkKind::Attribution, context, artifact)?;
                tally(&mut out.attributions, added(new));
            }
            for l in &batch.associations {
                let context = target.node(NodeKind::Context, l.context_id)?;
                let execution = target.node(NodeKind::Execution, l.execution_id)?;
                let new = link(tx, LinkKind::Association, context, execution)?;
                tally(&mut out.associations, added(new));
            }
            Ok(out)
        })
    }
}

/// A node the import path can write: with the store's ids in place of the
/// source's, and its source times.
trait Importable: WritableNode + PartialEq + Clone {
    /// A copy with id `id` and type `type_id`.
    fn rebased(&self, id: Option<i64>, type_id: i64) -> Self;
    /// `(create_time_since_epoch, last_update_time_since_epoch)`.
    fn times(&self) -> (i64, i64);
}

macro_rules! importable {
    ($($node:ty),*) => {$(
        impl Importable for $node {
            fn rebased(&self, id: Option<i64>, type_id: i64) -> Self {
                Self {
                    id,
                    type_id,
                    ..self.clone()
                }
            }

            fn times(&self) -> (i64, i64) {
                (self.create_time_since_epoch, self.last_update_time_since_epoch)
            }
        }
    )*};
}

importable!(Artifact, Execution, Context);
