//! The one error type of keelson-lineage.

/// Everything that can go wrong in keelson-lineage; each variant names the
/// offending item, field or property.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A node, type or edge that does not exist in the handle's namespace
    /// (ids of other namespaces are reported this way too).
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, e.g. `artifact 12` or `artifact type "Model"`.
        what: String,
    },
    /// A write that would duplicate something unique, e.g. a second context
    /// of the same type and name.
    #[error("{what} already exists")]
    AlreadyExists {
        /// The duplicate, e.g. `context "run-1" of type 3`.
        what: String,
    },
    /// An argument that breaks a rule of the model or a limit.
    #[error("{field}: {reason}")]
    InvalidArgument {
        /// The field, e.g. `artifact.properties.accuracy`.
        field: String,
        /// Why it was refused.
        reason: String,
    },
    /// A type change that MLMD's evolution rules do not allow.
    #[error("type {type_name:?}: property {property:?}: {reason}")]
    IncompatibleType {
        /// The type being changed.
        type_name: String,
        /// The property at fault.
        property: String,
        /// Why, e.g. `stored as INT, given DOUBLE`.
        reason: String,
    },
    /// A deletion refused by [`DeletePolicy::Refuse`](crate::DeletePolicy)
    /// because links still reference the node.
    #[error("{what} is still referenced by {references}")]
    Referenced {
        /// The node, e.g. `artifact 7`.
        what: String,
        /// The links, e.g. `2 events, 1 attribution`.
        references: String,
    },
    /// A store whose schema version this library cannot use.
    #[error(
        "store schema version {found} is newer than version {supported} of this library; upgrade keelson-lineage"
    )]
    SchemaTooNew {
        /// The version recorded in the store.
        found: i64,
        /// The newest version this library knows.
        supported: i64,
    },
    /// A database that is not a keelson-lineage store.
    #[error("{path}: not a keelson-lineage store ({reason})")]
    NotAStore {
        /// The database file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A feature that is not available (yet) in this backend or version.
    #[error("unsupported: {feature}")]
    Unsupported {
        /// The feature, e.g. `ListOptions.filter_query`.
        feature: String,
    },
    /// A stored value that this library cannot read back (a foreign or
    /// damaged database).
    #[error("corrupt stored value: {what}")]
    Corrupt {
        /// What could not be decoded, e.g. `artifact 3 state 99`.
        what: String,
    },
    /// An error of the database engine.
    #[error("{operation}: {message}")]
    Backend {
        /// What the store was doing, e.g. `open /tmp/x.db`.
        operation: String,
        /// The engine's message.
        message: String,
    },
    /// A transaction that lost to a concurrent one (PostgreSQL's
    /// serialization failure or deadlock) in every one of its attempts; the
    /// write took no effect and may be tried again.
    #[error("{operation}: conflict with a concurrent transaction, {attempts} attempts: {message}")]
    Conflict {
        /// What the store was doing, e.g. `put_execution`.
        operation: String,
        /// How many times the transaction ran.
        attempts: u32,
        /// The engine's message of the last attempt.
        message: String,
    },
    /// The store's worker is gone (the store was dropped or a worker panicked).
    #[error("store closed")]
    Closed,
    /// A filter query that does not parse, or reads an attribute the node
    /// kind lacks.
    #[error(transparent)]
    Filter(crate::filter::FilterError),
    /// An MLMD database that cannot be read.
    #[error(transparent)]
    Mlmd(crate::mlmd::ReadError),
    /// A benchmark workload file that is refused, or a formula that cannot
    /// be evaluated for a run; names the field.
    #[error(transparent)]
    Workload(crate::workload::WorkloadError),
    /// An Arrow or Parquet export that failed: a row that does not fit its
    /// column, an error of Arrow, Parquet or the file system.
    #[error("export of table {table}{}: {reason}", in_column(.column.as_deref()))]
    Export {
        /// The exported table, e.g. `artifacts`.
        table: String,
        /// The column at fault, e.g. `accuracy`, when there is one.
        column: Option<String>,
        /// What went wrong.
        reason: String,
    },
}

fn in_column(column: Option<&str>) -> String {
    column.map_or_else(String::new, |c| format!(", column {c:?}"))
}

impl Error {
    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound { what: what.into() }
    }

    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// The result type of keelson-lineage.
pub type Result<T, E = Error> = std::result::Result<T, E>;
