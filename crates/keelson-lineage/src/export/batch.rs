//! Rows of the model to Arrow record batches: the pure core of the export.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int64Array, Int64Builder, ListArray, MapArray,
    StringArray, StringBuilder, StructArray, TimestampMillisecondArray,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;

use super::Table;
use super::schema::{
    declared_entries, declared_entry_fields, flattened_type, node_columns, path_item,
    path_step_fields, property_entries, property_entry_fields, value_fields,
};
use crate::error::{Error, Result};
use crate::event::{Event, PathStep};
use crate::filter::{ARTIFACT_STATES, EVENT_TYPES, EXECUTION_STATES};
use crate::lineage::LineageGraph;
use crate::link::{Association, Attribution};
use crate::node::{Artifact, Context, Execution};
use crate::record::NodeRecord;
use crate::types::NodeType;
use crate::value::{Properties, PropertyType, Value};

/// Type names by type id, for the `type` column.
pub(crate) type TypeNames = BTreeMap<i64, String>;

pub(crate) fn export_error(table: Table, column: Option<&str>, reason: impl ToString) -> Error {
    Error::Export {
        table: table.name().to_owned(),
        column: column.map(str::to_owned),
        reason: reason.to_string(),
    }
}

fn arrow_error(table: Table, column: Option<&str>) -> impl Fn(ArrowError) -> Error + '_ {
    move |e| export_error(table, column, e)
}

/// A declared property exported as a typed column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FlatColumn {
    /// The column's name (prefix and property name).
    pub(crate) column: String,
    /// The property.
    pub(crate) property: String,
    /// Its declared type.
    pub(crate) ty: PropertyType,
}

/// The schema of a node table: its own columns, then either the
/// `properties` map or the flattened columns, then `custom_properties`.
pub(crate) fn node_schema(table: Table, flat: Option<&[FlatColumn]>) -> Result<SchemaRef> {
    let mut fields = node_columns(table);
    match flat {
        None => fields.push(Field::new(
            "properties",
            super::schema::property_map_type(),
            false,
        )),
        Some(columns) => {
            for c in columns {
                let clash =
                    fields.iter().any(|f| f.name() == &c.column) || c.column == "custom_properties";
                if clash {
                    return Err(export_error(
                        table,
                        Some(&c.column),
                        format!(
                            "property {:?} collides with a column of the table; choose a prefix \
                             with ExportOptions::flatten_prefix",
                            c.property
                        ),
                    ));
                }
                let ty = flattened_type(c.ty).ok_or_else(|| {
                    export_error(
                        table,
                        Some(&c.column),
                        format!("{} properties cannot be exported", c.ty),
                    )
                })?;
                fields.push(Field::new(c.column.clone(), ty, true));
            }
        }
    }
    fields.push(Field::new(
        "custom_properties",
        super::schema::property_map_type(),
        false,
    ));
    Ok(Arc::new(Schema::new(fields)))
}

/// What a node table adds to the fields every node kind has
/// ([`NodeRecord`]).
pub(crate) trait NodeRow: NodeRecord {
    const TABLE: Table;
    fn external_id(&self) -> Option<&str>;
    /// The kind's own columns (between `type` and `external_id`).
    fn own_columns(rows: &[Self]) -> Vec<ArrayRef>
    where
        Self: Sized;
}

fn code_name(names: &'static [&'static str], code: i64) -> &'static str {
    usize::try_from(code)
        .ok()
        .and_then(|i| names.get(i))
        .copied()
        .unwrap_or("UNKNOWN")
}

/// A nullable text column with one value per row.
fn text_column<'a, T>(rows: &'a [T], value: impl FnMut(&'a T) -> Option<&'a str>) -> ArrayRef {
    Arc::new(rows.iter().map(value).collect::<StringArray>())
}

impl NodeRow for Artifact {
    const TABLE: Table = Table::Artifacts;
    fn external_id(&self) -> Option<&str> {
        self.external_id.as_deref()
    }
    fn own_columns(rows: &[Self]) -> Vec<ArrayRef> {
        vec![
            text_column(rows, |r| r.name.as_deref()),
            text_column(rows, |r| r.uri.as_deref()),
            text_column(rows, |r| Some(code_name(ARTIFACT_STATES, r.state.code()))),
        ]
    }
}

impl NodeRow for Execution {
    const TABLE: Table = Table::Executions;
    fn external_id(&self) -> Option<&str> {
        self.external_id.as_deref()
    }
    fn own_columns(rows: &[Self]) -> Vec<ArrayRef> {
        vec![
            text_column(rows, |r| r.name.as_deref()),
            text_column(rows, |r| {
                Some(code_name(EXECUTION_STATES, r.last_known_state.code()))
            }),
        ]
    }
}

impl NodeRow for Context {
    const TABLE: Table = Table::Contexts;
    fn external_id(&self) -> Option<&str> {
        self.external_id.as_deref()
    }
    fn own_columns(rows: &[Self]) -> Vec<ArrayRef> {
        vec![text_column(rows, |r| Some(r.name.as_str()))]
    }
}

fn times_array(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(
        values
            .collect::<TimestampMillisecondArray>()
            .with_timezone("UTC"),
    )
}

fn offset(table: Table, column: &str, n: usize) -> Result<i32> {
    i32::try_from(n).map_err(|_| {
        export_error(
            table,
            Some(column),
            format!(
                "more than {} entries in one batch; use a smaller page size",
                i32::MAX
            ),
        )
    })
}

/// The five value columns of a property map, filled one value at a time.
#[derive(Default)]
struct ValueColumns {
    ints: Int64Builder,
    doubles: Float64Builder,
    strings: StringBuilder,
    bools: BooleanBuilder,
    structs: StringBuilder,
}

impl ValueColumns {
    fn push(&mut self, value: &Value) {
        match value {
            Value::Int(v) => self.ints.append_value(*v),
            _ => self.ints.append_null(),
        }
        match value {
            Value::Double(v) => self.doubles.append_value(*v),
            _ => self.doubles.append_null(),
        }
        match value {
            Value::String(v) => self.strings.append_value(v),
            _ => self.strings.append_null(),
        }
        match value {
            Value::Bool(v) => self.bools.append_value(*v),
            _ => self.bools.append_null(),
        }
        match value {
            Value::Struct(v) => self.structs.append_value(v.to_string()),
            _ => self.structs.append_null(),
        }
    }

    fn finish(mut self) -> Result<StructArray, ArrowError> {
        StructArray::try_new(
            value_fields(),
            vec![
                Arc::new(self.ints.finish()),
                Arc::new(self.doubles.finish()),
                Arc::new(self.strings.finish()),
                Arc::new(self.bools.finish()),
                Arc::new(self.structs.finish()),
            ],
            None,
        )
    }
}

/// A `Map<Utf8, Struct{…_value}>` column of property maps, one per row.
pub(crate) fn property_map<'a>(
    table: Table,
    column: &str,
    maps: impl Iterator<Item = &'a Properties>,
) -> Result<ArrayRef> {
    let mut offsets = vec![0_i32];
    let mut keys = StringBuilder::new();
    let mut values = ValueColumns::default();
    let mut n = 0_usize;
    for map in maps {
        for (key, value) in map {
            keys.append_value(key);
            values.push(value);
        }
        n += map.len();
        offsets.push(offset(table, column, n)?);
    }
    let err = arrow_error(table, Some(column));
    let entries = StructArray::try_new(
        property_entry_fields(),
        vec![
            Arc::new(keys.finish()),
            Arc::new(values.finish().map_err(&err)?),
        ],
        None,
    )
    .map_err(&err)?;
    let map = MapArray::try_new(
        property_entries(),
        OffsetBuffer::new(offsets.into()),
        entries,
        None,
        true,
    )
    .map_err(&err)?;
    Ok(Arc::new(map))
}

/// One flattened property column.
fn flat_column<N: NodeRow>(rows: &[N], c: &FlatColumn) -> Result<ArrayRef> {
    let mismatch = |id: Option<i64>, v: &Value| {
        export_error(
            N::TABLE,
            Some(&c.column),
            format!(
                "{} {} holds a {} value for property {:?} declared {}",
                N::TABLE.node_kind().map_or("node", crate::NodeKind::name),
                id.unwrap_or_default(),
                v.property_type(),
                c.property,
                c.ty
            ),
        )
    };
    let values = rows
        .iter()
        .map(|r| (r.id(), r.properties(false).get(&c.property)));
    Ok(match c.ty {
        PropertyType::Int => {
            let mut b = Int64Builder::with_capacity(rows.len());
            for (id, v) in values {
                match v {
                    None => b.append_null(),
                    Some(Value::Int(x)) => b.append_value(*x),
                    Some(other) => return Err(mismatch(id, other)),
                }
            }
            Arc::new(b.finish())
        }
        PropertyType::Double => {
            let mut b = Float64Builder::with_capacity(rows.len());
            for (id, v) in values {
                match v {
                    None => b.append_null(),
                    Some(Value::Double(x)) => b.append_value(*x),
                    Some(other) => return Err(mismatch(id, other)),
                }
            }
            Arc::new(b.finish())
        }
        PropertyType::String | PropertyType::Struct => {
            let mut b = StringBuilder::new();
            for (id, v) in values {
                match (v, c.ty) {
                    (None, _) => b.append_null(),
                    (Some(Value::String(x)), PropertyType::String) => b.append_value(x),
                    (Some(Value::Struct(x)), PropertyType::Struct) => {
                        b.append_value(x.to_string());
                    }
                    (Some(other), _) => return Err(mismatch(id, other)),
                }
            }
            Arc::new(b.finish())
        }
        PropertyType::Boolean => {
            let mut b = BooleanBuilder::with_capacity(rows.len());
            for (id, v) in values {
                match v {
                    None => b.append_null(),
                    Some(Value::Bool(x)) => b.append_value(*x),
                    Some(other) => return Err(mismatch(id, other)),
                }
            }
            Arc::new(b.finish())
        }
        PropertyType::Proto => {
            return Err(export_error(
                N::TABLE,
                Some(&c.column),
                "PROTO properties cannot be exported",
            ));
        }
    })
}

/// A batch of nodes in `schema` (from [`node_schema`] with the same `flat`).
pub(crate) fn nodes_batch<N: NodeRow>(
    rows: &[N],
    type_names: &TypeNames,
    flat: Option<&[FlatColumn]>,
    schema: SchemaRef,
) -> Result<RecordBatch> {
    let table = N::TABLE;
    let ids = rows
        .iter()
        .map(|r| {
            r.id()
                .ok_or_else(|| export_error(table, Some("id"), "a node without an id (not stored)"))
        })
        .collect::<Result<Vec<i64>>>()?;
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids)),
        Arc::new(rows.iter().map(N::type_id).collect::<Int64Array>()),
        Arc::new(
            rows.iter()
                .map(|r| type_names.get(&r.type_id()).map(String::as_str))
                .collect::<StringArray>(),
        ),
    ];
    columns.extend(N::own_columns(rows));
    columns.push(text_column(rows, N::external_id));
    columns.push(times_array(rows.iter().map(|r| Some(r.times().0))));
    columns.push(times_array(rows.iter().map(|r| Some(r.times().1))));
    match flat {
        None => columns.push(property_map(
            table,
            "properties",
            rows.iter().map(|r| r.properties(false)),
        )?),
        Some(flat) => {
            for c in flat {
                columns.push(flat_column(rows, c)?);
            }
        }
    }
    columns.push(property_map(
        table,
        "custom_properties",
        rows.iter().map(|r| r.properties(true)),
    )?);
    RecordBatch::try_new(schema, columns).map_err(arrow_error(table, None))
}

/// A batch of types, in [`Table::Types`]' schema.
pub(crate) fn types_batch(types: &[NodeType]) -> Result<RecordBatch> {
    let table = Table::Types;
    let ids = types
        .iter()
        .map(|t| {
            t.id.ok_or_else(|| {
                export_error(
                    table,
                    Some("id"),
                    format!("type {:?} has no id (not stored)", t.name),
                )
            })
        })
        .collect::<Result<Vec<i64>>>()?;
    let opt = |f: fn(&NodeType) -> Option<&str>| -> ArrayRef {
        Arc::new(types.iter().map(f).collect::<StringArray>())
    };
    let mut offsets = vec![0_i32];
    let mut keys = StringBuilder::new();
    let mut values = StringBuilder::new();
    let mut n = 0_usize;
    for t in types {
        for (name, ty) in &t.properties {
            keys.append_value(name);
            values.append_value(ty.name());
        }
        n += t.properties.len();
        offsets.push(offset(table, "properties", n)?);
    }
    let err = arrow_error(table, Some("properties"));
    let entries = StructArray::try_new(
        declared_entry_fields(),
        vec![Arc::new(keys.finish()), Arc::new(values.finish())],
        None,
    )
    .map_err(&err)?;
    let declared = MapArray::try_new(
        declared_entries(),
        OffsetBuffer::new(offsets.into()),
        entries,
        None,
        true,
    )
    .map_err(&err)?;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids)),
        Arc::new(
            types
                .iter()
                .map(|t| Some(t.kind.name()))
                .collect::<StringArray>(),
        ),
        Arc::new(
            types
                .iter()
                .map(|t| Some(t.name.as_str()))
                .collect::<StringArray>(),
        ),
        opt(|t| t.version.as_deref()),
        opt(|t| t.description.as_deref()),
        opt(|t| t.external_id.as_deref()),
        opt(|t| t.base_type.as_deref()),
        Arc::new(declared),
    ];
    RecordBatch::try_new(table.schema(), columns).map_err(arrow_error(table, None))
}

/// A batch of events, in [`Table::Events`]' schema.
pub(crate) fn events_batch(events: &[Event]) -> Result<RecordBatch> {
    let table = Table::Events;
    let mut offsets = vec![0_i32];
    let mut index = Int64Builder::new();
    let mut key = StringBuilder::new();
    let mut n = 0_usize;
    for e in events {
        for step in &e.path {
            match step {
                PathStep::Index(i) => {
                    index.append_value(*i);
                    key.append_null();
                }
                PathStep::Key(k) => {
                    index.append_null();
                    key.append_value(k);
                }
            }
        }
        n += e.path.len();
        offsets.push(offset(table, "path", n)?);
    }
    let err = arrow_error(table, Some("path"));
    let steps = StructArray::try_new(
        path_step_fields(),
        vec![Arc::new(index.finish()), Arc::new(key.finish())],
        None,
    )
    .map_err(&err)?;
    let paths = ListArray::try_new(
        path_item(),
        OffsetBuffer::new(offsets.into()),
        Arc::new(steps),
        None,
    )
    .map_err(&err)?;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(events.iter().map(|e| e.artifact_id).collect::<Int64Array>()),
        Arc::new(
            events
                .iter()
                .map(|e| e.execution_id)
                .collect::<Int64Array>(),
        ),
        Arc::new(
            events
                .iter()
                .map(|e| Some(code_name(EVENT_TYPES, e.event_type.code())))
                .collect::<StringArray>(),
        ),
        Arc::new(paths),
        times_array(events.iter().map(|e| e.milliseconds_since_epoch)),
    ];
    RecordBatch::try_new(table.schema(), columns).map_err(arrow_error(table, None))
}

/// A batch of a two-id link table.
pub(crate) fn links_batch(table: Table, pairs: &[(i64, i64)]) -> Result<RecordBatch> {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(pairs.iter().map(|p| p.0).collect::<Int64Array>()),
        Arc::new(pairs.iter().map(|p| p.1).collect::<Int64Array>()),
    ];
    RecordBatch::try_new(table.schema(), columns).map_err(arrow_error(table, None))
}

pub(crate) fn attribution_pairs(links: &[Attribution]) -> Vec<(i64, i64)> {
    links
        .iter()
        .map(|l| (l.context_id, l.artifact_id))
        .collect()
}

pub(crate) fn association_pairs(links: &[Association]) -> Vec<(i64, i64)> {
    links
        .iter()
        .map(|l| (l.context_id, l.execution_id))
        .collect()
}

/// A lineage subgraph as record batches, one per table it holds (every
/// table but [`Table::ParentContexts`], which a subgraph does not carry),
/// in the schemas of [`Table::schema`].
///
/// ```
/// use keelson_lineage::LineageGraph;
/// use keelson_lineage::export::{Table, graph_batches};
///
/// let batches = graph_batches(&LineageGraph::default())?;
/// assert_eq!(batches.len(), 7);
/// assert_eq!(batches[1].0, Table::Artifacts);
/// assert_eq!(batches[1].1.num_rows(), 0);
/// # Ok::<(), keelson_lineage::Error>(())
/// ```
pub fn graph_batches(graph: &LineageGraph) -> Result<Vec<(Table, RecordBatch)>> {
    let names: TypeNames = graph
        .types
        .iter()
        .filter_map(|t| t.id.map(|id| (id, t.name.clone())))
        .collect();
    Ok(vec![
        (Table::Types, types_batch(&graph.types)?),
        (
            Table::Artifacts,
            nodes_batch(&graph.artifacts, &names, None, Table::Artifacts.schema())?,
        ),
        (
            Table::Executions,
            nodes_batch(&graph.executions, &names, None, Table::Executions.schema())?,
        ),
        (
            Table::Contexts,
            nodes_batch(&graph.contexts, &names, None, Table::Contexts.schema())?,
        ),
        (Table::Events, events_batch(&graph.events)?),
        (
            Table::Attributions,
            links_batch(Table::Attributions, &attribution_pairs(&graph.attributions))?,
        ),
        (
            Table::Associations,
            links_batch(Table::Associations, &association_pairs(&graph.associations))?,
        ),
    ])
}
