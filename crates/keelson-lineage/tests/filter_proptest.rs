//! Random valid filter trees, for each node kind: printed, the text parses
//! back into the same tree, and the tree compiles and runs on SQLite over
//! the contract's tables without an SQL error, selecting the same nodes
//! as its double negation (which compiles to the plain SQL shapes).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use keelson_lineage::filter::{
    self, ARTIFACT_STATES, Attribute, CompareOp, Dialect, EVENT_TYPES, EXECUTION_STATES,
    EventField, Field, Filter, Join, JoinKind, Literal, NodeKind, Predicate, Target, Test,
    ValueKind,
};
use proptest::prelude::*;
use proptest::sample::select;

/// What a value of an attribute is, for generating literals.
#[derive(Clone, Copy, Debug)]
enum Ty {
    Int,
    Double,
    Text,
    Bool,
    Enum(usize),
}

fn field_type(field: Field) -> Ty {
    match field {
        Field::Id | Field::TypeId | Field::CreateTime | Field::LastUpdateTime => Ty::Int,
        Field::State => Ty::Enum(ARTIFACT_STATES.len()),
        Field::LastKnownState => Ty::Enum(EXECUTION_STATES.len()),
        _ => Ty::Text,
    }
}

fn fields(kind: NodeKind) -> Vec<Field> {
    Field::ALL
        .into_iter()
        .filter(|f| match f {
            Field::Uri | Field::State => kind == NodeKind::Artifact,
            Field::LastKnownState => kind == NodeKind::Execution,
            _ => true,
        })
        .collect()
}

fn property() -> impl Strategy<Value = (Target, Ty)> {
    let names = select(vec![
        "accuracy", "rows", "my key", "a`b", "0", "and", "é", "", "it's", "x\"y",
    ]);
    (any::<bool>(), names, select(ValueKind::ALL.to_vec())).prop_map(|(custom, name, value)| {
        let ty = match value {
            ValueKind::Int => Ty::Int,
            ValueKind::Double => Ty::Double,
            ValueKind::String => Ty::Text,
            ValueKind::Bool => Ty::Bool,
        };
        (
            Target::Property {
                custom,
                name: name.to_owned(),
                value,
            },
            ty,
        )
    })
}

fn node_target(kind: NodeKind) -> BoxedStrategy<(Target, Ty)> {
    prop_oneof![
        select(fields(kind)).prop_map(|f| (Target::Field(f), field_type(f))),
        property(),
    ]
    .boxed()
}

fn joins(kind: NodeKind) -> Vec<(JoinKind, Option<NodeKind>)> {
    match kind {
        NodeKind::Context => vec![
            (JoinKind::ParentContexts, Some(NodeKind::Context)),
            (JoinKind::ChildContexts, Some(NodeKind::Context)),
            (JoinKind::Artifacts, Some(NodeKind::Artifact)),
            (JoinKind::Executions, Some(NodeKind::Execution)),
        ],
        _ => vec![
            (JoinKind::Contexts, Some(NodeKind::Context)),
            (JoinKind::Events, None),
        ],
    }
}

fn attribute(kind: NodeKind) -> impl Strategy<Value = (Attribute, Ty)> {
    let own = node_target(kind).prop_map(|(target, ty)| (Attribute { join: None, target }, ty));
    let joined = (select(joins(kind)), select(vec!["a", "b", "0", "X_1"])).prop_flat_map(
        move |((join_kind, neighbour), alias)| {
            let join = Join {
                kind: join_kind,
                alias: alias.to_owned(),
            };
            let target = match neighbour {
                Some(other) => node_target(other),
                None => {
                    let mut events = vec![EventField::Type, EventField::MillisecondsSinceEpoch];
                    events.push(if kind == NodeKind::Artifact {
                        EventField::ExecutionId
                    } else {
                        EventField::ArtifactId
                    });
                    select(events)
                        .prop_map(|f| {
                            let ty = if f == EventField::Type {
                                Ty::Enum(EVENT_TYPES.len())
                            } else {
                                Ty::Int
                            };
                            (Target::Event(f), ty)
                        })
                        .boxed()
                }
            };
            target.prop_map(move |(target, ty)| {
                (
                    Attribute {
                        join: Some(join.clone()),
                        target,
                    },
                    ty,
                )
            })
        },
    );
    prop_oneof![3 => own, 1 => joined]
}

fn literal(ty: Ty) -> BoxedStrategy<Literal> {
    match ty {
        Ty::Int => prop_oneof![any::<i64>(), -5i64..500]
            .prop_map(Literal::Int)
            .boxed(),
        Ty::Double => prop_oneof![
            any::<f64>().prop_filter("finite", |v| v.is_finite()),
            -2.0f64..2.0
        ]
        .prop_map(Literal::Double)
        .boxed(),
        Ty::Text => "[a-z'\"`%_é -]{0,8}".prop_map(Literal::Text).boxed(),
        Ty::Bool => any::<bool>().prop_map(Literal::Bool).boxed(),
        Ty::Enum(n) => (0..n as i64).prop_map(Literal::Enum).boxed(),
    }
}

fn test_of(ty: Ty) -> BoxedStrategy<Test> {
    let ops = match ty {
        Ty::Bool | Ty::Enum(_) => vec![CompareOp::Eq, CompareOp::Ne],
        _ => CompareOp::ALL.to_vec(),
    };
    let mut tests = vec![
        (select(ops), literal(ty))
            .prop_map(|(op, l)| Test::Compare(op, l))
            .boxed(),
        (any::<bool>(), prop::collection::vec(literal(ty), 1..4))
            .prop_map(|(negated, values)| Test::In { negated, values })
            .boxed(),
        any::<bool>()
            .prop_map(|negated| Test::IsNull { negated })
            .boxed(),
    ];
    if matches!(ty, Ty::Text) {
        tests.push(
            (any::<bool>(), "[a-z%_']{0,5}")
                .prop_map(|(negated, pattern)| Test::Like { negated, pattern })
                .boxed(),
        );
    }
    proptest::strategy::Union::new(tests).boxed()
}

fn predicate(kind: NodeKind) -> impl Strategy<Value = Filter> {
    attribute(kind).prop_flat_map(|(attribute, ty)| {
        test_of(ty).prop_map(move |test| {
            Filter::Predicate(Predicate {
                attribute: attribute.clone(),
                test,
            })
        })
    })
}

fn tree(kind: NodeKind) -> impl Strategy<Value = Filter> {
    predicate(kind).prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::Or),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

fn kind_and_tree() -> impl Strategy<Value = (NodeKind, Filter)> {
    select(NodeKind::ALL.to_vec()).prop_flat_map(|kind| tree(kind).prop_map(move |t| (kind, t)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn printed_trees_parse_back_compile_and_run((kind, tree) in kind_and_tree()) {
        let text = tree.to_string();
        let parsed = filter::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(&parsed, &tree, "{}", text);
        let db = common::graph_db();
        common::run(&db, kind, &parsed).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        let pg = filter::compile(&parsed, kind, Dialect::Postgres, 2).unwrap();
        prop_assert!(!pg.where_sql.contains('?'));
    }

    /// The compiler gives top-level conjuncts cheaper shapes (uncorrelated
    /// `IN` sets); under `NOT (NOT (…))` nothing is top level, so the plain
    /// shapes run: both must select the same nodes.
    #[test]
    fn top_level_shapes_select_what_the_plain_shapes_select((kind, tree) in kind_and_tree()) {
        let db = common::graph_db();
        let fast = common::run(&db, kind, &tree).map_err(TestCaseError::fail)?;
        let plain = Filter::Not(Box::new(Filter::Not(Box::new(tree.clone()))));
        let slow = common::run(&db, kind, &plain).map_err(TestCaseError::fail)?;
        prop_assert_eq!(fast, slow, "{}", tree);
    }
}
