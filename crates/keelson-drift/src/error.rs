//! The one error type of keelson-drift.

/// Everything that can go wrong in keelson-drift.
///
/// Messages name the column (or the sample: `reference` / `current`) and the
/// method involved, so a report over a wide table says which column failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A sample has no values left to test (empty, or only nulls / NaNs).
    #[error("{what} is empty")]
    Empty {
        /// Which sample or column, e.g. `reference` or `column "age" (current)`.
        what: String,
    },
    /// A slice-level function was given a NaN; the Arrow layer drops NaNs and
    /// counts them instead, so this only reaches callers who pass raw slices.
    #[error(
        "{what} contains NaN at index {index}; drop NaNs first (the Arrow layer counts them as missing)"
    )]
    NaN {
        /// Which sample.
        what: String,
        /// Index of the first NaN.
        index: usize,
    },
    /// A parameter is out of its domain (bin count 0, negative epsilon, ...).
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// The parameter's name.
        name: String,
        /// Why it is rejected.
        reason: String,
    },
    /// The test is undefined for this input (scipy raises here), e.g.
    /// Anderson-Darling on data with a single distinct value.
    #[error("{method} is undefined for this input: {reason}")]
    Undefined {
        /// The method's name.
        method: String,
        /// Why.
        reason: String,
    },
    /// A column's Arrow type cannot be used by the requested method.
    #[error("column {column:?}: unsupported data type {data_type} for {method}")]
    UnsupportedType {
        /// The column.
        column: String,
        /// Its Arrow data type, printed.
        data_type: String,
        /// The method that was asked for.
        method: String,
    },
    /// Reference and current disagree on a column's type.
    #[error("column {column:?}: reference is {reference} but current is {current}")]
    TypeMismatch {
        /// The column.
        column: String,
        /// Type in the reference data.
        reference: String,
        /// Type in the current data.
        current: String,
    },
    /// A column asked for (or present in the reference) is missing.
    #[error("column {column:?} is missing from {source_name}")]
    MissingColumn {
        /// The column.
        column: String,
        /// Where it is missing: `reference`, `current`, or a file path.
        source_name: String,
    },
    /// An error from Arrow, with the column it happened on when known.
    #[error("arrow error{}: {source}", context_suffix(.context))]
    Arrow {
        /// The column or file involved, if any.
        context: Option<String>,
        /// The underlying error.
        #[source]
        source: arrow::error::ArrowError,
    },
    /// An error from the Parquet reader.
    #[cfg(feature = "parquet")]
    #[error("parquet error reading {path}: {source}")]
    Parquet {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// An I/O error (opening a Parquet file, writing a report).
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Two partial states cannot be merged (different bin edges, sketch accuracy, ...).
    #[error("cannot merge: {reason}")]
    Merge {
        /// Why.
        reason: String,
    },
}

fn context_suffix(context: &Option<String>) -> String {
    context
        .as_ref()
        .map(|c| format!(" ({c})"))
        .unwrap_or_default()
}

/// Shorthand for `Result<T, keelson_drift::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn undefined(method: &str, reason: impl Into<String>) -> Self {
        Error::Undefined {
            method: method.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid(name: &str, reason: impl Into<String>) -> Self {
        Error::InvalidParameter {
            name: name.to_string(),
            reason: reason.into(),
        }
    }
}
