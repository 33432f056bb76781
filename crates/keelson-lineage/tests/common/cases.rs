//! The filter queries and the ids they select in the known graph
//! (`GRAPH`), shared by the SQLite tests (tests/filter.rs) and the
//! PostgreSQL test (tests/filter_postgres.rs) so both backends answer the
//! same table.

use keelson_lineage::filter::NodeKind;

const A: NodeKind = NodeKind::Artifact;
const E: NodeKind = NodeKind::Execution;
const C: NodeKind = NodeKind::Context;

/// A query for one node kind and the sorted ids it selects.
pub type Case = (NodeKind, &'static str, &'static [i64]);

/// Node attributes under every comparison operator, AND, OR, NOT.
pub const NODE_ATTRIBUTES_AND_EVERY_OPERATOR: &[Case] = &[
    (A, "type = 'Model'", &[2, 3, 4]),
    (A, "type != 'Model'", &[1]),
    (A, "type LIKE 'Mod%'", &[2, 3, 4]),
    (A, "type IS NOT NULL", &[1, 2, 3, 4]),
    (A, "type_id = 1", &[1]),
    (A, "id IN (1, 3)", &[1, 3]),
    (A, "id NOT IN (1, 3)", &[2, 4]),
    (A, "id <> 1 AND id < 4", &[2, 3]),
    (A, "name = 'model-a'", &[2]),
    (A, "external_id = 'reg/b'", &[3]),
    (A, "external_id IS NULL", &[2, 4]),
    (A, "create_time_since_epoch >= 200", &[2, 3, 4]),
    (A, "create_time_since_epoch < 200", &[1]),
    (A, "create_time_since_epoch <= 200", &[1, 2]),
    (A, "create_time_since_epoch > 300", &[4]),
    (A, "last_update_time_since_epoch = 150", &[1]),
    (A, "name = 'raw' OR name = 'model-c'", &[1, 4]),
    (A, "NOT (name = 'raw')", &[2, 3, 4]),
    (A, "NOT name = 'raw' AND NOT name = 'model-c'", &[2, 3]),
    (
        A,
        "(name = 'raw' OR name = 'model-a') AND state = LIVE",
        &[1, 2],
    ),
    (E, "type = 'Trainer'", &[1, 2, 3]),
    (E, "name > 'train-a'", &[2, 3]),
    (C, "name LIKE 'run%'", &[2, 3]),
    (C, "external_id = 'kfp/2'", &[3]),
];

/// `uri` with LIKE and NULL tests.
pub const URI_LIKE_AND_NULL_HANDLING: &[Case] = &[
    (A, "uri LIKE 's3://models/%'", &[2, 3]),
    (A, "uri like 's3://models/_'", &[2, 3]),
    // A NULL uri is neither like nor unlike anything.
    (A, "uri NOT LIKE 's3://models/%'", &[1]),
    (A, "uri IS NULL", &[4]),
    (A, "uri IS NOT NULL", &[1, 2, 3]),
    (A, "uri = 's3://data/raw'", &[1]),
];

/// Artifact and execution states by enum name, quoted name and number.
pub const ENUM_STATES_BY_NAME_AND_NUMBER: &[Case] = &[
    (A, "state = LIVE", &[1, 2]),
    (A, "state=LIVE", &[1, 2]),
    (A, "state = 2", &[1, 2]),
    (A, "state = 'LIVE'", &[1, 2]),
    (A, "state != LIVE", &[3]),
    (A, "state IN (DELETED, LIVE)", &[1, 2, 3]),
    (A, "state NOT IN (DELETED)", &[1, 2]),
    (A, "state IS NULL", &[4]),
    (E, "last_known_state = COMPLETE", &[1]),
    (E, "last_known_state IN (COMPLETE, FAILED)", &[1, 2]),
    (E, "last_known_state != COMPLETE", &[2]),
    (E, "last_known_state IS NULL", &[3]),
];

/// Properties and custom properties of every value type.
pub const PROPERTIES_OF_EVERY_VALUE_TYPE: &[Case] = &[
    (A, "properties.accuracy.double_value > 0.9", &[2]),
    // An integer literal compares with a double.
    (A, "properties.accuracy.double_value < 1", &[2, 3]),
    (A, "properties.accuracy.double_value >= 8e-1", &[2, 3]),
    (A, "properties.framework.string_value = 'torch'", &[2]),
    (
        A,
        "properties.framework.string_value IN ('torch', 'jax')",
        &[2],
    ),
    (A, "properties.framework.string_value LIKE '%boost'", &[3]),
    (A, "properties.approved.bool_value = TRUE", &[2]),
    (A, "properties.approved.bool_value = false", &[3]),
    (A, "properties.approved.bool_value != TRUE", &[3]),
    (A, "properties.rows.int_value = 1000", &[1]),
    (A, "properties.rows.int_value > -5", &[1]),
    (A, "properties.`my key`.int_value = 7", &[3]),
    (
        A,
        "custom_properties.owner.string_value = 'data-team'",
        &[1],
    ),
    // Properties and custom properties are different name spaces.
    (A, "properties.owner.string_value = 'data-team'", &[]),
    (A, "custom_properties.tags.string_value = 'it''s'", &[2]),
    (A, "custom_properties.tags.string_value = \"it's\"", &[2]),
    (E, "properties.lr.double_value < 0.05", &[2]),
    (E, "properties.epochs.int_value = 10", &[1]),
    (
        C,
        "type = 'Run' AND properties.run_index.int_value >= 2",
        &[3],
    ),
];

/// A node lacking a property: NULL, as MLMD's left joins give.
pub const A_MISSING_PROPERTY_IS_NULL_AS_IN_MLMD_LEFT_JOINS: &[Case] = &[
    (A, "properties.accuracy.double_value IS NULL", &[1, 4]),
    (A, "properties.accuracy.double_value IS NOT NULL", &[2, 3]),
    // NOT of an unknown comparison stays unknown: 1 and 4 lack it.
    (A, "NOT (properties.accuracy.double_value > 0.9)", &[3]),
    (
        A,
        "NOT (properties.accuracy.double_value > 0.9) OR name = 'raw'",
        &[1, 3],
    ),
    (A, "properties.accuracy.double_value != 0.95", &[3]),
    (E, "properties.epochs.int_value IS NULL", &[2, 3]),
];

/// Context joins: one alias is one neighbour, two aliases are independent.
pub const THE_SAME_ALIAS_IS_ONE_NEIGHBOUR_AND_TWO_ALIASES_ARE_INDEPENDENT: &[Case] = &[
    (A, "contexts_a.name = 'run-1'", &[1, 2]),
    (
        A,
        "contexts_a.name = 'run-1' AND contexts_a.type = 'Run'",
        &[1, 2],
    ),
    (A, "contexts_a.type = 'Pipeline'", &[]),
    // One context cannot be named both.
    (
        A,
        "contexts_a.name = 'run-1' AND contexts_a.name = 'run-2'",
        &[],
    ),
    // Two aliases: artifact 1 is in both runs.
    (
        A,
        "contexts_a.name = 'run-1' AND contexts_b.name = 'run-2'",
        &[1],
    ),
    (A, "type = 'Model' AND contexts_a.name = 'run-1'", &[2]),
    (A, "contexts_a.properties.run_index.int_value = 2", &[1, 3]),
    (A, "contexts_a.external_id = 'kfp/1'", &[1, 2]),
    (A, "contexts_a.id = 3 AND name = 'raw'", &[1]),
    // MLMD joins: a node without any context never matches a query that
    // mentions contexts, even through OR.
    (
        A,
        "contexts_a.name = 'run-1' OR uri = 's3://models/b'",
        &[1, 2, 3],
    ),
    (A, "contexts_a.name = 'none' OR name = 'model-c'", &[]),
    (A, "NOT (contexts_a.name = 'run-1')", &[1, 3]),
    (E, "contexts_c.name = 'run-2'", &[2]),
    (
        E,
        "contexts_c.name = 'run-2' OR last_known_state = COMPLETE",
        &[1, 2],
    ),
];

/// Event joins of artifacts and executions.
pub const EVENTS_JOINS: &[Case] = &[
    (A, "events_e.type = OUTPUT", &[2, 3]),
    (A, "events_e.type IN (INPUT, DECLARED_INPUT)", &[1]),
    (A, "events_e.execution_id = 1", &[1, 2]),
    (
        A,
        "events_e.type = INPUT AND events_e.execution_id = 2",
        &[1],
    ),
    (
        A,
        "events_e.type = OUTPUT AND events_f.execution_id = 2",
        &[3],
    ),
    (A, "events_e.milliseconds_since_epoch > 1500", &[1, 3]),
    (E, "events_e.artifact_id = 3", &[2]),
    (
        E,
        "events_e.artifact_id = 1 AND events_e.type = INPUT",
        &[1, 2],
    ),
    (
        E,
        "events_e.artifact_id = 2 AND properties.lr.double_value > 0.05",
        &[1],
    ),
];

/// Parent, child, artifact and execution joins of contexts.
pub const PARENT_CHILD_AND_MEMBER_JOINS_OF_CONTEXTS: &[Case] = &[
    (C, "parent_contexts_p.name = 'pipe'", &[2, 3]),
    (
        C,
        "parent_contexts_p.properties.owner.string_value = 'ml'",
        &[2, 3],
    ),
    (C, "child_contexts_c.name = 'run-1'", &[1]),
    (
        C,
        "child_contexts_c.type = 'Run' AND child_contexts_c.name = 'run-2'",
        &[1],
    ),
    (C, "artifacts_a.name = 'model-b'", &[3]),
    (C, "artifacts_a.uri LIKE 's3://data/%'", &[2, 3]),
    (C, "artifacts_a.state = DELETED", &[3]),
    (C, "executions_e.last_known_state = FAILED", &[3]),
    (
        C,
        "executions_e.name = 'train-a' AND artifacts_a.name = 'model-a'",
        &[2],
    ),
];

/// Queries that match artifact 5 too, which lives in namespace `other`.
pub const THE_NAMESPACE_PARAMETER_KEEPS_OTHER_NAMESPACES_OUT: &[Case] = &[
    (A, "name = 'raw'", &[1]),
    (A, "properties.rows.int_value = 1000", &[1]),
];

/// Every group, named, for a backend that runs them all.
pub const ALL: &[(&str, &[Case])] = &[
    (
        "node_attributes_and_every_operator",
        NODE_ATTRIBUTES_AND_EVERY_OPERATOR,
    ),
    ("uri_like_and_null_handling", URI_LIKE_AND_NULL_HANDLING),
    (
        "enum_states_by_name_and_number",
        ENUM_STATES_BY_NAME_AND_NUMBER,
    ),
    (
        "properties_of_every_value_type",
        PROPERTIES_OF_EVERY_VALUE_TYPE,
    ),
    (
        "a_missing_property_is_null_as_in_mlmd_left_joins",
        A_MISSING_PROPERTY_IS_NULL_AS_IN_MLMD_LEFT_JOINS,
    ),
    (
        "the_same_alias_is_one_neighbour_and_two_aliases_are_independent",
        THE_SAME_ALIAS_IS_ONE_NEIGHBOUR_AND_TWO_ALIASES_ARE_INDEPENDENT,
    ),
    ("events_joins", EVENTS_JOINS),
    (
        "parent_child_and_member_joins_of_contexts",
        PARENT_CHILD_AND_MEMBER_JOINS_OF_CONTEXTS,
    ),
    (
        "the_namespace_parameter_keeps_other_namespaces_out",
        THE_NAMESPACE_PARAMETER_KEEPS_OTHER_NAMESPACES_OUT,
    ),
];
