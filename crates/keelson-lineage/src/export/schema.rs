//! The Arrow schemas of the exported tables.
//!
//! Node tables (`artifacts`, `executions`, `contexts`) share their leading
//! columns: `id`, `type_id`, `type` (the type's name), then the kind's own
//! columns, `external_id`, `create_time_since_epoch` and
//! `last_update_time_since_epoch` (`Timestamp(ms, UTC)`), `properties` and
//! `custom_properties`. A property map is
//! `Map<Utf8, Struct{int_value, double_value, string_value, bool_value,
//! struct_value}>` with exactly one field of each value set, the one of
//! the value's type; struct values are their JSON text.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, FieldRef, Fields, Schema, SchemaRef, TimeUnit};

use super::Table;
use crate::value::PropertyType;

/// The name of a property map's entries field (Parquet's `MAP` layout).
pub(crate) const MAP_ENTRIES: &str = "key_value";

/// The fields of a property value: `int_value: Int64`, `double_value:
/// Float64`, `string_value: Utf8`, `bool_value: Boolean`, `struct_value:
/// Utf8` (JSON text), all nullable; exactly one is set.
pub fn value_fields() -> Fields {
    Fields::from(vec![
        Field::new("int_value", DataType::Int64, true),
        Field::new("double_value", DataType::Float64, true),
        Field::new("string_value", DataType::Utf8, true),
        Field::new("bool_value", DataType::Boolean, true),
        Field::new("struct_value", DataType::Utf8, true),
    ])
}

/// The entries of a property map: `key: Utf8` and `value` (see
/// [`value_fields`]).
pub(crate) fn property_entry_fields() -> Fields {
    Fields::from(vec![
        Field::new("key", DataType::Utf8, false),
        Field::new("value", DataType::Struct(value_fields()), false),
    ])
}

/// The entries field of a property map.
pub(crate) fn property_entries() -> FieldRef {
    Arc::new(Field::new(
        MAP_ENTRIES,
        DataType::Struct(property_entry_fields()),
        false,
    ))
}

/// The type of the `properties` and `custom_properties` columns.
pub fn property_map_type() -> DataType {
    DataType::Map(property_entries(), true)
}

/// The entries of a type's declared properties: `key: Utf8` (the property)
/// and `value: Utf8` (its type, `INT`, `DOUBLE`, …).
pub(crate) fn declared_entry_fields() -> Fields {
    Fields::from(vec![
        Field::new("key", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, false),
    ])
}

/// The entries field of a type's declared properties.
pub(crate) fn declared_entries() -> FieldRef {
    Arc::new(Field::new(
        MAP_ENTRIES,
        DataType::Struct(declared_entry_fields()),
        false,
    ))
}

/// The fields of one step of an event path: `index: Int64` or `key: Utf8`,
/// exactly one set.
pub fn path_step_fields() -> Fields {
    Fields::from(vec![
        Field::new("index", DataType::Int64, true),
        Field::new("key", DataType::Utf8, true),
    ])
}

/// The list item field of an event path.
pub(crate) fn path_item() -> FieldRef {
    Arc::new(Field::new(
        "item",
        DataType::Struct(path_step_fields()),
        false,
    ))
}

/// The type of the events' `path` column: `List<Struct{index, key}>`.
pub fn path_type() -> DataType {
    DataType::List(path_item())
}

/// `Timestamp(ms, UTC)`, the type of every time column.
pub fn time_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

/// The Arrow type of a flattened property column of this property type
/// (struct values as JSON text); `None` for `PROTO`, which no store holds.
pub fn flattened_type(ty: PropertyType) -> Option<DataType> {
    match ty {
        PropertyType::Int => Some(DataType::Int64),
        PropertyType::Double => Some(DataType::Float64),
        PropertyType::String | PropertyType::Struct => Some(DataType::Utf8),
        PropertyType::Boolean => Some(DataType::Boolean),
        PropertyType::Proto => None,
    }
}

fn node_fields(own: Vec<Field>) -> Vec<Field> {
    let mut fields = vec![
        Field::new("id", DataType::Int64, false),
        Field::new("type_id", DataType::Int64, false),
        Field::new("type", DataType::Utf8, true),
    ];
    fields.extend(own);
    fields.extend([
        Field::new("external_id", DataType::Utf8, true),
        Field::new("create_time_since_epoch", time_type(), false),
        Field::new("last_update_time_since_epoch", time_type(), false),
    ]);
    fields
}

/// The columns of a node table before its properties.
pub(crate) fn node_columns(table: Table) -> Vec<Field> {
    match table {
        Table::Artifacts => node_fields(vec![
            Field::new("name", DataType::Utf8, true),
            Field::new("uri", DataType::Utf8, true),
            Field::new("state", DataType::Utf8, false),
        ]),
        Table::Executions => node_fields(vec![
            Field::new("name", DataType::Utf8, true),
            Field::new("last_known_state", DataType::Utf8, false),
        ]),
        _ => node_fields(vec![Field::new("name", DataType::Utf8, false)]),
    }
}

impl Table {
    /// The table's Arrow schema (node tables with their property maps; an
    /// export with [`flatten`](super::ExportOptions::flatten) has its own,
    /// [`TableExport::schema`](super::TableExport::schema)).
    pub fn schema(self) -> SchemaRef {
        let id = |name: &str| Field::new(name, DataType::Int64, false);
        let fields = match self {
            Table::Types => vec![
                id("id"),
                Field::new("kind", DataType::Utf8, false),
                Field::new("name", DataType::Utf8, false),
                Field::new("version", DataType::Utf8, true),
                Field::new("description", DataType::Utf8, true),
                Field::new("external_id", DataType::Utf8, true),
                Field::new("base_type", DataType::Utf8, true),
                Field::new("properties", DataType::Map(declared_entries(), true), false),
            ],
            Table::Artifacts | Table::Executions | Table::Contexts => {
                let mut fields = node_columns(self);
                fields.push(Field::new("properties", property_map_type(), false));
                fields.push(Field::new("custom_properties", property_map_type(), false));
                fields
            }
            Table::Events => vec![
                id("artifact_id"),
                id("execution_id"),
                Field::new("type", DataType::Utf8, false),
                Field::new("path", path_type(), false),
                Field::new("milliseconds_since_epoch", time_type(), true),
            ],
            Table::Attributions => vec![id("context_id"), id("artifact_id")],
            Table::Associations => vec![id("context_id"), id("execution_id")],
            Table::ParentContexts => vec![id("context_id"), id("parent_context_id")],
        };
        Arc::new(Schema::new(fields))
    }
}
