-- The contract's lineage schema in PostgreSQL's types (tests/filter_postgres.rs):
-- INTEGER -> BIGINT (filters bind i64), REAL -> DOUBLE PRECISION (f64), TEXT
-- with the "C" collation (byte-wise comparisons and LIKE, as SQLite's
-- default BINARY collation for `<`, `>`, `=`), and the 0/1 flags that
-- compiled filters bind as `SqlValue::Bool` (is_custom_property, bool_value;
-- is_index_step for consistency) -> BOOLEAN.
CREATE TABLE schema_version(version BIGINT NOT NULL);
CREATE TABLE type(id BIGINT PRIMARY KEY, namespace TEXT COLLATE "C" NOT NULL, kind BIGINT NOT NULL,
    name TEXT COLLATE "C" NOT NULL, version TEXT COLLATE "C", description TEXT COLLATE "C",
    external_id TEXT COLLATE "C", base_type TEXT COLLATE "C", UNIQUE(namespace, kind, name, version));
CREATE TABLE type_property(type_id BIGINT NOT NULL, name TEXT COLLATE "C" NOT NULL, data_type BIGINT NOT NULL,
    PRIMARY KEY(type_id, name));
CREATE TABLE artifact(id BIGINT PRIMARY KEY, namespace TEXT COLLATE "C" NOT NULL, type_id BIGINT NOT NULL,
    name TEXT COLLATE "C", uri TEXT COLLATE "C", state BIGINT, external_id TEXT COLLATE "C",
    create_time_since_epoch BIGINT NOT NULL, last_update_time_since_epoch BIGINT NOT NULL);
CREATE TABLE execution(id BIGINT PRIMARY KEY, namespace TEXT COLLATE "C" NOT NULL, type_id BIGINT NOT NULL,
    name TEXT COLLATE "C", last_known_state BIGINT, external_id TEXT COLLATE "C",
    create_time_since_epoch BIGINT NOT NULL, last_update_time_since_epoch BIGINT NOT NULL);
CREATE TABLE context(id BIGINT PRIMARY KEY, namespace TEXT COLLATE "C" NOT NULL, type_id BIGINT NOT NULL,
    name TEXT COLLATE "C" NOT NULL, external_id TEXT COLLATE "C", create_time_since_epoch BIGINT NOT NULL,
    last_update_time_since_epoch BIGINT NOT NULL, UNIQUE(type_id, name));
CREATE TABLE artifact_property(artifact_id BIGINT NOT NULL, name TEXT COLLATE "C" NOT NULL,
    is_custom_property BOOLEAN NOT NULL, int_value BIGINT, double_value DOUBLE PRECISION,
    string_value TEXT COLLATE "C", bool_value BOOLEAN, struct_value TEXT COLLATE "C",
    PRIMARY KEY(artifact_id, name, is_custom_property));
CREATE TABLE execution_property(execution_id BIGINT NOT NULL, name TEXT COLLATE "C" NOT NULL,
    is_custom_property BOOLEAN NOT NULL, int_value BIGINT, double_value DOUBLE PRECISION,
    string_value TEXT COLLATE "C", bool_value BOOLEAN, struct_value TEXT COLLATE "C",
    PRIMARY KEY(execution_id, name, is_custom_property));
CREATE TABLE context_property(context_id BIGINT NOT NULL, name TEXT COLLATE "C" NOT NULL,
    is_custom_property BOOLEAN NOT NULL, int_value BIGINT, double_value DOUBLE PRECISION,
    string_value TEXT COLLATE "C", bool_value BOOLEAN, struct_value TEXT COLLATE "C",
    PRIMARY KEY(context_id, name, is_custom_property));
CREATE TABLE event(id BIGINT PRIMARY KEY, artifact_id BIGINT NOT NULL, execution_id BIGINT NOT NULL,
    type BIGINT NOT NULL, milliseconds_since_epoch BIGINT);
CREATE TABLE event_path(event_id BIGINT NOT NULL, step_index BIGINT NOT NULL, is_index_step BOOLEAN NOT NULL,
    step_index_value BIGINT, step_key TEXT COLLATE "C");
CREATE TABLE attribution(id BIGINT PRIMARY KEY, context_id BIGINT NOT NULL, artifact_id BIGINT NOT NULL,
    UNIQUE(context_id, artifact_id));
CREATE TABLE association(id BIGINT PRIMARY KEY, context_id BIGINT NOT NULL, execution_id BIGINT NOT NULL,
    UNIQUE(context_id, execution_id));
CREATE TABLE parent_context(context_id BIGINT NOT NULL, parent_context_id BIGINT NOT NULL,
    PRIMARY KEY(context_id, parent_context_id));
