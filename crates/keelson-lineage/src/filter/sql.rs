//! Compiling a [`Filter`] into a parameterized SQL boolean expression over
//! the lineage schema (see `docs/lineage.md`).
//!
//! Nothing from the query text is ever spliced into SQL: literals and
//! property names become parameters, enum names become their numeric codes
//! (parameters too), and aliases are replaced by generated table aliases
//! (`l0`/`n0`, `l1`/`n1`, … in order of first appearance), so even the
//! strictly validated alias text never reaches SQL.

use super::FilterError;
use super::ast::{
    Attribute, EventField, Field, Filter, Join, JoinKind, Literal, Predicate, Target, Test,
    ValueKind,
};

/// The SQL dialect, which decides the placeholder syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// `?1`, `?2`, …
    Sqlite,
    /// `$1`, `$2`, …
    Postgres,
}

impl Dialect {
    /// Placeholder number `n` (1-based) in this dialect.
    pub(crate) fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }
}

pub use crate::types::NodeKind;

impl NodeKind {
    /// Every kind.
    pub const ALL: [NodeKind; 3] = [NodeKind::Artifact, NodeKind::Execution, NodeKind::Context];

    fn has_field(self, field: Field) -> bool {
        match field {
            Field::Uri | Field::State => self == NodeKind::Artifact,
            Field::LastKnownState => self == NodeKind::Execution,
            _ => true,
        }
    }

    fn with_article(self) -> &'static str {
        match self {
            NodeKind::Artifact => "an artifact",
            NodeKind::Execution => "an execution",
            NodeKind::Context => "a context",
        }
    }
}

/// How a property test that is a top-level conjunct reaches the property
/// table. Both select the same rows; they differ in the plans SQLite can
/// pick (see docs/lineage.md, "Semantics, and the SQL it compiles to").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum PropertyPlan {
    /// `t.id IN (SELECT owner FROM <property table> WHERE …)`: the planner
    /// may start from the set (through the property value index), which is
    /// fast when few properties match.
    #[default]
    Drive,
    /// A correlated `EXISTS` on the property table's primary key
    /// `(owner, name, is_custom_property)`: every node the list walks (in
    /// list order) costs one primary-key lookup and the walk stops at the
    /// page's end, which is fast when many properties match. On SQLite the
    /// value column is written `+p.column` so that the value index is never
    /// used for the lookup.
    Probe,
}

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// An integer (also enum codes).
    Int(i64),
    /// A double.
    Double(f64),
    /// Text (also property names).
    Text(String),
    /// A boolean (`bool_value`, `is_custom_property`).
    Bool(bool),
}

/// A compiled filter: a boolean SQL expression over the node table aliased
/// `t`, and the values of its placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledFilter {
    /// Boolean SQL expression over the node table aliased `t`
    /// (subqueries/EXISTS for properties, contexts, events, parent/child
    /// contexts), with placeholders numbered from `first_param` on.
    pub where_sql: String,
    /// The values of the placeholders, in order: `params[0]` is placeholder
    /// `first_param`.
    pub params: Vec<SqlValue>,
}

/// Compiles `filter` for nodes of `kind`: the result is meant for
/// `SELECT t.id FROM <kind table> t WHERE … AND (<where_sql>)`.
///
/// Fails, naming the attribute, when the filter reads something `kind`
/// lacks (`uri` of an execution, `last_known_state` of an artifact,
/// `parent_contexts_a` of an artifact, `events_a.artifact_id` of an
/// artifact). Placeholders start at `first_param` (at least 1).
pub fn compile(
    filter: &Filter,
    kind: NodeKind,
    dialect: Dialect,
    first_param: usize,
    plans: &[PropertyPlan],
) -> Result<CompiledFilter, FilterError> {
    let mut joins = Vec::new();
    check(filter, kind, &mut joins)?;
    let mut writer = Writer {
        dialect,
        first_param: first_param.max(1),
        params: Vec::new(),
        next_alias: 0,
        joins,
        kind,
        references_node: false,
        plans: plans.to_vec(),
        next_property: 0,
    };
    let node = Scope::Node {
        alias: "t".to_owned(),
        kind,
    };
    let mut conjuncts = Vec::new();
    flatten_and(filter, &mut conjuncts);
    let (joined, plain): (Vec<&Filter>, Vec<&Filter>) =
        conjuncts.into_iter().partition(|c| mentions_join(c));
    let mut parts = Vec::new();
    for conjunct in plain {
        parts.push(writer.top_level(conjunct, &node)?);
    }
    if !joined.is_empty() {
        parts.push(writer.joined(&joined, kind)?);
    }
    let where_sql = match parts.len() {
        0 => "1 = 1".to_owned(),
        1 => parts.pop().unwrap_or_default(),
        _ => parts
            .iter()
            .map(|part| format!("({part})"))
            .collect::<Vec<_>>()
            .join(" AND "),
    };
    Ok(CompiledFilter {
        where_sql,
        params: writer.params,
    })
}

/// The property sets of `filter`'s top-level property conjuncts (those
/// [`PropertyPlan`] applies to), each a `SELECT <owner id> FROM <property
/// table> …` with placeholders from 1: a backend counts them (up to a bound)
/// to choose the plan.
pub fn property_sets(
    filter: &Filter,
    kind: NodeKind,
    dialect: Dialect,
) -> Result<Vec<CompiledFilter>, FilterError> {
    check(filter, kind, &mut Vec::new())?;
    let mut conjuncts = Vec::new();
    flatten_and(filter, &mut conjuncts);
    let mut sets = Vec::new();
    for conjunct in conjuncts {
        if let Some((custom, name, value, test)) = top_level_property(conjunct) {
            let mut writer = Writer {
                dialect,
                first_param: 1,
                params: Vec::new(),
                next_alias: 0,
                joins: Vec::new(),
                kind,
                references_node: false,
                plans: Vec::new(),
                next_property: 0,
            };
            let where_sql = writer.property_set(kind, *custom, name, *value, test);
            sets.push(CompiledFilter {
                where_sql,
                params: writer.params,
            });
        }
    }
    Ok(sets)
}

/// A conjunct that is a property test of the node itself where NULL and
/// false both reject the row.
fn top_level_property(filter: &Filter) -> Option<(&bool, &String, &ValueKind, &Test)> {
    match filter {
        Filter::Predicate(Predicate {
            attribute:
                Attribute {
                    join: None,
                    target:
                        Target::Property {
                            custom,
                            name,
                            value,
                        },
                },
            test,
        }) if !matches!(test, Test::IsNull { negated: false }) => Some((custom, name, value, test)),
        _ => None,
    }
}

fn flatten_and<'f>(filter: &'f Filter, out: &mut Vec<&'f Filter>) {
    match filter {
        Filter::And(operands) if !operands.is_empty() => {
            for operand in operands {
                flatten_and(operand, out);
            }
        }
        other => out.push(other),
    }
}

fn mentions_join(filter: &Filter) -> bool {
    match filter {
        Filter::And(operands) | Filter::Or(operands) => operands.iter().any(mentions_join),
        Filter::Not(inner) => mentions_join(inner),
        Filter::Predicate(p) => p.attribute.join.is_some(),
    }
}

/// Checks every attribute against `kind` and collects the joins in order of
/// first appearance.
fn check(filter: &Filter, kind: NodeKind, joins: &mut Vec<Join>) -> Result<(), FilterError> {
    match filter {
        Filter::And(operands) | Filter::Or(operands) => operands
            .iter()
            .try_for_each(|operand| check(operand, kind, joins)),
        Filter::Not(inner) => check(inner, kind, joins),
        Filter::Predicate(predicate) => {
            check_attribute(&predicate.attribute, kind)?;
            if let Some(join) = &predicate.attribute.join
                && !joins.contains(join)
            {
                joins.push(join.clone());
            }
            Ok(())
        }
    }
}

fn unknown(attribute: &Attribute, kind: NodeKind) -> FilterError {
    FilterError {
        column: None,
        message: format!("{attribute}: {} has no such attribute", kind.with_article()),
    }
}

fn check_attribute(attribute: &Attribute, kind: NodeKind) -> Result<(), FilterError> {
    if let Some(join) = &attribute.join {
        if !valid_alias(&join.alias) {
            return Err(FilterError {
                column: None,
                message: format!("{attribute}: an alias is letters, digits and `_`"),
            });
        }
        let target_ok = match (neighbour(join.kind, kind), &attribute.target) {
            (None, _) => false,
            (Some(Neighbour::Event), Target::Event(field)) => match field {
                EventField::ArtifactId => kind == NodeKind::Execution,
                EventField::ExecutionId => kind == NodeKind::Artifact,
                EventField::Type | EventField::MillisecondsSinceEpoch => true,
            },
            (Some(Neighbour::Node(other)), Target::Field(field)) => other.has_field(*field),
            (Some(Neighbour::Node(_)), Target::Property { .. }) => true,
            (Some(_), _) => false,
        };
        return if target_ok {
            Ok(())
        } else {
            Err(unknown(attribute, kind))
        };
    }
    match &attribute.target {
        Target::Field(field) if kind.has_field(*field) => Ok(()),
        Target::Property { .. } => Ok(()),
        _ => Err(unknown(attribute, kind)),
    }
}

fn valid_alias(alias: &str) -> bool {
    !alias.is_empty() && alias.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

enum Neighbour {
    Node(NodeKind),
    Event,
}

fn neighbour(join: JoinKind, kind: NodeKind) -> Option<Neighbour> {
    use NodeKind::{Artifact, Context, Execution};
    match (join, kind) {
        (JoinKind::Contexts, Artifact | Execution) => Some(Neighbour::Node(Context)),
        (JoinKind::ParentContexts | JoinKind::ChildContexts, Context) => {
            Some(Neighbour::Node(Context))
        }
        (JoinKind::Artifacts, Context) => Some(Neighbour::Node(Artifact)),
        (JoinKind::Executions, Context) => Some(Neighbour::Node(Execution)),
        (JoinKind::Events, Artifact | Execution) => Some(Neighbour::Event),
        _ => None,
    }
}

/// Where an attribute's columns live.
enum Scope {
    /// A node row (the filtered node `t`, or a joined neighbour `nI`).
    Node { alias: String, kind: NodeKind },
    /// A joined `event` row.
    Event { alias: String },
}

struct Writer {
    dialect: Dialect,
    first_param: usize,
    params: Vec<SqlValue>,
    next_alias: usize,
    joins: Vec<Join>,
    /// The kind of the filtered node.
    kind: NodeKind,
    /// Set whenever SQL reads a column of `t`: a joined part that never does
    /// can be an uncorrelated `t.id IN (…)`.
    references_node: bool,
    /// How the top-level property conjuncts are written, in order;
    /// [`PropertyPlan::Drive`] past the end.
    plans: Vec<PropertyPlan>,
    /// The index in `plans` of the next top-level property conjunct.
    next_property: usize,
}

impl Writer {
    fn param(&mut self, value: SqlValue) -> String {
        self.params.push(value);
        self.dialect
            .placeholder(self.first_param + self.params.len() - 1)
    }

    fn next_plan(&mut self) -> PropertyPlan {
        let plan = self.plans.get(self.next_property).copied();
        self.next_property += 1;
        plan.unwrap_or_default()
    }

    fn alias(&mut self, prefix: &str) -> String {
        let alias = format!("{prefix}{}", self.next_alias);
        self.next_alias += 1;
        alias
    }

    fn literal(&mut self, literal: &Literal) -> String {
        self.param(match literal {
            Literal::Int(v) | Literal::Enum(v) => SqlValue::Int(*v),
            Literal::Double(v) => SqlValue::Double(*v),
            Literal::Text(v) => SqlValue::Text(v.clone()),
            Literal::Bool(v) => SqlValue::Bool(*v),
        })
    }

    fn scope(&self, node: &Scope, join: Option<&Join>) -> Scope {
        match join {
            None => match node {
                Scope::Node { alias, kind } => Scope::Node {
                    alias: alias.clone(),
                    kind: *kind,
                },
                Scope::Event { alias } => Scope::Event {
                    alias: alias.clone(),
                },
            },
            Some(join) => {
                let index = self.joins.iter().position(|j| j == join).unwrap_or(0);
                let alias = format!("n{index}");
                match neighbour(join.kind, self.kind) {
                    Some(Neighbour::Node(kind)) => Scope::Node { alias, kind },
                    _ => Scope::Event { alias },
                }
            }
        }
    }

    /// A conjunct of the whole filter: row-level semantics (NULL and false
    /// both reject), so property and type tests can be uncorrelated `IN`
    /// sets that the planner can drive the scan from.
    fn top_level(&mut self, filter: &Filter, node: &Scope) -> Result<String, FilterError> {
        let Filter::Predicate(Predicate { attribute, test }) = filter else {
            return self.expression(filter, node);
        };
        let (Scope::Node { alias, kind }, None, false) = (
            node,
            &attribute.join,
            matches!(test, Test::IsNull { negated: false }),
        ) else {
            return self.expression(filter, node);
        };
        match &attribute.target {
            Target::Property {
                custom,
                name,
                value,
            } if self.next_plan() == PropertyPlan::Probe => {
                let p = self.alias("p");
                let name = self.param(SqlValue::Text(name.clone()));
                let custom = self.param(SqlValue::Bool(*custom));
                // `+` keeps SQLite from answering the lookup through the
                // value index (a range scan per node) instead of the key.
                let unary = match self.dialect {
                    Dialect::Sqlite => "+",
                    Dialect::Postgres => "",
                };
                let column = format!("{unary}{p}.{}", value.name());
                let test = self.test(&column, test);
                Ok(format!(
                    "EXISTS (SELECT 1 FROM {table} {p} WHERE {p}.{owner} = {alias}.id AND {p}.name = {name} AND {p}.is_custom_property = {custom} AND {test})",
                    owner = kind.property_owner(),
                    table = kind.property_table(),
                ))
            }
            Target::Property {
                custom,
                name,
                value,
            } => {
                let set = self.property_set(*kind, *custom, name, *value, test);
                Ok(format!("{alias}.id IN ({set})"))
            }
            Target::Field(Field::Type) => {
                let ty = self.alias("ty");
                let test = self.test(&format!("{ty}.name"), test);
                Ok(format!(
                    "{alias}.type_id IN (SELECT {ty}.id FROM type {ty} WHERE {test})"
                ))
            }
            _ => self.expression(filter, node),
        }
    }

    /// `SELECT <owner> FROM <property table> WHERE …`: the nodes whose
    /// property passes `test`.
    fn property_set(
        &mut self,
        kind: NodeKind,
        custom: bool,
        name: &str,
        value: ValueKind,
        test: &Test,
    ) -> String {
        let p = self.alias("p");
        let name = self.param(SqlValue::Text(name.to_owned()));
        let custom = self.param(SqlValue::Bool(custom));
        let column = format!("{p}.{}", value.name());
        let test = self.test(&column, test);
        format!(
            "SELECT {p}.{owner} FROM {table} {p} WHERE {p}.name = {name} AND {p}.is_custom_property = {custom} AND {test}",
            owner = kind.property_owner(),
            table = kind.property_table(),
        )
    }

    /// The conjuncts that mention joins, under one set of joined rows (the
    /// same alias is the same neighbour in every conjunct).
    fn joined(&mut self, conjuncts: &[&Filter], kind: NodeKind) -> Result<String, FilterError> {
        self.references_node = false;
        let node = Scope::Node {
            alias: "t".to_owned(),
            kind,
        };
        let mut conditions = Vec::new();
        for conjunct in conjuncts {
            conditions.push(format!("({})", self.expression(conjunct, &node)?));
        }
        let mut from = Vec::new();
        let mut links = Vec::new();
        for (index, join) in self.joins.iter().enumerate() {
            let (l, n) = (format!("l{index}"), format!("n{index}"));
            let (clause, link) = match (join.kind, kind) {
                (JoinKind::Contexts, NodeKind::Artifact) => (
                    format!("attribution {l} JOIN context {n} ON {n}.id = {l}.context_id"),
                    format!("{l}.artifact_id"),
                ),
                (JoinKind::Contexts, _) => (
                    format!("association {l} JOIN context {n} ON {n}.id = {l}.context_id"),
                    format!("{l}.execution_id"),
                ),
                (JoinKind::ParentContexts, _) => (
                    format!(
                        "parent_context {l} JOIN context {n} ON {n}.id = {l}.parent_context_id"
                    ),
                    format!("{l}.context_id"),
                ),
                (JoinKind::ChildContexts, _) => (
                    format!("parent_context {l} JOIN context {n} ON {n}.id = {l}.context_id"),
                    format!("{l}.parent_context_id"),
                ),
                (JoinKind::Artifacts, _) => (
                    format!("attribution {l} JOIN artifact {n} ON {n}.id = {l}.artifact_id"),
                    format!("{l}.context_id"),
                ),
                (JoinKind::Executions, _) => (
                    format!("association {l} JOIN execution {n} ON {n}.id = {l}.execution_id"),
                    format!("{l}.context_id"),
                ),
                (JoinKind::Events, NodeKind::Artifact) => {
                    (format!("event {n}"), format!("{n}.artifact_id"))
                }
                (JoinKind::Events, _) => (format!("event {n}"), format!("{n}.execution_id")),
            };
            from.push(clause);
            links.push(link);
        }
        let condition = conditions.join(" AND ");
        let from = from.join(", ");
        if self.references_node {
            let links: Vec<String> = links.iter().map(|l| format!("{l} = t.id")).collect();
            Ok(format!(
                "EXISTS (SELECT 1 FROM {from} WHERE {} AND ({condition}))",
                links.join(" AND ")
            ))
        } else {
            let first = links.first().cloned().unwrap_or_else(|| "t.id".to_owned());
            let mut wheres: Vec<String> = links
                .iter()
                .skip(1)
                .map(|l| format!("{l} = {first}"))
                .collect();
            wheres.push(format!("({condition})"));
            Ok(format!(
                "t.id IN (SELECT {first} FROM {from} WHERE {})",
                wheres.join(" AND ")
            ))
        }
    }

    fn expression(&mut self, filter: &Filter, node: &Scope) -> Result<String, FilterError> {
        match filter {
            Filter::And(operands) | Filter::Or(operands) if operands.is_empty() => {
                Ok(if matches!(filter, Filter::And(_)) {
                    "1 = 1".to_owned()
                } else {
                    "1 = 0".to_owned()
                })
            }
            Filter::And(operands) | Filter::Or(operands) => {
                let separator = if matches!(filter, Filter::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                let mut parts = Vec::new();
                for operand in operands {
                    parts.push(format!("({})", self.expression(operand, node)?));
                }
                Ok(parts.join(separator))
            }
            Filter::Not(inner) => Ok(format!("NOT ({})", self.expression(inner, node)?)),
            Filter::Predicate(Predicate { attribute, test }) => {
                let scope = self.scope(node, attribute.join.as_ref());
                let value = self.value(&scope, attribute);
                Ok(self.test(&value, test))
            }
        }
    }

    fn value(&mut self, scope: &Scope, attribute: &Attribute) -> String {
        match (scope, &attribute.target) {
            (Scope::Event { alias }, target) => {
                let column = match target {
                    Target::Event(field) => field.name(),
                    _ => "id",
                };
                format!("{alias}.{column}")
            }
            (Scope::Node { alias, kind }, target) => {
                if alias == "t" {
                    self.references_node = true;
                }
                match target {
                    Target::Field(Field::Type) => {
                        let ty = self.alias("ty");
                        format!("(SELECT {ty}.name FROM type {ty} WHERE {ty}.id = {alias}.type_id)")
                    }
                    Target::Field(field) => format!("{alias}.{}", field.name()),
                    Target::Property {
                        custom,
                        name,
                        value,
                    } => {
                        let p = self.alias("p");
                        let name = self.param(SqlValue::Text(name.clone()));
                        let custom = self.param(SqlValue::Bool(*custom));
                        format!(
                            "(SELECT {p}.{column} FROM {table} {p} WHERE {p}.{owner} = {alias}.id AND {p}.name = {name} AND {p}.is_custom_property = {custom})",
                            column = value.name(),
                            table = kind.property_table(),
                            owner = kind.property_owner(),
                        )
                    }
                    Target::Event(field) => format!("{alias}.{}", field.name()),
                }
            }
        }
    }

    fn test(&mut self, value: &str, test: &Test) -> String {
        match test {
            Test::Compare(op, literal) => {
                let param = self.literal(literal);
                let op = match op.symbol() {
                    "!=" => "<>",
                    other => other,
                };
                format!("{value} {op} {param}")
            }
            Test::In { negated, values } => {
                if values.is_empty() {
                    // An empty list (only from a hand-built tree): SQL has no
                    // `IN ()`, and nothing is in it.
                    return if *negated {
                        format!("{value} IS NOT NULL")
                    } else {
                        "1 = 0".to_owned()
                    };
                }
                let params: Vec<String> = values.iter().map(|v| self.literal(v)).collect();
                let not = if *negated { "NOT " } else { "" };
                format!("{value} {not}IN ({})", params.join(", "))
            }
            Test::Like { negated, pattern } => {
                let param = self.param(SqlValue::Text(pattern.clone()));
                let not = if *negated { "NOT " } else { "" };
                format!("{value} {not}LIKE {param}")
            }
            Test::IsNull { negated } => {
                let not = if *negated { "NOT " } else { "" };
                format!("{value} IS {not}NULL")
            }
        }
    }
}

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value, ValueRef};
        Ok(match self {
            SqlValue::Int(v) => ToSqlOutput::Owned(Value::Integer(*v)),
            SqlValue::Double(v) => ToSqlOutput::Owned(Value::Real(*v)),
            SqlValue::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            SqlValue::Bool(v) => ToSqlOutput::Owned(Value::Integer(i64::from(*v))),
        })
    }
}
