//! The one error type of this crate.

use std::fmt;

/// Where in the input a problem sits: file, document, line and column, field path.
///
/// Every part is optional because not every source knows it: bytes passed to
/// [`crate::load_str`] have no file name, and a JSON document has no line for a
/// field that the YAML parser never saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// The file or source name given to the loader.
    pub source: Option<String>,
    /// The document's position in a multi-document stream, counted from 1.
    pub document: Option<usize>,
    /// Line in the source, counted from 1.
    pub line: Option<usize>,
    /// Column in the source, counted from 1.
    pub column: Option<usize>,
    /// The field path, e.g. `spec.parameters[2].feasibleSpace.min`.
    pub path: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote = false;
        if let Some(source) = &self.source {
            write!(f, "{source}")?;
            wrote = true;
        }
        if let Some(doc) = self.document {
            if wrote {
                f.write_str(" ")?;
            }
            write!(f, "doc {doc}")?;
            wrote = true;
        }
        if let (Some(line), Some(column)) = (self.line, self.column) {
            if wrote {
                f.write_str(" ")?;
            }
            write!(f, "(line {line}, column {column})")?;
            wrote = true;
        }
        if let Some(path) = &self.path {
            if wrote {
                f.write_str(": ")?;
            }
            f.write_str(path)?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not YAML or JSON at all.
    #[error("{location}: {message}")]
    Syntax {
        /// Where the parser stopped.
        location: Location,
        /// The parser's message.
        message: String,
    },
    /// A document is YAML but does not have the shape of the kind it declares.
    #[error("{location}: {message}")]
    Shape {
        /// Where the offending field is.
        location: Location,
        /// What was wrong with it.
        message: String,
    },
    /// A document lacks `apiVersion` or `kind`, or they are not strings.
    #[error("{location}: {message}")]
    MissingTypeMeta {
        /// The document.
        location: Location,
        /// Which of the two is missing.
        message: String,
    },
    /// The input exceeds one of the loader's safety caps (see [`crate::Limits`]).
    #[error("{location}: {message}")]
    LimitExceeded {
        /// The document or file that was too large or too deep.
        location: Location,
        /// Which cap, and its value.
        message: String,
    },
    /// Reading a file or directory failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A resource is well-formed but cannot be used for what was asked, e.g. a
    /// TrainJob whose runtime is not among those given.
    #[error("{location}: {message}")]
    Invalid {
        /// The offending field.
        location: Location,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// Where the error sits, when it is about a place in some input.
    pub fn location(&self) -> Option<&Location> {
        match self {
            Error::Syntax { location, .. }
            | Error::Shape { location, .. }
            | Error::MissingTypeMeta { location, .. }
            | Error::LimitExceeded { location, .. }
            | Error::Invalid { location, .. } => Some(location),
            Error::Io { .. } => None,
        }
    }

    /// An [`Error::Invalid`] about the field at `path`.
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            location: Location {
                path: Some(path.into()),
                ..Location::default()
            },
            message: message.into(),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
