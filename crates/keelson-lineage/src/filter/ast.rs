//! The syntax tree of a filter query, and its printer.
//!
//! The tree is independent of the node kind a query runs against: whether
//! `uri` makes sense is decided by [`compile`](super::compile), so one parsed
//! query can be checked against several kinds. Literals are already checked
//! against the attribute they are compared with (a string for `name`, an
//! enum name for `state`), so the tree only holds comparisons that can run.
//!
//! [`Display`](fmt::Display) prints valid filter text that parses back into
//! the same tree.

use std::fmt;

/// A parsed filter query: a boolean expression over one node's attributes,
/// its properties and its joined neighbours.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Every operand holds (parsed from `a AND b AND …`: two or more
    /// operands; an empty list compiles to true).
    And(Vec<Filter>),
    /// At least one operand holds (parsed from `a OR b OR …`: two or more
    /// operands; an empty list compiles to false).
    Or(Vec<Filter>),
    /// The inner expression does not hold (SQL's three-valued `NOT`).
    Not(Box<Filter>),
    /// One test of one attribute.
    Predicate(Predicate),
}

/// One test of one attribute, e.g. `properties.score.double_value > 0.9`.
#[derive(Debug, Clone, PartialEq)]
pub struct Predicate {
    /// What is tested.
    pub attribute: Attribute,
    /// How it is tested.
    pub test: Test,
}

/// An attribute of the node itself, or of a neighbour joined under an alias.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attribute {
    /// `None` for the node itself; `Some` for `contexts_a.…` and friends.
    pub join: Option<Join>,
    /// The column or property read.
    pub target: Target,
}

/// A neighbourhood join: every mention of the same kind and alias refers to
/// the same joined neighbour; different aliases are independent neighbours.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Join {
    /// Which neighbours.
    pub kind: JoinKind,
    /// The alias after the prefix (`a` in `contexts_a`), `[A-Za-z0-9_]+`.
    pub alias: String,
}

/// The neighbours a filter can join.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JoinKind {
    /// `contexts_$a`: the contexts an artifact (attribution) or execution
    /// (association) belongs to.
    Contexts,
    /// `parent_contexts_$a`: a context's parents.
    ParentContexts,
    /// `child_contexts_$a`: a context's children.
    ChildContexts,
    /// `artifacts_$a`: the artifacts attributed to a context.
    Artifacts,
    /// `executions_$a`: the executions associated with a context.
    Executions,
    /// `events_$a`: the events of an artifact or execution.
    Events,
}

impl JoinKind {
    /// Every join kind, longest prefix first (so `parent_contexts_` is
    /// tried before `contexts_`).
    pub const ALL: [JoinKind; 6] = [
        JoinKind::ParentContexts,
        JoinKind::ChildContexts,
        JoinKind::Contexts,
        JoinKind::Artifacts,
        JoinKind::Executions,
        JoinKind::Events,
    ];

    /// The prefix in filter text, including the trailing underscore.
    pub fn prefix(self) -> &'static str {
        match self {
            JoinKind::Contexts => "contexts_",
            JoinKind::ParentContexts => "parent_contexts_",
            JoinKind::ChildContexts => "child_contexts_",
            JoinKind::Artifacts => "artifacts_",
            JoinKind::Executions => "executions_",
            JoinKind::Events => "events_",
        }
    }
}

/// The column or property an attribute reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// A column of a node (or of a joined node).
    Field(Field),
    /// `properties.$p.$v` or `custom_properties.$p.$v`.
    Property {
        /// `custom_properties` rather than `properties`.
        custom: bool,
        /// The property name (any text; printed in backquotes when needed).
        name: String,
        /// Which value column.
        value: ValueKind,
    },
    /// A column of a joined event (only under an `events_$a` join).
    Event(EventField),
}

/// The columns of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// `id`
    Id,
    /// `type_id`
    TypeId,
    /// `type`: the type's name.
    Type,
    /// `uri` (artifacts).
    Uri,
    /// `name`
    Name,
    /// `external_id`
    ExternalId,
    /// `create_time_since_epoch` (milliseconds).
    CreateTime,
    /// `last_update_time_since_epoch` (milliseconds).
    LastUpdateTime,
    /// `state` (artifacts): [`ARTIFACT_STATES`].
    State,
    /// `last_known_state` (executions): [`EXECUTION_STATES`].
    LastKnownState,
}

impl Field {
    /// Every field.
    pub const ALL: [Field; 10] = [
        Field::Id,
        Field::TypeId,
        Field::Type,
        Field::Uri,
        Field::Name,
        Field::ExternalId,
        Field::CreateTime,
        Field::LastUpdateTime,
        Field::State,
        Field::LastKnownState,
    ];

    /// The name in filter text (and the column name in the schema, except
    /// `type`, which is read through `type_id`).
    pub fn name(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::TypeId => "type_id",
            Field::Type => "type",
            Field::Uri => "uri",
            Field::Name => "name",
            Field::ExternalId => "external_id",
            Field::CreateTime => "create_time_since_epoch",
            Field::LastUpdateTime => "last_update_time_since_epoch",
            Field::State => "state",
            Field::LastKnownState => "last_known_state",
        }
    }

    fn value_type(self) -> ValueType {
        match self {
            Field::Id | Field::TypeId | Field::CreateTime | Field::LastUpdateTime => ValueType::Int,
            Field::Type | Field::Uri | Field::Name | Field::ExternalId => ValueType::Text,
            Field::State => ValueType::Enum(ARTIFACT_STATES),
            Field::LastKnownState => ValueType::Enum(EXECUTION_STATES),
        }
    }
}

/// The value columns of a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// `int_value`
    Int,
    /// `double_value`
    Double,
    /// `string_value`
    String,
    /// `bool_value`
    Bool,
}

impl ValueKind {
    /// Every value kind.
    pub const ALL: [ValueKind; 4] = [
        ValueKind::Int,
        ValueKind::Double,
        ValueKind::String,
        ValueKind::Bool,
    ];

    /// The name in filter text and the column in the property tables.
    pub fn name(self) -> &'static str {
        match self {
            ValueKind::Int => "int_value",
            ValueKind::Double => "double_value",
            ValueKind::String => "string_value",
            ValueKind::Bool => "bool_value",
        }
    }
}

/// The columns of a joined event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventField {
    /// `type`: [`EVENT_TYPES`].
    Type,
    /// `artifact_id` (when filtering executions).
    ArtifactId,
    /// `execution_id` (when filtering artifacts).
    ExecutionId,
    /// `milliseconds_since_epoch`
    MillisecondsSinceEpoch,
}

impl EventField {
    /// Every event field.
    pub const ALL: [EventField; 4] = [
        EventField::Type,
        EventField::ArtifactId,
        EventField::ExecutionId,
        EventField::MillisecondsSinceEpoch,
    ];

    /// The name in filter text and the column of the `event` table.
    pub fn name(self) -> &'static str {
        match self {
            EventField::Type => "type",
            EventField::ArtifactId => "artifact_id",
            EventField::ExecutionId => "execution_id",
            EventField::MillisecondsSinceEpoch => "milliseconds_since_epoch",
        }
    }
}

/// MLMD's artifact states, by numeric code (the index).
pub const ARTIFACT_STATES: &[&str] = &[
    "UNKNOWN",
    "PENDING",
    "LIVE",
    "MARKED_FOR_DELETION",
    "DELETED",
    "ABANDONED",
    "REFERENCE",
];

/// MLMD's execution states, by numeric code (the index).
pub const EXECUTION_STATES: &[&str] = &[
    "UNKNOWN", "NEW", "RUNNING", "COMPLETE", "FAILED", "CACHED", "CANCELED",
];

/// MLMD's event types, by numeric code (the index).
pub const EVENT_TYPES: &[&str] = &[
    "UNKNOWN",
    "DECLARED_OUTPUT",
    "DECLARED_INPUT",
    "INPUT",
    "OUTPUT",
    "INTERNAL_INPUT",
    "INTERNAL_OUTPUT",
    "PENDING_OUTPUT",
];

/// The type of the values an attribute holds, which decides the literals
/// and operators it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueType {
    Int,
    Double,
    Text,
    Bool,
    /// Names by numeric code.
    Enum(&'static [&'static str]),
}

impl Target {
    pub(crate) fn value_type(&self) -> ValueType {
        match self {
            Target::Field(field) => field.value_type(),
            Target::Property { value, .. } => match value {
                ValueKind::Int => ValueType::Int,
                ValueKind::Double => ValueType::Double,
                ValueKind::String => ValueType::Text,
                ValueKind::Bool => ValueType::Bool,
            },
            Target::Event(EventField::Type) => ValueType::Enum(EVENT_TYPES),
            Target::Event(_) => ValueType::Int,
        }
    }
}

/// How an attribute is tested.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// `attr OP literal`.
    Compare(CompareOp, Literal),
    /// `attr IN (…)` or `attr NOT IN (…)`; never empty.
    In {
        /// `NOT IN`.
        negated: bool,
        /// The listed values.
        values: Vec<Literal>,
    },
    /// `attr LIKE 'pattern'` or `attr NOT LIKE 'pattern'` (`%` and `_`
    /// wildcards).
    Like {
        /// `NOT LIKE`.
        negated: bool,
        /// The pattern.
        pattern: String,
    },
    /// `attr IS NULL` or `attr IS NOT NULL`.
    IsNull {
        /// `IS NOT NULL`.
        negated: bool,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `!=` (also written `<>`)
    Ne,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
}

impl CompareOp {
    /// Every operator.
    pub const ALL: [CompareOp; 6] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Lt,
        CompareOp::Gt,
        CompareOp::Le,
        CompareOp::Ge,
    ];

    /// The operator in filter text and in SQL.
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Gt => ">",
            CompareOp::Le => "<=",
            CompareOp::Ge => ">=",
        }
    }

    /// Whether the operator only tests (in)equality, the only comparisons
    /// that booleans and enums accept.
    pub fn is_equality(self) -> bool {
        matches!(self, CompareOp::Eq | CompareOp::Ne)
    }
}

/// A literal value, already of the attribute's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// An integer.
    Int(i64),
    /// A finite double (an integer compared with a `double_value` is read
    /// as a double).
    Double(f64),
    /// A string.
    Text(String),
    /// `TRUE` or `FALSE`.
    Bool(bool),
    /// An enum value by its numeric code; printed by name.
    Enum(i64),
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::And(operands) => write_operands(f, operands, " AND "),
            Filter::Or(operands) => write_operands(f, operands, " OR "),
            Filter::Not(inner) => write!(f, "NOT ({inner})"),
            Filter::Predicate(predicate) => predicate.fmt(f),
        }
    }
}

fn write_operands(f: &mut fmt::Formatter<'_>, operands: &[Filter], separator: &str) -> fmt::Result {
    for (i, operand) in operands.iter().enumerate() {
        if i > 0 {
            f.write_str(separator)?;
        }
        write!(f, "{}", Operand(operand))?;
    }
    Ok(())
}

/// A child of `AND`/`OR`: compound children are parenthesized, so the
/// printed text needs no precedence rules to parse back into the same tree.
struct Operand<'a>(&'a Filter);

impl fmt::Display for Operand<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Filter::And(..) | Filter::Or(..) => write!(f, "({})", self.0),
            other => other.fmt(f),
        }
    }
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value_type = self.attribute.target.value_type();
        let literal = |l| PrintedLiteral(l, value_type);
        write!(f, "{}", self.attribute)?;
        match &self.test {
            Test::Compare(op, value) => write!(f, " {} {}", op.symbol(), literal(value)),
            Test::In { negated, values } => {
                f.write_str(if *negated { " NOT IN (" } else { " IN (" })?;
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", literal(value))?;
                }
                f.write_str(")")
            }
            Test::Like { negated, pattern } => {
                f.write_str(if *negated { " NOT LIKE " } else { " LIKE " })?;
                write_string(f, pattern)
            }
            Test::IsNull { negated } => {
                f.write_str(if *negated { " IS NOT NULL" } else { " IS NULL" })
            }
        }
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(join) = &self.join {
            write!(f, "{}{}.", join.kind.prefix(), join.alias)?;
        }
        match &self.target {
            Target::Field(field) => f.write_str(field.name()),
            Target::Event(field) => f.write_str(field.name()),
            Target::Property {
                custom,
                name,
                value,
            } => {
                f.write_str(if *custom {
                    "custom_properties."
                } else {
                    "properties."
                })?;
                if is_bare_name(name) {
                    f.write_str(name)?;
                } else {
                    f.write_str("`")?;
                    f.write_str(&name.replace('`', "``"))?;
                    f.write_str("`")?;
                }
                write!(f, ".{}", value.name())
            }
        }
    }
}

/// Property names that need no backquotes: an identifier, or digits only
/// (MLMD accepts `properties.0.int_value`).
pub(crate) fn is_bare_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        Some(c) if c.is_ascii_digit() => chars.all(|c| c.is_ascii_digit()),
        _ => false,
    }
}

struct PrintedLiteral<'a>(&'a Literal, ValueType);

impl fmt::Display for PrintedLiteral<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0, self.1) {
            (Literal::Enum(code), ValueType::Enum(names)) => {
                match usize::try_from(*code).ok().and_then(|i| names.get(i)) {
                    Some(name) => f.write_str(name),
                    None => write!(f, "{code}"),
                }
            }
            (Literal::Enum(code), _) | (Literal::Int(code), _) => write!(f, "{code}"),
            // Debug keeps a `.0` or an exponent, so the text reads back as a
            // double and round-trips exactly.
            (Literal::Double(value), _) => write!(f, "{value:?}"),
            (Literal::Text(text), _) => write_string(f, text),
            (Literal::Bool(true), _) => f.write_str("TRUE"),
            (Literal::Bool(false), _) => f.write_str("FALSE"),
        }
    }
}

fn write_string(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    write!(f, "'{}'", text.replace('\'', "''"))
}
