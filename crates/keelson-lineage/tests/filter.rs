//! Filter queries end to end: parsed, compiled and run on SQLite over the
//! contract's tables holding a small known graph (tests/common), checking
//! the ids each query selects, and the errors of bad queries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{cases, graph_db, select, try_select};
use keelson_lineage::Error;
use keelson_lineage::filter::{self, Dialect, NodeKind, SqlValue};

const A: NodeKind = NodeKind::Artifact;
const E: NodeKind = NodeKind::Execution;
const C: NodeKind = NodeKind::Context;

fn check(cases: &[cases::Case]) {
    let db = graph_db();
    for (kind, query, expected) in cases {
        assert_eq!(select(&db, *kind, query), *expected, "{kind:?}: {query}");
    }
}

#[test]
fn node_attributes_and_every_operator() {
    check(cases::NODE_ATTRIBUTES_AND_EVERY_OPERATOR);
}

#[test]
fn uri_like_and_null_handling() {
    check(cases::URI_LIKE_AND_NULL_HANDLING);
}

#[test]
fn enum_states_by_name_and_number() {
    check(cases::ENUM_STATES_BY_NAME_AND_NUMBER);
}

#[test]
fn properties_of_every_value_type() {
    check(cases::PROPERTIES_OF_EVERY_VALUE_TYPE);
}

#[test]
fn a_missing_property_is_null_as_in_mlmd_left_joins() {
    check(cases::A_MISSING_PROPERTY_IS_NULL_AS_IN_MLMD_LEFT_JOINS);
}

#[test]
fn the_same_alias_is_one_neighbour_and_two_aliases_are_independent() {
    check(cases::THE_SAME_ALIAS_IS_ONE_NEIGHBOUR_AND_TWO_ALIASES_ARE_INDEPENDENT);
}

#[test]
fn events_joins() {
    check(cases::EVENTS_JOINS);
}

#[test]
fn parent_child_and_member_joins_of_contexts() {
    check(cases::PARENT_CHILD_AND_MEMBER_JOINS_OF_CONTEXTS);
}

#[test]
fn the_namespace_parameter_keeps_other_namespaces_out() {
    check(cases::THE_NAMESPACE_PARAMETER_KEEPS_OTHER_NAMESPACES_OUT);
}

#[test]
fn literals_never_reach_the_sql_text() {
    let db = graph_db();
    let query = "name = 'x''); DROP TABLE artifact; --' OR properties.`p'); DROP TABLE type; --`.int_value = 1";
    assert_eq!(select(&db, A, query), Vec::<i64>::new());
    let compiled = filter::compile(&filter::parse(query).unwrap(), A, Dialect::Sqlite, 2).unwrap();
    assert!(
        !compiled.where_sql.contains("DROP"),
        "{}",
        compiled.where_sql
    );
    assert!(
        compiled
            .params
            .contains(&SqlValue::Text("x'); DROP TABLE artifact; --".into()))
    );
    assert_eq!(select(&db, A, "name = 'model-a'"), [2]);
}

#[test]
fn postgres_placeholders_are_numbered_from_first_param() {
    let parsed =
        filter::parse("type = 'Model' AND contexts_a.name = 'run-1' AND state IN (LIVE, DELETED)")
            .unwrap();
    let compiled = filter::compile(&parsed, A, Dialect::Postgres, 2).unwrap();
    assert!(!compiled.where_sql.contains('?'), "{}", compiled.where_sql);
    for n in 2..2 + compiled.params.len() {
        assert!(
            compiled.where_sql.contains(&format!("${n}")),
            "${n} in {}",
            compiled.where_sql
        );
    }
    assert_eq!(
        compiled.params,
        [
            SqlValue::Text("Model".into()),
            SqlValue::Int(2),
            SqlValue::Int(4),
            SqlValue::Text("run-1".into())
        ]
    );
}

#[test]
fn attributes_a_kind_lacks_are_errors_naming_them() {
    let cases: &[(NodeKind, &str, &str)] = &[
        (E, "uri = 'x'", "uri"),
        (C, "uri = 'x'", "uri"),
        (A, "last_known_state = COMPLETE", "last_known_state"),
        (E, "state = LIVE", "state"),
        (A, "parent_contexts_a.name = 'x'", "parent_contexts_a.name"),
        (E, "child_contexts_a.name = 'x'", "child_contexts_a.name"),
        (C, "contexts_a.name = 'x'", "contexts_a.name"),
        (C, "events_e.type = INPUT", "events_e.type"),
        (A, "events_e.artifact_id = 1", "events_e.artifact_id"),
        (E, "events_e.execution_id = 1", "events_e.execution_id"),
        (A, "artifacts_a.name = 'x'", "artifacts_a.name"),
        (
            C,
            "artifacts_a.last_known_state = NEW",
            "artifacts_a.last_known_state",
        ),
        (A, "name = 'a' OR contexts_a.uri = 'x'", "contexts_a.uri"),
    ];
    let db = graph_db();
    for (kind, query, attribute) in cases {
        let err = try_select(&db, *kind, query).unwrap_err();
        assert!(err.contains(attribute), "{kind:?} {query}: {err}");
    }
}

#[test]
fn bad_queries_name_the_column_and_what_was_expected() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 1, "an attribute"),
        ("name = 'a' AND", 15, "an attribute"),
        ("name == 'a'", 7, "quoted string"),
        ("a = 'a'", 1, "unknown attribute `a`"),
        ("'a'", 1, "an attribute"),
        ("type_id", 8, "operator"),
        ("id = 'a'", 6, "a number"),
        ("type = 1", 8, "quoted string"),
        ("name = 'abc", 8, "unterminated"),
        ("properties.baz.int = 1", 16, "int_value"),
        ("properties.foo", 15, "`.`"),
        ("properties.0:b.int_value = 1", 13, "unexpected character"),
        ("contexts_0.foo = 1", 12, "unknown attribute `foo`"),
        ("contexts_0.id.", 14, "operator"),
        ("contexts_.name = 'x'", 1, "alias"),
        ("events_0.field_1 = '1'", 10, "unknown event field"),
        ("state = RUNNING", 9, "one of UNKNOWN, PENDING, LIVE"),
        ("state = 9", 9, "one of"),
        ("state IN RUNNING", 10, "`(`"),
        ("last_known_state IN ()", 22, "one of"),
        ("last_known_state = LIVE", 20, "one of"),
        ("properties.a.bool_value > TRUE", 25, "cannot order"),
        ("state LIKE 'L%'", 7, "LIKE needs a string"),
        ("uri LIKE 5", 10, "quoted pattern"),
        ("(name = 'a'", 12, "`)`"),
        ("name = 'a' name = 'b'", 12, "AND, OR"),
        ("id = 99999999999999999999", 6, "64-bit"),
        ("properties.x.double_value > 1e999", 29, "finite"),
        ("id = 1x", 7, "after a number"),
        ("id = 1 AND NOT", 15, "an attribute"),
        ("name IS NOT 'a'", 13, "NULL"),
    ];
    for (query, column, expected) in cases {
        match filter::parse(query) {
            Err(Error::Filter(err)) => {
                assert_eq!(err.column, Some(*column), "{query}: {err}");
                assert!(err.message.contains(expected), "{query}: {err}");
                assert!(
                    err.to_string().contains(&format!("column {column}")),
                    "{err}"
                );
            }
            other => panic!("{query}: {other:?}"),
        }
    }
}

#[test]
fn nesting_is_bounded() {
    let deep = format!("{}id = 1{}", "(".repeat(200), ")".repeat(200));
    let err = filter::parse(&deep).unwrap_err().to_string();
    assert!(err.contains("nest deeper"), "{err}");
    let nots = format!("{}id = 1", "NOT ".repeat(200));
    assert!(filter::parse(&nots).is_err());
    let fine = format!("{}id = 1{}", "(".repeat(60), ")".repeat(60));
    assert!(filter::parse(&fine).is_ok());
    // Long flat chains are not nesting: MLMD clients OR hundreds of ids.
    let ids: Vec<String> = (0..5000)
        .map(|i| format!("events_0.execution_id = {i}"))
        .collect();
    let parsed = filter::parse(&ids.join(" OR ")).unwrap();
    assert!(filter::compile(&parsed, A, Dialect::Sqlite, 2).is_ok());
}

#[test]
fn printing_gives_canonical_text_that_parses_back() {
    let cases = [
        ("state=2", "state = LIVE"),
        ("a_b is not null OR id<>1", ""),
        (
            "properties.`a``b c`.int_value in (1,-2)",
            "properties.`a``b c`.int_value IN (1, -2)",
        ),
        (
            "properties.0.double_value > 1",
            "properties.0.double_value > 1.0",
        ),
        ("not(id = 1)", "NOT (id = 1)"),
        (
            "id = 1 and (id = 2 or id = 3) and id = 4",
            "id = 1 AND (id = 2 OR id = 3) AND id = 4",
        ),
        ("name = \"it's\"", "name = 'it''s'"),
        (
            "events_x.type not in (INPUT)",
            "events_x.type NOT IN (INPUT)",
        ),
    ];
    for (query, printed) in cases {
        match filter::parse(query) {
            Ok(parsed) => {
                assert_eq!(parsed.to_string(), printed, "{query}");
                assert_eq!(filter::parse(printed).unwrap(), parsed);
            }
            Err(_) => assert!(printed.is_empty(), "{query} should parse"),
        }
    }
}
