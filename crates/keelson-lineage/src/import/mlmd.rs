//! Importing an MLMD 1.17.1 database (its SQLite file) into a store.
//!
//! The reader ([`crate::mlmd::MlmdReader`]) runs on a blocking thread and
//! hands its batches over a small channel, so reading the next batch
//! overlaps writing the last; each batch becomes one
//! [`ImportBatch`] and so one transaction.
//!
//! What maps to what: MLMD's user types become types (name, version,
//! description, external id, properties; the base type from the `mlmd.*`
//! parent type); MLMD's own `mlmd.*` system types are not copied (keelson
//! has base types instead; they are counted in
//! [`ImportReport::system_types_skipped`]); an execution type's
//! `input_type`/`output_type` signatures have no place in keelson and are
//! dropped. Nodes keep name, URI, state, external id, properties, custom
//! properties and both times; events keep type, path and time. Property
//! values of the `proto_value` and `byte_value` kinds, and PROTO property
//! types, are refused: keelson stores no serialized protocol buffers, and
//! the error names the node and property.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::event::{Event, EventType, PathStep};
use crate::import::{ImportBatch, ImportTallies, SourceRow};
use crate::link::{Association, Attribution, ParentContext};
use crate::mlmd::{self as source, Batch, MlmdReader};
use crate::node::{Artifact, ArtifactState, Context, Execution, ExecutionState};
use crate::store::MetadataStore;
use crate::types::{NodeKind, NodeType};
use crate::value::{Properties, PropertyType, Value};

/// How [`import_mlmd`] imports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOptions {
    /// Rows per batch, and so per transaction.
    pub batch_size: usize,
    /// Names the MLMD database in the store's `import_source` table:
    /// importing again under the same name recognises the rows imported
    /// before. Two different MLMD databases imported into one namespace
    /// need two names.
    pub source: String,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            batch_size: 1000,
            source: "mlmd".to_owned(),
        }
    }
}

/// What [`import_mlmd`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// The source name used.
    pub source: String,
    /// Rows inserted, updated and left unchanged, per kind.
    pub tallies: ImportTallies,
    /// Transactions written (one per non-empty batch).
    pub batches: u64,
    /// MLMD's own `mlmd.*` types, not copied.
    pub system_types_skipped: u64,
}

/// Imports the MLMD SQLite database at `path` into `store` (in the
/// handle's namespace), one transaction per batch of
/// `options.batch_size` rows.
///
/// A database of another MLMD schema version than
/// [`crate::mlmd::SCHEMA_VERSION`] is refused with an error naming the
/// version. A batch that fails (a proto value, a name clash with a row not
/// imported from this source) stops the import; the batches before it stay
/// written, and importing again resumes, since imported rows are
/// recognised. Needs a tokio runtime (the reader runs on its blocking pool).
pub async fn import_mlmd<S: MetadataStore + ?Sized>(
    path: impl AsRef<Path>,
    store: &S,
    options: &ImportOptions,
) -> Result<ImportReport> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::Unsupported {
        feature: "importing outside a tokio runtime".to_owned(),
    })?;
    let path = path.as_ref().to_owned();
    let batch_size = options.batch_size;
    // Two batches in flight: the reader stays one ahead of the writer.
    let (sender, mut batches) = tokio::sync::mpsc::channel::<Batch>(2);
    let reading = runtime.spawn_blocking(move || {
        MlmdReader::open(&path)?.read(batch_size, |batch| {
            sender.blocking_send(batch).map_err(|_| Error::Closed)
        })
    });
    let mut report = ImportReport {
        source: options.source.clone(),
        ..ImportReport::default()
    };
    let mut failure = None;
    while let Some(batch) = batches.recv().await {
        let (batch, skipped) = match convert(&options.source, batch) {
            Ok(converted) => converted,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        report.system_types_skipped += skipped;
        if batch.is_empty() {
            continue;
        }
        match store.import_batch(&batch).await {
            Ok(tallies) => {
                report.tallies.add(&tallies);
                report.batches += 1;
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    // Stops the reader, if it is still reading.
    drop(batches);
    let read = reading.await.map_err(|_| Error::Closed)?;
    if let Some(e) = failure {
        return Err(e);
    }
    read?;
    Ok(report)
}

/// One batch of MLMD rows as an [`ImportBatch`] keyed by MLMD's ids, and
/// the number of system types left out.
pub fn convert(source_name: &str, batch: Batch) -> Result<(ImportBatch, u64)> {
    let mut out = ImportBatch::new(source_name);
    let mut skipped = 0;
    match batch {
        Batch::Types(rows) => {
            for row in rows {
                if row.system {
                    skipped += 1;
                } else {
                    out.types.push(node_type(row)?);
                }
            }
        }
        Batch::Contexts(rows) => {
            out.contexts = rows.into_iter().map(context).collect::<Result<_>>()?;
        }
        Batch::ParentContexts(rows) => {
            out.parent_contexts = rows
                .into_iter()
                .map(|r| ParentContext {
                    child_id: r.context_id,
                    parent_id: r.parent_context_id,
                })
                .collect();
        }
        Batch::Artifacts(rows) => {
            out.artifacts = rows.into_iter().map(artifact).collect::<Result<_>>()?;
        }
        Batch::Executions(rows) => {
            out.executions = rows.into_iter().map(execution).collect::<Result<_>>()?;
        }
        Batch::Events(rows) => {
            out.events = rows.into_iter().map(event).collect::<Result<_>>()?;
        }
        Batch::Attributions(rows) => {
            out.attributions = rows
                .into_iter()
                .map(|r| Attribution {
                    context_id: r.context_id,
                    artifact_id: r.artifact_id,
                })
                .collect();
        }
        Batch::Associations(rows) => {
            out.associations = rows
                .into_iter()
                .map(|r| Association {
                    context_id: r.context_id,
                    execution_id: r.execution_id,
                })
                .collect();
        }
    }
    Ok((out, skipped))
}

fn node_type(row: source::TypeRow) -> Result<SourceRow<NodeType>> {
    let kind = match row.kind {
        source::TypeKind::Artifact => NodeKind::Artifact,
        source::TypeKind::Execution => NodeKind::Execution,
        source::TypeKind::Context => NodeKind::Context,
    };
    let mut t = NodeType::new(kind, row.name);
    t.version = row.version;
    t.description = row.description;
    t.external_id = row.external_id;
    t.base_type = row.base_type;
    for (name, ty) in row.properties {
        let ty = match ty {
            source::PropertyType::Int => PropertyType::Int,
            source::PropertyType::Double => PropertyType::Double,
            source::PropertyType::String => PropertyType::String,
            source::PropertyType::Struct => PropertyType::Struct,
            source::PropertyType::Boolean => PropertyType::Boolean,
            source::PropertyType::Proto | source::PropertyType::Unknown => {
                return Err(Error::Unsupported {
                    feature: format!(
                        "MLMD {kind} type {} ({:?}) property {name:?} of type {ty:?}",
                        row.id, t.name
                    ),
                });
            }
        };
        t.properties.insert(name, ty);
    }
    Ok(SourceRow {
        source_id: row.id,
        row: t,
    })
}

/// MLMD's values in keelson's terms; `node` (e.g. `artifact 12`) names the
/// owner in errors.
fn properties(node: &str, custom: bool, values: source::Properties) -> Result<Properties> {
    values
        .into_iter()
        .map(|(name, value)| {
            let value = match value {
                source::Value::Int(v) => Value::Int(v),
                source::Value::Double(v) => Value::Double(v),
                source::Value::String(v) => Value::String(v),
                source::Value::Struct(v) => Value::Struct(v),
                source::Value::Bool(v) => Value::Bool(v),
                source::Value::Proto(_) | source::Value::Bytes(_) => {
                    let which = if custom {
                        "custom property"
                    } else {
                        "property"
                    };
                    return Err(Error::Unsupported {
                        feature: format!(
                            "MLMD {node} {which} {name:?}: proto and byte values are not stored"
                        ),
                    });
                }
            };
            Ok((name, value))
        })
        .collect()
}

fn state<T>(node: &str, field: &str, code: Option<i64>, from: fn(i64) -> Option<T>) -> Result<T>
where
    T: Default,
{
    match code {
        None => Ok(T::default()),
        Some(c) => from(c).ok_or_else(|| {
            Error::invalid(
                format!("MLMD {node}.{field}"),
                format!("{c} is not a known code"),
            )
        }),
    }
}

fn artifact(row: source::ArtifactRow) -> Result<SourceRow<Artifact>> {
    let node = format!("artifact {}", row.id);
    Ok(SourceRow {
        source_id: row.id,
        row: Artifact {
            id: None,
            type_id: row.type_id,
            name: row.name,
            uri: row.uri,
            state: state(&node, "state", row.state, ArtifactState::from_code)?,
            external_id: row.external_id,
            properties: properties(&node, false, row.properties)?,
            custom_properties: properties(&node, true, row.custom_properties)?,
            create_time_since_epoch: row.create_time_since_epoch,
            last_update_time_since_epoch: row.last_update_time_since_epoch,
        },
    })
}

fn execution(row: source::ExecutionRow) -> Result<SourceRow<Execution>> {
    let node = format!("execution {}", row.id);
    Ok(SourceRow {
        source_id: row.id,
        row: Execution {
            id: None,
            type_id: row.type_id,
            name: row.name,
            last_known_state: state(
                &node,
                "last_known_state",
                row.last_known_state,
                ExecutionState::from_code,
            )?,
            external_id: row.external_id,
            properties: properties(&node, false, row.properties)?,
            custom_properties: properties(&node, true, row.custom_properties)?,
            create_time_since_epoch: row.create_time_since_epoch,
            last_update_time_since_epoch: row.last_update_time_since_epoch,
        },
    })
}

fn context(row: source::ContextRow) -> Result<SourceRow<Context>> {
    let node = format!("context {}", row.id);
    Ok(SourceRow {
        source_id: row.id,
        row: Context {
            id: None,
            type_id: row.type_id,
            name: row.name,
            external_id: row.external_id,
            properties: properties(&node, false, row.properties)?,
            custom_properties: properties(&node, true, row.custom_properties)?,
            create_time_since_epoch: row.create_time_since_epoch,
            last_update_time_since_epoch: row.last_update_time_since_epoch,
        },
    })
}

fn event(row: source::EventRow) -> Result<SourceRow<Event>> {
    let node = format!("event {}", row.id);
    Ok(SourceRow {
        source_id: row.id,
        row: Event {
            artifact_id: row.artifact_id,
            execution_id: row.execution_id,
            event_type: state(&node, "type", Some(row.event_type), EventType::from_code)?,
            path: row
                .path
                .into_iter()
                .map(|step| match step {
                    source::PathStep::Index(i) => PathStep::Index(i),
                    source::PathStep::Key(k) => PathStep::Key(k),
                })
                .collect(),
            milliseconds_since_epoch: row.milliseconds_since_epoch,
        },
    })
}
