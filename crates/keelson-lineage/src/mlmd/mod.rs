//! Reading an ML Metadata (MLMD) SQLite database, as MLMD 1.17.1 writes it
//! (schema version 10), into plain rows, batch by batch.
//!
//! The database is opened read-only and read inside one read transaction,
//! so the rows are one consistent snapshot even while MLMD keeps writing.
//! Rows come in batches of at most `batch_size` rows (keyset pagination on
//! the row id), so a database of any size is read in bounded memory.
//!
//! ```no_run
//! use keelson_lineage::mlmd::{Batch, MlmdReader};
//!
//! let reader = MlmdReader::open("metadata.sqlite")?;
//! reader.read(1000, |batch| {
//!     if let Batch::Artifacts(artifacts) = batch {
//!         for artifact in artifacts {
//!             println!("{} {:?}", artifact.id, artifact.uri);
//!         }
//!     }
//!     Ok(())
//! })?;
//! # Ok::<(), keelson_lineage::Error>(())
//! ```
//!
//! Values: struct values are decoded into JSON; `proto_value` (a
//! serialized `google.protobuf.Any`) and `byte_value` are kept as bytes.

mod rows;
mod structs;

pub use rows::{
    ArtifactRow, AssociationRow, AttributionRow, Batch, ContextRow, Dump, EventRow, ExecutionRow,
    ParentContextRow, PathStep, Properties, PropertyType, TypeKind, TypeRow, Value,
};

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, Row, params};

use crate::Error;

/// The MLMD schema version this reader understands (MLMD 1.17.1's).
pub const SCHEMA_VERSION: i64 = 10;

/// Why an MLMD database could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file could not be opened as an SQLite database.
    #[error("opening MLMD database {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The database's schema version is not [`SCHEMA_VERSION`].
    #[error(
        "MLMD schema version {found} is not supported: this reader reads version {supported} (MLMD 1.17.1)"
    )]
    SchemaVersion {
        /// The version found in `MLMDEnv` (`none` when the table is empty
        /// or missing; several when it holds several rows).
        found: String,
        /// The version this reader reads.
        supported: i64,
    },
    /// A query on an MLMD table failed.
    #[error("reading MLMD table {table}: {source}")]
    Table {
        /// The table.
        table: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A property row whose value cannot be read.
    #[error("MLMD table {table}, row {owner_id}, property {property:?}: {message}")]
    Value {
        /// The property table.
        table: &'static str,
        /// The node the property belongs to.
        owner_id: i64,
        /// The property's name.
        property: String,
        /// What is wrong.
        message: String,
    },
}

fn table_error(table: &'static str) -> impl Fn(rusqlite::Error) -> Error {
    move |source| Error::Mlmd(ReadError::Table { table, source })
}

/// A read-only handle on an MLMD SQLite database.
#[derive(Debug)]
pub struct MlmdReader {
    conn: Connection,
}

impl MlmdReader {
    /// Opens the database at `path` read-only and checks its schema
    /// version; any version but [`SCHEMA_VERSION`] is refused with an error
    /// naming it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| {
            Error::Mlmd(ReadError::Open {
                path: path.to_owned(),
                source,
            })
        })?;
        let versions: Vec<i64> = conn
            .prepare("SELECT schema_version FROM MLMDEnv")
            .and_then(|mut s| {
                s.query_map([], |row| row.get(0))?
                    .collect::<rusqlite::Result<_>>()
            })
            .unwrap_or_default();
        if versions != [SCHEMA_VERSION] {
            let found = if versions.is_empty() {
                "none".to_owned()
            } else {
                versions
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(Error::Mlmd(ReadError::SchemaVersion {
                found,
                supported: SCHEMA_VERSION,
            }));
        }
        Ok(MlmdReader { conn })
    }

    /// Reads the whole database into memory.
    pub fn dump(&self) -> Result<Dump, Error> {
        let mut dump = Dump {
            schema_version: SCHEMA_VERSION,
            ..Dump::default()
        };
        self.read(1024, |batch| {
            dump.push(batch);
            Ok(())
        })?;
        Ok(dump)
    }

    /// Reads every table, handing `visit` batches of at most `batch_size`
    /// rows (types come in one batch) in the order of [`Batch`]. An error
    /// from `visit` stops the read and is returned.
    pub fn read(
        &self,
        batch_size: usize,
        mut visit: impl FnMut(Batch) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let batch_size = i64::try_from(batch_size.max(1)).unwrap_or(i64::MAX);
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(table_error("MLMDEnv"))?;
        visit(Batch::Types(self.types()?))?;
        self.nodes(batch_size, &NODE_TABLES[2], |rows| {
            visit(Batch::Contexts(rows.into_iter().map(context).collect()))
        })?;
        self.keyed(
            batch_size,
            "ParentContext",
            "SELECT rowid, context_id, parent_context_id FROM ParentContext WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
            |row| {
                Ok(ParentContextRow {
                    context_id: row.get(1)?,
                    parent_context_id: row.get(2)?,
                })
            },
            |rows, _, _| visit(Batch::ParentContexts(rows)),
        )?;
        self.nodes(batch_size, &NODE_TABLES[0], |rows| {
            visit(Batch::Artifacts(rows.into_iter().map(artifact).collect()))
        })?;
        self.nodes(batch_size, &NODE_TABLES[1], |rows| {
            visit(Batch::Executions(rows.into_iter().map(execution).collect()))
        })?;
        self.events(batch_size, &mut visit)?;
        self.keyed(
            batch_size,
            "Attribution",
            "SELECT id, id, context_id, artifact_id FROM Attribution WHERE id > ?1 ORDER BY id LIMIT ?2",
            |row| {
                Ok(AttributionRow {
                    id: row.get(1)?,
                    context_id: row.get(2)?,
                    artifact_id: row.get(3)?,
                })
            },
            |rows, _, _| visit(Batch::Attributions(rows)),
        )?;
        self.keyed(
            batch_size,
            "Association",
            "SELECT id, id, context_id, execution_id FROM Association WHERE id > ?1 ORDER BY id LIMIT ?2",
            |row| {
                Ok(AssociationRow {
                    id: row.get(1)?,
                    context_id: row.get(2)?,
                    execution_id: row.get(3)?,
                })
            },
            |rows, _, _| visit(Batch::Associations(rows)),
        )?;
        tx.commit().map_err(table_error("MLMDEnv"))
    }

    fn types(&self) -> Result<Vec<TypeRow>, Error> {
        let err = table_error("Type");
        let mut statement = self
            .conn
            .prepare(
                "SELECT id, name, version, type_kind, description, input_type, output_type, external_id FROM Type ORDER BY id",
            )
            .map_err(&err)?;
        let mut types: Vec<TypeRow> = statement
            .query_map([], |row| {
                let name: String = row.get(1)?;
                Ok(TypeRow {
                    id: row.get(0)?,
                    system: name.starts_with("mlmd."),
                    name,
                    version: row.get(2)?,
                    kind: match row.get::<_, i64>(3)? {
                        0 => TypeKind::Execution,
                        1 => TypeKind::Artifact,
                        2 => TypeKind::Context,
                        other => return Err(rusqlite::Error::IntegralValueOutOfRange(3, other)),
                    },
                    description: row.get(4)?,
                    input_type: row.get(5)?,
                    output_type: row.get(6)?,
                    external_id: row.get(7)?,
                    properties: Default::default(),
                    parent_type_ids: Vec::new(),
                    base_type: None,
                })
            })
            .and_then(Iterator::collect)
            .map_err(&err)?;
        let index: HashMap<i64, usize> = types.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
        let err = table_error("TypeProperty");
        let mut statement = self
            .conn
            .prepare("SELECT type_id, name, data_type FROM TypeProperty ORDER BY type_id, name")
            .map_err(&err)?;
        let properties: Vec<(i64, String, Option<i64>)> = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .and_then(Iterator::collect)
            .map_err(&err)?;
        for (type_id, name, data_type) in properties {
            if let Some(t) = index.get(&type_id).and_then(|&i| types.get_mut(i)) {
                t.properties
                    .insert(name, PropertyType::from_code(data_type));
            }
        }
        let err = table_error("ParentType");
        let mut statement = self
            .conn
            .prepare("SELECT type_id, parent_type_id FROM ParentType ORDER BY rowid")
            .map_err(&err)?;
        let parents: Vec<(i64, i64)> = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .and_then(Iterator::collect)
            .map_err(&err)?;
        for (type_id, parent_id) in parents {
            let base = index
                .get(&parent_id)
                .and_then(|&i| types.get(i))
                .and_then(|parent| parent.name.strip_prefix("mlmd."))
                .map(str::to_uppercase);
            if let Some(t) = index.get(&type_id).and_then(|&i| types.get_mut(i)) {
                t.parent_type_ids.push(parent_id);
                if t.base_type.is_none() {
                    t.base_type = base;
                }
            }
        }
        Ok(types)
    }

    /// Reads `sql` (which selects the key first and takes the key after
    /// which to start as `?1` and the batch size as `?2`) batch by batch;
    /// `emit` gets each batch and the key range `(after, last]` it covers.
    fn keyed<T>(
        &self,
        batch_size: i64,
        table: &'static str,
        sql: &str,
        map: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
        mut emit: impl FnMut(Vec<T>, i64, i64) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let err = table_error(table);
        let mut statement = self.conn.prepare(sql).map_err(&err)?;
        let mut after = i64::MIN;
        loop {
            let mut last = after;
            let mut batch = Vec::new();
            let mut rows = statement.query(params![after, batch_size]).map_err(&err)?;
            while let Some(row) = rows.next().map_err(&err)? {
                last = row.get(0).map_err(&err)?;
                batch.push(map(row).map_err(&err)?);
            }
            if batch.is_empty() {
                return Ok(());
            }
            let full = i64::try_from(batch.len()).unwrap_or(i64::MAX) >= batch_size;
            emit(batch, after, last)?;
            if !full {
                return Ok(());
            }
            after = last;
        }
    }

    fn nodes(
        &self,
        batch_size: i64,
        table: &NodeTable,
        mut emit: impl FnMut(Vec<NodeRow>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let sql = format!(
            "SELECT id, type_id, name, external_id, create_time_since_epoch, last_update_time_since_epoch, {} FROM {} WHERE id > ?1 ORDER BY id LIMIT ?2",
            table.extra, table.name
        );
        self.keyed(
            batch_size,
            table.name,
            &sql,
            |row| {
                Ok(NodeRow {
                    id: row.get(0)?,
                    type_id: row.get(1)?,
                    name: row.get(2)?,
                    external_id: row.get(3)?,
                    create_time: row.get(4)?,
                    update_time: row.get(5)?,
                    extra_text: if table.extra_is_text {
                        row.get(6)?
                    } else {
                        None
                    },
                    extra_int: if table.extra_is_text {
                        None
                    } else {
                        row.get(6)?
                    },
                    state: if table.has_state { row.get(7)? } else { None },
                    properties: Properties::new(),
                    custom_properties: Properties::new(),
                })
            },
            |mut rows, after, last| {
                self.attach_properties(table, &mut rows, after, last)?;
                emit(rows)
            },
        )
    }

    fn attach_properties(
        &self,
        table: &NodeTable,
        rows: &mut [NodeRow],
        after: i64,
        last: i64,
    ) -> Result<(), Error> {
        let err = table_error(table.property_table);
        let sql = format!(
            "SELECT {owner}, name, is_custom_property, int_value, double_value, string_value, byte_value, proto_value, bool_value FROM {t} WHERE {owner} > ?1 AND {owner} <= ?2",
            owner = table.owner,
            t = table.property_table
        );
        let mut statement = self.conn.prepare_cached(&sql).map_err(&err)?;
        let index: HashMap<i64, usize> = rows.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        let mut result = statement.query(params![after, last]).map_err(&err)?;
        while let Some(row) = result.next().map_err(&err)? {
            let owner_id: i64 = row.get(0).map_err(&err)?;
            let name: String = row.get(1).map_err(&err)?;
            let custom: bool = row.get(2).map_err(&err)?;
            let value = match property_value(row).map_err(&err)? {
                Ok(value) => value,
                Err(message) => {
                    return Err(Error::Mlmd(ReadError::Value {
                        table: table.property_table,
                        owner_id,
                        property: name,
                        message,
                    }));
                }
            };
            if let Some(node) = index.get(&owner_id).and_then(|&i| rows.get_mut(i)) {
                if custom {
                    node.custom_properties.insert(name, value);
                } else {
                    node.properties.insert(name, value);
                }
            }
        }
        Ok(())
    }

    fn events(
        &self,
        batch_size: i64,
        visit: &mut impl FnMut(Batch) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.keyed(
            batch_size,
            "Event",
            "SELECT id, artifact_id, execution_id, type, milliseconds_since_epoch FROM Event WHERE id > ?1 ORDER BY id LIMIT ?2",
            |row| {
                Ok(EventRow {
                    id: row.get(0)?,
                    artifact_id: row.get(1)?,
                    execution_id: row.get(2)?,
                    event_type: row.get(3)?,
                    milliseconds_since_epoch: row.get(4)?,
                    path: Vec::new(),
                })
            },
            |mut events, after, last| {
                let err = table_error("EventPath");
                let mut statement = self
                    .conn
                    .prepare_cached(
                        "SELECT event_id, is_index_step, step_index, step_key FROM EventPath WHERE event_id > ?1 AND event_id <= ?2 ORDER BY event_id, rowid",
                    )
                    .map_err(&err)?;
                let index: HashMap<i64, usize> =
                    events.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
                let mut rows = statement.query(params![after, last]).map_err(&err)?;
                while let Some(row) = rows.next().map_err(&err)? {
                    let event_id: i64 = row.get(0).map_err(&err)?;
                    let is_index: bool = row.get(1).map_err(&err)?;
                    let step = if is_index {
                        PathStep::Index(row.get::<_, Option<i64>>(2).map_err(&err)?.unwrap_or(0))
                    } else {
                        PathStep::Key(
                            row.get::<_, Option<String>>(3)
                                .map_err(&err)?
                                .unwrap_or_default(),
                        )
                    };
                    if let Some(event) = index.get(&event_id).and_then(|&i| events.get_mut(i)) {
                        event.path.push(step);
                    }
                }
                visit(Batch::Events(events))
            },
        )
    }
}

/// The value of a property row: `Ok(Err(message))` when the row holds no
/// readable value.
fn property_value(row: &Row<'_>) -> rusqlite::Result<Result<Value, String>> {
    if let Some(v) = row.get::<_, Option<i64>>(3)? {
        return Ok(Ok(Value::Int(v)));
    }
    if let Some(v) = row.get::<_, Option<f64>>(4)? {
        return Ok(Ok(Value::Double(v)));
    }
    if let Some(v) = row.get::<_, Option<String>>(5)? {
        return Ok(match v.strip_prefix(structs::PREFIX) {
            Some(encoded) => structs::decode(encoded).map(Value::Struct),
            None => Ok(Value::String(v)),
        });
    }
    if let Some(v) = row.get::<_, Option<Vec<u8>>>(6)? {
        return Ok(Ok(Value::Bytes(v)));
    }
    if let Some(v) = row.get::<_, Option<Vec<u8>>>(7)? {
        return Ok(Ok(Value::Proto(v)));
    }
    if let Some(v) = row.get::<_, Option<bool>>(8)? {
        return Ok(Ok(Value::Bool(v)));
    }
    Ok(Err("no value column is set".to_owned()))
}

/// What differs between the three node tables.
struct NodeTable {
    name: &'static str,
    /// The kind-specific columns selected after the common ones.
    extra: &'static str,
    extra_is_text: bool,
    has_state: bool,
    property_table: &'static str,
    owner: &'static str,
}

const NODE_TABLES: [NodeTable; 3] = [
    NodeTable {
        name: "Artifact",
        extra: "uri, state",
        extra_is_text: true,
        has_state: true,
        property_table: "ArtifactProperty",
        owner: "artifact_id",
    },
    NodeTable {
        name: "Execution",
        extra: "last_known_state",
        extra_is_text: false,
        has_state: false,
        property_table: "ExecutionProperty",
        owner: "execution_id",
    },
    NodeTable {
        name: "Context",
        extra: "NULL",
        extra_is_text: true,
        has_state: false,
        property_table: "ContextProperty",
        owner: "context_id",
    },
];

/// A node row before it is shaped into its kind's row type.
struct NodeRow {
    id: i64,
    type_id: i64,
    name: Option<String>,
    external_id: Option<String>,
    create_time: i64,
    update_time: i64,
    /// `uri` (artifacts).
    extra_text: Option<String>,
    /// `last_known_state` (executions).
    extra_int: Option<i64>,
    /// `state` (artifacts).
    state: Option<i64>,
    properties: Properties,
    custom_properties: Properties,
}

fn artifact(row: NodeRow) -> ArtifactRow {
    ArtifactRow {
        id: row.id,
        type_id: row.type_id,
        uri: row.extra_text,
        state: row.state,
        name: row.name,
        external_id: row.external_id,
        create_time_since_epoch: row.create_time,
        last_update_time_since_epoch: row.update_time,
        properties: row.properties,
        custom_properties: row.custom_properties,
    }
}

fn execution(row: NodeRow) -> ExecutionRow {
    ExecutionRow {
        id: row.id,
        type_id: row.type_id,
        last_known_state: row.extra_int,
        name: row.name,
        external_id: row.external_id,
        create_time_since_epoch: row.create_time,
        last_update_time_since_epoch: row.update_time,
        properties: row.properties,
        custom_properties: row.custom_properties,
    }
}

fn context(row: NodeRow) -> ContextRow {
    ContextRow {
        id: row.id,
        type_id: row.type_id,
        name: row.name.unwrap_or_default(),
        external_id: row.external_id,
        create_time_since_epoch: row.create_time,
        last_update_time_since_epoch: row.update_time,
        properties: row.properties,
        custom_properties: row.custom_properties,
    }
}
