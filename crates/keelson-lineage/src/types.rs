//! Artifact, execution and context types, and MLMD's rules for changing them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::limits;
use crate::value::PropertyType;

/// The three kinds of node (codes as in the `type.kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// An artifact (code 0).
    Artifact,
    /// An execution (code 1).
    Execution,
    /// A context (code 2).
    Context,
}

impl NodeKind {
    /// The node table in the store's schema (`docs/lineage.md`).
    pub fn table(self) -> &'static str {
        // The node tables are named after their kinds.
        self.name()
    }

    /// The table of this kind's properties.
    pub(crate) fn property_table(self) -> &'static str {
        match self {
            NodeKind::Artifact => "artifact_property",
            NodeKind::Execution => "execution_property",
            NodeKind::Context => "context_property",
        }
    }

    /// The property table's column naming the node.
    pub(crate) fn property_owner(self) -> &'static str {
        match self {
            NodeKind::Artifact => "artifact_id",
            NodeKind::Execution => "execution_id",
            NodeKind::Context => "context_id",
        }
    }

    /// The numeric code stored in `type.kind`.
    pub fn code(self) -> i64 {
        match self {
            Self::Artifact => 0,
            Self::Execution => 1,
            Self::Context => 2,
        }
    }

    /// The kind with numeric `code`, if there is one.
    pub fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            0 => Self::Artifact,
            1 => Self::Execution,
            2 => Self::Context,
            _ => return None,
        })
    }

    /// `artifact`, `execution` or `context`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Artifact => "artifact",
            Self::Execution => "execution",
            Self::Context => "context",
        }
    }

    /// MLMD's system-defined base types allowed for this kind.
    pub fn base_types(self) -> &'static [&'static str] {
        match self {
            Self::Artifact => &["DATASET", "MODEL", "METRICS", "STATISTICS"],
            Self::Execution => &["TRAIN", "TRANSFORM", "PROCESS", "EVALUATE", "DEPLOY"],
            Self::Context => &[],
        }
    }
}

impl std::fmt::Display for NodeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An artifact, execution or context type: MLMD's `ArtifactType`,
/// `ExecutionType` and `ContextType`, told apart by [`NodeType::kind`].
///
/// ```
/// use keelson_lineage::{NodeKind, NodeType, PropertyType};
///
/// let model = NodeType::artifact("Model")
///     .with_property("accuracy", PropertyType::Double)
///     .with_base_type("MODEL");
/// assert_eq!(model.kind, NodeKind::Artifact);
/// assert_eq!(model.properties["accuracy"], PropertyType::Double);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeType {
    /// The id, set by the store; `None` for a type not yet stored.
    pub id: Option<i64>,
    /// Which kind of node the type is for.
    pub kind: NodeKind,
    /// The name, unique per kind, version and namespace.
    pub name: String,
    /// An optional version; `(name, version)` identifies the type.
    pub version: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// An id from another system.
    pub external_id: Option<String>,
    /// MLMD's system-defined base type, e.g. `MODEL` or `TRAIN` (see
    /// [`NodeKind::base_types`]).
    pub base_type: Option<String>,
    /// The declared properties and their types.
    pub properties: BTreeMap<String, PropertyType>,
}

impl NodeType {
    /// A type of `kind` named `name`, with no properties.
    pub fn new(kind: NodeKind, name: impl Into<String>) -> Self {
        Self {
            id: None,
            kind,
            name: name.into(),
            version: None,
            description: None,
            external_id: None,
            base_type: None,
            properties: BTreeMap::new(),
        }
    }

    /// An artifact type named `name`.
    pub fn artifact(name: impl Into<String>) -> Self {
        Self::new(NodeKind::Artifact, name)
    }

    /// An execution type named `name`.
    pub fn execution(name: impl Into<String>) -> Self {
        Self::new(NodeKind::Execution, name)
    }

    /// A context type named `name`.
    pub fn context(name: impl Into<String>) -> Self {
        Self::new(NodeKind::Context, name)
    }

    /// Declares property `name` of type `ty`.
    #[must_use]
    pub fn with_property(mut self, name: impl Into<String>, ty: PropertyType) -> Self {
        self.properties.insert(name.into(), ty);
        self
    }

    /// Sets the base type.
    #[must_use]
    pub fn with_base_type(mut self, base_type: impl Into<String>) -> Self {
        self.base_type = Some(base_type.into());
        self
    }

    /// Sets the version.
    #[must_use]
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// `artifact type "Model"` (with `@version` when there is one), for messages.
    pub(crate) fn label(&self) -> String {
        type_label(self.kind, &self.name, self.version.as_deref())
    }

    /// Checks names, limits, property types and the base type.
    pub(crate) fn validate(&self) -> Result<()> {
        let field = format!("{} type", self.kind);
        check_name(&format!("{field}.name"), &self.name)?;
        if let Some(v) = &self.version {
            check_name(&format!("{field}.version"), v)?;
        }
        if let Some(e) = &self.external_id {
            check_name(&format!("{field}.external_id"), e)?;
        }
        if let Some(d) = &self.description {
            check_len(
                &format!("{field}.description"),
                d,
                limits::MAX_DESCRIPTION_BYTES,
            )?;
        }
        if let Some(b) = &self.base_type
            && !self.kind.base_types().contains(&b.as_str())
        {
            return Err(Error::invalid(
                format!("{field}.base_type"),
                format!(
                    "{b:?} is not a {} base type (allowed: {})",
                    self.kind,
                    self.kind.base_types().join(", ")
                ),
            ));
        }
        if self.properties.len() > limits::MAX_PROPERTIES {
            return Err(Error::invalid(
                format!("{field}.properties"),
                format!("more than {} properties", limits::MAX_PROPERTIES),
            ));
        }
        for (name, ty) in &self.properties {
            check_name(&format!("{field}.properties"), name)?;
            if *ty == PropertyType::Proto {
                return Err(Error::Unsupported {
                    feature: format!("PROTO property {name:?} of {}", self.label()),
                });
            }
        }
        Ok(())
    }
}

pub(crate) fn type_label(kind: NodeKind, name: &str, version: Option<&str>) -> String {
    match version {
        Some(v) => format!("{kind} type {name:?}@{v:?}"),
        None => format!("{kind} type {name:?}"),
    }
}

/// How [`put_type`](crate::MetadataStore::put_type) may change a stored type
/// of the same kind, name and version (MLMD's flags of the same names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeOptions {
    /// Properties the stored type lacks may be added.
    pub can_add_fields: bool,
    /// Properties of the stored type may be left out of the given one (they
    /// stay stored: MLMD never removes a property).
    pub can_omit_fields: bool,
}

/// MLMD's evolution rule: the properties of `given` that `stored` lacks and
/// may gain, or an error naming the first property that breaks the rule.
///
/// ```
/// use keelson_lineage::{NodeType, PropertyType, TypeOptions, evolve_type};
///
/// let stored = NodeType::artifact("Model").with_property("accuracy", PropertyType::Double);
/// let given = stored.clone().with_property("loss", PropertyType::Double);
/// assert!(evolve_type(&stored, &given, TypeOptions::default()).is_err());
/// let opts = TypeOptions { can_add_fields: true, can_omit_fields: false };
/// let added = evolve_type(&stored, &given, opts)?;
/// assert_eq!(added, vec![("loss".to_string(), PropertyType::Double)]);
/// # Ok::<(), keelson_lineage::Error>(())
/// ```
pub fn evolve_type(
    stored: &NodeType,
    given: &NodeType,
    options: TypeOptions,
) -> Result<Vec<(String, PropertyType)>> {
    let incompatible = |property: &str, reason: String| Error::IncompatibleType {
        type_name: given.name.clone(),
        property: property.to_owned(),
        reason,
    };
    let mut added = Vec::new();
    for (name, ty) in &given.properties {
        match stored.properties.get(name) {
            Some(old) if old == ty => {}
            Some(old) => {
                return Err(incompatible(
                    name,
                    format!("stored as {old}, given as {ty}"),
                ));
            }
            None if options.can_add_fields => added.push((name.clone(), *ty)),
            None => {
                return Err(incompatible(
                    name,
                    "not in the stored type; set can_add_fields to add it".to_owned(),
                ));
            }
        }
    }
    if !options.can_omit_fields
        && let Some(name) = stored
            .properties
            .keys()
            .find(|n| !given.properties.contains_key(*n))
    {
        return Err(incompatible(
            name,
            "stored but missing from the given type; set can_omit_fields to omit it".to_owned(),
        ));
    }
    Ok(added)
}

pub(crate) fn check_len(field: &str, s: &str, max: usize) -> Result<()> {
    if s.len() > max {
        return Err(Error::invalid(
            field,
            format!("{} bytes exceed the limit of {max} bytes", s.len()),
        ));
    }
    Ok(())
}

pub(crate) fn check_name(field: &str, s: &str) -> Result<()> {
    if s.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    check_len(field, s, limits::MAX_NAME_BYTES)
}
