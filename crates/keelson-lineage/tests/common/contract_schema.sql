-- The lineage schema exactly as the store/filter contract specifies it
-- (docs/lineage.md); the filter tests and the lineage_filter fuzz target
-- run compiled filters against it.
CREATE TABLE schema_version(version INTEGER NOT NULL);
CREATE TABLE type(id INTEGER PRIMARY KEY, namespace TEXT NOT NULL, kind INTEGER NOT NULL, name TEXT NOT NULL,
    version TEXT, description TEXT, external_id TEXT, base_type TEXT, UNIQUE(namespace, kind, name, version));
CREATE TABLE type_property(type_id INTEGER NOT NULL, name TEXT NOT NULL, data_type INTEGER NOT NULL,
    PRIMARY KEY(type_id, name));
CREATE TABLE artifact(id INTEGER PRIMARY KEY, namespace TEXT NOT NULL, type_id INTEGER NOT NULL, name TEXT, uri TEXT,
    state INTEGER, external_id TEXT, create_time_since_epoch INTEGER NOT NULL,
    last_update_time_since_epoch INTEGER NOT NULL);
CREATE TABLE execution(id INTEGER PRIMARY KEY, namespace TEXT NOT NULL, type_id INTEGER NOT NULL, name TEXT,
    last_known_state INTEGER, external_id TEXT, create_time_since_epoch INTEGER NOT NULL,
    last_update_time_since_epoch INTEGER NOT NULL);
CREATE TABLE context(id INTEGER PRIMARY KEY, namespace TEXT NOT NULL, type_id INTEGER NOT NULL, name TEXT NOT NULL,
    external_id TEXT, create_time_since_epoch INTEGER NOT NULL, last_update_time_since_epoch INTEGER NOT NULL,
    UNIQUE(type_id, name));
CREATE TABLE artifact_property(artifact_id INTEGER NOT NULL, name TEXT NOT NULL, is_custom_property INTEGER NOT NULL,
    int_value INTEGER, double_value REAL, string_value TEXT, bool_value INTEGER, struct_value TEXT,
    PRIMARY KEY(artifact_id, name, is_custom_property));
CREATE TABLE execution_property(execution_id INTEGER NOT NULL, name TEXT NOT NULL, is_custom_property INTEGER NOT NULL,
    int_value INTEGER, double_value REAL, string_value TEXT, bool_value INTEGER, struct_value TEXT,
    PRIMARY KEY(execution_id, name, is_custom_property));
CREATE TABLE context_property(context_id INTEGER NOT NULL, name TEXT NOT NULL, is_custom_property INTEGER NOT NULL,
    int_value INTEGER, double_value REAL, string_value TEXT, bool_value INTEGER, struct_value TEXT,
    PRIMARY KEY(context_id, name, is_custom_property));
CREATE TABLE event(id INTEGER PRIMARY KEY, artifact_id INTEGER NOT NULL, execution_id INTEGER NOT NULL,
    type INTEGER NOT NULL, milliseconds_since_epoch INTEGER);
CREATE TABLE event_path(event_id INTEGER NOT NULL, step_index INTEGER NOT NULL, is_index_step INTEGER NOT NULL,
    step_index_value INTEGER, step_key TEXT);
CREATE TABLE attribution(id INTEGER PRIMARY KEY, context_id INTEGER NOT NULL, artifact_id INTEGER NOT NULL,
    UNIQUE(context_id, artifact_id));
CREATE TABLE association(id INTEGER PRIMARY KEY, context_id INTEGER NOT NULL, execution_id INTEGER NOT NULL,
    UNIQUE(context_id, execution_id));
CREATE TABLE parent_context(context_id INTEGER NOT NULL, parent_context_id INTEGER NOT NULL,
    PRIMARY KEY(context_id, parent_context_id));
