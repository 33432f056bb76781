//! Property types and values, with MLMD's numeric codes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::limits;

/// The type of a declared property (MLMD's `PropertyType`, same codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PropertyType {
    /// 64-bit integer (code 1).
    Int,
    /// 64-bit float (code 2).
    Double,
    /// UTF-8 text (code 3).
    String,
    /// A JSON value, MLMD's `google.protobuf.Struct` (code 4).
    Struct,
    /// A serialized protocol buffer (code 5): part of MLMD's model, refused
    /// by keelson.
    Proto,
    /// Boolean (code 6).
    Boolean,
}

impl PropertyType {
    /// MLMD's numeric code, as stored in `type_property.data_type`.
    pub fn code(self) -> i64 {
        match self {
            Self::Int => 1,
            Self::Double => 2,
            Self::String => 3,
            Self::Struct => 4,
            Self::Proto => 5,
            Self::Boolean => 6,
        }
    }

    /// The type with MLMD's numeric `code`, if there is one.
    pub fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            1 => Self::Int,
            2 => Self::Double,
            3 => Self::String,
            4 => Self::Struct,
            5 => Self::Proto,
            6 => Self::Boolean,
            _ => return None,
        })
    }

    /// MLMD's name of the type (`INT`, `DOUBLE`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Int => "INT",
            Self::Double => "DOUBLE",
            Self::String => "STRING",
            Self::Struct => "STRUCT",
            Self::Proto => "PROTO",
            Self::Boolean => "BOOLEAN",
        }
    }
}

impl std::fmt::Display for PropertyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A property value (MLMD's `Value` without `proto_value`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    /// An `INT` value.
    Int(i64),
    /// A `DOUBLE` value.
    Double(f64),
    /// A `STRING` value.
    String(String),
    /// A `STRUCT` value: any JSON value.
    Struct(serde_json::Value),
    /// A `BOOLEAN` value.
    Bool(bool),
}

impl Value {
    /// The property type this value has.
    pub fn property_type(&self) -> PropertyType {
        match self {
            Self::Int(_) => PropertyType::Int,
            Self::Double(_) => PropertyType::Double,
            Self::String(_) => PropertyType::String,
            Self::Struct(_) => PropertyType::Struct,
            Self::Bool(_) => PropertyType::Boolean,
        }
    }

    /// The value as the property tables store it, one column per type:
    /// `(int_value, double_value, string_value, bool_value, struct_value)`,
    /// all `None` but the one of its type (a struct as JSON text).
    pub(crate) fn columns(&self) -> ValueColumns<'_> {
        let mut c = ValueColumns::default();
        match self {
            Self::Int(v) => c.int = Some(*v),
            Self::Double(v) => c.double = Some(*v),
            Self::String(v) => c.string = Some(v.as_str()),
            Self::Bool(v) => c.bool = Some(*v),
            Self::Struct(v) => c.json = Some(v.to_string()),
        }
        c
    }

    /// Checks the size limits ([`limits::MAX_VALUE_BYTES`]); `field` names
    /// the property in the error.
    pub(crate) fn check(&self, field: &str) -> Result<()> {
        if let Self::Double(d) = self
            && d.is_nan()
        {
            return Err(Error::invalid(field, "NaN cannot be stored"));
        }
        let len = match self {
            Self::String(s) => s.len(),
            Self::Struct(v) => v.to_string().len(),
            Self::Int(_) | Self::Double(_) | Self::Bool(_) => 0,
        };
        if len > limits::MAX_VALUE_BYTES {
            return Err(Error::invalid(
                field,
                format!(
                    "value of {len} bytes exceeds the limit of {} bytes",
                    limits::MAX_VALUE_BYTES
                ),
            ));
        }
        Ok(())
    }
}

/// [`Value::columns`]: a value spread over the property tables' columns.
#[derive(Debug, Default)]
pub(crate) struct ValueColumns<'a> {
    pub int: Option<i64>,
    pub double: Option<f64>,
    pub string: Option<&'a str>,
    pub bool: Option<bool>,
    pub json: Option<String>,
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Self::Double(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::String(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::String(v)
    }
}

impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        Self::Struct(v)
    }
}

/// Properties of a node, by name (sorted, so output is deterministic).
pub type Properties = BTreeMap<String, Value>;
