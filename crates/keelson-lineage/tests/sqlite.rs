//! The conformance suite and SQLite-specific behaviour (durability modes,
//! schema versions, several stores on one file).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;

use keelson_lineage::sqlite::SCHEMA_VERSION;
use keelson_lineage::{
    Artifact, Durability, Error, MetadataStore, NodeKind, SqliteOptions, SqliteStore,
};

async fn fresh() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("lineage.db"))
        .await
        .unwrap();
    (dir, store)
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (_dir, store) = fresh().await;
                conformance::$name(&store).await;
            }
        )*
    };
}

conformance!(
    types_roundtrip_and_evolve,
    nodes_roundtrip_and_update,
    put_execution_and_queries,
    put_execution_reuses_nodes,
    list_and_paginate,
    filter_queries,
    filter_pages_follow_writes,
    lineage_semantics,
    lineage_matches_mlmd_workload,
    delete_refuse_and_cascade,
    namespaces_are_isolated,
    bad_input_writes_nothing,
    concurrent_writers_and_readers,
    import_batch_keeps_times_and_is_idempotent,
);

#[tokio::test]
async fn in_memory_store_passes_the_lineage_suite() {
    let store = SqliteStore::open_in_memory().await.unwrap();
    conformance::lineage_semantics(&store).await;
    let store = SqliteStore::open_in_memory().await.unwrap();
    conformance::namespaces_are_isolated(&store).await;
    let store = SqliteStore::open_in_memory().await.unwrap();
    conformance::bad_input_writes_nothing(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_durability_mode_works_and_persists() {
    for durability in [
        Durability::Wal,
        Durability::WalSync,
        Durability::MlmdDefaults,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.db");
        let opts = SqliteOptions {
            durability,
            ..SqliteOptions::default()
        };
        let ids = {
            let s = SqliteStore::open_with(&path, opts.clone()).await.unwrap();
            let t = conformance::setup_types(&s).await;
            conformance::record_runs(&s, &t, 2).await
        };
        let s = SqliteStore::open_with(&path, opts).await.unwrap();
        let arts = s.get_artifacts_by_id(&ids[1].2).await.unwrap();
        assert_eq!(arts.len(), 3, "{durability:?}");
        conformance::put_execution_reuses_nodes(&s.namespace("other").unwrap()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_set_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n.db");
    let opts = SqliteOptions {
        namespace: "team-a".into(),
        ..SqliteOptions::default()
    };
    let a = SqliteStore::open_with(&path, opts).await.unwrap();
    assert_eq!(a.current_namespace(), "team-a");
    conformance::setup_types(&a).await;
    let default = a.namespace("").unwrap();
    assert!(
        default
            .get_types(NodeKind::Artifact)
            .await
            .unwrap()
            .is_empty()
    );
    let bad = SqliteOptions {
        namespace: "Bad Name".into(),
        ..SqliteOptions::default()
    };
    assert!(matches!(
        SqliteStore::open_with(dir.path().join("m.db"), bad).await,
        Err(Error::InvalidArgument { .. })
    ));
}

/// Two stores (two writer threads, as two processes would have) on one file:
/// the busy timeout absorbs the lock contention.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_file_do_not_surface_locks() {
    for durability in [Durability::Wal, Durability::MlmdDefaults] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.db");
        let opts = SqliteOptions {
            durability,
            ..SqliteOptions::default()
        };
        let first = SqliteStore::open_with(&path, opts.clone()).await.unwrap();
        let second = SqliteStore::open_with(&path, opts).await.unwrap();
        let t = conformance::setup_types(&first).await;
        let mut tasks = Vec::new();
        for (k, s) in [first.clone(), second.clone()].into_iter().enumerate() {
            let data = t.data;
            tasks.push(tokio::spawn(async move {
                for i in 0..50 {
                    s.put_artifacts(&[Artifact::new(data, format!("{k}/{i}"))])
                        .await
                        .unwrap_or_else(|e| panic!("{durability:?} store {k}: {e}"));
                    s.counts()
                        .await
                        .unwrap_or_else(|e| panic!("{durability:?} read {k}: {e}"));
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(first.counts().await.unwrap().artifacts, 100);
        assert_eq!(second.counts().await.unwrap().artifacts, 100);
    }
}

/// A node changed through one store and given back unchanged to the other
/// is written there: the other's writer notices the foreign commit before
/// trusting what it last wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_cache_follows_other_writers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n.db");
    let one = SqliteStore::open(&path).await.unwrap();
    let two = SqliteStore::open(&path).await.unwrap();
    let t = conformance::setup_types(&one).await;
    let id = one
        .put_artifacts(&[Artifact::new(t.data, "first")])
        .await
        .unwrap()[0];
    let first = one.get_artifacts_by_id(&[id]).await.unwrap().remove(0);
    one.put_artifacts(std::slice::from_ref(&first))
        .await
        .unwrap();
    let second = Artifact {
        uri: Some("second".to_owned()),
        ..first.clone()
    };
    two.put_artifacts(&[second]).await.unwrap();
    one.put_artifacts(&[first]).await.unwrap();
    let stored = two.get_artifacts_by_id(&[id]).await.unwrap().remove(0);
    assert_eq!(stored.uri.as_deref(), Some("first"));
}

/// A type added through one store is seen by the other's writer (its type
/// cache notices the other connection's commit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn type_cache_follows_other_writers() {
    use keelson_lineage::{NodeType, PropertyType, TypeOptions};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let one = SqliteStore::open(&path).await.unwrap();
    let two = SqliteStore::open(&path).await.unwrap();
    let t = one
        .put_type(&NodeType::artifact("D"), TypeOptions::default())
        .await
        .unwrap();
    two.put_artifacts(&[Artifact::new(t, "x")]).await.unwrap();
    let add = TypeOptions {
        can_add_fields: true,
        can_omit_fields: false,
    };
    one.put_type(
        &NodeType::artifact("D").with_property("n", PropertyType::Int),
        add,
    )
    .await
    .unwrap();
    two.put_artifacts(&[Artifact::new(t, "y").with_property("n", 1_i64)])
        .await
        .unwrap();
}

const V0_LAYOUT: &str = "
CREATE TABLE schema_version(version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (0);
CREATE TABLE type(id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, name TEXT NOT NULL,
    version TEXT, description TEXT, external_id TEXT, base_type TEXT);
CREATE TABLE type_property(type_id INTEGER NOT NULL, name TEXT NOT NULL, data_type INTEGER NOT NULL,
    PRIMARY KEY (type_id, name)) WITHOUT ROWID;
CREATE TABLE artifact(id INTEGER PRIMARY KEY, type_id INTEGER NOT NULL, name TEXT, uri TEXT,
    state INTEGER, external_id TEXT, create_time_since_epoch INTEGER NOT NULL,
    last_update_time_since_epoch INTEGER NOT NULL);
CREATE TABLE execution(id INTEGER PRIMARY KEY, type_id INTEGER NOT NULL, name TEXT,
    last_known_state INTEGER, external_id TEXT, create_time_since_epoch INTEGER NOT NULL,
    last_update_time_since_epoch INTEGER NOT NULL);
CREATE TABLE context(id INTEGER PRIMARY KEY, type_id INTEGER NOT NULL, name TEXT NOT NULL,
    external_id TEXT, create_time_since_epoch INTEGER NOT NULL,
    last_update_time_since_epoch INTEGER NOT NULL);
CREATE TABLE artifact_property(artifact_id INTEGER NOT NULL, name TEXT NOT NULL,
    is_custom_property INTEGER NOT NULL, int_value INTEGER, double_value REAL, string_value TEXT,
    bool_value INTEGER, struct_value TEXT, PRIMARY KEY (artifact_id, name, is_custom_property)) WITHOUT ROWID;
CREATE TABLE execution_property(execution_id INTEGER NOT NULL, name TEXT NOT NULL,
    is_custom_property INTEGER NOT NULL, int_value INTEGER, double_value REAL, string_value TEXT,
    bool_value INTEGER, struct_value TEXT, PRIMARY KEY (execution_id, name, is_custom_property)) WITHOUT ROWID;
CREATE TABLE context_property(context_id INTEGER NOT NULL, name TEXT NOT NULL,
    is_custom_property INTEGER NOT NULL, int_value INTEGER, double_value REAL, string_value TEXT,
    bool_value INTEGER, struct_value TEXT, PRIMARY KEY (context_id, name, is_custom_property)) WITHOUT ROWID;
CREATE TABLE event(id INTEGER PRIMARY KEY, artifact_id INTEGER NOT NULL, execution_id INTEGER NOT NULL,
    type INTEGER NOT NULL, milliseconds_since_epoch INTEGER);
CREATE TABLE event_path(event_id INTEGER NOT NULL, step_index INTEGER NOT NULL,
    is_index_step INTEGER NOT NULL, step_index_value INTEGER, step_key TEXT,
    PRIMARY KEY (event_id, step_index)) WITHOUT ROWID;
CREATE TABLE attribution(id INTEGER PRIMARY KEY, context_id INTEGER NOT NULL, artifact_id INTEGER NOT NULL);
CREATE TABLE association(id INTEGER PRIMARY KEY, context_id INTEGER NOT NULL, execution_id INTEGER NOT NULL);
CREATE TABLE parent_context(context_id INTEGER NOT NULL, parent_context_id INTEGER NOT NULL,
    PRIMARY KEY (context_id, parent_context_id)) WITHOUT ROWID;
INSERT INTO type VALUES (1, 0, 'Model', NULL, NULL, NULL, 'MODEL'), (2, 1, 'Train', NULL, NULL, NULL, NULL),
    (3, 2, 'Run', NULL, NULL, NULL, NULL);
INSERT INTO type_property VALUES (1, 'accuracy', 2);
INSERT INTO artifact VALUES (10, 1, NULL, 's3://old/model', 2, NULL, 1000, 1000);
INSERT INTO artifact_property VALUES (10, 'accuracy', 0, NULL, 0.75, NULL, NULL, NULL);
INSERT INTO execution VALUES (20, 2, NULL, 3, NULL, 1000, 1000);
INSERT INTO context VALUES (30, 3, 'run-old', NULL, 1000, 1000);
INSERT INTO event VALUES (40, 10, 20, 4, 1000);
INSERT INTO event_path VALUES (40, 0, 0, NULL, 'model');
INSERT INTO attribution VALUES (1, 30, 10);
INSERT INTO association VALUES (1, 30, 20);
";

fn raw(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_0_store_is_migrated_in_place() {
    use keelson_lineage::{LineageQuery, Value};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v0.db");
    raw(&path).execute_batch(V0_LAYOUT).unwrap();

    let s = SqliteStore::open(&path).await.unwrap();
    let version: i64 = raw(&path)
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    // Old rows are in the default namespace, readable, and link up.
    let a = s
        .get_artifacts_by_uri("s3://old/model")
        .await
        .unwrap()
        .remove(0);
    assert_eq!(a.properties.get("accuracy"), Some(&Value::Double(0.75)));
    let g = s
        .lineage_subgraph(&LineageQuery::upstream_of_artifact(10, 3))
        .await
        .unwrap();
    assert_eq!(
        (g.executions.len(), g.contexts.len(), g.events.len()),
        (1, 1, 1)
    );
    assert!(
        s.namespace("team-a")
            .unwrap()
            .get_artifacts_by_id(&[10])
            .await
            .unwrap()
            .is_empty()
    );
    // The migrated store takes new writes, with the new unique rules.
    let err = s
        .put_contexts(&[keelson_lineage::Context::new(3, "run-old")])
        .await;
    assert!(matches!(err, Err(Error::AlreadyExists { .. })));
    conformance::put_execution_reuses_nodes(&s.namespace("fresh").unwrap()).await;
    drop(s);
    // Reopening a current store changes nothing.
    let s = SqliteStore::open(&path).await.unwrap();
    assert_eq!(s.counts().await.unwrap().artifacts, 1);
}

#[tokio::test]
async fn a_failed_migration_leaves_the_store_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v0bad.db");
    // A v0 store whose data breaks the v1 unique index on (type_id, name).
    raw(&path)
        .execute_batch(&format!(
            "{V0_LAYOUT} INSERT INTO context VALUES (31, 3, 'run-old', NULL, 1000, 1000);"
        ))
        .unwrap();
    let e = SqliteStore::open(&path).await.unwrap_err();
    assert!(matches!(e, Error::Backend { .. }), "{e}");
    let version: i64 = raw(&path)
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 0);
    let cols: i64 = raw(&path)
        .query_row(
            "SELECT count(*) FROM pragma_table_info('artifact') WHERE name = 'namespace'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(cols, 0, "the migration was rolled back");
}

#[tokio::test]
async fn a_newer_store_is_refused_naming_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    drop(SqliteStore::open(&path).await.unwrap());
    raw(&path)
        .execute("UPDATE schema_version SET version = 99", [])
        .unwrap();
    let e = SqliteStore::open(&path).await.unwrap_err();
    assert!(
        matches!(e, Error::SchemaTooNew { found: 99, supported } if supported == SCHEMA_VERSION)
    );
    let msg = e.to_string();
    assert!(
        msg.contains("99") && msg.contains(&SCHEMA_VERSION.to_string()),
        "{msg}"
    );
}

#[tokio::test]
async fn a_foreign_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    raw(&path)
        .execute_batch("CREATE TABLE users(id INTEGER)")
        .unwrap();
    let e = SqliteStore::open(&path).await.unwrap_err();
    assert!(matches!(e, Error::NotAStore { .. }), "{e}");
}

/// The query plan of a filtered artifact list, as `list_artifacts` builds
/// it, read on the store's file.
fn list_plan(path: &std::path::Path, filter: &str) -> String {
    use keelson_lineage::filter::{Dialect, NodeKind, compile, parse};
    let compiled = compile(
        &parse(filter).unwrap(),
        NodeKind::Artifact,
        Dialect::Sqlite,
        2,
    )
    .unwrap();
    let sql = format!(
        "EXPLAIN QUERY PLAN SELECT t.id FROM artifact t WHERE t.namespace = ?1 AND ({}) \
         ORDER BY t.create_time_since_epoch DESC, t.id DESC LIMIT 101",
        compiled.where_sql
    );
    let conn = raw(path);
    let mut params: Vec<&dyn rusqlite::ToSql> = vec![&""];
    params.extend(compiled.params.iter().map(|p| p as &dyn rusqlite::ToSql));
    let mut stmt = conn.prepare(&sql).unwrap();
    let rows: Vec<String> = stmt
        .query_map(params.as_slice(), |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    rows.join("\n")
}

/// A selective filter is driven from the nodes it names, a broad one by
/// walking the list order: the context-name index and the planner
/// statistics of schema version 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_are_planned_from_their_selective_side() {
    let (dir, store) = fresh().await;
    let t = conformance::setup_types(&store).await;
    conformance::record_runs(&store, &t, 3).await;
    let path = dir.path().join("lineage.db");

    let by_context = list_plan(&path, "contexts_a.name = 'run-1' AND type = 'Model'");
    assert!(by_context.contains("context_name"), "{by_context}");
    assert!(by_context.contains("INTEGER PRIMARY KEY"), "{by_context}");
    let by_property = list_plan(
        &path,
        "type = 'Model' AND properties.accuracy.double_value > 0.9",
    );
    assert!(by_property.contains("INTEGER PRIMARY KEY"), "{by_property}");
    let broad = list_plan(&path, "type = 'Model'");
    assert!(broad.contains("artifact_create_time"), "{broad}");
    assert!(!broad.contains("TEMP B-TREE"), "{broad}");

    // A version 2 store that ran `ANALYZE` keeps its own statistics
    // through the migration, and gains the index.
    drop(store);
    raw(&path)
        .execute_batch("DROP INDEX context_name; UPDATE schema_version SET version = 2; ANALYZE;")
        .unwrap();
    let stats = || -> Vec<(String, String)> {
        raw(&path)
            .prepare("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'artifact' ORDER BY idx")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    let own = stats();
    assert!(
        own.iter().all(|(_, stat)| !stat.starts_with("1000000 ")),
        "{own:?}"
    );
    drop(SqliteStore::open(&path).await.unwrap());
    assert_eq!(stats(), own);
    let index: i64 = raw(&path)
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'context_name'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(index, 1);
}

/// The WAL of a default (`Wal`) store stays about 1 MiB however much is
/// written (SQLite's defaults let it reach 4 MB and stay there), and
/// nothing written is lost when it is folded back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_stays_small() {
    let (dir, store) = fresh().await;
    let t = conformance::setup_types(&store).await;
    let mut written = 0;
    for batch in 0..300 {
        let artifacts: Vec<Artifact> = (0..20)
            .map(|k| {
                let mut a = Artifact::new(t.data, format!("a-{batch}-{k}"));
                a.uri = Some(format!("mem://wal-test/{batch}/{k}/{}", "x".repeat(100)));
                a
            })
            .collect();
        written += store.put_artifacts(&artifacts).await.unwrap().len();
    }
    let wal = std::fs::metadata(dir.path().join("lineage.db-wal"))
        .unwrap()
        .len();
    assert!(wal <= 3 << 19, "the WAL is {wal} bytes");
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.artifacts, written as u64);
}
