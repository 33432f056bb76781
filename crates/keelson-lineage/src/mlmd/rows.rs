//! Plain rows mirroring MLMD's tables (schema version 10), with each node's
//! properties and each event's path folded in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a type describes (MLMD's `Type.type_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TypeKind {
    /// `type_kind = 0`.
    Execution,
    /// `type_kind = 1`.
    Artifact,
    /// `type_kind = 2`.
    Context,
}

/// The declared type of a type's property (MLMD's `PropertyType`, stored in
/// `TypeProperty.data_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PropertyType {
    /// `0`, or a code this reader does not know.
    Unknown,
    /// `1`
    Int,
    /// `2`
    Double,
    /// `3`
    String,
    /// `4`: a `google.protobuf.Struct`, read as JSON.
    Struct,
    /// `5`: a `google.protobuf.Any`.
    Proto,
    /// `6`
    Boolean,
}

impl PropertyType {
    pub(crate) fn from_code(code: Option<i64>) -> Self {
        match code {
            Some(1) => PropertyType::Int,
            Some(2) => PropertyType::Double,
            Some(3) => PropertyType::String,
            Some(4) => PropertyType::Struct,
            Some(5) => PropertyType::Proto,
            Some(6) => PropertyType::Boolean,
            _ => PropertyType::Unknown,
        }
    }
}

/// One row of `Type`, with its `TypeProperty` and `ParentType` rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeRow {
    /// `id`
    pub id: i64,
    /// `name`
    pub name: String,
    /// `version`
    pub version: Option<String>,
    /// `type_kind`
    pub kind: TypeKind,
    /// `description`
    pub description: Option<String>,
    /// `input_type` (an execution type's declared inputs, as MLMD's text).
    pub input_type: Option<String>,
    /// `output_type`
    pub output_type: Option<String>,
    /// `external_id`
    pub external_id: Option<String>,
    /// The declared properties (`TypeProperty`).
    pub properties: BTreeMap<String, PropertyType>,
    /// `ParentType.parent_type_id` of this type.
    pub parent_type_ids: Vec<i64>,
    /// The base type MLMD reports (`MODEL`, `DATASET`, `TRAIN`, …): the
    /// upper-cased name of the first parent type that is a system type
    /// (`mlmd.Model` → `MODEL`).
    pub base_type: Option<String>,
    /// Whether this is one of MLMD's own system types (`mlmd.*`), which
    /// MLMD's type listings leave out.
    pub system: bool,
}

/// A property value (MLMD's `Value`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// `int_value`
    Int(i64),
    /// `double_value`
    Double(f64),
    /// `string_value`
    String(String),
    /// A `google.protobuf.Struct` (MLMD stores it as `mlmd-struct::` and
    /// the base64 of the serialized message), read as JSON.
    Struct(serde_json::Value),
    /// `bool_value`
    Bool(bool),
    /// `proto_value`: a serialized `google.protobuf.Any`, kept as bytes
    /// (its message type is not known here).
    Proto(Vec<u8>),
    /// `byte_value`, kept as bytes.
    Bytes(Vec<u8>),
}

/// Properties by name.
pub type Properties = BTreeMap<String, Value>;

/// One row of `Artifact`, with its `ArtifactProperty` rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactRow {
    /// `id`
    pub id: i64,
    /// `type_id`
    pub type_id: i64,
    /// `uri`
    pub uri: Option<String>,
    /// `state`: MLMD's code (see [`crate::filter::ARTIFACT_STATES`]).
    pub state: Option<i64>,
    /// `name`
    pub name: Option<String>,
    /// `external_id`
    pub external_id: Option<String>,
    /// `create_time_since_epoch` (milliseconds).
    pub create_time_since_epoch: i64,
    /// `last_update_time_since_epoch` (milliseconds).
    pub last_update_time_since_epoch: i64,
    /// Properties declared by the type.
    pub properties: Properties,
    /// Custom properties.
    pub custom_properties: Properties,
}

/// One row of `Execution`, with its `ExecutionProperty` rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRow {
    /// `id`
    pub id: i64,
    /// `type_id`
    pub type_id: i64,
    /// `last_known_state`: MLMD's code (see
    /// [`crate::filter::EXECUTION_STATES`]).
    pub last_known_state: Option<i64>,
    /// `name`
    pub name: Option<String>,
    /// `external_id`
    pub external_id: Option<String>,
    /// `create_time_since_epoch` (milliseconds).
    pub create_time_since_epoch: i64,
    /// `last_update_time_since_epoch` (milliseconds).
    pub last_update_time_since_epoch: i64,
    /// Properties declared by the type.
    pub properties: Properties,
    /// Custom properties.
    pub custom_properties: Properties,
}

/// One row of `Context`, with its `ContextProperty` rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextRow {
    /// `id`
    pub id: i64,
    /// `type_id`
    pub type_id: i64,
    /// `name`
    pub name: String,
    /// `external_id`
    pub external_id: Option<String>,
    /// `create_time_since_epoch` (milliseconds).
    pub create_time_since_epoch: i64,
    /// `last_update_time_since_epoch` (milliseconds).
    pub last_update_time_since_epoch: i64,
    /// Properties declared by the type.
    pub properties: Properties,
    /// Custom properties.
    pub custom_properties: Properties,
}

/// One step of an event's path (`EventPath`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PathStep {
    /// `is_index_step = 1`: `step_index`.
    Index(i64),
    /// `is_index_step = 0`: `step_key`.
    Key(String),
}

/// One row of `Event`, with its `EventPath` rows in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    /// `id`
    pub id: i64,
    /// `artifact_id`
    pub artifact_id: i64,
    /// `execution_id`
    pub execution_id: i64,
    /// `type`: MLMD's code (see [`crate::filter::EVENT_TYPES`]).
    pub event_type: i64,
    /// `milliseconds_since_epoch`
    pub milliseconds_since_epoch: Option<i64>,
    /// The path steps.
    pub path: Vec<PathStep>,
}

/// One row of `Attribution` (artifact ∈ context).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributionRow {
    /// `id`
    pub id: i64,
    /// `context_id`
    pub context_id: i64,
    /// `artifact_id`
    pub artifact_id: i64,
}

/// One row of `Association` (execution ∈ context).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssociationRow {
    /// `id`
    pub id: i64,
    /// `context_id`
    pub context_id: i64,
    /// `execution_id`
    pub execution_id: i64,
}

/// One row of `ParentContext`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentContextRow {
    /// `context_id` (the child).
    pub context_id: i64,
    /// `parent_context_id`
    pub parent_context_id: i64,
}

/// One batch of rows of one table, as [`MlmdReader::read`](super::MlmdReader::read)
/// hands them out, in an order where every row's references come first:
/// types, contexts, parent contexts, artifacts, executions, events,
/// attributions, associations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Batch {
    /// Every type, in one batch.
    Types(Vec<TypeRow>),
    /// Contexts.
    Contexts(Vec<ContextRow>),
    /// Parent-context links.
    ParentContexts(Vec<ParentContextRow>),
    /// Artifacts.
    Artifacts(Vec<ArtifactRow>),
    /// Executions.
    Executions(Vec<ExecutionRow>),
    /// Events.
    Events(Vec<EventRow>),
    /// Attributions.
    Attributions(Vec<AttributionRow>),
    /// Associations.
    Associations(Vec<AssociationRow>),
}

/// A whole MLMD database in memory (for small databases and tests; large
/// ones are read batch by batch).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dump {
    /// `MLMDEnv.schema_version`.
    pub schema_version: i64,
    /// Every type, system types included.
    pub types: Vec<TypeRow>,
    /// Every context.
    pub contexts: Vec<ContextRow>,
    /// Every parent-context link.
    pub parent_contexts: Vec<ParentContextRow>,
    /// Every artifact.
    pub artifacts: Vec<ArtifactRow>,
    /// Every execution.
    pub executions: Vec<ExecutionRow>,
    /// Every event.
    pub events: Vec<EventRow>,
    /// Every attribution.
    pub attributions: Vec<AttributionRow>,
    /// Every association.
    pub associations: Vec<AssociationRow>,
}

impl Dump {
    pub(crate) fn push(&mut self, batch: Batch) {
        match batch {
            Batch::Types(rows) => self.types.extend(rows),
            Batch::Contexts(rows) => self.contexts.extend(rows),
            Batch::ParentContexts(rows) => self.parent_contexts.extend(rows),
            Batch::Artifacts(rows) => self.artifacts.extend(rows),
            Batch::Executions(rows) => self.executions.extend(rows),
            Batch::Events(rows) => self.events.extend(rows),
            Batch::Attributions(rows) => self.attributions.extend(rows),
            Batch::Associations(rows) => self.associations.extend(rows),
        }
    }
}
