//! Shared by the filter tests: an in-memory database with exactly the
//! contract's tables, a small known graph in it, and a query runner.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod cases;
pub mod mlmd;

use keelson_lineage::filter::{self, Dialect, NodeKind};
use rusqlite::Connection;

/// The contract schema's DDL.
pub const CONTRACT_SCHEMA: &str = include_str!("contract_schema.sql");

/// An in-memory database with the contract's tables, empty.
pub fn empty_db() -> Connection {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch(CONTRACT_SCHEMA).unwrap();
    db
}

/// The contract's tables holding the graph described in `GRAPH`.
pub fn graph_db() -> Connection {
    let db = empty_db();
    db.execute_batch(GRAPH).unwrap();
    db
}

/// Types: 1 Dataset, 2 Model (artifacts), 3 Trainer (execution), 4 Run,
/// 5 Pipeline (contexts). Artifacts 1 raw (Dataset), 2 model-a, 3 model-b,
/// 4 model-c (bare), 5 raw in namespace `other`. Executions 1 train-a
/// (COMPLETE), 2 train-b (FAILED), 3 train-c (no state). Contexts 1 pipe,
/// 2 run-1, 3 run-2 (children of pipe). Artifact 1 is in both runs, 2 in
/// run-1, 3 in run-2, 4 in none; train-a reads 1 and writes 2 (run-1),
/// train-b reads 1 and writes 3 (run-2).
pub const GRAPH: &str = r#"
INSERT INTO type(id, namespace, kind, name) VALUES
  (1, '', 0, 'Dataset'), (2, '', 0, 'Model'), (3, '', 1, 'Trainer'), (4, '', 2, 'Run'), (5, '', 2, 'Pipeline'),
  (6, 'other', 0, 'Dataset');
INSERT INTO artifact(id, namespace, type_id, name, uri, state, external_id, create_time_since_epoch, last_update_time_since_epoch) VALUES
  (1, '', 1, 'raw', 's3://data/raw', 2, 'ds/1', 100, 150),
  (2, '', 2, 'model-a', 's3://models/a', 2, NULL, 200, 250),
  (3, '', 2, 'model-b', 's3://models/b', 4, 'reg/b', 300, 300),
  (4, '', 2, 'model-c', NULL, NULL, NULL, 400, 400),
  (5, 'other', 6, 'raw', 's3://data/raw', 2, 'ds/1', 100, 150);
INSERT INTO artifact_property(artifact_id, name, is_custom_property, int_value, double_value, string_value, bool_value) VALUES
  (1, 'rows', 0, 1000, NULL, NULL, NULL),
  (1, 'owner', 1, NULL, NULL, 'data-team', NULL),
  (2, 'accuracy', 0, NULL, 0.95, NULL, NULL),
  (2, 'framework', 0, NULL, NULL, 'torch', NULL),
  (2, 'approved', 0, NULL, NULL, NULL, 1),
  (2, 'tags', 1, NULL, NULL, 'it''s', NULL),
  (3, 'accuracy', 0, NULL, 0.80, NULL, NULL),
  (3, 'framework', 0, NULL, NULL, 'xgboost', NULL),
  (3, 'approved', 0, NULL, NULL, NULL, 0),
  (3, 'my key', 0, 7, NULL, NULL, NULL),
  (5, 'rows', 0, 1000, NULL, NULL, NULL);
INSERT INTO execution(id, namespace, type_id, name, last_known_state, external_id, create_time_since_epoch, last_update_time_since_epoch) VALUES
  (1, '', 3, 'train-a', 3, NULL, 210, 220),
  (2, '', 3, 'train-b', 4, NULL, 310, 320),
  (3, '', 3, 'train-c', NULL, NULL, 410, 420);
INSERT INTO execution_property(execution_id, name, is_custom_property, int_value, double_value, string_value, bool_value) VALUES
  (1, 'lr', 0, NULL, 0.1, NULL, NULL),
  (1, 'epochs', 0, 10, NULL, NULL, NULL),
  (2, 'lr', 0, NULL, 0.01, NULL, NULL);
INSERT INTO context(id, namespace, type_id, name, external_id, create_time_since_epoch, last_update_time_since_epoch) VALUES
  (1, '', 5, 'pipe', NULL, 50, 50),
  (2, '', 4, 'run-1', 'kfp/1', 100, 100),
  (3, '', 4, 'run-2', 'kfp/2', 200, 200);
INSERT INTO context_property(context_id, name, is_custom_property, int_value, double_value, string_value, bool_value) VALUES
  (1, 'owner', 0, NULL, NULL, 'ml', NULL),
  (2, 'run_index', 0, 1, NULL, NULL, NULL),
  (3, 'run_index', 0, 2, NULL, NULL, NULL);
INSERT INTO parent_context(context_id, parent_context_id) VALUES (2, 1), (3, 1);
INSERT INTO attribution(id, context_id, artifact_id) VALUES (1, 2, 1), (2, 3, 1), (3, 2, 2), (4, 3, 3);
INSERT INTO association(id, context_id, execution_id) VALUES (1, 2, 1), (2, 3, 2);
INSERT INTO event(id, artifact_id, execution_id, type, milliseconds_since_epoch) VALUES
  (1, 1, 1, 3, 1000), (2, 2, 1, 4, 1001), (3, 1, 2, 3, 2000), (4, 3, 2, 4, 2001);
"#;

/// The sorted ids of the nodes of `kind` in the default namespace that
/// `query` selects; panics on a parse, compile or SQL error.
pub fn select(db: &Connection, kind: NodeKind, query: &str) -> Vec<i64> {
    try_select(db, kind, query).unwrap_or_else(|e| panic!("{query}: {e}"))
}

/// Like [`select`], returning the error as text.
pub fn try_select(db: &Connection, kind: NodeKind, query: &str) -> Result<Vec<i64>, String> {
    let parsed = filter::parse(query).map_err(|e| e.to_string())?;
    run(db, kind, &parsed)
}

/// Runs a parsed filter as the store will, once with every top-level
/// property test as an `IN` set and once as a correlated `EXISTS`
/// ([`filter::PropertyPlan`]); the two must select the same ids.
pub fn run(db: &Connection, kind: NodeKind, parsed: &filter::Filter) -> Result<Vec<i64>, String> {
    let drive = run_with(db, kind, parsed, &[])?;
    let sets = filter::property_sets(parsed, kind, Dialect::Sqlite).map_err(|e| e.to_string())?;
    let probes = vec![filter::PropertyPlan::Probe; sets.len()];
    let probe = run_with(db, kind, parsed, &probes)?;
    if drive != probe {
        return Err(format!(
            "{parsed}: IN sets select {drive:?}, EXISTS lookups {probe:?}"
        ));
    }
    Ok(drive)
}

fn run_with(
    db: &Connection,
    kind: NodeKind,
    parsed: &filter::Filter,
    plans: &[filter::PropertyPlan],
) -> Result<Vec<i64>, String> {
    let compiled =
        filter::compile_with(parsed, kind, Dialect::Sqlite, 2, plans).map_err(|e| e.to_string())?;
    let sql = format!(
        "SELECT t.id FROM {} t WHERE t.namespace = ?1 AND ({}) ORDER BY t.id",
        kind.table(),
        compiled.where_sql
    );
    let mut params: Vec<&dyn rusqlite::ToSql> = vec![&""];
    params.extend(compiled.params.iter().map(|p| p as &dyn rusqlite::ToSql));
    let mut statement = db
        .prepare(&sql)
        .map_err(|e| format!("SQL error {e} in {sql}"))?;
    let ids = statement
        .query_map(params.as_slice(), |row| row.get(0))
        .and_then(Iterator::collect)
        .map_err(|e| format!("SQL error {e} in {sql}"))?;
    Ok(ids)
}
