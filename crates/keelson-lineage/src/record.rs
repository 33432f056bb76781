//! What every backend needs to know about a node kind, whatever its
//! engine: the columns of its table, its fields, how it is checked, named
//! in messages, compared with a stored copy and rebased for an import.
//! Row decoding and the SQL of inserts and updates stay with each backend.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::Result;
use crate::node::{Artifact, Context, Execution};
use crate::types::NodeKind;
use crate::value::{Properties, PropertyType};

/// An artifact, execution or context as a backend stores it.
pub(crate) trait NodeRecord: Sized + Clone + PartialEq + Send + Sync + 'static {
    const KIND: NodeKind;
    /// The selected columns of the node table aliased `t`, `t.id` first.
    const COLUMNS: &'static str;
    fn id(&self) -> Option<i64>;
    fn type_id(&self) -> i64;
    fn properties(&self, custom: bool) -> &Properties;
    fn properties_mut(&mut self, custom: bool) -> &mut Properties;
    /// Checks the node against its type's declared properties and the limits.
    fn validate(&self, declared: &BTreeMap<String, PropertyType>) -> Result<()>;
    /// `kind "name"` for messages about duplicates.
    fn label(&self) -> String;
    /// `(create_time_since_epoch, last_update_time_since_epoch)`.
    fn times(&self) -> (i64, i64);
    /// A copy with id `id` and type `type_id` (an imported row rebased onto
    /// the store's ids).
    fn rebased(&self, id: Option<i64>, type_id: i64) -> Self;

    /// Whether `stored` holds what `self` would write (times aside).
    fn same_content(&self, stored: &Self) -> bool {
        let (create, update) = stored.times();
        let mut given = self.rebased(stored.id(), self.type_id());
        given.set_times(create, update);
        given == *stored
    }

    fn set_times(&mut self, create: i64, update: i64);
}

/// The accessors every node type implements the same way over its
/// `id`, `type_id`, `properties`, `custom_properties` and time fields.
macro_rules! node_fields {
    () => {
        fn id(&self) -> Option<i64> {
            self.id
        }

        fn type_id(&self) -> i64 {
            self.type_id
        }

        fn properties(&self, custom: bool) -> &Properties {
            if custom {
                &self.custom_properties
            } else {
                &self.properties
            }
        }

        fn properties_mut(&mut self, custom: bool) -> &mut Properties {
            if custom {
                &mut self.custom_properties
            } else {
                &mut self.properties
            }
        }

        fn validate(&self, declared: &BTreeMap<String, PropertyType>) -> Result<()> {
            Self::validate(self, declared)
        }

        fn times(&self) -> (i64, i64) {
            (
                self.create_time_since_epoch,
                self.last_update_time_since_epoch,
            )
        }

        fn set_times(&mut self, create: i64, update: i64) {
            self.create_time_since_epoch = create;
            self.last_update_time_since_epoch = update;
        }

        fn rebased(&self, id: Option<i64>, type_id: i64) -> Self {
            Self {
                id,
                type_id,
                ..self.clone()
            }
        }
    };
}

impl NodeRecord for Artifact {
    const KIND: NodeKind = NodeKind::Artifact;
    const COLUMNS: &'static str = "t.id, t.type_id, t.name, t.uri, t.state, t.external_id, \
        t.create_time_since_epoch, t.last_update_time_since_epoch";

    node_fields!();

    fn label(&self) -> String {
        match (&self.name, &self.external_id) {
            (Some(n), _) => format!(
                "artifact {n:?} of type {} (or its external_id)",
                self.type_id
            ),
            (None, Some(e)) => format!("artifact with external_id {e:?}"),
            (None, None) => "artifact".to_owned(),
        }
    }
}

impl NodeRecord for Execution {
    const KIND: NodeKind = NodeKind::Execution;
    const COLUMNS: &'static str = "t.id, t.type_id, t.name, t.last_known_state, t.external_id, \
        t.create_time_since_epoch, t.last_update_time_since_epoch";

    node_fields!();

    fn label(&self) -> String {
        match (&self.name, &self.external_id) {
            (Some(n), _) => format!(
                "execution {n:?} of type {} (or its external_id)",
                self.type_id
            ),
            (None, Some(e)) => format!("execution with external_id {e:?}"),
            (None, None) => "execution".to_owned(),
        }
    }
}

impl NodeRecord for Context {
    const KIND: NodeKind = NodeKind::Context;
    const COLUMNS: &'static str = "t.id, t.type_id, t.name, t.external_id, \
        t.create_time_since_epoch, t.last_update_time_since_epoch";

    node_fields!();

    fn label(&self) -> String {
        format!(
            "context {:?} of type {} (or its external_id)",
            self.name, self.type_id
        )
    }
}

/// The current time in milliseconds since the epoch, as the puts stamp it.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}
