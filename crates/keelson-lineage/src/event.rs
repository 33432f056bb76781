//! Events: which execution read or wrote which artifact, and through which
//! path of its inputs or outputs.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::limits;
use crate::types::check_name;

/// The type of an event (MLMD's `Event.Type`, same codes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventType {
    /// Code 0.
    #[default]
    Unknown,
    /// Code 1: an output declared by the execution's signature.
    DeclaredOutput,
    /// Code 2: an input declared by the execution's signature.
    DeclaredInput,
    /// Code 3: the execution read the artifact.
    Input,
    /// Code 4: the execution wrote the artifact.
    Output,
    /// Code 5: an input used inside a component.
    InternalInput,
    /// Code 6: an output produced inside a component.
    InternalOutput,
    /// Code 7: an output not written yet.
    PendingOutput,
}

impl EventType {
    /// MLMD's numeric code.
    pub fn code(self) -> i64 {
        match self {
            Self::Unknown => 0,
            Self::DeclaredOutput => 1,
            Self::DeclaredInput => 2,
            Self::Input => 3,
            Self::Output => 4,
            Self::InternalInput => 5,
            Self::InternalOutput => 6,
            Self::PendingOutput => 7,
        }
    }

    /// The event type with MLMD's numeric `code`, if there is one.
    pub fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            0 => Self::Unknown,
            1 => Self::DeclaredOutput,
            2 => Self::DeclaredInput,
            3 => Self::Input,
            4 => Self::Output,
            5 => Self::InternalInput,
            6 => Self::InternalOutput,
            7 => Self::PendingOutput,
            _ => return None,
        })
    }

    /// Whether the artifact flows into the execution (INPUT,
    /// DECLARED_INPUT, INTERNAL_INPUT).
    pub fn is_input(self) -> bool {
        matches!(
            self,
            Self::Input | Self::DeclaredInput | Self::InternalInput
        )
    }

    /// Whether the execution produces the artifact (OUTPUT,
    /// DECLARED_OUTPUT, INTERNAL_OUTPUT, PENDING_OUTPUT).
    pub fn is_output(self) -> bool {
        matches!(
            self,
            Self::Output | Self::DeclaredOutput | Self::InternalOutput | Self::PendingOutput
        )
    }
}

/// One step of an event path: a key of a named input/output or an index
/// into a list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathStep {
    /// A position in a list.
    Index(i64),
    /// A name, e.g. the output key `model`.
    Key(String),
}

/// An edge between an artifact and an execution (MLMD's `Event`).
///
/// ```
/// use keelson_lineage::{Event, EventType, PathStep};
///
/// let e = Event::new(EventType::Output).with_key("model");
/// assert_eq!(e.path, vec![PathStep::Key("model".into())]);
/// assert!(e.event_type.is_output());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The artifact; filled in by [`put_execution`](crate::MetadataStore::put_execution).
    pub artifact_id: i64,
    /// The execution; filled in by [`put_execution`](crate::MetadataStore::put_execution).
    pub execution_id: i64,
    /// The type.
    pub event_type: EventType,
    /// Where in the execution's inputs or outputs the artifact sits.
    pub path: Vec<PathStep>,
    /// When; the store sets the current time when `None`.
    pub milliseconds_since_epoch: Option<i64>,
}

impl Event {
    /// An event of `event_type` with an empty path; the ids are filled in
    /// by `put_execution`.
    pub fn new(event_type: EventType) -> Self {
        Self {
            event_type,
            ..Self::default()
        }
    }

    /// Appends a key step to the path.
    #[must_use]
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.path.push(PathStep::Key(key.into()));
        self
    }

    /// Appends an index step to the path.
    #[must_use]
    pub fn with_index(mut self, index: i64) -> Self {
        self.path.push(PathStep::Index(index));
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.path.len() > limits::MAX_PATH_STEPS {
            return Err(Error::invalid(
                "event.path",
                format!("more than {} steps", limits::MAX_PATH_STEPS),
            ));
        }
        for step in &self.path {
            if let PathStep::Key(k) = step {
                check_name("event.path.key", k)?;
            }
        }
        Ok(())
    }
}
