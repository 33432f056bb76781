//! MLMD's `filter_query` language: parsed into a [`Filter`] tree, printed
//! back as text, and compiled into a parameterized SQL expression over the
//! lineage schema for one [`NodeKind`] and one [`Dialect`].
//!
//! ```
//! use keelson_lineage::filter::{self, Dialect, NodeKind, SqlValue};
//!
//! let query = filter::parse("type = 'Model' AND properties.accuracy.double_value > 0.9")?;
//! let compiled = filter::compile(&query, NodeKind::Artifact, Dialect::Sqlite, 2)?;
//! assert_eq!(compiled.params[0], SqlValue::Text("Model".into()));
//! assert!(compiled.where_sql.contains("?2"));
//!
//! // Errors name the column where parsing stopped and what was expected.
//! let err = filter::parse("name = 'a' AND").unwrap_err();
//! assert!(err.to_string().contains("column 15"), "{err}");
//! # Ok::<(), keelson_lineage::Error>(())
//! ```
//!
//! The grammar, the attributes each node kind has and the SQL semantics
//! (MLMD's join semantics for aliases, SQL's three-valued logic for missing
//! properties) are described in `docs/lineage.md`, section "Filter queries".

mod ast;
pub mod fuzz;
mod parse;
mod sql;

pub use ast::{
    ARTIFACT_STATES, Attribute, CompareOp, EVENT_TYPES, EXECUTION_STATES, EventField, Field,
    Filter, Join, JoinKind, Literal, Predicate, Target, Test, ValueKind,
};
pub use parse::MAX_NESTING;
pub use sql::{CompiledFilter, Dialect, NodeKind, PropertyPlan, SqlValue};

use std::fmt;

/// Why a filter query was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// The 1-based column (in characters) where parsing failed; `None` for
    /// errors found when compiling, whose message names the attribute.
    pub column: Option<usize>,
    /// What was expected, or which attribute is wrong.
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(column) => write!(f, "filter query, column {column}: {}", self.message),
            None => write!(f, "filter query: {}", self.message),
        }
    }
}

impl std::error::Error for FilterError {}

/// Parses MLMD filter text into a [`Filter`].
///
/// Fails with [`Error::Filter`](crate::Error::Filter) carrying the 1-based
/// column where parsing failed and what was expected there.
pub fn parse(text: &str) -> Result<Filter, crate::Error> {
    parse::parse(text).map_err(crate::Error::Filter)
}

/// Compiles `filter` for nodes of `kind` into a boolean SQL expression over
/// the node table aliased `t`, with placeholders numbered from
/// `first_param`; see [`CompiledFilter`].
///
/// Fails with [`Error::Filter`](crate::Error::Filter) naming the attribute
/// when the filter reads something `kind` lacks.
pub fn compile(
    filter: &Filter,
    kind: NodeKind,
    dialect: Dialect,
    first_param: usize,
) -> Result<CompiledFilter, crate::Error> {
    compile_with(filter, kind, dialect, first_param, &[])
}

/// [`compile`], writing the property tests that are top-level conjuncts
/// (those of [`property_sets`], in the same order) as `plans` says:
/// `plans[i]` for the `i`-th, [`PropertyPlan::Drive`] for those past its
/// end. The rows selected are the same whatever the plans.
pub fn compile_with(
    filter: &Filter,
    kind: NodeKind,
    dialect: Dialect,
    first_param: usize,
    plans: &[PropertyPlan],
) -> Result<CompiledFilter, crate::Error> {
    sql::compile(filter, kind, dialect, first_param, plans).map_err(crate::Error::Filter)
}

/// The node sets of `filter`'s top-level property conjuncts (the tests
/// [`PropertyPlan`] is about), each a `SELECT <owner id> FROM <property
/// table> WHERE …` with placeholders from 1, in order of appearance: a
/// backend counts their rows (up to a bound) to choose the plan.
///
/// Fails like [`compile`].
pub fn property_sets(
    filter: &Filter,
    kind: NodeKind,
    dialect: Dialect,
) -> Result<Vec<CompiledFilter>, crate::Error> {
    sql::property_sets(filter, kind, dialect).map_err(crate::Error::Filter)
}
