//! The SQL schema (the contract in docs/lineage.md) and its migrations.
//!
//! A new store is created at version 0 and migrated forward, so a fresh
//! store and a migrated one run the same statements.

use rusqlite::{Connection, OptionalExtension, Transaction};

use crate::error::{Error, Result};

use super::backend;

/// The schema version this library writes.
pub const CURRENT_VERSION: i64 = 3;

/// Version 0: the prototype's layout, before namespaces and indexes.
const V0: &str = "
CREATE TABLE schema_version(version INTEGER NOT NULL);
CREATE TABLE type(id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, name TEXT NOT NULL,
    version TEXT, description TEXT, external_id TEXT, base_type TEXT);
CREATE TABLE type_property(type_id INTEGER NOT NULL, name TEXT NOT NULL, data_type INTEGER NOT NULL,
    PRIMARY KEY (type_id, name)) WITHOUT ROWID;
CREATE TABLE artifact(id INTEGER PRIMARY KEY, type_id INTEGER NOT NULL, name TEXT, uri TEXT,
    state INTEGER, external_id TEXT, create_time_since_epoch INTEGER NOT NULL,
    last_update_time_since_epoch INTEGER NOT NULL);
CREATE TABLE execution(id INTEGER PRIMARY KEY, type_id INTEGER NOT NULL, name TEXT,
    last_known_state INTEGER, external_id TEXT, create_time_since_epoch INTEGER NOT NULL,
    last_update_time_since_epoch INTEGER NOT NULL);
CREATE TABLE context(id INTEGER PRIMARY KEY, type_id INTEGER NOT NULL, name TEXT NOT NULL,
    external_id TEXT, create_time_since_epoch INTEGER NOT NULL,
    last_update_time_since_epoch INTEGER NOT NULL);
CREATE TABLE artifact_property(artifact_id INTEGER NOT NULL, name TEXT NOT NULL,
    is_custom_property INTEGER NOT NULL, int_value INTEGER, double_value REAL, string_value TEXT,
    bool_value INTEGER, struct_value TEXT,
    PRIMARY KEY (artifact_id, name, is_custom_property)) WITHOUT ROWID;
CREATE TABLE execution_property(execution_id INTEGER NOT NULL, name TEXT NOT NULL,
    is_custom_property INTEGER NOT NULL, int_value INTEGER, double_value REAL, string_value TEXT,
    bool_value INTEGER, struct_value TEXT,
    PRIMARY KEY (execution_id, name, is_custom_property)) WITHOUT ROWID;
CREATE TABLE context_property(context_id INTEGER NOT NULL, name TEXT NOT NULL,
    is_custom_property INTEGER NOT NULL, int_value INTEGER, double_value REAL, string_value TEXT,
    bool_value INTEGER, struct_value TEXT,
    PRIMARY KEY (context_id, name, is_custom_property)) WITHOUT ROWID;
CREATE TABLE event(id INTEGER PRIMARY KEY, artifact_id INTEGER NOT NULL,
    execution_id INTEGER NOT NULL, type INTEGER NOT NULL, milliseconds_since_epoch INTEGER);
CREATE TABLE event_path(event_id INTEGER NOT NULL, step_index INTEGER NOT NULL,
    is_index_step INTEGER NOT NULL, step_index_value INTEGER, step_key TEXT,
    PRIMARY KEY (event_id, step_index)) WITHOUT ROWID;
CREATE TABLE attribution(id INTEGER PRIMARY KEY, context_id INTEGER NOT NULL,
    artifact_id INTEGER NOT NULL);
CREATE TABLE association(id INTEGER PRIMARY KEY, context_id INTEGER NOT NULL,
    execution_id INTEGER NOT NULL);
CREATE TABLE parent_context(context_id INTEGER NOT NULL, parent_context_id INTEGER NOT NULL,
    PRIMARY KEY (context_id, parent_context_id)) WITHOUT ROWID;
INSERT INTO schema_version(version) VALUES (0);
";

/// Version 0 → 1: namespaces (existing rows go to the default namespace
/// `""`) and the indexes the queries need. Every index costs pages written
/// on every commit, so there are no indexes on update times (listing by
/// update time sorts the namespace) nor on property values other than
/// artifacts' doubles (the metric thresholds filters ask for).
const V0_TO_V1: &str = "
ALTER TABLE type ADD COLUMN namespace TEXT NOT NULL DEFAULT '';
ALTER TABLE artifact ADD COLUMN namespace TEXT NOT NULL DEFAULT '';
ALTER TABLE execution ADD COLUMN namespace TEXT NOT NULL DEFAULT '';
ALTER TABLE context ADD COLUMN namespace TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX type_name ON type(namespace, kind, name, ifnull(version, ''));
CREATE UNIQUE INDEX artifact_type_name ON artifact(type_id, name);
CREATE INDEX artifact_uri ON artifact(uri);
CREATE UNIQUE INDEX artifact_external_id ON artifact(namespace, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX artifact_create_time ON artifact(namespace, create_time_since_epoch);
CREATE UNIQUE INDEX execution_type_name ON execution(type_id, name);
CREATE UNIQUE INDEX execution_external_id ON execution(namespace, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX execution_create_time ON execution(namespace, create_time_since_epoch);
CREATE UNIQUE INDEX context_type_name ON context(type_id, name);
CREATE UNIQUE INDEX context_external_id ON context(namespace, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX context_create_time ON context(namespace, create_time_since_epoch);
CREATE INDEX artifact_property_double ON artifact_property(name, double_value)
    WHERE double_value IS NOT NULL;
CREATE INDEX event_artifact ON event(artifact_id);
CREATE INDEX event_execution ON event(execution_id);
CREATE UNIQUE INDEX attribution_pair ON attribution(context_id, artifact_id);
CREATE INDEX attribution_artifact ON attribution(artifact_id, context_id);
CREATE UNIQUE INDEX association_pair ON association(context_id, execution_id);
CREATE INDEX association_execution ON association(execution_id, context_id);
CREATE INDEX parent_context_parent ON parent_context(parent_context_id, context_id);
";

/// Version 1 → 2: which rows were imported from which source (see
/// [`crate::import`]), so a second import recognises them without a marker
/// in the rows themselves. `kind`: 0 artifact, 1 execution, 2 context,
/// 3 type, 4 event.
const V1_TO_V2: &str = "
CREATE TABLE import_source(namespace TEXT NOT NULL, source TEXT NOT NULL, kind INTEGER NOT NULL,
    source_id INTEGER NOT NULL, target_id INTEGER NOT NULL,
    PRIMARY KEY (namespace, source, kind, source_id)) WITHOUT ROWID;
";

/// Version 2 → 3: filters that name a context (`contexts_a.name = …`) find
/// it by an index, and the query planner gets the shape of a typical store
/// in `sqlite_stat1`. Without statistics SQLite takes `namespace = ?` on
/// the create-time index for a selective test (about ten rows), so a
/// filtered list walked every node of the namespace in list order and
/// tested each one; with them it drives a selective filter from its `IN`
/// set and keeps the ordered walk for broad ones (`type = 'Model'`). The
/// rows describe a store, not its data: one namespace holding every node,
/// ten types per kind, unique names within a type. They are written only
/// where no statistics exist, so a store that ran `ANALYZE` keeps its own;
/// `ANALYZE sqlite_schema` creates the table and makes this connection
/// read the rows.
const V2_TO_V3: &str = "
CREATE INDEX context_name ON context(name);
ANALYZE sqlite_schema;
INSERT INTO sqlite_stat1(tbl, idx, stat)
    SELECT column1, column2, column3 FROM (VALUES
        ('artifact', 'artifact_create_time', '1000000 1000000 1'),
        ('artifact', 'artifact_type_name', '1000000 100000 1'),
        ('execution', 'execution_create_time', '1000000 1000000 1'),
        ('execution', 'execution_type_name', '1000000 100000 1'),
        ('context', 'context_create_time', '1000000 1000000 1'),
        ('context', 'context_type_name', '1000000 100000 1'),
        ('context', 'context_name', '1000000 1'))
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_stat1
        WHERE tbl IN ('artifact', 'execution', 'context'));
ANALYZE sqlite_schema;
";

/// The migrations in order: entry `i` takes version `i` to `i + 1`.
const MIGRATIONS: [&str; CURRENT_VERSION as usize] = [V0_TO_V1, V1_TO_V2, V2_TO_V3];

/// Creates the schema in an empty database, or migrates an older one to
/// [`CURRENT_VERSION`], in one transaction; refuses a newer one.
pub(crate) fn prepare(conn: &mut Connection, path: &str) -> Result<()> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(backend("begin schema check"))?;
    let has_version_table: bool = tx
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map_err(backend("read schema"))?
        > 0;
    if !has_version_table {
        let tables: i64 = tx
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .map_err(backend("read schema"))?;
        if tables > 0 {
            return Err(Error::NotAStore {
                path: path.to_owned(),
                reason: "it has tables but no schema_version table".to_owned(),
            });
        }
        tx.execute_batch(V0).map_err(backend("create schema"))?;
    }
    let version = read_version(&tx, path)?;
    if version > CURRENT_VERSION {
        return Err(Error::SchemaTooNew {
            found: version,
            supported: CURRENT_VERSION,
        });
    }
    if version < 0 {
        return Err(Error::NotAStore {
            path: path.to_owned(),
            reason: format!("schema version {version}"),
        });
    }
    for (from, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        tx.execute_batch(sql)
            .map_err(backend(&format!("migrate schema from version {from}")))?;
    }
    if version < CURRENT_VERSION {
        tx.execute("UPDATE schema_version SET version = ?1", [CURRENT_VERSION])
            .map_err(backend("record schema version"))?;
    }
    tx.commit().map_err(backend("commit schema"))
}

fn read_version(tx: &Transaction<'_>, path: &str) -> Result<i64> {
    let version: Option<i64> = tx
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .optional()
        .map_err(backend("read schema version"))?;
    version.ok_or_else(|| Error::NotAStore {
        path: path.to_owned(),
        reason: "schema_version is empty".to_owned(),
    })
}
