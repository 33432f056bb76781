//! What every backend's import path shares: the `import_source` kind codes,
//! how a type is merged, and how each row's outcome is tallied.

use crate::types::TypeOptions;

use super::ImportTally;

/// `import_source.kind` of types (nodes use their kind's code).
pub(crate) const TYPE_KIND: i64 = 3;
/// `import_source.kind` of events.
pub(crate) const EVENT_KIND: i64 = 4;

/// A type merges in whatever properties the source declares, and keeps
/// those it lacks: the import never narrows a type.
pub(crate) const MERGE: TypeOptions = TypeOptions {
    can_add_fields: true,
    can_omit_fields: true,
};

/// What the import did with one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Inserted,
    Updated,
    Unchanged,
}

impl Outcome {
    /// `Inserted` for a new link, `Unchanged` for one that was there.
    pub(crate) fn of_link(new: bool) -> Self {
        if new { Self::Inserted } else { Self::Unchanged }
    }

    /// Counts this outcome into `tally`.
    pub(crate) fn count(self, tally: &mut ImportTally) {
        match self {
            Self::Inserted => tally.inserted += 1,
            Self::Updated => tally.updated += 1,
            Self::Unchanged => tally.unchanged += 1,
        }
    }
}
