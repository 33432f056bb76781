//! Artifacts, executions and contexts: the nodes of the lineage graph.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::limits;
use crate::types::{check_len, check_name};
use crate::value::{Properties, PropertyType};

macro_rules! state_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// MLMD's numeric code.
            pub fn code(self) -> i64 {
                match self { $(Self::$variant => $code,)* }
            }

            /// The state with MLMD's numeric `code`, if there is one.
            pub fn from_code(code: i64) -> Option<Self> {
                match code { $($code => Some(Self::$variant),)* _ => None }
            }
        }
    };
}

state_enum! {
    /// The state of an artifact (MLMD's `Artifact.State`, same codes).
    ArtifactState {
        /// Code 0, the default.
        #[default]
        Unknown = 0,
        /// Code 1: being written.
        Pending = 1,
        /// Code 2: readable.
        Live = 2,
        /// Code 3.
        MarkedForDeletion = 3,
        /// Code 4.
        Deleted = 4,
        /// Code 5: its producer gave up.
        Abandoned = 5,
        /// Code 6: an external reference.
        Reference = 6,
    }
}

state_enum! {
    /// The last known state of an execution (MLMD's `Execution.State`).
    ExecutionState {
        /// Code 0, the default.
        #[default]
        Unknown = 0,
        /// Code 1.
        New = 1,
        /// Code 2.
        Running = 2,
        /// Code 3.
        Complete = 3,
        /// Code 4.
        Failed = 4,
        /// Code 5: satisfied from a cache.
        Cached = 5,
        /// Code 6.
        Canceled = 6,
    }
}

/// A piece of data: a dataset, a model, metrics (MLMD's `Artifact`).
///
/// `create_time_since_epoch` and `last_update_time_since_epoch`
/// (milliseconds) are set by the store; values given on a put are ignored
/// (only [`MetadataStore::import_batch`](crate::MetadataStore::import_batch)
/// keeps them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// The id: `None` to insert, `Some` to update.
    pub id: Option<i64>,
    /// The artifact type's id.
    pub type_id: i64,
    /// A name, unique within the type when set.
    pub name: Option<String>,
    /// Where the data is.
    pub uri: Option<String>,
    /// The state.
    pub state: ArtifactState,
    /// An id from another system, unique within the namespace when set.
    pub external_id: Option<String>,
    /// Values of the type's declared properties.
    pub properties: Properties,
    /// Free-form properties.
    pub custom_properties: Properties,
    /// Creation time, ms since the epoch (set by the store).
    pub create_time_since_epoch: i64,
    /// Last update time, ms since the epoch (set by the store).
    pub last_update_time_since_epoch: i64,
}

/// A run of a component (MLMD's `Execution`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Execution {
    /// The id: `None` to insert, `Some` to update.
    pub id: Option<i64>,
    /// The execution type's id.
    pub type_id: i64,
    /// A name, unique within the type when set.
    pub name: Option<String>,
    /// The last known state.
    pub last_known_state: ExecutionState,
    /// An id from another system, unique within the namespace when set.
    pub external_id: Option<String>,
    /// Values of the type's declared properties.
    pub properties: Properties,
    /// Free-form properties.
    pub custom_properties: Properties,
    /// Creation time, ms since the epoch (set by the store).
    pub create_time_since_epoch: i64,
    /// Last update time, ms since the epoch (set by the store).
    pub last_update_time_since_epoch: i64,
}

/// A grouping of artifacts and executions: a pipeline, a run, an
/// experiment (MLMD's `Context`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// The id: `None` to insert, `Some` to update.
    pub id: Option<i64>,
    /// The context type's id.
    pub type_id: i64,
    /// The name, unique within the type.
    pub name: String,
    /// An id from another system, unique within the namespace when set.
    pub external_id: Option<String>,
    /// Values of the type's declared properties.
    pub properties: Properties,
    /// Free-form properties.
    pub custom_properties: Properties,
    /// Creation time, ms since the epoch (set by the store).
    pub create_time_since_epoch: i64,
    /// Last update time, ms since the epoch (set by the store).
    pub last_update_time_since_epoch: i64,
}

impl Artifact {
    /// A new artifact of type `type_id` at `uri`.
    pub fn new(type_id: i64, uri: impl Into<String>) -> Self {
        Self {
            type_id,
            uri: Some(uri.into()),
            ..Self::default()
        }
    }

    /// Sets a property.
    #[must_use]
    pub fn with_property(
        mut self,
        name: impl Into<String>,
        value: impl Into<crate::Value>,
    ) -> Self {
        self.properties.insert(name.into(), value.into());
        self
    }

    pub(crate) fn validate(&self, declared: &BTreeMap<String, PropertyType>) -> Result<()> {
        if let Some(n) = &self.name {
            check_name("artifact.name", n)?;
        }
        if let Some(u) = &self.uri {
            check_len("artifact.uri", u, limits::MAX_URI_BYTES)?;
        }
        if let Some(e) = &self.external_id {
            check_name("artifact.external_id", e)?;
        }
        check_properties(
            "artifact",
            declared,
            &self.properties,
            &self.custom_properties,
        )
    }
}

impl Execution {
    /// A new execution of type `type_id` in `state`.
    pub fn new(type_id: i64, state: ExecutionState) -> Self {
        Self {
            type_id,
            last_known_state: state,
            ..Self::default()
        }
    }

    /// Sets a property.
    #[must_use]
    pub fn with_property(
        mut self,
        name: impl Into<String>,
        value: impl Into<crate::Value>,
    ) -> Self {
        self.properties.insert(name.into(), value.into());
        self
    }

    pub(crate) fn validate(&self, declared: &BTreeMap<String, PropertyType>) -> Result<()> {
        if let Some(n) = &self.name {
            check_name("execution.name", n)?;
        }
        if let Some(e) = &self.external_id {
            check_name("execution.external_id", e)?;
        }
        check_properties(
            "execution",
            declared,
            &self.properties,
            &self.custom_properties,
        )
    }
}

impl Context {
    /// A new context of type `type_id` named `name`.
    pub fn new(type_id: i64, name: impl Into<String>) -> Self {
        Self {
            type_id,
            name: name.into(),
            ..Self::default()
        }
    }

    /// Sets a property.
    #[must_use]
    pub fn with_property(
        mut self,
        name: impl Into<String>,
        value: impl Into<crate::Value>,
    ) -> Self {
        self.properties.insert(name.into(), value.into());
        self
    }

    pub(crate) fn validate(&self, declared: &BTreeMap<String, PropertyType>) -> Result<()> {
        check_name("context.name", &self.name)?;
        if let Some(e) = &self.external_id {
            check_name("context.external_id", e)?;
        }
        check_properties(
            "context",
            declared,
            &self.properties,
            &self.custom_properties,
        )
    }
}

/// Declared properties must exist in the type with the same type; custom
/// ones are free; all obey the size limits.
fn check_properties(
    node: &str,
    declared: &BTreeMap<String, PropertyType>,
    properties: &Properties,
    custom: &Properties,
) -> Result<()> {
    if properties.len() + custom.len() > limits::MAX_PROPERTIES {
        return Err(Error::invalid(
            format!("{node}.properties"),
            format!(
                "more than {} properties and custom properties",
                limits::MAX_PROPERTIES
            ),
        ));
    }
    for (name, value) in properties {
        let field = format!("{node}.properties.{name}");
        match declared.get(name) {
            None => return Err(Error::invalid(field, "not declared by the type")),
            Some(ty) if *ty != value.property_type() => {
                return Err(Error::invalid(
                    field,
                    format!("declared {ty}, given {}", value.property_type()),
                ));
            }
            Some(_) => value.check(&field)?,
        }
    }
    for (name, value) in custom {
        let field = format!("{node}.custom_properties.{name}");
        check_name(&field, name)?;
        value.check(&field)?;
    }
    Ok(())
}
